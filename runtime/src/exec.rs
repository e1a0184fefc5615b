//! Execution of compiled scripts: each output's lazy plan is collected into
//! a frame. Outputs already carry their row cap (`max_output_rows_per_table`).

use polars::prelude::DataFrame;
use scry_lang::CompiledScript;

#[derive(Debug, thiserror::Error)]
#[error("output '{output}': {message}")]
pub struct ExecError {
    pub output: String,
    pub message: String,
}

/// Run every output of a script, in the order the script produced them.
pub fn execute(script: &CompiledScript) -> Result<Vec<(String, DataFrame)>, ExecError> {
    script
        .outputs
        .iter()
        .map(|o| {
            o.plan
                .clone()
                .collect()
                .map(|df| (o.name.clone(), df))
                .map_err(|e| ExecError {
                    output: o.name.clone(),
                    message: e.to_string(),
                })
        })
        .collect()
}
