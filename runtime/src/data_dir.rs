//! Tables on disk: [`load_dir`] fills a store from `DIR/<table>.parquet`
//! files (the file stem is the table name, e.g. `kafka_events.beta.parquet`)
//! and [`save_dir`] writes a store's non-empty tables back the same way.
//!
//! Loading accepts what other exporters write: `time_` as any Arrow timestamp
//! unit or Int64 nanoseconds, `upid` as the string `asid:pid:start_ticks` or
//! Pixie's UINT128 struct `{high, low}`, any integer width for INT64 columns
//! and f32 for FLOAT64. Columns are matched by name; a missing or an extra
//! column is an error. Null values other than in `time_` become the zero
//! value of their type (PxL has no nulls). A file named after no known table
//! registers a custom table with the file's own schema.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::{
    col, lit, Column, DataFrame, DataType as PlType, Expr, IntoColumn, IntoLazy, ParquetReader,
    ParquetWriter, PolarsError, SerReader, SortMultipleOptions, TimeUnit,
};
use scry_lang::catalog::{Catalog, ColumnSchema, TableSchema, TableSource, TimeRange};
use scry_stdlib::{DataType, SemanticType};

use crate::catalog::TIME_COLUMN;
use crate::metadata::Upid;
use crate::store::{StoreError, TableStore};

/// Rows per batch when a file is appended, so expiry stays fine-grained.
pub const LOAD_BATCH_ROWS: usize = 64 * 1024;

/// Why a data directory could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("cannot read directory {}: {source}", dir.display())]
    ReadDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot read parquet: {source}", file.display())]
    Read {
        file: PathBuf,
        #[source]
        source: PolarsError,
    },
    #[error("{}: cannot write parquet: {source}", file.display())]
    Write {
        file: PathBuf,
        #[source]
        source: PolarsError,
    },
    #[error("{}: table '{table}' needs column '{column}', which the file lacks", file.display())]
    MissingColumn {
        table: String,
        column: String,
        file: PathBuf,
    },
    #[error("{}: table '{table}' has no column(s) {columns} (extra in the file)", file.display())]
    ExtraColumns {
        table: String,
        columns: String,
        file: PathBuf,
    },
    #[error("{}: column '{table}.{column}' is {got} in the file, expected {expected}", file.display())]
    ColumnType {
        table: String,
        column: String,
        expected: DataType,
        got: String,
        file: PathBuf,
    },
    #[error("{}: column '{table}.{column}' has type {got}, which scry cannot store", file.display())]
    UnsupportedType {
        table: String,
        column: String,
        got: String,
        file: PathBuf,
    },
    #[error("{}: column '{table}.{column}': {reason}", file.display())]
    BadValues {
        table: String,
        column: String,
        reason: String,
        file: PathBuf,
    },
    #[error("{}: {source}", file.display())]
    Store {
        file: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("cannot save table '{0}': its name is not a file name")]
    BadTableName(String),
}

/// What [`load_dir`] or [`save_dir`] did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFile {
    pub table: String,
    pub file: PathBuf,
    pub rows: usize,
    /// The table was not builtin and was registered from the file's schema.
    pub custom: bool,
}

/// Loads every `*.parquet` file of `dir` (in name order) into `store`.
pub fn load_dir(store: &TableStore, dir: &Path) -> Result<Vec<TableFile>, DataDirError> {
    let read_dir = |source| DataDirError::ReadDir {
        dir: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir)? {
        let path = entry.map_err(read_dir)?.path();
        let table = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".parquet"))
            .filter(|stem| !stem.is_empty())
            .map(str::to_string);
        if let (Some(table), true) = (table, path.is_file()) {
            files.push((table, path));
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|(table, path)| load_file(store, &table, &path))
        .collect()
}

/// Loads one parquet file into `table` (registering it if it is unknown).
pub fn load_file(store: &TableStore, table: &str, file: &Path) -> Result<TableFile, DataDirError> {
    let df = File::open(file)
        .map_err(|e| PolarsError::IO {
            error: std::sync::Arc::new(e),
            msg: None,
        })
        .and_then(|f| ParquetReader::new(f).finish())
        .map_err(|source| DataDirError::Read {
            file: file.to_path_buf(),
            source,
        })?;
    let ctx = Ctx { table, file };
    let (schema, custom) = match store.table(table) {
        Some(schema) => (schema, false),
        None => (infer_schema(&ctx, &df)?, true),
    };
    let df = conform(&ctx, &schema, &df)?;
    let store_err = |source| DataDirError::Store {
        file: file.to_path_buf(),
        source,
    };
    if custom {
        store.register(schema).map_err(store_err)?;
    }
    let rows = df.height();
    let mut offset = 0;
    while offset < rows {
        let len = LOAD_BATCH_ROWS.min(rows - offset);
        store
            .append(table, df.slice(offset as i64, len))
            .map_err(store_err)?;
        offset += len;
    }
    Ok(TableFile {
        table: table.to_string(),
        file: file.to_path_buf(),
        rows,
        custom,
    })
}

