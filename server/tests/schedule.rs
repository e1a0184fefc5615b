//! Schedules inside a tokio runtime over a store with data: roll-ups land in
//! their `into` tables run after run, every run is recorded in
//! `scheduled_runs`, a broken script records errors while the others keep
//! running, a scheduled check records "failed", and exports are Parquet
//! files that read back.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use polars::prelude::*;
use scry::schedule::Scheduler;
use scry_lang::catalog::TimeRange;
use scry_lang::TableSource;
use scry_runtime::store::{StoreConfig, TableStore};

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// Four HTTP requests from the last minute, one of them a 500.
fn store_with_http() -> Arc<TableStore> {
    let store = Arc::new(TableStore::new(StoreConfig::default()));
    let schema = store.schema("http_events").unwrap();
    let n = 4;
    let t0 = now_ns() - 60_000_000_000;
    let columns: Vec<Column> = schema
        .columns
        .iter()
        .map(|c| {
            let name: PlSmallStr = c.name.as_str().into();
            match c.name.as_str() {
                "time_" => Int64Chunked::from_vec(name, (0..n).map(|i| t0 + i).collect())
                    .into_datetime(TimeUnit::Nanoseconds, None)
                    .into_column(),
                "resp_status" => Column::new(name, [200i64, 500, 200, 404]),
                "req_path" => Column::new(name, ["/a", "/checkout", "/a", "/missing"]),
                _ => match c.dtype {
                    scry_stdlib::DataType::Boolean => {
                        BooleanChunked::full(name, false, n as usize).into_column()
                    }
                    scry_stdlib::DataType::Int64 => {
                        Int64Chunked::full(name, 1_000_000, n as usize).into_column()
                    }
                    scry_stdlib::DataType::Float64 => {
                        Float64Chunked::full(name, 0.0, n as usize).into_column()
                    }
                    _ => StringChunked::full(name, "", n as usize).into_column(),
                },
            }
        })
        .collect();
    store
        .append("http_events", DataFrame::new(n as usize, columns).unwrap())
        .unwrap();
    store
}

fn all_rows(store: &TableStore, table: &str) -> DataFrame {
    store
        .scan(table, TimeRange::default())
        .unwrap()
        .collect()
        .unwrap()
}

fn strings(df: &DataFrame, column: &str) -> Vec<String> {
    df.column(column)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect()
}

fn distinct_times(df: &DataFrame) -> BTreeSet<i64> {
    df.column("time_")
        .unwrap()
        .datetime()
        .unwrap()
        .physical()
        .iter()
        .flatten()
        .collect()
}

const ROLLUP: &str = "import px\n\
    # Requests per status over the last ten minutes.\n\
    df = px.DataFrame(table='http_events', start_time='-10m')\n\
    df = df.groupby('resp_status').agg(requests=('latency', px.count))\n\
    px.display(df, 'status_counts')\n";

const BROKEN: &str = "import px\n\
    df = px.DataFrame('http_events')\n\
    df = df[df.latncy > 1]\n\
    px.display(df)\n";

const SCHEDULES: &str = r#"
[[schedule]]
name = "status_counts"
script = "rollup.pxl"
every = "200ms"
into = "http_status_rollup"
export = "exports"

[[schedule]]
name = "http_5xx"
script = "checks/http_5xx"
args = { start_time = "-10m" }
every = "300ms"
into = "http_5xx_log"

