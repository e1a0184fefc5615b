//! The REPL driven without a terminal: a [`Session`] over a local store
//! with a few HTTP rows, fed line by line.

use std::sync::Arc;

use polars::prelude::*;
use scry_runtime::store::{StoreConfig, TableStore};

use super::complete::candidates;
use super::session::{Executor, Feed, Job, JobOutput, Reply, RunInline, Session};
use crate::backend::LocalBackend;

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// A frame in the catalog's exact schema for `table`: the columns in
/// `values`, every other column its zero value.
fn frame(store: &TableStore, table: &str, n: usize, values: Vec<Column>) -> DataFrame {
    let schema = store.schema(table).expect("a catalog table");
    schema
        .frame_with(n, &values)
        .expect("columns of one length")
}

/// Four HTTP requests in the last minute: two errors.
fn store_with_http_rows() -> Arc<TableStore> {
    let store = Arc::new(TableStore::new(StoreConfig::default()));
    let t0 = now_ns() - 60_000_000_000;
    let times = Int64Chunked::from_vec("time_".into(), (0..4).map(|i| t0 + i).collect())
        .into_datetime(TimeUnit::Nanoseconds, None)
        .into_column();
    let http = frame(
        &store,
        "http_events",
        4,
        vec![
            times,
            Column::new(
                "remote_addr".into(),
                ["127.0.0.1", "127.0.0.1", "10.1.2.3", "10.1.2.3"],
            ),
            Column::new("remote_port".into(), [8080i64, 8080, 80, 80]),
            Column::new("trace_role".into(), [1i64, 1, 2, 2]),
            Column::new("req_method".into(), ["GET", "POST", "GET", "GET"]),
            Column::new("req_path".into(), ["/a", "/checkout", "/b", "/missing"]),
            Column::new("resp_status".into(), [200i64, 500, 200, 404]),
            Column::new(
                "latency".into(),
                [1_000_000i64, 9_000_000, 2_000_000, 500_000],
            ),
        ],
    );
    store
        .append("http_events", http)
        .expect("rows in the schema");
    store
}

fn session_with(executor: Box<dyn Executor>) -> Session {
    let backend = Arc::new(LocalBackend::new(store_with_http_rows()));
    Session::new(backend, executor).expect("a local backend lists its tables")
}

fn session() -> Session {
    session_with(Box::new(RunInline))
}

/// Feed lines that make one complete input; its reply.
fn input(s: &mut Session, lines: &[&str]) -> Reply {
    for (i, line) in lines.iter().enumerate() {
        match s.feed_line(line) {
            Feed::More => assert!(i + 1 < lines.len(), "{lines:?} is not complete"),
            Feed::Done { reply, .. } => {
                assert_eq!(i + 1, lines.len(), "{lines:?} ended at line {}", i + 1);
                return reply;
            }
        }
    }
    panic!("no input fed")
}

/// One line that must run without errors; what it printed.
fn ok(s: &mut Session, line: &str) -> String {
    let reply = input(s, &[line]);
    assert_eq!(reply.errors, "", "{line}");
    reply.output
}

fn with_http(s: &mut Session) {
    ok(s, "df = px.DataFrame(table='http_events')");
}

#[test]
fn a_def_continues_until_a_blank_line_and_brackets_until_closed() {
    let mut s = session();
    assert_eq!(s.feed_line("def errors(frame):"), Feed::More);
    assert!(s.is_continuing());
    assert_eq!(
        s.feed_line("    return frame[frame.resp_status >= 400]"),
        Feed::More
    );
    let reply = input(&mut s, &[""]);
    assert_eq!(reply, Reply::default());
    assert!(!s.is_continuing());

    assert_eq!(s.feed_line("df = px.DataFrame("), Feed::More);
    assert_eq!(s.feed_line("    table='http_events',"), Feed::More);
    let reply = input(&mut s, &[")"]);
    assert_eq!(reply.errors, "");

    let shown = ok(&mut s, "errors(df)[['req_path', 'resp_status']]");
    assert!(shown.contains("out (2 rows)"), "{shown}");
    assert!(
        shown.contains("/checkout") && shown.contains("/missing"),
        "{shown}"
    );
    assert!(!shown.contains("/a "), "{shown}");
}

