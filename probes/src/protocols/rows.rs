//! Records → frames in Pixie's table schemas.
//!
//! The frames are built from the runtime's catalog
//! (`scry_runtime::catalog::builtin_schema`): for every column of the table,
//! in the catalog's order, the row type is asked how to read that column
//! (once per column, not per cell), then every row is read. So the frames
//! cannot drift from the schemas the store and the compiler use; a column a
//! row type does not know gets its type's zero value.

use std::borrow::{Borrow, Cow};

use polars::prelude::{
    BooleanChunked, Column, DataFrame, Float64Chunked, Int64Chunked, IntoSeries, NewChunkedArray,
    PolarsResult, StringChunked, TimeUnit,
};
use scry_lang::catalog::TableSchema;
use scry_stdlib::DataType;

use super::{Record, RecordCommon};

/// One cell, before it goes into a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    /// ns since the epoch.
    Time(i64),
}

impl Value<'_> {
    fn as_i64(&self) -> i64 {
        match self {
            Value::Int(v) | Value::Time(v) => *v,
            Value::Bool(b) => i64::from(*b),
            Value::Float(f) => *f as i64,
            Value::Str(_) => 0,
        }
    }
}

/// How one column's value is read from a row.
pub type Cell<R> = for<'r> fn(&'r R) -> Value<'r>;

/// A record that can fill a row of its table.
pub trait TableRow: Sized {
    /// The table's name (`http_events`, …).
    const TABLE: &'static str;
    /// How `column` is read from a row, or `None` if this row type has no
    /// such column. A frame resolves each column once: matching the column
    /// name at every cell was a tenth of the tracer's flush.
    fn cell(column: &str) -> Option<Cell<Self>>;
    /// The value of `column` in this row.
    fn value(&self, column: &str) -> Option<Value<'_>> {
        Self::cell(column).map(|read| read(self))
    }
}

/// A row of a socket-tracer table: they share the [`common_cell`] columns.
pub trait SocketRow {
    fn common(&self) -> &RecordCommon;
}

/// Longest string Pixie keeps in a column before cutting it (its record
/// builder's default); the cut is marked with [`TRUNCATED_MARKER`].
pub const MAX_STRING_BYTES: usize = 1024;
/// Appended to a cut string (Pixie's marker).
pub const TRUNCATED_MARKER: &str = "... [TRUNCATED]";

/// `s` cut to at most `max` bytes (on a char boundary) plus the marker.
pub fn cap_string(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}{TRUNCATED_MARKER}", &s[..end]))
}

/// The columns every socket-tracer table shares.
pub fn common_cell<R: SocketRow>(column: &str) -> Option<Cell<R>> {
    let cell: Cell<R> = match column {
        "time_" => |r| Value::Time(r.common().time_ns().min(i64::MAX as u64) as i64),
        "upid" => |r| Value::Str(Cow::Borrowed(&r.common().conn.upid)),
        "remote_addr" => |r| Value::Str(Cow::Borrowed(&r.common().conn.remote_addr)),
        "remote_port" => |r| Value::Int(i64::from(r.common().conn.remote_port)),
        "local_addr" => |r| Value::Str(Cow::Borrowed(&r.common().conn.local_addr)),
        "local_port" => |r| Value::Int(i64::from(r.common().conn.local_port)),
        "trace_role" => |r| Value::Int(r.common().role.trace_role()),
        "encrypted" => |r| Value::Bool(r.common().encrypted),
        "latency" => |r| Value::Int(r.common().latency_ns()),
        _ => return None,
    };
    Some(cell)
}

