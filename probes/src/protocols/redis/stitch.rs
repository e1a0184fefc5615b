//! Redis frames → request/response records.
//!
//! Redis answers commands in order, so matching is FIFO (pipelining: N
//! requests, then N responses). Exceptions, handled as Pixie does:
//! - a published message (`message`/`pmessage`/`smessage` arrays, or any
//!   RESP3 push that is not a subscription confirmation) answers no
//!   request: it becomes a response-only record with `req_cmd` `PUSH PUB`,
//!   empty `req_args` and zero latency;
//! - `SUBSCRIBE a b` is answered by one confirmation per channel: the first
//!   completes the record, the others are absorbed.

use std::sync::Arc;

use super::commands::{format_args, split_command};
use super::table::render;
use super::types::{RedisFrame, RedisRecord, RedisRequest, RespValue};
use crate::protocols::stream::PendingQueue;
use crate::protocols::{ConnMeta, Direction, ProtocolCounters, RecordCommon, Role};

/// `req_cmd` of a pushed message.
pub const PUSH_PUB_CMD: &str = "PUSH PUB";

const SUBSCRIBE_FAMILY: [&str; 6] = [
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
];
const MESSAGE_KINDS: [&str; 3] = ["message", "pmessage", "smessage"];

#[derive(Debug)]
pub struct RedisStitcher {
    meta: Arc<ConnMeta>,
    counters: Arc<ProtocolCounters>,
    pending: PendingQueue<RedisRequest>,
    records: Vec<RedisRecord>,
    /// Subscription confirmations still expected for the last (P|S)SUBSCRIBE.
    absorb_confirms: usize,
    /// Responses to skip because their requests were lost in a gap.
    skip_responses: usize,
}

/// The words of a request: bulk strings (or inline words) as text.
pub fn request_words(frame: &RedisFrame) -> Option<Vec<String>> {
    match frame {
        RedisFrame::Inline(words) => Some(
            words
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect(),
        ),
        RedisFrame::Value(RespValue::Array(items)) => Some(items.iter().map(render).collect()),
        RedisFrame::Value(_) => None,
    }
}

fn first_word(items: &[RespValue]) -> Option<String> {
    match items.first()? {
        RespValue::Bulk(b) | RespValue::Simple(b) => {
            Some(String::from_utf8_lossy(b).to_ascii_lowercase())
        }
        _ => None,
    }
}

impl RedisStitcher {
    pub fn new(meta: Arc<ConnMeta>, counters: Arc<ProtocolCounters>, max_pending: usize) -> Self {
        RedisStitcher {
            meta,
            counters,
            pending: PendingQueue::new(max_pending),
            records: Vec::new(),
            absorb_confirms: 0,
            skip_responses: 0,
        }
    }

    fn role(&self, request_direction: Direction) -> Role {
        match self.meta.role {
            Role::Unknown if request_direction == Direction::Egress => Role::Client,
            Role::Unknown => Role::Server,
            r => r,
        }
    }

    pub fn on_request(&mut self, frame: RedisFrame, timestamp_ns: u64) {
        let (cmd, args, expected_replies) = match request_words(&frame) {
            Some(words) if words.is_empty() => return, // empty inline line
            Some(words) => {
                let (cmd, args) = split_command(&words);
                let expected = if cmd.ends_with("SUBSCRIBE") {
                    args.len().max(1)
                } else {
                    1
                };
                let args = format_args(&cmd, args);
                (cmd, args, expected)
            }
            None => match frame {
                RedisFrame::Value(v) => (String::new(), render(&v), 1),
                RedisFrame::Inline(_) => return,
            },
        };
        self.pending.push(
            RedisRequest {
                cmd,
                args,
                timestamp_ns,
                expected_replies,
            },
            &self.counters,
        );
    }

    pub fn on_response(
        &mut self,
        value: RespValue,
        timestamp_ns: u64,
        request_direction: Direction,
    ) {
        let role = self.role(request_direction);
        let (items, is_push) = match &value {
            RespValue::Push(items) => (Some(items.as_slice()), true),
            RespValue::Array(items) => (Some(items.as_slice()), false),
            _ => (None, false),
        };
        if let Some(items) = items {
            let kind = first_word(items);
            let kind = kind.as_deref().unwrap_or("");
            if SUBSCRIBE_FAMILY.contains(&kind) && items.len() == 3 {
                let front_subscribes = self
                    .pending
                    .front()
                    .is_some_and(|r| r.cmd.ends_with("SUBSCRIBE"));
                if self.absorb_confirms > 0 {
                    self.absorb_confirms -= 1;
                    return;
                }
                if !front_subscribes {
                    return; // e.g. one of several UNSUBSCRIBE-all replies
                }
            } else if (MESSAGE_KINDS.contains(&kind) && items.len() >= 3) || is_push {
                self.push_record(
                    PUSH_PUB_CMD.to_string(),
                    String::new(),
                    &value,
                    timestamp_ns,
                    timestamp_ns,
                    role,
                );
                return;
            }
        }
        if self.skip_responses > 0 {
            self.skip_responses -= 1;
            ProtocolCounters::add(&self.counters.unmatched_responses, 1);
            return;
        }
        let Some(req) = self.pending.pop_front() else {
            ProtocolCounters::add(&self.counters.unmatched_responses, 1);
            return;
        };
        self.absorb_confirms = req.expected_replies.saturating_sub(1);
        self.push_record(
            req.cmd,
            req.args,
            &value,
            req.timestamp_ns,
            timestamp_ns,
            role,
        );
    }

    fn push_record(
        &mut self,
        req_cmd: String,
        req_args: String,
        resp: &RespValue,
        req_ts: u64,
        resp_ts: u64,
        role: Role,
    ) {
        ProtocolCounters::add(&self.counters.records, 1);
        self.records.push(RedisRecord {
            common: RecordCommon {
                conn: self.meta.clone(),
                role,
                encrypted: false,
                req_timestamp_ns: req_ts,
                resp_timestamp_ns: resp_ts,
            },
            req_cmd,
            req_args,
            resp: render(resp),
        });
    }

    /// A request was cut by a gap in the stream: its response will come
    /// but must not be matched with the next request.
    pub fn lost_request(&mut self) {
        self.skip_responses += 1;
    }

    /// A response was cut by a gap in the stream: its request will never
    /// be answered.
    pub fn lost_response(&mut self) {
        if self.pending.pop_front().is_some() {
            ProtocolCounters::add(&self.counters.unmatched_requests, 1);
        }
    }

    pub fn take_records(&mut self) -> Vec<RedisRecord> {
        std::mem::take(&mut self.records)
    }

    pub fn close(&mut self) {
        self.pending.drain_unmatched(&self.counters);
    }
}