#[test]
fn the_completed_input_is_handed_back_for_the_editor_history() {
    let mut s = session();
    assert_eq!(s.feed_line("x = ["), Feed::More);
    match s.feed_line("  1]") {
        Feed::Done { input, reply } => {
            assert_eq!(input, "x = [\n  1]");
            assert_eq!(reply.errors, "");
        }
        Feed::More => panic!("x = [1] is complete"),
    }
}

#[test]
fn variables_persist_between_inputs() {
    let mut s = session();
    with_http(&mut s);
    ok(&mut s, "df.slow = df.latency > 1500000");
    ok(&mut s, "slow = df[df.slow]");
    let shown = ok(&mut s, "slow[['req_path', 'latency']]");
    assert!(
        shown.contains("/checkout") && shown.contains("/b"),
        "{shown}"
    );
    assert!(!shown.contains("/missing"), "{shown}");
    // A bare name is shown under its own name.
    let shown = ok(&mut s, "slow");
    assert!(shown.starts_with("slow (2 rows)"), "{shown}");
}

#[test]
fn only_the_current_inputs_outputs_are_shown() {
    let mut s = session();
    with_http(&mut s);
    let shown = ok(&mut s, "px.display(df[['req_path']], 'first')");
    assert!(shown.starts_with("first (4 rows)"), "{shown}");
    assert_eq!(ok(&mut s, "n = 1"), "");
    let shown = ok(&mut s, "df.head(1)[['req_path']]");
    assert!(shown.starts_with("out (1 row)"), "{shown}");
    assert!(!shown.contains("first"), "{shown}");
    // A function that displays, called in an assignment, shows once.
    input(
        &mut s,
        &[
            "def show(f):",
            "    px.display(f[['req_path']], 'shown')",
            "    return f",
            "",
        ],
    );
    let shown = ok(&mut s, "same = show(df)");
    assert!(shown.starts_with("shown (4 rows)"), "{shown}");
    let shown = ok(&mut s, "same.head(2)[['req_path']]");
    assert!(!shown.contains("shown"), "{shown}");
    assert!(shown.starts_with("out (2 rows)"), "{shown}");
}

#[test]
fn values_that_are_not_dataframes_are_named_not_shown() {
    let mut s = session();
    ok(&mut s, "x = 3");
    let reply = input(&mut s, &["x"]);
    assert_eq!(reply.output, "");
    assert_eq!(reply.errors, "x: int (only DataFrames are shown)\n");
}

#[test]
fn errors_point_at_the_current_input_with_a_caret() {
    let mut s = session();
    with_http(&mut s);
    ok(&mut s, "n = 2");
    let reply = input(&mut s, &["df[df.latncy > 1]"]);
    assert_eq!(reply.output, "");
    let e = &reply.errors;
    assert!(e.contains("error[unknown-column]: 1:7:"), "{e}");
    assert!(e.contains("1 | df[df.latncy > 1]"), "{e}");
    assert!(e.contains("  |       ^^^^^^\n"), "{e}");
    assert!(e.contains("latency"), "{e}");

    // Line 2 of a multi-line input.
    let reply = input(&mut s, &["bad = df[", "    df.nope > 1]"]);
    let e = &reply.errors;
    assert!(e.contains("2:8:"), "{e}");
    assert!(e.contains("2 |     df.nope > 1]"), "{e}");

    // A syntax error, found before anything is compiled.
    let reply = input(&mut s, &["x = = 1"]);
    assert!(
        reply.errors.starts_with("error[syntax]: 1:5:"),
        "{}",
        reply.errors
    );

    // Failed inputs do not enter the session.
    let session_text = ok(&mut s, ":session");
    assert_eq!(
        session_text,
        "df = px.DataFrame(table='http_events')\nn = 2\n"
    );
}

