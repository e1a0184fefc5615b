//! Tab completion: what can follow the cursor, from the session's state.
//!
//! - `px.` → the px functions (the stdlib registry and the builtins);
//! - `df.` (or `df[df.x > 1].`, `px.DataFrame(...).`) → that frame's columns
//!   and the DataFrame methods;
//! - a string inside `df[…` or `df.method(…` → the columns of `df`; any
//!   other string → table names;
//! - a bare word → names the session defines, `px` and keywords;
//! - `:` → commands; `:schema ` → tables; `:run ` → bundled scripts or
//!   files; `:load ` → files.
//!
//! Columns come from compiling `px.display(<the expression before the
//! cursor>)` after the session text (exact, even after groupby/agg); when
//! that fails (say, the name is defined in the input being typed) the
//! columns of every table the input or the session mentions are offered.

use std::collections::BTreeSet;

use super::session::Session;

/// The px attributes that are not in the stdlib registry.
const PX_BUILTINS: &[&str] = &["DataFrame", "display", "debug", "Time", "Duration"];

/// DataFrame methods offered after `df.`.
const FRAME_METHODS: &[&str] = &[
    "agg", "append", "ctx", "drop", "filter", "groupby", "head", "merge", "stream",
];

const KEYWORDS: &[&str] = &["def", "import", "from", "return", "True", "False", "None"];

/// Candidates for the word before `pos` in `line`: where the word starts,
/// and the full replacements, sorted.
pub fn candidates(session: &Session, line: &str, pos: usize) -> (usize, Vec<String>) {
    let pos = floor_boundary(line, pos.min(line.len()));
    let before = &line[..pos];
    if !session.is_continuing() && before.trim_start().starts_with(':') {
        return command_candidates(session, before);
    }
    if let Some((start, prefix, frame)) = open_string(before) {
        let names: Vec<String> = match frame {
            Some(frame) => columns_of(session, &frame, line),
            None => session.tables().iter().map(|t| t.name.clone()).collect(),
        };
        return (start, matching(names, prefix));
    }
    let word_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let prefix = &before[word_start..];
    if let Some(receiver) = before[..word_start].strip_suffix('.') {
        let receiver = &receiver[chain_start(receiver)..];
        if receiver.is_empty() {
            return (word_start, Vec::new());
        }
        let names: Vec<String> = if receiver == "px" {
            scry_stdlib::registry()
                .names()
                .chain(PX_BUILTINS.iter().copied())
                .map(str::to_string)
                .collect()
        } else {
            let mut names = columns_of(session, receiver, line);
            names.extend(FRAME_METHODS.iter().map(|m| m.to_string()));
            names
        };
        return (word_start, matching(names, prefix));
    }
    let names: Vec<String> = session
        .defined_names()
        .map(str::to_string)
        .chain(KEYWORDS.iter().map(|k| k.to_string()))
        .collect();
    (word_start, matching(names, prefix))
}

fn command_candidates(session: &Session, before: &str) -> (usize, Vec<String>) {
    let start = before.len() - before.trim_start().len();
    let text = before.trim_start();
    let Some((command, arg)) = text.split_once(char::is_whitespace) else {
        let names = super::commands::names().map(str::to_string).collect();
        return (start, matching(names, text));
    };
    let arg_start = before.len() - arg.trim_start().len();
    let arg = arg.trim_start();
    match command {
        ":schema" => {
            let names = session.tables().iter().map(|t| t.name.clone()).collect();
            (arg_start, matching(names, arg))
        }
        ":run" if !arg.contains(char::is_whitespace) => {
            let names: Vec<String> = crate::scripts::bundled()
                .map(|b| b.into_iter().map(|b| b.name).collect())
                .unwrap_or_default();
            let found = matching(names, arg);
            if found.is_empty() {
                return file_candidates(before);
            }
            (arg_start, found)
        }
        ":load" => file_candidates(before),
        _ => (before.len(), Vec::new()),
    }
}

fn file_candidates(before: &str) -> (usize, Vec<String>) {
    let completer = rustyline::completion::FilenameCompleter::new();
    match completer.complete_path(before, before.len()) {
        Ok((start, pairs)) => (start, pairs.into_iter().map(|p| p.replacement).collect()),
        Err(_) => (before.len(), Vec::new()),
    }
}

/// When the cursor is inside a string literal: where its text starts, the
/// text so far, and the frame expression it belongs to (`df['…`,
/// `df[['a', '…`, `df.groupby('…`), if any.
fn open_string(before: &str) -> Option<(usize, &str, Option<String>)> {
    let mut quote: Option<(char, usize)> = None;
    let mut chars = before.char_indices();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some((q, _)) if c == q => quote = None,
            Some(_) if c == '\\' => {
                chars.next();
            }
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some((c, i)),
            None if c == '#' => return None,
            None => {}
        }
    }
    let (_, at) = quote?;
    let start = at + 1;
    Some((start, &before[start..], string_owner(&before[..at])))
}

