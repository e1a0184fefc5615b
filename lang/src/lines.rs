//! Splits a script into logical lines with their indentation: lines joined
//! inside brackets, triple-quoted strings and after a backslash, blank and
//! comment-only lines dropped, `#px:set` flags collected. Python's block
//! structure is decided here from indentation; pest parses each line.

use crate::diag::{Diagnostic, Span};

#[derive(Debug, Clone, PartialEq)]
pub struct LogicalLine {
    /// Byte range of the line's text (without indentation) in the source.
    pub span: Span,
    /// Columns of leading whitespace (a tab counts as 8, like Python).
    pub indent: usize,
}

pub struct Split {
    pub lines: Vec<LogicalLine>,
    pub flags: Vec<(String, String, Span)>,
}

/// Split `src` into logical lines. Fails on an unterminated string or an
/// unbalanced closing bracket.
pub fn split(src: &str) -> Result<Split, Diagnostic> {
    let bytes = src.as_bytes();
    let mut lines = Vec::new();
    let mut flags = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // Measure indentation at the start of a physical line.
        let line_start = i;
        let mut indent = 0;
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            indent += if bytes[i] == b'\t' { 8 - indent % 8 } else { 1 };
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        match bytes[i] {
            b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                let end = memchr_newline(bytes, i);
                let comment = &src[i..end];
                if let Some(flag) = comment.strip_prefix("#px:set") {
                    let flag_span = Span::new(i, end);
                    let flag = flag.trim();
                    match flag.split_once('=') {
                        Some((k, v)) => {
                            flags.push((k.trim().to_string(), v.trim().to_string(), flag_span))
                        }
                        None => {
                            return Err(Diagnostic::new(
                                "syntax",
                                flag_span,
                                format!("malformed flag '#px:set {flag}'"),
                            )
                            .with_hint("write it as #px:set key=value"))
                        }
                    }
                }
                i = end;
                continue;
            }
            _ => {}
        }
        let _ = line_start;
        let start = i;
        let end = scan_logical_line(src, start)?;
        // Trim a trailing comment and whitespace from the span end.
        let mut text_end = end;
        while text_end > start && (bytes[text_end - 1] as char).is_ascii_whitespace() {
            text_end -= 1;
        }
        lines.push(LogicalLine {
            span: Span::new(start, text_end),
            indent,
        });
        i = end;
    }
    Ok(Split { lines, flags })
}

fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// Returns the offset just past the logical line starting at `start`.
fn scan_logical_line(src: &str, start: usize) -> Result<usize, Diagnostic> {
    let bytes = src.as_bytes();
    let mut depth: Vec<(u8, usize)> = Vec::new();
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                i = skip_string(src, i)?;
                continue;
            }
            b'#' => {
                i = memchr_newline(bytes, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth.push((b, i)),
            b')' | b']' | b'}' => {
                let open = match b {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                match depth.pop() {
                    Some((o, _)) if o == open => {}
                    _ => {
                        return Err(Diagnostic::new(
                            "syntax",
                            Span::new(i, i + 1),
                            format!("unmatched '{}'", b as char),
                        ))
                    }
                }
            }
            b'\\' if bytes.get(i + 1) == Some(&b'\n') => {
                i += 2;
                continue;
            }
            b'\\' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => {
                i += 3;
                continue;
            }
            b'\n' if depth.is_empty() => return Ok(i),
            _ => {}
        }
        i += 1;
    }
    if let Some((open, at)) = depth.pop() {
        return Err(Diagnostic::new(
            "syntax",
            Span::new(at, at + 1),
            format!("'{}' is never closed", open as char),
        ));
    }
    Ok(bytes.len())
}

/// Skips a string literal starting at the quote at `i`; returns the offset after it.
fn skip_string(src: &str, i: usize) -> Result<usize, Diagnostic> {
    let bytes = src.as_bytes();
    let quote = bytes[i];
    let triple = bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote);
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < bytes.len() {
        let b = bytes[j];
        if b == b'\\' {
            j += 2;
            continue;
        }
        if triple {
            if b == quote && bytes.get(j + 1) == Some(&quote) && bytes.get(j + 2) == Some(&quote) {
                return Ok(j + 3);
            }
        } else if b == quote {
            return Ok(j + 1);
        } else if b == b'\n' {
            break;
        }
        j += 1;
    }
    Err(Diagnostic::new(
        "syntax",
        Span::new(i, i + 1),
        "string literal is never closed",
    )
    .with_hint(if triple {
        "close it with the same triple quote"
    } else {
        "close it on the same line, or use a triple-quoted string"
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<(usize, &str)> {
        split(src)
            .unwrap()
            .lines
            .iter()
            .map(|l| (l.indent, &src[l.span.start..l.span.end]))
            .collect()
    }

    #[test]
    fn joins_brackets_and_strings() {
        let src = "import px\n# comment\ndf = f(a,\n  b)  # trailing\ndef g():\n    '''doc\n    more'''\n    return 1\n";
        assert_eq!(
            texts(src),
            vec![
                (0, "import px"),
                (0, "df = f(a,\n  b)  # trailing"),
                (0, "def g():"),
                (4, "'''doc\n    more'''"),
                (4, "return 1"),
            ]
        );
    }

    #[test]
    fn collects_flags() {
        let s = split("#px:set max_output_rows_per_table=20\nimport px\n").unwrap();
        assert_eq!(s.flags[0].0, "max_output_rows_per_table");
        assert_eq!(s.flags[0].1, "20");
    }

    #[test]
    fn unclosed_bracket_is_reported_where_it_opens() {
        let err = split("x = f(1,\n").err().unwrap();
        assert_eq!(err.span.start, 5);
    }
}
