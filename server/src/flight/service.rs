//! The Flight service an agent serves: raw tables and script results as
//! Arrow record batches, plus actions to run, list and compile scripts.
//!
//! | call | what |
//! |---|---|
//! | `ListFlights` | one FlightInfo per table: schema, rows, bytes |
//! | `GetFlightInfo` | a table (path descriptor) or a script run (command = ticket JSON): one endpoint per output |
//! | `GetSchema` | a table's schema, or a script output's schema (compiled, not run) |
//! | `DoGet` | a JSON ticket (see [`super::ticket`]) → record batches |
//! | `DoAction` | `run`, `compile`, `scripts`, `tables`, `schedules` |
//!
//! Script errors come back as `InvalidArgument` carrying the diagnostic text
//! (line:col and caret). Scripts run on the blocking pool: Polars is CPU-bound.

use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use arrow_ipc::writer::IpcWriteOptions;
use futures::{Stream, TryStreamExt};
use polars::prelude::DataFrame;
use scry_lang::bundle::ScriptBundle;
use scry_lang::{Catalog, TableSource, TimeRange};
use scry_runtime::store::TableStore;
use serde_json::json;
use tonic::{Request, Response, Status, Streaming};

use super::bridge;
use super::results::ResultCache;
use super::ticket::{Request as TicketReq, TicketRequest};
use crate::backend::Backend;
use crate::schedule::Scheduler;

/// What the service serves from.
pub struct FlightState {
    pub store: Arc<TableStore>,
    pub scheduler: Option<Arc<Scheduler>>,
    pub results: Arc<ResultCache>,
    /// Rows per record batch on the wire.
    pub batch_rows: usize,
}

#[derive(Clone)]
pub struct ScryFlightService {
    state: Arc<FlightState>,
}

impl ScryFlightService {
    pub fn new(state: FlightState) -> Self {
        ScryFlightService {
            state: Arc::new(state),
        }
    }
}

type Stream_<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A script request resolved to a bundle and its arguments.
struct ScriptJob {
    bundle: ScriptBundle,
    args: Vec<(String, String)>,
    output: Option<String>,
}

fn parse_ticket(bytes: &[u8]) -> Result<TicketReq, Status> {
    TicketRequest::parse(bytes).map_err(Status::invalid_argument)
}

fn script_job(req: TicketReq) -> Result<ScriptJob, Status> {
    let TicketReq::Script {
        origin,
        pxl,
        name,
        vis,
        args,
        output,
    } = req
    else {
        return Err(Status::invalid_argument(
            "this call takes a script ticket: {\"script\": …} or {\"name\": \"px/…\"}",
        ));
    };
    let bundle = match (name, pxl) {
        // Only bundled names: a remote caller must not make the agent read
        // arbitrary files of its host.
        (Some(name), _) => {
            let bundles = crate::scripts::bundled().map_err(|e| Status::internal(e.to_string()))?;
            let names: Vec<String> = bundles.iter().map(|b| b.name.clone()).collect();
            bundles
                .into_iter()
                .find(|b| b.name == name)
                .ok_or_else(|| {
                    let near = scry_lang::diag::near_name(&name, names.iter().map(String::as_str))
                        .map(|n| format!(" (did you mean '{n}'?)"))
                        .unwrap_or_default();
                    Status::not_found(format!("no bundled script named '{name}'{near}"))
                })?
        }
        (None, Some(pxl)) => ScriptBundle::from_texts(&origin, &pxl, vis.as_deref(), None)
            .map_err(|e| Status::invalid_argument(e.to_string()))?,
        (None, None) => return Err(Status::invalid_argument("no script in the ticket")),
    };
    Ok(ScriptJob {
        bundle,
        args,
        output,
    })
}

/// An error from compiling or running a script, as a status.
fn script_status(e: anyhow::Error) -> Status {
    if let Some(d) = e.downcast_ref::<scry_lang::Diagnostic>() {
        return Status::invalid_argument(d.to_string());
    }
    if e.downcast_ref::<scry_runtime::exec::ExecError>().is_some() {
        return Status::invalid_argument(format!("script failed: {e:#}"));
    }
    Status::internal(format!("{e:#}"))
}