/// The frame a string being typed belongs to: the innermost `X[` or
/// `X.method(` around it, looking past list literals (`df[['a', …`) and
/// plain calls. `px.…(` belongs to no frame (its strings are table names).
fn string_owner(head: &str) -> Option<String> {
    let mut depth = 0usize;
    for (i, c) in head.char_indices().rev() {
        match c {
            ')' | ']' | '}' => depth += 1,
            '(' | '[' | '{' if depth > 0 => depth -= 1,
            '[' | '(' => {
                let before = head[..i].trim_end();
                let chain = &before[chain_start(before)..];
                let owner = if c == '[' {
                    chain
                } else {
                    // `X.method(`: X; a plain `f(` says nothing.
                    chain.rfind('.').map_or("", |dot| &chain[..dot])
                };
                if owner.is_empty() {
                    continue;
                }
                if chain_root(owner) == "px" {
                    return None;
                }
                return Some(owner.to_string());
            }
            _ => {}
        }
    }
    None
}

/// Where the expression chain that `text` ends with starts: names joined by
/// dots, with calls and subscripts (`df.groupby('a').agg(…)`, `df[x]`).
fn chain_start(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = text.len();
    loop {
        if i > 0 && matches!(bytes[i - 1], b')' | b']') {
            match matching_open(&text[..i]) {
                Some(open) => {
                    i = open;
                    continue;
                }
                None => return i,
            }
        }
        let start = text[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |j| j + 1);
        if start == i {
            return i;
        }
        i = start;
        if i > 0 && bytes[i - 1] == b'.' {
            i -= 1;
            continue;
        }
        return i;
    }
}

/// The offset of the bracket that the last character of `text` closes.
fn matching_open(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices().rev() {
        match c {
            ')' | ']' | '}' => depth += 1,
            '(' | '[' | '{' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The name an expression chain starts from: `df.groupby('a')` → `df`.
fn chain_root(chain: &str) -> &str {
    let end = chain
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(chain.len());
    &chain[..end]
}

/// The columns of the frame `expression` evaluates to; else of the name it
/// starts from; else of the tables the line, the unfinished input or the
/// session mention.
fn columns_of(session: &Session, expression: &str, line: &str) -> Vec<String> {
    if let Some(cols) = session.frame_columns(expression) {
        return cols;
    }
    let root = chain_root(expression);
    if root != expression && root != "px" {
        if let Some(cols) = session.frame_columns(root) {
            return cols;
        }
    }
    let text = format!(
        "{}\n{}\n{}",
        session.session_text(),
        session.pending_text(),
        line
    );
    let mut cols = BTreeSet::new();
    for t in session.tables() {
        let quoted = [format!("'{}'", t.name), format!("\"{}\"", t.name)];
        if quoted.iter().any(|q| text.contains(q.as_str())) {
            cols.extend(t.columns.iter().map(|c| c.name.clone()));
        }
    }
    cols.into_iter().collect()
}

fn matching(names: Vec<String>, prefix: &str) -> Vec<String> {
    let mut found: Vec<String> = names
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect();
    found.sort();
    found.dedup();
    found
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn strings_know_what_they_belong_to() {
        assert_eq!(
            open_string("df['req_"),
            Some((4, "req_", Some("df".to_string())))
        );
        assert_eq!(
            open_string("x = df[['req_path', 'resp"),
            Some((21, "resp", Some("df".to_string())))
        );
        assert_eq!(
            open_string("x = df.groupby(['svc', 'la"),
            Some((24, "la", Some("df".to_string())))
        );
        assert_eq!(
            open_string("s = df.groupby('a').agg(n=('lat"),
            Some((28, "lat", Some("df.groupby('a')".to_string())))
        );
        assert_eq!(
            open_string("df[df.x > 1]['y"),
            Some((14, "y", Some("df[df.x > 1]".to_string())))
        );
        assert_eq!(
            open_string("px.DataFrame(table='ht"),
            Some((20, "ht", None))
        );
        assert_eq!(open_string("f(1, 'ht"), Some((6, "ht", None)));
        assert_eq!(open_string("x = 'done' + y"), None);
    }

    #[test]
    fn chains_run_back_over_calls_and_subscripts() {
        let text = "x = df.groupby('a').agg(n=('l', px.count))";
        let chain = &text[chain_start(text)..];
        assert_eq!(chain, "df.groupby('a').agg(n=('l', px.count))");
        assert_eq!(chain_root(chain), "df");
        let text = "a + df[df.x > 1]";
        assert_eq!(&text[chain_start(text)..], "df[df.x > 1]");
        assert_eq!(chain_start("x = ("), 5);
    }
}