/// Writes each non-empty table of `store` to `dir/<table>.parquet`,
/// creating `dir` if needed.
pub fn save_dir(store: &TableStore, dir: &Path) -> Result<Vec<TableFile>, DataDirError> {
    std::fs::create_dir_all(dir).map_err(|source| DataDirError::Create {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut saved = Vec::new();
    for table in store.table_names() {
        if table.contains(['/', '\0']) || table.starts_with('.') {
            return Err(DataDirError::BadTableName(table));
        }
        let file = dir.join(format!("{table}.parquet"));
        let write_err = |source| DataDirError::Write {
            file: file.clone(),
            source,
        };
        let mut df = store
            .scan(&table, TimeRange::default())
            .and_then(|lf| lf.collect())
            .map_err(write_err)?;
        if df.height() == 0 {
            continue;
        }
        let out = File::create(&file).map_err(|source| DataDirError::Create {
            path: file.clone(),
            source,
        })?;
        ParquetWriter::new(out).finish(&mut df).map_err(write_err)?;
        saved.push(TableFile {
            custom: crate::catalog::builtin_schema(&table).is_none(),
            table,
            file,
            rows: df.height(),
        });
    }
    Ok(saved)
}

/// The table and file a conversion is about, for error messages.
struct Ctx<'a> {
    table: &'a str,
    file: &'a Path,
}

impl Ctx<'_> {
    fn column_type(&self, column: &str, expected: DataType, got: &PlType) -> DataDirError {
        DataDirError::ColumnType {
            table: self.table.to_string(),
            column: column.to_string(),
            expected,
            got: got.to_string(),
            file: self.file.to_path_buf(),
        }
    }

    fn bad_values(&self, column: &str, reason: impl ToString) -> DataDirError {
        DataDirError::BadValues {
            table: self.table.to_string(),
            column: column.to_string(),
            reason: reason.to_string(),
            file: self.file.to_path_buf(),
        }
    }
}

fn is_upid_struct(dtype: &PlType) -> bool {
    match dtype {
        PlType::Struct(fields) => {
            let has = |n: &str| {
                fields
                    .iter()
                    .any(|f| f.name().as_str() == n && f.dtype().is_integer())
            };
            fields.len() == 2 && has("high") && has("low")
        }
        _ => false,
    }
}

/// A custom table's schema from a file's columns.
fn infer_schema(ctx: &Ctx, df: &DataFrame) -> Result<TableSchema, DataDirError> {
    let mut columns = Vec::new();
    for (name, dtype) in df.schema().iter() {
        let name = name.as_str();
        let (ty, semantic) = if name == "upid" && (is_upid_struct(dtype) || dtype.is_string()) {
            (DataType::Uint128, SemanticType::Upid)
        } else if name == TIME_COLUMN && dtype.is_integer() {
            (DataType::Time64Ns, SemanticType::None)
        } else {
            let ty = DataType::from_polars(dtype).ok_or_else(|| DataDirError::UnsupportedType {
                table: ctx.table.to_string(),
                column: name.to_string(),
                got: dtype.to_string(),
                file: ctx.file.to_path_buf(),
            })?;
            (ty, SemanticType::None)
        };
        columns.push(ColumnSchema::new(name, ty, semantic, "from file"));
    }
    match columns.iter().find(|c| c.name == TIME_COLUMN) {
        Some(c) if c.dtype == DataType::Time64Ns => {}
        _ => {
            return Err(DataDirError::MissingColumn {
                table: ctx.table.to_string(),
                column: TIME_COLUMN.to_string(),
                file: ctx.file.to_path_buf(),
            })
        }
    }
    Ok(TableSchema {
        name: ctx.table.to_string(),
        desc: format!("loaded from {}", ctx.file.display()),
        columns,
    })
}

