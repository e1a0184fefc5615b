//! `scry check` end to end over saved tables: exit codes 0 / 1 / 2, failing
//! rows in the report, script arguments, the bundled `checks/` namespace,
//! and the JUnit XML report.

use std::path::Path;
use std::process::Command;

mod common;

use common::{frame, ints, strs, times_every as times};
use scry_runtime::store::{StoreConfig, TableStore};

fn scry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scry"))
}

/// Saved tables: HTTP with one 500 (POST /checkout), fast Redis commands
/// (80–100 µs), and a burst of six NXDOMAIN answers within 600 ms that
/// straddles a 10 s boundary (three on each side: no aligned 10 s window
/// holds five).
fn write_capture(dir: &Path) {
    let store = TableStore::new(StoreConfig::default());
    let http = frame(
        &store,
        "http_events",
        4,
        vec![
            times(4, 1_000_000_000),
            strs(
                "remote_addr",
                &["127.0.0.1", "127.0.0.1", "10.1.2.3", "10.1.2.3"],
            ),
            ints("remote_port", &[8080, 8080, 80, 80]),
            ints("trace_role", &[1, 1, 2, 2]),
            ints("major_version", &[1, 1, 1, 1]),
            strs("req_method", &["GET", "POST", "GET", "GET"]),
            strs("req_path", &["/a?x=1", "/checkout", "/a", "/missing"]),
            ints("resp_status", &[200, 500, 200, 404]),
            strs(
                "resp_message",
                &["OK", "Internal Server Error", "OK", "Not Found"],
            ),
            ints("latency", &[1_000_000, 9_000_000, 2_000_000, 500_000]),
        ],
    );
    store.append("http_events", http).unwrap();
    let redis = frame(
        &store,
        "redis_events",
        3,
        vec![
            times(3, 1_000_000_000),
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
    let nx = r#"{"txid":2,"rcode":3}"#;
    let query = r#"{"queries":[{"name":"nope.test","type":"A"}]}"#;
    let dns = frame(
        &store,
        "dns_events",
        7,
        vec![
            straddling_10s_boundary(7, 100_000_000),
            strs("remote_addr", &["127.0.0.53"; 7]),
            ints("remote_port", &[53; 7]),
            ints("trace_role", &[1; 7]),
            strs("req_body", &[query; 7]),
            strs(
                "resp_header",
                &[r#"{"txid":1,"rcode":0}"#, nx, nx, nx, nx, nx, nx],
            ),
            ints("latency", &[300_000; 7]),
        ],
    );
    store.append("dns_events", dns).unwrap();
    scry_runtime::data_dir::save_dir(&store, dir).unwrap();
}

/// `n` times `step_ns` apart, about a minute ago, placed so that the
/// fourth and fifth fall on either side of a multiple of 10 s.
fn straddling_10s_boundary(n: usize, step_ns: i64) -> polars::prelude::Column {
    const TEN_S: i64 = 10_000_000_000;
    let boundary = (common::now_ns() - 60_000_000_000) / TEN_S * TEN_S;
    common::times_from(boundary - 3 * step_ns - step_ns / 2, n, step_ns)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn check(args: &[&str]) -> Run {
    let out = scry().arg("check").args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A temp folder with saved tables in `data/` and check scripts beside it.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        write_capture(&dir.path().join("data"));
        Fixture { dir }
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn script(&self, rel: &str, text: &str) -> String {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

const QUIET_CHECK: &str = "import px\n\
    # Requests slower than a minute: there are none.\n\
    df = px.DataFrame(table='http_events', start_time='-10m')\n\
    df = df[df.latency > 60 * 1000 * 1000 * 1000]\n\
    px.display(df[['time_', 'req_path', 'latency']], 'very_slow')\n";

const NOT_FOUND_CHECK: &str = "import px\n\
    df = px.DataFrame(table='http_events', start_time='-10m')\n\
    df = df[df.resp_status == 404]\n\
    px.display(df[['req_method', 'req_path', 'resp_status']], 'not_found')\n";

const BROKEN_CHECK: &str = "import px\n\
    df = px.DataFrame('http_events')\n\
    df = df[df.latncy > 1]\n\
    px.display(df)\n";

#[test]
fn all_checks_pass_exit_0() {
    let f = Fixture::new();
    let quiet = f.script("quiet.pxl", QUIET_CHECK);
    let run = check(&[
        "checks/redis_slow",
        &quiet,
        "--data",
        &f.data(),
        "--format",
        "table",
        "--",
        "--start_time=-10m",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("PASS   checks/redis_slow"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("PASS   {quiet}")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .trim_end()
            .ends_with("2 checks: 2 passed, 0 failed, 0 could not run"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_failing_check_exits_1_and_shows_its_rows() {
    let f = Fixture::new();
    let run = check(&[
        "checks/http_5xx",
        "checks/redis_slow",
        "--data",
        &f.data(),
        "--format",
        "table",
        "--",
        "--start_time=-10m",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains("FAIL   checks/http_5xx") && out.contains("1 row in http_5xx"),
        "{out}"
    );
    assert!(out.contains("/checkout"), "{out}");
    assert!(out.contains("Internal Server Error"), "{out}");
    assert!(!out.contains("/missing"), "a 404 is no 5xx:\n{out}");
    assert!(out.contains("PASS   checks/redis_slow"), "{out}");

    // The same arguments reach every check that declares them: a lower
    // threshold makes redis_slow fail too, on the two slower commands.
    let run = check(&[
        "checks/redis_slow",
        "--data",
        &f.data(),
        "--format",
        "json",
        "--",
        "--start_time=-10m",
        "--threshold=85us",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let rows: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cmds: Vec<&str> = rows
        .iter()
        .map(|r| r["req_cmd"].as_str().unwrap())
        .collect();
    assert_eq!(cmds, ["SET", "GET"], "{}", run.stdout);
    assert_eq!(rows[0]["_tableName"], "redis_slow");
}

#[test]
fn failing_rows_are_capped_by_max_rows() {
    let f = Fixture::new();
    let run = check(&[
        "checks/redis_slow",
        "--data",
        &f.data(),
        "--format",
        "csv",
        "--max-rows",
        "1",
        "--",
        "--start_time=-10m",
        "--threshold=1us",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("redis_slow: 3 rows (first 1 shown)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("SET"), "{}", run.stdout);
    assert!(!run.stdout.contains("INCR"), "{}", run.stdout);
    assert!(
        run.stdout.contains("… 2 more rows (--max-rows 1)"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_broken_script_exits_2_after_running_the_others_and_junit_reports_all() {
    let f = Fixture::new();
    let folder = f.dir.path().join("checks").display().to_string();
    f.script("checks/a_quiet.pxl", QUIET_CHECK);
    f.script("checks/b_broken.pxl", BROKEN_CHECK);
    f.script("checks/c_not_found.pxl", NOT_FOUND_CHECK);
    let junit = f.dir.path().join("report.xml");
    let run = check(&[
        &folder,
        "--data",
        &f.data(),
        "--format",
        "table",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    // The diagnostic, with line:col and caret …
    assert!(out.contains("ERROR  "), "{out}");
    assert!(
        out.contains("b_broken.pxl:3:12: column 'latncy' does not exist"),
        "{out}"
    );
    assert!(out.contains("^^^^^^"), "{out}");
    // … and the checks after it still ran.
    assert!(out.contains("a_quiet.pxl"), "{out}");
    assert!(
        out.contains("FAIL   ") && out.contains("c_not_found.pxl"),
        "{out}"
    );
    assert!(out.contains("/missing"), "{out}");
    assert!(
        out.trim_end()
            .ends_with("3 checks: 1 passed, 1 failed, 1 could not run"),
        "{out}"
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("tests"), Some("3"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    assert_eq!(suite.attribute("errors"), Some("1"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    assert!(names[0].ends_with("a_quiet.pxl"), "{names:?}");
    assert!(names[1].ends_with("b_broken.pxl"), "{names:?}");
    assert!(names[2].ends_with("c_not_found.pxl"), "{names:?}");
    assert!(
        cases[0].first_element_child().is_none(),
        "a pass has no child"
    );
    let error = cases[1].first_element_child().unwrap();
    assert_eq!(error.tag_name().name(), "error");
    assert!(
        error
            .attribute("message")
            .unwrap()
            .contains(":3:12: column 'latncy' does not exist"),
        "{xml}"
    );
    assert!(error.text().unwrap().contains("^^^^^^"), "{xml}");
    let failure = cases[2].first_element_child().unwrap();
    assert_eq!(failure.tag_name().name(), "failure");
    assert_eq!(failure.attribute("message"), Some("1 row in not_found"));
    let text = failure.text().unwrap();
    assert!(text.contains("req_path"), "{text}");
    assert!(text.contains("/missing") && text.contains("404"), "{text}");
}

#[test]
fn the_bundled_checks_namespace_runs_every_example_check() {
    let f = Fixture::new();
    let run = check(&[
        "checks",
        "--data",
        &f.data(),
        "--format",
        "table",
        "--",
        "--start_time=-10m",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("FAIL   checks/dns_nxdomain"), "{out}");
    assert!(out.contains("nope.test"), "{out}");
    assert!(out.contains("FAIL   checks/http_5xx"), "{out}");
    assert!(out.contains("PASS   checks/redis_slow"), "{out}");
    assert!(!out.contains("ERROR"), "{out}");

    // Six NXDOMAIN answers are not a burst of ten.
    let run = check(&[
        "checks/dns_nxdomain",
        "--data",
        &f.data(),
        "--",
        "--start_time=-10m",
        "--min_count=10",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let f = Fixture::new();
    let run = check(&[
        "checks/redis_slow",
        "--data",
        &f.data(),
        "--",
        "--treshold=1ms",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("unknown argument --treshold (did you mean --threshold?"),
        "{}",
        run.stderr
    );

    let missing = f.dir.path().join("nowhere");
    let run = check(&[missing.to_str().unwrap(), "--data", &f.data()]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ERROR"), "{}", run.stdout);
    assert!(
        run.stdout.contains("no script file or bundled script"),
        "{}",
        run.stdout
    );
}
