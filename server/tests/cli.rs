//! The `scry` binary end to end over saved tables: bundled scripts, output
//! formats, exit codes and diagnostics.

use std::path::Path;
use std::process::Command;

use polars::prelude::*;
use scry_runtime::store::{StoreConfig, TableStore};

fn scry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scry"))
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// A frame in the catalog's exact schema for `table`: the named columns from
/// `values`, every other column its zero value.
fn frame(store: &TableStore, table: &str, n: usize, values: Vec<Column>) -> DataFrame {
    let schema = store.schema(table).unwrap();
    let columns: Vec<Column> = schema
        .columns
        .iter()
        .map(|c| {
            if let Some(v) = values.iter().find(|v| v.name().as_str() == c.name) {
                return v.clone();
            }
            let name: PlSmallStr = c.name.as_str().into();
            match c.dtype {
                scry_stdlib::DataType::Boolean => {
                    BooleanChunked::full(name, false, n).into_column()
                }
                scry_stdlib::DataType::Int64 => Int64Chunked::full(name, 0, n).into_column(),
                scry_stdlib::DataType::Float64 => Float64Chunked::full(name, 0.0, n).into_column(),
                scry_stdlib::DataType::String | scry_stdlib::DataType::Uint128 => {
                    StringChunked::full(name, "", n).into_column()
                }
                scry_stdlib::DataType::Time64Ns => Int64Chunked::full(name, 0, n)
                    .into_datetime(TimeUnit::Nanoseconds, None)
                    .into_column(),
            }
        })
        .collect();
    DataFrame::new(n, columns).unwrap()
}

fn times(n: usize) -> Column {
    let t0 = now_ns() - 60_000_000_000;
    Int64Chunked::from_vec(
        "time_".into(),
        (0..n as i64).map(|i| t0 + i * 1_000_000_000).collect(),
    )
    .into_datetime(TimeUnit::Nanoseconds, None)
    .into_column()
}

fn strs(name: &str, v: &[&str]) -> Column {
    Column::new(name.into(), v)
}

fn ints(name: &str, v: &[i64]) -> Column {
    Column::new(name.into(), v)
}

/// Saved tables with a few rows each of HTTP, DNS and Redis traffic, as a
/// bare host produces them: no pod names, the test process's own upid.
fn write_capture(dir: &Path) {
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
    scry_runtime::data_dir::save_dir(&store, dir).unwrap();
}

fn run_json(args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let out = scry().args(args).output().unwrap();
    let rows = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        rows,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_bundled_script_runs_over_saved_tables_with_rows_on_a_bare_host() {
    let dir = tempfile::tempdir().unwrap();
    write_capture(dir.path());
    let data = dir.path().to_str().unwrap();
    let list = scry().args(["scripts", "list"]).output().unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for expected in [
        "px/schemas",
        "px/dns_data",
        "px/redis_data",
        "px/http_data",
        "px/http_post_requests",
        "px/http_request_stats",
        "px/dns_flow_graph",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from:\n{list}"
        );
    }
    for name in names {
        let (code, rows, stderr) = run_json(&["run", name, "--data", data, "--format", "json"]);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(!rows.is_empty(), "{name} showed no rows on a bare host");
        for r in &rows {
            for side in ["source", "destination", "from_entity", "to_entity"] {
                if let Some(v) = r.get(side) {
                    assert_ne!(v.as_str(), Some(""), "{name}: empty {side} in {r}");
                }
            }
        }
    }
}

#[test]
fn http_data_filters_and_names_sides_by_process() {
    let dir = tempfile::tempdir().unwrap();
    write_capture(dir.path());
    let (code, rows, stderr) = run_json(&[
        "run",
        "px/http_data",
        "--data",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
        "--",
        "--start_time=-10m",
        "--destination_filter=127.0.0.1:8080",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["_tableName"], "http_data");
    assert_eq!(rows[0]["destination"], "127.0.0.1:8080");
    let source = rows[0]["source"].as_str().unwrap();
    assert!(
        source.contains("cli-"),
        "source should be this test's command line, got {source}"
    );
    // Times are RFC 3339 with nanoseconds.
    let t = rows[0]["time_"].as_str().unwrap();
    assert!(t.ends_with('Z') && t.len() == 30, "{t}");
}

#[test]
fn unknown_script_argument_lists_valid_flags_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    write_capture(dir.path());
    let (code, _, stderr) = run_json(&[
        "run",
        "px/http_data",
        "--data",
        dir.path().to_str().unwrap(),
        "--",
        "--start=-5m",
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("unknown argument --start"), "{stderr}");
    assert!(stderr.contains("--start_time"), "{stderr}");
}

#[test]
fn script_errors_show_line_col_and_caret() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bad.pxl");
    std::fs::write(
        &script,
        "import px\ndf = px.DataFrame('http_events')\ndf = df[df.latncy > 1]\npx.display(df)\n",
    )
    .unwrap();
    let out = scry()
        .args(["compile", script.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr.contains("bad.pxl:3:12: column 'latncy' does not exist"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean 'latency'?"), "{stderr}");
    assert!(stderr.contains("^^^^^^"), "{stderr}");
}

#[test]
fn compile_prints_plans_and_csv_and_table_formats_render() {
    let dir = tempfile::tempdir().unwrap();
    write_capture(dir.path());
    let script = dir.path().join("q.pxl");
    std::fs::write(&script, "import px\ndf = px.DataFrame('redis_events')\npx.display(df[['req_cmd', 'resp']], 'cmds')\n").unwrap();
    let out = scry()
        .args(["compile", script.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("== output cmds [req_cmd:STRING, resp:STRING]"));
    let data = dir.path().to_str().unwrap();
    let csv = scry()
        .args([
            "run",
            script.to_str().unwrap(),
            "--data",
            data,
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&csv.stdout),
        "req_cmd,resp\nSET,OK\nGET,v\nINCR,1\n"
    );
    let table = scry()
        .args([
            "run",
            script.to_str().unwrap(),
            "--data",
            data,
            "--format",
            "table",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.starts_with("cmds (3 rows)\n"), "{table}");
    assert!(table.contains("INCR"), "{table}");
}
