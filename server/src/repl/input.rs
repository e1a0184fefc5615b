//! The line editor's side of the REPL: the rustyline helper that offers
//! completions from the shared [`Session`], and the history file's place.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use rustyline::completion::Completer;
use rustyline::{Context, Helper, Highlighter, Hinter, Validator};

use super::session::Session;

/// Completion from the session; no hints, highlighting or validation
/// (whether an input is complete is the session's call, line by line).
#[derive(Helper, Highlighter, Hinter, Validator)]
pub struct ReplHelper {
    session: Rc<RefCell<Session>>,
}

impl ReplHelper {
    pub fn new(session: Rc<RefCell<Session>>) -> Self {
        ReplHelper { session }
    }
}

impl Completer for ReplHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        match self.session.try_borrow() {
            Ok(session) => Ok(super::complete::candidates(&session, line, pos)),
            Err(_) => Ok((pos, Vec::new())),
        }
    }
}

/// `--history FILE`, else `~/.scry_history` (none without a home directory).
pub fn history_path(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|home| PathBuf::from(home).join(".scry_history"))
    })
}
