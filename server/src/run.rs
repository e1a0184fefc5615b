//! Subcommand dispatch and local execution: builds the table store (from
//! `--data`, or a capture), compiles scripts with their arguments, runs them.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use scry_lang::bundle::ScriptBundle;
use scry_lang::{CompileOptions, CompiledScript, TableSource};
use scry_runtime::store::{StoreConfig, TableStore};

use crate::backend::{Backend, LocalBackend};
use crate::cli::{self, Cli, Command, RemoteArgs, ScriptsCommand, SourceArgs};
use crate::output::{self, Format};

pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run(args) => {
            let bundle = crate::scripts::resolve(&args.script)?;
            let script_args = cli::parse_script_args(&args.script_args)?;
            let backend = backend_for(&args.source, &args.remote)?;
            let outputs = backend.run(&bundle, &script_args)?;
            let format = args.format.unwrap_or_else(default_format);
            let stdout = std::io::stdout();
            let mut w = stdout.lock();
            output::write_outputs(&mut w, format, &outputs)?;
            w.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Compile(args) => {
            let bundle = crate::scripts::resolve(&args.script)?;
            let script_args = cli::parse_script_args(&args.script_args)?;
            let source = schema_source();
            let compiled = compile_bundle(&bundle, &script_args, &source)?;
            print!("{}", compiled.explain(args.optimized));
            Ok(ExitCode::SUCCESS)
        }
        Command::Scripts { command } => {
            match command {
                ScriptsCommand::List => {
                    let bundles = crate::scripts::bundled()?;
                    let width = bundles.iter().map(|b| b.name.len()).max().unwrap_or(0);
                    for b in bundles {
                        println!("{:width$}  {}", b.name, b.manifest.short.trim());
                    }
                }
                ScriptsCommand::Show { name } => {
                    let b = crate::scripts::resolve(&name)?;
                    print!("{}", b.pxl);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Docs => {
            print!("{}", scry_stdlib::render_reference());
            Ok(ExitCode::SUCCESS)
        }
        Command::Agent(args) => crate::agent::main(args),
        Command::Repl(args) => crate::repl::main(args),
        Command::Check(args) => crate::check::main(args),
        Command::Schedules(args) => crate::schedule::list_main(args),
    }
}

/// Table on a terminal, NDJSON when piped.
pub fn default_format() -> Format {
    if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Json
    }
}

/// The backend a command runs on: the agent at `--server`, else a local
/// store filled from `--data` and/or `--capture`.
pub fn backend_for(source: &SourceArgs, remote: &RemoteArgs) -> Result<Box<dyn Backend>> {
    if let Some(addr) = &remote.server {
        if source.data.is_some() || source.capture.is_some() {
            anyhow::bail!(
                "--server runs on the agent's tables; drop --data/--capture or drop --server"
            );
        }
        let client = crate::flight::client::RemoteBackend::connect(addr, remote)?;
        return Ok(Box::new(client));
    }
    Ok(Box::new(LocalBackend::new(build_store(source)?)))
}

/// A store for a local run: tables from `--data`, or from a capture.
pub fn build_store(source: &SourceArgs) -> Result<Arc<TableStore>> {
    let config = StoreConfig {
        memory_limit_bytes: cli::parse_size(&source.memory_limit)?,
        ..StoreConfig::default()
    };
    let store = Arc::new(TableStore::new(config));
    if let Some(dir) = &source.data {
        scry_runtime::data_dir::load_dir(&store, dir)
            .with_context(|| format!("loading tables from {}", dir.display()))?;
    }
    if let Some(duration) = &source.capture {
        capture(&store, duration, source.probes.tracer_config()?)?;
    }
    Ok(store)
}

/// The catalog's schemas with empty tables: enough to compile and plan.
pub fn schema_source() -> scry_lang::catalog::MemorySource {
    scry_lang::catalog::MemorySource::schemas_only(
        scry_runtime::catalog::builtin_tables().iter().cloned(),
    )
}

pub fn compile_bundle(
    bundle: &ScriptBundle,
    args: &[(String, String)],
    source: &dyn TableSource,
) -> Result<CompiledScript> {
    let mut opts = CompileOptions::now();
    opts.args = args.to_vec();
    opts.vis = bundle.vis.clone();
    opts.origin = Some(bundle.name.clone());
    opts.metadata = scry_runtime::metadata::ProcMetadata::shared();
    Ok(scry_lang::compile(&bundle.pxl, source, &opts)?)
}

pub fn run_bundle(
    bundle: &ScriptBundle,
    args: &[(String, String)],
    store: &TableStore,
) -> Result<Vec<(String, polars::prelude::DataFrame)>> {
    let compiled = compile_bundle(bundle, args, store)?;
    Ok(scry_runtime::exec::execute(&compiled)?)
}

/// Attach the probes, capture into `store` for `duration` (or until Ctrl-C),
/// then detach and print what was seen and what was lost on stderr.
fn capture(
    store: &Arc<TableStore>,
    duration: &str,
    config: scry_probes::TracerConfig,
) -> Result<()> {
    let ns = scry_lang::time::parse_duration(duration)
        .filter(|ns| *ns > 0)
        .ok_or_else(|| {
            anyhow::anyhow!("--capture {duration}: write a positive duration like 10s or 2m")
        })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the capture runtime")?;
    let summary = runtime.block_on(async {
        let tracer = scry_probes::tracer::Tracer::start(config, store.clone())?;
        eprintln!("scry: capturing for {duration} (Ctrl-C stops early)");
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_nanos(ns as u64)) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        anyhow::Ok(tracer.stop().await)
    })?;
    eprintln!("{summary}");
    Ok(())
}

/// A capture running in the background of an interactive session (`sudo
/// scry repl`): tables grow while the person queries. Stops on drop.
pub struct BackgroundCapture {
    runtime: Option<tokio::runtime::Runtime>,
    tracer: Option<scry_probes::tracer::Tracer>,
}

impl BackgroundCapture {
    pub fn start(store: &Arc<TableStore>, config: scry_probes::TracerConfig) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("starting the capture runtime")?;
        let tracer = {
            let _guard = runtime.enter();
            scry_probes::tracer::Tracer::start(config, store.clone())?
        };
        Ok(BackgroundCapture {
            runtime: Some(runtime),
            tracer: Some(tracer),
        })
    }

    /// Detach the probes; returns what was seen and lost.
    pub fn stop(mut self) -> Option<scry_probes::stats::CaptureSummary> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Option<scry_probes::stats::CaptureSummary> {
        let runtime = self.runtime.take()?;
        let tracer = self.tracer.take()?;
        Some(runtime.block_on(tracer.stop()))
    }
}

impl Drop for BackgroundCapture {
    fn drop(&mut self) {
        self.stop_inner();
    }
}