fn time_bound(text: &str, now_ns: i64, what: &str) -> Result<i64, Status> {
    let t = text.trim();
    if let Ok(ns) = t.parse::<i64>() {
        return Ok(ns);
    }
    if t.starts_with('-') || t.starts_with('+') {
        if let Some(d) = scry_lang::time::parse_duration(t) {
            return Ok(now_ns + d);
        }
    }
    scry_lang::time::parse_absolute(t).ok_or_else(|| {
        Status::invalid_argument(format!(
            "{what} '{text}' is not a time: write -5m, an RFC 3339 time or nanoseconds"
        ))
    })
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn unknown_table(store: &TableStore, table: &str) -> Status {
    let names = store.table_names();
    let near = scry_lang::diag::near_name(table, names.iter().map(String::as_str))
        .map(|n| format!(" (did you mean '{n}'?)"))
        .unwrap_or_default();
    Status::not_found(format!("no table named '{table}'{near}"))
}

impl FlightState {
    fn read_table(
        &self,
        table: &str,
        start: Option<&str>,
        end: Option<&str>,
    ) -> Result<DataFrame, Status> {
        if self.store.table(table).is_none() {
            return Err(unknown_table(&self.store, table));
        }
        let now = now_ns();
        let range = TimeRange {
            start_ns: start
                .map(|s| time_bound(s, now, "start_time"))
                .transpose()?,
            end_ns: end.map(|s| time_bound(s, now, "end_time")).transpose()?,
        };
        self.store
            .scan(table, range)
            .and_then(|lf| lf.collect())
            .map_err(|e| Status::internal(format!("reading {table}: {e}")))
    }

    fn run_job(&self, job: &ScriptJob) -> Result<Vec<(String, DataFrame)>, Status> {
        crate::backend::LocalBackend::new(self.store.clone())
            .run(&job.bundle, &job.args)
            .map_err(script_status)
    }

    /// Run a script and keep its outputs; returns the result id and outputs.
    fn run_and_keep(&self, job: &ScriptJob) -> Result<(String, Vec<(String, DataFrame)>), Status> {
        let outputs = self.run_job(job)?;
        let id = self.results.insert(outputs.clone());
        Ok((id, outputs))
    }

    fn table_info(&self, table: &str) -> Result<FlightInfo, Status> {
        let schema = self
            .store
            .table(table)
            .ok_or_else(|| unknown_table(&self.store, table))?;
        let arrow = bridge::arrow_schema(&schema.empty_frame()).map_err(internal)?;
        let stats = self.store.table_stat(table);
        let ticket = json!({ "table": table }).to_string();
        FlightInfo::new()
            .try_with_schema(&arrow)
            .map_err(|e| Status::internal(e.to_string()))
            .map(|info| {
                info.with_descriptor(FlightDescriptor::new_path(vec![table.to_string()]))
                    .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
                    .with_total_records(stats.as_ref().map(|s| s.rows as i64).unwrap_or(0))
                    .with_total_bytes(stats.as_ref().map(|s| s.bytes as i64).unwrap_or(0))
            })
    }
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

/// Run CPU-bound work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(format!("worker failed: {e}")))?
}

/// Choose one output: the named one, or the only one.
fn pick_output(
    outputs: Vec<(String, DataFrame)>,
    wanted: Option<&str>,
) -> Result<DataFrame, Status> {
    let names: Vec<String> = outputs.iter().map(|(n, _)| n.clone()).collect();
    match wanted {
        Some(w) => outputs
            .into_iter()
            .find(|(n, _)| n == w)
            .map(|(_, df)| df)
            .ok_or_else(|| {
                Status::not_found(format!(
                    "the script has no output '{w}'; its outputs: {}",
                    names.join(", ")
                ))
            }),
        None if outputs.len() == 1 => Ok(outputs
            .into_iter()
            .next()
            .map(|(_, df)| df)
            .unwrap_or_default()),
        None => Err(Status::invalid_argument(format!(
            "the script has {} outputs ({}); name one with \"output\"",
            outputs.len(),
            names.join(", ")
        ))),
    }
}

/// A frame as a stream of Flight messages (schema first, even when empty).
fn frame_stream(df: DataFrame, batch_rows: usize) -> Result<Stream_<FlightData>, Status> {
    let (schema, batches) = bridge::record_batch_iter(df, batch_rows).map_err(internal)?;
    let batches = futures::stream::iter(
        batches.map(|b| b.map_err(|e| arrow_flight::error::FlightError::ExternalError(e.into()))),
    );
    let encoded = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(batches)
        .map_err(Status::from);
    Ok(Box::pin(encoded))
}

fn output_entry(id: &str, name: &str, df: &DataFrame) -> Result<serde_json::Value, Status> {
    let schema = bridge::arrow_schema(df).map_err(internal)?;
    let columns: Vec<serde_json::Value> = schema
        .fields()
        .iter()
        .map(|f| json!({"name": f.name(), "type": f.data_type().to_string()}))
        .collect();
    Ok(json!({
        "name": name,
        "rows": df.height(),
        "columns": columns,
        "ticket": json!({"result": id, "output": name}).to_string(),
    }))
}

fn one_result(body: serde_json::Value) -> Stream_<arrow_flight::Result> {
    let r = arrow_flight::Result {
        body: body.to_string().into(),
    };
    Box::pin(futures::stream::iter([Ok(r)]))
}

#[tonic::async_trait]
impl FlightService for ScryFlightService {
    type HandshakeStream = Stream_<HandshakeResponse>;
    type ListFlightsStream = Stream_<FlightInfo>;
    type DoGetStream = Stream_<FlightData>;
    type DoPutStream = Stream_<PutResult>;
    type DoExchangeStream = Stream_<FlightData>;
    type DoActionStream = Stream_<arrow_flight::Result>;
    type ListActionsStream = Stream_<ActionType>;

    async fn handshake(
        &self,
        _request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        // Authentication is a bearer token on every call; the handshake
        // only confirms the caller got past it.
        let reply = HandshakeResponse::default();
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(reply)]))))
    }

    async fn list_flights(
        &self,
        _request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        let state = self.state.clone();
        let infos = blocking(move || {
            let mut names = state.store.table_names();
            names.sort();
            names
                .iter()
                .map(|n| state.table_info(n))
                .collect::<Result<Vec<_>, Status>>()
        })
        .await?;
        Ok(Response::new(Box::pin(futures::stream::iter(
            infos.into_iter().map(Ok),
        ))))
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let descriptor = request.into_inner();
        let state = self.state.clone();
        if let [table] = descriptor.path.as_slice() {
            let table = table.clone();
            return Ok(Response::new(
                blocking(move || state.table_info(&table)).await?,
            ));
        }
        let job = script_job(parse_ticket(&descriptor.cmd)?)?;
        let info = blocking(move || {
            let (id, outputs) = state.run_and_keep(&job)?;
            let (name, df) = match &job.output {
                Some(w) => outputs
                    .iter()
                    .find(|(n, _)| n == w)
                    .ok_or_else(|| Status::not_found(format!("the script has no output '{w}'")))?,
                None => outputs
                    .first()
                    .ok_or_else(|| Status::invalid_argument("the script has no outputs"))?,
            };
            let schema = bridge::arrow_schema(df).map_err(internal)?;
            let mut info = FlightInfo::new()
                .try_with_schema(&schema)
                .map_err(internal)?
                .with_descriptor(descriptor.clone())
                .with_total_records(df.height() as i64)
                .with_total_bytes(df.estimated_size() as i64);
            // One endpoint per output (the chosen one first).
            let mut names: Vec<&String> = vec![name];
            names.extend(outputs.iter().map(|(n, _)| n).filter(|n| *n != name));
            for n in names {
                let ticket = json!({"result": id, "output": n}).to_string();
                info = info.with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)));
            }
            Ok(info)
        })
        .await?;
        Ok(Response::new(info))
    }

    async fn poll_flight_info(
        &self,
        _request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented(
            "scry answers GetFlightInfo directly; use it instead of PollFlightInfo",
        ))
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        let descriptor = request.into_inner();
        let state = self.state.clone();
        let schema = blocking(move || {
            if let [table] = descriptor.path.as_slice() {
                let schema = state
                    .store
                    .table(table)
                    .ok_or_else(|| unknown_table(&state.store, table))?;
                return bridge::arrow_schema(&schema.empty_frame()).map_err(internal);
            }
            // A script output's schema comes from its plan: compiled, not run.
            let job = script_job(parse_ticket(&descriptor.cmd)?)?;
            let backend = crate::backend::LocalBackend::new(state.store.clone());
            let compiled = backend
                .compile(&job.bundle, &job.args)
                .map_err(script_status)?;
            let names: Vec<String> = compiled.outputs.iter().map(|o| o.name.clone()).collect();
            let output = match &job.output {
                Some(w) => compiled.outputs.iter().find(|o| &o.name == w),
                None if compiled.outputs.len() == 1 => compiled.outputs.first(),
                None => None,
            }
            .ok_or_else(|| {
                Status::invalid_argument(format!(
                    "name one output with \"output\"; the script's outputs: {}",
                    names.join(", ")
                ))
            })?;
            let empty = output
                .plan
                .clone()
                .limit(0)
                .collect()
                .map_err(|e| script_status(e.into()))?;
            bridge::arrow_schema(&empty).map_err(internal)
        })
        .await?;
        let options = IpcWriteOptions::default();
        let result = SchemaAsIpc::new(&schema, &options);
        Ok(Response::new(
            SchemaResult::try_from(result).map_err(internal)?,
        ))
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        let req = parse_ticket(&request.into_inner().ticket)?;
        let state = self.state.clone();
        let batch_rows = state.batch_rows;
        let df = match req {
            TicketReq::Table {
                table,
                start_time,
                end_time,
            } => {
                blocking(move || {
                    state.read_table(&table, start_time.as_deref(), end_time.as_deref())
                })
                .await?
            }
            TicketReq::Result { id, output } => state.results.get(&id, &output).ok_or_else(|| {
                Status::not_found(format!(
                    "result {id} output '{output}' is no longer kept (results are kept for minutes, within a byte budget); run the script again"
                ))
            })?,
            script => {
                let job = script_job(script)?;
                blocking(move || {
                    let outputs = state.run_job(&job)?;
                    pick_output(outputs, job.output.as_deref())
                })
                .await?
            }
        };
        Ok(Response::new(frame_stream(df, batch_rows)?))
    }

    async fn do_put(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        Err(Status::unimplemented(
            "scry agents are read-only over Flight; load tables with --data",
        ))
    }

    async fn do_exchange(
        &self,
        _request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("DoExchange is not offered"))
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let action = request.into_inner();
        let state = self.state.clone();
        match action.r#type.as_str() {
            "run" => {
                let job = script_job(parse_ticket(&action.body)?)?;
                let entries = blocking(move || {
                    let (id, outputs) = state.run_and_keep(&job)?;
                    outputs
                        .iter()
                        .map(|(n, df)| output_entry(&id, n, df))
                        .collect::<Result<Vec<_>, Status>>()
                })
                .await?;
                let results: Vec<Result<arrow_flight::Result, Status>> = entries
                    .into_iter()
                    .map(|e| {
                        Ok(arrow_flight::Result {
                            body: e.to_string().into(),
                        })
                    })
                    .collect();
                Ok(Response::new(Box::pin(futures::stream::iter(results))))
            }
            "compile" => {
                // The body is a script ticket plus an optional "optimized".
                let mut body: serde_json::Value =
                    serde_json::from_slice(&action.body).map_err(|e| {
                        Status::invalid_argument(format!("compile body is not JSON: {e}"))
                    })?;
                let optimized = body
                    .as_object_mut()
                    .and_then(|o| o.remove("optimized"))
                    .and_then(|o| o.as_bool())
                    .unwrap_or(false);
                let job = script_job(parse_ticket(body.to_string().as_bytes())?)?;
                let body = blocking(move || {
                    let backend = crate::backend::LocalBackend::new(state.store.clone());
                    Ok(match backend.compile(&job.bundle, &job.args) {
                        Ok(c) => json!({"ok": true, "plans": c.explain(optimized)}),
                        Err(e) => json!({"ok": false, "diagnostic": crate::render_error(&e)}),
                    })
                })
                .await?;
                Ok(Response::new(one_result(body)))
            }
            "scripts" => {
                let bundles =
                    crate::scripts::bundled().map_err(|e| Status::internal(e.to_string()))?;
                let list: Vec<serde_json::Value> = bundles
                    .iter()
                    .map(|b| json!({"name": b.name, "short": b.manifest.short.trim()}))
                    .collect();
                Ok(Response::new(one_result(serde_json::Value::Array(list))))
            }
            "tables" => {
                let mut names = state.store.table_names();
                names.sort();
                let list: Vec<serde_json::Value> = names
                    .iter()
                    .filter_map(|n| state.store.table(n))
                    .map(|t| {
                        let rows = state.store.table_stat(&t.name).map(|s| s.rows).unwrap_or(0);
                        json!({
                            "name": t.name,
                            "desc": t.desc,
                            "rows": rows,
                            "columns": t.columns.iter().map(|c| json!({
                                "name": c.name,
                                "type": c.dtype.to_string(),
                                "semantic": c.semantic.to_string(),
                                "desc": c.desc,
                            })).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                Ok(Response::new(one_result(serde_json::Value::Array(list))))
            }
            "schedules" => {
                let list = state
                    .scheduler
                    .as_ref()
                    .map(|s| s.status())
                    .unwrap_or_default();
                let body = serde_json::to_value(list).map_err(internal)?;
                Ok(Response::new(one_result(body)))
            }
            other => {
                let near = scry_lang::diag::near_name(other, ACTIONS.iter().map(|(n, _)| *n))
                    .map(|n| format!(" (did you mean '{n}'?)"))
                    .unwrap_or_default();
                Err(Status::invalid_argument(format!(
                    "unknown action '{other}'{near}; ListActions shows the offered ones"
                )))
            }
        }
    }

    async fn list_actions(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        let list = ACTIONS.iter().map(|(name, desc)| {
            Ok(ActionType {
                r#type: name.to_string(),
                description: desc.to_string(),
            })
        });
        let list: Vec<_> = list.collect();
        Ok(Response::new(Box::pin(futures::stream::iter(list))))
    }
}

const ACTIONS: &[(&str, &str)] = &[
    (
        "run",
        "run a script ({\"script\"|\"name\", \"args\"}); one result per output: name, rows, columns, ticket",
    ),
    (
        "compile",
        "compile a script without running it: {\"ok\", \"plans\"} or {\"ok\": false, \"diagnostic\"}",
    ),
    ("scripts", "the bundled scripts: name and summary"),
    ("tables", "every table with its columns, types and descriptions"),
    ("schedules", "the agent's schedules with their last and next runs"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds() {
        assert_eq!(
            time_bound("-5m", 1_000_000_000_000, "t").unwrap(),
            700_000_000_000
        );
        assert_eq!(time_bound("42", 0, "t").unwrap(), 42);
        assert!(time_bound("soon", 0, "t")
            .unwrap_err()
            .message()
            .contains("-5m"));
    }

    #[test]
    fn outputs_are_picked_by_name_or_when_alone() {
        let a = DataFrame::empty();
        let outs = vec![("a".to_string(), a.clone()), ("b".to_string(), a)];
        assert!(pick_output(outs.clone(), Some("b")).is_ok());
        let e = pick_output(outs.clone(), None).unwrap_err();
        assert!(e.message().contains("a, b"));
        assert!(pick_output(outs, Some("c"))
            .unwrap_err()
            .message()
            .contains("a, b"));
    }
}
