//! DNS messages → query/response records, matched by transaction id (a
//! resolver may have several queries in flight on one socket, answered in
//! any order). The `QR` bit says which messages are queries.

use std::sync::Arc;

use super::types::{DnsMessage, DnsRecord};
use crate::protocols::stream::PendingQueue;
use crate::protocols::{ConnMeta, Direction, ProtocolCounters, RecordCommon, Role};

#[derive(Debug)]
pub struct DnsStitcher {
    meta: Arc<ConnMeta>,
    counters: Arc<ProtocolCounters>,
    pending: PendingQueue<(DnsMessage, Direction)>,
    records: Vec<DnsRecord>,
}

impl DnsStitcher {
    pub fn new(meta: Arc<ConnMeta>, counters: Arc<ProtocolCounters>, max_pending: usize) -> Self {
        DnsStitcher {
            meta,
            counters,
            pending: PendingQueue::new(max_pending),
            records: Vec::new(),
        }
    }

    pub fn on_message(&mut self, msg: DnsMessage, direction: Direction) {
        if !msg.header.is_response() {
            self.pending.push((msg, direction), &self.counters);
            return;
        }
        let txid = msg.header.txid;
        let ts = msg.timestamp_ns;
        let Some((req, req_dir)) = self
            .pending
            .take_first(|(q, _)| q.header.txid == txid && q.timestamp_ns <= ts)
        else {
            ProtocolCounters::add(&self.counters.unmatched_responses, 1);
            return;
        };
        let role = match self.meta.role {
            Role::Unknown if req_dir == Direction::Egress => Role::Client,
            Role::Unknown => Role::Server,
            r => r,
        };
        ProtocolCounters::add(&self.counters.records, 1);
        self.records.push(DnsRecord {
            common: RecordCommon {
                conn: self.meta.clone(),
                role,
                encrypted: false,
                req_timestamp_ns: req.timestamp_ns,
                resp_timestamp_ns: msg.timestamp_ns,
            },
            req,
            resp: msg,
        });
    }

    /// The finished records, leaving the buffer's capacity in place.
    pub fn drain_records(&mut self) -> std::vec::Drain<'_, DnsRecord> {
        self.records.drain(..)
    }

    pub fn take_records(&mut self) -> Vec<DnsRecord> {
        std::mem::take(&mut self.records)
    }

    pub fn close(&mut self) {
        self.pending.drain_unmatched(&self.counters);
    }
}
