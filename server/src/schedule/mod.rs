//! Schedules: scripts the agent runs on an interval (`scry agent --schedule
//! FILE`), for roll-ups that outlive raw data and for checks that watch.
//!
//! - [`config`]: the TOML file of `[[schedule]]` entries, validated up front.
//! - [`Scheduler`]: one tokio task per entry. Each tick runs the script on
//!   `spawn_blocking` (Polars is CPU-bound) against the agent's store; a run
//!   still going when ticks come due makes them skipped
//!   (`MissedTickBehavior::Skip`) and the run is recorded as an overrun.
//! - Every run appends one row to `scheduled_runs` (time_, name, duration,
//!   rows, status, error). Status is `ok`; `failed` for a check with rows;
//!   `error` when the script could not run or its results could not be
//!   stored; `overrun` for an otherwise ok run that took longer than `every`
//!   (a failed or error run keeps its status and notes the overrun in
//!   `error`). No run stops another, or the schedule.
//! - `into = "table"`: the run's rows, stamped with the run's time as a first
//!   `time_` column (a `time_` of the script's own is kept as `event_time`),
//!   are appended to a derived table, registered in the store on the first
//!   run and capped like any table, so `px.DataFrame('table')` reads the
//!   roll-up long after the raw rows expired. The script must have a single
//!   output, and keep its columns from run to run.
//! - `export = "dir"`: each run with rows writes `dir/<time>-<name>.parquet`
//!   (the same stamped frame; `<time>` like `20240131T120000.123456789Z`, so
//!   names sort by time), through a temporary file renamed into place.
//! - [`list_main`]: `scry schedules --server ADDR`, the agent's schedules
//!   with their last and next runs.

pub mod config;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use futures::channel::oneshot;
use polars::prelude::{
    ChunkFull, Column, DataFrame, DataType as PlType, Int64Chunked, IntoColumn, ParquetWriter,
    TimeUnit,
};
use scry_lang::catalog::{ColumnSchema, TableSchema};
use scry_lang::value::ColumnInfo;
use scry_runtime::store::TableStore;
use scry_stdlib::{DataType, SemanticType};
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, MissedTickBehavior};

use crate::backend::LocalBackend;
use crate::cli::SchedulesArgs;
pub use config::{ScheduleEntry, ScheduleFileError};

/// The table every run is recorded in.
pub const RUNS_TABLE: &str = "scheduled_runs";

/// What a script's own `time_` column is renamed to when its rows are
/// stamped with the run's time.
pub const EVENT_TIME_COLUMN: &str = "event_time";

/// One schedule's state, as `scry schedules` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScheduleStatus {
    pub name: String,
    pub script: String,
    pub every: String,
    pub into: Option<String>,
    pub runs: u64,
    pub failures: u64,
    pub last_run_ns: Option<i64>,
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    pub next_run_ns: Option<i64>,
}

/// The schedules of one agent, each running in its own task.
pub struct Scheduler {
    statuses: Vec<Arc<Mutex<ScheduleStatus>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    stop_signals: Vec<oneshot::Sender<()>>,
}

impl Scheduler {
    /// Parse `path` and start every entry on the current tokio runtime.
    /// Nothing starts unless the whole file is valid.
    pub fn start(path: &Path, store: Arc<TableStore>) -> Result<Scheduler> {
        let entries = config::load(path)?;
        Self::start_entries(entries, store)
    }

    /// Start already-validated entries on the current tokio runtime.
    pub fn start_entries(entries: Vec<ScheduleEntry>, store: Arc<TableStore>) -> Result<Scheduler> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| anyhow::anyhow!("schedules must be started inside a tokio runtime"))?;
        for entry in &entries {
            if let Some(dir) = &entry.export {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!(
                        "schedule '{}': cannot create export folder {}",
                        entry.name,
                        dir.display()
                    )
                })?;
            }
        }
        let mut scheduler = Scheduler {
            statuses: Vec::new(),
            tasks: Vec::new(),
            stop_signals: Vec::new(),
        };
        for entry in entries {
            let status = Arc::new(Mutex::new(ScheduleStatus {
                name: entry.name.clone(),
                script: entry.script.clone(),
                every: entry.every_text.clone(),
                into: entry.into.clone(),
                runs: 0,
                failures: 0,
                last_run_ns: None,
                last_status: None,
                last_error: None,
                next_run_ns: Some(now_ns()),
            }));
            let (stop, stopped) = oneshot::channel();
            let task = runtime.spawn(run_schedule(
                Arc::new(entry),
                store.clone(),
                status.clone(),
                stopped,
            ));
            scheduler.statuses.push(status);
            scheduler.tasks.push(task);
            scheduler.stop_signals.push(stop);
        }
        Ok(scheduler)
    }

    /// Every schedule's state, in file order.
    pub fn status(&self) -> Vec<ScheduleStatus> {
        self.statuses.iter().map(|s| lock(s).clone()).collect()
    }

    /// Stop ticking; runs in progress finish and are recorded first.
    pub async fn stop(self) {
        for stop in self.stop_signals {
            // A task that already ended has dropped its receiver: nothing to stop.
            let _ = stop.send(());
        }
        for task in self.tasks {
            if let Err(e) = task.await {
                if e.is_panic() {
                    eprintln!("scry: a schedule task panicked: {e}");
                }
            }
        }
    }
}