/// Groups records by table and builds one frame per table that has rows,
/// in the order `http_events`, `dns_events`, `redis_events`. Works on
/// references: a record is a few hundred bytes, and moving each one into a
/// per-table vector cost more than reading it.
pub fn to_frames<'a>(
    records: impl IntoIterator<Item = &'a Record>,
) -> Vec<(&'static str, DataFrame)> {
    let mut http = Vec::new();
    let mut dns = Vec::new();
    let mut redis = Vec::new();
    for r in records {
        match r {
            Record::Http(r) => http.push(&**r),
            Record::Dns(r) => dns.push(&**r),
            Record::Redis(r) => redis.push(r),
        }
    }
    // In time order: the store sorts any batch that is not, with a
    // parallel Polars sort that wakes its whole thread pool at every flush.
    // Records come out nearly sorted (a flush's records complete in ring
    // order, across connections), so this sort is a cheap pass.
    http.sort_by_key(|r| r.common.time_ns());
    dns.sort_by_key(|r| r.common.time_ns());
    redis.sort_by_key(|r| r.common.time_ns());
    let mut out = Vec::new();
    push_frame(&mut out, &http);
    push_frame(&mut out, &dns);
    push_frame(&mut out, &redis);
    out
}

fn push_frame<R: TableRow>(out: &mut Vec<(&'static str, DataFrame)>, rows: &[&R]) {
    if rows.is_empty() {
        return;
    }
    let Some(schema) = scry_runtime::catalog::builtin_schema(R::TABLE) else {
        return;
    };
    // Building columns of matching lengths and types cannot fail.
    if let Ok(df) = frame::<R, _>(schema, rows) {
        out.push((R::TABLE, df));
    }
}

/// Reads one cell (`None`: the row type has no such column).
fn read<'r, R: 'r, B: Borrow<R>>(cell: Option<Cell<R>>, row: &'r B) -> Option<Value<'r>> {
    cell.map(|read| read(row.borrow()))
}

/// Builds a frame with exactly `schema`'s columns from `rows` (rows of `R`,
/// or references to them).
pub fn frame<R: TableRow, B: Borrow<R>>(
    schema: &TableSchema,
    rows: &[B],
) -> PolarsResult<DataFrame> {
    let mut columns = Vec::with_capacity(schema.columns.len());
    for col in &schema.columns {
        let name = col.name.as_str();
        let cell = R::cell(name);
        let series = match col.dtype {
            DataType::Boolean => BooleanChunked::from_iter_values(
                name.into(),
                rows.iter().map(|r| match read(cell, r) {
                    Some(Value::Bool(b)) => b,
                    Some(v) => v.as_i64() != 0,
                    None => false,
                }),
            )
            .into_series(),
            DataType::Int64 => Int64Chunked::from_vec(
                name.into(),
                rows.iter()
                    .map(|r| read(cell, r).map_or(0, |v| v.as_i64()))
                    .collect(),
            )
            .into_series(),
            DataType::Float64 => Float64Chunked::from_vec(
                name.into(),
                rows.iter()
                    .map(|r| match read(cell, r) {
                        Some(Value::Float(f)) => f,
                        Some(v) => v.as_i64() as f64,
                        None => 0.0,
                    })
                    .collect(),
            )
            .into_series(),
            DataType::Time64Ns => Int64Chunked::from_vec(
                name.into(),
                rows.iter()
                    .map(|r| read(cell, r).map_or(0, |v| v.as_i64()))
                    .collect(),
            )
            .into_datetime(TimeUnit::Nanoseconds, None)
            .into_series(),
            DataType::String | DataType::Uint128 => {
                let values: Vec<Cow<'_, str>> = rows
                    .iter()
                    .map(|r| match read(cell, r) {
                        Some(Value::Str(s)) => s,
                        Some(Value::Int(i)) | Some(Value::Time(i)) => Cow::Owned(i.to_string()),
                        Some(Value::Bool(b)) => Cow::Owned(b.to_string()),
                        Some(Value::Float(f)) => Cow::Owned(f.to_string()),
                        None => Cow::Borrowed(""),
                    })
                    .collect();
                StringChunked::from_iter_values(name.into(), values.iter().map(|s| s.as_ref()))
                    .into_series()
            }
        };
        columns.push(Column::from(series));
    }
    DataFrame::new(rows.len(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::test_util::{meta, run};
    use crate::protocols::{Direction, ParserLimits, Protocol, Role, Transport};

    fn sample_records() -> Vec<Record> {
        let m = meta(Role::Client, Transport::Tcp, 80);
        let (mut recs, _) = run(
            Protocol::Http,
            &m,
            ParserLimits::default(),
            &[
                (Direction::Egress, b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
                (
                    Direction::Ingress,
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                ),
            ],
        );
        let m = meta(Role::Client, Transport::Udp, 53);
        let (dns, _) = run(
            Protocol::Dns,
            &m,
            ParserLimits::default(),
            &[
                (Direction::Egress, crate::protocols::dns::tests::QUERY_A),
                (Direction::Ingress, crate::protocols::dns::tests::RESPONSE_A),
            ],
        );
        recs.extend(dns);
        let m = meta(Role::Client, Transport::Tcp, 6379);
        let (redis, _) = run(
            Protocol::Redis,
            &m,
            ParserLimits::default(),
            &[
                (Direction::Egress, b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n"),
                (Direction::Ingress, b"$3\r\nbar\r\n"),
            ],
        );
        recs.extend(redis);
        recs
    }

    #[test]
    fn frames_have_exactly_the_catalog_schemas() {
        let recs = sample_records();
        assert_eq!(recs.len(), 3);
        let frames = to_frames(&recs);
        let names: Vec<_> = frames.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["http_events", "dns_events", "redis_events"]);
        for (name, df) in &frames {
            let schema = scry_runtime::catalog::builtin_schema(name).expect("schema");
            assert_eq!(**df.schema(), schema.polars_schema(), "{name}");
            assert_eq!(df.height(), 1);
        }
    }

    #[test]
    fn frames_are_in_time_order() {
        // Three redis records completed out of time order (as records of
        // different connections are, across CPUs).
        let mut recs = Vec::new();
        for resp_ts in [30, 10, 20] {
            let Some(Record::Redis(mut r)) = sample_records().pop() else {
                panic!("the sample ends with a redis record");
            };
            r.common.req_timestamp_ns = resp_ts - 1;
            r.common.resp_timestamp_ns = resp_ts;
            recs.push(Record::Redis(r));
        }
        let frames = to_frames(&recs);
        let times: Vec<i64> = frames[0]
            .1
            .column("time_")
            .unwrap()
            .datetime()
            .unwrap()
            .physical()
            .into_no_null_iter()
            .collect();
        assert_eq!(times, [10, 20, 30]);
    }

    /// Every catalog column is known to the records (no silent zero values).
    #[test]
    fn records_know_every_column() {
        for r in sample_records() {
            let (table, cols): (&str, Vec<String>) = match &r {
                Record::Http(x) => (
                    "http_events",
                    cols_of("http_events", |c| x.value(c).is_some()),
                ),
                Record::Dns(x) => (
                    "dns_events",
                    cols_of("dns_events", |c| x.value(c).is_some()),
                ),
                Record::Redis(x) => (
                    "redis_events",
                    cols_of("redis_events", |c| x.value(c).is_some()),
                ),
            };
            assert!(cols.is_empty(), "{table}: no value for {cols:?}");
        }
    }

    fn cols_of(table: &str, known: impl Fn(&str) -> bool) -> Vec<String> {
        scry_runtime::catalog::builtin_schema(table)
            .expect("schema")
            .columns
            .iter()
            .filter(|c| !known(&c.name))
            .map(|c| c.name.clone())
            .collect()
    }

    #[test]
    fn http_row_values() {
        let frames = to_frames(&sample_records());
        let df = &frames[0].1;
        let s = |c: &str| {
            df.column(c)
                .unwrap()
                .str()
                .unwrap()
                .get(0)
                .unwrap()
                .to_string()
        };
        let i = |c: &str| df.column(c).unwrap().i64().unwrap().get(0).unwrap();
        assert_eq!(s("req_method"), "GET");
        assert_eq!(s("req_path"), "/a?b=1");
        assert_eq!(s("req_headers"), r#"{"Host":"x"}"#);
        assert_eq!(s("resp_body"), "{}");
        assert_eq!(s("upid"), "1:1234:5678");
        assert_eq!(i("content_type"), 1);
        assert_eq!(i("resp_status"), 200);
        assert_eq!(i("latency"), 1000);
        assert_eq!(i("trace_role"), 1);
        assert_eq!(i("major_version"), 1);
        assert_eq!(i("minor_version"), 1);
    }
}
