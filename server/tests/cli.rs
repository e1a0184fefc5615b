//! The `scry` binary end to end over saved tables: bundled scripts, output
//! formats, exit codes and diagnostics.

mod common;

use std::process::Command;

use common::write_capture;

fn scry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scry"))
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
    for name in names.iter().copied().filter(|n| n.starts_with("px/")) {
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