fn lock(status: &Mutex<ScheduleStatus>) -> std::sync::MutexGuard<'_, ScheduleStatus> {
    status.lock().unwrap_or_else(|e| e.into_inner())
}

/// One schedule's loop: tick, run on the blocking pool, record; until stopped.
async fn run_schedule(
    entry: Arc<ScheduleEntry>,
    store: Arc<TableStore>,
    status: Arc<Mutex<ScheduleStatus>>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut interval = tokio::time::interval(entry.every);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        let due = tokio::select! {
            due = interval.tick() => due,
            _ = &mut stopped => break,
        };
        let started_ns = now_ns();
        let run = {
            let entry = entry.clone();
            let store = store.clone();
            tokio::task::spawn_blocking(move || run_once(&entry, &store, started_ns))
        };
        let mut record = match run.await {
            Ok(record) => record,
            Err(e) => RunRecord::error(0, format!("the run panicked: {e}")),
        };
        let finished = Instant::now();
        let late = finished.saturating_duration_since(due);
        if late > entry.every {
            record.note_overrun(late, entry.every, &entry.every_text);
        }
        record_run(&store, &entry.name, started_ns, &record);

        let next_due = next_tick(due, finished, entry.every);
        let mut s = lock(&status);
        s.runs += 1;
        if matches!(record.status, RunStatus::Failed | RunStatus::Error) {
            s.failures += 1;
        }
        s.last_run_ns = Some(started_ns);
        s.last_status = Some(record.status.as_str().to_string());
        s.last_error = Some(record.error.clone()).filter(|e| !e.is_empty());
        s.next_run_ns = Some(
            now_ns().saturating_add(
                i64::try_from(
                    next_due
                        .saturating_duration_since(Instant::now())
                        .as_nanos(),
                )
                .unwrap_or(i64::MAX),
            ),
        );
    }
}

/// When the next run starts: the next tick, or right away when the run
/// overran (tokio fires one late tick, then skips to the schedule).
fn next_tick(due: Instant, finished: Instant, every: Duration) -> Instant {
    let next = due + every;
    if next > finished {
        next
    } else {
        finished
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Ok,
    /// A check whose outputs had rows.
    Failed,
    /// The script could not run, or its results could not be stored.
    Error,
    /// An otherwise ok run that took longer than `every`.
    Overrun,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Error => "error",
            RunStatus::Overrun => "overrun",
        }
    }
}

/// One run, as recorded in `scheduled_runs`.
#[derive(Debug, Clone)]
struct RunRecord {
    duration_ns: i64,
    rows: i64,
    status: RunStatus,
    error: String,
}

impl RunRecord {
    fn error(rows: i64, error: String) -> Self {
        RunRecord {
            duration_ns: 0,
            rows,
            status: RunStatus::Error,
            error,
        }
    }

    fn note_overrun(&mut self, took: Duration, every: Duration, every_text: &str) {
        let skipped = (took.as_nanos() / every.as_nanos().max(1)).saturating_sub(1);
        let note = format!(
            "overran: took {:.3}s, longer than every = {every_text}; {skipped} tick{} skipped",
            took.as_secs_f64(),
            if skipped == 1 { "" } else { "s" }
        );
        if self.status == RunStatus::Ok {
            self.status = RunStatus::Overrun;
            self.error = note;
        } else {
            self.error = format!("{}; {note}", self.error);
        }
    }
}

