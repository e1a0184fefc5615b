//! `scry check`: PxL checks for CI. A check is a script whose output tables
//! list violations (dbt's convention): it passes when every output is empty
//! and fails showing the offending rows.
//!
//! - [`discover`]: the PATHS given → checks. A `.pxl` file is one check. A
//!   folder laid out as a Pixie bundle (`x/x.pxl`, or one `.pxl` beside a
//!   `vis.json`) is one check; any other folder is searched for `.pxl` files
//!   and bundle folders, each one check. A name that is no path is a bundled
//!   script (`checks/http_5xx`) or a bundled namespace (`checks`).
//! - [`run_checks`]: every check runs on one backend (`--data`, `--capture`
//!   or `--server`); a check that cannot run is reported and the others
//!   still run. Script arguments (`-- --name=value`) go to every check that
//!   declares them in its vis.json.
//! - [`print_report`]: PASS / FAIL / ERROR per check, failing rows (at most
//!   `--max-rows` per output), then a summary line.
//! - [`junit`]: the JUnit XML report (`--junit FILE`).
//!
//! Exit status: 0 when every check passed, 1 when a check failed, 2 when a
//! check could not run (or nothing could: a bad `--data`, an unreachable
//! agent).

pub mod junit;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use polars::prelude::DataFrame;
use scry_lang::bundle::ScriptBundle;

use crate::backend::Backend;
use crate::cli::CheckArgs;
use crate::output::{self, Format};

/// The `classname` of every JUnit test case (CI tools group cases by it).
const JUNIT_CLASSNAME: &str = "scry.check";

/// A check to run: its name and its script, or why the script could not be
/// loaded (reported as that check's error; the other checks still run).
pub struct CheckScript {
    pub name: String,
    pub bundle: Result<ScriptBundle>,
}

/// What running one check found.
pub struct CheckResult {
    pub name: String,
    pub duration: Duration,
    pub outcome: CheckOutcome,
}

pub enum CheckOutcome {
    /// Every output was empty.
    Passed,
    /// The outputs that had rows.
    Failed(Vec<Violations>),
    /// The script could not be loaded, compiled or run.
    Error {
        /// One line, for summaries and the JUnit `message`.
        message: String,
        /// The full diagnostic: line:col, source line and caret.
        detail: String,
    },
}

/// One output table with rows, i.e. the violations it lists.
pub struct Violations {
    pub output: String,
    pub rows: DataFrame,
}

impl Violations {
    fn headline(&self, max_rows: usize) -> String {
        let n = self.rows.height();
        let rows = if n == 1 { "row" } else { "rows" };
        if n > max_rows {
            format!("{}: {n} {rows} (first {max_rows} shown)", self.output)
        } else {
            format!("{}: {n} {rows}", self.output)
        }
    }
}

impl CheckResult {
    fn label(&self) -> &'static str {
        match self.outcome {
            CheckOutcome::Passed => "PASS",
            CheckOutcome::Failed(_) => "FAIL",
            CheckOutcome::Error { .. } => "ERROR",
        }
    }

    /// "3 rows in http_5xx" / "1 row in a, 2 rows in b".
    fn failure_message(violations: &[Violations]) -> String {
        violations
            .iter()
            .map(|v| {
                let n = v.rows.height();
                format!("{n} row{} in {}", if n == 1 { "" } else { "s" }, v.output)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Counts of a run, and the exit status they mean.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
}

impl Summary {
    pub fn of(results: &[CheckResult]) -> Self {
        let mut s = Summary::default();
        for r in results {
            match r.outcome {
                CheckOutcome::Passed => s.passed += 1,
                CheckOutcome::Failed(_) => s.failed += 1,
                CheckOutcome::Error { .. } => s.errors += 1,
            }
        }
        s
    }

    /// 2 if a check could not run, else 1 if one failed, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.errors > 0 {
            2
        } else if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.passed + self.failed + self.errors;
        write!(
            f,
            "{total} check{}: {} passed, {} failed, {} could not run",
            if total == 1 { "" } else { "s" },
            self.passed,
            self.failed,
            self.errors
        )
    }
}

