//! Fixtures shared by the server's integration tests: frames in the
//! catalog's exact schemas and a saved capture of HTTP, DNS and Redis rows.
#![allow(dead_code)]

use std::path::Path;

use polars::prelude::*;
use scry_runtime::store::{StoreConfig, TableStore};

pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// A frame in the catalog's exact schema for `table`: the named columns from
/// `values`, every other column its zero value.
pub fn frame(store: &TableStore, table: &str, n: usize, values: Vec<Column>) -> DataFrame {
    store
        .schema(table)
        .expect("a catalog table")
        .frame_with(n, &values)
        .expect("columns of one length")
}

/// `n` times a second apart, starting a minute ago.
pub fn times(n: usize) -> Column {
    times_every(n, 1_000_000_000)
}

/// `n` times `step_ns` apart, starting a minute ago.
pub fn times_every(n: usize, step_ns: i64) -> Column {
    times_from(now_ns() - 60_000_000_000, n, step_ns)
}

/// `n` times `step_ns` apart, starting at `t0` (ns since the epoch).
pub fn times_from(t0: i64, n: usize, step_ns: i64) -> Column {
    Int64Chunked::from_vec(
        "time_".into(),
        (0..n as i64).map(|i| t0 + i * step_ns).collect(),
    )
    .into_datetime(TimeUnit::Nanoseconds, None)
    .into_column()
}

pub fn strs(name: &str, v: &[&str]) -> Column {
    Column::new(name.into(), v)
}

pub fn ints(name: &str, v: &[i64]) -> Column {
    Column::new(name.into(), v)
}

/// Saved tables with a few rows each of HTTP, DNS and Redis traffic, as a
/// bare host produces them: no pod names, the test process's own upid.
pub fn write_capture(dir: &Path) {
    let store = sample_store();
    scry_runtime::data_dir::save_dir(&store, dir).unwrap();
}

/// A store with a few rows each of HTTP, DNS and Redis traffic.
pub fn sample_store() -> TableStore {
    let store = TableStore::new(StoreConfig::default());
    let me = scry_runtime::metadata::Upid::for_pid(std::process::id())
        .unwrap()
        .to_string();
    let upids = [me.as_str(); 4];
    let http = frame(
        &store,
        "http_events",
        4,
        vec![
            times(4),
            strs("upid", &upids),
            strs(
                "remote_addr",
                &["127.0.0.1", "127.0.0.1", "10.1.2.3", "10.1.2.3"],
            ),
            ints("remote_port", &[8080, 8080, 80, 80]),
            ints("trace_role", &[1, 1, 2, 2]),
            ints("major_version", &[1, 1, 1, 1]),
            strs("req_method", &["GET", "POST", "GET", "GET"]),
            strs("req_path", &["/a?x=1", "/checkout", "/a", "/missing"]),
            strs("req_body", &["", "{\"cart\":1}", "", ""]),
            ints("resp_status", &[200, 500, 200, 404]),
            strs(
                "resp_message",
                &["OK", "Internal Server Error", "OK", "Not Found"],
            ),
            ints("latency", &[1_000_000, 9_000_000, 2_000_000, 500_000]),
        ],
    );
    store.append("http_events", http).unwrap();
    let dns = frame(
        &store,
        "dns_events",
        2,
        vec![
            times(2),
            strs("upid", &upids[..2]),
            strs("remote_addr", &["127.0.0.53", "127.0.0.53"]),
            ints("remote_port", &[53, 53]),
            ints("trace_role", &[1, 1]),
            strs(
                "req_body",
                &[
                    r#"{"queries":[{"name":"scry.test","type":"A"}]}"#,
                    r#"{"queries":[{"name":"nope.test","type":"A"}]}"#,
                ],
            ),
            strs(
                "resp_header",
                &[r#"{"txid":1,"rcode":0}"#, r#"{"txid":2,"rcode":3}"#],
            ),
            ints("latency", &[300_000, 400_000]),
        ],
    );
    store.append("dns_events", dns).unwrap();
    let redis = frame(
        &store,
        "redis_events",
        3,
        vec![
            times(3),
            strs("upid", &upids[..3]),
            strs("remote_addr", &["127.0.0.1", "127.0.0.1", "127.0.0.1"]),
            ints("remote_port", &[6379, 6379, 6379]),
            ints("trace_role", &[1, 1, 1]),
            strs("req_cmd", &["SET", "GET", "INCR"]),
            strs(
                "req_args",
                &[
                    r#"{"key":"k","value":"v"}"#,
                    r#"{"key":"k"}"#,
                    r#"{"key":"n"}"#,
                ],
            ),
            strs("resp", &["OK", "v", "1"]),
            ints("latency", &[100_000, 90_000, 80_000]),
        ],
    );
    store.append("redis_events", redis).unwrap();
    store
}
