//! Tracer overhead against a real `redis-server`, measured in one run (as
//! root; otherwise it says why and exits 0):
//!
//! 1. **Throughput**: `redis-benchmark -c 50 -n N -t get,set -P 1` with the
//!    tracer off and on, interleaved (one warm-up, then off/floor/kernel/on ×
//!    rounds), so all see the same machine; requests/s of each phase and the
//!    ratio on ÷ off (target ≥ 0.95). The rows the on phases recorded are
//!    counted too (unpaced: the most the tracer is asked to keep up with).
//!    The *floor* phases attach a program that does nothing to the same
//!    tracepoints ([`scry_probes::loader::HooksFloor`]): floor ÷ off is the
//!    best any tracer on these hooks could do on this machine, and on ÷ floor
//!    what scry's own work (kernel and userspace) costs on top. The *kernel*
//!    phases load scry's own programs with a reader that drains the ring
//!    and does nothing else: kernel ÷ off is the kernel half's cost, on ÷
//!    kernel the userspace half's.
//! 2. **Tracer CPU**: this process hosts the tracer (ring-buffer reader,
//!    parsers, store writes); its user + system CPU time (`getrusage`)
//!    during each phase, per 10 k requests. The off phases give the baseline
//!    (this process idling). The in-kernel half — the BPF programs' own run
//!    time (`BPF_ENABLE_STATS`), charged to the traced processes — is
//!    measured in phase 3 only, so enabling the stats does not slow phase 1.
//! 3. **Completeness at a fixed rate**: a paced client — this binary run
//!    again as a child, because the tracer ignores its own process — sends
//!    exactly R requests/s (SET and GET alternating, each reply read before
//!    the next request on its connection) for S seconds over a few
//!    connections; `redis_events` rows recorded ÷ requests sent, on the
//!    client side and on the server side (target 100 %).
//!
//! Run: `cargo bench --workspace --profile dev --bench overhead`. The
//! workspace's dev profile builds scry's crates (and aya) at opt-level 2 with
//! debug assertions on, Polars at opt-level 1; the header says which build
//! ran.
//! Knobs (environment): `SCRY_OVERHEAD_N` (requests per test per round,
//! default 100000), `SCRY_OVERHEAD_ROUNDS` (3), `SCRY_OVERHEAD_RATE`
//! (requests/s, 10000), `SCRY_OVERHEAD_SECS` (3), `SCRY_OVERHEAD_CONNS` (4),
//! `SCRY_OVERHEAD_PIN=1`: redis-server and its clients on the first CPU, this
//! process (the tracer) on the last, in every phase. Unpinned, the load
//! saturates every CPU and the tracer's own CPU comes straight out of
//! redis's; pinned, the tracer has a CPU the load does not use (a node with
//! headroom), so on ÷ off is what the traced processes themselves lose: the
//! in-kernel half plus the cost of sharing caches and memory.
//! `SCRY_OVERHEAD_FLUSH_MS`: the tracer's flush interval (default 100).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use polars::prelude::DataFrame;
use scry_probes::loader::{HooksFloor, LoadConfig, Probes};
use scry_probes::{CaptureSummary, Tracer, TracerConfig};
use scry_runtime::TableStore;

/// Set in the child's environment: `port:rate:secs:conns`.
const CLIENT_ENV: &str = "SCRY_OVERHEAD_CLIENT";
/// Every key the paced client uses starts with this.
const KEY_PREFIX: &str = "scry:ovh:";

