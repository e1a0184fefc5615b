//! Counters of the whole tracer — kernel (ring-buffer drops, events,
//! truncations, …), tracker (decode errors, evictions, inference) and every
//! protocol (records, parse errors, unmatched requests, …) — as
//! `scry_probe_stats` rows and as the human summary printed at the end of
//! a `--capture` run. Also the `process_stats` rows.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::conn::{ProtocolDataStats, TrackerStats};
use crate::events::KERNEL_STATS;
use crate::procfs::ProcStats;
use crate::protocols::rows::{Cell, TableRow, Value};
use crate::protocols::{Protocol, ProtocolCounters};

/// One `scry_probe_stats` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeStatRow {
    pub time_ns: i64,
    /// `kernel`, `tracker`, `store`, `limits` (the capture's bounds), or a
    /// protocol name.
    pub protocol: &'static str,
    pub counter: &'static str,
    pub value: i64,
}

impl TableRow for ProbeStatRow {
    const TABLE: &'static str = "scry_probe_stats";
    fn cell(column: &str) -> Option<Cell<Self>> {
        let cell: Cell<Self> = match column {
            "time_" => |r| Value::Time(r.time_ns),
            "protocol" => |r| Value::Str(Cow::Borrowed(r.protocol)),
            "counter" => |r| Value::Str(Cow::Borrowed(r.counter)),
            "value" => |r| Value::Int(r.value),
            _ => return None,
        };
        Some(cell)
    }
}

/// One `process_stats` row.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcStatsRow {
    pub time_ns: i64,
    pub upid: Arc<str>,
    pub stats: ProcStats,
}

impl TableRow for ProcStatsRow {
    const TABLE: &'static str = "process_stats";
    fn cell(column: &str) -> Option<Cell<Self>> {
        let cell: Cell<Self> = match column {
            "time_" => |r| Value::Time(r.time_ns),
            "upid" => |r| Value::Str(Cow::Borrowed(&r.upid)),
            "major_faults" => |r| Value::Int(r.stats.major_faults),
            "minor_faults" => |r| Value::Int(r.stats.minor_faults),
            "cpu_utime_ns" => |r| Value::Int(r.stats.cpu_utime_ns),
            "cpu_ktime_ns" => |r| Value::Int(r.stats.cpu_ktime_ns),
            "num_threads" => |r| Value::Int(r.stats.num_threads),
            "vsize_bytes" => |r| Value::Int(r.stats.vsize_bytes),
            "rss_bytes" => |r| Value::Int(r.stats.rss_bytes),
            "rchar_bytes" => |r| Value::Int(r.stats.rchar_bytes),
            "wchar_bytes" => |r| Value::Int(r.stats.wchar_bytes),
            "read_bytes" => |r| Value::Int(r.stats.read_bytes),
            "write_bytes" => |r| Value::Int(r.stats.write_bytes),
            _ => return None,
        };
        Some(cell)
    }
}

/// Counters of the store writes done by the tracer.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StoreStats {
    pub rows_written: u64,
    pub append_errors: u64,
    /// The last append error, one line.
    pub last_error: Option<String>,
}

/// Counters of one protocol at a point in time.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolSnapshot {
    pub records: u64,
    pub parse_errors: u64,
    pub bytes_skipped_resync: u64,
    pub truncated_bodies: u64,
    pub unmatched_requests: u64,
    pub unmatched_responses: u64,
    pub buffer_overflows: u64,
    pub data: ProtocolDataStats,
}

impl ProtocolSnapshot {
    pub fn of(c: &ProtocolCounters, data: ProtocolDataStats) -> ProtocolSnapshot {
        let g = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        ProtocolSnapshot {
            records: g(&c.records),
            parse_errors: g(&c.parse_errors),
            bytes_skipped_resync: g(&c.bytes_skipped_resync),
            truncated_bodies: g(&c.truncated_bodies),
            unmatched_requests: g(&c.unmatched_requests),
            unmatched_responses: g(&c.unmatched_responses),
            buffer_overflows: g(&c.buffer_overflows),
            data,
        }
    }

