//! Where scripts run. A [`Backend`] is either a local table store (saved
//! tables, an embedded capture) or a remote agent reached over Arrow Flight;
//! `run`, the REPL and checks are written once against this trait, so a
//! remote run prints exactly what a local run prints.

use std::sync::Arc;

use anyhow::Result;
use polars::prelude::DataFrame;
use scry_lang::bundle::ScriptBundle;
use scry_lang::{Catalog, CompiledScript, TableSchema, TableSource};
use scry_runtime::store::TableStore;

/// The outputs of one script run, in output order.
pub type Outputs = Vec<(String, DataFrame)>;

pub trait Backend: Send + Sync {
    /// Every table the backend can read, with its schema.
    fn tables(&self) -> Result<Vec<TableSchema>>;
    /// Compile and run `bundle` with `args` (`--name=value` pairs).
    fn run(&self, bundle: &ScriptBundle, args: &[(String, String)]) -> Result<Outputs>;
    /// The plans of `bundle` as text (`scry compile`, `:explain`).
    fn explain(
        &self,
        bundle: &ScriptBundle,
        args: &[(String, String)],
        optimized: bool,
    ) -> Result<String>;
    /// Where the data comes from, for banners: "local store", "grpc://…".
    fn describe(&self) -> String;
}

/// A script error reported by an agent: its rendered diagnostic
/// (line:col and caret) travels as text.
#[derive(Debug, Clone)]
pub struct ScriptError {
    pub text: String,
}

impl ScriptError {
    pub fn one_line(&self) -> String {
        self.text.lines().next().unwrap_or_default().to_string()
    }
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text.trim_end())
    }
}

impl std::error::Error for ScriptError {}

/// Scripts over a table store in this process.
pub struct LocalBackend {
    store: Arc<TableStore>,
}

impl LocalBackend {
    pub fn new(store: Arc<TableStore>) -> Self {
        LocalBackend { store }
    }

    pub fn store(&self) -> &Arc<TableStore> {
        &self.store
    }

    pub fn compile(
        &self,
        bundle: &ScriptBundle,
        args: &[(String, String)],
    ) -> Result<CompiledScript> {
        crate::run::compile_bundle(bundle, args, self.store.as_ref() as &dyn TableSource)
    }
}

impl Backend for LocalBackend {
    fn tables(&self) -> Result<Vec<TableSchema>> {
        let mut names = self.store.table_names();
        names.sort();
        Ok(names.iter().filter_map(|n| self.store.table(n)).collect())
    }

    fn run(&self, bundle: &ScriptBundle, args: &[(String, String)]) -> Result<Outputs> {
        let compiled = self.compile(bundle, args)?;
        Ok(scry_runtime::exec::execute(&compiled)?)
    }

    fn explain(
        &self,
        bundle: &ScriptBundle,
        args: &[(String, String)],
        optimized: bool,
    ) -> Result<String> {
        Ok(self.compile(bundle, args)?.explain(optimized))
    }

    fn describe(&self) -> String {
        "local store".to_string()
    }
}
