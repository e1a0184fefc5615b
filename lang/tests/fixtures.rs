//! Small fixture tables for the compiler's golden tests.
#![allow(dead_code)] // Each test binary uses a different part of the fixtures.

use polars::prelude::*;
use scry_lang::catalog::{ColumnSchema, MemorySource, TableSchema};
use scry_lang::{compile, CompileOptions, CompiledScript, Diagnostic};
use scry_stdlib::{DataType as Px, SemanticType as St};

/// 2024-01-01T00:00:00Z in ns: fixture rows are 1 s apart from here.
pub const T0: i64 = 1_704_067_200_000_000_000;
/// "Now" for fixture compilations: 10 s after T0.
pub const NOW: i64 = T0 + 10_000_000_000;

pub fn http_schema() -> TableSchema {
    let c = |n: &str, t, s| ColumnSchema::new(n, t, s, "");
    TableSchema {
        name: "http_events".into(),
        desc: "HTTP requests".into(),
        columns: vec![
            c("time_", Px::Time64Ns, St::None),
            c("upid", Px::Uint128, St::Upid),
            c("remote_addr", Px::String, St::IpAddress),
            c("remote_port", Px::Int64, St::Port),
            c("req_method", Px::String, St::None),
            c("req_path", Px::String, St::None),
            c("resp_status", Px::Int64, St::HttpRespStatus),
            c("latency", Px::Int64, St::DurationNs),
        ],
    }
}

pub fn http_frame() -> DataFrame {
    let times: Vec<i64> = (0..8).map(|i| T0 + i * 1_000_000_000).collect();
    df!(
        "time_" => times,
        "upid" => ["1:100:5", "1:100:5", "1:200:7", "1:200:7", "1:100:5", "1:300:9", "1:300:9", "1:100:5"],
        "remote_addr" => ["10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.3", "10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.1"],
        "remote_port" => [80i64, 80, 8080, 8080, 80, 443, 443, 80],
        "req_method" => ["GET", "POST", "GET", "GET", "GET", "DELETE", "GET", "POST"],
        "req_path" => ["/a", "/checkout", "/a?x=1", "/b", "/a", "/b", "/health", "/checkout"],
        "resp_status" => [200i64, 500, 200, 404, 200, 503, 200, 201],
        "latency" => [1_000_000i64, 9_000_000, 2_000_000, 500_000, 1_500_000, 7_000_000, 100_000, 3_000_000],
    )
    .unwrap()
    .lazy()
    .with_column(col("time_").cast(DataType::Datetime(TimeUnit::Nanoseconds, None)))
    .collect()
    .unwrap()
}

pub fn source() -> MemorySource {
    MemorySource::new().with_table(http_schema(), http_frame())
}

pub fn compile_fixture(src: &str) -> Result<CompiledScript, Diagnostic> {
    compile(src, &source(), &CompileOptions::new(NOW))
}

/// Run every output and render it as text: a header, then one line per row,
/// rows sorted so that snapshots do not depend on hash order.
pub fn run(src: &str) -> String {
    let script = compile_fixture(src).unwrap_or_else(|d| panic!("{d}"));
    let mut out = String::new();
    for o in script.outputs {
        let df = o
            .plan
            .collect()
            .unwrap_or_else(|e| panic!("{}: {e}", o.name));
        out.push_str(&render(&o.name, &df));
    }
    out
}

pub fn render(name: &str, df: &DataFrame) -> String {
    let mut out = format!("== {name}\n");
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    out.push_str(&names.join(" | "));
    out.push('\n');
    let mut rows: Vec<String> = (0..df.height())
        .map(|i| {
            df.columns()
                .iter()
                .map(|c| match c.get(i).unwrap() {
                    AnyValue::String(s) => format!("{s:?}"),
                    AnyValue::StringOwned(s) => format!("{:?}", s.as_str()),
                    AnyValue::Null => "NULL".to_string(),
                    v => v.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect();
    rows.sort();
    for r in rows {
        out.push_str(&r);
        out.push('\n');
    }
    out
}

/// The diagnostic as the terminal shows it.
pub fn error(src: &str) -> String {
    match compile_fixture(src) {
        Ok(_) => panic!("expected an error for:\n{src}"),
        Err(d) => d.to_string(),
    }
}
