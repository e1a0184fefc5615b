//! The schedule file: a TOML list of `[[schedule]]` entries, validated as a
//! whole before anything runs.
//!
//! ```toml
//! [[schedule]]
//! name = "http_errors_1m"                 # unique; names the rows of scheduled_runs
//! script = "scripts/checks/http_5xx.pxl"  # a file or folder, or a bundled name
//! args = { start_time = "-1m" }           # script arguments (its vis.json variables)
//! every = "1m"                            # 500ms, 30s, 1m, 1h30m …
//! into = "http_errors_rollup"             # optional: append results to this table
//! export = "exports/"                     # optional: one Parquet file per run
//! check = true                            # optional: non-empty output means "failed"
//! ```
//!
//! Relative paths (`script`, `export`) are resolved against the schedule
//! file's folder; a `script` that names no file there is tried as a path
//! from the working directory, then as a bundled name. `check` defaults to
//! true for scripts under a `checks/` folder (and bundled `checks/…` names).
//! Every problem is reported on one line naming the entry and the key.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use scry_lang::bundle::ScriptBundle;

/// The keys an entry may have.
const KEYS: [&str; 7] = ["name", "script", "args", "every", "into", "export", "check"];

/// One validated `[[schedule]]` entry.
#[derive(Debug, Clone)]
pub struct ScheduleEntry {
    pub name: String,
    /// The `script` value as written (for status and messages).
    pub script: String,
    pub bundle: ScriptBundle,
    pub args: Vec<(String, String)>,
    pub every: Duration,
    /// The `every` value as written.
    pub every_text: String,
    pub into: Option<String>,
    pub export: Option<PathBuf>,
    /// Non-empty output is a failure ("failed" in scheduled_runs).
    pub check: bool,
}

/// Why a schedule file was refused: every problem found, one line each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct ScheduleFileError {
    pub problems: Vec<String>,
}

/// Read and validate the schedule file at `path`.
pub fn load(path: &Path) -> Result<Vec<ScheduleEntry>, ScheduleFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScheduleFileError {
        problems: vec![format!("cannot read schedule file {}: {e}", path.display())],
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, &path.display().to_string(), base)
}

/// Validate schedule-file text; `origin` names it in messages and relative
/// paths are resolved against `base`.
pub fn parse(
    text: &str,
    origin: &str,
    base: &Path,
) -> Result<Vec<ScheduleEntry>, ScheduleFileError> {
    let fail = |problem: String| ScheduleFileError {
        problems: vec![problem],
    };
    let doc: toml::Table =
        toml::from_str(text).map_err(|e| fail(syntax_error(origin, text, &e)))?;
    let mut problems = Vec::new();
    for key in doc.keys().filter(|k| k.as_str() != "schedule") {
        problems.push(format!(
            "{origin}: unknown top-level key '{key}' (write entries as [[schedule]] tables)"
        ));
    }
    let entries = match doc.get("schedule") {
        None => {
            problems.push(format!("{origin}: no [[schedule]] entries"));
            &Vec::new()
        }
        Some(toml::Value::Array(entries)) => entries,
        Some(_) => {
            problems.push(format!(
                "{origin}: 'schedule' must be a list of tables, written [[schedule]]"
            ));
            &Vec::new()
        }
    };
    let mut parsed = Vec::new();
    let mut names = HashSet::new();
    for (index, value) in entries.iter().enumerate() {
        let Some(table) = value.as_table() else {
            problems.push(format!(
                "{origin}: schedule entry {} is not a table (write it as [[schedule]])",
                index + 1
            ));
            continue;
        };
        if let Some(name) = table.get("name").and_then(|v| v.as_str()) {
            if !names.insert(name.to_string()) {
                problems.push(format!(
                    "{origin}: schedule '{name}' (entry {}): key 'name': another entry already uses this name",
                    index + 1
                ));
            }
        }
        if let Some(entry) = parse_entry(table, index, origin, base, &mut problems) {
            parsed.push(entry);
        }
    }
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(ScheduleFileError { problems })
    }
}

/// A TOML syntax error on one line: `file:line:col: message`.
fn syntax_error(origin: &str, text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', "; ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{origin}:{line}:{col}: {message}")
        }
        None => format!("{origin}: {message}"),
    }
}

