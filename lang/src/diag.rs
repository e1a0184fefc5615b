//! Diagnostics: an error in a script, with a stable code, the span it is
//! about, what was wrong and (when there is one) a hint such as a near name.
//! Rendered as `line:col: error[code]: message`, the source line, a caret.

use std::fmt;

/// A byte range in the script text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Diagnostic {
    /// Stable code, e.g. `syntax`, `unknown-column`, `unknown-table`.
    pub code: &'static str,
    pub message: String,
    pub span: Span,
    pub hint: Option<String>,
    /// The source the span points into, for rendering. Set by the compiler.
    pub script: Option<std::sync::Arc<str>>,
    /// The script's name, when it has one (a path or `px/name`).
    pub origin: Option<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            span,
            hint: None,
            script: None,
            origin: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_source(mut self, source: &std::sync::Arc<str>, origin: Option<&str>) -> Self {
        if self.script.is_none() {
            self.script = Some(source.clone());
            self.origin = origin.map(str::to_string);
        }
        self
    }

    /// 1-based line and column (in characters) of the span's start.
    pub fn line_col(&self) -> (usize, usize) {
        match &self.script {
            Some(src) => line_col(src, self.span.start),
            None => (1, 1),
        }
    }

    /// The one-line form: `3:14: unknown column 'latncy' (did you mean 'latency'?)`.
    pub fn one_line(&self) -> String {
        let (line, col) = self.line_col();
        let origin = self
            .origin
            .as_deref()
            .map(|o| format!("{o}:"))
            .unwrap_or_default();
        let hint = self
            .hint
            .as_deref()
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        format!("{origin}{line}:{col}: {}{hint}", self.message)
    }
}

impl fmt::Display for Diagnostic {
    /// The full form: the one line, then the source line and a caret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.line_col();
        let origin = self
            .origin
            .as_deref()
            .map(|o| format!("{o}:"))
            .unwrap_or_default();
        writeln!(
            f,
            "error[{}]: {origin}{line}:{col}: {}",
            self.code, self.message
        )?;
        if let Some(src) = &self.script {
            let text = src.lines().nth(line - 1).unwrap_or("");
            let width = if self.span.end > self.span.start {
                let end_in_line = src[self.span.start.min(src.len())..self.span.end.min(src.len())]
                    .split('\n')
                    .next()
                    .unwrap_or("");
                end_in_line.chars().count().max(1)
            } else {
                1
            };
            let gutter = line.to_string().len();
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{line} | {text}")?;
            write!(
                f,
                "{:gutter$} | {}{}",
                "",
                " ".repeat(col - 1),
                "^".repeat(width)
            )?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

/// 1-based (line, column in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..floor_char_boundary(src, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The candidate closest to `name` by edit distance, if it is close enough
/// to be a likely typo.
pub fn near_name<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        let d = edit_distance(&name.to_lowercase(), &cand.to_lowercase());
        let limit = (name.len().max(cand.len()) / 3).max(1) + 1;
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance; names are short, so the quadratic table is fine.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names() {
        assert_eq!(near_name("latncy", ["latency", "time_"]), Some("latency"));
        assert_eq!(near_name("xyz", ["latency", "time_"]), None);
        assert_eq!(
            near_name("http_event", ["http_events", "dns_events"]),
            Some("http_events")
        );
    }

    #[test]
    fn line_cols() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
