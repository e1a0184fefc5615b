//! The tracer's userspace path without the kernel: ring-buffer records as
//! the probes write them for `redis-benchmark -c 50 -P 1` traffic (SET and
//! GET alternating, both the client's and the server's side of every
//! request) fed through [`ConnTracker`], records turned into frames and
//! appended to a [`TableStore`] every 4096 events, as the tracer does.
//!
//! Deterministic and root-free, so a change to the hot path can be measured
//! in seconds instead of through the noisy `overhead` bench. Each stage is
//! timed on its own, alternating, median of the rounds:
//!
//! - `decode`: decoding the records only (the least any reader does) — the
//!   baseline the others are given as a ratio of;
//! - `tracker`: decode + connection tracking + parse + stitch, records dropped;
//! - `full`: the above + frames in Pixie's schema + store appends.
//!
//! Run: `cargo bench --workspace --profile dev --bench pipeline`
//! (`SCRY_PIPELINE_REQUESTS`, default 200000; `SCRY_PIPELINE_ROUNDS`, 5).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use scry_probes::conn::{Clock, ConnTracker, TrackerConfig};
use scry_probes::events::{
    struct_bytes, RawAddr, RawDataHeader, RawHeader, RawOpenEvent, DIR_EGRESS, DIR_INGRESS,
    EV_DATA, EV_OPEN, OPEN_ACCEPT, OPEN_CONNECT, PROTO_REDIS, ROLE_CLIENT, ROLE_SERVER,
    TRANSPORT_TCP,
};
use scry_probes::protocols::rows::to_frames;
use scry_runtime::TableStore;

const CLIENT_TGID: u32 = 3_000_001;
const SERVER_TGID: u32 = 3_000_002;
const CONNECTIONS: u32 = 50;
const SERVER_PORT: u16 = 6379;
/// Events handled between two flushes (the tracer's drain batch).
const FLUSH_EVERY: usize = 4096;

fn header(kind: u32, tgid: u32, fd: i32, generation: u64, ts: u64) -> RawHeader {
    RawHeader {
        kind,
        tgid,
        tid: tgid,
        fd,
        generation,
        timestamp_ns: ts,
        proc_start_ns: 1_000_000_000,
    }
}

fn localhost(port: u16) -> RawAddr {
    RawAddr::from_ip("127.0.0.1".parse().expect("literal address"), port)
}

fn comm(name: &[u8]) -> [u8; 16] {
    let mut c = [0u8; 16];
    c[..name.len()].copy_from_slice(name);
    c
}

fn data(h: RawHeader, direction: u8, role: u8, bytes: &[u8]) -> Vec<u8> {
    let mut b = struct_bytes(&RawDataHeader {
        hdr: h,
        original_len: bytes.len() as u64,
        data_len: bytes.len() as u32,
        direction,
        protocol: PROTO_REDIS,
        role,
        transport: TRANSPORT_TCP,
        ..RawDataHeader::default()
    });
    b.extend_from_slice(bytes);
    b
}