/// The file's frame with exactly `schema`'s columns, types and order, nulls
/// replaced by zero values, sorted by `time_`.
fn conform(ctx: &Ctx, schema: &TableSchema, df: &DataFrame) -> Result<DataFrame, DataDirError> {
    let extra: Vec<String> = df
        .get_column_names()
        .into_iter()
        .filter(|n| schema.column(n.as_str()).is_none())
        .map(|n| format!("'{n}'"))
        .collect();
    if !extra.is_empty() {
        return Err(DataDirError::ExtraColumns {
            table: ctx.table.to_string(),
            columns: extra.join(", "),
            file: ctx.file.to_path_buf(),
        });
    }
    let mut columns = Vec::with_capacity(schema.columns.len());
    let mut fills: Vec<Expr> = Vec::new();
    for c in &schema.columns {
        let source = df
            .column(&c.name)
            .map_err(|_| DataDirError::MissingColumn {
                table: ctx.table.to_string(),
                column: c.name.clone(),
                file: ctx.file.to_path_buf(),
            })?;
        let converted = convert_column(ctx, c, source)?;
        if converted.null_count() > 0 {
            if c.dtype == DataType::Time64Ns {
                return Err(ctx.bad_values(
                    &c.name,
                    format!("{} null timestamps", converted.null_count()),
                ));
            }
            fills.push(col(c.name.as_str()).fill_null(zero_value(c.dtype)));
        }
        columns.push(converted);
    }
    let polars = |e: PolarsError| ctx.bad_values(TIME_COLUMN, e);
    let mut out = DataFrame::new_infer_height(columns).map_err(polars)?;
    if !fills.is_empty() {
        out = out
            .lazy()
            .with_columns(fills)
            .collect()
            .map_err(|e| ctx.bad_values("*", e))?;
    }
    out.sort(
        [TIME_COLUMN],
        SortMultipleOptions::default().with_maintain_order(true),
    )
    .map_err(polars)
}

fn zero_value(dtype: DataType) -> Expr {
    match dtype {
        DataType::Boolean => lit(false),
        DataType::Int64 => lit(0i64),
        DataType::Float64 => lit(0.0f64),
        DataType::String | DataType::Uint128 => lit(""),
        DataType::Time64Ns => lit(0i64).cast(DataType::Time64Ns.to_polars()),
    }
}

/// One file column converted to the Polars type of `target`.
fn convert_column(ctx: &Ctx, target: &ColumnSchema, c: &Column) -> Result<Column, DataDirError> {
    let name = target.name.as_str();
    let dtype = c.dtype();
    let mismatch = || ctx.column_type(name, target.dtype, dtype);
    let bad = |e: PolarsError| ctx.bad_values(name, e);
    let out = match target.dtype {
        DataType::Time64Ns => {
            let factor = match dtype {
                PlType::Datetime(TimeUnit::Nanoseconds, _) => 1,
                PlType::Datetime(TimeUnit::Microseconds, _) => 1_000,
                PlType::Datetime(TimeUnit::Milliseconds, _) => 1_000_000,
                d if d.is_integer() => 1,
                _ => return Err(mismatch()),
            };
            let ns = c
                .to_physical_repr()
                .strict_cast(&PlType::Int64)
                .map_err(|_| ctx.bad_values(name, "timestamps do not fit in INT64 ns"))?;
            let ns = ns.i64().map_err(bad)?;
            let ns = if factor == 1 {
                ns.clone()
            } else {
                ns.checked_mul_scalar(factor)
                    .ok_or_else(|| ctx.bad_values(name, "timestamps overflow INT64 ns"))?
            };
            ns.into_datetime(TimeUnit::Nanoseconds, None).into_column()
        }
        DataType::Uint128 if is_upid_struct(dtype) => upid_strings(c).map_err(bad)?,
        DataType::Uint128 | DataType::String if dtype.is_string() => c.clone(),
        DataType::Int64 if dtype.is_integer() => c
            .strict_cast(&PlType::Int64)
            .map_err(|_| ctx.bad_values(name, "values do not fit in INT64"))?,
        DataType::Float64 if dtype.is_float() => c.cast(&PlType::Float64).map_err(bad)?,
        DataType::Boolean if dtype.is_bool() => c.clone(),
        _ => return Err(mismatch()),
    };
    Ok(out.with_name(name.into()))
}

/// Pixie's UINT128 upid struct `{high, low}` as `asid:pid:start_ticks` strings.
fn upid_strings(c: &Column) -> Result<Column, PolarsError> {
    let s = c.struct_()?;
    let high = s.field_by_name("high")?.cast(&PlType::UInt64)?;
    let low = s.field_by_name("low")?.cast(&PlType::UInt64)?;
    let values: Vec<String> = high
        .u64()?
        .iter()
        .zip(low.u64()?.iter())
        .map(|(h, l)| match (h, l) {
            (Some(h), Some(l)) => Upid::from_u128_halves(h, l).to_string(),
            _ => String::new(),
        })
        .collect();
    Ok(Column::new(c.name().clone(), values))
}

