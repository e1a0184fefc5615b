//! `scry`: run PxL scripts over captured or saved trace tables.
//!
//! - [`cli`]: command-line definitions.
//! - [`run`]: local execution of scripts (`run`, `compile`).
//! - [`output`]: table / NDJSON / CSV rendering.
//! - [`scripts`]: bundled scripts and script lookup.

mod cli;
mod output;
mod run;
mod scripts;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            // Script diagnostics carry their own rendering (line:col, caret).
            if let Some(d) = e.downcast_ref::<scry_lang::Diagnostic>() {
                eprintln!("{d}");
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(2)
        }
    }
}
