//! Reading PxL one line at a time, for the REPL: whether what was typed so
//! far is a complete input ([`input_state`]) and the input's top-level
//! statements with the text each one spans ([`top_level_statements`]).
//!
//! Both answers come from the compiler's own line splitter
//! ([`crate::lines`]) and parser ([`crate::parser`]), so the REPL waits for
//! more text exactly when the compiler would say a bracket or a triple-quoted
//! string is never closed, and never second-guesses the grammar.

use crate::ast::Stmt;
use crate::diag::{Diagnostic, Span};
use crate::lines;

/// What the text typed so far amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputState {
    /// Only blank lines and comments: nothing to run.
    Empty,
    /// Ready: run it (or report its error).
    Complete,
    /// More lines are needed, for this reason.
    Incomplete(Continuation),
}

/// Why an input continues on the next line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuation {
    /// A `(`, `[` or `{` is still open.
    OpenBracket(char),
    /// A `'''` or `"""` string is still open.
    OpenTripleQuotedString,
    /// The last line ends with a backslash.
    Backslash,
    /// The input holds a `def`; a blank line ends it.
    DefBlock,
}

/// Decide whether `src` (the lines typed so far, joined with `\n`) is a
/// complete input. An open bracket or triple-quoted string, or a trailing
/// backslash, continues the input; so does a `def` until a blank line.
/// Every other input is complete, including one with a syntax error: the
/// parser reports that error when the input runs.
pub fn input_state(src: &str) -> InputState {
    let mut text = src.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let split = match lines::split(&text) {
        Ok(split) => split,
        Err(d) => {
            return match open_construct(&text, &d) {
                Some(c) => InputState::Incomplete(c),
                None => InputState::Complete,
            }
        }
    };
    if split.lines.is_empty() {
        return if split.flags.is_empty() {
            InputState::Empty
        } else {
            InputState::Complete
        };
    }
    if ends_with_line_continuation(src) {
        return InputState::Incomplete(Continuation::Backslash);
    }
    let has_def = split
        .lines
        .iter()
        .any(|l| starts_with_def(&text[l.span.start..l.span.end]));
    if has_def && !last_line_is_blank(src) {
        return InputState::Incomplete(Continuation::DefBlock);
    }
    InputState::Complete
}

/// The construct a splitter error says is still open, if the error is of
/// the kind more text can fix.
fn open_construct(text: &str, d: &Diagnostic) -> Option<Continuation> {
    let at = text.get(d.span.start..)?;
    if d.message.ends_with("is never closed") {
        let open = at.chars().next()?;
        if matches!(open, '(' | '[' | '{') {
            return Some(Continuation::OpenBracket(open));
        }
        // A string literal (the span starts at its quote, after any
        // prefix): only a triple-quoted one may span lines.
        if at.starts_with("'''") || at.starts_with("\"\"\"") {
            return Some(Continuation::OpenTripleQuotedString);
        }
    }
    None
}

fn starts_with_def(line: &str) -> bool {
    line.strip_prefix("def")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_whitespace() || c == '(')
}

fn last_line_is_blank(src: &str) -> bool {
    src.rsplit('\n').next().unwrap_or("").trim().is_empty()
}

/// The last physical line ends with a backslash that is not in a comment.
fn ends_with_line_continuation(src: &str) -> bool {
    let last = src.rsplit('\n').next().unwrap_or("");
    if !last.trim_end().ends_with('\\') {
        return false;
    }
    let mut quote: Option<char> = None;
    let mut chars = last.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) if c == '\\' => {
                chars.next();
            }
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' => return false,
            None => {}
        }
    }
    true
}

/// One top-level statement of an input and the text it spans.
#[derive(Debug, Clone, PartialEq)]
pub struct TopLevelStatement {
    pub stmt: Stmt,
    /// From the start of the statement's first line to the start of the
    /// next top-level statement (or the end of the input): a `def`'s whole
    /// body, and the comments that follow the statement.
    pub span: Span,
}

/// An input's top-level statements in order, with the text each spans, and
/// the text before the first one (comments, `#px:set` flags).
#[derive(Debug, Clone, PartialEq)]
pub struct Statements {
    pub preamble: Span,
    pub statements: Vec<TopLevelStatement>,
}

/// Parse `src` and pair each top-level statement with its text. Fails with
/// the parser's diagnostic (span into `src`, no source attached).
pub fn top_level_statements(src: &str) -> Result<Statements, Diagnostic> {
    let module = crate::parser::parse(src)?;
    let split = lines::split(src)?;
    // The parser turns every unindented logical line into one statement (a
    // def header takes its indented body along), and rejects input whose
    // first line is indented, so the unindented lines start the statements.
    let starts: Vec<usize> = split
        .lines
        .iter()
        .filter(|l| l.indent == 0)
        .map(|l| line_start(src, l.span.start))
        .collect();
    if starts.len() != module.body.len() {
        return Err(Diagnostic::new(
            "syntax",
            Span::new(0, src.len()),
            "cannot tell this input's statements apart",
        ));
    }
    let preamble = Span::new(0, starts.first().copied().unwrap_or(src.len()));
    let statements = module
        .body
        .into_iter()
        .enumerate()
        .map(|(i, stmt)| TopLevelStatement {
            stmt,
            span: Span::new(starts[i], starts.get(i + 1).copied().unwrap_or(src.len())),
        })
        .collect();
    Ok(Statements {
        preamble,
        statements,
    })
}

