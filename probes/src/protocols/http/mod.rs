//! HTTP/1.x: `parse` (bytes → messages, via `httparse`), `stitch`
//! (messages → request/response records), `table` (record → `http_events`
//! row). [`HttpParser`] ties them to one connection.
//!
//! Each direction is parsed on its own: a head is parsed whole (bounded by
//! [`parse::MAX_HEAD_BYTES`]), then its body is consumed incrementally, so a
//! large body costs at most `max_body_bytes` of memory. A gap in the stream
//! (the kernel copied only a prefix of a syscall) inside body data is a
//! counted truncation; anywhere else it loses the framing and the parser
//! resyncs on the next request line or status line.

pub mod parse;
pub mod stitch;
pub mod table;
pub mod types;

#[cfg(test)]
pub(crate) mod tests;

use std::sync::Arc;

use crate::protocols::stream::{scan_for, ByteStream, Parsed};
use crate::protocols::{
    Chunk, ConnMeta, Direction, ParserLimits, ProtocolCounters, Record, StreamParser,
};
use parse::{body_mode, could_start, parse_head, BodyDecoder, BodyProgress};
use stitch::HttpStitcher;
use types::StartLine;
pub use types::{HttpBody, HttpHead, HttpMessage, HttpRecord, HttpRequest, HttpResponse};

#[derive(Debug)]
struct InProgress {
    head: HttpHead,
    timestamp_ns: u64,
    decoder: BodyDecoder,
}

#[derive(Debug)]
struct Half {
    stream: ByteStream,
    in_progress: Option<InProgress>,
    /// Framing was lost: skip to the next plausible message start.
    resync: bool,
}

/// The HTTP/1.x parser of one connection.
#[derive(Debug)]
pub struct HttpParser {
    limits: ParserLimits,
    counters: Arc<ProtocolCounters>,
    halves: [Half; 2],
    stitcher: HttpStitcher,
    /// `101 Switching Protocols` or a `CONNECT` tunnel: the rest is not HTTP/1.
    upgraded: bool,
}

fn idx(d: Direction) -> usize {
    match d {
        Direction::Egress => 0,
        Direction::Ingress => 1,
    }
}

impl HttpParser {
    pub fn new(
        meta: Arc<ConnMeta>,
        limits: ParserLimits,
        counters: Arc<ProtocolCounters>,
    ) -> HttpParser {
        let half = || Half {
            stream: ByteStream::new(limits.max_buffer_bytes),
            in_progress: None,
            resync: false,
        };
        HttpParser {
            limits,
            stitcher: HttpStitcher::new(meta, counters.clone(), limits.max_pending_requests),
            counters,
            halves: [half(), half()],
            upgraded: false,
        }
    }

    fn process(&mut self, direction: Direction) {
        let d = idx(direction);
        loop {
            if self.upgraded {
                return;
            }
            let half = &mut self.halves[d];
            if let Some(ip) = half.in_progress.as_mut() {
                match ip.decoder.feed(half.stream.bytes()) {
                    Ok((n, BodyProgress::Done)) => {
                        half.stream.consume(n);
                        if let Some(ip) = half.in_progress.take() {
                            self.emit(ip, direction);
                        }
                        continue;
                    }
                    Ok((n, BodyProgress::NeedMore)) => {
                        half.stream.consume(n);
                        return;
                    }
                    Err(_) => {
                        ProtocolCounters::add(&self.counters.parse_errors, 1);
                        half.in_progress = None;
                        half.resync = true;
                        continue;
                    }
                }
            }
            if half.resync {
                let skip = scan_for(half.stream.bytes(), 0, could_start);
                if skip > 0 {
                    ProtocolCounters::add(&self.counters.bytes_skipped_resync, skip as u64);
                    half.stream.consume(skip);
                }
            }
            if half.stream.is_empty() {
                return;
            }
            let bytes = half.stream.bytes();
            let parsed = if could_start(bytes) {
                parse_head(bytes)
            } else {
                Parsed::Invalid("not a request or status line")
            };
            match parsed {
                Parsed::Frame { frame, consumed } => {
                    let method = match frame.start {
                        StartLine::Response { .. } => self.stitcher.next_request_method(),
                        StartLine::Request { .. } => None,
                    };
                    match body_mode(&frame, method) {
                        Ok(mode) => {
                            let half = &mut self.halves[d];
                            let timestamp_ns = half.stream.timestamp_at(0);
                            half.stream.consume(consumed);
                            half.resync = false;
                            half.in_progress = Some(InProgress {
                                head: frame,
                                timestamp_ns,
                                decoder: BodyDecoder::new(mode, self.limits.max_body_bytes),
                            });
                        }
                        Err(_) => self.invalid(d),
                    }
                }
                Parsed::NeedMore => return,
                Parsed::Invalid(_) => self.invalid(d),
            }
        }
    }