pub fn main(args: CheckArgs) -> Result<ExitCode> {
    let script_args = crate::cli::parse_script_args(&args.script_args)?;
    let checks = discover(&args.paths);
    check_args_are_declared(&checks, &script_args)?;
    let backend = crate::run::backend_for(&args.source, &args.remote)?;
    let format = args.format.unwrap_or_else(crate::run::default_format);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let results = run_checks(backend.as_ref(), checks, &script_args, |result| {
        // A broken stdout (e.g. a closed pipe) must not stop the checks or the report.
        let _ = print_result(&mut out, result, format, args.max_rows);
    });
    let summary = Summary::of(&results);
    writeln!(out, "\n{summary}")?;
    out.flush()?;
    if let Some(path) = &args.junit {
        write_junit(path, &results, args.max_rows)?;
    }
    Ok(ExitCode::from(summary.exit_code()))
}

/// Every check named by `specs`, in the order given (folders in name order),
/// each once.
pub fn discover(specs: &[String]) -> Vec<CheckScript> {
    let mut checks = Vec::new();
    let mut seen = HashSet::new();
    for spec in specs {
        let path = Path::new(spec);
        let found = if path.exists() {
            discover_path(path)
        } else {
            discover_bundled(spec)
        };
        for check in found {
            if seen.insert(dedup_key(&check.name)) {
                checks.push(check);
            }
        }
    }
    checks
}

/// The same file named two ways (`./a.pxl`, `a.pxl`) is one check.
fn dedup_key(name: &str) -> String {
    std::fs::canonicalize(name)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| name.to_string())
}

fn load_check(path: &Path) -> CheckScript {
    CheckScript {
        name: path.display().to_string(),
        bundle: ScriptBundle::load(path).map_err(anyhow::Error::from),
    }
}

fn discover_path(path: &Path) -> Vec<CheckScript> {
    if !path.is_dir() || is_bundle_dir(path) {
        return vec![load_check(path)];
    }
    let mut found = Vec::new();
    if let Err(e) = collect_dir(path, &mut found) {
        return vec![CheckScript {
            name: path.display().to_string(),
            bundle: Err(e),
        }];
    }
    if found.is_empty() {
        found.push(CheckScript {
            name: path.display().to_string(),
            bundle: Err(anyhow::anyhow!(
                "{} holds no .pxl checks (neither files nor bundle folders)",
                path.display()
            )),
        });
    }
    found
}

/// A folder that is one script: Pixie's `x/x.pxl`, or a single `.pxl`
/// beside a `vis.json`.
fn is_bundle_dir(dir: &Path) -> bool {
    let Some(stem) = dir.file_name().and_then(|s| s.to_str()) else {
        return false;
    };
    if dir.join(format!("{stem}.pxl")).is_file() {
        return true;
    }
    dir.join("vis.json").is_file() && pxl_files(dir).map(|f| f.len() == 1).unwrap_or(false)
}

fn pxl_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "pxl") {
            files.push(path);
        }
    }
    Ok(files)
}

/// The checks in a folder that is not a bundle: its `.pxl` files and,
/// recursively, its sub-folders (hidden ones skipped), in name order.
fn collect_dir(dir: &Path, found: &mut Vec<CheckScript>) -> Result<()> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if !hidden {
            entries.push(path);
        }
    }
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if is_bundle_dir(&path) {
                found.push(load_check(&path));
            } else {
                collect_dir(&path, found)?;
            }
        } else if path.extension().is_some_and(|e| e == "pxl") {
            found.push(load_check(&path));
        }
    }
    Ok(())
}

