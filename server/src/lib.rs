//! `scry`: run PxL scripts over captured or saved trace tables, locally or
//! against an agent over Arrow Flight.
//!
//! - [`cli`]: command-line definitions.
//! - [`backend`]: where scripts run — a local table store or a remote agent —
//!   behind one trait used by `run`, the REPL and checks.
//! - [`run`]: dispatching subcommands; local stores and captures.
//! - [`output`]: table / NDJSON / CSV rendering.
//! - [`scripts`]: bundled scripts and script lookup.
//! - [`flight`]: the Arrow Flight service, its client, and the Polars ↔ arrow-rs bridge.
//! - [`agent`]: `scry agent` — probes, store, Flight server, schedules.
//! - [`repl`]: the interactive REPL.
//! - [`check`]: `scry check` — PxL checks with exit codes and JUnit reports.
//! - [`schedule`]: scripts run on an interval inside the agent.

pub mod agent;
pub mod backend;
pub mod check;
pub mod cli;
pub mod flight;
pub mod output;
pub mod repl;
pub mod run;
pub mod schedule;
pub mod scripts;

/// The text to show a person for an error: script diagnostics (local or
/// from an agent) keep their own rendering with line:col and caret.
pub fn render_error(e: &anyhow::Error) -> String {
    if let Some(d) = e.downcast_ref::<scry_lang::Diagnostic>() {
        return d.to_string();
    }
    if let Some(r) = e.downcast_ref::<backend::ScriptError>() {
        return r.to_string();
    }
    format!("error: {e:#}")
}

/// One-line form of an error, for summaries and tables.
pub fn error_line(e: &anyhow::Error) -> String {
    if let Some(d) = e.downcast_ref::<scry_lang::Diagnostic>() {
        return d.one_line();
    }
    if let Some(r) = e.downcast_ref::<backend::ScriptError>() {
        return r.one_line();
    }
    format!("{e:#}")
}
