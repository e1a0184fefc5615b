//! The REPL's state and what one input does, with no terminal involved: a
//! [`Session`] is fed lines and answers with the text it would print.
//!
//! A session keeps the text of the statements that define things (imports,
//! assignments, defs) from the inputs accepted so far. Each new input is
//! compiled after that text, so it sees every earlier variable, and the
//! whole text goes to the [`Backend`] — a remote agent runs exactly what a
//! local store runs. Bare expressions are shown by wrapping them in
//! `px.display(...)`; `px.display`/`px.debug` calls never enter the session
//! text, so earlier outputs are not shown again. An input that fails to
//! compile leaves the session as it was.
//!
//! Every input is first compiled here against the backend's schemas (no
//! data is read): that is how errors get a caret in the current input
//! (spans are mapped back from the combined text), how bare expressions that
//! are not DataFrames are recognised, and how inputs that only define things
//! are accepted without a round trip.

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::Result;
use polars::prelude::DataFrame;
use scry_lang::ast::{Expr, ExprKind, Stmt};
use scry_lang::bundle::{Manifest, ScriptBundle};
use scry_lang::catalog::MemorySource;
use scry_lang::repl_input::{input_state, top_level_statements, InputState, Statements};
use scry_lang::{CompileOptions, CompiledScript, Diagnostic, Span, TableSchema};

use crate::backend::{Backend, Outputs};

/// Always in the session: the scripts people type start from `px`.
const PRELUDE: &str = "import px\n";

/// The compiler's message when `px.display` gets something else than a
/// DataFrame; how a wrapped bare expression is found not to be one.
const NOT_A_FRAME: &str = "px.display needs a DataFrame, got ";

/// The name scripts run by the REPL go by in messages.
const SCRIPT_NAME: &str = "repl";

/// Rows printed per output before the rest is summarised.
pub const DEFAULT_MAX_DISPLAY_ROWS: usize = 100;

/// What one unit of work on the backend produced.
pub enum JobOutput {
    Outputs(Outputs),
    Plan(String),
}

/// Work for the backend, run by an [`Executor`].
pub type Job = Box<dyn FnOnce() -> Result<JobOutput> + Send>;

/// Runs backend work. The terminal runs it on a worker thread that Ctrl-C
/// abandons; tests run it inline.
pub trait Executor {
    /// The job's result, or `None` when it was cancelled.
    fn execute(&self, job: Job) -> Option<Result<JobOutput>>;
}

/// Runs jobs on the calling thread; nothing can cancel them.
pub struct RunInline;

impl Executor for RunInline {
    fn execute(&self, job: Job) -> Option<Result<JobOutput>> {
        Some(job())
    }
}

/// What the session answers to an input.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Reply {
    /// Results: tables and plans (stdout).
    pub output: String,
    /// Errors, warnings and notes (stderr).
    pub errors: String,
    /// The person asked to leave.
    pub quit: bool,
}

impl Reply {
    pub fn output(text: impl Into<String>) -> Reply {
        Reply {
            output: ensure_newline(text.into()),
            ..Reply::default()
        }
    }

    pub fn error(text: impl Into<String>) -> Reply {
        Reply {
            errors: ensure_newline(text.into()),
            ..Reply::default()
        }
    }

    pub(super) fn note(&mut self, text: impl Into<String>) {
        self.errors.push_str(&ensure_newline(text.into()));
    }
}

fn ensure_newline(mut s: String) -> String {
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The result of feeding one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    /// The input continues: prompt for another line.
    More,
    /// The input was complete and has been handled.
    Done {
        /// The whole input, for the line editor's history.
        input: String,
        reply: Reply,
    },
}

/// One accepted input's defining statements.
#[derive(Debug, Clone)]
struct Entry {
    /// How messages name it: `input 3`, or the file it was loaded from.
    label: String,
    text: String,
}

/// What to do with a compiled input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    Run,
    Explain { optimized: bool },
}

/// The last script sent to the backend, for `:explain`.
#[derive(Debug, Clone)]
struct LastScript {
    text: String,
    /// Outputs the session text produces before the input's own.
    skip_outputs: usize,
}

/// A bare expression shown through `px.display(<expr>, '<name>')`.
#[derive(Debug, Clone)]
struct Wrap {
    span: Span,
    name: String,
}

/// An input with some expressions wrapped, and the way back to the
/// original offsets.
struct Rewritten {
    text: String,
    /// Copied stretches: (offset in `text`, offset in the original, length).
    copied: Vec<(usize, usize, usize)>,
    original_len: usize,
}