/// A bundled name (`checks/http_5xx`), or every bundled script under a
/// namespace (`checks`, `checks/`).
fn discover_bundled(spec: &str) -> Vec<CheckScript> {
    let not_found = match crate::scripts::resolve(spec) {
        Ok(bundle) => {
            return vec![CheckScript {
                name: bundle.name.clone(),
                bundle: Ok(bundle),
            }]
        }
        Err(e) => e,
    };
    let prefix = format!("{}/", spec.trim_end_matches('/'));
    let in_namespace: Vec<CheckScript> = match crate::scripts::bundled() {
        Ok(all) => all
            .into_iter()
            .filter(|b| b.name.starts_with(&prefix))
            .map(|b| CheckScript {
                name: b.name.clone(),
                bundle: Ok(b),
            })
            .collect(),
        Err(e) => Vec::from([CheckScript {
            name: spec.to_string(),
            bundle: Err(e),
        }]),
    };
    if in_namespace.is_empty() {
        vec![CheckScript {
            name: spec.to_string(),
            bundle: Err(not_found),
        }]
    } else {
        in_namespace
    }
}

/// The flags a check declares (its vis.json variables); plain scripts take none.
fn declared_flags(bundle: &ScriptBundle) -> Vec<&str> {
    bundle
        .vis
        .as_ref()
        .map(|v| v.variables.iter().map(|v| v.name.as_str()).collect())
        .unwrap_or_default()
}

/// Each script argument must be declared by at least one check: an argument
/// nobody takes is a typo that would otherwise silently check nothing.
fn check_args_are_declared(checks: &[CheckScript], args: &[(String, String)]) -> Result<()> {
    let mut declared: Vec<&str> = checks
        .iter()
        .filter_map(|c| c.bundle.as_ref().ok())
        .flat_map(declared_flags)
        .collect();
    declared.sort();
    declared.dedup();
    for (name, _) in args {
        if declared.contains(&name.as_str()) {
            continue;
        }
        let valid = if declared.is_empty() {
            "none of the checks takes arguments".to_string()
        } else {
            let flags: Vec<String> = declared.iter().map(|d| format!("--{d}")).collect();
            format!("the checks take {}", flags.join(", "))
        };
        match scry_lang::diag::near_name(name, declared.iter().copied()) {
            Some(near) => {
                anyhow::bail!("unknown argument --{name} (did you mean --{near}? {valid})")
            }
            None => anyhow::bail!("unknown argument --{name} ({valid})"),
        }
    }
    Ok(())
}

/// The arguments `bundle` declares, in the order given.
fn args_for(bundle: &ScriptBundle, args: &[(String, String)]) -> Vec<(String, String)> {
    let declared = declared_flags(bundle);
    args.iter()
        .filter(|(name, _)| declared.contains(&name.as_str()))
        .cloned()
        .collect()
}

/// Runs every check on `backend`, calling `on_result` as each finishes.
pub fn run_checks(
    backend: &dyn Backend,
    checks: Vec<CheckScript>,
    args: &[(String, String)],
    mut on_result: impl FnMut(&CheckResult),
) -> Vec<CheckResult> {
    let mut results = Vec::with_capacity(checks.len());
    for check in checks {
        let started = Instant::now();
        let outcome = match &check.bundle {
            Ok(bundle) => match backend.run(bundle, &args_for(bundle, args)) {
                Ok(outputs) => judge(outputs),
                Err(e) => error_outcome(&e),
            },
            Err(e) => error_outcome(e),
        };
        let result = CheckResult {
            name: check.name,
            duration: started.elapsed(),
            outcome,
        };
        on_result(&result);
        results.push(result);
    }
    results
}

/// Empty outputs pass; outputs with rows are the violations. A script that
/// displays nothing cannot check anything, so it is an error.
fn judge(outputs: crate::backend::Outputs) -> CheckOutcome {
    if outputs.is_empty() {
        let message =
            "the check displays no table; a check must px.display() its violations".to_string();
        return CheckOutcome::Error {
            detail: message.clone(),
            message,
        };
    }
    let violations: Vec<Violations> = outputs
        .into_iter()
        .filter(|(_, df)| df.height() > 0)
        .map(|(output, rows)| Violations { output, rows })
        .collect();
    if violations.is_empty() {
        CheckOutcome::Passed
    } else {
        CheckOutcome::Failed(violations)
    }
}

