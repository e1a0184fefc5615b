//! HTTP/1.x messages → request/response records. HTTP/1.x answers requests
//! in order (pipelining included), so matching is FIFO; interim `1xx`
//! responses (other than `101`) answer nothing and are dropped.

use std::sync::Arc;

use super::types::{HttpMessage, HttpRecord, HttpRequest};
use crate::protocols::stream::PendingQueue;
use crate::protocols::{ConnMeta, Direction, ProtocolCounters, RecordCommon, Role};

#[derive(Debug)]
pub struct HttpStitcher {
    meta: Arc<ConnMeta>,
    counters: Arc<ProtocolCounters>,
    pending: PendingQueue<(HttpRequest, Direction)>,
    records: Vec<HttpRecord>,
}

impl HttpStitcher {
    pub fn new(
        meta: Arc<ConnMeta>,
        counters: Arc<ProtocolCounters>,
        max_pending: usize,
    ) -> HttpStitcher {
        HttpStitcher {
            meta,
            counters,
            pending: PendingQueue::new(max_pending),
            records: Vec::new(),
        }
    }

    /// Method of the oldest request still waiting: the one the next
    /// response answers (a response to `HEAD` has no body).
    pub fn next_request_method(&self) -> Option<&str> {
        self.pending.front().map(|(r, _)| r.method.as_str())
    }

    /// Takes one complete message seen in `direction`.
    pub fn on_message(&mut self, msg: HttpMessage, direction: Direction) {
        if msg.head.is_request() {
            if let Some(req) = msg.into_request() {
                self.pending.push((req, direction), &self.counters);
            }
            return;
        }
        let Some(resp) = msg.into_response() else {
            return;
        };
        if (100..200).contains(&resp.status) && resp.status != 101 {
            return; // interim response (100 Continue, 103 Early Hints)
        }
        let Some((req, req_dir)) = self.pending.pop_front() else {
            ProtocolCounters::add(&self.counters.unmatched_responses, 1);
            return;
        };
        let role = match self.meta.role {
            Role::Unknown if req_dir == Direction::Egress => Role::Client,
            Role::Unknown => Role::Server,
            r => r,
        };
        let common = RecordCommon {
            conn: self.meta.clone(),
            role,
            encrypted: false,
            req_timestamp_ns: req.timestamp_ns,
            resp_timestamp_ns: resp.timestamp_ns,
        };
        ProtocolCounters::add(&self.counters.records, 1);
        self.records.push(HttpRecord { common, req, resp });
    }

    /// The finished records, leaving the buffer's capacity in place.
    pub fn drain_records(&mut self) -> std::vec::Drain<'_, HttpRecord> {
        self.records.drain(..)
    }

    pub fn take_records(&mut self) -> Vec<HttpRecord> {
        std::mem::take(&mut self.records)
    }

    /// The connection closed: requests still waiting will never be answered.
    pub fn close(&mut self) {
        self.pending.drain_unmatched(&self.counters);
    }
}
