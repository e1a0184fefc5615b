//! The REPL's `:` commands: what each one does, its help line, and the
//! one-line error (with the nearest name) for an unknown one.

use polars::prelude::{Column, DataFrame};
use scry_lang::TableSchema;

use super::session::{render_outputs, JobOutput, Purpose, Reply, Session};

/// Every command: name, arguments, what it does.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (":help", "", "this list"),
    (":tables", "", "tables with their column and row counts"),
    (
        ":schema",
        "TABLE",
        "a table's columns: type, semantic type, description",
    ),
    (
        ":run",
        "SCRIPT [-- --arg=value …]",
        "run a bundled script (px/name) or a file, outside the session",
    ),
    (
        ":load",
        "FILE.pxl",
        "run a file and keep its definitions in the session",
    ),
    (
        ":explain",
        "[--optimized] [EXPR]",
        "the plans of the last input, or of EXPR",
    ),
    (":session", "", "the definitions the session holds"),
    (":reset", "", "forget every definition"),
    (":quit", "", "leave (also Ctrl-D)"),
];

/// Short spellings accepted besides the names above.
const ALIASES: &[(&str, &str)] = &[(":q", ":quit"), (":exit", ":quit"), (":h", ":help")];

/// The command names completion offers.
pub fn names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().map(|(name, ..)| *name)
}

/// Run one `:` command line.
pub fn run(session: &mut Session, line: &str) -> Reply {
    let line = line.trim();
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    };
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == word)
        .map_or(word, |(_, name)| *name);
    match name {
        ":help" => help(),
        ":tables" => tables(session),
        ":schema" => schema(session, rest),
        ":run" => run_script(session, rest),
        ":load" => load(session, rest),
        ":explain" => explain(session, rest),
        ":session" => {
            let text = session.session_text();
            if text.is_empty() {
                Reply::output("(no definitions yet)")
            } else {
                Reply::output(text)
            }
        }
        ":reset" => {
            session.reset();
            Reply::output("session cleared")
        }
        ":quit" => Reply {
            quit: true,
            ..Reply::default()
        },
        _ => unknown(word),
    }
}

fn unknown(word: &str) -> Reply {
    let near = scry_lang::diag::near_name(word, names());
    match near {
        Some(n) => Reply::error(format!(
            "error: unknown command '{word}' (did you mean '{n}'?)"
        )),
        None => Reply::error(format!(
            "error: unknown command '{word}'; :help lists the commands"
        )),
    }
}

fn help() -> Reply {
    let width = COMMANDS
        .iter()
        .map(|(n, a, _)| n.len() + a.len() + 1)
        .max()
        .unwrap_or(0);
    let mut text = String::from(
        "Type PxL: statements run when complete; a def ends at a blank line.\n\
         Variables stay defined; a bare expression that is a DataFrame is shown.\n\
         Tab completes px functions, table names, columns and commands.\n\
         Ctrl-C cancels a running query or clears the line; Ctrl-D quits.\n\n",
    );
    for (name, args, what) in COMMANDS {
        let usage = if args.is_empty() {
            name.to_string()
        } else {
            format!("{name} {args}")
        };
        text.push_str(&format!("  {usage:width$}  {what}\n"));
    }
    Reply::output(text)
}

/// `:tables`: one row per table. Rows are counted on the backend by a small
/// PxL script, so remote agents answer the same way local stores do.
fn tables(session: &mut Session) -> Reply {
    if let Err(e) = session.refresh_tables() {
        return Reply::error(crate::render_error(&e));
    }
    let tables: Vec<TableSchema> = session.tables().to_vec();
    let mut reply = Reply::default();
    let counts = count_rows(session, &tables, &mut reply);
    let rows: Vec<Option<i64>> = tables
        .iter()
        .map(|t| counts.as_ref().and_then(|c| row_count(c, &t.name)))
        .collect();
    let frame = DataFrame::new(
        tables.len(),
        vec![
            Column::new(
                "table".into(),
                tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "columns".into(),
                tables
                    .iter()
                    .map(|t| t.columns.len() as i64)
                    .collect::<Vec<_>>(),
            ),
            Column::new("rows".into(), rows),
            Column::new(
                "description".into(),
                tables
                    .iter()
                    .map(|t| first_sentence(&t.desc))
                    .collect::<Vec<_>>(),
            ),
        ],
    );
    match frame {
        Ok(df) => reply
            .output
            .push_str(&render_outputs(&[("tables".to_string(), df)], usize::MAX)),
        Err(e) => reply.note(format!("error: {e}")),
    }
    reply
}

/// Row counts per table, as the outputs of one script; `None` (with a note)
/// when the backend could not run it.
fn count_rows(
    session: &Session,
    tables: &[TableSchema],
    reply: &mut Reply,
) -> Option<Vec<(String, DataFrame)>> {
    let mut script = String::from("import px\n");
    for t in tables {
        // A name that would need escaping in a PxL string is left uncounted.
        let plain = !t.name.contains(['\'', '\\', '\n']);
        let (Some(first), true) = (t.columns.first(), plain) else {
            continue;
        };
        script.push_str(&format!(
            "px.display(px.DataFrame(table='{0}').agg(rows=('{1}', px.count)), '{0}')\n",
            t.name, first.name
        ));
    }
    let bundle = scry_lang::bundle::ScriptBundle {
        name: "tables".to_string(),
        pxl: script,
        vis: None,
        vis_json: None,
        manifest: Default::default(),
    };
    let backend = session.backend().clone();
    let job = Box::new(move || Ok(JobOutput::Outputs(backend.run(&bundle, &[])?)));
    match session.execute(job, reply)? {
        JobOutput::Outputs(outputs) => Some(outputs),
        JobOutput::Plan(_) => None,
    }
}

