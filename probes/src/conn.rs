//! The connection tracker: decoded kernel events in, protocol records and
//! `conn_stats` rows out.
//!
//! A connection is identified by (tgid, fd, generation); the kernel bumps
//! the generation on every open, so a reused fd never mixes two
//! connections. For each connection the tracker keeps the role, the
//! addresses (from connect/accept, from the kernel's socket, or from
//! `/proc/<pid>/net/*` for sockets opened before the probes attached), byte
//! counters, and — once the protocol is confirmed in userspace
//! ([`crate::protocols::infer`]) — one [`StreamParser`] per peer (TCP: one;
//! unconnected UDP sockets: one per remote address, bounded).
//!
//! Everything is bounded: connections tracked (least recently active
//! evicted), UDP peers per socket, processes remembered, `conn_stats`
//! aggregates; every eviction is counted in [`TrackerStats`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::events::{
    Event, RawAddr, RawCloseEvent, RawConn, RawConnKey, RawDataHeader, RawHeader, RawOpenEvent,
    DIR_EGRESS, PROTO_DNS, PROTO_HTTP, PROTO_REDIS, ROLE_CLIENT, ROLE_SERVER, TRANSPORT_TCP,
    TRANSPORT_UDP,
};
use crate::procfs;
use crate::protocols::rows::{Cell, TableRow, Value};
use crate::protocols::{
    self, Chunk, ConnMeta, Direction, ParserLimits, Protocol, ProtocolCounters, Record, Role,
    StreamParser, Transport,
};
use scry_runtime::metadata::{ProcInfo, ProcMetadata};

/// Data chunks of a connection tried for userspace protocol confirmation
/// before it is given up on.
const INFER_ATTEMPTS: u32 = 4;

/// Tracker bounds and settings.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    /// Connections tracked at once; the least recently active is evicted.
    pub max_connections: usize,
    /// Remote peers (one parser each) per unconnected UDP socket.
    pub max_udp_peers: usize,
    /// Processes whose upid is remembered.
    pub max_processes: usize,
    /// `conn_stats` aggregates (upid × remote endpoint × role × protocol).
    pub max_conn_stats_keys: usize,
    pub parser_limits: ParserLimits,
    /// Only these processes produce rows (None: all).
    pub pids: Option<HashSet<u32>>,
    /// Agent short id, the first part of a upid.
    pub asid: u32,
    pub proc_root: PathBuf,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            max_connections: 16384,
            max_udp_peers: 256,
            max_processes: 4096,
            max_conn_stats_keys: 16384,
            parser_limits: ParserLimits::default(),
            pids: None,
            asid: 0,
            proc_root: PathBuf::from("/proc"),
        }
    }
}

/// Identity of a traced connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId {
    pub tgid: u32,
    pub fd: i32,
    pub generation: u64,
}

impl ConnId {
    fn of(h: &RawHeader) -> ConnId {
        ConnId {
            tgid: h.tgid,
            fd: h.fd,
            generation: h.generation,
        }
    }
}

/// Tracker counters (monotonic, except `connections_tracked`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TrackerStats {
    pub events: u64,
    pub decode_errors: u64,
    pub open_events: u64,
    pub close_events: u64,
    pub data_events: u64,
    pub proc_exit_events: u64,
    /// Data events for connections the tracker had not seen open.
    pub conns_first_seen: u64,
    pub conns_evicted: u64,
    pub connections_tracked: u64,
    pub udp_peers_evicted: u64,
    pub processes_evicted: u64,
    pub conn_stats_keys_evicted: u64,
    /// First chunks the userspace check did not recognise.
    pub infer_rejected: u64,
    /// Userspace recognised another protocol than the kernel guessed.
    pub infer_mismatch: u64,
    /// Connections given up on after INFER_ATTEMPTS rejected chunks.
    pub conns_rejected: u64,
    /// Events of processes outside the pid filter.
    pub pid_filtered: u64,
    /// Addresses found in /proc for sockets opened before the probes.
    pub proc_addr_lookups: u64,
    pub proc_addr_misses: u64,
}

/// Per-protocol data counters kept by the tracker (the parsers keep theirs
/// in [`ProtocolCounters`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolDataStats {
    pub data_events: u64,
    pub bytes_copied: u64,
    pub bytes_moved: u64,
    /// Chunks whose payload the kernel cut at the copy cap.
    pub truncated_chunks: u64,
}

struct PeerStream {
    peer: Option<RawAddr>,
    parser: Box<dyn StreamParser>,
    last_seq: u64,
}

