//! End to end, as root: a real redis-server and redis-cli, traced.

mod common;

use std::sync::Arc;
use std::time::Duration;

use scry_probes::{Tracer, TracerConfig};
use scry_runtime::TableStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_redis_commands() {
    let _serial = common::serial();
    if common::require("captures_redis_commands", &["redis-server", "redis-cli"]).is_none() {
        return;
    }
    let (_server, port) = common::redis_server();
    let p = port.to_string();

    let store = Arc::new(TableStore::default());
    let tracer = Tracer::start(TracerConfig::default(), store.clone()).expect("tracer starts");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let cli = |args: &[&str]| {
        let mut a = vec!["-h", "127.0.0.1", "-p", &p];
        a.extend_from_slice(args);
        common::run("redis-cli", &a, None)
    };
    assert_eq!(cli(&["SET", "scry:key", "hello"]).trim(), "OK");
    assert_eq!(cli(&["GET", "scry:key"]).trim(), "hello");
    assert_eq!(cli(&["INCR", "scry:counter"]).trim(), "1");
    // A pipelined batch: three commands in one write.
    let batch = b"*3\r\n$3\r\nSET\r\n$4\r\npipe\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$4\r\npipe\r\n*2\r\n$3\r\nGET\r\n$4\r\npipe\r\n";
    common::run(
        "redis-cli",
        &["-h", "127.0.0.1", "-p", &p, "--pipe"],
        Some(batch),
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    let summary = tracer.stop().await;
    eprintln!("{summary}");
    assert_eq!(summary.ringbuf_drops(), 0);

    let df = common::table(&store, "redis_events");
    let rows = common::rows(
        &df,
        &[
            "req_cmd",
            "req_args",
            "resp",
            "remote_port",
            "latency",
            "trace_role",
            "upid",
        ],
    );
    eprintln!("{rows:#?}");
    let client = |cmd: &str, arg_part: &str| {
        rows.iter()
            .find(|r| r[0] == cmd && r[1].contains(arg_part) && r[3] == p && r[5] == "1")
    };
    let set = client("SET", "scry:key").expect("SET row from redis-cli");
    assert_eq!(set[2], "OK");
    let get = client("GET", "scry:key").expect("GET row");
    assert_eq!(get[2], "hello");
    let incr = client("INCR", "scry:counter").expect("INCR row");
    assert_eq!(incr[2], "1");
    for r in [set, get, incr] {
        let latency: i64 = r[4].parse().expect("latency");
        assert!(latency > 0, "latency {latency}");
    }
    // Each redis-cli has exited by now; it is still named (from /proc
    // while it lived, else from the comm its connect event carried).
    let upid: scry_runtime::Upid = set[6].parse().expect("upid");
    let name = scry_runtime::ProcMetadata::shared()
        .process(upid)
        .map(|p| p.cmdline)
        .unwrap_or_default();
    assert!(name.contains("redis-cli"), "SET client named {name:?}");
    // pipelined: all three seen with their responses
    assert!(client("SET", "pipe").is_some_and(|r| r[2] == "OK"));
    assert!(client("INCR", "pipe").is_some_and(|r| r[2] == "2"));
    assert!(client("GET", "pipe").is_some_and(|r| r[2] == "2"));

    // conn_stats and scry_probe_stats have rows
    assert!(common::table(&store, "conn_stats").height() > 0);
    let stats = common::table(&store, "scry_probe_stats");
    let stats = common::rows(&stats, &["protocol", "counter", "value"]);
    // The capture's bounds are there beside the counters of what they cut.
    let limit = |name: &str| {
        stats
            .iter()
            .find(|r| r[0] == "limits" && r[1] == name)
            .map(|r| r[2].clone())
    };
    assert_eq!(limit("payload_bytes").as_deref(), Some("4096"));
    assert_eq!(limit("body_bytes").as_deref(), Some("512"));
    assert!(stats.iter().any(|r| r[0] == "kernel"));
}