impl Rewritten {
    fn new(input: &str, wraps: &[Wrap]) -> Rewritten {
        let mut text = String::with_capacity(input.len() + 32 * wraps.len());
        let mut copied = Vec::new();
        let mut copy = |text: &mut String, from: usize, to: usize| {
            if to > from {
                copied.push((text.len(), from, to - from));
                text.push_str(&input[from..to]);
            }
        };
        let mut at = 0;
        for w in wraps {
            copy(&mut text, at, w.span.start);
            text.push_str("px.display(");
            copy(&mut text, w.span.start, w.span.end);
            text.push_str(&format!(", '{}')", w.name));
            at = w.span.end;
        }
        copy(&mut text, at, input.len());
        Rewritten {
            text,
            copied,
            original_len: input.len(),
        }
    }

    /// The original offset of an offset in the rewritten text. Inserted text
    /// maps to where the next copied stretch starts (for `px.display(`, the
    /// expression; for `, 'name')`, the end of the expression).
    fn original(&self, at: usize) -> usize {
        for &(start, from, len) in &self.copied {
            if at < start {
                return from;
            }
            if at <= start + len {
                return from + (at - start);
            }
        }
        self.original_len
    }
}

/// Where a span of the combined text lies.
enum Located {
    /// In the current input.
    Input(Span),
    /// In an earlier accepted input.
    Entry(usize, Span),
}

pub struct Session {
    backend: Arc<dyn Backend>,
    executor: Box<dyn Executor>,
    /// The session text: the prelude, then each accepted input's definitions.
    entries: Vec<Entry>,
    /// Names the session text defines, for completion.
    names: BTreeSet<String>,
    /// Outputs the session text itself produces (a defined function that
    /// calls px.display, called in an assignment); skipped when shown.
    session_outputs: usize,
    tables: Vec<TableSchema>,
    /// The tables' schemas with no rows: what inputs are compiled against here.
    schemas: MemorySource,
    /// Lines of an input still being typed.
    pending: Vec<String>,
    inputs_run: usize,
    last: Option<LastScript>,
    pub max_display_rows: usize,
}