/// Run the script once (on a blocking thread) and store its results.
fn run_once(entry: &ScheduleEntry, store: &Arc<TableStore>, run_ns: i64) -> RunRecord {
    let started = std::time::Instant::now();
    let mut record = run_and_store(entry, store, run_ns);
    record.duration_ns = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
    record
}

fn run_and_store(entry: &ScheduleEntry, store: &Arc<TableStore>, run_ns: i64) -> RunRecord {
    let backend = LocalBackend::new(store.clone());
    let compiled = match backend.compile(&entry.bundle, &entry.args) {
        Ok(c) => c,
        Err(e) => return RunRecord::error(0, crate::error_line(&e)),
    };
    let outputs = match scry_runtime::exec::execute(&compiled) {
        Ok(o) => o,
        Err(e) => return RunRecord::error(0, e.to_string()),
    };
    let rows: usize = outputs.iter().map(|(_, df)| df.height()).sum();
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    let mut record = if entry.check && rows > 0 {
        let with_rows: Vec<String> = outputs
            .iter()
            .filter(|(_, df)| df.height() > 0)
            .map(|(name, df)| {
                let n = df.height();
                format!("{n} row{} in {name}", if n == 1 { "" } else { "s" })
            })
            .collect();
        RunRecord {
            duration_ns: 0,
            rows,
            status: RunStatus::Failed,
            error: format!("check failed: {}", with_rows.join(", ")),
        }
    } else {
        RunRecord {
            duration_ns: 0,
            rows,
            status: RunStatus::Ok,
            error: String::new(),
        }
    };
    if entry.into.is_none() && entry.export.is_none() {
        return record;
    }
    let columns: Vec<&[ColumnInfo]> = compiled
        .outputs
        .iter()
        .map(|o| o.columns.as_slice())
        .collect();
    let stored = store_results(entry, store, run_ns, &outputs, &columns);
    if let Err(e) = stored {
        let message = format!("{e:#}");
        record.error = if record.error.is_empty() {
            message
        } else {
            format!("{}; {message}", record.error)
        };
        record.status = RunStatus::Error;
    }
    record
}

/// Append to `into` and write the export file.
fn store_results(
    entry: &ScheduleEntry,
    store: &TableStore,
    run_ns: i64,
    outputs: &[(String, DataFrame)],
    columns: &[&[ColumnInfo]],
) -> Result<()> {
    if let Some(table) = &entry.into {
        let [(_, df)] = outputs else {
            anyhow::bail!(
                "into = '{table}' needs a script with exactly one output table; it has {}",
                outputs.len()
            );
        };
        let (schema, frame) = stamp(table, &entry.name, run_ns, df, columns.first().copied())?;
        store.register(schema).map_err(|e| match e {
            scry_runtime::store::StoreError::SchemaConflict { .. } => anyhow::anyhow!(
                "table '{table}' already has other columns than this run's output; \
                 the script's output changed: give `into` a new name"
            ),
            other => anyhow::anyhow!("into = '{table}': {other}"),
        })?;
        store
            .append(table, frame)
            .with_context(|| format!("appending to '{table}'"))?;
    }
    if let Some(dir) = &entry.export {
        let several = outputs.len() > 1;
        for (i, (output, df)) in outputs.iter().enumerate() {
            if df.height() == 0 {
                continue;
            }
            let table = entry.into.as_deref().unwrap_or(&entry.name);
            let (_, mut frame) = stamp(table, &entry.name, run_ns, df, columns.get(i).copied())?;
            let file = export_path(dir, &entry.name, several.then_some(output.as_str()), run_ns);
            write_parquet(&file, &mut frame)?;
        }
    }
    Ok(())
}

/// `dir/20240131T120000.123456789Z-<name>[-<output>].parquet`.
pub fn export_path(dir: &Path, name: &str, output: Option<&str>, run_ns: i64) -> PathBuf {
    let stamp: String = scry_lang::time::format_rfc3339(run_ns)
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let output: String = output
        .map(|o| {
            let safe: String = o
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '_' | '.') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            format!("-{safe}")
        })
        .unwrap_or_default();
    dir.join(format!("{stamp}-{name}{output}.parquet"))
}

/// Written beside, then renamed: readers never see half a file.
fn write_parquet(file: &Path, frame: &mut DataFrame) -> Result<()> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = file.with_file_name(format!(".{name}.partial"));
    let out = std::fs::File::create(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    ParquetWriter::new(out)
        .finish(frame)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, file)
        .with_context(|| format!("cannot move {} into place", file.display()))
}