#[test]
fn an_error_inside_an_earlier_definition_points_into_that_input() {
    let mut s = session();
    with_http(&mut s);
    input(&mut s, &["def broken(f):", "    return f[f.nope > 1]", ""]);
    let reply = input(&mut s, &["broken(df)"]);
    let e = &reply.errors;
    assert!(e.contains("input 2:2:16:"), "{e}");
    assert!(e.contains("2 |     return f[f.nope > 1]"), "{e}");
}

#[test]
fn a_wrapped_expression_keeps_its_carets() {
    let mut s = session();
    with_http(&mut s);
    let reply = input(&mut s, &["df.head(n=px.nope(1))"]);
    let e = &reply.errors;
    assert!(e.contains("1 | df.head(n=px.nope(1))"), "{e}");
    assert!(e.contains("1:14:"), "{e}");
    assert!(e.contains("  |              ^^^^\n"), "{e}");
}

#[test]
fn completion_offers_px_functions() {
    let s = session();
    let (start, found) = candidates(&s, "x = px.Data", 11);
    assert_eq!(start, 7);
    assert_eq!(found, vec!["DataFrame"]);
    let (_, found) = candidates(&s, "px.", 3);
    for name in ["count", "mean", "display", "GetTables", "DurationNanos"] {
        assert!(found.iter().any(|f| f == name), "{name} in {found:?}");
    }
}

#[test]
fn completion_offers_table_names_in_strings() {
    let s = session();
    let line = "df = px.DataFrame(table='http";
    let (start, found) = candidates(&s, line, line.len());
    assert_eq!(start, line.len() - 4);
    assert_eq!(found, vec!["http_events"]);
}

#[test]
fn completion_offers_columns_of_frames() {
    let mut s = session();
    with_http(&mut s);
    let (start, found) = candidates(&s, "df.req_pa", 9);
    assert_eq!(start, 3);
    assert_eq!(found, vec!["req_path"]);
    let (_, found) = candidates(&s, "df['resp_st", 11);
    assert_eq!(found, vec!["resp_status"]);
    let (_, found) = candidates(&s, "df.gr", 5);
    assert_eq!(found, vec!["groupby"]);
    let line = "x = df[['req_path', 'resp_st";
    assert_eq!(candidates(&s, line, line.len()).1, vec!["resp_status"]);
    let line = "df[df.latency > 1].req_pa";
    assert_eq!(candidates(&s, line, line.len()).1, vec!["req_path"]);
    let line = "px.DataFrame(table='http_events').remote_p";
    assert_eq!(candidates(&s, line, line.len()).1, vec!["remote_port"]);
    let line = "df.groupby('req_method').agg(n=('laten";
    assert_eq!(candidates(&s, line, line.len()).1, vec!["latency"]);
    // Columns made by agg are known exactly.
    ok(
        &mut s,
        "s = df.groupby('req_method').agg(n=('latency', px.count))",
    );
    let (_, found) = candidates(&s, "s.", 2);
    assert!(found.contains(&"n".to_string()), "{found:?}");
    assert!(found.contains(&"req_method".to_string()), "{found:?}");
    assert!(!found.contains(&"req_path".to_string()), "{found:?}");
    // A name the session does not hold (yet): the columns of the tables
    // the session and the input mention.
    let (_, found) = candidates(&s, "t.remote_p", 10);
    assert_eq!(found, vec!["remote_port"]);
}

#[test]
fn completion_offers_commands_and_names() {
    let mut s = session();
    with_http(&mut s);
    assert_eq!(candidates(&s, ":ta", 3), (0, vec![":tables".to_string()]));
    assert_eq!(
        candidates(&s, ":schema http_ev", 15),
        (8, vec!["http_events".to_string()])
    );
    let (_, found) = candidates(&s, ":run px/http_d", 14);
    assert_eq!(found, vec!["px/http_data"]);
    let (start, found) = candidates(&s, "x = d", 5);
    assert_eq!(start, 4);
    assert_eq!(found, vec!["def", "df"]);
}

