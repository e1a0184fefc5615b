//! `scry repl`: interactive PxL against saved tables (`--data`), an agent
//! (`--server`), or a capture running in the background (`sudo scry repl`).
//!
//! - [`session`]: the REPL without a terminal — session text, running an
//!   input, mapping errors back to it; what the tests drive.
//! - [`commands`]: the `:` commands.
//! - [`complete`]: tab completion.
//! - [`input`]: the rustyline helper and the history file.
//! - [`interrupt`]: Ctrl-C cancels a running query, not the REPL.
//!
//! This module wires them to a terminal: it picks the backend, reads lines
//! with a `>>> ` / `... ` prompt, prints replies and keeps the history file.

pub mod commands;
pub mod complete;
pub mod input;
pub mod interrupt;
pub mod session;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::io::Write;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::{Context, Result};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::backend::{Backend, LocalBackend};
use crate::cli::ReplArgs;
use crate::run::BackgroundCapture;

use self::input::ReplHelper;
use self::session::{Feed, Reply, Session};

const PROMPT: &str = ">>> ";
const CONTINUATION_PROMPT: &str = "... ";
const MAX_HISTORY_ENTRIES: usize = 10_000;

pub fn main(args: ReplArgs) -> Result<ExitCode> {
    let (backend, capture) = open_backend(&args)?;
    let executor = interrupt::InterruptibleExecutor::new()?;
    let session =
        Session::new(backend.clone(), Box::new(executor)).context("reading the table list")?;
    let session = Rc::new(RefCell::new(session));

    let config = Config::builder()
        .auto_add_history(false)
        .max_history_size(MAX_HISTORY_ENTRIES)
        .context("configuring the line editor")?
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<ReplHelper, FileHistory> =
        Editor::with_config(config).context("starting the line editor")?;
    editor.set_helper(Some(ReplHelper::new(session.clone())));
    let history = input::history_path(args.history.clone());
    if let Some(path) = &history {
        match editor.load_history(path) {
            Ok(()) => {}
            Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!("warning: cannot read history {}: {e}", path.display()),
        }
    }

    let table_count = session.borrow().tables().len();
    println!(
        "scry repl — {}, {table_count} tables. :help lists commands; Ctrl-D quits.",
        backend.describe()
    );
    loop {
        let prompt = if session.borrow().is_continuing() {
            CONTINUATION_PROMPT
        } else {
            PROMPT
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            // Ctrl-C at the prompt: drop the line (and an unfinished input).
            Err(ReadlineError::Interrupted) => {
                session.borrow_mut().clear_pending();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(anyhow::Error::new(e).context("reading input")),
        };
        let fed = session.borrow_mut().feed_line(&line);
        let Feed::Done { input, reply } = fed else {
            continue;
        };
        if !input.trim().is_empty() {
            let _ = editor.add_history_entry(input.as_str());
            if let Some(path) = &history {
                if let Err(e) = editor.save_history(path) {
                    eprintln!("warning: cannot write history {}: {e}", path.display());
                }
            }
        }
        print_reply(&reply);
        if reply.quit {
            break;
        }
    }
    if capture.is_some() {
        eprintln!("scry: stopping the capture…");
    }
    if let Some(summary) = capture.and_then(BackgroundCapture::stop) {
        eprintln!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The backend for `--server` / `--data` / `--capture`; with none of them,
/// a local store that a background capture fills (or, when the probes
/// cannot attach, empty tables and a warning).
fn open_backend(args: &ReplArgs) -> Result<(Arc<dyn Backend>, Option<BackgroundCapture>)> {
    let explicit =
        args.remote.server.is_some() || args.source.data.is_some() || args.source.capture.is_some();
    if explicit {
        let backend: Arc<dyn Backend> =
            Arc::from(crate::run::backend_for(&args.source, &args.remote)?);
        return Ok((backend, None));
    }
    let store = crate::run::build_store(&args.source)?;
    let capture = match BackgroundCapture::start(&store, args.source.probes.tracer_config()?) {
        Ok(capture) => {
            eprintln!("scry: capturing in the background; tables grow while you query");
            Some(capture)
        }
        Err(e) => {
            eprintln!(
                "warning: not capturing ({}); the tables stay empty",
                crate::error_line(&e)
            );
            None
        }
    };
    Ok((Arc::new(LocalBackend::new(store)), capture))
}

fn print_reply(reply: &Reply) {
    if !reply.output.is_empty() {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let _ = out.write_all(reply.output.as_bytes());
        let _ = out.flush();
    }
    if !reply.errors.is_empty() {
        let stderr = std::io::stderr();
        let mut err = stderr.lock();
        let _ = err.write_all(reply.errors.as_bytes());
        let _ = err.flush();
    }
}