struct Connection {
    role: Role,
    transport: Option<Transport>,
    remote: RawAddr,
    local: RawAddr,
    protocol: Option<Protocol>,
    rejected: bool,
    infer_attempts: u32,
    upid: Arc<str>,
    bytes_sent: u64,
    bytes_recv: u64,
    streams: Vec<PeerStream>,
    last_seq: u64,
}

struct ProcEntry {
    upid: Arc<str>,
    last_seq: u64,
}

/// A `conn_stats` grouping key (Pixie reports per upid and remote endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AggKey {
    upid: Arc<str>,
    remote_addr: String,
    remote_port: u16,
    role: i64,
    addr_family: i64,
    protocol: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct AggValues {
    conn_open: i64,
    conn_close: i64,
    bytes_sent: i64,
    bytes_recv: i64,
}

/// One `conn_stats` row.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnStatsRow {
    pub time_ns: i64,
    pub upid: Arc<str>,
    pub remote_addr: String,
    pub remote_port: u16,
    pub trace_role: i64,
    pub addr_family: i64,
    pub protocol: i64,
    pub conn_open: i64,
    pub conn_close: i64,
    pub bytes_sent: i64,
    pub bytes_recv: i64,
}

impl TableRow for ConnStatsRow {
    const TABLE: &'static str = "conn_stats";
    fn cell(column: &str) -> Option<Cell<Self>> {
        let cell: Cell<Self> = match column {
            "time_" => |r| Value::Time(r.time_ns),
            "upid" => |r| Value::Str(Cow::Borrowed(&r.upid)),
            "remote_addr" => |r| Value::Str(Cow::Borrowed(&r.remote_addr)),
            "remote_port" => |r| Value::Int(i64::from(r.remote_port)),
            "trace_role" => |r| Value::Int(r.trace_role),
            "addr_family" => |r| Value::Int(r.addr_family),
            "protocol" => |r| Value::Int(r.protocol),
            "ssl" => |_| Value::Bool(false),
            "conn_open" => |r| Value::Int(r.conn_open),
            "conn_close" => |r| Value::Int(r.conn_close),
            "conn_active" => |r| Value::Int(r.conn_open - r.conn_close),
            "bytes_sent" => |r| Value::Int(r.bytes_sent),
            "bytes_recv" => |r| Value::Int(r.bytes_recv),
            _ => return None,
        };
        Some(cell)
    }
}

/// Pixie's `traffic_protocol_t` numbers used in `conn_stats.protocol`.
pub fn pixie_protocol(p: Option<Protocol>) -> i64 {
    match p {
        None => 0,
        Some(Protocol::Http) => 1,
        Some(Protocol::Dns) => 6,
        Some(Protocol::Redis) => 7,
    }
}

/// Pixie's `SockAddrFamily` numbers used in `conn_stats.addr_family`.
pub fn pixie_family(a: &RawAddr) -> i64 {
    match a.family {
        2 => 1,
        10 => 2,
        _ => 0,
    }
}

pub fn protocol_from_kernel(p: u8) -> Option<Protocol> {
    match p {
        PROTO_HTTP => Some(Protocol::Http),
        PROTO_DNS => Some(Protocol::Dns),
        PROTO_REDIS => Some(Protocol::Redis),
        _ => None,
    }
}

fn role_from_kernel(r: u8) -> Role {
    match r {
        ROLE_CLIENT => Role::Client,
        ROLE_SERVER => Role::Server,
        _ => Role::Unknown,
    }
}

fn transport_from_kernel(t: u8) -> Option<Transport> {
    match t {
        TRANSPORT_TCP => Some(Transport::Tcp),
        TRANSPORT_UDP => Some(Transport::Udp),
        _ => None,
    }
}

fn addr_string(a: &RawAddr) -> String {
    a.ip().map(|ip| ip.to_string()).unwrap_or_default()
}

/// Converts kernel CLOCK_MONOTONIC timestamps to ns since the epoch.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    offset_ns: i128,
}

impl Clock {
    /// Measures REALTIME − MONOTONIC now.
    pub fn now() -> Clock {
        let get = |id| {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: ts is a valid, writable timespec.
            unsafe { libc::clock_gettime(id, &mut ts) };
            i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
        };
        let mono1 = get(libc::CLOCK_MONOTONIC);
        let real = get(libc::CLOCK_REALTIME);
        let mono2 = get(libc::CLOCK_MONOTONIC);
        Clock {
            offset_ns: real - (mono1 + mono2) / 2,
        }
    }

    pub fn fixed(offset_ns: i128) -> Clock {
        Clock { offset_ns }
    }

    pub fn to_realtime(&self, monotonic_ns: u64) -> u64 {
        (i128::from(monotonic_ns) + self.offset_ns).clamp(0, i128::from(u64::MAX)) as u64
    }
}

