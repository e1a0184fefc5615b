//! Helpers for the root-only end-to-end capture tests.
//!
//! Each test skips (printing why) when not root or when a server binary is
//! missing — except with `CI=true`, where it fails instead. Tests in one
//! binary serialise on [`serial`]: one tracer at a time.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use polars::prelude::{DataFrame, LazyFrame};
use scry_lang::catalog::{TableSource, TimeRange};
use scry_runtime::TableStore;

static SERIAL: Mutex<()> = Mutex::new(());

/// Held for a whole capture test, across its awaits: the tracer sees every
/// process, so tests in one binary must not capture at the same time. Each
/// test has its own runtime, so holding a std lock across awaits is safe.
pub struct Serial {
    _guard: MutexGuard<'static, ()>,
}

pub fn serial() -> Serial {
    Serial {
        _guard: SERIAL.lock().unwrap_or_else(|e| e.into_inner()),
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `Some(())` when the test can run; prints the reason and returns `None`
/// to skip; panics in CI.
pub fn require(test: &str, bins: &[&str]) -> Option<()> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let reason = if !root {
        Some("not root (eBPF needs CAP_BPF and CAP_PERFMON)".to_string())
    } else {
        bins.iter()
            .find(|b| which(b).is_none())
            .map(|b| format!("{b} not installed (apt-get install it)"))
    };
    match reason {
        None => Some(()),
        Some(r) if in_ci() => panic!("{test}: cannot run with CI=true: {r}"),
        Some(r) => {
            eprintln!("skipping {test}: {r}");
            None
        }
    }
}

pub fn which(bin: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|d| std::path::Path::new(d).join(bin))
        .find(|p| p.is_file())
}

pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free TCP port")
}

pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

pub fn wait_tcp(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port} after 10s");
}

/// A child process killed on drop.
pub struct Server(pub Child);

/// A throwaway `redis-server` on a free loopback port, without persistence,
/// ready for connections: (server, port).
pub fn redis_server() -> (Server, u16) {
    let port = free_tcp_port();
    let p = port.to_string();
    let server = Server::spawn(
        "redis-server",
        &[
            "--port",
            &p,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    );
    wait_tcp(port);
    (server, port)
}

impl Server {
    pub fn spawn(bin: &str, args: &[&str]) -> Server {
        let child = Command::new(which(bin).unwrap_or_else(|| bin.into()))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        Server(child)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a client to completion and returns its stdout.
pub fn run(bin: &str, args: &[&str], stdin: Option<&[u8]>) -> String {
    use std::io::Write;
    let mut child = Command::new(which(bin).unwrap_or_else(|| bin.into()))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    if let (Some(input), Some(mut w)) = (stdin, child.stdin.take()) {
        w.write_all(input).expect("client stdin");
    }
    let out = child.wait_with_output().expect("client output");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The whole table as a DataFrame.
pub fn table(store: &TableStore, name: &str) -> DataFrame {
    let lf: LazyFrame = store
        .scan(
            name,
            TimeRange {
                start_ns: None,
                end_ns: None,
            },
        )
        .expect("scan");
    lf.collect().expect("collect")
}

/// Column values as strings, row by row.
pub fn rows(df: &DataFrame, columns: &[&str]) -> Vec<Vec<String>> {
    (0..df.height())
        .map(|i| {
            columns
                .iter()
                .map(|c| {
                    df.column(c)
                        .ok()
                        .and_then(|col| col.get(i).ok())
                        .map(|v| v.to_string().trim_matches('"').to_string())
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect()
}
