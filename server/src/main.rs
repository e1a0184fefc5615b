//! The `scry` binary: parse the command line and dispatch (see the library).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = scry::cli::Cli::parse();
    match scry::run::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", scry::render_error(&e));
            ExitCode::from(2)
        }
    }
}
