//! Results out through Arrow Flight: 10 million rows × 6 columns streamed
//! from an agent to a Rust Flight client on loopback, against writing the
//! same record batches as an Arrow IPC stream to memory, in the same run.
//!
//! `cargo bench --workspace --profile dev --bench flight`
//! (SCRY_BENCH_ROWS changes the size). Runs alternate Flight / IPC; each
//! figure is the median; GB/s counts the IPC stream's bytes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_flight::{FlightClient, Ticket};
use futures::TryStreamExt;
use polars::prelude::*;
use scry::agent::BackgroundAgent;
use scry::flight::server::ServeOptions;
use scry_lang::{ColumnSchema, TableSchema, TableSource, TimeRange};
use scry_runtime::store::{StoreConfig, TableStore};
use scry_stdlib::{DataType as Px, SemanticType};

const RUNS: usize = 5;

fn schema() -> TableSchema {
    let col = |n: &str, t: Px| ColumnSchema::new(n, t, SemanticType::None, "");
    TableSchema {
        name: "bench_rows".into(),
        desc: "benchmark rows".into(),
        columns: vec![
            col("time_", Px::Time64Ns),
            col("remote_port", Px::Int64),
            col("resp_status", Px::Int64),
            col("latency", Px::Int64),
            col("ratio", Px::Float64),
            col("req_path", Px::String),
        ],
    }
}

fn fill(store: &TableStore, rows: usize) {
    store.register(schema()).expect("registers");
    let batch = 1_000_000;
    let mut start = 0;
    while start < rows {
        let n = batch.min(rows - start);
        let idx: Vec<i64> = (start as i64..(start + n) as i64).collect();
        let df = DataFrame::new(
            n,
            vec![
                Int64Chunked::from_vec(
                    "time_".into(),
                    idx.iter()
                        .map(|i| 1_700_000_000_000_000_000 + i * 1000)
                        .collect(),
                )
                .into_datetime(TimeUnit::Nanoseconds, None)
                .into_column(),
                Column::new(
                    "remote_port".into(),
                    idx.iter().map(|i| 1024 + i % 50_000).collect::<Vec<_>>(),
                ),
                Column::new(
                    "resp_status".into(),
                    idx.iter()
                        .map(|i| [200, 200, 404, 500][(*i % 4) as usize])
                        .collect::<Vec<i64>>(),
                ),
                Column::new(
                    "latency".into(),
                    idx.iter()
                        .map(|i| (i * 7919) % 5_000_000)
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "ratio".into(),
                    idx.iter().map(|i| *i as f64 / 3.0).collect::<Vec<_>>(),
                ),
                Column::new(
                    "req_path".into(),
                    idx.iter()
                        .map(|i| format!("/api/v1/items/{}", i % 1000))
                        .collect::<Vec<_>>(),
                ),
            ],
        )
        .expect("frame");
        store.append("bench_rows", df).expect("append");
        start += n;
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rows: usize = std::env::var("SCRY_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let store = Arc::new(TableStore::new(StoreConfig {
        memory_limit_bytes: 16 << 30,
        ..StoreConfig::default()
    }));
    fill(&store, rows);
    let agent = BackgroundAgent::start(
        store.clone(),
        "127.0.0.1:0".parse().expect("addr"),
        ServeOptions::default(),
        None,
    )
    .expect("agent starts");

    // The baseline's input: the same rows as arrow-rs batches, converted
    // once outside the timing.
    let df = store
        .scan("bench_rows", TimeRange::default())
        .and_then(|lf| lf.collect())
        .expect("scan");
    let batches =
        scry::flight::bridge::to_record_batches(&df, scry::flight::bridge::DEFAULT_BATCH_ROWS)
            .expect("batches");
    let arrow_schema = batches[0].schema();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let channel = runtime
        .block_on(
            tonic::transport::Endpoint::from_shared(format!("http://{}", agent.addr))
                .expect("endpoint")
                .connect(),
        )
        .expect("connect");
    let mut client = FlightClient::new(channel);

    let mut flight_times = Vec::new();
    let mut ipc_times = Vec::new();
    let mut ipc_bytes = 0usize;
    for _ in 0..RUNS {
        let t = Instant::now();
        let received: usize = runtime.block_on(async {
            let stream = client
                .do_get(Ticket::new(r#"{"table": "bench_rows"}"#))
                .await
                .expect("do_get");
            let batches: Vec<_> = stream.try_collect().await.expect("stream");
            batches.iter().map(|b| b.num_rows()).sum()
        });
        flight_times.push(t.elapsed());
        assert_eq!(received, rows);

        let t = Instant::now();
        let mut buf = Vec::with_capacity(ipc_bytes);
        {
            let mut w =
                arrow_ipc::writer::StreamWriter::try_new(&mut buf, &arrow_schema).expect("writer");
            for b in &batches {
                w.write(b).expect("write");
            }
            w.finish().expect("finish");
        }
        ipc_times.push(t.elapsed());
        ipc_bytes = buf.len();
    }
    let flight = median(flight_times);
    let ipc = median(ipc_times);
    let gbps = |d: Duration| ipc_bytes as f64 / d.as_secs_f64() / 1e9;
    println!(
        "{rows} rows × 6 columns, {:.2} GB as an IPC stream, median of {RUNS} alternating runs",
        ipc_bytes as f64 / 1e9
    );
    println!("{:<40} {:>10} {:>10}", "path", "time", "GB/s");
    println!(
        "{:<40} {:>10.1?} {:>10.2}",
        "Flight DoGet → Rust client (loopback)",
        flight,
        gbps(flight)
    );
    println!(
        "{:<40} {:>10.1?} {:>10.2}",
        "IPC stream write to memory",
        ipc,
        gbps(ipc)
    );
    println!(
        "ratio Flight ÷ IPC write: {:.2}×",
        flight.as_secs_f64() / ipc.as_secs_f64()
    );
}