/// See the module docs.
pub struct ConnTracker {
    cfg: TrackerConfig,
    clock: Clock,
    ticks_per_sec: u64,
    // Looked up on every event: FxHash rather than SipHash (see FxHasher).
    conns: HashMap<ConnId, Connection, FxBuild>,
    current: HashMap<(u32, i32), u64, FxBuild>,
    procs: HashMap<u32, ProcEntry, FxBuild>,
    counters: HashMap<Protocol, Arc<ProtocolCounters>>,
    /// Indexed by `Protocol as usize`: updated on every data event.
    data_stats: [ProtocolDataStats; Protocol::ALL.len()],
    records: Vec<Record>,
    stats: TrackerStats,
    retired: HashMap<AggKey, AggValues>,
    reported: HashMap<AggKey, AggValues>,
    exited: HashSet<u32>,
    seq: u64,
    /// Newest kernel (monotonic) timestamp of the events handled.
    newest_event_ns: u64,
    /// Where processes are named when first seen, so that rows of
    /// processes that have since exited still resolve `ctx['cmdline']`.
    names: Arc<ProcMetadata>,
}

impl ConnTracker {
    pub fn new(cfg: TrackerConfig, clock: Clock) -> ConnTracker {
        let counters = Protocol::ALL
            .iter()
            .map(|p| (*p, Arc::new(ProtocolCounters::default())))
            .collect();
        let names = if cfg.proc_root == std::path::Path::new("/proc") {
            ProcMetadata::shared()
        } else {
            Arc::new(ProcMetadata::with_proc_root(&cfg.proc_root))
        };
        ConnTracker {
            names,
            cfg,
            clock,
            ticks_per_sec: procfs::clock_ticks_per_sec(),
            conns: HashMap::default(),
            current: HashMap::default(),
            procs: HashMap::default(),
            counters,
            data_stats: Default::default(),
            records: Vec::new(),
            stats: TrackerStats::default(),
            retired: HashMap::new(),
            reported: HashMap::new(),
            exited: HashSet::new(),
            seq: 0,
            newest_event_ns: 0,
        }
    }

    pub fn stats(&self) -> TrackerStats {
        let mut s = self.stats.clone();
        s.connections_tracked = self.conns.len() as u64;
        s
    }

    /// What the tracker learnt of the processes it saw.
    pub fn process_names(&self) -> &Arc<ProcMetadata> {
        &self.names
    }

    pub fn proc_root(&self) -> &std::path::Path {
        &self.cfg.proc_root
    }

    pub fn counters(&self) -> &HashMap<Protocol, Arc<ProtocolCounters>> {
        &self.counters
    }

    /// Data counters of the protocols that saw any.
    pub fn data_stats(&self) -> HashMap<Protocol, ProtocolDataStats> {
        Protocol::ALL
            .iter()
            .zip(self.data_stats)
            .filter(|(_, d)| d.data_events > 0)
            .map(|(p, d)| (*p, d))
            .collect()
    }