#[test]
fn help_lists_every_command() {
    let mut s = session();
    let help = ok(&mut s, ":help");
    for (name, ..) in super::commands::COMMANDS {
        assert!(help.contains(name), "{name} in {help}");
    }
}

#[test]
fn tables_lists_columns_and_rows() {
    let mut s = session();
    let shown = ok(&mut s, ":tables");
    assert!(shown.starts_with("tables ("), "{shown}");
    let http = shown
        .lines()
        .find(|l| l.starts_with("http_events "))
        .unwrap_or_else(|| panic!("no http_events row in {shown}"));
    let cells: Vec<&str> = http.split_whitespace().collect();
    let columns = s
        .tables()
        .iter()
        .find(|t| t.name == "http_events")
        .map(|t| t.columns.len())
        .unwrap_or_default();
    assert_eq!(cells[1], columns.to_string(), "{http}");
    assert_eq!(cells[2], "4", "{http}");
    let dns = shown.lines().find(|l| l.starts_with("dns_events "));
    assert_eq!(dns.map(|l| l.split_whitespace().nth(2)), Some(Some("0")));
}

#[test]
fn schema_shows_columns_with_types_and_descriptions() {
    let mut s = session();
    let shown = ok(&mut s, ":schema http_events");
    let path = shown
        .lines()
        .find(|l| l.starts_with("req_path "))
        .unwrap_or_else(|| panic!("no req_path in {shown}"));
    assert!(path.contains("STRING"), "{path}");
    assert!(path.split_whitespace().count() > 3, "a description: {path}");
    let reply = input(&mut s, &[":schema http_event"]);
    assert_eq!(
        reply.errors,
        "error: no table 'http_event' (did you mean 'http_events'?)\n"
    );
}

#[test]
fn run_runs_bundled_scripts_and_files_with_arguments() {
    let mut s = session();
    let shown = ok(&mut s, ":run px/http_data -- --max_num_records=1");
    assert!(shown.contains("(1 row)"), "{shown}");
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("errors.pxl");
    std::fs::write(
        &file,
        "import px\ndf = px.DataFrame(table='http_events')\npx.display(df[df.resp_status >= 500][['req_path']], 'errors')\n",
    )
    .expect("write the script");
    let shown = ok(&mut s, &format!(":run {}", file.display()));
    assert!(shown.starts_with("errors (1 row)"), "{shown}");
    assert!(shown.contains("/checkout"), "{shown}");
    // :run leaves the session alone.
    assert_eq!(ok(&mut s, ":session"), "(no definitions yet)\n");
    let reply = input(&mut s, &[":run px/http_data -- --nope=1"]);
    assert!(
        reply.errors.contains("unknown argument --nope"),
        "{}",
        reply.errors
    );
}

#[test]
fn load_runs_a_file_and_keeps_its_definitions() {
    let mut s = session();
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("defs.pxl");
    std::fs::write(
        &file,
        "import px\n\ndef failing(start: str):\n    df = px.DataFrame(table='http_events', start_time=start)\n    return df[df.resp_status >= 400]\n\nrecent = failing('-5m')\npx.display(recent[['req_path']], 'loaded')\n",
    )
    .expect("write the script");
    let shown = ok(&mut s, &format!(":load {}", file.display()));
    assert!(shown.starts_with("loaded (2 rows)"), "{shown}");
    let shown = ok(&mut s, "recent[['resp_status']]");
    assert!(shown.contains("500") && shown.contains("404"), "{shown}");
    let shown = ok(&mut s, "failing('-1h').head(1)[['req_path']]");
    assert!(shown.starts_with("out (1 row)"), "{shown}");
    // Errors in a loaded file point into the file.
    let bad = dir.path().join("bad.pxl");
    std::fs::write(&bad, "import px\nx = px.DataFrame(table='http_event')\n").expect("write");
    let reply = input(&mut s, &[&format!(":load {}", bad.display())]);
    assert!(
        reply.errors.contains(&format!("{}:2:18:", bad.display())),
        "{}",
        reply.errors
    );
}

