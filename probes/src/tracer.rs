//! The running tracer: loads the probes, reads the ring buffer on the
//! current tokio runtime, feeds the [`ConnTracker`], and writes rows into
//! the [`TableStore`] — protocol records every `flush_interval` (100 ms),
//! `conn_stats`, `process_stats` and `scry_probe_stats` every
//! `stats_interval` (1 s) and once more at stop.
//!
//! The ring buffer is drained every `poll_interval` (5 ms). The kernel
//! writes events without waking the reader (one wake-up per event cost a
//! context switch per traced syscall), except when an event finds the
//! unread bytes past `wakeup_bytes` (an eighth of the ring by default;
//! large events and every 64th look); that wake-up is served at once
//! through the ring's file descriptor. So an event waits about
//! `poll_interval` at most before it is decoded (longer only when the
//! reader is starved of CPU), and none is stranded. Finished records are
//! written at each flush except the newest few milliseconds' (see
//! `Writer::flush_records`).
//!
//! ```no_run
//! # async fn f(store: std::sync::Arc<scry_runtime::TableStore>) -> Result<(), scry_probes::TracerError> {
//! let tracer = scry_probes::Tracer::start(scry_probes::TracerConfig::default(), store)?;
//! // … traffic …
//! let summary = tracer.stop().await;
//! println!("{summary}");
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aya::maps::{MapData, RingBuf};
use scry_runtime::TableStore;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::conn::{Clock, ConnTracker, TrackerConfig};
use crate::loader::{one_line, LoadConfig, LoadError, Probes};
use crate::procfs;
use crate::protocols::rows::{frame, TableRow};
use crate::protocols::Record;
use crate::stats::{CaptureSummary, ProbeStatRow, ProcStatsRow, StoreStats};

/// How far behind the newest event a record must be to be written at a
/// periodic flush (see [`Writer::flush_records`]).
const FLUSH_HOLD_NS: u64 = 5_000_000;
/// How old (by the wall clock) a record must be to be written at a
/// periodic flush even when no newer event came: traffic that stops must
/// not leave its last records unwritten.
const FLUSH_IDLE_NS: u64 = 100_000_000;

/// Which records a flush writes.
#[derive(Debug, Clone, Copy)]
enum Flush {
    /// Those older than [`FLUSH_HOLD_NS`] before the newest event, or than
    /// [`FLUSH_IDLE_NS`] before `now_ns` (wall clock).
    Periodic { now_ns: u64 },
    /// All of them (the capture is stopping).
    All,
}

/// Ring-buffer records handled per wake-up before the other duties
/// (flushes, stats, stop) get a turn.
const DRAIN_BATCH: usize = 4096;

/// Everything the tracer can be told.
#[derive(Debug, Clone)]
pub struct TracerConfig {
    /// Payload bytes copied per syscall (at most 16 KiB).
    pub data_cap: u32,
    /// Ring buffer bytes (rounded up to a power of two).
    pub ring_bytes: u32,
    /// Connections in the kernel's LRU map.
    pub max_kernel_conns: u32,
    /// How often the ring buffer is drained (the kernel does not wake the
    /// reader per event; see the module docs).
    pub poll_interval: Duration,
    /// Unread ring-buffer bytes from which the kernel wakes the reader
    /// early (0: an eighth of the ring).
    pub wakeup_bytes: u64,
    pub tracker: TrackerConfig,
    /// How often finished records are written to the store.
    pub flush_interval: Duration,
    /// How often conn_stats / process_stats / scry_probe_stats are written.
    pub stats_interval: Duration,
}

impl Default for TracerConfig {
    fn default() -> Self {
        let load = LoadConfig::default();
        TracerConfig {
            data_cap: load.data_cap,
            ring_bytes: load.ring_bytes,
            max_kernel_conns: load.max_kernel_conns,
            poll_interval: Duration::from_millis(5),
            wakeup_bytes: load.wakeup_bytes,
            tracker: TrackerConfig::default(),
            flush_interval: Duration::from_millis(100),
            stats_interval: Duration::from_secs(1),
        }
    }
}

/// Why the tracer could not start.
#[derive(Debug, thiserror::Error)]
pub enum TracerError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("Tracer::start must be called inside a tokio runtime")]
    NoRuntime,
    #[error("cannot poll the ring buffer: {0}")]
    Poll(String),
}