    fn counters(&self) -> [(&'static str, u64); 11] {
        [
            ("records", self.records),
            ("parse_errors", self.parse_errors),
            ("bytes_skipped_resync", self.bytes_skipped_resync),
            ("truncated_bodies", self.truncated_bodies),
            ("unmatched_requests", self.unmatched_requests),
            ("unmatched_responses", self.unmatched_responses),
            ("buffer_overflows", self.buffer_overflows),
            ("data_events", self.data.data_events),
            ("bytes_copied", self.data.bytes_copied),
            ("bytes_moved", self.data.bytes_moved),
            ("truncated_chunks", self.data.truncated_chunks),
        ]
    }
}

/// Everything counted during a capture; what [`crate::Tracer::stop`] returns.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CaptureSummary {
    pub duration_ms: u64,
    /// Kernel counters by name (see [`KERNEL_STATS`]).
    pub kernel: BTreeMap<&'static str, u64>,
    pub tracker: TrackerStats,
    pub protocols: BTreeMap<&'static str, ProtocolSnapshot>,
    pub store: StoreStats,
    /// Errors of the reader task (ring buffer polling), one line each.
    pub reader_errors: Vec<String>,
}

impl CaptureSummary {
    pub fn collect(
        duration_ms: u64,
        kernel: &[u64],
        tracker: TrackerStats,
        counters: &std::collections::HashMap<Protocol, Arc<ProtocolCounters>>,
        data: &std::collections::HashMap<Protocol, ProtocolDataStats>,
        store: StoreStats,
    ) -> CaptureSummary {
        let kernel = KERNEL_STATS
            .iter()
            .map(|(i, name)| (*name, kernel.get(*i as usize).copied().unwrap_or(0)))
            .collect();
        let protocols = Protocol::ALL
            .iter()
            .map(|p| {
                let snap = counters
                    .get(p)
                    .map(|c| ProtocolSnapshot::of(c, data.get(p).copied().unwrap_or_default()))
                    .unwrap_or_default();
                (p.name(), snap)
            })
            .collect();
        CaptureSummary {
            duration_ms,
            kernel,
            tracker,
            protocols,
            store,
            reader_errors: Vec::new(),
        }
    }

    pub fn ringbuf_drops(&self) -> u64 {
        self.kernel.get("ringbuf_drops").copied().unwrap_or(0)
    }

    /// Records of one protocol (`http`, `dns`, `redis`).
    pub fn records(&self, protocol: &str) -> u64 {
        self.protocols.get(protocol).map_or(0, |p| p.records)
    }

    /// The `scry_probe_stats` rows of this snapshot.
    pub fn rows(&self, time_ns: i64) -> Vec<ProbeStatRow> {
        let v = |x: u64| x.min(i64::MAX as u64) as i64;
        let mut rows = Vec::new();
        let mut push = |protocol, counter, value| {
            rows.push(ProbeStatRow {
                time_ns,
                protocol,
                counter,
                value: v(value),
            })
        };
        for (name, value) in &self.kernel {
            push("kernel", *name, *value);
        }
        let t = &self.tracker;
        for (name, value) in [
            ("events", t.events),
            ("decode_errors", t.decode_errors),
            ("open_events", t.open_events),
            ("close_events", t.close_events),
            ("data_events", t.data_events),
            ("proc_exit_events", t.proc_exit_events),
            ("conns_first_seen", t.conns_first_seen),
            ("conns_evicted", t.conns_evicted),
            ("connections_tracked", t.connections_tracked),
            ("udp_peers_evicted", t.udp_peers_evicted),
            ("processes_evicted", t.processes_evicted),
            ("conn_stats_keys_evicted", t.conn_stats_keys_evicted),
            ("infer_rejected", t.infer_rejected),
            ("infer_mismatch", t.infer_mismatch),
            ("conns_rejected", t.conns_rejected),
            ("pid_filtered", t.pid_filtered),
            ("proc_addr_lookups", t.proc_addr_lookups),
            ("proc_addr_misses", t.proc_addr_misses),
        ] {
            push("tracker", name, value);
        }
        push("store", "rows_written", self.store.rows_written);
        push("store", "append_errors", self.store.append_errors);
        for (p, s) in &self.protocols {
            for (name, value) in s.counters() {
                push(p, name, value);
            }
        }
        rows
    }
}

