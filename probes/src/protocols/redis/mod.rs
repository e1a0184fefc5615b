//! Redis (RESP2 and RESP3): `parse` (bytes → frames, by hand — see there
//! why), `commands` (command names and `req_args` JSON), `stitch` (FIFO
//! matching, pub/sub pushes), `table` (values → Pixie's text, record →
//! `redis_events` row).
//!
//! Which direction carries requests follows the role (client: egress). When
//! the tracker does not know the role, the first frame decides: a command
//! (an array whose first element is a known command name, or an inline
//! command) marks its direction as the request side.

pub mod commands;
pub mod parse;
pub mod stitch;
pub mod table;
pub mod types;

#[cfg(test)]
pub(crate) mod tests;

use std::sync::Arc;

use crate::protocols::stream::{request_direction, ByteStream, Parsed};
use crate::protocols::{
    Chunk, ConnMeta, Direction, ParserLimits, ProtocolCounters, Record, Role, StreamParser,
};
use parse::{could_start, could_start_request, parse_frame};
use stitch::RedisStitcher;
pub use types::{RedisFrame, RedisRecord, RedisRequest, RespValue};

#[derive(Debug)]
struct Half {
    stream: ByteStream,
    resync: bool,
}

/// The Redis parser of one connection.
#[derive(Debug)]
pub struct RedisParser {
    counters: Arc<ProtocolCounters>,
    halves: [Half; 2],
    stitcher: RedisStitcher,
    /// The direction requests travel in, once known.
    req_dir: Option<Direction>,
}

fn idx(d: Direction) -> usize {
    match d {
        Direction::Egress => 0,
        Direction::Ingress => 1,
    }
}

fn other(d: Direction) -> Direction {
    match d {
        Direction::Egress => Direction::Ingress,
        Direction::Ingress => Direction::Egress,
    }
}

/// Does this frame look like a command (so its direction is the request side)?
fn looks_like_request(frame: &RedisFrame<'_>) -> bool {
    match frame {
        RedisFrame::Inline(words) => !words.is_empty(),
        RedisFrame::Value(RespValue::Array(items)) => match items.first() {
            Some(RespValue::Bulk(w)) => {
                commands::is_known_command(w)
                    && items.iter().all(|i| matches!(i, RespValue::Bulk(_)))
            }
            _ => false,
        },
        RedisFrame::Value(_) => false,
    }
}

impl RedisParser {
    pub fn new(meta: Arc<ConnMeta>, limits: ParserLimits, counters: Arc<ProtocolCounters>) -> Self {
        let half = || Half {
            stream: ByteStream::new(limits.max_buffer_bytes),
            resync: false,
        };
        let req_dir = match meta.role {
            Role::Unknown => None,
            r => Some(request_direction(r)),
        };
        RedisParser {
            stitcher: RedisStitcher::new(meta, counters.clone(), limits.max_pending_requests),
            counters,
            halves: [half(), half()],
            req_dir,
        }
    }

    /// Skips to the next position where a frame of this direction could start.
    fn resync_skip(&mut self, direction: Direction) {
        let requests = self.req_dir.map(|d| d == direction);
        let half = &mut self.halves[idx(direction)];
        let buf = half.stream.bytes();
        let skip = (0..buf.len())
            .find(|&i| {
                let at_line_start = i > 0 && buf[i - 1] == b'\n';
                match requests {
                    Some(true) => could_start_request(&buf[i..], at_line_start),
                    Some(false) => could_start(&buf[i..]),
                    None => could_start(&buf[i..]) || could_start_request(&buf[i..], at_line_start),
                }
            })
            .unwrap_or(buf.len());
        if skip > 0 {
            ProtocolCounters::add(&self.counters.bytes_skipped_resync, skip as u64);
            half.stream.consume(skip);
        }
    }

    fn process(&mut self, direction: Direction) {
        let d = idx(direction);
        loop {
            if self.halves[d].resync {
                self.resync_skip(direction);
            }
            let is_request_side = self.req_dir.is_none_or(|r| r == direction);
            let half = &mut self.halves[d];
            if half.stream.is_empty() {
                return;
            }
            match parse_frame(half.stream.bytes(), is_request_side) {
                Parsed::Frame { frame, consumed } => {
                    // The frame borrows the stream's bytes: hand it on,
                    // then consume them.
                    let ts = half.stream.timestamp_at(0);
                    half.resync = false;
                    let req_dir = *self.req_dir.get_or_insert_with(|| {
                        if looks_like_request(&frame) {
                            direction
                        } else {
                            other(direction)
                        }
                    });
                    if direction == req_dir {
                        self.stitcher.on_request(frame, ts);
                    } else {
                        match frame {
                            RedisFrame::Value(v) => self.stitcher.on_response(v, ts, req_dir),
                            RedisFrame::Inline(_) => {
                                ProtocolCounters::add(&self.counters.parse_errors, 1);
                            }
                        }
                    }
                    half.stream.consume(consumed);
                }
                Parsed::NeedMore => return,
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
    }
}

impl StreamParser for RedisParser {
    fn feed(&mut self, chunk: Chunk<'_>) {
        let d = idx(chunk.direction);
        let half = &mut self.halves[d];
        if half.stream.push(chunk.data, chunk.timestamp_ns) > 0 {
            ProtocolCounters::add(&self.counters.buffer_overflows, 1);
            half.resync = true;
        }
        self.process(chunk.direction);
        if chunk.original_len > chunk.data.len() {
            // Bytes missing from the stream: the framing is lost.
            let half = &mut self.halves[d];
            let cut_frame = !half.stream.is_empty();
            half.stream.clear();
            half.resync = true;
            if cut_frame {
                ProtocolCounters::add(&self.counters.parse_errors, 1);
                match self.req_dir {
                    Some(r) if r == chunk.direction => self.stitcher.lost_request(),
                    Some(_) => self.stitcher.lost_response(),
                    None => {}
                }
            }
        }
    }

    fn drain_records(&mut self, out: &mut Vec<Record>) {
        out.extend(self.stitcher.drain_records().map(Record::Redis));
    }

    fn take_records(&mut self) -> Vec<Record> {
        self.stitcher
            .take_records()
            .into_iter()
            .map(Record::Redis)
            .collect()
    }

    fn close(&mut self) {
        self.stitcher.close();
    }
}