/// The records of `requests` requests over [`CONNECTIONS`] connections.
fn workload(requests: u64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for c in 0..CONNECTIONS {
        let client_port = 40_000 + c as u16;
        // (tgid, fd, generation, remote port, local port, role, how, comm)
        let ends = [
            (
                CLIENT_TGID,
                10,
                1,
                SERVER_PORT,
                client_port,
                ROLE_CLIENT,
                OPEN_CONNECT,
                &b"redis-benchmark"[..],
            ),
            (
                SERVER_TGID,
                100,
                1001,
                client_port,
                SERVER_PORT,
                ROLE_SERVER,
                OPEN_ACCEPT,
                &b"redis-server"[..],
            ),
        ];
        for (tgid, fd, generation, remote, local, role, source, name) in ends {
            out.push(struct_bytes(&RawOpenEvent {
                hdr: header(EV_OPEN, tgid, fd + c as i32, generation + u64::from(c), 1),
                remote: localhost(remote),
                local: localhost(local),
                role,
                transport: TRANSPORT_TCP,
                source,
                comm: comm(name),
                ..RawOpenEvent::default()
            }));
        }
    }
    let set: &[u8] = b"*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n";
    let get: &[u8] = b"*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n";
    let mut ts = 1_000_000u64;
    for i in 0..requests {
        let c = (i % u64::from(CONNECTIONS)) as u32;
        let (req, resp): (&[u8], &[u8]) = if (i / 10_000) % 2 == 0 {
            (set, b"+OK\r\n")
        } else {
            (get, b"$3\r\nVXK\r\n")
        };
        let (cfd, cgen) = (10 + c as i32, 1 + u64::from(c));
        let (sfd, sgen) = (100 + c as i32, 1001 + u64::from(c));
        let mut next = |tgid, fd, generation| {
            ts += 5_000;
            header(EV_DATA, tgid, fd, generation, ts)
        };
        // The request leaves the client and reaches the server; the
        // response leaves the server and reaches the client.
        let hops = [
            (CLIENT_TGID, cfd, cgen, DIR_EGRESS, ROLE_CLIENT, req),
            (SERVER_TGID, sfd, sgen, DIR_INGRESS, ROLE_SERVER, req),
            (SERVER_TGID, sfd, sgen, DIR_EGRESS, ROLE_SERVER, resp),
            (CLIENT_TGID, cfd, cgen, DIR_INGRESS, ROLE_CLIENT, resp),
        ];
        for (tgid, fd, generation, direction, role, bytes) in hops {
            out.push(data(next(tgid, fd, generation), direction, role, bytes));
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Decode,
    Tracker,
    Full,
}

fn tracker() -> ConnTracker {
    // A /proc without these pids: processes are named from their comm and
    // no time goes to /proc lookups that a long capture would not repeat.
    let cfg = TrackerConfig {
        proc_root: PathBuf::from("/nonexistent/scry-bench-proc"),
        ..TrackerConfig::default()
    };
    ConnTracker::new(cfg, Clock::fixed(1_700_000_000_000_000_000))
}

/// Runs one stage over all records; returns its time and the rows made.
fn run(stage: Stage, records: &[Vec<u8>]) -> (Duration, usize) {
    let mut t = tracker();
    let store = TableStore::default();
    let mut rows = 0;
    // Reused across flushes, as the tracer's writer does.
    let mut ready = Vec::new();
    let start = Instant::now();
    for batch in records.chunks(FLUSH_EVERY) {
        match stage {
            Stage::Decode => {
                for r in batch {
                    let _ = black_box(scry_probes::events::decode(black_box(r)));
                }
            }
            Stage::Tracker => {
                for r in batch {
                    t.handle_bytes(r);
                }
                t.move_records_into(&mut ready);
                rows += black_box(&mut ready).len();
                ready.clear();
            }
            Stage::Full => {
                for r in batch {
                    t.handle_bytes(r);
                }
                t.move_records_into(&mut ready);
                for (table, df) in to_frames(&ready) {
                    rows += df.height();
                    store.append(table, df).expect("append to a builtin table");
                }
                ready.clear();
            }
        }
    }
    (start.elapsed(), rows)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("pipeline: run with `cargo bench --workspace --profile dev --bench pipeline`");
        return;
    }
    let requests = env_u64("SCRY_PIPELINE_REQUESTS", 200_000).max(1);
    let rounds = env_u64("SCRY_PIPELINE_ROUNDS", 5).max(1);
    let records = workload(requests);
    let bytes: usize = records.iter().map(Vec::len).sum();
    println!(
        "pipeline: {requests} redis requests, both sides traced: {} ring records, {:.1} MB; \
         {rounds} rounds, stages alternating",
        records.len(),
        bytes as f64 / 1e6
    );
    let stages = [Stage::Decode, Stage::Tracker, Stage::Full];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); stages.len()];
    let mut rows = vec![0; stages.len()];
    // One warm-up of the full path (allocator, store), discarded.
    run(Stage::Full, &records);
    for _ in 0..rounds {
        for (i, s) in stages.iter().enumerate() {
            let (d, n) = run(*s, &records);
            times[i].push(d);
            rows[i] = n;
        }
    }
    let base = median(times[0].clone());
    println!(
        "  {:<10} {:>12} {:>14} {:>16} {:>10} {:>9}",
        "stage", "median", "ns/record", "ms per 10k req", "rows", "÷ decode"
    );
    for (i, name) in ["decode", "tracker", "full"].iter().enumerate() {
        let m = median(times[i].clone());
        println!(
            "  {:<10} {:>9.1} ms {:>14.1} {:>16.2} {:>10} {:>8.1}×",
            name,
            m.as_secs_f64() * 1e3,
            m.as_nanos() as f64 / records.len() as f64,
            m.as_secs_f64() * 1e3 * 10_000.0 / requests as f64,
            rows[i],
            m.as_secs_f64() / base.as_secs_f64()
        );
    }
    let expected = 2 * requests as usize;
    if rows[2] != expected {
        println!("  WARNING: {} rows for {expected} expected", rows[2]);
    }
}