/// One entry's fields; problems are pushed (naming the entry and key) and
/// `None` is returned when the entry cannot be used.
fn parse_entry(
    table: &toml::Table,
    index: usize,
    origin: &str,
    base: &Path,
    problems: &mut Vec<String>,
) -> Option<ScheduleEntry> {
    let name = table
        .get("name")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let entry_label = match &name {
        Some(n) => format!("{origin}: schedule '{n}' (entry {})", index + 1),
        None => format!("{origin}: schedule entry {}", index + 1),
    };
    let start = problems.len();
    let mut problem = |key: &str, message: String| {
        problems.push(format!("{entry_label}: key '{key}': {message}"));
    };

    for key in table.keys() {
        if !KEYS.contains(&key.as_str()) {
            let hint = match scry_lang::diag::near_name(key, KEYS) {
                Some(near) => format!("did you mean '{near}'? "),
                None => String::new(),
            };
            problem(
                key,
                format!("unknown key ({hint}valid keys: {})", KEYS.join(", ")),
            );
        }
    }

    let string = |key: &str, problem: &mut dyn FnMut(&str, String)| -> Option<String> {
        match table.get(key) {
            None => None,
            Some(toml::Value::String(s)) => Some(s.clone()),
            Some(other) => {
                problem(key, format!("must be a string, got {}", other.type_str()));
                None
            }
        }
    };

    let name = match (string("name", &mut problem), table.contains_key("name")) {
        (Some(n), _) if valid_name(&n) => Some(n),
        (Some(n), _) => {
            problem(
                "name",
                format!("'{n}' is not a valid name (use letters, digits, '_', '-' and '.')"),
            );
            None
        }
        (None, false) => {
            problem("name", "missing (every entry needs a unique name)".into());
            None
        }
        (None, true) => None,
    };

    let every = match string("every", &mut problem) {
        Some(text) => match scry_lang::time::parse_duration(&text).filter(|ns| *ns > 0) {
            Some(ns) => Some((text, Duration::from_nanos(ns.unsigned_abs()))),
            None => {
                problem(
                    "every",
                    format!("'{text}' is not a positive duration (write e.g. 500ms, 30s, 1m)"),
                );
                None
            }
        },
        None => {
            if !table.contains_key("every") {
                problem("every", "missing (write e.g. every = \"1m\")".into());
            }
            None
        }
    };

    let script = string("script", &mut problem);
    let bundle = match &script {
        Some(spec) => match resolve_script(spec, base) {
            Ok(b) => Some(b),
            Err(message) => {
                problem("script", message);
                None
            }
        },
        None => {
            if !table.contains_key("script") {
                problem(
                    "script",
                    "missing (a .pxl file, a script folder or a bundled name)".into(),
                );
            }
            None
        }
    };

    let args = match table.get("args") {
        None => Vec::new(),
        Some(toml::Value::Table(args)) => {
            let mut out = Vec::new();
            for (k, v) in args {
                match scalar_text(v) {
                    Some(text) => out.push((k.clone(), text)),
                    None => problem(
                        "args",
                        format!(
                            "argument '{k}' must be a string, number or boolean, got {}",
                            v.type_str()
                        ),
                    ),
                }
            }
            out
        }
        Some(other) => {
            problem(
                "args",
                format!(
                    "must be a table like {{ start_time = \"-1m\" }}, got {}",
                    other.type_str()
                ),
            );
            Vec::new()
        }
    };
    if let (Some(bundle), false) = (&bundle, args.is_empty()) {
        let declared: Vec<&str> = bundle
            .vis
            .as_ref()
            .map(|v| v.variables.iter().map(|v| v.name.as_str()).collect())
            .unwrap_or_default();
        for (k, _) in &args {
            if !declared.contains(&k.as_str()) {
                let takes = if declared.is_empty() {
                    "the script takes no arguments (they come from a vis.json)".to_string()
                } else {
                    format!("the script takes {}", declared.join(", "))
                };
                problem("args", format!("unknown argument '{k}' ({takes})"));
            }
        }
    }

    let into = string("into", &mut problem);
    if let Some(table_name) = &into {
        if !valid_name(table_name) {
            problem(
                "into",
                format!("'{table_name}' is not a valid table name (use letters, digits, '_', '-' and '.')"),
            );
        } else if scry_runtime::catalog::builtin_schema(table_name).is_some() {
            problem(
                "into",
                format!("'{table_name}' is a builtin table; name a table of your own"),
            );
        }
    }

    let export = string("export", &mut problem).map(|dir| base.join(dir));

    let check = match table.get("check") {
        None => script.as_deref().is_some_and(is_under_checks),
        Some(toml::Value::Boolean(b)) => *b,
        Some(other) => {
            problem(
                "check",
                format!("must be true or false, got {}", other.type_str()),
            );
            false
        }
    };

    if problems.len() > start {
        return None;
    }
    let (every_text, every) = every?;
    Some(ScheduleEntry {
        name: name?,
        script: script?,
        bundle: bundle?,
        args,
        every,
        every_text,
        into,
        export,
        check,
    })
}

/// Names of schedules and derived tables: what a file name and a PxL string
/// can both carry without quoting.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn scalar_text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A path beside the schedule file, else a path from the working directory,
/// else a bundled name.
fn resolve_script(spec: &str, base: &Path) -> Result<ScriptBundle, String> {
    let beside = base.join(spec);
    if beside.exists() {
        return ScriptBundle::load(&beside).map_err(|e| e.to_string());
    }
    if let Ok(bundle) = crate::scripts::resolve(spec) {
        return Ok(bundle);
    }
    let bundled: Vec<String> = crate::scripts::bundled()
        .map(|all| all.into_iter().map(|b| b.name).collect())
        .unwrap_or_default();
    let hint = match scry_lang::diag::near_name(spec, bundled.iter().map(String::as_str)) {
        Some(near) => format!(" (did you mean '{near}'?)"),
        None => String::new(),
    };
    Err(format!(
        "no file {} and no bundled script '{spec}'{hint}",
        beside.display()
    ))
}