/// A running capture. Dropping it without [`Tracer::stop`] aborts the
/// reader task (and so detaches the probes).
pub struct Tracer {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<CaptureSummary>>,
}

impl Tracer {
    /// Loads and attaches the probes, then spawns the reader task on the
    /// current tokio runtime.
    pub fn start(config: TracerConfig, store: Arc<TableStore>) -> Result<Tracer, TracerError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| TracerError::NoRuntime)?;
        let mut probes = Probes::load(LoadConfig {
            self_tgid: std::process::id(),
            data_cap: config.data_cap,
            ring_bytes: config.ring_bytes,
            max_kernel_conns: config.max_kernel_conns,
            wakeup_bytes: config.wakeup_bytes,
        })?;
        let ring = probes
            .take_events()
            .ok_or_else(|| TracerError::Poll("ring buffer already taken".into()))?;
        let ring = {
            let _guard = handle.enter();
            // The AsyncFd owns the RingBuf, so the fd it polls lives exactly
            // as long as the registration: the I/O-safety concern behind the
            // deprecation does not arise.
            #[allow(deprecated)]
            AsyncFd::with_interest(ring, Interest::READABLE)
                .map_err(|e| TracerError::Poll(one_line(&e.to_string())))?
        };
        let tracker = ConnTracker::new(config.tracker.clone(), Clock::now());
        let (tx, rx) = oneshot::channel();
        let task = handle.spawn(run(ring, probes, tracker, store, config, rx));
        Ok(Tracer {
            stop: Some(tx),
            task: Some(task),
        })
    }

    /// Stops reading, writes what is left (records, final stats), detaches
    /// the probes and returns the counters of the capture.
    pub async fn stop(mut self) -> CaptureSummary {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => match task.await {
                Ok(summary) => summary,
                Err(e) => CaptureSummary {
                    reader_errors: vec![format!("reader task failed: {e}")],
                    ..CaptureSummary::default()
                },
            },
            None => CaptureSummary::default(),
        }
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

struct Writer {
    store: Arc<TableStore>,
    stats: StoreStats,
    /// Finished records not written yet (see [`Writer::flush_records`]).
    held: Vec<Record>,
}

impl Writer {
    fn append(&mut self, table: &'static str, df: polars::prelude::DataFrame) {
        let rows = df.height() as u64;
        match self.store.append(table, df) {
            Ok(()) => self.stats.rows_written += rows,
            Err(e) => {
                self.stats.append_errors += 1;
                self.stats.last_error = Some(one_line(&format!("{table}: {e}")));
            }
        }
    }

    fn append_rows<R: TableRow>(&mut self, rows: &[R]) {
        if rows.is_empty() {
            return;
        }
        let Some(schema) = scry_runtime::catalog::builtin_schema(R::TABLE) else {
            self.stats.append_errors += 1;
            self.stats.last_error = Some(format!("{}: no such builtin table", R::TABLE));
            return;
        };
        match frame::<R, R>(schema, rows) {
            Ok(df) => self.append(R::TABLE, df),
            Err(e) => {
                self.stats.append_errors += 1;
                self.stats.last_error = Some(one_line(&format!("{}: {e}", R::TABLE)));
            }
        }
    }

    /// Writes the finished records that `flush` selects, keeping the rest
    /// for the next flush.
    ///
    /// Why hold any back: both CPUs write the ring, each event stamped
    /// just before it is written, so ring order is time order only to
    /// within a few microseconds. A flush that ended on such an inversion
    /// would overlap the previous batch in time, and the store merges
    /// overlapping batches (vstack, then a sort of up to 16 Ki rows) at
    /// every flush. Records a few milliseconds old are safe from that.
    fn flush_records(&mut self, tracker: &mut ConnTracker, flush: Flush) {
        tracker.move_records_into(&mut self.held);
        if self.held.is_empty() {
            return;
        }
        let watermark = match flush {
            Flush::Periodic { now_ns } => tracker
                .newest_event_time_ns()
                .saturating_sub(FLUSH_HOLD_NS)
                .max(now_ns.saturating_sub(FLUSH_IDLE_NS)),
            Flush::All => u64::MAX,
        };
        let ready = |r: &Record| r.common().time_ns() <= watermark;
        let frames = crate::protocols::rows::to_frames(self.held.iter().filter(|r| ready(r)));
        self.held.retain(|r| !ready(r));
        for (table, df) in frames {
            self.append(table, df);
        }
    }
}