fn main() {
    if let Ok(spec) = std::env::var(CLIENT_ENV) {
        std::process::exit(paced_client(&spec));
    }
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test
    // --benches`) gets a note instead of a minute of load.
    if !std::env::args().any(|a| a == "--bench") {
        println!("overhead: run with `cargo bench --workspace --profile dev --bench overhead`");
        return;
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("overhead: skipped: not root (eBPF needs CAP_BPF and CAP_PERFMON)");
        return;
    }
    for bin in ["redis-server", "redis-benchmark"] {
        if common::which(bin).is_none() {
            println!(
                "overhead: skipped: {bin} not installed (apt-get install redis-server redis-tools)"
            );
            return;
        }
    }
    let cfg = Config::from_env();
    // Pinned: redis-server inherits the first CPU from this thread, then
    // this thread moves to the last CPU before the runtime's threads exist.
    if cfg.pin {
        pin_current_thread(0);
    }
    let (_server, port) = common::redis_server();
    if cfg.pin {
        pin_current_thread(cfg.cpus - 1);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    println!(
        "overhead: redis-server on 127.0.0.1:{port}; redis-benchmark -c 50 -n {} -t get,set -P 1, \
         {} rounds off/floor/kernel/on; paced {} req/s × {} s over {} connections; {} CPUs{}, load average {}; {}",
        cfg.n,
        cfg.rounds,
        cfg.rate,
        cfg.secs,
        cfg.conns,
        cfg.cpus,
        if cfg.pin {
            format!(" (pinned: redis and clients on CPU 0, the tracer on CPU {})", cfg.cpus - 1)
        } else {
            String::new()
        },
        loadavg(),
        if cfg!(debug_assertions) {
            "dev build (debug assertions; scry crates at the profile's opt-level)"
        } else {
            "optimised build"
        }
    );

    // 1 + 2: throughput and tracer CPU, off and on interleaved.
    let warmup = run_phase(&rt, port, &cfg, Mode::Off);
    println!("  warm-up (off): {:.0} req/s (discarded)", warmup.rps);
    let mut phases = Vec::new();
    for round in 1..=cfg.rounds {
        for mode in MODES {
            let ph = run_phase(&rt, port, &cfg, mode);
            println!("  round {round} {}", ph.line());
            phases.push(ph);
        }
    }

    // 3: completeness at a fixed rate (also the kernel-side cost).
    let paced = run_paced(&rt, port, &cfg);

    report(&cfg, &phases, &paced);
}

/// The phases of a round, in order.
const MODES: [Mode; 4] = [Mode::Off, Mode::Floor, Mode::Kernel, Mode::On];

/// [`Mode::Kernel`]: the probes with a reader that drains the ring every
/// 5 ms (the tracer's poll interval) and does nothing with the records.
struct KernelOnly {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl KernelOnly {
    fn start() -> KernelOnly {
        let mut probes = Probes::load(LoadConfig::default()).expect("probes load");
        let mut ring = probes.take_events().expect("the ring buffer");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let _probes = probes;
            let mut records = 0u64;
            loop {
                while let Some(item) = ring.next() {
                    std::hint::black_box(&*item);
                    records += 1;
                }
                if flag.load(Ordering::Relaxed) {
                    return records;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        KernelOnly { stop, thread }
    }

    /// Detaches the probes; returns the records drained.
    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or(0)
    }
}

struct Config {
    n: u64,
    rounds: u32,
    rate: u64,
    secs: u64,
    conns: u64,
    /// Load on the first CPU, the tracer on the last (`SCRY_OVERHEAD_PIN`).
    pin: bool,
    /// CPUs this process may use, counted before any pinning (which
    /// narrows what `available_parallelism` reports).
    cpus: usize,
}

/// The tracer's defaults; `SCRY_OVERHEAD_FLUSH_MS` overrides how often
/// records are written to the store.
fn tracer_config() -> TracerConfig {
    let mut config = TracerConfig::default();
    if let Some(ms) = std::env::var("SCRY_OVERHEAD_FLUSH_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|ms| *ms > 0)
    {
        config.flush_interval = Duration::from_millis(ms);
    }
    config
}

/// Restricts the calling thread (and what it spawns from now on) to `cpu`.
/// Only a system call: safe between fork and exec.
fn set_affinity(cpu: usize) -> std::io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set; CPU_SET writes
    // inside it, and sched_setaffinity only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn pin_current_thread(cpu: usize) {
    if let Err(e) = set_affinity(cpu) {
        panic!("cannot pin to CPU {cpu}: {e}");
    }
}

/// A client of the load (redis-benchmark, the paced client): on the first
/// CPU when pinned, with redis-server.
fn load_command(program: impl AsRef<std::ffi::OsStr>, pin: bool) -> Command {
    let mut cmd = Command::new(program);
    if pin {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs in the child between fork and exec and
        // only makes the async-signal-safe sched_setaffinity system call.
        unsafe {
            cmd.pre_exec(|| set_affinity(0));
        }
    }
    cmd
}

impl Config {
    fn from_env() -> Config {
        let get = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|v| *v > 0)
                .unwrap_or(default)
        };
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config {
            n: get("SCRY_OVERHEAD_N", 100_000),
            rounds: get("SCRY_OVERHEAD_ROUNDS", 3).min(20) as u32,
            rate: get("SCRY_OVERHEAD_RATE", 10_000),
            secs: get("SCRY_OVERHEAD_SECS", 3),
            conns: get("SCRY_OVERHEAD_CONNS", 4),
            pin: std::env::var("SCRY_OVERHEAD_PIN").is_ok_and(|v| v == "1") && cpus >= 2,
            cpus,
        }
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

/// User + system CPU time of this process (all threads), in ns.
fn cpu_ns() -> u64 {
    // SAFETY: an all-zero rusage is valid; getrusage only writes into it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: ru is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0;
    }
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// One redis-benchmark run: requests/s of SET and GET.
struct BenchRun {
    set_rps: f64,
    get_rps: f64,
}

fn redis_benchmark(port: u16, n: u64, pin: bool) -> BenchRun {
    let out = load_command(
        common::which("redis-benchmark").unwrap_or_else(|| "redis-benchmark".into()),
        pin,
    )
    .args([
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-c",
        "50",
        "-n",
        &n.to_string(),
        "-t",
        "get,set",
        "-P",
        "1",
        "--csv",
        "-q",
    ])
    .stdin(Stdio::null())
    .stderr(Stdio::inherit())
    .output()
    .expect("redis-benchmark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    // "test","rps",…  then  "SET","48520.13",…
    let rps = |test: &str| {
        text.lines()
            .map(|l| {
                l.split(',')
                    .map(|f| f.trim_matches('"'))
                    .collect::<Vec<_>>()
            })
            .find(|f| f.first() == Some(&test))
            .and_then(|f| f.get(1).and_then(|v| v.parse::<f64>().ok()))
            .unwrap_or_else(|| panic!("no {test} line in redis-benchmark output:\n{text}"))
    };
    BenchRun {
        set_rps: rps("SET"),
        get_rps: rps("GET"),
    }
}

/// What a phase runs beside the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing.
    Off,
    /// A no-op program on every tracepoint the tracer uses.
    Floor,
    /// scry's kernel programs and ring buffer, drained by a reader that
    /// only counts the records: the kernel half of the tracer.
    Kernel,
    /// The tracer.
    On,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Floor => "floor",
            Mode::Kernel => "kernel",
            Mode::On => "on",
        }
    }
}

/// What one phase measured.
struct Phase {
    mode: Mode,
    /// Requests of both tests ÷ the time both took (from the per-test rates).
    rps: f64,
    set_rps: f64,
    get_rps: f64,
    requests: u64,
    cpu_ns: u64,
    /// On phases: rows recorded on the client / server side, and the capture counters.
    client_rows: u64,
    server_rows: u64,
    summary: Option<CaptureSummary>,
    /// Kernel phases: ring-buffer records the counting reader drained.
    drained: u64,
}

impl Phase {
    fn cpu_per_10k_ms(&self) -> f64 {
        self.cpu_ns as f64 / 1e6 / (self.requests as f64 / 10_000.0)
    }

    fn line(&self) -> String {
        let mut s = format!(
            "{:<5} {:>9.0} req/s (SET {:.0}, GET {:.0}); this process {:.2} ms CPU per 10k req",
            self.mode.name(),
            self.rps,
            self.set_rps,
            self.get_rps,
            self.cpu_per_10k_ms(),
        );
        if self.mode == Mode::Kernel {
            s.push_str(&format!("; {} ring records drained", self.drained));
        }
        if let Some(sum) = &self.summary {
            s.push_str(&format!(
                "; rows client {} / server {} of {} req; ring-buffer drops {}; reader woken early {} times",
                self.client_rows,
                self.server_rows,
                self.requests,
                sum.ringbuf_drops(),
                sum.kernel.get("forced_wakeups").copied().unwrap_or(0),
            ));
        }
        s
    }
}

fn run_phase(rt: &tokio::runtime::Runtime, port: u16, cfg: &Config, mode: Mode) -> Phase {
    let n = cfg.n;
    let on = mode == Mode::On;
    let store = Arc::new(TableStore::default());
    let tracer = on.then(|| {
        let _guard = rt.enter();
        Tracer::start(tracer_config(), store.clone()).expect("tracer starts")
    });
    let floor = (mode == Mode::Floor).then(|| HooksFloor::attach().expect("no-op programs attach"));
    let kernel = (mode == Mode::Kernel).then(KernelOnly::start);
    // Let the probes attach and the reader settle before measuring.
    std::thread::sleep(Duration::from_millis(200));
    let cpu0 = cpu_ns();
    let run = redis_benchmark(port, n, cfg.pin);
    // The reader drains what is left in the ring buffer.
    std::thread::sleep(Duration::from_millis(300));
    let cpu = cpu_ns().saturating_sub(cpu0);
    let summary = tracer.map(|t| rt.block_on(t.stop()));
    drop(floor);
    let drained = kernel.map_or(0, KernelOnly::stop);
    let requests = 2 * n;
    let rps = requests as f64 / (n as f64 / run.set_rps + n as f64 / run.get_rps);
    let (client_rows, server_rows) = if on {
        let df = common::table(&store, "redis_events");
        count_rows(&df, port, None)
    } else {
        (0, 0)
    };
    Phase {
        mode,
        rps,
        set_rps: run.set_rps,
        get_rps: run.get_rps,
        requests,
        cpu_ns: cpu,
        client_rows,
        server_rows,
        summary,
        drained,
    }
}

/// `redis_events` rows of connections to `port`: (client side, server side).
/// With `key_prefix`, only rows whose arguments contain it.
fn count_rows(df: &DataFrame, port: u16, key_prefix: Option<&str>) -> (u64, u64) {
    let int = |name: &str| -> Vec<i64> {
        df.column(name)
            .ok()
            .and_then(|c| c.i64().ok())
            .map(|c| c.iter().map(|v| v.unwrap_or(0)).collect())
            .unwrap_or_default()
    };
    let roles = int("trace_role");
    let remote = int("remote_port");
    let local = int("local_port");
    let args: Vec<bool> = match key_prefix {
        None => vec![true; df.height()],
        Some(prefix) => df
            .column("req_args")
            .ok()
            .and_then(|c| c.str().ok())
            .map(|c| {
                c.iter()
                    .map(|v| v.is_some_and(|s| s.contains(prefix)))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let port = i64::from(port);
    let (mut client, mut server) = (0, 0);
    for i in 0..df.height() {
        if !args.get(i).copied().unwrap_or(false) {
            continue;
        }
        match (roles.get(i), remote.get(i), local.get(i)) {
            (Some(1), Some(r), _) if *r == port => client += 1,
            (Some(2), _, Some(l)) if *l == port => server += 1,
            _ => {}
        }
    }
    (client, server)
}

/// What the fixed-rate phase measured.
struct Paced {
    sent: u64,
    ok: u64,
    elapsed: Duration,
    max_lag: Duration,
    client_rows: u64,
    server_rows: u64,
    cpu_ns: u64,
    /// (run time, runs) of the BPF programs, if the kernel reported them.
    bpf: Option<(Duration, u64)>,
    summary: CaptureSummary,
}

fn scry_programs() -> Vec<(u32, Duration, u64)> {
    aya::programs::loaded_programs()
        .filter_map(Result::ok)
        .filter(|p| p.name_as_str().is_some_and(|n| n.starts_with("scry_")))
        .map(|p| (p.id(), p.run_time(), p.run_count()))
        .collect()
}

fn run_paced(rt: &tokio::runtime::Runtime, port: u16, cfg: &Config) -> Paced {
    let before: HashSet<u32> = scry_programs().into_iter().map(|(id, ..)| id).collect();
    let stats_fd = aya::sys::enable_stats(aya::sys::Stats::RunTime).ok();
    let store = Arc::new(TableStore::default());
    let tracer = {
        let _guard = rt.enter();
        Tracer::start(tracer_config(), store.clone()).expect("tracer starts")
    };
    std::thread::sleep(Duration::from_millis(200));
    let cpu0 = cpu_ns();
    let exe = std::env::current_exe().expect("own executable");
    let out = load_command(exe, cfg.pin)
        .env(
            CLIENT_ENV,
            format!("{port}:{}:{}:{}", cfg.rate, cfg.secs, cfg.conns),
        )
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("paced client runs");
    std::thread::sleep(Duration::from_millis(300));
    let cpu = cpu_ns().saturating_sub(cpu0);
    let bpf = stats_fd.as_ref().map(|_| {
        scry_programs()
            .into_iter()
            .filter(|(id, ..)| !before.contains(id))
            .fold((Duration::ZERO, 0), |(t, n), (_, rt, rn)| (t + rt, n + rn))
    });
    let summary = rt.block_on(tracer.stop());
    drop(stats_fd);

    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> u64 {
        text.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("paced client did not report {name}: {text}"))
    };
    let df = common::table(&store, "redis_events");
    let (client_rows, server_rows) = count_rows(&df, port, Some(KEY_PREFIX));
    Paced {
        sent: field("sent"),
        ok: field("ok"),
        elapsed: Duration::from_micros(field("elapsed_us")),
        max_lag: Duration::from_micros(field("max_lag_us")),
        client_rows,
        server_rows,
        cpu_ns: cpu,
        bpf,
        summary,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "BELOW TARGET"
    }
}

fn report(cfg: &Config, phases: &[Phase], paced: &Paced) {
    let of = |mode: Mode| phases.iter().filter(move |p| p.mode == mode);
    let mean = |mode: Mode, f: &dyn Fn(&Phase) -> f64| {
        let v: Vec<f64> = of(mode).map(f).collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let off_rps = mean(Mode::Off, &|p| p.rps);
    let floor_rps = mean(Mode::Floor, &|p| p.rps);
    let kernel_rps = mean(Mode::Kernel, &|p| p.rps);
    let on_rps = mean(Mode::On, &|p| p.rps);
    let off_med = median(of(Mode::Off).map(|p| p.rps).collect());
    let floor_med = median(of(Mode::Floor).map(|p| p.rps).collect());
    let kernel_med = median(of(Mode::Kernel).map(|p| p.rps).collect());
    let on_med = median(of(Mode::On).map(|p| p.rps).collect());
    let ratio = on_rps / off_rps;
    // Round by round: each phase against the off phase of its round.
    let per_round = |mode: Mode| -> String {
        phases
            .chunks(MODES.len())
            .filter_map(|c| {
                let off = c.iter().find(|p| p.mode == Mode::Off)?;
                let other = c.iter().find(|p| p.mode == mode)?;
                Some(format!("{:.3}", other.rps / off.rps))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let cpu_off = mean(Mode::Off, &|p| p.cpu_per_10k_ms());
    let cpu_on = mean(Mode::On, &|p| p.cpu_per_10k_ms());
    let rows_client: u64 = of(Mode::On).map(|p| p.client_rows).sum();
    let rows_server: u64 = of(Mode::On).map(|p| p.server_rows).sum();
    let req_on: u64 = of(Mode::On).map(|p| p.requests).sum();
    let drops_on: u64 = of(Mode::On)
        .filter_map(|p| p.summary.as_ref())
        .map(CaptureSummary::ringbuf_drops)
        .sum();

    let pct = |a: u64, b: u64| 100.0 * a as f64 / b.max(1) as f64;
    println!();
    println!(
        "tracer overhead (redis-server + redis-benchmark -c 50 -P 1, N = {} per test, {} rounds)",
        cfg.n, cfg.rounds
    );
    println!(
        "  {:<44} {:>14} {:>14} {:>10}  target",
        "", "tracer off", "tracer on", "on/off"
    );
    println!(
        "  {:<44} {:>14.0} {:>14.0} {:>10.3}  ≥ 0.95 {}",
        "throughput, mean req/s",
        off_rps,
        on_rps,
        ratio,
        verdict(ratio >= 0.95)
    );
    println!(
        "  {:<44} {:>14.0} {:>14.0} {:>10.3}",
        "throughput, median req/s",
        off_med,
        on_med,
        on_med / off_med
    );
    println!(
        "  {:<44} {:>14} {:>14} {:>10}",
        "per-round on/off ratios",
        "",
        "",
        per_round(Mode::On)
    );
    println!(
        "  {:<44} {:>14.0} {:>14.0} {:>10.3}  (the best these hooks allow)",
        "no-op programs on the same hooks, mean req/s",
        off_rps,
        floor_rps,
        floor_rps / off_rps
    );
    println!(
        "  {:<44} {:>14.0} {:>14.0} {:>10.3}",
        "no-op programs, median req/s",
        off_med,
        floor_med,
        floor_med / off_med
    );
    println!(
        "  {:<44} {:>14} {:>14} {:>10}",
        "per-round floor/off ratios",
        "",
        "",
        per_round(Mode::Floor)
    );
    println!(
        "  {:<44} {:>14.0} {:>14.0} {:>10.3}  (scry's own work on top of the hooks)",
        "tracer ÷ no-op programs, mean req/s",
        floor_rps,
        on_rps,
        on_rps / floor_rps.max(1e-9)
    );
    println!(
        "  {:<44} {:>14.0} {:>14.0} {:>10.3}  (kernel half: programs + ring buffer)",
        "kernel only (records drained, unread), mean",
        off_rps,
        kernel_rps,
        kernel_rps / off_rps
    );
    println!(
        "  {:<44} {:>14.0} {:>14.0} {:>10.3}",
        "kernel only, median req/s",
        off_med,
        kernel_med,
        kernel_med / off_med
    );
    println!(
        "  {:<44} {:>14} {:>14} {:>10}",
        "per-round kernel/off ratios",
        "",
        "",
        per_round(Mode::Kernel)
    );
    println!(
        "  {:<44} {:>14.0} {:>14.0} {:>10.3}  (userspace half: decode, parse, rows)",
        "tracer ÷ kernel only, mean req/s",
        kernel_rps,
        on_rps,
        on_rps / kernel_rps.max(1e-9)
    );
    println!(
        "  {:<44} {:>14.2} {:>14.2} {:>10}",
        "this process's CPU, ms per 10k requests",
        cpu_off,
        cpu_on,
        format!("+{:.2}", cpu_on - cpu_off)
    );
    println!(
        "  {:<44} {:>14} {:>13.1}% {:>10}",
        "rows recorded ÷ requests, client side",
        "",
        pct(rows_client, req_on),
        ""
    );
    println!(
        "  {:<44} {:>14} {:>13.1}% {:>10}",
        "rows recorded ÷ requests, server side",
        "",
        pct(rows_server, req_on),
        ""
    );
    println!(
        "  {:<44} {:>14} {:>14}",
        "ring-buffer drops (on phases)", "", drops_on
    );

    let s = &paced.summary;
    let achieved = paced.sent as f64 / paced.elapsed.as_secs_f64().max(1e-9);
    let c_pct = pct(paced.client_rows, paced.sent);
    let s_pct = pct(paced.server_rows, paced.sent);
    println!();
    println!(
        "capture completeness at a fixed rate ({} req/s asked, {:.0} req/s achieved, {} s, {} connections, max pacing lag {:.2} ms)",
        cfg.rate,
        achieved,
        cfg.secs,
        cfg.conns,
        paced.max_lag.as_secs_f64() * 1e3
    );
    println!(
        "  {:<44} {:>14} {:>14} {:>10}  target",
        "", "rows", "requests", "ratio"
    );
    println!(
        "  {:<44} {:>14} {:>14} {:>9.2}%  100% {}",
        "redis_events rows, client side (paced client)",
        paced.client_rows,
        paced.sent,
        c_pct,
        verdict(paced.client_rows == paced.sent)
    );
    println!(
        "  {:<44} {:>14} {:>14} {:>9.2}%  100% {}",
        "redis_events rows, server side (redis-server)",
        paced.server_rows,
        paced.sent,
        s_pct,
        verdict(paced.server_rows == paced.sent)
    );
    println!(
        "  {:<44} {:>14} {:>14}",
        "replies read by the client / errors",
        paced.ok,
        paced.sent - paced.ok.min(paced.sent)
    );
    println!(
        "  {:<44} {:>14.2}",
        "this process's CPU, ms per 10k requests",
        paced.cpu_ns as f64 / 1e6 / (paced.sent.max(1) as f64 / 10_000.0)
    );
    match paced.bpf {
        Some((t, runs)) if runs > 0 => println!(
            "  {:<44} {:>14.2}   ({} program runs, {:.0} ns each)",
            "BPF programs' CPU, ms per 10k requests",
            t.as_secs_f64() * 1e3 / (paced.sent.max(1) as f64 / 10_000.0),
            runs,
            t.as_nanos() as f64 / runs as f64
        ),
        _ => println!("  {:<44} {:>14}", "BPF programs' CPU", "n/a (no BPF stats)"),
    }
    println!("  {:<44} {:>14}", "ring-buffer drops", s.ringbuf_drops());
    println!(
        "  {:<44} {:>14}",
        "redis records (tracer's own count)",
        s.records("redis")
    );
    println!("  capture summary of the fixed-rate phase:");
    for line in s.to_string().lines() {
        println!("    {line}");
    }
}

// ---------------------------------------------------------------------
// The paced client (child process).

/// Runs the paced client described by `spec` (`port:rate:secs:conns`),
/// prints `sent=… ok=… elapsed_us=… max_lag_us=…`, returns the exit code.
fn paced_client(spec: &str) -> i32 {
    let parts: Vec<u64> = spec.split(':').filter_map(|p| p.parse().ok()).collect();
    let [port, rate, secs, conns] = parts[..] else {
        eprintln!("{CLIENT_ENV}: want port:rate:secs:conns, got {spec:?}");
        return 2;
    };
    let (Ok(port), true, true) = (u16::try_from(port), rate > 0, conns > 0) else {
        eprintln!("{CLIENT_ENV}: bad values in {spec:?}");
        return 2;
    };
    let total = rate * secs;
    let interval = Duration::from_secs_f64(conns as f64 / rate as f64);
    // Connect everyone first; start together.
    let streams: Vec<TcpStream> = (0..conns)
        .map(|_| {
            let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to redis");
            s.set_nodelay(true).expect("TCP_NODELAY");
            s
        })
        .collect();
    let start = Instant::now() + Duration::from_millis(50);
    let handles: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(t, stream)| {
            let t = t as u64;
            // Connection t sends requests t, t + conns, t + 2·conns, …
            let n = total / conns + u64::from(t < total % conns);
            let offset = interval.mul_f64(t as f64 / conns as f64);
            std::thread::spawn(move || paced_connection(stream, t, n, start + offset, interval))
        })
        .collect();
    let (mut sent, mut ok, mut max_lag) = (0u64, 0u64, Duration::ZERO);
    for h in handles {
        match h.join() {
            Ok((s, o, lag)) => {
                sent += s;
                ok += o;
                max_lag = max_lag.max(lag);
            }
            Err(_) => eprintln!("a paced connection panicked"),
        }
    }
    let elapsed = start.elapsed();
    println!(
        "sent={sent} ok={ok} elapsed_us={} max_lag_us={}",
        elapsed.as_micros(),
        max_lag.as_micros()
    );
    0
}

/// Sends `n` requests on one connection, one every `interval` from
/// `start`; returns (sent, good replies, worst lag behind schedule).
fn paced_connection(
    stream: TcpStream,
    conn: u64,
    n: u64,
    start: Instant,
    interval: Duration,
) -> (u64, u64, Duration) {
    // One fd for both directions: the tracer keys connections by
    // (process, fd), so a `try_clone`d (dup'ed) writer would look like a
    // second connection carrying only requests.
    let mut reader = BufReader::new(&stream);
    let value = "v".repeat(16);
    let (mut sent, mut ok, mut lag) = (0, 0, Duration::ZERO);
    let mut line = Vec::new();
    for i in 0..n {
        let due = start + interval.mul_f64(i as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else {
            lag = lag.max(now - due);
        }
        let key = format!("{KEY_PREFIX}{conn}:{}", i % 100);
        let (req, want) = if i % 2 == 0 {
            (
                format!(
                    "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
                    key.len(),
                    value.len()
                ),
                b'+',
            )
        } else {
            (
                format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()),
                b'$',
            )
        };
        if (&stream).write_all(req.as_bytes()).is_err() {
            break;
        }
        sent += 1;
        match read_reply(&mut reader, &mut line) {
            Some(kind) if kind == want => ok += 1,
            Some(_) => {}
            None => break,
        }
    }
    (sent, ok, lag)
}

/// Reads one RESP reply (simple string, error, integer or bulk string);
/// returns its type byte.
fn read_reply(r: &mut BufReader<&TcpStream>, line: &mut Vec<u8>) -> Option<u8> {
    line.clear();
    r.read_until(b'\n', line).ok().filter(|n| *n > 0)?;
    let kind = *line.first()?;
    if kind == b'$' {
        let len: i64 = std::str::from_utf8(&line[1..]).ok()?.trim().parse().ok()?;
        if len >= 0 {
            let mut body = vec![0; usize::try_from(len).ok()? + 2];
            r.read_exact(&mut body).ok()?;
        }
    }
    Some(kind)
}