trait CheckedMulScalar: Sized {
    fn checked_mul_scalar(&self, k: i64) -> Option<Self>;
}

impl CheckedMulScalar for polars::prelude::Int64Chunked {
    fn checked_mul_scalar(&self, k: i64) -> Option<Self> {
        let values: Option<Vec<Option<i64>>> = self
            .iter()
            .map(|v| match v {
                Some(v) => v.checked_mul(k).map(Some),
                None => Some(None),
            })
            .collect();
        let mut out: Self = values?.into_iter().collect();
        out.rename(self.name().clone());
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;
    use polars::prelude::{NamedFrom, Series, StructChunked};

    fn write(path: &Path, df: &mut DataFrame) {
        let f = File::create(path).expect("create");
        ParquetWriter::new(f).finish(df).expect("write");
    }

    /// A frame for a builtin table: `n` rows with simple per-type values.
    fn builtin_frame(table: &str, times: &[i64]) -> DataFrame {
        let schema = crate::catalog::builtin_schema(table).expect("table");
        let n = times.len();
        let cols = schema
            .columns
            .iter()
            .map(|c| {
                let name = c.name.as_str().into();
                let s = match c.dtype {
                    DataType::Time64Ns => Series::new(name, times)
                        .cast(&c.dtype.to_polars())
                        .expect("time"),
                    DataType::Int64 => Series::new(name, (0..n as i64).collect::<Vec<_>>()),
                    DataType::Float64 => Series::new(name, vec![1.5f64; n]),
                    DataType::Boolean => Series::new(name, vec![true; n]),
                    DataType::String => Series::new(name, vec!["x"; n]),
                    DataType::Uint128 => Series::new(name, vec!["1:2:3"; n]),
                };
                s.into_column()
            })
            .collect();
        DataFrame::new_infer_height(cols).expect("frame")
    }

    fn all_rows(store: &TableStore, table: &str) -> DataFrame {
        store
            .scan(table, TimeRange::default())
            .expect("scan")
            .collect()
            .expect("collect")
    }

    #[test]
    fn round_trip_builtin_and_custom() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = TableStore::default();
        store
            .append("http_events", builtin_frame("http_events", &[3, 1, 2]))
            .expect("append");
        store
            .append(
                "kafka_events.beta",
                builtin_frame("kafka_events.beta", &[5]),
            )
            .expect("append");
        let saved = save_dir(&store, dir.path()).expect("save");
        let names: Vec<_> = saved.iter().map(|t| t.table.as_str()).collect();
        assert_eq!(names, ["http_events", "kafka_events.beta"]);
        assert!(dir.path().join("kafka_events.beta.parquet").is_file());

        let loaded_store = TableStore::default();
        let loaded = load_dir(&loaded_store, dir.path()).expect("load");
        assert_eq!(loaded.iter().map(|t| t.rows).sum::<usize>(), 4);
        assert!(loaded.iter().all(|t| !t.custom));
        assert!(all_rows(&store, "http_events").equals(&all_rows(&loaded_store, "http_events")));
    }

    #[test]
    fn converts_time_units_and_upid_structs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut df = builtin_frame("dns_events", &[2_000, 1_000]);
        let ms = Series::new(TIME_COLUMN.into(), [2i64, 1])
            .cast(&PlType::Datetime(TimeUnit::Milliseconds, None))
            .expect("ms");
        df.with_column(ms.into_column()).expect("time");
        let high = Series::new("high".into(), [(7u64 << 32) | 42, 5]);
        let low = Series::new("low".into(), [99u64, 1]);
        let upid = StructChunked::from_series("upid".into(), 2, [high, low].iter())
            .expect("struct")
            .into_column();
        df.with_column(upid).expect("upid");
        let lat = Series::new("latency".into(), [Some(5i32), None]).into_column();
        df.with_column(lat).expect("latency");
        write(&dir.path().join("dns_events.parquet"), &mut df);

