//! End to end, as root: a real nginx (one process, temporary config and
//! document root, `sendfile off` so response bodies go through `writev`)
//! and real `curl` requests, traced. Checks the `http_events` rows of both
//! ends: method, path, status, request and response bodies, latency, ports,
//! and that two requests over one keep-alive connection share it.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use scry_probes::{Tracer, TracerConfig};
use scry_runtime::TableStore;

const COLUMNS: &[&str] = &[
    "req_method",
    "req_path",
    "resp_status",
    "req_body",
    "req_body_size",
    "resp_body",
    "resp_body_size",
    "remote_addr",
    "remote_port",
    "local_port",
    "trace_role",
    "latency",
    "upid",
    "resp_message",
];
const METHOD: usize = 0;
const PATH: usize = 1;
const STATUS: usize = 2;
const REQ_BODY: usize = 3;
const REQ_BODY_SIZE: usize = 4;
const RESP_BODY: usize = 5;
const RESP_BODY_SIZE: usize = 6;
const REMOTE_ADDR: usize = 7;
const REMOTE_PORT: usize = 8;
const LOCAL_PORT: usize = 9;
const TRACE_ROLE: usize = 10;
const LATENCY: usize = 11;
const UPID: usize = 12;
const RESP_MESSAGE: usize = 13;

const INDEX: &str = "hello from scry\n";

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("scry-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("www")).expect("temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// nginx on 127.0.0.1:`port`, in the foreground, one process; killed on
/// drop (the `Server` is declared after the `TempDir`, so it goes first).
fn nginx(dir: &TempDir, port: u16) -> common::Server {
    let d = dir.path().display();
    std::fs::write(dir.path().join("www/index.html"), INDEX).expect("index file");
    let conf = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile off;
    keepalive_timeout 10s;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    default_type text/plain;
    server {{
        listen 127.0.0.1:{port};
        root {d}/www;
        location /echo {{
            client_body_buffer_size 16k;
            return 200 "ok\n";
        }}
    }}
}}
"#
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).expect("nginx.conf");
    let conf_arg = conf_path.display().to_string();
    let prefix = format!("{d}/");
    let server = common::Server::spawn("nginx", &["-c", &conf_arg, "-p", &prefix]);
    common::wait_tcp(port);
    server
}

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

/// The row of `role` (1 client, 2 server) for `method path`, if any.
fn row<'a>(rows: &'a [Vec<String>], role: &str, method: &str, path: &str) -> Option<&'a [String]> {
    rows.iter()
        .find(|r| r[TRACE_ROLE] == role && r[METHOD] == method && r[PATH] == path)
        .map(Vec::as_slice)
}