fn row_count(outputs: &[(String, DataFrame)], table: &str) -> Option<i64> {
    let (_, df) = outputs.iter().find(|(name, _)| name == table)?;
    if df.height() == 0 {
        return Some(0);
    }
    let column = df.column("rows").ok()?;
    column.get(0).ok()?.extract::<i64>()
}

fn first_sentence(desc: &str) -> String {
    let line = desc.lines().next().unwrap_or("").trim();
    match line.find(". ") {
        Some(end) => line[..=end].to_string(),
        None => line.to_string(),
    }
}

/// `:schema TABLE`.
fn schema(session: &mut Session, rest: &str) -> Reply {
    if rest.is_empty() {
        return Reply::error("error: :schema needs a table name (:tables lists them)");
    }
    if session.tables().iter().all(|t| t.name != rest) {
        // The table may have appeared since the list was read.
        if let Err(e) = session.refresh_tables() {
            return Reply::error(crate::render_error(&e));
        }
    }
    let Some(table) = session.tables().iter().find(|t| t.name == rest) else {
        let names = session.tables().iter().map(|t| t.name.as_str());
        return Reply::error(match scry_lang::diag::near_name(rest, names) {
            Some(n) => format!("error: no table '{rest}' (did you mean '{n}'?)"),
            None => format!("error: no table '{rest}'; :tables lists them"),
        });
    };
    let cols = &table.columns;
    let frame = DataFrame::new(
        cols.len(),
        vec![
            Column::new(
                "column".into(),
                cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "type".into(),
                cols.iter()
                    .map(|c| c.dtype.pixie_name())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "semantic".into(),
                cols.iter()
                    .map(|c| c.semantic.pixie_name())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "description".into(),
                cols.iter().map(|c| c.desc.as_str()).collect::<Vec<_>>(),
            ),
        ],
    );
    match frame {
        Ok(df) => {
            let mut text = String::new();
            if !table.desc.is_empty() {
                text.push_str(table.desc.trim());
                text.push('\n');
            }
            text.push_str(&render_outputs(&[(table.name.clone(), df)], usize::MAX));
            Reply::output(text)
        }
        Err(e) => Reply::error(format!("error: {e}")),
    }
}

/// `:run SCRIPT [-- --arg=value …]`: a bundled name or a path, run as `scry
/// run` would run it; the session is neither used nor changed.
fn run_script(session: &mut Session, rest: &str) -> Reply {
    let words = match split_words(rest) {
        Ok(w) => w,
        Err(e) => return Reply::error(format!("error: {e}")),
    };
    let Some((spec, args)) = words.split_first() else {
        return Reply::error(
            "error: :run needs a script: a bundled name (px/http_data) or a .pxl file",
        );
    };
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let prepared = crate::scripts::resolve(spec)
        .and_then(|bundle| Ok((bundle, crate::cli::parse_script_args(args)?)));
    let (bundle, script_args) = match prepared {
        Ok(p) => p,
        Err(e) => return Reply::error(crate::render_error(&e)),
    };
    let backend = session.backend().clone();
    let job = Box::new(move || Ok(JobOutput::Outputs(backend.run(&bundle, &script_args)?)));
    let mut reply = Reply::default();
    if let Some(JobOutput::Outputs(outputs)) = session.execute(job, &mut reply) {
        reply
            .output
            .push_str(&render_outputs(&outputs, session.max_display_rows));
    }
    reply
}

/// `:load FILE`: the file's text runs as one input; its definitions join
/// the session (errors point into the file).
fn load(session: &mut Session, rest: &str) -> Reply {
    let path = rest.trim();
    if path.is_empty() {
        return Reply::error("error: :load needs a .pxl file");
    }
    let bundle = match scry_lang::bundle::ScriptBundle::load(std::path::Path::new(path)) {
        Ok(b) => b,
        Err(e) => return Reply::error(format!("error: {e}")),
    };
    let mut reply = session.run_pxl(&bundle.pxl, Some(path), Purpose::Run);
    if bundle.vis.is_some() && reply.errors.is_empty() {
        reply.note(format!(
            "note: {path} has a vis.json; its functions are defined but not called \
             (:run {path} runs it with its arguments)"
        ));
    }
    reply
}

/// `:explain [--optimized] [EXPR]`.
fn explain(session: &mut Session, rest: &str) -> Reply {
    let (optimized, rest) = match rest.strip_prefix("--optimized") {
        Some(r) => (true, r.trim()),
        None => (false, rest),
    };
    if rest.is_empty() {
        session.explain_last(optimized)
    } else {
        session.run_pxl(rest, None, Purpose::Explain { optimized })
    }
}

/// Words separated by spaces; single or double quotes group words.
fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("unclosed {q} quote"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn words_split_on_spaces_and_group_in_quotes() {
        assert_eq!(
            split_words("px/http_data -- --svc='a b' --n=1").unwrap(),
            vec!["px/http_data", "--", "--svc=a b", "--n=1"]
        );
        assert!(split_words("'open").is_err());
    }
}