fn error_outcome(e: &anyhow::Error) -> CheckOutcome {
    CheckOutcome::Error {
        message: crate::error_line(e),
        detail: crate::render_error(e),
    }
}

fn format_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// One check's report: its status line, then (indented) its failing rows in
/// `format` or its diagnostic.
pub fn print_result(
    w: &mut dyn Write,
    result: &CheckResult,
    format: Format,
    max_rows: usize,
) -> Result<()> {
    let label = result.label();
    let took = format_duration(result.duration);
    match &result.outcome {
        CheckOutcome::Passed => writeln!(w, "{label:<5}  {}  ({took})", result.name)?,
        CheckOutcome::Failed(violations) => {
            writeln!(
                w,
                "{label:<5}  {}  ({took}): {}",
                result.name,
                CheckResult::failure_message(violations)
            )?;
            for v in violations {
                writeln!(w, "  {}", v.headline(max_rows))?;
                let text = render_rows(&v.output, &v.rows, format, max_rows)?;
                write_indented(w, &text, "    ")?;
            }
        }
        CheckOutcome::Error { detail, .. } => {
            writeln!(w, "{label:<5}  {}  ({took})", result.name)?;
            write_indented(w, detail, "    ")?;
        }
    }
    Ok(())
}

fn write_indented(w: &mut dyn Write, text: &str, indent: &str) -> Result<()> {
    for line in text.lines() {
        if line.is_empty() {
            writeln!(w)?;
        } else {
            writeln!(w, "{indent}{line}")?;
        }
    }
    Ok(())
}

/// At most `max_rows` rows of an output: aligned columns, NDJSON or CSV.
fn render_rows(name: &str, df: &DataFrame, format: Format, max_rows: usize) -> Result<String> {
    let shown = df.head(Some(max_rows));
    let mut buf = Vec::new();
    match format {
        Format::Table => buf.extend_from_slice(aligned_table(&shown).as_bytes()),
        Format::Json => output::write_ndjson(&mut buf, name, &shown)?,
        Format::Csv => output::write_csv(&mut buf, name, &shown, false)?,
    }
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    let hidden = df.height().saturating_sub(shown.height());
    if hidden > 0 {
        text.push_str(&format!(
            "… {hidden} more row{} (--max-rows {max_rows})\n",
            if hidden == 1 { "" } else { "s" }
        ));
    }
    Ok(text)
}

/// A frame as aligned columns with a header, one line per row.
fn aligned_table(df: &DataFrame) -> String {
    let mut text = output::aligned_text(df);
    if text.is_empty() {
        text.push('\n');
    }
    text
}

/// The results as JUnit XML in `path`; failing rows as aligned tables.
pub fn write_junit(path: &Path, results: &[CheckResult], max_rows: usize) -> Result<()> {
    let cases = results
        .iter()
        .map(|r| junit_case(r, max_rows))
        .collect::<Result<Vec<_>>>()?;
    let now = scry_lang::time::format_rfc3339(now_ns());
    // JUnit timestamps are ISO 8601 without a zone: 2024-01-31T12:00:00.
    let timestamp = now.get(..19).unwrap_or(&now);
    let xml = junit::render("scry check", timestamp, &cases)?;
    std::fs::write(path, xml)
        .with_context(|| format!("cannot write the JUnit report {}", path.display()))
}