struct Reader {
    probes: Probes,
    tracker: ConnTracker,
    writer: Writer,
    started: Instant,
    errors: Vec<String>,
    /// The capture's bounds, written beside the counters of what they cut.
    limits: Vec<(&'static str, u64)>,
}

/// Every bound of a capture by name, as `scry_probe_stats` rows with
/// protocol "limits" show them.
fn limits_of(config: &TracerConfig) -> Vec<(&'static str, u64)> {
    let t = &config.tracker;
    let p = &t.parser_limits;
    vec![
        ("payload_bytes", u64::from(config.data_cap)),
        ("ring_buffer_bytes", u64::from(config.ring_bytes)),
        ("kernel_connections", u64::from(config.max_kernel_conns)),
        ("connections", t.max_connections as u64),
        ("udp_peers_per_socket", t.max_udp_peers as u64),
        ("processes", t.max_processes as u64),
        ("conn_stats_keys", t.max_conn_stats_keys as u64),
        ("stream_buffer_bytes", p.max_buffer_bytes as u64),
        ("body_bytes", p.max_body_bytes as u64),
        ("pending_requests", p.max_pending_requests as u64),
    ]
}

impl Reader {
    fn drain(&mut self, ring: &mut RingBuf<MapData>, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            let Some(item) = ring.next() else { break };
            self.tracker.handle_bytes(&item);
            n += 1;
        }
        n
    }

    fn summary(&self) -> CaptureSummary {
        let mut s = CaptureSummary::collect(
            self.started.elapsed().as_millis().min(u64::MAX as u128) as u64,
            &self.probes.kernel_stats(),
            self.tracker.stats(),
            self.tracker.counters(),
            &self.tracker.data_stats(),
            self.writer.stats.clone(),
        );
        s.reader_errors = self.errors.clone();
        s
    }

    fn write_stats(&mut self) {
        let t = now_ns();
        let snapshot = self.probes.kernel_conns();
        self.tracker.apply_kernel_conns(&snapshot);
        let rows = self.tracker.conn_stats_rows(t);
        self.writer.append_rows(&rows);

        let proc_root = self.tracker_proc_root();
        let ticks = procfs::clock_ticks_per_sec();
        let procs: Vec<ProcStatsRow> = self
            .tracker
            .traced_pids()
            .into_iter()
            .filter_map(|(pid, upid)| {
                procfs::proc_stats(&proc_root, pid, ticks).map(|stats| ProcStatsRow {
                    time_ns: t,
                    upid,
                    stats,
                })
            })
            .collect();
        self.writer.append_rows(&procs);

        let exited = self.tracker.take_exited();
        self.probes.forget_tgids(&exited);

        let mut rows = self.summary().rows(t);
        rows.extend(self.limits.iter().map(|(name, value)| ProbeStatRow {
            time_ns: t,
            protocol: "limits",
            counter: name,
            value: (*value).min(i64::MAX as u64) as i64,
        }));
        self.writer.append_rows(&rows);
    }

    fn tracker_proc_root(&self) -> std::path::PathBuf {
        self.tracker.proc_root().to_path_buf()
    }
}

