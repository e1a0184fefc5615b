//! Result rendering: aligned tables (one block per output), NDJSON with
//! `_tableName` (times as RFC 3339 with nanoseconds), and CSV.

use std::io::Write;

use anyhow::Result;
use polars::prelude::{AnyValue, DataFrame, TimeUnit};
use scry_lang::time::format_rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, one block per output table.
    Table,
    /// One JSON object per row: {"_tableName": …, <columns in order>}.
    Json,
    /// CSV with a header, one block per output table.
    Csv,
}

/// Write every output table in the chosen format.
pub fn write_outputs(
    w: &mut dyn Write,
    format: Format,
    outputs: &[(String, DataFrame)],
) -> Result<()> {
    for (i, (name, df)) in outputs.iter().enumerate() {
        match format {
            Format::Table => {
                if i > 0 {
                    writeln!(w)?;
                }
                write_table(w, name, df)?
            }
            Format::Json => write_ndjson(w, name, df)?,
            Format::Csv => {
                if i > 0 {
                    writeln!(w)?;
                }
                write_csv(w, name, df, outputs.len() > 1)?
            }
        }
    }
    Ok(())
}

/// A cell as text, the way a person reads it.
pub fn cell_text(v: &AnyValue<'_>) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Datetime(t, unit, _) => format_rfc3339(to_ns(*t, *unit)),
        AnyValue::DatetimeOwned(t, unit, _) => format_rfc3339(to_ns(*t, *unit)),
        AnyValue::Float64(f) => format_float(*f),
        AnyValue::Float32(f) => format_float(*f as f64),
        other => other.to_string(),
    }
}

fn format_float(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

fn to_ns(t: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => t,
        TimeUnit::Microseconds => t.saturating_mul(1_000),
        TimeUnit::Milliseconds => t.saturating_mul(1_000_000),
    }
}

pub fn write_table(w: &mut dyn Write, name: &str, df: &DataFrame) -> Result<()> {
    let rows = df.height();
    writeln!(w, "{name} ({rows} row{})", if rows == 1 { "" } else { "s" })?;
    if rows > 0 || df.width() > 0 {
        w.write_all(aligned_text(df).as_bytes())?;
    }
    Ok(())
}

/// A frame as aligned columns under a header, one line per row, no
/// borders. Trailing padding is trimmed: it would wrap every line on a
/// narrower terminal and shows as noise in CI logs.
pub fn aligned_text(df: &DataFrame) -> String {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(df.get_column_names().iter().map(|n| n.as_str()));
    for col in 0..df.width() {
        if let Some(c) = table.column_mut(col) {
            c.set_padding((0, 2));
        }
    }
    let columns = df.columns();
    for row in 0..df.height() {
        table.add_row(
            columns
                .iter()
                .map(|c| cell_text(&c.get(row).unwrap_or(AnyValue::Null))),
        );
    }
    table
        .to_string()
        .lines()
        .map(|line| format!("{}\n", line.trim_end()))
        .collect()
}

/// A cell as a JSON value: numbers and booleans as themselves, times as RFC
/// 3339 strings, non-finite floats as null (JSON has no NaN).
fn json_value(v: &AnyValue<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        AnyValue::Null => J::Null,
        AnyValue::Boolean(b) => J::Bool(*b),
        AnyValue::Int8(i) => J::from(*i),
        AnyValue::Int16(i) => J::from(*i),
        AnyValue::Int32(i) => J::from(*i),
        AnyValue::Int64(i) => J::from(*i),
        AnyValue::UInt8(i) => J::from(*i),
        AnyValue::UInt16(i) => J::from(*i),
        AnyValue::UInt32(i) => J::from(*i),
        AnyValue::UInt64(i) => J::from(*i),
        AnyValue::Float32(f) => serde_json::Number::from_f64(*f as f64).map_or(J::Null, J::Number),
        AnyValue::Float64(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        other => J::String(cell_text(other)),
    }
}

pub fn write_ndjson(w: &mut dyn Write, name: &str, df: &DataFrame) -> Result<()> {
    let columns = df.columns();
    for row in 0..df.height() {
        let mut obj = serde_json::Map::with_capacity(columns.len() + 1);
        obj.insert(
            "_tableName".into(),
            serde_json::Value::String(name.to_string()),
        );
        for c in columns {
            obj.insert(
                c.name().to_string(),
                json_value(&c.get(row).unwrap_or(AnyValue::Null)),
            );
        }
        serde_json::to_writer(&mut *w, &serde_json::Value::Object(obj))?;
        writeln!(w)?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn write_csv(w: &mut dyn Write, name: &str, df: &DataFrame, titled: bool) -> Result<()> {
    if titled {
        writeln!(w, "# {name}")?;
    }
    let header: Vec<String> = df.get_column_names().iter().map(|n| csv_field(n)).collect();
    writeln!(w, "{}", header.join(","))?;
    let columns = df.columns();
    for row in 0..df.height() {
        let fields: Vec<String> = columns
            .iter()
            .map(|c| csv_field(&cell_text(&c.get(row).unwrap_or(AnyValue::Null))))
            .collect();
        writeln!(w, "{}", fields.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn sample() -> DataFrame {
        df!("time_" => [1_700_000_000_123_456_789i64], "n" => [3i64], "s" => ["a,\"b\""], "f" => [0.5f64])
            .unwrap()
            .lazy()
            .with_column(col("time_").cast(DataType::Datetime(TimeUnit::Nanoseconds, None)))
            .collect()
            .unwrap()
    }

    #[test]
    fn ndjson_has_table_name_first_and_rfc3339_times() {
        let mut buf = Vec::new();
        write_ndjson(&mut buf, "out", &sample()).unwrap();
        let line = String::from_utf8(buf).unwrap();
        assert_eq!(
            line,
            "{\"_tableName\":\"out\",\"time_\":\"2023-11-14T22:13:20.123456789Z\",\"n\":3,\"s\":\"a,\\\"b\\\"\",\"f\":0.5}\n"
        );
    }

    #[test]
    fn csv_quotes_fields() {
        let mut buf = Vec::new();
        write_csv(&mut buf, "out", &sample(), false).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "time_,n,s,f\n2023-11-14T22:13:20.123456789Z,3,\"a,\"\"b\"\"\",0.5\n"
        );
    }
}
