//! PxL through scry against the same queries hand-written with the Polars
//! lazy API, over a 10-million-row in-memory `http_events`, in one run.
//!
//! `cargo bench --workspace --profile dev --bench engine` (SCRY_BENCH_ROWS to
//! change the size).
//! Runs alternate scry / hand-written; each figure is the median of the
//! runs; ratios are scry ÷ hand-written. Script compile time is the mean
//! over many compilations.

use std::time::{Duration, Instant};

use polars::prelude::*;
use scry_lang::{compile, CompileOptions, TableSource, TimeRange};
use scry_runtime::store::{StoreConfig, TableStore};

const RUNS: usize = 5;

/// The same query written directly with the Polars lazy API.
type HandWritten = fn(LazyFrame) -> LazyFrame;
const BATCH_ROWS: usize = 100_000;

fn main() {
    let rows: usize = std::env::var("SCRY_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let store = TableStore::new(StoreConfig {
        memory_limit_bytes: 16 << 30,
        ..StoreConfig::default()
    });
    let t = Instant::now();
    fill(&store, rows);
    println!("loaded {rows} rows of http_events in {:.1?}", t.elapsed());

    let queries: Vec<(&str, &str, HandWritten)> = vec![
        ("filter+projection", FILTER, hand_filter),
        ("groupby count/mean/quantiles", GROUPBY, hand_groupby),
        ("inner merge of two aggregations", MERGE, hand_merge),
    ];
    println!(
        "{:<34} {:>12} {:>12} {:>8} {:>12}",
        "query", "scry", "polars", "ratio", "compile"
    );
    for (name, script, hand) in queries {
        let opts = CompileOptions::new(now());
        let mut scry_times = Vec::new();
        let mut hand_times = Vec::new();
        let mut scry_rows = 0;
        let mut hand_rows = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            let compiled = compile(script, &store, &opts).expect("benchmark script compiles");
            let out = scry_runtime::exec::execute(&compiled).expect("benchmark script runs");
            scry_times.push(t.elapsed());
            scry_rows = out[0].1.height();

            let t = Instant::now();
            let base = store.scan("http_events", TimeRange::default()).unwrap();
            let df = hand(base).collect().unwrap();
            hand_times.push(t.elapsed());
            hand_rows = df.height();
        }
        assert_eq!(
            scry_rows, hand_rows,
            "{name}: scry and Polars disagree on the row count"
        );
        let compile_time = mean_compile_time(script, &store, &opts);
        let (s, h) = (median(&mut scry_times), median(&mut hand_times));
        println!(
            "{:<34} {:>10.1}ms {:>10.1}ms {:>7.3}x {:>10.1}µs",
            name,
            ms(s),
            ms(h),
            s.as_secs_f64() / h.as_secs_f64(),
            compile_time.as_secs_f64() * 1e6
        );
    }
}

const FILTER: &str = r#"
#px:set max_output_rows_per_table=1000000000
import px
df = px.DataFrame(table='http_events')
df = df[df.resp_status >= 500]
df = df[['time_', 'req_path', 'latency', 'resp_status']]
px.display(df)
"#;

fn hand_filter(lf: LazyFrame) -> LazyFrame {
    lf.filter(col("resp_status").gt_eq(lit(500i64))).select([
        col("time_"),
        col("req_path"),
        col("latency"),
        col("resp_status"),
    ])
}

const GROUPBY: &str = r#"
#px:set max_output_rows_per_table=1000000000
import px
df = px.DataFrame(table='http_events')
df = df.groupby('req_path').agg(
    n=('latency', px.count),
    mean_latency=('latency', px.mean),
    latency_quantiles=('latency', px.quantiles),
)
px.display(df)
"#;

fn hand_groupby(lf: LazyFrame) -> LazyFrame {
    let q = |p: f64| col("latency").quantile(lit(p), QuantileMethod::Nearest);
    let mut parts: Vec<Expr> = Vec::new();
    for (i, (key, p)) in [
        ("p01", 0.01),
        ("p10", 0.1),
        ("p25", 0.25),
        ("p50", 0.5),
        ("p75", 0.75),
        ("p90", 0.9),
        ("p99", 0.99),
    ]
    .into_iter()
    .enumerate()
    {
        let sep = if i == 0 { "{" } else { "," };
        parts.push(lit(format!("{sep}\"{key}\":")));
        parts.push(q(p).cast(DataType::String));
    }
    parts.push(lit("}"));
    lf.group_by([col("req_path")]).agg([
        col("latency").len().cast(DataType::Int64).alias("n"),
        col("latency")
            .cast(DataType::Float64)
            .mean()
            .alias("mean_latency"),
        concat_str(parts, "", false).alias("latency_quantiles"),
    ])
}

