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

use std::borrow::Cow;
use std::sync::Arc;

use super::commands::{format_args, split_command};
use super::table::{lossy, render};
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

/// The words of a request: bulk strings (or inline words) as text,
/// borrowed from the frame when they are valid UTF-8 (they nearly always
/// are), so most requests allocate nothing here.
pub fn request_words<'a>(frame: &RedisFrame<'a>) -> Option<Vec<Cow<'a, str>>> {
    match frame {
        RedisFrame::Inline(words) => Some(words.iter().map(|w| lossy(w)).collect()),
        RedisFrame::Value(RespValue::Array(items)) => Some(
            items
                .iter()
                .map(|item| match item {
                    RespValue::Bulk(b) | RespValue::Simple(b) => lossy(b),
                    other => Cow::Owned(render(other)),
                })
                .collect(),
        ),
        RedisFrame::Value(_) => None,
    }
}

/// Is the first element of a reply one of `words` (ASCII, any case)?
fn first_word_is(items: &[RespValue<'_>], words: &[&str]) -> bool {
    let Some(RespValue::Bulk(b) | RespValue::Simple(b)) = items.first() else {
        return false;
    };
    words.iter().any(|w| w.as_bytes().eq_ignore_ascii_case(b))
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

    pub fn on_request(&mut self, frame: RedisFrame<'_>, timestamp_ns: u64) {
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
        value: RespValue<'_>,
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
            if first_word_is(items, &SUBSCRIBE_FAMILY) && items.len() == 3 {
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
            } else if (first_word_is(items, &MESSAGE_KINDS) && items.len() >= 3) || is_push {
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
        resp: &RespValue<'_>,
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

    /// The finished records, leaving the buffer's capacity in place.
    pub fn drain_records(&mut self) -> std::vec::Drain<'_, RedisRecord> {
        self.records.drain(..)
    }

    pub fn take_records(&mut self) -> Vec<RedisRecord> {
        std::mem::take(&mut self.records)
    }

    pub fn close(&mut self) {
        self.pending.drain_unmatched(&self.counters);
    }
}