/// A script under a `checks/` folder, or a bundled `checks/…` name.
fn is_under_checks(spec: &str) -> bool {
    Path::new(spec)
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .any(|c| c == Component::Normal("checks".as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rollup.pxl"), "import px\n").unwrap();
        match parse(text, "s.toml", dir.path()) {
            Ok(entries) => panic!("accepted {} entries", entries.len()),
            Err(e) => e.problems,
        }
    }

    #[test]
    fn valid_file_with_bundled_check_and_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rollup.pxl"), "import px\n").unwrap();
        let text = r#"
            [[schedule]]
            name = "http_errors_1m"
            script = "checks/http_5xx"
            args = { start_time = "-1m" }
            every = "1m"
            into = "http_errors_rollup"

            [[schedule]]
            name = "rollup"
            script = "rollup.pxl"
            every = "500ms"
            export = "out"
        "#;
        let entries = parse(text, "s.toml", dir.path()).unwrap();
        assert_eq!(entries.len(), 2);
        let e = &entries[0];
        assert_eq!(e.bundle.name, "checks/http_5xx");
        assert_eq!(e.args, [("start_time".to_string(), "-1m".to_string())]);
        assert_eq!(e.every, Duration::from_secs(60));
        assert_eq!(e.into.as_deref(), Some("http_errors_rollup"));
        assert!(e.check, "bundled checks/ scripts are checks");
        let r = &entries[1];
        assert_eq!(r.every, Duration::from_millis(500));
        assert_eq!(r.export.as_deref(), Some(dir.path().join("out").as_path()));
        assert!(!r.check);
    }

    #[test]
    fn each_problem_is_one_line_naming_entry_and_key() {
        let p = problems(
            r#"
            [[schedule]]
            name = "a"
            script = "rollup.pxl"
            evry = "1m"

            [[schedule]]
            name = "b"
            script = "nope.pxl"
            every = "5x"

            [[schedule]]
            name = "a"
            script = "rollup.pxl"
            every = "1s"

            [[schedule]]
            script = "checks/http_5xx"
            every = "1s"
            into = "http_events"
            args = { start = "-1m" }
            check = "yes"
        "#,
        );
        let expected = [
            "s.toml: schedule 'a' (entry 1): key 'evry': unknown key (did you mean 'every'? valid keys: name, script, args, every, into, export, check)",
            "s.toml: schedule 'a' (entry 1): key 'every': missing (write e.g. every = \"1m\")",
            "s.toml: schedule 'b' (entry 2): key 'every': '5x' is not a positive duration (write e.g. 500ms, 30s, 1m)",
            "s.toml: schedule 'a' (entry 3): key 'name': another entry already uses this name",
            "s.toml: schedule entry 4: key 'name': missing (every entry needs a unique name)",
            "s.toml: schedule entry 4: key 'args': unknown argument 'start' (the script takes start_time, path_filter)",
            "s.toml: schedule entry 4: key 'into': 'http_events' is a builtin table; name a table of your own",
            "s.toml: schedule entry 4: key 'check': must be true or false, got string",
        ];
        let script_problem = p
            .iter()
            .find(|l| l.contains("key 'script'"))
            .expect("missing script reported");
        assert!(
            script_problem.starts_with("s.toml: schedule 'b' (entry 2): key 'script': no file ")
                && script_problem.contains("nope.pxl"),
            "{script_problem}"
        );
        for line in expected {
            assert!(
                p.contains(&line.to_string()),
                "{line}\nnot in:\n{}",
                p.join("\n")
            );
        }
        assert!(p.iter().all(|l| !l.contains('\n')), "{p:?}");
        assert_eq!(p.len(), expected.len() + 1, "{}", p.join("\n"));
    }

    #[test]
    fn syntax_errors_and_empty_files() {
        let p = problems("[[schedule]]\nname = \"a\nevery = \"1s\"\n");
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("s.toml:2:"), "{p:?}");
        assert!(!p[0].contains('\n'), "{p:?}");
        assert_eq!(problems(""), ["s.toml: no [[schedule]] entries"]);
        assert_eq!(
            problems("schedule = 3"),
            ["s.toml: 'schedule' must be a list of tables, written [[schedule]]"]
        );
    }

    #[test]
    fn checks_are_scripts_under_a_checks_folder() {
        assert!(is_under_checks("checks/http_5xx"));
        assert!(is_under_checks("scripts/checks/http_5xx.pxl"));
        assert!(!is_under_checks("scripts/rollup.pxl"));
        assert!(!is_under_checks("checks"));
    }
}
