//! End to end, as root: a real dnsmasq answering on 127.0.0.1 and real `dig`
//! queries, traced. Checks the `dns_events` rows of both ends: the query
//! name in `req_body`, the answer address in `resp_body`, the rcode in
//! `resp_header`, latency, ports and roles.
//!
//! dnsmasq is configured with `--address=/scry.test/…` (an A and an AAAA
//! answer for `scry.test`) and `--local=/nx.test/` (authoritative, nothing
//! known: NXDOMAIN for every name under `nx.test`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use scry_probes::{Tracer, TracerConfig};
use scry_runtime::TableStore;

const COLUMNS: &[&str] = &[
    "req_header",
    "req_body",
    "resp_header",
    "resp_body",
    "remote_addr",
    "remote_port",
    "local_port",
    "trace_role",
    "latency",
    "upid",
];
const REQ_HEADER: usize = 0;
const REQ_BODY: usize = 1;
const RESP_HEADER: usize = 2;
const RESP_BODY: usize = 3;
const REMOTE_ADDR: usize = 4;
const REMOTE_PORT: usize = 5;
const LOCAL_PORT: usize = 6;
const TRACE_ROLE: usize = 7;
const LATENCY: usize = 8;

/// Starts dnsmasq on 127.0.0.1:`port` (UDP and TCP); killed on drop.
fn dnsmasq(port: u16) -> common::Server {
    let port_arg = format!("--port={port}");
    let server = common::Server::spawn(
        "dnsmasq",
        &[
            "--no-daemon",
            "--conf-file=/dev/null",
            &port_arg,
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--no-negcache",
            "--pid-file=",
            "--user=root",
            "--address=/scry.test/10.1.2.3",
            "--address=/scry.test/fd00::1",
            "--local=/nx.test/",
        ],
    );
    // dnsmasq listens on TCP on the same port once it is ready.
    common::wait_tcp(port);
    server
}

/// `dig` with one try and short answers; returns its stdout.
fn dig(port: u16, extra: &[&str], name: &str, qtype: &str) -> String {
    let p = port.to_string();
    let mut args = vec!["@127.0.0.1", "-p", &p, "+tries=1", "+time=3"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[name, qtype]);
    common::run("dig", &args, None)
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// The client-side (dig) row asking `qtype` for `name`, if any.
fn client_row<'a>(
    rows: &'a [Vec<String>],
    port: u16,
    name: &str,
    qtype: &str,
) -> Option<&'a Vec<String>> {
    let body = format!(r#"{{"queries":[{{"name":"{name}","type":"{qtype}"}}]}}"#);
    rows.iter()
        .find(|r| r[TRACE_ROLE] == "1" && r[REMOTE_PORT] == port.to_string() && r[REQ_BODY] == body)
}

/// The server-side (dnsmasq) row asking `qtype` for `name`, if any.
fn server_row<'a>(
    rows: &'a [Vec<String>],
    port: u16,
    name: &str,
    qtype: &str,
) -> Option<&'a Vec<String>> {
    let body = format!(r#"{{"queries":[{{"name":"{name}","type":"{qtype}"}}]}}"#);
    rows.iter()
        .find(|r| r[TRACE_ROLE] == "2" && r[LOCAL_PORT] == port.to_string() && r[REQ_BODY] == body)
}

/// What every matched query/response row must satisfy.
fn check_pair(row: &[String], rcode: u64, answers: u64) {
    let req = json(&row[REQ_HEADER]);
    let resp = json(&row[RESP_HEADER]);
    assert_eq!(req["qr"], 0, "request header {req}");
    assert_eq!(resp["qr"], 1, "response header {resp}");
    assert_eq!(req["txid"], resp["txid"], "txids differ: {req} / {resp}");
    assert_eq!(resp["rcode"], rcode, "{resp}");
    assert_eq!(resp["num_answers"], answers, "{resp}");
    assert_eq!(row[REMOTE_ADDR], "127.0.0.1");
    let latency: i64 = row[LATENCY].parse().expect("latency is a number");
    assert!(latency > 0, "latency {latency} in {row:?}");
    assert!(
        latency < 3_000_000_000,
        "latency {latency} ns is longer than dig's timeout"
    );
}

/// The dns_events rows of one traced run against a fresh dnsmasq.
struct Captured {
    port: u16,
    rows: Vec<Vec<String>>,
}