impl fmt::Display for CaptureSummary {
    /// The human summary printed at the end of a capture.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = |n: &str| self.kernel.get(n).copied().unwrap_or(0);
        let t = &self.tracker;
        writeln!(
            f,
            "capture: {:.1}s, {} kernel events, {} ring-buffer drops{}; reader woken early {} times",
            self.duration_ms as f64 / 1000.0,
            k("events"),
            k("ringbuf_drops"),
            if k("ringbuf_drops") > 0 {
                " (raise the ring buffer size or lower the copy cap)"
            } else {
                ""
            },
            k("forced_wakeups"),
        )?;
        writeln!(
            f,
            "connections: {} opened, {} closed, {} first seen mid-stream, {} evicted, {} not recognised; {} syscalls on unknown-protocol sockets not copied",
            t.open_events,
            t.close_events,
            t.conns_first_seen,
            t.conns_evicted,
            t.conns_rejected,
            k("unknown_protocol_skipped"),
        )?;
        for (p, s) in &self.protocols {
            if s.records == 0 && s.data.data_events == 0 && s.parse_errors == 0 {
                continue;
            }
            writeln!(
                f,
                "{p}: {} records from {} chunks ({} bytes, {} cut at the copy cap); {} parse errors, {} unmatched requests, {} unmatched responses, {} truncated bodies, {} buffer overflows",
                s.records,
                s.data.data_events,
                s.data.bytes_copied,
                s.data.truncated_chunks,
                s.parse_errors,
                s.unmatched_requests,
                s.unmatched_responses,
                s.truncated_bodies,
                s.buffer_overflows,
            )?;
        }
        write!(
            f,
            "store: {} rows written, {} append errors",
            self.store.rows_written, self.store.append_errors
        )?;
        if let Some(e) = &self.store.last_error {
            write!(f, " (last: {e})")?;
        }
        for e in &self.reader_errors {
            write!(f, "\nreader error: {e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn rows_fit_the_schema_and_summary_mentions_drops() {
        let counters: HashMap<Protocol, Arc<ProtocolCounters>> = Protocol::ALL
            .iter()
            .map(|p| (*p, Arc::new(ProtocolCounters::default())))
            .collect();
        ProtocolCounters::add(&counters[&Protocol::Redis].records, 3);
        let mut kernel = vec![0u64; 8];
        kernel[0] = 2;
        kernel[1] = 10;
        let s = CaptureSummary::collect(
            1500,
            &kernel,
            TrackerStats::default(),
            &counters,
            &HashMap::new(),
            StoreStats::default(),
        );
        assert_eq!(s.ringbuf_drops(), 2);
        assert_eq!(s.records("redis"), 3);
        let text = s.to_string();
        assert!(text.contains("2 ring-buffer drops"), "{text}");
        assert!(text.contains("redis: 3 records"), "{text}");

        let rows = s.rows(7);
        assert!(rows
            .iter()
            .any(|r| r.protocol == "kernel" && r.counter == "ringbuf_drops" && r.value == 2));
        let schema = scry_runtime::catalog::builtin_schema("scry_probe_stats").expect("schema");
        let df = crate::protocols::rows::frame::<_, _>(schema, &rows).expect("frame");
        let store = scry_runtime::TableStore::default();
        store.append("scry_probe_stats", df).expect("append");
    }

    #[test]
    fn process_stats_row_fits_the_schema() {
        let row = ProcStatsRow {
            time_ns: 1,
            upid: "0:1:2".into(),
            stats: ProcStats::default(),
        };
        let schema = scry_runtime::catalog::builtin_schema("process_stats").expect("schema");
        let df = crate::protocols::rows::frame::<_, _>(schema, &[row]).expect("frame");
        scry_runtime::TableStore::default()
            .append("process_stats", df)
            .expect("append");
    }
}