fn line_start(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())]
        .rfind('\n')
        .map_or(0, |nl| nl + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(lines: &[&str]) -> InputState {
        input_state(&lines.join("\n"))
    }

    #[test]
    fn simple_statements_are_complete() {
        assert_eq!(state(&["x = 1"]), InputState::Complete);
        assert_eq!(state(&["df.head(3)"]), InputState::Complete);
        assert_eq!(state(&["import px  # the module"]), InputState::Complete);
    }

    #[test]
    fn blank_and_comment_lines_are_empty() {
        assert_eq!(state(&[""]), InputState::Empty);
        assert_eq!(state(&["   ", "# just a note"]), InputState::Empty);
        assert_eq!(
            state(&["#px:set max_output_rows_per_table=5"]),
            InputState::Complete
        );
    }

    #[test]
    fn open_brackets_continue_until_closed() {
        assert_eq!(
            state(&["df = px.DataFrame("]),
            InputState::Incomplete(Continuation::OpenBracket('('))
        );
        assert_eq!(
            state(&["df = px.DataFrame(", "  table='http_events',"]),
            InputState::Incomplete(Continuation::OpenBracket('('))
        );
        assert_eq!(
            state(&["x = [1,", "  {'a':"]),
            InputState::Incomplete(Continuation::OpenBracket('{'))
        );
        assert_eq!(
            state(&["df = px.DataFrame(", "  table='http_events')"]),
            InputState::Complete
        );
        // A bracket in a string or a comment opens nothing.
        assert_eq!(state(&["x = '('  # ("]), InputState::Complete);
    }

    #[test]
    fn an_unmatched_closing_bracket_is_complete_and_fails_in_the_parser() {
        assert_eq!(state(&["x = f(1))"]), InputState::Complete);
        assert!(crate::parser::parse("x = f(1))\n").is_err());
    }

    #[test]
    fn triple_quoted_strings_continue_but_single_quotes_do_not() {
        assert_eq!(
            state(&["x = '''first"]),
            InputState::Incomplete(Continuation::OpenTripleQuotedString)
        );
        assert_eq!(
            state(&["x = r\"\"\"first", "second"]),
            InputState::Incomplete(Continuation::OpenTripleQuotedString)
        );
        assert_eq!(state(&["x = '''first", "second'''"]), InputState::Complete);
        // An unclosed one-line string is an error now, not a continuation.
        assert_eq!(state(&["x = 'abc"]), InputState::Complete);
    }

    #[test]
    fn a_def_block_ends_at_a_blank_line() {
        assert_eq!(
            state(&["def f(n: int):"]),
            InputState::Incomplete(Continuation::DefBlock)
        );
        assert_eq!(
            state(&["def f(n: int):", "    x = n"]),
            InputState::Incomplete(Continuation::DefBlock)
        );
        assert_eq!(
            state(&["def f(n: int):", "    x = n", "    return x", ""]),
            InputState::Complete
        );
        // A blank line inside an open bracket does not end the block.
        assert_eq!(
            state(&["def f():", "    return g(", ""]),
            InputState::Incomplete(Continuation::OpenBracket('('))
        );
        // `define = 1` is not a def.
        assert_eq!(state(&["define = 1"]), InputState::Complete);
    }

    #[test]
    fn a_trailing_backslash_continues_unless_commented() {
        assert_eq!(
            state(&["x = 1 + \\"]),
            InputState::Incomplete(Continuation::Backslash)
        );
        assert_eq!(state(&["x = 1 + \\", "  2"]), InputState::Complete);
        assert_eq!(state(&["x = 1  # ends with \\"]), InputState::Complete);
    }

    #[test]
    fn statements_carry_their_whole_text() {
        let src = "# setup\nimport px\ndef f(a):\n    '''doc'''\n    return a\n\ndf = f(\n  1)\ndf  # show\n";
        let s = top_level_statements(src).unwrap();
        assert_eq!(&src[s.preamble.start..s.preamble.end], "# setup\n");
        let texts: Vec<&str> = s
            .statements
            .iter()
            .map(|t| &src[t.span.start..t.span.end])
            .collect();
        assert_eq!(
            texts,
            vec![
                "import px\n",
                "def f(a):\n    '''doc'''\n    return a\n\n",
                "df = f(\n  1)\n",
                "df  # show\n",
            ]
        );
        assert!(matches!(s.statements[1].stmt, Stmt::Def(_)));
        assert!(matches!(s.statements[3].stmt, Stmt::Expr(_)));
    }

    #[test]
    fn statements_report_the_parsers_error() {
        let e = top_level_statements("x = 1\ny = = 2\n").unwrap_err();
        assert_eq!(e.code, "syntax");
        assert_eq!(crate::diag::line_col("x = 1\ny = = 2\n", e.span.start).0, 2);
    }
}