        let store = TableStore::default();
        load_dir(&store, dir.path()).expect("load");
        let out = all_rows(&store, "dns_events");
        let t: Vec<_> = out
            .column(TIME_COLUMN)
            .expect("t")
            .datetime()
            .expect("dt")
            .physical()
            .iter()
            .flatten()
            .collect();
        assert_eq!(t, [1_000_000, 2_000_000]);
        let upids: Vec<_> = out
            .column("upid")
            .expect("upid")
            .str()
            .expect("str")
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        assert_eq!(upids, ["0:5:1", "7:42:99"]);
        let lat: Vec<_> = out
            .column("latency")
            .expect("l")
            .i64()
            .expect("i64")
            .iter()
            .collect();
        assert_eq!(lat, [Some(0), Some(5)]);
    }

    #[test]
    fn int64_time_and_custom_tables() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut df = DataFrame::new_infer_height(vec![
            Column::new("time_".into(), [30i64, 10, 20]),
            Column::new("upid".into(), ["1:2:3", "1:2:3", "1:2:4"]),
            Column::new("score".into(), [1.0f32, 2.0, 3.0]),
            Column::new("n".into(), [1u32, 2, 3]),
        ])
        .expect("df");
        write(&dir.path().join("my_metrics.parquet"), &mut df);
        let store = TableStore::default();
        let loaded = load_dir(&store, dir.path()).expect("load");
        assert!(loaded[0].custom);
        let schema = store.table("my_metrics").expect("registered");
        let types: Vec<_> = schema.columns.iter().map(|c| c.dtype).collect();
        assert_eq!(
            types,
            [
                DataType::Time64Ns,
                DataType::Uint128,
                DataType::Float64,
                DataType::Int64
            ]
        );
        assert_eq!(schema.columns[1].semantic, SemanticType::Upid);
        assert_eq!(all_rows(&store, "my_metrics").height(), 3);
    }

    #[test]
    fn errors_name_table_column_and_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("redis_events.parquet");
        let mut df = builtin_frame("redis_events", &[1]);
        let mut missing = df.drop("resp").expect("drop");
        write(&path, &mut missing);
        let err = load_dir(&TableStore::default(), dir.path()).expect_err("missing");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: table 'redis_events' needs column 'resp', which the file lacks",
                path.display()
            )
        );

        df.with_column(Column::new("bogus".into(), [1i64]))
            .expect("add");
        write(&path, &mut df);
        let err = load_dir(&TableStore::default(), dir.path()).expect_err("extra");
        assert!(
            err.to_string().contains("has no column(s) 'bogus'"),
            "{err}"
        );

        let mut wrong = builtin_frame("redis_events", &[1]);
        wrong
            .with_column(Column::new("remote_port".into(), ["80"]))
            .expect("replace");
        write(&path, &mut wrong);
        let err = load_dir(&TableStore::default(), dir.path()).expect_err("type");
        assert!(
            err.to_string()
                .ends_with("column 'redis_events.remote_port' is str in the file, expected INT64"),
            "{err}"
        );

        std::fs::remove_file(&path).expect("rm");
        let mut no_time =
            DataFrame::new_infer_height(vec![Column::new("a".into(), [1i64])]).expect("df");
        write(&dir.path().join("custom.parquet"), &mut no_time);
        let err = load_dir(&TableStore::default(), dir.path()).expect_err("no time");
        assert!(err.to_string().contains("needs column 'time_'"), "{err}");

        std::fs::write(dir.path().join("custom.parquet"), b"not parquet").expect("write");
        let err = load_dir(&TableStore::default(), dir.path()).expect_err("garbage");
        assert!(err.to_string().contains("cannot read parquet"), "{err}");

        let err = load_dir(&TableStore::default(), &dir.path().join("nope")).expect_err("dir");
        assert!(
            err.to_string().starts_with("cannot read directory"),
            "{err}"
        );
    }

    #[test]
    fn large_files_are_appended_in_batches_and_capped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let times: Vec<i64> = (0..(LOAD_BATCH_ROWS as i64 * 2 + 10)).collect();
        let mut df = builtin_frame("scry_probe_stats", &times);
        write(&dir.path().join("scry_probe_stats.parquet"), &mut df);
        let store = TableStore::default();
        load_dir(&store, dir.path()).expect("load");
        let st = store.table_stat("scry_probe_stats").expect("stats");
        assert_eq!(st.batches_added, 3);
        assert_eq!(st.rows, times.len());

        let small = TableStore::new(StoreConfig {
            memory_limit_bytes: 1 << 30,
            per_table_limit_bytes: Some(LOAD_BATCH_ROWS * 20),
        });
        load_dir(&small, dir.path()).expect("load");
        let st = small.table_stat("scry_probe_stats").expect("stats");
        assert!(st.batches_expired >= 1, "{st:?}");
        assert!(st.bytes <= LOAD_BATCH_ROWS * 20);
    }
}
