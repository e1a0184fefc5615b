//! `scry agent`: keeps running with the probes (or saved tables) filling the
//! table store, answers Arrow Flight calls, and runs schedules; stops
//! gracefully on SIGINT/SIGTERM (calls in flight finish, probes detach).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use scry_runtime::store::{StoreConfig, TableStore};
use tokio::net::TcpListener;

use crate::cli::{self, AgentArgs};
use crate::flight::bridge::DEFAULT_BATCH_ROWS;
use crate::flight::results::{ResultCache, DEFAULT_RESULT_CACHE_BYTES, DEFAULT_RESULT_TTL};
use crate::flight::server::{serve, ServeOptions};
use crate::flight::service::{FlightState, ScryFlightService};
use crate::schedule::Scheduler;

pub fn main(args: AgentArgs) -> Result<ExitCode> {
    let addr: SocketAddr = args.listen.parse().with_context(|| {
        format!(
            "--listen {}: write an address and port, e.g. 127.0.0.1:7070",
            args.listen
        )
    })?;
    let options = ServeOptions {
        token: args.token.clone(),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
    };
    options.check_exposure(&addr)?;
    let tracer_config = args.probes.tracer_config()?;
    let store = Arc::new(TableStore::new(StoreConfig {
        memory_limit_bytes: cli::parse_size(&args.memory_limit)?,
        ..StoreConfig::default()
    }));
    if let Some(dir) = &args.data {
        let files = scry_runtime::data_dir::load_dir(&store, dir)
            .with_context(|| format!("loading tables from {}", dir.display()))?;
        eprintln!(
            "scry agent: loaded {} table file(s) from {}",
            files.len(),
            dir.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the agent runtime")?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let scheme = if options.tls_cert.is_some() {
            "grpc+tls"
        } else {
            "grpc"
        };
        let tracer = if args.data.is_none() && !args.no_probes {
            match scry_probes::Tracer::start(tracer_config, store.clone()) {
                Ok(t) => {
                    eprintln!("scry agent: probes attached");
                    Some(t)
                }
                Err(e) => {
                    eprintln!("scry agent: probes not attached: {e}; serving without capture");
                    None
                }
            }
        } else {
            None
        };
        let scheduler = match &args.schedule {
            Some(path) => Some(Arc::new(Scheduler::start(path, store.clone())?)),
            None => None,
        };
        let service = ScryFlightService::new(FlightState {
            store: store.clone(),
            scheduler: scheduler.clone(),
            results: Arc::new(ResultCache::new(
                DEFAULT_RESULT_CACHE_BYTES,
                DEFAULT_RESULT_TTL,
            )),
            batch_rows: DEFAULT_BATCH_ROWS,
        });
        eprintln!(
            "scry agent: serving Arrow Flight on {scheme}://{}{}",
            listener.local_addr()?,
            if options.token.is_some() {
                " (bearer token required)"
            } else {
                ""
            }
        );
        serve(listener, service, options, shutdown_signal()).await?;
        eprintln!("scry agent: stopping");
        if let Some(s) = scheduler {
            match Arc::try_unwrap(s) {
                Ok(s) => s.stop().await,
                Err(_) => eprintln!("scry agent: schedules still referenced; not waiting for them"),
            }
        }
        if let Some(t) = tracer {
            eprintln!("{}", t.stop().await);
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

/// An agent serving a given store on its own thread (tests, benches and
/// embedding): Flight on `addr`, stopped on drop.
pub struct BackgroundAgent {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl BackgroundAgent {
    /// Serve `store` on `listen` (use port 0 for any free port).
    pub fn start(
        store: Arc<TableStore>,
        listen: SocketAddr,
        options: ServeOptions,
        schedule: Option<std::path::PathBuf>,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind(listen))?;
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("scry-agent".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let scheduler = match &schedule {
                        Some(path) => Some(Arc::new(Scheduler::start(path, store.clone())?)),
                        None => None,
                    };
                    let service = ScryFlightService::new(FlightState {
                        store,
                        scheduler: scheduler.clone(),
                        results: Arc::new(ResultCache::new(
                            DEFAULT_RESULT_CACHE_BYTES,
                            DEFAULT_RESULT_TTL,
                        )),
                        batch_rows: DEFAULT_BATCH_ROWS,
                    });
                    serve(listener, service, options, async {
                        let _ = stop_rx.await;
                    })
                    .await?;
                    if let Some(Ok(s)) = scheduler.map(Arc::try_unwrap) {
                        s.stop().await;
                    }
                    Ok(())
                })
            })?;
        Ok(BackgroundAgent {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Stop serving and wait for the server to finish.
    pub fn stop(mut self) -> Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| anyhow::anyhow!("the agent thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for BackgroundAgent {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}