    /// Bytes at the head of direction `d` are not a message: count one
    /// error per lost framing, skip a byte and resync.
    fn invalid(&mut self, d: usize) {
        let half = &mut self.halves[d];
        if !half.resync {
            ProtocolCounters::add(&self.counters.parse_errors, 1);
        }
        half.resync = true;
        half.stream.consume(1);
        ProtocolCounters::add(&self.counters.bytes_skipped_resync, 1);
    }

    fn emit(&mut self, ip: InProgress, direction: Direction) {
        let body = ip.decoder.into_body();
        if body.is_truncated() {
            ProtocolCounters::add(&self.counters.truncated_bodies, 1);
        }
        let upgrade = match &ip.head.start {
            StartLine::Response { status, .. } => {
                *status == 101
                    || ((200..300).contains(status)
                        && self
                            .stitcher
                            .next_request_method()
                            .is_some_and(|m| m.eq_ignore_ascii_case("CONNECT")))
            }
            StartLine::Request { .. } => false,
        };
        self.stitcher.on_message(
            HttpMessage {
                head: ip.head,
                body,
                timestamp_ns: ip.timestamp_ns,
            },
            direction,
        );
        if upgrade {
            self.upgraded = true;
            for h in &mut self.halves {
                h.stream.clear();
                h.in_progress = None;
            }
        }
    }

    /// The kernel did not copy `gap` bytes after the current chunk.
    fn on_gap(&mut self, direction: Direction, gap: usize) {
        let d = idx(direction);
        let half = &mut self.halves[d];
        if half.stream.is_empty() {
            if let Some(ip) = half.in_progress.as_mut() {
                if ip.decoder.absorb_gap(gap as u64) {
                    self.process(direction);
                    return;
                }
            }
        }
        // The gap is not inside body data: the framing is lost.
        if half.in_progress.is_some() || !half.stream.is_empty() {
            ProtocolCounters::add(&self.counters.parse_errors, 1);
        }
        half.in_progress = None;
        half.stream.clear();
        half.resync = true;
    }
}

impl StreamParser for HttpParser {
    fn feed(&mut self, chunk: Chunk<'_>) {
        if self.upgraded {
            return;
        }
        let half = &mut self.halves[idx(chunk.direction)];
        let dropped = half.stream.push(chunk.data, chunk.timestamp_ns);
        if dropped > 0 {
            ProtocolCounters::add(&self.counters.buffer_overflows, 1);
            half.in_progress = None;
            half.resync = true;
        }
        self.process(chunk.direction);
        let gap = chunk.original_len.saturating_sub(chunk.data.len());
        if gap > 0 && !self.upgraded {
            self.on_gap(chunk.direction, gap);
        }
    }

    fn drain_records(&mut self, out: &mut Vec<Record>) {
        out.extend(
            self.stitcher
                .drain_records()
                .map(|r| Record::Http(Box::new(r))),
        );
    }

    fn take_records(&mut self) -> Vec<Record> {
        self.stitcher
            .take_records()
            .into_iter()
            .map(|r| Record::Http(Box::new(r)))
            .collect()
    }

    fn close(&mut self) {
        for direction in [Direction::Egress, Direction::Ingress] {
            let half = &mut self.halves[idx(direction)];
            let finished = half
                .in_progress
                .as_mut()
                .is_some_and(|ip| ip.decoder.finish_at_close());
            if finished {
                if let Some(ip) = half.in_progress.take() {
                    self.emit(ip, direction);
                }
            }
        }
        self.stitcher.close();
    }
}
