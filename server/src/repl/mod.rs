//! The interactive REPL (lands in the next commit).

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::ReplArgs;

pub fn main(_args: ReplArgs) -> Result<ExitCode> {
    anyhow::bail!("scry repl is not built yet")
}
