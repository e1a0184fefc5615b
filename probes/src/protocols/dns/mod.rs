//! DNS over UDP (one message per datagram) and TCP (2-byte length prefix):
//! `parse` (bytes → messages, via `simple-dns`), `stitch` (queries ↔
//! responses by transaction id), `table` (record → `dns_events` row with
//! Pixie's JSON shapes). Answers of types other than A, AAAA and CNAME are
//! not recorded, as in Pixie.

pub mod parse;
pub mod stitch;
pub mod table;
pub mod types;

#[cfg(test)]
pub(crate) mod tests;

use std::sync::Arc;

use crate::protocols::stream::{scan_for, ByteStream, Parsed};
use crate::protocols::{
    Chunk, ConnMeta, Direction, ParserLimits, ProtocolCounters, Record, StreamParser, Transport,
};
use parse::{could_start_tcp, parse_datagram, parse_tcp_frame};
use stitch::DnsStitcher;
pub use types::{DnsAnswer, DnsAnswerData, DnsHeader, DnsMessage, DnsQuery, DnsRecord};

#[derive(Debug)]
struct Half {
    stream: ByteStream,
    resync: bool,
}

/// The DNS parser of one socket.
#[derive(Debug)]
pub struct DnsParser {
    udp: bool,
    counters: Arc<ProtocolCounters>,
    halves: [Half; 2],
    stitcher: DnsStitcher,
}

fn idx(d: Direction) -> usize {
    match d {
        Direction::Egress => 0,
        Direction::Ingress => 1,
    }
}

impl DnsParser {
    pub fn new(meta: Arc<ConnMeta>, limits: ParserLimits, counters: Arc<ProtocolCounters>) -> Self {
        let half = || Half {
            stream: ByteStream::new(limits.max_buffer_bytes),
            resync: false,
        };
        DnsParser {
            udp: meta.transport == Transport::Udp,
            stitcher: DnsStitcher::new(meta, counters.clone(), limits.max_pending_requests),
            counters,
            halves: [half(), half()],
        }
    }

    fn feed_datagram(&mut self, chunk: Chunk<'_>) {
        match parse_datagram(chunk.data) {
            Parsed::Frame { mut frame, .. } => {
                frame.timestamp_ns = chunk.timestamp_ns;
                self.stitcher.on_message(frame, chunk.direction);
            }
            Parsed::NeedMore | Parsed::Invalid(_) => {
                ProtocolCounters::add(&self.counters.parse_errors, 1);
            }
        }
    }

    fn feed_stream(&mut self, chunk: Chunk<'_>) {
        let d = idx(chunk.direction);
        let half = &mut self.halves[d];
        if half.stream.push(chunk.data, chunk.timestamp_ns) > 0 {
            ProtocolCounters::add(&self.counters.buffer_overflows, 1);
            half.resync = true;
        }
        loop {
            let half = &mut self.halves[d];
            if half.resync {
                let skip = scan_for(half.stream.bytes(), 0, could_start_tcp);
                if skip > 0 {
                    ProtocolCounters::add(&self.counters.bytes_skipped_resync, skip as u64);
                    half.stream.consume(skip);
                }
            }
            if half.stream.is_empty() {
                break;
            }
            match parse_tcp_frame(half.stream.bytes()) {
                Parsed::Frame {
                    mut frame,
                    consumed,
                } => {
                    frame.timestamp_ns = half.stream.timestamp_at(0);
                    half.stream.consume(consumed);
                    half.resync = false;
                    self.stitcher.on_message(frame, chunk.direction);
                }
                Parsed::NeedMore => break,
                Parsed::Invalid(_) => {
                    if !half.resync {
                        ProtocolCounters::add(&self.counters.parse_errors, 1);
                    }
                    half.resync = true;
                    half.stream.consume(1);
                    ProtocolCounters::add(&self.counters.bytes_skipped_resync, 1);
                }
            }
        }
        if chunk.original_len > chunk.data.len() {
            // Bytes missing from the stream: the framing is lost.
            let half = &mut self.halves[d];
            if !half.stream.is_empty() {
                ProtocolCounters::add(&self.counters.parse_errors, 1);
            }
            half.stream.clear();
            half.resync = true;
        }
    }
}

impl StreamParser for DnsParser {
    fn feed(&mut self, chunk: Chunk<'_>) {
        if chunk.datagram || self.udp {
            self.feed_datagram(chunk);
        } else {
            self.feed_stream(chunk);
        }
    }

    fn drain_records(&mut self, out: &mut Vec<Record>) {
        out.extend(
            self.stitcher
                .drain_records()
                .map(|r| Record::Dns(Box::new(r))),
        );
    }

    fn take_records(&mut self) -> Vec<Record> {
        self.stitcher
            .take_records()
            .into_iter()
            .map(|r| Record::Dns(Box::new(r)))
            .collect()
    }

    fn close(&mut self) {
        self.stitcher.close();
    }
}