impl Session {
    /// A session over `backend`; reads its table list.
    pub fn new(backend: Arc<dyn Backend>, executor: Box<dyn Executor>) -> Result<Session> {
        let mut session = Session {
            backend,
            executor,
            entries: vec![Entry {
                label: "prelude".to_string(),
                text: PRELUDE.to_string(),
            }],
            names: BTreeSet::from(["px".to_string()]),
            session_outputs: 0,
            tables: Vec::new(),
            schemas: MemorySource::new(),
            pending: Vec::new(),
            inputs_run: 0,
            last: None,
            max_display_rows: DEFAULT_MAX_DISPLAY_ROWS,
        };
        session.refresh_tables()?;
        Ok(session)
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The tables as last read from the backend.
    pub fn tables(&self) -> &[TableSchema] {
        &self.tables
    }

    /// Read the backend's table list again.
    pub fn refresh_tables(&mut self) -> Result<()> {
        self.tables = self.backend.tables()?;
        self.schemas = MemorySource::schemas_only(self.tables.iter().cloned());
        Ok(())
    }

    /// Names defined by the session text (variables, functions, imports).
    pub fn defined_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// True while an input spans several lines and is not complete yet.
    pub fn is_continuing(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The lines typed so far of an unfinished input.
    pub fn pending_text(&self) -> String {
        self.pending.join("\n")
    }

    /// Drop an unfinished input (Ctrl-C at the prompt).
    pub fn clear_pending(&mut self) {
        self.pending.clear();
    }

    /// The definitions typed so far (without the prelude), for `:session`.
    pub fn session_text(&self) -> String {
        self.entries[1..].iter().map(|e| e.text.as_str()).collect()
    }

    /// Forget every definition (`:reset`).
    pub fn reset(&mut self) {
        self.entries.truncate(1);
        self.names = BTreeSet::from(["px".to_string()]);
        self.session_outputs = 0;
        self.last = None;
    }

    /// Feed one line. A `:` command runs at once; PxL accumulates until the
    /// real parser says the input is complete (see
    /// [`scry_lang::repl_input::input_state`]), then runs.
    pub fn feed_line(&mut self, line: &str) -> Feed {
        if self.pending.is_empty() && line.trim_start().starts_with(':') {
            let input = line.trim().to_string();
            let reply = super::commands::run(self, &input);
            return Feed::Done { input, reply };
        }
        self.pending.push(line.to_string());
        let input = self.pending.join("\n");
        match input_state(&input) {
            InputState::Incomplete(_) => Feed::More,
            InputState::Empty => {
                self.pending.clear();
                Feed::Done {
                    input: String::new(),
                    reply: Reply::default(),
                }
            }
            InputState::Complete => {
                self.pending.clear();
                let reply = self.run_pxl(&input, None, Purpose::Run);
                Feed::Done {
                    input: input.trim_end().to_string(),
                    reply,
                }
            }
        }
    }

    /// Run a whole PxL input (typed, or a file's text for `:load` with its
    /// path as `origin`), or show its plans.
    pub(super) fn run_pxl(&mut self, input: &str, origin: Option<&str>, purpose: Purpose) -> Reply {
        let statements = match top_level_statements(input) {
            Ok(s) => s,
            Err(d) => return Reply::error(render_in(d, input, origin)),
        };
        let mut wraps: Vec<Wrap> = statements
            .statements
            .iter()
            .filter_map(|s| match &s.stmt {
                Stmt::Expr(e) if !is_output_call(e) => Some(Wrap {
                    span: e.span,
                    name: output_name(e),
                }),
                _ => None,
            })
            .collect();
        let mut reply = Reply::default();
        let session_text = self.script_text();
        let mut tables_refreshed = false;
        let (script, rewritten, compiled) = loop {
            let rewritten = Rewritten::new(input, &wraps);
            let script = format!("{session_text}{}", rewritten.text);
            match self.compile_here(&script) {
                Ok(compiled) => break (script, rewritten, compiled),
                Err(d) => {
                    // A table the backend added since its list was read.
                    if d.code == "unknown-table" && !tables_refreshed {
                        tables_refreshed = true;
                        if self.refresh_tables().is_ok() {
                            continue;
                        }
                    }
                    let located = self.locate(d.span, session_text.len(), &rewritten);
                    if let (Located::Input(span), Some(kind)) =
                        (&located, d.message.strip_prefix(NOT_A_FRAME))
                    {
                        if let Some(i) = wraps.iter().position(|w| w.span == *span) {
                            if kind != "None" {
                                let expr = input[span.start..span.end].trim();
                                reply.note(format!("{expr}: {kind} (only DataFrames are shown)"));
                            }
                            wraps.remove(i);
                            continue;
                        }
                    }
                    reply.errors.push_str(&ensure_newline(
                        self.render_located(d, located, input, origin),
                    ));
                    return reply;
                }
            }
        };
        let skip_outputs = self.session_outputs;
        let new_outputs = compiled.outputs.len().saturating_sub(skip_outputs);
        let bundle = script_bundle(&script);
        let accepted = match purpose {
            Purpose::Explain { optimized } => {
                let backend = self.backend.clone();
                let job: Job = Box::new(move || {
                    Ok(JobOutput::Plan(backend.explain(&bundle, &[], optimized)?))
                });
                if let Some(JobOutput::Plan(plan)) = self.execute(job, &mut reply) {
                    show_plans(&mut reply, &drop_plan_blocks(&plan, skip_outputs));
                }
                return reply;
            }
            // Nothing to show: the input only defines things, and it compiled.
            Purpose::Run if new_outputs == 0 => true,
            Purpose::Run => {
                let backend = self.backend.clone();
                let job: Job = Box::new(move || Ok(JobOutput::Outputs(backend.run(&bundle, &[])?)));
                match self.executor.execute(job) {
                    None => {
                        reply.note(CANCELLED);
                        true
                    }
                    Some(Ok(JobOutput::Outputs(outputs))) => {
                        let shown = outputs.get(skip_outputs..).unwrap_or_default();
                        reply
                            .output
                            .push_str(&render_outputs(shown, self.max_display_rows));
                        true
                    }
                    Some(Ok(JobOutput::Plan(_))) => true,
                    Some(Err(e)) => {
                        let text = match e.downcast_ref::<Diagnostic>() {
                            Some(d) => {
                                let located = self.locate(d.span, session_text.len(), &rewritten);
                                self.render_located(d.clone(), located, input, origin)
                            }
                            None => crate::render_error(&e),
                        };
                        reply.errors.push_str(&ensure_newline(text));
                        false
                    }
                }
            }
        };
        self.inputs_run += 1;
        self.last = Some(LastScript {
            text: script,
            skip_outputs,
        });
        if accepted {
            let label = match origin {
                Some(o) => o.to_string(),
                None => format!("input {}", self.inputs_run),
            };
            self.accept(input, &statements, label);
        }
        reply
    }

    /// The plans of the last script run, without the session's own outputs.
    pub(super) fn explain_last(&mut self, optimized: bool) -> Reply {
        let Some(last) = self.last.clone() else {
            return Reply::error("nothing has run yet: `:explain <expression>` plans one");
        };
        let backend = self.backend.clone();
        let bundle = script_bundle(&last.text);
        let job: Job =
            Box::new(move || Ok(JobOutput::Plan(backend.explain(&bundle, &[], optimized)?)));
        let mut reply = Reply::default();
        if let Some(JobOutput::Plan(plan)) = self.execute(job, &mut reply) {
            show_plans(&mut reply, &drop_plan_blocks(&plan, last.skip_outputs));
        }
        reply
    }

    /// Run a job; a cancellation or an error becomes a note in `reply`.
    pub(super) fn execute(&self, job: Job, reply: &mut Reply) -> Option<JobOutput> {
        match self.executor.execute(job) {
            None => {
                reply.note(CANCELLED);
                None
            }
            Some(Ok(out)) => Some(out),
            Some(Err(e)) => {
                reply.note(crate::render_error(&e));
                None
            }
        }
    }

    /// The columns of a one-line expression (`df`, `df[df.x > 1]`) when it
    /// is a DataFrame, found by compiling `px.display(<expression>)` after
    /// the session text; nothing is read.
    pub fn frame_columns(&self, expression: &str) -> Option<Vec<String>> {
        let expression = expression.trim();
        if expression.is_empty() || expression.contains(['\n', '\r', '#']) {
            return None;
        }
        let script = format!(
            "{}px.display({expression}, '_columns')\n",
            self.script_text()
        );
        let compiled = self.compile_here(&script).ok()?;
        let last = compiled.outputs.last()?;
        Some(last.columns.iter().map(|c| c.name.clone()).collect())
    }

    /// The session text every input is compiled after.
    fn script_text(&self) -> String {
        self.entries.iter().map(|e| e.text.as_str()).collect()
    }

    /// Compile against the backend's schemas (no data is read).
    fn compile_here(&self, script: &str) -> Result<CompiledScript, Diagnostic> {
        let mut opts = CompileOptions::now();
        opts.origin = Some(SCRIPT_NAME.to_string());
        scry_lang::compile(script, &self.schemas, &opts)
    }

    /// Keep the input's defining statements (and `#px:set` flags).
    fn accept(&mut self, input: &str, statements: &Statements, label: String) {
        let mut text = String::new();
        for line in input[statements.preamble.start..statements.preamble.end].lines() {
            if line.trim_start().starts_with("#px:set") {
                text.push_str(line);
                text.push('\n');
            }
        }
        for s in &statements.statements {
            let defines = match &s.stmt {
                Stmt::Import { module, alias, .. } => {
                    self.names
                        .insert(alias.clone().unwrap_or_else(|| module.clone()));
                    true
                }
                Stmt::FromImport { names, .. } => {
                    for (name, alias) in names {
                        self.names
                            .insert(alias.clone().unwrap_or_else(|| name.clone()));
                    }
                    true
                }
                Stmt::Assign { target, .. } => {
                    if let ExprKind::Name(n) = &target.kind {
                        self.names.insert(n.clone());
                    }
                    true
                }
                Stmt::Def(f) => {
                    self.names.insert(f.name.clone());
                    true
                }
                Stmt::Expr(_) | Stmt::Return { .. } | Stmt::Pass => false,
            };
            if defines {
                text.push_str(&input[s.span.start..s.span.end]);
                if !text.ends_with('\n') {
                    text.push('\n');
                }
            }
        }
        if text.is_empty() {
            return;
        }
        self.entries.push(Entry { label, text });
        self.session_outputs = self
            .compile_here(&self.script_text())
            .map(|c| c.outputs.len())
            .unwrap_or(0);
    }

    /// Where `span` of the combined text (session text of `session_len`
    /// bytes, then the rewritten input) lies.
    fn locate(&self, span: Span, session_len: usize, rewritten: &Rewritten) -> Located {
        if span.start >= session_len {
            let start = rewritten.original(span.start - session_len);
            let end = rewritten.original(span.end.max(span.start) - session_len);
            return Located::Input(Span::new(start, end.max(start)));
        }
        let mut at = 0;
        for (i, e) in self.entries.iter().enumerate() {
            let end = at + e.text.len();
            if span.start < end {
                if i == 0 {
                    // The prelude has nothing to point at; errors without a
                    // place (Span::default()) land here.
                    return Located::Input(Span::default());
                }
                let e_end = span.end.min(end).max(span.start);
                return Located::Entry(i, Span::new(span.start - at, e_end - at));
            }
            at = end;
        }
        Located::Input(Span::default())
    }

    /// A diagnostic rendered against the text it points into: the current
    /// input, or the earlier input that holds the definition.
    fn render_located(
        &self,
        d: Diagnostic,
        located: Located,
        input: &str,
        origin: Option<&str>,
    ) -> String {
        let mut d = Diagnostic {
            script: None,
            origin: None,
            ..d
        };
        match located {
            Located::Input(span) => {
                d.span = span;
                render_in(d, input, origin)
            }
            Located::Entry(i, span) => {
                d.span = span;
                let entry = &self.entries[i];
                render_in(d, &entry.text, Some(&entry.label))
            }
        }
    }
}

const CANCELLED: &str = "query cancelled (Ctrl-C); its result will be discarded";

/// A diagnostic shown against `text` (line:col, the line, a caret).
fn render_in(d: Diagnostic, text: &str, origin: Option<&str>) -> String {
    let source: Arc<str> = Arc::from(text);
    crate::render_error(&anyhow::Error::new(d.with_source(&source, origin)))
}

fn script_bundle(script: &str) -> ScriptBundle {
    ScriptBundle {
        name: SCRIPT_NAME.to_string(),
        pxl: script.to_string(),
        vis: None,
        vis_json: None,
        manifest: Manifest::default(),
    }
}

/// `px.display(...)`, `px.debug(...)` (under any module name), or a
/// `display`/`debug` imported from px: already an output.
fn is_output_call(e: &Expr) -> bool {
    let ExprKind::Call { func, .. } = &e.kind else {
        return false;
    };
    match &func.kind {
        ExprKind::Attribute(_, name) | ExprKind::Name(name) => name == "display" || name == "debug",
        _ => false,
    }
}

/// The output name of a shown expression: the variable's name, else `out`.
fn output_name(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Name(n) => n.clone(),
        _ => "out".to_string(),
    }
}

/// Output tables as aligned text, each cut at `max_rows` rows.
pub(super) fn render_outputs(outputs: &[(String, DataFrame)], max_rows: usize) -> String {
    let mut buf: Vec<u8> = Vec::new();
    for (i, (name, df)) in outputs.iter().enumerate() {
        if i > 0 {
            buf.push(b'\n');
        }
        let shown = if df.height() > max_rows {
            df.head(Some(max_rows))
        } else {
            df.clone()
        };
        if let Err(e) = crate::output::write_table(&mut buf, name, &shown) {
            buf.extend_from_slice(format!("{name}: cannot show: {e}\n").as_bytes());
        }
        if df.height() > max_rows {
            buf.extend_from_slice(
                format!(
                    "… {} more rows not shown (of {}; use .head(n) to choose)\n",
                    df.height() - max_rows,
                    df.height()
                )
                .as_bytes(),
            );
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Plans as output, or a note when the input has no outputs to plan.
fn show_plans(reply: &mut Reply, plans: &str) {
    if plans.trim().is_empty() {
        reply.note("no outputs to plan: `:explain <expression>` plans one");
    } else {
        reply.output.push_str(&ensure_newline(plans.to_string()));
    }
}

/// `explain` text without its first `n` output blocks (`== output …`).
fn drop_plan_blocks(plan: &str, n: usize) -> String {
    if n == 0 {
        return plan.to_string();
    }
    let mut seen = 0;
    let mut out = String::new();
    for line in plan.split_inclusive('\n') {
        if line.starts_with("== output ") {
            seen += 1;
        }
        if seen > n {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn rewritten_offsets_map_back() {
        let input = "x = 1\ndf\ny";
        let wraps = [Wrap {
            span: Span::new(6, 8),
            name: "df".into(),
        }];
        let r = Rewritten::new(input, &wraps);
        assert_eq!(r.text, "x = 1\npx.display(df, 'df')\ny");
        // Before the wrap, unchanged.
        assert_eq!(r.original(4), 4);
        // Inside `px.display(`: the expression's start.
        assert_eq!(r.original(8), 6);
        // The expression itself.
        let df_at = r.text.find("df,").unwrap();
        assert_eq!(r.original(df_at + 1), 7);
        // After the wrap.
        let y_at = r.text.rfind('y').unwrap();
        assert_eq!(r.original(y_at), 9);
        assert_eq!(r.original(r.text.len()), input.len());
    }

    #[test]
    fn plan_blocks_are_dropped_from_the_front() {
        let plan = "== output a []\nA\n== output b []\nB\n";
        assert_eq!(drop_plan_blocks(plan, 1), "== output b []\nB\n");
        assert_eq!(drop_plan_blocks(plan, 0), plan);
    }
}