#[test]
fn explain_shows_the_plans_of_the_last_input_or_an_expression() {
    let mut s = session();
    assert!(input(&mut s, &[":explain"])
        .errors
        .contains("nothing has run yet"));
    with_http(&mut s);
    ok(&mut s, "df[df.resp_status >= 400]");
    let plan = ok(&mut s, ":explain");
    assert!(plan.starts_with("== output out"), "{plan}");
    assert!(plan.contains("resp_status"), "{plan}");
    let plan = ok(&mut s, ":explain df.head(3)");
    assert!(plan.starts_with("== output out"), "{plan}");
    let plan = ok(&mut s, ":explain --optimized df");
    assert!(plan.starts_with("== output df"), "{plan}");
    ok(&mut s, "n = 1");
    let reply = input(&mut s, &[":explain"]);
    assert!(
        reply.errors.contains("no outputs to plan"),
        "{}",
        reply.errors
    );
    // Explaining defines nothing.
    assert_eq!(
        ok(&mut s, ":session"),
        "df = px.DataFrame(table='http_events')\nn = 1\n"
    );
}

#[test]
fn session_and_reset() {
    let mut s = session();
    with_http(&mut s);
    ok(&mut s, "df  # shown, not kept");
    assert_eq!(
        ok(&mut s, ":session"),
        "df = px.DataFrame(table='http_events')\n"
    );
    assert_eq!(ok(&mut s, ":reset"), "session cleared\n");
    let reply = input(&mut s, &["df"]);
    assert!(reply.errors.contains("df"), "{}", reply.errors);
}

#[test]
fn quit_and_unknown_commands() {
    let mut s = session();
    assert!(input(&mut s, &[":quit"]).quit);
    assert!(input(&mut s, &[":q"]).quit);
    let reply = input(&mut s, &[":tabels"]);
    assert!(!reply.quit);
    assert_eq!(
        reply.errors,
        "error: unknown command ':tabels' (did you mean ':tables'?)\n"
    );
}

/// An executor whose every query is cancelled, as Ctrl-C does.
struct CancelEverything;

impl Executor for CancelEverything {
    fn execute(&self, _job: Job) -> Option<anyhow::Result<JobOutput>> {
        None
    }
}

#[test]
fn a_cancelled_query_says_so_and_keeps_the_definitions() {
    let mut s = session_with(Box::new(CancelEverything));
    // One input of two statements (as the editor hands back a recalled
    // multi-line entry).
    let reply = input(&mut s, &["df = px.DataFrame(table='http_events')\ndf"]);
    assert_eq!(reply.output, "");
    assert!(reply.errors.contains("cancelled"), "{}", reply.errors);
    assert_eq!(
        ok(&mut s, ":session"),
        "df = px.DataFrame(table='http_events')\n"
    );
}

#[test]
fn a_table_added_after_the_start_is_found() {
    use scry_lang::{ColumnSchema, TableSchema};
    use scry_stdlib::{DataType, SemanticType};
    let store = store_with_http_rows();
    let backend = Arc::new(LocalBackend::new(store.clone()));
    let mut s = Session::new(backend, Box::new(RunInline)).expect("tables");
    store
        .register(TableSchema {
            name: "late_events".to_string(),
            desc: "Registered after the REPL started".to_string(),
            columns: vec![
                ColumnSchema::new("time_", DataType::Time64Ns, SemanticType::None, "time"),
                ColumnSchema::new("n", DataType::Int64, SemanticType::None, "a count"),
            ],
        })
        .expect("a valid schema");
    let shown = ok(&mut s, "px.DataFrame(table='late_events')");
    assert!(shown.starts_with("out (0 rows)"), "{shown}");
    assert!(s.tables().iter().any(|t| t.name == "late_events"));
}