    /// Records completed since the last call.
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.records)
    }

    /// Moves the records completed since the last call onto `out`. Both
    /// vectors keep their capacity: a fresh one each flush (about a
    /// megabyte at a few thousand records) was faulted in page by page.
    pub fn move_records_into(&mut self, out: &mut Vec<Record>) {
        out.append(&mut self.records);
    }

    /// Wall-clock time (ns since the epoch) of the newest event handled;
    /// 0 before the first.
    pub fn newest_event_time_ns(&self) -> u64 {
        if self.newest_event_ns == 0 {
            return 0;
        }
        self.clock.to_realtime(self.newest_event_ns)
    }

    /// Processes that exited since the last call.
    pub fn take_exited(&mut self) -> HashSet<u32> {
        std::mem::take(&mut self.exited)
    }

    /// Traced processes (with at least one tracked connection).
    pub fn traced_pids(&self) -> Vec<(u32, Arc<str>)> {
        let mut pids: Vec<(u32, Arc<str>)> = self
            .procs
            .iter()
            .map(|(p, e)| (*p, e.upid.clone()))
            .collect();
        pids.sort_by_key(|(p, _)| *p);
        pids
    }

    /// Decodes and handles one ring-buffer record.
    pub fn handle_bytes(&mut self, bytes: &[u8]) {
        match crate::events::decode(bytes) {
            Ok(ev) => self.handle(ev),
            Err(_) => {
                self.stats.events += 1;
                self.stats.decode_errors += 1;
            }
        }
    }

    pub fn handle(&mut self, ev: Event<'_>) {
        self.stats.events += 1;
        self.seq += 1;
        let tgid = ev.header().tgid;
        self.newest_event_ns = self.newest_event_ns.max(ev.header().timestamp_ns);
        if let Some(pids) = &self.cfg.pids {
            if !pids.contains(&tgid) {
                self.stats.pid_filtered += 1;
                return;
            }
        }
        match ev {
            Event::Open(e) => self.on_open(&e),
            Event::Data { hdr, data } => self.on_data(&hdr, data),
            Event::Close(e) => self.on_close(&e),
            Event::ProcExit(e) => {
                self.stats.proc_exit_events += 1;
                let ids: Vec<ConnId> = self
                    .conns
                    .keys()
                    .filter(|id| id.tgid == tgid)
                    .copied()
                    .collect();
                for id in ids {
                    self.retire(id, true);
                }
                self.current.retain(|(t, _), _| *t != tgid);
                self.exited.insert(e.hdr.tgid);
            }
        }
    }

    /// The process's upid; the first time a process is seen it is also
    /// named: from /proc while it is alive, else from the kernel's `comm`
    /// (open events carry it), e.g. for a client that has already exited.
    fn upid(&mut self, h: &RawHeader, comm: Option<&[u8; 16]>) -> Arc<str> {
        let seq = self.seq;
        if let Some(p) = self.procs.get_mut(&h.tgid) {
            p.last_seq = seq;
            return p.upid.clone();
        }
        let ticks = if h.proc_start_ns != 0 {
            procfs::start_ticks_from_ns(h.proc_start_ns, self.ticks_per_sec)
        } else {
            scry_runtime::metadata::Upid::for_pid(h.tgid)
                .map(|u| u.start_ticks)
                .unwrap_or(0)
        };
        let id = scry_runtime::metadata::Upid::new(self.cfg.asid, h.tgid, ticks);
        if self.names.observe(id).is_none_or(|p| p.cmdline.is_empty()) {
            if let Some(name) = comm.map(comm_name).filter(|n| !n.is_empty()) {
                self.names.remember(
                    id,
                    ProcInfo {
                        cmdline: name,
                        container_id: String::new(),
                    },
                );
            }
        }
        let upid: Arc<str> = id.to_string().into();
        if self.procs.len() >= self.cfg.max_processes {
            // Forget the least recently active process without connections.
            let live: HashSet<u32> = self.conns.keys().map(|c| c.tgid).collect();
            if let Some(old) = self
                .procs
                .iter()
                .filter(|(p, _)| !live.contains(p))
                .min_by_key(|(_, e)| e.last_seq)
                .map(|(p, _)| *p)
            {
                self.procs.remove(&old);
                self.stats.processes_evicted += 1;
            }
        }
        if self.procs.len() < self.cfg.max_processes {
            self.procs.insert(
                h.tgid,
                ProcEntry {
                    upid: upid.clone(),
                    last_seq: seq,
                },
            );
        }
        upid
    }

    fn make_room(&mut self) {
        while self.conns.len() >= self.cfg.max_connections.max(1) {
            let Some(oldest) = self
                .conns
                .iter()
                .min_by_key(|(_, c)| c.last_seq)
                .map(|(id, _)| *id)
            else {
                break;
            };
            self.stats.conns_evicted += 1;
            self.retire(oldest, false);
        }
    }

    fn insert(&mut self, id: ConnId, conn: Connection) {
        // A new generation on the same fd: the old connection is over.
        if let Some(old) = self.current.insert((id.tgid, id.fd), id.generation) {
            if old != id.generation {
                self.retire(
                    ConnId {
                        generation: old,
                        ..id
                    },
                    true,
                );
            }
        }
        self.make_room();
        self.conns.insert(id, conn);
    }

    fn new_connection(
        &mut self,
        h: &RawHeader,
        role: Role,
        transport: Option<Transport>,
        comm: Option<&[u8; 16]>,
    ) -> Connection {
        Connection {
            role,
            transport,
            remote: RawAddr::default(),
            local: RawAddr::default(),
            protocol: None,
            rejected: false,
            infer_attempts: 0,
            upid: self.upid(h, comm),
            bytes_sent: 0,
            bytes_recv: 0,
            streams: Vec::new(),
            last_seq: self.seq,
        }
    }

    /// Fills unknown addresses from /proc for sockets the kernel could not
    /// describe (opened before the probes attached).
    fn fill_from_proc(&mut self, id: ConnId, conn: &mut Connection) {
        if conn.remote.is_set() && conn.transport.is_some() {
            return;
        }
        self.stats.proc_addr_lookups += 1;
        match procfs::socket_info(&self.cfg.proc_root, id.tgid, id.fd) {
            Some(info) => {
                if !conn.remote.is_set() {
                    conn.remote = info.remote;
                }
                if !conn.local.is_set() {
                    conn.local = info.local;
                }
                if conn.transport.is_none() {
                    conn.transport = Some(info.transport);
                }
            }
            None => self.stats.proc_addr_misses += 1,
        }
    }

    fn on_open(&mut self, e: &RawOpenEvent) {
        self.stats.open_events += 1;
        let id = ConnId::of(&e.hdr);
        let mut conn = self.new_connection(
            &e.hdr,
            role_from_kernel(e.role),
            transport_from_kernel(e.transport),
            Some(&e.comm),
        );
        conn.remote = e.remote;
        conn.local = e.local;
        self.fill_from_proc(id, &mut conn);
        self.insert(id, conn);
    }

    fn on_data(&mut self, h: &RawDataHeader, data: &[u8]) {
        self.stats.data_events += 1;
        let id = ConnId::of(&h.hdr);
        if !self.conns.contains_key(&id) {
            // The open happened before the probes, or its event was lost.
            self.stats.conns_first_seen += 1;
            let mut conn = self.new_connection(
                &h.hdr,
                role_from_kernel(h.role),
                transport_from_kernel(h.transport),
                None,
            );
            self.fill_from_proc(id, &mut conn);
            self.insert(id, conn);
        }
        let seq = self.seq;
        let direction = if h.direction == DIR_EGRESS {
            Direction::Egress
        } else {
            Direction::Ingress
        };
        let timestamp_ns = self.clock.to_realtime(h.hdr.timestamp_ns);
        let limits = self.cfg.parser_limits;
        let max_peers = self.cfg.max_udp_peers.max(1);
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.last_seq = seq;
        if direction == Direction::Egress {
            conn.bytes_sent = conn.bytes_sent.saturating_add(h.original_len);
        } else {
            conn.bytes_recv = conn.bytes_recv.saturating_add(h.original_len);
        }
        if conn.role == Role::Unknown {
            conn.role = role_from_kernel(h.role);
        }
        if conn.transport.is_none() {
            conn.transport = transport_from_kernel(h.transport);
        }
        let Some(transport) = conn.transport else {
            return;
        };
        if conn.rejected || data.is_empty() {
            return;
        }
        let remote_port = if h.remote.family != 0 {
            h.remote.port
        } else {
            conn.remote.port
        };
        let protocol = match conn.protocol {
            Some(p) => p,
            None => match protocols::infer(direction, data, transport, remote_port) {
                Some(p) => {
                    if protocol_from_kernel(h.protocol) != Some(p) {
                        self.stats.infer_mismatch += 1;
                    }
                    conn.protocol = Some(p);
                    p
                }
                None => {
                    self.stats.infer_rejected += 1;
                    conn.infer_attempts += 1;
                    if conn.infer_attempts >= INFER_ATTEMPTS {
                        conn.rejected = true;
                        self.stats.conns_rejected += 1;
                    }
                    return;
                }
            },
        };
        let ds = &mut self.data_stats[protocol as usize];
        ds.data_events += 1;
        ds.bytes_copied += data.len() as u64;
        ds.bytes_moved += h.original_len;
        if h.original_len > data.len() as u64 {
            ds.truncated_chunks += 1;
        }

        // Which stream: unconnected UDP sockets get one per peer.
        let peer = (transport == Transport::Udp && !conn.remote.is_set() && h.remote.is_set())
            .then_some(h.remote);
        let idx = match conn.streams.iter().position(|s| s.peer == peer) {
            Some(i) => i,
            None => {
                if conn.streams.len() >= max_peers {
                    if let Some(oldest) = conn
                        .streams
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, s)| s.last_seq)
                        .map(|(i, _)| i)
                    {
                        let mut s = conn.streams.swap_remove(oldest);
                        s.parser.close();
                        s.parser.drain_records(&mut self.records);
                        self.stats.udp_peers_evicted += 1;
                    }
                }
                let remote = peer.unwrap_or(conn.remote);
                let meta = ConnMeta {
                    upid: conn.upid.to_string(),
                    pid: id.tgid,
                    fd: id.fd,
                    remote_addr: addr_string(&remote),
                    remote_port: remote.port,
                    local_addr: addr_string(&conn.local),
                    local_port: conn.local.port,
                    role: conn.role,
                    transport,
                };
                let counters = self.counters.get(&protocol).cloned().unwrap_or_default();
                conn.streams.push(PeerStream {
                    peer,
                    parser: protocols::new_parser(protocol, &meta, limits, counters),
                    last_seq: seq,
                });
                conn.streams.len() - 1
            }
        };
        let Some(stream) = conn.streams.get_mut(idx) else {
            return;
        };
        stream.last_seq = seq;
        stream.parser.feed(Chunk {
            direction,
            timestamp_ns,
            data,
            original_len: usize::try_from(h.original_len).unwrap_or(usize::MAX),
            datagram: transport == Transport::Udp,
        });
        stream.parser.drain_records(&mut self.records);
    }

    fn on_close(&mut self, e: &RawCloseEvent) {
        self.stats.close_events += 1;
        let id = ConnId::of(&e.hdr);
        if let Some(c) = self.conns.get_mut(&id) {
            // The kernel counts every byte, copied or not.
            c.bytes_sent = c.bytes_sent.max(e.bytes_sent);
            c.bytes_recv = c.bytes_recv.max(e.bytes_recv);
        }
        self.retire(id, true);
        if self.current.get(&(id.tgid, id.fd)) == Some(&id.generation) {
            self.current.remove(&(id.tgid, id.fd));
        }
    }

    /// Closes a connection's parsers and moves its counters to the retired
    /// `conn_stats` totals.
    fn retire(&mut self, id: ConnId, closed: bool) {
        let Some(mut c) = self.conns.remove(&id) else {
            return;
        };
        for s in &mut c.streams {
            s.parser.close();
            s.parser.drain_records(&mut self.records);
        }
        let key = agg_key(&c);
        let v = self.retired.entry(key).or_default();
        v.conn_open += 1;
        if closed {
            v.conn_close += 1;
        }
        v.bytes_sent = v
            .bytes_sent
            .saturating_add(c.bytes_sent.min(i64::MAX as u64) as i64);
        v.bytes_recv = v
            .bytes_recv
            .saturating_add(c.bytes_recv.min(i64::MAX as u64) as i64);
    }

    /// Updates byte counters from a snapshot of the kernel's connection map
    /// (the only source for connections whose payload is not copied).
    pub fn apply_kernel_conns(&mut self, snapshot: &[(RawConnKey, RawConn)]) {
        for (k, v) in snapshot {
            let id = ConnId {
                tgid: k.tgid,
                fd: k.fd,
                generation: v.generation,
            };
            if let Some(c) = self.conns.get_mut(&id) {
                c.bytes_sent = c.bytes_sent.max(v.bytes_sent);
                c.bytes_recv = c.bytes_recv.max(v.bytes_recv);
                if c.role == Role::Unknown {
                    c.role = role_from_kernel(v.role);
                }
            }
        }
    }

    /// Cumulative `conn_stats` rows for every aggregate that changed since
    /// the last call.
    pub fn conn_stats_rows(&mut self, time_ns: i64) -> Vec<ConnStatsRow> {
        let mut totals: HashMap<AggKey, AggValues> = self.retired.clone();
        for c in self.conns.values() {
            let v = totals.entry(agg_key(c)).or_default();
            v.conn_open += 1;
            v.bytes_sent = v
                .bytes_sent
                .saturating_add(c.bytes_sent.min(i64::MAX as u64) as i64);
            v.bytes_recv = v
                .bytes_recv
                .saturating_add(c.bytes_recv.min(i64::MAX as u64) as i64);
        }
        let mut rows = Vec::new();
        for (k, v) in &totals {
            if self.reported.get(k) == Some(v) {
                continue;
            }
            rows.push(ConnStatsRow {
                time_ns,
                upid: k.upid.clone(),
                remote_addr: k.remote_addr.clone(),
                remote_port: k.remote_port,
                trace_role: k.role,
                addr_family: k.addr_family,
                protocol: k.protocol,
                conn_open: v.conn_open,
                conn_close: v.conn_close,
                bytes_sent: v.bytes_sent,
                bytes_recv: v.bytes_recv,
            });
        }
        rows.sort_by(|a, b| {
            (&a.upid, &a.remote_addr, a.remote_port, a.protocol).cmp(&(
                &b.upid,
                &b.remote_addr,
                b.remote_port,
                b.protocol,
            ))
        });
        self.reported = totals;
        // Bound the retired aggregates: drop the ones of processes we no
        // longer remember (their last values were reported above).
        if self.retired.len() > self.cfg.max_conn_stats_keys {
            let live: HashSet<Arc<str>> = self.procs.values().map(|p| p.upid.clone()).collect();
            let before = self.retired.len();
            self.retired.retain(|k, _| live.contains(&k.upid));
            if self.retired.len() > self.cfg.max_conn_stats_keys {
                self.retired.clear();
            }
            self.stats.conn_stats_keys_evicted += (before - self.retired.len()) as u64;
            self.reported.retain(|k, _| self.retired.contains_key(k));
        }
        rows
    }

    /// Closes every connection (end of capture), flushing the parsers.
    pub fn close_all(&mut self) {
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for id in ids {
            if let Some(c) = self.conns.get_mut(&id) {
                for s in &mut c.streams {
                    s.parser.close();
                    s.parser.drain_records(&mut self.records);
                }
                c.streams.clear();
            }
        }
    }
}

