//! The `px` module of PxL: every `px.*` scalar function, aggregate, table
//! function and semantic cast, with its signature, one-line doc, a runnable
//! example and its lowering to a Polars expression.
//!
//! - [`types`]: PxL data types, semantic types, literals.
//! - [`registry`]: the function registry the compiler, REPL and docs share.
//! - [`functions`]: the definitions, one module per family.
//! - [`render_reference`]: the reference text `scry docs` prints.
//!
//! This crate knows nothing of tables or probes; facts about processes come
//! through [`registry::MetadataProvider`].

mod docs;
pub mod functions;
pub mod registry;
pub mod types;

#[cfg(test)]
mod testutil;

pub use docs::render_reference;
pub use registry::{
    registry, Env, Example, FnError, FunctionDef, FunctionKind, MetadataProvider, NoMetadata,
    Operand, Param, ParamKind, Registry, TypedExpr,
};
pub use types::{DataType, Literal, SemanticType};