fn junit_case(result: &CheckResult, max_rows: usize) -> Result<junit::TestCase> {
    let outcome = match &result.outcome {
        CheckOutcome::Passed => junit::TestOutcome::Passed,
        CheckOutcome::Failed(violations) => {
            let mut text = String::new();
            for v in violations {
                text.push_str(&v.headline(max_rows));
                text.push('\n');
                text.push_str(&render_rows(&v.output, &v.rows, Format::Table, max_rows)?);
            }
            junit::TestOutcome::Failure {
                message: CheckResult::failure_message(violations),
                text,
            }
        }
        CheckOutcome::Error { message, detail } => junit::TestOutcome::Error {
            message: message.clone(),
            text: detail.clone(),
        },
    };
    Ok(junit::TestCase {
        name: result.name.clone(),
        classname: JUNIT_CLASSNAME.to_string(),
        seconds: result.duration.as_secs_f64(),
        outcome,
    })
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn folders_of_loose_scripts_are_many_checks_and_bundles_are_one() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("checks");
        write(&root.join("b.pxl"), "import px\n");
        write(&root.join("a.pxl"), "import px\n");
        write(&root.join("notes.txt"), "not a check");
        write(&root.join("bundle/bundle.pxl"), "import px\n");
        write(&root.join("bundle/helper.pxl"), "import px\n");
        write(&root.join("vis_only/x.pxl"), "import px\n");
        write(&root.join("vis_only/vis.json"), "{}");
        write(&root.join("nested/deeper/c.pxl"), "import px\n");
        write(&root.join(".hidden/d.pxl"), "import px\n");
        let spec = root.display().to_string();
        let names: Vec<String> = discover(&[spec.clone(), format!("{spec}/a.pxl")])
            .into_iter()
            .map(|c| {
                assert!(c.bundle.is_ok(), "{}", c.name);
                c.name.strip_prefix(&spec).unwrap().to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "/a.pxl",
                "/b.pxl",
                "/bundle",
                "/nested/deeper/c.pxl",
                "/vis_only"
            ]
        );
    }

    #[test]
    fn bundled_names_and_namespaces_and_unknown_names() {
        let names = |spec: &str| -> Vec<String> {
            discover(&[spec.to_string()])
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(names("checks/http_5xx"), ["checks/http_5xx"]);
        let all = names("checks");
        assert!(all.contains(&"checks/redis_slow".to_string()), "{all:?}");
        assert!(all.iter().all(|n| n.starts_with("checks/")), "{all:?}");
        assert_eq!(names("checks/"), all);
        let missing = discover(&["checks/http_5x".to_string()]);
        let err = missing[0].bundle.as_ref().err().unwrap().to_string();
        assert!(err.contains("did you mean 'checks/http_5xx'"), "{err}");
    }

    #[test]
    fn arguments_go_to_the_checks_that_declare_them() {
        let checks = discover(&["checks".to_string()]);
        let args = vec![
            ("start_time".to_string(), "-1h".to_string()),
            ("threshold".to_string(), "5ms".to_string()),
        ];
        check_args_are_declared(&checks, &args).unwrap();
        let redis = checks
            .iter()
            .find(|c| c.name == "checks/redis_slow")
            .unwrap();
        assert_eq!(args_for(redis.bundle.as_ref().unwrap(), &args), args);
        let http = checks.iter().find(|c| c.name == "checks/http_5xx").unwrap();
        assert_eq!(args_for(http.bundle.as_ref().unwrap(), &args), args[..1]);
        let typo = vec![("treshold".to_string(), "1ms".to_string())];
        let err = check_args_are_declared(&checks, &typo)
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean --threshold?"), "{err}");
    }

    #[test]
    fn exit_codes_rank_errors_over_failures() {
        let s = |passed, failed, errors| Summary {
            passed,
            failed,
            errors,
        };
        assert_eq!(s(3, 0, 0).exit_code(), 0);
        assert_eq!(s(3, 1, 0).exit_code(), 1);
        assert_eq!(s(0, 1, 1).exit_code(), 2);
        assert_eq!(
            s(1, 1, 1).to_string(),
            "3 checks: 1 passed, 1 failed, 1 could not run"
        );
    }
}