[[schedule]]
name = "broken"
script = "broken.pxl"
every = "250ms"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_roll_up_record_runs_and_export_while_a_broken_one_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rollup.pxl"), ROLLUP).unwrap();
    std::fs::write(dir.path().join("broken.pxl"), BROKEN).unwrap();
    let file = dir.path().join("schedules.toml");
    std::fs::write(&file, SCHEDULES).unwrap();
    let store = store_with_http();

    let scheduler = Scheduler::start(&file, store.clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let statuses = scheduler.status();
    scheduler.stop().await;

    // Status, in file order.
    let names: Vec<&str> = statuses.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["status_counts", "http_5xx", "broken"]);
    for s in &statuses {
        assert!(s.runs >= 3, "{s:?}");
        assert!(s.last_run_ns.is_some() && s.next_run_ns.is_some(), "{s:?}");
    }
    assert_eq!(statuses[1].last_status.as_deref(), Some("failed"));
    assert_eq!(statuses[2].failures, statuses[2].runs);
    assert!(
        statuses[2]
            .last_error
            .as_deref()
            .unwrap()
            .contains(":3:12: column 'latncy' does not exist"),
        "{:?}",
        statuses[2]
    );

    // The roll-up: one batch of three status rows per run, each stamped.
    let rollup = all_rows(&store, "http_status_rollup");
    let columns: Vec<&str> = rollup
        .get_column_names()
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(columns, ["time_", "resp_status", "requests"]);
    let runs = distinct_times(&rollup);
    assert!(runs.len() >= 3, "{rollup}");
    assert_eq!(rollup.height(), runs.len() * 3, "{rollup}");

    // The scheduled check keeps its violations, the event's time kept aside.
    let log = all_rows(&store, "http_5xx_log");
    assert!(distinct_times(&log).len() >= 3, "{log}");
    assert_eq!(log.get_column_names()[1].as_str(), "event_time");
    assert!(strings(&log, "req_path").iter().all(|p| p == "/checkout"));

    // Every run is in scheduled_runs; the broken one errors every time while
    // the others keep running.
    let recorded = all_rows(&store, "scheduled_runs");
    let run_names = strings(&recorded, "name");
    let run_statuses = strings(&recorded, "status");
    let errors = strings(&recorded, "error");
    let of = |name: &str| -> Vec<(String, String)> {
        run_names
            .iter()
            .zip(run_statuses.iter().zip(errors.iter()))
            .filter(|(n, _)| n.as_str() == name)
            .map(|(_, (s, e))| (s.clone(), e.clone()))
            .collect()
    };
    let rollup_runs = of("status_counts");
    // (The status was read before stopping; a run may have ended since.)
    assert!(rollup_runs.len() as u64 >= statuses[0].runs, "{recorded}");
    assert_eq!(rollup_runs.len(), runs.len(), "{recorded}");
    assert!(
        rollup_runs.iter().all(|(s, _)| s == "ok" || s == "overrun"),
        "{rollup_runs:?}"
    );
    let check_runs = of("http_5xx");
    assert!(check_runs.len() >= 3, "{recorded}");
    assert!(
        check_runs
            .iter()
            .all(|(s, e)| s == "failed" && e.starts_with("check failed: 1 row in http_5xx")),
        "{check_runs:?}"
    );
    let broken_runs = of("broken");
    assert!(broken_runs.len() >= 3, "{recorded}");
    assert!(
        broken_runs
            .iter()
            .all(|(s, e)| s == "error" && e.contains("broken.pxl:3:12:")),
        "{broken_runs:?}"
    );
    let durations = recorded.column("duration").unwrap().i64().unwrap();
    assert!(durations.iter().flatten().all(|d| d >= 0));

    // The derived table is a table like any other for PxL.
    let query = scry_lang::bundle::ScriptBundle::from_texts(
        "q.pxl",
        "import px\ndf = px.DataFrame(table='http_status_rollup')\n\
         df = df[df.resp_status == 500]\npx.display(df[['time_', 'requests']], 'fives')\n",
        None,
        None,
    )
    .unwrap();
    let out = scry::run::run_bundle(&query, &[], &store).unwrap();
    assert_eq!(out[0].1.height(), runs.len());

    // One Parquet file per run, named so they sort by time, that read back.
    let export_dir = dir.path().join("exports");
    let mut files: Vec<_> = std::fs::read_dir(&export_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), runs.len(), "{files:?}");
    let mut previous = i64::MIN;
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(name.ends_with("Z-status_counts.parquet"), "{name}");
        let df = ParquetReader::new(std::fs::File::open(file).unwrap())
            .finish()
            .unwrap();
        assert_eq!(df.height(), 3);
        assert_eq!(df.get_column_names()[0].as_str(), "time_");
        let t = *distinct_times(&df).iter().next().unwrap();
        assert!(t > previous, "files sort by run time");
        previous = t;
        assert!(runs.contains(&t));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_file_starts_nothing_and_names_entry_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schedules.toml");
    std::fs::write(
        &file,
        "[[schedule]]\nname = \"x\"\nscript = \"missing.pxl\"\nevery = \"soon\"\n",
    )
    .unwrap();
    let store = Arc::new(TableStore::default());
    let err = match Scheduler::start(&file, store.clone()) {
        Ok(_) => panic!("an invalid schedule file was accepted"),
        Err(e) => e.to_string(),
    };
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("schedule 'x' (entry 1): key 'script': no file")),
        "{err}"
    );
    assert!(
        lines.iter().any(|l| l
            .contains("schedule 'x' (entry 1): key 'every': 'soon' is not a positive duration")),
        "{err}"
    );
    assert_eq!(all_rows(&store, "scheduled_runs").height(), 0);
}

#[test]
fn schedules_need_a_tokio_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schedules.toml");
    std::fs::write(
        &file,
        "[[schedule]]\nname = \"x\"\nscript = \"checks/http_5xx\"\nevery = \"1s\"\n",
    )
    .unwrap();
    let err = Scheduler::start(&file, Arc::new(TableStore::default()))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("inside a tokio runtime"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_longer_than_its_interval_is_recorded_as_an_overrun() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rollup.pxl"), ROLLUP).unwrap();
    let file = dir.path().join("schedules.toml");
    std::fs::write(
        &file,
        "[[schedule]]\nname = \"eager\"\nscript = \"rollup.pxl\"\nevery = \"1us\"\n",
    )
    .unwrap();
    let store = store_with_http();
    let scheduler = Scheduler::start(&file, store.clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    scheduler.stop().await;
    let recorded = all_rows(&store, "scheduled_runs");
    assert!(recorded.height() >= 2, "{recorded}");
    let statuses = strings(&recorded, "status");
    let errors = strings(&recorded, "error");
    assert!(statuses.iter().all(|s| s == "overrun"), "{recorded}");
    assert!(
        errors
            .iter()
            .all(|e| e.starts_with("overran: took") && e.contains("longer than every = 1us")),
        "{recorded}"
    );
    let rows = recorded.column("rows").unwrap().i64().unwrap();
    assert!(rows.iter().all(|r| r == Some(3)), "{recorded}");
}
