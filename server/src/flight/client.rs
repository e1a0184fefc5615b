//! The Flight client side: [`RemoteBackend`] runs scripts on an agent and
//! returns Polars frames, so `scry run --server`, the REPL and checks print
//! exactly what they print locally.
//!
//! The calls are blocking (each backend owns a small tokio runtime); do not
//! call them from inside an async task.

use std::sync::Mutex;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use arrow_flight::error::FlightError;
use arrow_flight::{Action, FlightClient, Ticket};
use futures::TryStreamExt;
use polars::prelude::DataFrame;
use scry_lang::bundle::ScriptBundle;
use scry_lang::{ColumnSchema, TableSchema};
use scry_stdlib::{DataType, SemanticType};
use serde_json::{json, Value};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::Code;

use super::bridge;
use crate::backend::{Backend, Outputs, ScriptError};
use crate::cli::RemoteArgs;
use crate::schedule::ScheduleStatus;

pub struct RemoteBackend {
    runtime: tokio::runtime::Runtime,
    /// Flight calls need `&mut`; the backend is shared (`&self`).
    client: Mutex<FlightClient>,
    url: String,
}

/// `host:port`, `grpc://…`, `grpc+tls://…`, `http(s)://…` → (URL, TLS?).
fn endpoint_url(addr: &str) -> Result<(String, bool)> {
    let (scheme, rest) = match addr.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("grpc".to_string(), addr),
    };
    let tls = match scheme.as_str() {
        "grpc" | "grpc+tcp" | "http" => false,
        "grpc+tls" | "https" => true,
        other => anyhow::bail!(
            "--server {addr}: unknown scheme '{other}' (write host:port, grpc://host:port or grpc+tls://host:port)"
        ),
    };
    if rest.is_empty() || !rest.contains(':') {
        anyhow::bail!("--server {addr}: write host:port, e.g. 127.0.0.1:7070");
    }
    let url = format!("{}://{rest}", if tls { "https" } else { "http" });
    Ok((url, tls))
}

/// A Flight error as something a person can act on.
fn flight_error(e: FlightError, url: &str) -> anyhow::Error {
    match e {
        FlightError::Tonic(status) => status_error(*status, url),
        other => anyhow!("talking to the agent at {url}: {other}"),
    }
}

fn status_error(status: tonic::Status, url: &str) -> anyhow::Error {
    match status.code() {
        Code::InvalidArgument => anyhow::Error::new(ScriptError {
            text: status.message().to_string(),
        }),
        Code::Unauthenticated => anyhow!(
            "the agent at {url} refused the call: {} (pass the agent's token with --token or SCRY_TOKEN)",
            status.message()
        ),
        Code::Unavailable => anyhow!(
            "cannot reach the agent at {url}: {} (is `scry agent` running there?)",
            status.message()
        ),
        _ => anyhow!("the agent at {url} answered {:?}: {}", status.code(), status.message()),
    }
}

fn parse_dtype(name: &str) -> Option<DataType> {
    DataType::ALL
        .iter()
        .copied()
        .find(|d| d.pixie_name() == name)
}

fn parse_semantic(name: &str) -> SemanticType {
    SemanticType::ALL
        .iter()
        .copied()
        .find(|s| s.pixie_name() == name)
        .unwrap_or_default()
}

/// A script bundle as a ticket body: the text travels, so the agent runs
/// exactly what the caller has (not its own copy of a bundled script).
fn script_ticket(bundle: &ScriptBundle, args: &[(String, String)]) -> Value {
    let args: serde_json::Map<String, Value> = args
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut t = json!({"script": bundle.pxl, "origin": bundle.name, "args": args});
    if let Some(vis) = &bundle.vis_json {
        t["vis"] = Value::String(vis.clone());
    }
    t
}

impl RemoteBackend {
    /// Connect to the agent at `addr` (host:port or a grpc URL).
    pub fn connect(addr: &str, remote: &RemoteArgs) -> Result<Self> {
        let (url, tls) = endpoint_url(addr)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the client runtime")?;
        let mut endpoint = Endpoint::from_shared(url.clone())
            .with_context(|| format!("--server {addr} is not an address"))?
            .connect_timeout(Duration::from_secs(5));
        if tls {
            let mut config = ClientTlsConfig::new().with_enabled_roots();
            if let Some(ca) = &remote.tls_ca {
                let pem = std::fs::read(ca)
                    .with_context(|| format!("reading --tls-ca {}", ca.display()))?;
                config = config.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint
                .tls_config(config)
                .context("setting up TLS to the agent")?;
        } else if remote.tls_ca.is_some() {
            anyhow::bail!("--tls-ca needs a TLS address: write --server grpc+tls://{addr}");
        }
        let channel: Channel = runtime.block_on(endpoint.connect()).map_err(|e| {
            let mut cause = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                cause = s.to_string();
                src = s.source();
            }
            anyhow!("cannot reach the agent at {url}: {cause} (is `scry agent` running there?)")
        })?;
        let mut client = FlightClient::new(channel);
        if let Some(token) = &remote.token {
            client
                .add_header("authorization", &format!("Bearer {token}"))
                .map_err(|e| anyhow!("the token cannot be sent as a header: {e}"))?;
        }
        Ok(RemoteBackend {
            runtime,
            client: Mutex::new(client),
            url,
        })
    }

