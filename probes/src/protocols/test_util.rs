//! Helpers shared by the protocol tests.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{
    new_parser, Chunk, ConnMeta, Direction, ParserLimits, Protocol, ProtocolCounters, Record, Role,
    Transport,
};

pub fn meta(role: Role, transport: Transport, remote_port: u16) -> ConnMeta {
    ConnMeta {
        upid: "1:1234:5678".to_string(),
        pid: 1234,
        fd: 7,
        remote_addr: "127.0.0.1".to_string(),
        remote_port,
        local_addr: "127.0.0.1".to_string(),
        local_port: 40000,
        role,
        transport,
    }
}

pub fn chunk(direction: Direction, ts: u64, data: &[u8]) -> Chunk<'_> {
    Chunk {
        direction,
        timestamp_ns: ts,
        data,
        original_len: data.len(),
        datagram: false,
    }
}

/// Feeds `(direction, bytes)` in order (timestamps 1000, 2000, …) to a new
/// parser and returns its records and counters.
pub fn run(
    protocol: Protocol,
    meta: &ConnMeta,
    limits: ParserLimits,
    feeds: &[(Direction, &[u8])],
) -> (Vec<Record>, Arc<ProtocolCounters>) {
    let counters = Arc::new(ProtocolCounters::default());
    let mut p = new_parser(protocol, meta, limits, counters.clone());
    let datagram = meta.transport == Transport::Udp;
    for (i, (d, bytes)) in feeds.iter().enumerate() {
        let mut c = chunk(*d, (i as u64 + 1) * 1000, bytes);
        c.datagram = datagram;
        p.feed(c);
    }
    let mut out = p.take_records();
    p.close();
    out.extend(p.take_records());
    (out, counters)
}

pub fn get(c: &std::sync::atomic::AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}