/// Traces three dig queries (scry.test A and AAAA, an NXDOMAIN name) against
/// a fresh dnsmasq; `short` flags for the answered ones, `full` for the
/// NXDOMAIN one (whose status line only the full output shows).
async fn capture_three_queries(short: &[&str], full: &[&str]) -> Captured {
    let port = common::free_tcp_port();
    let _server = dnsmasq(port);

    let store = Arc::new(TableStore::default());
    let tracer = Tracer::start(TracerConfig::default(), store.clone()).expect("tracer starts");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let a = dig(port, short, "scry.test", "A");
    assert_eq!(a.trim(), "10.1.2.3", "dig {short:?} A");
    let aaaa = dig(port, short, "scry.test", "AAAA");
    assert_eq!(aaaa.trim(), "fd00::1", "dig {short:?} AAAA");
    let nx = dig(port, full, "nothere.nx.test", "A");
    assert!(
        nx.contains("status: NXDOMAIN"),
        "dig {full:?} NXDOMAIN: {nx}"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    let summary = tracer.stop().await;
    eprintln!("{summary}");
    assert_eq!(summary.ringbuf_drops(), 0);

    let rows = common::rows(&common::table(&store, "dns_events"), COLUMNS);
    eprintln!("{rows:#?}");
    Captured { port, rows }
}

/// dig's rows (it sent each query to dnsmasq's port) with their answers,
/// and dnsmasq's rows of the same three exchanges, whose remote port is the
/// one dig used. `label` prefixes messages ("TCP ").
fn check_three_exchanges(rows: &[Vec<String>], port: u16, label: &str) {
    let a = client_row(rows, port, "scry.test", "A")
        .unwrap_or_else(|| panic!("client row for {label}scry.test A"));
    check_pair(a, 0, 1);
    assert_eq!(
        a[RESP_BODY],
        r#"{"answers":[{"name":"scry.test","type":"A","addr":"10.1.2.3"}]}"#
    );
    let aaaa = client_row(rows, port, "scry.test", "AAAA")
        .unwrap_or_else(|| panic!("client row for {label}AAAA"));
    check_pair(aaaa, 0, 1);
    assert_eq!(
        aaaa[RESP_BODY],
        r#"{"answers":[{"name":"scry.test","type":"AAAA","addr":"fd00::1"}]}"#
    );
    let nx = client_row(rows, port, "nothere.nx.test", "A")
        .unwrap_or_else(|| panic!("client row for {label}NXDOMAIN"));
    check_pair(nx, 3, 0);
    assert_eq!(nx[RESP_BODY], r#"{"answers":[]}"#);

    for (client, name, qtype, rcode, answers) in [
        (a, "scry.test", "A", 0, 1),
        (aaaa, "scry.test", "AAAA", 0, 1),
        (nx, "nothere.nx.test", "A", 3, 0),
    ] {
        let server = server_row(rows, port, name, qtype)
            .unwrap_or_else(|| panic!("server row for {label}{name} {qtype}"));
        check_pair(server, rcode, answers);
        assert_eq!(server[RESP_BODY], client[RESP_BODY]);
        assert_eq!(
            json(&server[REQ_HEADER])["txid"],
            json(&client[REQ_HEADER])["txid"],
            "server and client rows of {label}{name} {qtype} are one exchange"
        );
        assert_eq!(server[REMOTE_PORT], client[LOCAL_PORT]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_dns_over_udp() {
    let _serial = common::serial();
    if common::require("captures_dns_over_udp", &["dnsmasq", "dig"]).is_none() {
        return;
    }
    let rows = capture_three_queries(&["+short"], &[]).await;
    check_three_exchanges(&rows.rows, rows.port, "");
}

/// DNS over TCP (`dig +tcp`): a 2-byte length prefix, then the message.
///
/// Both ends move the prefix apart from the message, which is what the
/// kernel's inference has to cope with (checked with strace):
/// - dig sends the query with `writev([len(2 bytes), message])`: the kernel
///   reads the first bytes across the first two iovecs;
/// - dnsmasq reads the prefix one byte at a time (`read(fd, 1)` twice, then
///   the message): the kernel keeps those bytes on the connection and puts
///   them in front of the message once prefix + message look like DNS, so
///   the userspace TCP framing sees a whole length-prefixed message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_dns_over_tcp() {
    let _serial = common::serial();
    if common::require("captures_dns_over_tcp", &["dnsmasq", "dig"]).is_none() {
        return;
    }
    let rows = capture_three_queries(&["+tcp", "+short"], &["+tcp"]).await;
    let port = rows.port;
    // dig's side: each query on a TCP connection of its own to dnsmasq;
    // dnsmasq's side: the prefix read bytewise, one row per exchange.
    check_three_exchanges(&rows.rows, port, "TCP ");
    // Exactly one row per exchange and side: no duplicate or stray frames.
    let ours: Vec<_> = rows
        .rows
        .iter()
        .filter(|r| r[REMOTE_PORT] == port.to_string() || r[LOCAL_PORT] == port.to_string())
        .collect();
    assert_eq!(ours.len(), 6, "{ours:#?}");
}
