//! Ctrl-C while a query runs: the query runs on a worker thread and the
//! REPL waits for either its result or SIGINT, so Ctrl-C cancels the query
//! and not the REPL.
//!
//! At the prompt the line editor keeps the terminal in raw mode, so Ctrl-C
//! arrives as a key (it clears the line) and never as a signal; while a
//! query runs the terminal is back in cooked mode and Ctrl-C is SIGINT.
//! Tokio's handler, once installed by the first query, keeps SIGINT from
//! killing the process between queries too.

use anyhow::{Context, Result};

use super::session::{Executor, Job, JobOutput};

/// Runs each job on its own thread and stops waiting on Ctrl-C.
pub struct InterruptibleExecutor {
    runtime: tokio::runtime::Runtime,
}

impl InterruptibleExecutor {
    pub fn new() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the REPL's signal runtime")?;
        Ok(InterruptibleExecutor { runtime })
    }
}

impl Executor for InterruptibleExecutor {
    fn execute(&self, job: Job) -> Option<Result<JobOutput>> {
        let (done, result) = futures::channel::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("scry-repl-query".to_string())
            .spawn(move || {
                // The receiver is gone when the query was cancelled: the
                // result is dropped here.
                let _ = done.send(job());
            });
        if let Err(e) = spawned {
            return Some(Err(anyhow::Error::new(e).context("starting a query thread")));
        }
        self.runtime.block_on(async {
            tokio::select! {
                finished = result => Some(finished.unwrap_or_else(|_| {
                    Err(anyhow::anyhow!("the query thread stopped without a result (it panicked)"))
                })),
                // Polars cannot interrupt a plan midway: the worker thread
                // runs the query to its end and its result is discarded.
                // Only the wait stops here.
                _ = tokio::signal::ctrl_c() => None,
            }
        })
    }
}