/// The output's rows with the run's time as a first `time_` column, and the
/// table schema they make (semantic types from the compiler's columns).
fn stamp(
    table: &str,
    schedule: &str,
    run_ns: i64,
    df: &DataFrame,
    info: Option<&[ColumnInfo]>,
) -> Result<(TableSchema, DataFrame)> {
    let mut schema_columns = vec![ColumnSchema::new(
        scry_runtime::catalog::TIME_COLUMN,
        DataType::Time64Ns,
        SemanticType::None,
        "When the scheduled run that produced the row started",
    )];
    let height = df.height();
    let mut columns: Vec<Column> =
        vec![
            Int64Chunked::full(scry_runtime::catalog::TIME_COLUMN.into(), run_ns, height)
                .into_datetime(TimeUnit::Nanoseconds, None)
                .into_column(),
        ];
    for column in df.columns() {
        let source_name = column.name().as_str();
        let name = if source_name == scry_runtime::catalog::TIME_COLUMN {
            EVENT_TIME_COLUMN
        } else {
            source_name
        };
        let compiled = info.and_then(|cols| cols.iter().find(|c| c.name == source_name));
        let dtype = match compiled {
            Some(c) => c.dtype,
            None => DataType::from_polars(column.dtype()).ok_or_else(|| {
                anyhow::anyhow!(
                    "column '{source_name}' has type {}, which a table cannot store",
                    column.dtype()
                )
            })?,
        };
        let semantic = compiled.map_or(SemanticType::None, |c| c.semantic);
        let converted = cast_for_table(column, dtype)
            .with_context(|| format!("column '{source_name}' cannot be stored as {dtype}"))?;
        columns.push(converted.with_name(name.into()));
        schema_columns.push(ColumnSchema::new(
            name,
            dtype,
            semantic,
            &format!("{source_name} of schedule '{schedule}'"),
        ));
    }
    let schema = TableSchema {
        name: table.to_string(),
        desc: format!("Rows of schedule '{schedule}', stamped with the time of each run"),
        columns: schema_columns,
    };
    let frame = DataFrame::new(height, columns)
        .with_context(|| format!("building the rows for '{table}'"))?;
    Ok((schema, frame))
}

fn cast_for_table(column: &Column, dtype: DataType) -> Result<Column> {
    let target = dtype.to_polars();
    if column.dtype() == &target {
        return Ok(column.clone());
    }
    if let (PlType::Datetime(unit, _), DataType::Time64Ns) = (column.dtype(), dtype) {
        if *unit != TimeUnit::Nanoseconds {
            return Ok(column.cast(&target)?);
        }
    }
    Ok(column.strict_cast(&target)?)
}