    /// Run an action and collect its JSON results.
    fn action(&self, name: &str, body: Value) -> Result<Vec<Value>> {
        let url = &self.url;
        let mut client = self.client.lock().unwrap_or_else(|p| p.into_inner());
        let bodies: Vec<_> = self.runtime.block_on(async {
            let stream = client
                .do_action(Action::new(name, body.to_string()))
                .await
                .map_err(|e| flight_error(e, url))?;
            stream
                .try_collect::<Vec<_>>()
                .await
                .map_err(|e| flight_error(e, url))
        })?;
        bodies
            .iter()
            .map(|b| {
                serde_json::from_slice(b)
                    .with_context(|| format!("the agent's '{name}' answer is not JSON"))
            })
            .collect()
    }

    /// Fetch one ticket as a Polars frame.
    pub fn fetch(&self, ticket: String) -> Result<DataFrame> {
        let url = &self.url;
        let mut client = self.client.lock().unwrap_or_else(|p| p.into_inner());
        self.runtime.block_on(async {
            let mut stream = client
                .do_get(Ticket::new(ticket))
                .await
                .map_err(|e| flight_error(e, url))?;
            let mut batches = Vec::new();
            while let Some(b) = stream.try_next().await.map_err(|e| flight_error(e, url))? {
                batches.push(b);
            }
            let schema = match (stream.schema(), batches.first()) {
                (Some(s), _) => s.clone(),
                (None, Some(b)) => b.schema(),
                (None, None) => anyhow::bail!("the agent sent no schema"),
            };
            bridge::to_dataframe(&schema, &batches)
        })
    }

    /// The agent's schedules with their last and next runs.
    pub fn schedules(&self) -> Result<Vec<ScheduleStatus>> {
        let mut all = Vec::new();
        for v in self.action("schedules", json!({}))? {
            let list: Vec<ScheduleStatus> =
                serde_json::from_value(v).context("the agent's schedules are not readable")?;
            all.extend(list);
        }
        Ok(all)
    }

    /// Bundled scripts the agent offers: (name, summary).
    pub fn scripts(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for v in self.action("scripts", json!({}))? {
            for s in v.as_array().into_iter().flatten() {
                out.push((
                    s["name"].as_str().unwrap_or_default().to_string(),
                    s["short"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
        Ok(out)
    }
}

impl Backend for RemoteBackend {
    fn tables(&self) -> Result<Vec<TableSchema>> {
        let mut out = Vec::new();
        for v in self.action("tables", json!({}))? {
            for t in v.as_array().into_iter().flatten() {
                let columns = t["columns"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        let ty = c["type"].as_str().unwrap_or_default();
                        Ok(ColumnSchema::new(
                            c["name"].as_str().unwrap_or_default(),
                            parse_dtype(ty)
                                .ok_or_else(|| anyhow!("the agent sent an unknown type '{ty}'"))?,
                            parse_semantic(c["semantic"].as_str().unwrap_or_default()),
                            c["desc"].as_str().unwrap_or_default(),
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?;
                out.push(TableSchema {
                    name: t["name"].as_str().unwrap_or_default().to_string(),
                    desc: t["desc"].as_str().unwrap_or_default().to_string(),
                    columns,
                });
            }
        }
        Ok(out)
    }

    fn run(&self, bundle: &ScriptBundle, args: &[(String, String)]) -> Result<Outputs> {
        // One execution on the agent; its outputs are then fetched one by
        // one with the tickets it returns, in output order.
        let entries = self.action("run", script_ticket(bundle, args))?;
        entries
            .into_iter()
            .map(|e| {
                let name = e["name"]
                    .as_str()
                    .ok_or_else(|| anyhow!("the agent's run answer has no output name"))?
                    .to_string();
                let ticket = e["ticket"]
                    .as_str()
                    .ok_or_else(|| anyhow!("the agent's run answer has no ticket"))?
                    .to_string();
                Ok((name, self.fetch(ticket)?))
            })
            .collect()
    }

    fn explain(
        &self,
        bundle: &ScriptBundle,
        args: &[(String, String)],
        optimized: bool,
    ) -> Result<String> {
        let mut body = script_ticket(bundle, args);
        body["optimized"] = Value::Bool(optimized);
        let answer = self
            .action("compile", body)?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("the agent's compile answer is empty"))?;
        if answer["ok"].as_bool() == Some(true) {
            Ok(answer["plans"].as_str().unwrap_or_default().to_string())
        } else {
            Err(anyhow::Error::new(ScriptError {
                text: answer["diagnostic"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            }))
        }
    }

    fn describe(&self) -> String {
        format!("agent at {}", self.url)
    }
}