const MERGE: &str = r#"
#px:set max_output_rows_per_table=1000000000
import px
df = px.DataFrame(table='http_events')
all = df.groupby('req_path').agg(n=('latency', px.count))
errors = df[df.resp_status >= 500].groupby('req_path').agg(errors=('latency', px.count))
px.display(all.merge(errors, how='inner', left_on='req_path', right_on='req_path', suffixes=['', '_err']))
"#;

fn hand_merge(lf: LazyFrame) -> LazyFrame {
    let all = lf
        .clone()
        .group_by([col("req_path")])
        .agg([col("latency").len().cast(DataType::Int64).alias("n")]);
    let errors = lf
        .filter(col("resp_status").gt_eq(lit(500i64)))
        .group_by([col("req_path")])
        .agg([col("latency").len().cast(DataType::Int64).alias("errors")]);
    all.rename(["req_path"], ["req_path"], true)
        .join(
            errors.rename(["req_path"], ["req_path_err"], true),
            [col("req_path")],
            [col("req_path_err")],
            JoinArgs::new(JoinType::Inner).with_coalesce(JoinCoalesce::KeepColumns),
        )
        .select([
            col("req_path"),
            col("n"),
            col("req_path_err"),
            col("errors"),
        ])
}

fn mean_compile_time(script: &str, store: &TableStore, opts: &CompileOptions) -> Duration {
    let n = 200;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(compile(script, store, opts).unwrap());
    }
    t.elapsed() / n
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// Synthetic http_events in the catalog's exact schema, appended in batches
/// the way the tracer appends them.
fn fill(store: &TableStore, rows: usize) {
    let schema = store
        .schema("http_events")
        .expect("http_events is a builtin table");
    let start = now() - rows as i64 * 1_000;
    let paths: Vec<String> = (0..50).map(|i| format!("/api/v1/resource{i}")).collect();
    let mut state = 0x2545F4914F6CDD1Du64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut done = 0;
    while done < rows {
        let n = BATCH_ROWS.min(rows - done);
        // The columns the queries read; every other column is a zero value.
        let columns: Vec<Column> = vec![
            Int64Chunked::from_vec(
                "time_".into(),
                (0..n)
                    .map(|i| start + ((done + i) as i64) * 1_000)
                    .collect(),
            )
            .into_datetime(TimeUnit::Nanoseconds, None)
            .into_column(),
            StringChunked::from_iter_values(
                "req_path".into(),
                (0..n).map(|_| paths[(rand() % 50) as usize].as_str()),
            )
            .into_column(),
            Int64Chunked::from_vec(
                "resp_status".into(),
                (0..n)
                    .map(|_| [200, 200, 200, 201, 404, 500, 503][(rand() % 7) as usize])
                    .collect(),
            )
            .into_column(),
            Int64Chunked::from_vec(
                "latency".into(),
                (0..n).map(|_| (rand() % 50_000_000) as i64).collect(),
            )
            .into_column(),
            StringChunked::from_iter_values(
                "upid".into(),
                (0..n).map(|_| ["1:100:5", "1:200:7", "1:300:9"][(rand() % 3) as usize]),
            )
            .into_column(),
            StringChunked::from_iter_values(
                "remote_addr".into(),
                (0..n).map(|_| {
                    ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"][(rand() % 4) as usize]
                }),
            )
            .into_column(),
            StringChunked::from_iter_values(
                "req_method".into(),
                (0..n).map(|_| ["GET", "POST"][(rand() % 2) as usize]),
            )
            .into_column(),
        ];
        let df = schema
            .frame_with(n, &columns)
            .expect("columns have one length");
        store
            .append("http_events", df)
            .expect("batch matches the schema");
        done += n;
    }
}
