//! Protocol inference and parsers, one folder per protocol (DESIGN.md §4).
//!
//! The connection tracker (`crate::conn`) owns one [`StreamParser`] per traced
//! connection whose protocol is known, feeds it every chunk of payload in
//! order, and periodically takes the finished [`Record`]s, which
//! [`rows`] turns into frames in Pixie's table schemas.
//!
//! This file is the contract between the tracker and the parsers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub mod dns;
pub mod http;
mod infer;
pub mod redis;
pub mod rows;
pub mod stream;

pub use infer::infer;

/// A protocol scry can parse. Kafka, MySQL, PostgreSQL come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Http,
    Dns,
    Redis,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Http, Protocol::Dns, Protocol::Redis];

    /// The name used in tables and stats (`http`, `dns`, `redis`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Dns => "dns",
            Protocol::Redis => "redis",
        }
    }
}

/// Which way bytes went, seen from the traced process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Written by the process (write, send, sendto, sendmsg, …).
    Egress,
    /// Read by the process (read, recv, recvfrom, recvmsg, …).
    Ingress,
}

/// The traced process's role on the connection (Pixie's `trace_role`:
/// 1 = client, 2 = server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Unknown,
    Client,
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Tcp,
    Udp,
}

/// What the tracker knows about a connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnMeta {
    /// `asid:pid:start_ticks` of the traced process.
    pub upid: String,
    pub pid: u32,
    pub fd: i32,
    pub remote_addr: String,
    pub remote_port: u16,
    pub local_addr: String,
    pub local_port: u16,
    pub role: Role,
    pub transport: Transport,
}

/// One syscall's worth of payload.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    pub direction: Direction,
    /// Kernel monotonic-to-realtime converted timestamp, ns since the epoch.
    pub timestamp_ns: u64,
    /// The bytes copied by the kernel (at most the configured per-event cap).
    pub data: &'a [u8],
    /// How many bytes the syscall really moved; `> data.len()` means the
    /// kernel copied only a prefix and the rest is a gap in the stream.
    pub original_len: usize,
    /// For UDP: true, each chunk is one datagram (one whole message).
    pub datagram: bool,
}

/// Counters each protocol keeps; all are monotonically increasing.
#[derive(Debug, Default)]
pub struct ProtocolCounters {
    pub records: AtomicU64,
    pub parse_errors: AtomicU64,
    pub bytes_skipped_resync: AtomicU64,
    pub truncated_bodies: AtomicU64,
    pub unmatched_requests: AtomicU64,
    pub unmatched_responses: AtomicU64,
    pub buffer_overflows: AtomicU64,
}

impl ProtocolCounters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Bounds that keep a connection's memory finite.
#[derive(Debug, Clone, Copy)]
pub struct ParserLimits {
    /// Bytes buffered per direction before the oldest are dropped (counted).
    pub max_buffer_bytes: usize,
    /// Body bytes kept in a record (HTTP: 512, then `... [TRUNCATED]`).
    pub max_body_bytes: usize,
    /// Requests waiting for a response before the oldest is dropped (counted).
    pub max_pending_requests: usize,
}

impl Default for ParserLimits {
    fn default() -> Self {
        ParserLimits {
            max_buffer_bytes: 1 << 20,
            max_body_bytes: 512,
            max_pending_requests: 1024,
        }
    }
}

/// A per-connection parser: bytes in, records out.
pub trait StreamParser: Send {
    /// Feed one chunk, in the order the syscalls happened.
    fn feed(&mut self, chunk: Chunk<'_>);
    /// Records completed since the last call.
    fn take_records(&mut self) -> Vec<Record>;
    /// Moves the records completed since the last call onto `out`; unlike
    /// [`StreamParser::take_records`], the parser keeps its buffer (this
    /// runs after every chunk the tracker feeds).
    fn drain_records(&mut self, out: &mut Vec<Record>) {
        out.extend(self.take_records());
    }
    /// The connection closed: flush what can be flushed, count what can't.
    fn close(&mut self);
}

/// A finished request/response pair (or a response-only push), ready to
/// become a row of its protocol's table.
///
/// HTTP and DNS records are boxed: they are two to three times the size of
/// a Redis record, and every record is moved from its parser to the
/// tracker to the writer, so the enum is kept at the small one's size.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Http(Box<http::HttpRecord>),
    Dns(Box<dns::DnsRecord>),
    Redis(redis::RedisRecord),
}

impl Record {
    pub fn protocol(&self) -> Protocol {
        match self {
            Record::Http(_) => Protocol::Http,
            Record::Dns(_) => Protocol::Dns,
            Record::Redis(_) => Protocol::Redis,
        }
    }

    /// The columns every socket-tracer table shares (time, upid, addresses,
    /// role, latency).
    pub fn common(&self) -> &RecordCommon {
        match self {
            Record::Http(r) => &r.common,
            Record::Dns(r) => &r.common,
            Record::Redis(r) => &r.common,
        }
    }
}

/// What every record carries besides its protocol's own fields.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordCommon {
    pub conn: Arc<ConnMeta>,
    /// The `trace_role` reported in the row (usually the connection's role;
    /// inferred from the traffic when the tracker did not know it).
    pub role: Role,
    /// Whether the bytes were seen through a TLS library (Pixie's `encrypted`).
    pub encrypted: bool,
    pub req_timestamp_ns: u64,
    pub resp_timestamp_ns: u64,
}

impl RecordCommon {
    /// Pixie's `time_`: the response's timestamp.
    pub fn time_ns(&self) -> u64 {
        self.resp_timestamp_ns
    }

    /// Response timestamp − request timestamp (0 if either is missing).
    pub fn latency_ns(&self) -> i64 {
        if self.req_timestamp_ns == 0 || self.resp_timestamp_ns == 0 {
            return 0;
        }
        (self.resp_timestamp_ns as i128 - self.req_timestamp_ns as i128)
            .clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }
}

impl Role {
    /// Pixie's `trace_role` value: 0 unknown, 1 client, 2 server.
    pub fn trace_role(self) -> i64 {
        match self {
            Role::Unknown => 0,
            Role::Client => 1,
            Role::Server => 2,
        }
    }

    pub fn swapped(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
            Role::Unknown => Role::Unknown,
        }
    }
}

/// The registry: one line per protocol. Adding a protocol means adding its
/// folder, a [`Protocol`] variant, a [`Record`] variant and a line here.
pub fn new_parser(
    protocol: Protocol,
    meta: &ConnMeta,
    limits: ParserLimits,
    counters: Arc<ProtocolCounters>,
) -> Box<dyn StreamParser> {
    let meta = Arc::new(meta.clone());
    match protocol {
        Protocol::Http => Box::new(http::HttpParser::new(meta, limits, counters)),
        Protocol::Dns => Box::new(dns::DnsParser::new(meta, limits, counters)),
        Protocol::Redis => Box::new(redis::RedisParser::new(meta, limits, counters)),
    }
}

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod test_util;