/// rustc's FxHash: one rotate, xor and multiply per word. The tracker's
/// per-event maps are keyed by small integers the kernel chose (tgid, fd,
/// generation), never by bytes a peer sent, so SipHash's resistance to
/// chosen keys buys nothing there while costing a few percent of the
/// reader's CPU.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

fn agg_key(c: &Connection) -> AggKey {
    AggKey {
        upid: c.upid.clone(),
        remote_addr: addr_string(&c.remote),
        remote_port: c.remote.port,
        role: c.role.trace_role(),
        addr_family: pixie_family(&c.remote),
        protocol: pixie_protocol(c.protocol),
    }
}

/// A kernel task name (`comm`: up to 15 bytes, NUL-padded) as text.
fn comm_name(comm: &[u8; 16]) -> String {
    let len = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    String::from_utf8_lossy(&comm[..len]).into_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::events::{struct_bytes, EV_CLOSE, EV_DATA, EV_OPEN, EV_PROC_EXIT, OPEN_CONNECT};

    fn hdr(kind: u32, fd: i32, generation: u64, ts: u64) -> RawHeader {
        RawHeader {
            kind,
            tgid: 4242,
            tid: 4242,
            fd,
            generation,
            timestamp_ns: ts,
            proc_start_ns: 12_340_000_000,
        }
    }

    /// A data event of pid 4242's connection `fd`/`generation`.
    pub(crate) fn data(
        fd: i32,
        generation: u64,
        ts: u64,
        dir: u8,
        transport: u8,
        bytes: &[u8],
    ) -> Vec<u8> {
        let h = RawDataHeader {
            hdr: hdr(EV_DATA, fd, generation, ts),
            original_len: bytes.len() as u64,
            data_len: bytes.len() as u32,
            direction: dir,
            protocol: PROTO_REDIS,
            transport,
            ..RawDataHeader::default()
        };
        let mut b = struct_bytes(&h);
        b.extend_from_slice(bytes);
        b
    }

    /// pid 4242 connects `fd` to 127.0.0.1:`port` over TCP.
    pub(crate) fn open(fd: i32, generation: u64, port: u16) -> Vec<u8> {
        struct_bytes(&RawOpenEvent {
            hdr: hdr(EV_OPEN, fd, generation, 1),
            remote: RawAddr::from_ip("127.0.0.1".parse().unwrap(), port),
            local: RawAddr::from_ip("127.0.0.1".parse().unwrap(), 40000),
            role: ROLE_CLIENT,
            transport: TRANSPORT_TCP,
            source: OPEN_CONNECT,
            ..RawOpenEvent::default()
        })
    }

    fn tracker() -> ConnTracker {
        ConnTracker::new(TrackerConfig::default(), Clock::fixed(1_000_000_000_000))
    }

    #[test]
    fn a_process_gone_from_proc_is_named_by_its_comm() {
        // A proc tree without pid 4242: the client has already exited.
        let cfg = TrackerConfig {
            proc_root: PathBuf::from("/nonexistent/scry-test-proc"),
            ..TrackerConfig::default()
        };
        let mut t = ConnTracker::new(cfg, Clock::fixed(1_000_000_000_000));
        let mut ev: RawOpenEvent = crate::events::decode(&open(5, 1, 6379))
            .map(|e| match e {
                Event::Open(o) => o,
                other => panic!("{other:?}"),
            })
            .unwrap();
        ev.comm[..9].copy_from_slice(b"redis-cli");
        t.handle_bytes(&struct_bytes(&ev));
        let upid = "0:4242:1234".parse().unwrap();
        let info = t.process_names().process(upid).expect("named");
        assert_eq!(info.cmdline, "redis-cli");
        // A later open of the same process does not rename it.
        ev.hdr.fd = 6;
        ev.comm = [0; 16];
        ev.comm[..5].copy_from_slice(b"other");
        t.handle_bytes(&struct_bytes(&ev));
        assert_eq!(
            t.process_names().process(upid).unwrap().cmdline,
            "redis-cli"
        );
    }

    #[test]
    fn redis_get_becomes_a_record_with_latency_and_conn_stats() {
        let mut t = tracker();
        t.handle_bytes(&open(5, 1, 6379));
        t.handle_bytes(&data(
            5,
            1,
            1000,
            DIR_EGRESS,
            TRANSPORT_TCP,
            b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n",
        ));
        t.handle_bytes(&data(5, 1, 5000, 1, TRANSPORT_TCP, b"$3\r\nbar\r\n"));
        let recs = t.take_records();
        assert_eq!(recs.len(), 1, "{recs:?}");
        let c = recs[0].common();
        assert_eq!(c.conn.remote_port, 6379);
        assert_eq!(c.conn.upid, "0:4242:1234");
        assert_eq!(c.latency_ns(), 4000);
        assert_eq!(c.time_ns(), 1_000_000_005_000);

        let close = RawCloseEvent {
            hdr: hdr(EV_CLOSE, 5, 1, 9000),
            bytes_sent: 100,
            bytes_recv: 50,
            ..RawCloseEvent::default()
        };
        t.handle_bytes(&struct_bytes(&close));
        let rows = t.conn_stats_rows(1);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(
            (r.conn_open, r.conn_close, r.bytes_sent, r.bytes_recv),
            (1, 1, 100, 50)
        );
        assert_eq!(
            (r.protocol, r.trace_role, r.addr_family, r.remote_port),
            (7, 1, 1, 6379)
        );
        // unchanged: not reported again
        assert!(t.conn_stats_rows(2).is_empty());
        assert_eq!(t.stats().connections_tracked, 0);
    }

    #[test]
    fn new_generation_on_same_fd_retires_the_old_one() {
        let mut t = tracker();
        t.handle_bytes(&open(5, 1, 6379));
        t.handle_bytes(&open(5, 2, 6380));
        assert_eq!(t.stats().connections_tracked, 1);
        let rows = t.conn_stats_rows(1);
        assert_eq!(rows.len(), 2);
        let closed: i64 = rows.iter().map(|r| r.conn_close).sum();
        assert_eq!(closed, 1);
    }

    #[test]
    fn connections_are_bounded() {
        let mut t = ConnTracker::new(
            TrackerConfig {
                max_connections: 3,
                ..TrackerConfig::default()
            },
            Clock::fixed(0),
        );
        for fd in 0..10 {
            t.handle_bytes(&open(100 + fd, fd as u64 + 1, 6379));
        }
        let s = t.stats();
        assert_eq!(s.connections_tracked, 3);
        assert_eq!(s.conns_evicted, 7);
    }

    #[test]
    fn unrecognised_data_is_given_up_and_garbage_is_counted() {
        let mut t = tracker();
        t.handle_bytes(&open(5, 1, 1234));
        for i in 0..6 {
            t.handle_bytes(&data(
                5,
                1,
                i,
                DIR_EGRESS,
                TRANSPORT_TCP,
                b"\x16\x03\x01 not a known protocol",
            ));
        }
        let s = t.stats();
        assert_eq!(s.infer_rejected, 4);
        assert_eq!(s.conns_rejected, 1);
        t.handle_bytes(&[1, 2, 3]);
        t.handle_bytes(&[]);
        assert_eq!(t.stats().decode_errors, 2);
        assert!(t.take_records().is_empty());
    }

    #[test]
    fn process_exit_retires_its_connections_and_pid_filter_applies() {
        let mut t = tracker();
        t.handle_bytes(&open(5, 1, 6379));
        t.handle_bytes(&struct_bytes(&crate::events::RawProcExitEvent {
            hdr: hdr(EV_PROC_EXIT, -1, 0, 10),
        }));
        assert_eq!(t.stats().connections_tracked, 0);
        assert!(t.take_exited().contains(&4242));

        let mut t = ConnTracker::new(
            TrackerConfig {
                pids: Some([1].into_iter().collect()),
                ..TrackerConfig::default()
            },
            Clock::fixed(0),
        );
        t.handle_bytes(&open(5, 1, 6379));
        assert_eq!(t.stats().pid_filtered, 1);
        assert_eq!(t.stats().connections_tracked, 0);
    }

    #[test]
    fn conn_stats_row_fills_the_schema() {
        let row = ConnStatsRow {
            time_ns: 5,
            upid: "0:1:2".into(),
            remote_addr: "127.0.0.1".into(),
            remote_port: 80,
            trace_role: 1,
            addr_family: 1,
            protocol: 1,
            conn_open: 2,
            conn_close: 1,
            bytes_sent: 10,
            bytes_recv: 20,
        };
        let schema = scry_runtime::catalog::builtin_schema("conn_stats").expect("schema");
        let df = crate::protocols::rows::frame::<_, _>(schema, &[row]).expect("frame");
        let store = scry_runtime::TableStore::default();
        store
            .append("conn_stats", df)
            .expect("schema-checked append");
    }
}