async fn run(
    mut ring: AsyncFd<RingBuf<MapData>>,
    probes: Probes,
    tracker: ConnTracker,
    store: Arc<TableStore>,
    config: TracerConfig,
    mut stop: oneshot::Receiver<()>,
) -> CaptureSummary {
    let mut r = Reader {
        probes,
        tracker,
        writer: Writer {
            store,
            stats: StoreStats::default(),
            held: Vec::new(),
        },
        started: Instant::now(),
        errors: Vec::new(),
        limits: limits_of(&config),
    };
    let mut flush = tokio::time::interval(config.flush_interval.max(Duration::from_millis(1)));
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stats = tokio::time::interval(config.stats_interval.max(Duration::from_millis(10)));
    stats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut poll = tokio::time::interval(config.poll_interval.max(Duration::from_micros(100)));
    // A late tick is served once, not in a burst: each drains everything.
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => break,
            // Rare and short; first so that a busy ring cannot starve them.
            _ = flush.tick() => {
                let Reader { tracker, writer, .. } = &mut r;
                let now_ns = u64::try_from(now_ns()).unwrap_or(0);
                writer.flush_records(tracker, Flush::Periodic { now_ns });
            }
            _ = stats.tick() => r.write_stats(),
            // Woken by the kernel: the ring is filling up.
            guard = ring.readable_mut() => {
                match guard {
                    Ok(mut g) => {
                        let n = r.drain(g.get_inner_mut(), DRAIN_BATCH);
                        if n < DRAIN_BATCH {
                            g.clear_ready();
                        }
                    }
                    Err(e) => {
                        r.errors.push(one_line(&format!("polling the ring buffer: {e}")));
                        break;
                    }
                }
            }
            // The usual path: events written without a wake-up.
            _ = poll.tick() => {
                if r.drain(ring.get_mut(), DRAIN_BATCH) == DRAIN_BATCH {
                    // More is waiting: come back right after the other
                    // duties instead of a full interval later.
                    poll.reset_immediately();
                }
            }
        }
    }
    // Whatever the kernel wrote before stop.
    while r.drain(ring.get_mut(), DRAIN_BATCH) > 0 {}
    r.tracker.close_all();
    {
        let Reader {
            tracker, writer, ..
        } = &mut r;
        writer.flush_records(tracker, Flush::All);
    }
    r.write_stats();
    r.summary()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::tests::{data, open};
    use crate::conn::TrackerConfig;
    use crate::events::{DIR_EGRESS, DIR_INGRESS, TRANSPORT_TCP};

    const MS: u64 = 1_000_000;

    /// Kernel time 0 on the wall clock.
    const CLOCK_OFFSET_NS: u64 = 1_700_000_000_000_000_000;

    fn redis_rows(store: &TableStore) -> u64 {
        store.table_stat("redis_events").map_or(0, |t| t.rows_added)
    }

    #[test]
    fn periodic_flushes_hold_back_the_newest_records_until_newer_events_or_idle_time() {
        let cfg = TrackerConfig {
            proc_root: "/nonexistent/scry-test-proc".into(),
            ..TrackerConfig::default()
        };
        let mut tracker = ConnTracker::new(cfg, Clock::fixed(i128::from(CLOCK_OFFSET_NS)));
        let store = Arc::new(TableStore::default());
        let mut writer = Writer {
            store: store.clone(),
            stats: StoreStats::default(),
            held: Vec::new(),
        };
        tracker.handle_bytes(&open(5, 1, 6379));
        let get = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
        // Answered at 11 ms and at 30 ms.
        tracker.handle_bytes(&data(5, 1, 10 * MS, DIR_EGRESS, TRANSPORT_TCP, get));
        tracker.handle_bytes(&data(5, 1, 11 * MS, DIR_INGRESS, TRANSPORT_TCP, b"$-1\r\n"));
        tracker.handle_bytes(&data(5, 1, 29 * MS, DIR_EGRESS, TRANSPORT_TCP, get));
        tracker.handle_bytes(&data(5, 1, 30 * MS, DIR_INGRESS, TRANSPORT_TCP, b"$-1\r\n"));

        // Newest event at 30 ms: the record of 11 ms is written, the one
        // of 30 ms is within FLUSH_HOLD_NS of it and waits.
        let at = |ms: u64| Flush::Periodic {
            now_ns: CLOCK_OFFSET_NS + ms * MS,
        };
        writer.flush_records(&mut tracker, at(31));
        assert_eq!(redis_rows(&store), 1);
        assert_eq!(writer.held.len(), 1);
        writer.flush_records(&mut tracker, at(40));
        assert_eq!(redis_rows(&store), 1, "nothing newer arrived");
        // No traffic since: once it is FLUSH_IDLE_NS old, it is written.
        writer.flush_records(&mut tracker, at(131));
        assert_eq!(redis_rows(&store), 2);
        assert!(writer.held.is_empty());
        // The last flush writes everything.
        tracker.handle_bytes(&data(5, 1, 140 * MS, DIR_EGRESS, TRANSPORT_TCP, get));
        tracker.handle_bytes(&data(
            5,
            1,
            141 * MS,
            DIR_INGRESS,
            TRANSPORT_TCP,
            b"$-1\r\n",
        ));
        writer.flush_records(&mut tracker, at(141));
        assert_eq!(redis_rows(&store), 2);
        writer.flush_records(&mut tracker, Flush::All);
        assert_eq!(redis_rows(&store), 3);
        assert!(writer.held.is_empty());
        assert_eq!(writer.stats.append_errors, 0);
    }
}
