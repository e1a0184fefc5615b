//! PxL, the language: grammar, AST, diagnostics, symbolic evaluation and
//! lowering to Polars lazy plans.
//!
//! - [`lines`] + [`parser`] (with `grammar.pest`): text → [`ast::Module`].
//! - [`diag`]: diagnostics with line:col, caret and hints.
//! - [`catalog`]: what the compiler knows about tables.
//! - [`repl_input`]: whether a REPL input is complete, decided by the same
//!   line splitter and parser the compiler uses.
pub mod ast;
pub mod bundle;
pub mod catalog;
pub mod compile;
pub mod diag;
pub mod lines;
pub mod parser;
pub mod repl_input;
pub mod value;
pub mod vis;

mod calls;
mod eval;
mod frame_ops;
mod ops;
pub mod time;

pub use catalog::{Catalog, ColumnSchema, TableSchema, TableSource, TimeRange};
pub use compile::{
    compile, CompileOptions, CompiledOutput, CompiledScript, DEFAULT_MAX_OUTPUT_ROWS,
};
pub use diag::{Diagnostic, Span};