/// Both rows of one exchange: curl's (client) and nginx's (server).
fn pair<'a>(
    rows: &'a [Vec<String>],
    port: u16,
    method: &str,
    path: &str,
    status: u16,
) -> (&'a [String], &'a [String]) {
    let client =
        row(rows, "1", method, path).unwrap_or_else(|| panic!("no client row for {method} {path}"));
    let server =
        row(rows, "2", method, path).unwrap_or_else(|| panic!("no server row for {method} {path}"));
    for r in [client, server] {
        assert_eq!(r[STATUS], status.to_string(), "status of {method} {path}");
        assert_eq!(r[REMOTE_ADDR], "127.0.0.1");
        let latency: i64 = r[LATENCY].parse().expect("latency is a number");
        assert!(latency > 0, "latency {latency} of {method} {path}: {r:?}");
        assert!(
            latency < 5_000_000_000,
            "latency {latency} of {method} {path}"
        );
    }
    // curl talks to nginx's port; nginx sees curl's ephemeral port.
    assert_eq!(client[REMOTE_PORT], port.to_string(), "{client:?}");
    assert_eq!(server[LOCAL_PORT], port.to_string(), "{server:?}");
    assert_eq!(server[REMOTE_PORT], client[LOCAL_PORT], "one connection");
    assert_ne!(client[LOCAL_PORT], "0");
    assert_ne!(client[UPID], server[UPID], "two processes");
    (client, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_http_exchanges() {
    let _serial = common::serial();
    if common::require("captures_http_exchanges", &["nginx", "curl"]).is_none() {
        return;
    }
    let dir = TempDir::new("nginx");
    let port = common::free_tcp_port();
    let _server = nginx(&dir, port);

    let store = Arc::new(TableStore::default());
    let tracer = Tracer::start(TracerConfig::default(), store.clone()).expect("tracer starts");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let curl = |args: &[&str]| common::run("curl", args, None);
    // GET 200 with a body.
    assert_eq!(curl(&["-s", &url(port, "/")]), INDEX);
    // GET 404.
    let code = curl(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &url(port, "/missing"),
    ]);
    assert_eq!(code, "404");
    // POST with a small body (sent with the head in one write).
    let post_body = r#"{"name":"scry","n":1}"#;
    let out = curl(&[
        "-s",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        post_body,
        &url(port, "/echo"),
    ]);
    assert_eq!(out, "ok\n");
    // POST with a 2000-byte body: curl asks `Expect: 100-continue` first and
    // the row keeps 512 bytes of it.
    let big_body = "0123456789".repeat(200);
    let out = curl(&["-s", "--data-binary", &big_body, &url(port, "/echo?big=1")]);
    assert_eq!(out, "ok\n");
    // Keep-alive: two URLs in one curl reuse the connection.
    let out = curl(&[
        "-s",
        &url(port, "/index.html?ka=1"),
        &url(port, "/index.html?ka=2"),
    ]);
    assert_eq!(out, format!("{INDEX}{INDEX}"));

    tokio::time::sleep(Duration::from_millis(300)).await;
    let summary = tracer.stop().await;
    eprintln!("{summary}");
    assert_eq!(summary.ringbuf_drops(), 0);

    let df = common::table(&store, "http_events");
    let rows = common::rows(&df, COLUMNS);
    eprintln!("{rows:#?}");

    let (get_c, get_s) = pair(&rows, port, "GET", "/", 200);
    for r in [get_c, get_s] {
        assert_eq!(r[RESP_BODY], INDEX);
        assert_eq!(r[RESP_BODY_SIZE], INDEX.len().to_string());
        assert_eq!(r[RESP_MESSAGE], "OK");
        assert_eq!(r[REQ_BODY], "");
        assert_eq!(r[REQ_BODY_SIZE], "0");
    }

    let (nf_c, nf_s) = pair(&rows, port, "GET", "/missing", 404);
    for r in [nf_c, nf_s] {
        assert_eq!(r[RESP_MESSAGE], "Not Found");
        assert!(r[RESP_BODY].contains("404 Not Found"), "{r:?}");
    }

    let (post_c, post_s) = pair(&rows, port, "POST", "/echo", 200);
    for r in [post_c, post_s] {
        assert_eq!(r[REQ_BODY], post_body);
        assert_eq!(r[REQ_BODY_SIZE], post_body.len().to_string());
        assert_eq!(r[RESP_BODY], "ok\n");
    }

    let (big_c, big_s) = pair(&rows, port, "POST", "/echo?big=1", 200);
    for r in [big_c, big_s] {
        assert_eq!(r[REQ_BODY_SIZE], "2000");
        assert_eq!(r[REQ_BODY], format!("{}... [TRUNCATED]", &big_body[..512]));
        assert_eq!(r[RESP_BODY], "ok\n");
    }

    let (ka1_c, ka1_s) = pair(&rows, port, "GET", "/index.html?ka=1", 200);
    let (ka2_c, ka2_s) = pair(&rows, port, "GET", "/index.html?ka=2", 200);
    // One curl process, one connection: same upid and ports on both ends.
    assert_eq!(ka1_c[UPID], ka2_c[UPID]);
    assert_eq!(
        ka1_c[LOCAL_PORT], ka2_c[LOCAL_PORT],
        "curl reused its socket"
    );
    assert_eq!(ka1_s[UPID], ka2_s[UPID]);
    assert_eq!(ka1_s[REMOTE_PORT], ka2_s[REMOTE_PORT], "nginx saw one peer");
    // …and a different connection than the earlier curl runs.
    assert_ne!(ka1_c[UPID], get_c[UPID]);
    assert_ne!(ka1_s[REMOTE_PORT], get_s[REMOTE_PORT]);
    for r in [ka1_c, ka2_c, ka1_s, ka2_s] {
        assert_eq!(r[RESP_BODY], INDEX);
    }

    // conn_stats counts nginx's accepted connections as HTTP (protocol 1),
    // server role, on its port.
    let stats = common::rows(
        &common::table(&store, "conn_stats"),
        &["protocol", "trace_role", "remote_port", "conn_open", "upid"],
    );
    assert!(
        stats
            .iter()
            .any(|r| r[0] == "1" && r[1] == "1" && r[2] == port.to_string()),
        "curl's HTTP connection in conn_stats: {stats:?}"
    );
}