/// Append one row to `scheduled_runs`. The table is builtin, so this only
/// fails if its schema and this code disagree; that is reported on stderr.
fn record_run(store: &TableStore, name: &str, started_ns: i64, record: &RunRecord) {
    let appended = DataFrame::new(
        1,
        vec![
            Int64Chunked::full(scry_runtime::catalog::TIME_COLUMN.into(), started_ns, 1)
                .into_datetime(TimeUnit::Nanoseconds, None)
                .into_column(),
            Column::new("name".into(), [name]),
            Column::new("duration".into(), [record.duration_ns]),
            Column::new("rows".into(), [record.rows]),
            Column::new("status".into(), [record.status.as_str()]),
            Column::new("error".into(), [record.error.as_str()]),
        ],
    )
    .map_err(anyhow::Error::from)
    .and_then(|df| Ok(store.append(RUNS_TABLE, df)?));
    if let Err(e) = appended {
        eprintln!("scry: schedule '{name}': cannot record the run in {RUNS_TABLE}: {e:#}");
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `scry schedules --server ADDR`.
pub fn list_main(args: SchedulesArgs) -> Result<ExitCode> {
    let addr = args.remote.server.as_deref().ok_or_else(|| {
        anyhow::anyhow!("scry schedules asks an agent: give its address with --server ADDR")
    })?;
    let statuses =
        crate::flight::client::RemoteBackend::connect(addr, &args.remote)?.schedules()?;
    if statuses.is_empty() {
        println!("the agent at {addr} runs no schedules (start it with --schedule FILE)");
    } else {
        print!("{}", render_statuses(&statuses));
    }
    Ok(ExitCode::SUCCESS)
}

/// Schedules as aligned columns: name, script, every, into, runs,
/// failures, last run (time and status), next run, last error.
pub fn render_statuses(statuses: &[ScheduleStatus]) -> String {
    let time = |ns: Option<i64>| {
        ns.map(|ns| {
            let t = scry_lang::time::format_rfc3339(ns);
            // Milliseconds are enough to read a schedule: 2024-01-31T12:00:00.123Z.
            format!("{}Z", t.get(..23).unwrap_or(&t))
        })
        .unwrap_or_else(|| "-".to_string())
    };
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header([
        "NAME",
        "SCRIPT",
        "EVERY",
        "INTO",
        "RUNS",
        "FAILURES",
        "LAST RUN",
        "STATUS",
        "NEXT RUN",
        "LAST ERROR",
    ]);
    for s in statuses {
        table.add_row([
            s.name.clone(),
            s.script.clone(),
            s.every.clone(),
            s.into.clone().unwrap_or_else(|| "-".into()),
            s.runs.to_string(),
            s.failures.to_string(),
            time(s.last_run_ns),
            s.last_status.clone().unwrap_or_else(|| "-".into()),
            time(s.next_run_ns),
            s.last_error.clone().unwrap_or_default(),
        ]);
    }
    for col in 0..10 {
        if let Some(c) = table.column_mut(col) {
            c.set_padding((0, 2));
        }
    }
    table
        .to_string()
        .lines()
        .map(|line| format!("{}\n", line.trim_end()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names_sort_by_time() {
        let dir = Path::new("/x");
        let a = export_path(dir, "roll", None, 1_700_000_000_000_000_009);
        let b = export_path(dir, "roll", Some("out/1"), 1_700_000_000_100_000_000);
        assert_eq!(a, Path::new("/x/20231114T221320.000000009Z-roll.parquet"));
        assert_eq!(
            b,
            Path::new("/x/20231114T221320.100000000Z-roll-out_1.parquet")
        );
        assert!(a < b);
    }

    #[test]
    fn overruns_keep_failures_and_count_skipped_ticks() {
        let mut ok = RunRecord {
            duration_ns: 0,
            rows: 1,
            status: RunStatus::Ok,
            error: String::new(),
        };
        ok.note_overrun(
            Duration::from_millis(750),
            Duration::from_millis(200),
            "200ms",
        );
        assert_eq!(ok.status, RunStatus::Overrun);
        assert_eq!(
            ok.error,
            "overran: took 0.750s, longer than every = 200ms; 2 ticks skipped"
        );
        let mut failed = RunRecord::error(0, "x.pxl:1:1: bad".into());
        failed.note_overrun(
            Duration::from_millis(300),
            Duration::from_millis(200),
            "200ms",
        );
        assert_eq!(failed.status, RunStatus::Error);
        assert!(
            failed.error.starts_with("x.pxl:1:1: bad; overran"),
            "{}",
            failed.error
        );
    }

    #[test]
    fn stamping_renames_the_scripts_own_time_and_casts_counts() {
        let df = DataFrame::new(
            2,
            vec![
                Int64Chunked::from_vec("time_".into(), vec![5, 6])
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
                Column::new("n".into(), [1u32, 2]),
                Column::new("s".into(), ["a", "b"]),
            ],
        )
        .unwrap();
        let (schema, frame) = stamp("t", "sched", 42, &df, None).unwrap();
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["time_", "event_time", "n", "s"]);
        let t = frame
            .column("event_time")
            .unwrap()
            .cast(&PlType::Int64)
            .unwrap();
        assert_eq!(t.i64().unwrap().get(0), Some(5_000));
        let store = TableStore::default();
        store.register(schema).unwrap();
        store.append("t", frame).unwrap();
    }

    #[test]
    fn statuses_render_as_a_table() {
        let text = render_statuses(&[ScheduleStatus {
            name: "http_errors_1m".into(),
            script: "checks/http_5xx".into(),
            every: "1m".into(),
            into: Some("http_errors_rollup".into()),
            runs: 3,
            failures: 1,
            last_run_ns: Some(1_700_000_000_123_456_789),
            last_status: Some("failed".into()),
            last_error: Some("check failed: 2 rows in http_5xx".into()),
            next_run_ns: None,
        }]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("NAME"), "{text}");
        assert!(lines[1].contains("2023-11-14T22:13:20.123Z"), "{text}");
        assert!(lines[1].contains("failed"), "{text}");
        assert!(
            lines[1].contains("check failed: 2 rows in http_5xx"),
            "{text}"
        );
    }
}
