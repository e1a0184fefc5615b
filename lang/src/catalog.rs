//! What the compiler knows about tables: their schemas (the [`Catalog`]) and,
//! at execution, a way to scan them over a time range (the [`TableSource`]).
//! The runtime implements both; tests and `scry compile` use schema-only
//! sources whose scans are empty frames.

use polars::prelude::{Column, DataFrame, LazyFrame, PolarsResult};
use scry_stdlib::{DataType, SemanticType};

/// One column of a table: name, PxL type, semantic type and a description.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSchema {
    pub name: String,
    pub dtype: DataType,
    pub semantic: SemanticType,
    pub desc: String,
}

impl ColumnSchema {
    pub fn new(name: &str, dtype: DataType, semantic: SemanticType, desc: &str) -> Self {
        ColumnSchema {
            name: name.to_string(),
            dtype,
            semantic,
            desc: desc.to_string(),
        }
    }
}

/// A table's schema: its columns in order.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    pub name: String,
    pub desc: String,
    pub columns: Vec<ColumnSchema>,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<&ColumnSchema> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The Polars schema of frames holding this table.
    pub fn polars_schema(&self) -> polars::prelude::Schema {
        self.columns
            .iter()
            .map(|c| polars::prelude::Field::new(c.name.as_str().into(), c.dtype.to_polars()))
            .collect()
    }

    /// An empty frame with this table's columns and types.
    pub fn empty_frame(&self) -> DataFrame {
        DataFrame::empty_with_schema(&self.polars_schema())
    }

    /// `n` rows in this table's exact schema: the columns given in `values`
    /// (matched by name), every other column its zero value (PxL has no
    /// nulls). For fixtures and synthetic data.
    pub fn frame_with(&self, n: usize, values: &[Column]) -> PolarsResult<DataFrame> {
        use polars::prelude::{
            BooleanChunked, ChunkFull, Float64Chunked, Int64Chunked, IntoColumn, StringChunked,
            TimeUnit,
        };
        use scry_stdlib::DataType as Px;
        let columns: Vec<Column> = self
            .columns
            .iter()
            .map(|c| {
                if let Some(v) = values.iter().find(|v| v.name().as_str() == c.name) {
                    return v.clone();
                }
                let name = c.name.as_str().into();
                match c.dtype {
                    Px::Boolean => BooleanChunked::full(name, false, n).into_column(),
                    Px::Int64 => Int64Chunked::full(name, 0, n).into_column(),
                    Px::Float64 => Float64Chunked::full(name, 0.0, n).into_column(),
                    Px::String | Px::Uint128 => StringChunked::full(name, "", n).into_column(),
                    Px::Time64Ns => Int64Chunked::full(name, 0, n)
                        .into_datetime(TimeUnit::Nanoseconds, None)
                        .into_column(),
                }
            })
            .collect();
        DataFrame::new(n, columns)
    }
}

/// An inclusive range of `time_` values in ns since the epoch; `None` is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    pub start_ns: Option<i64>,
    pub end_ns: Option<i64>,
}

impl TimeRange {
    pub fn contains(&self, t: i64) -> bool {
        self.start_ns.is_none_or(|s| t >= s) && self.end_ns.is_none_or(|e| t <= e)
    }
}

/// Table name → schema. All the compiler needs to type-check a script.
pub trait Catalog: Send + Sync {
    fn table(&self, name: &str) -> Option<TableSchema>;
    fn table_names(&self) -> Vec<String>;
}

/// A catalog whose tables can also be read. `scan` returns the rows whose
/// `time_` lies in `range` (inclusive), in time order, as a lazy frame with
/// exactly the table's schema.
pub trait TableSource: Catalog {
    fn scan(&self, table: &str, range: TimeRange) -> PolarsResult<LazyFrame>;

    /// One row per table for `px._DebugTableInfo()`, with Pixie's columns
    /// (asid, name, id, batches_added, batches_expired, bytes_added,
    /// num_batches, compacted_batches, size, cold_size, max_table_size, min_time).
    fn debug_table_info(&self) -> DataFrame;
}

/// An in-memory source: whole frames per table, filtered by time on scan.
/// Used by tests, fixtures and `scry compile` (with empty frames).
#[derive(Default, Clone)]
pub struct MemorySource {
    tables: Vec<(TableSchema, DataFrame)>,
}

impl MemorySource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a table; its frame must have the schema's columns.
    pub fn with_table(mut self, schema: TableSchema, frame: DataFrame) -> Self {
        self.tables.retain(|(s, _)| s.name != schema.name);
        self.tables.push((schema, frame));
        self
    }

    /// Schemas only: every scan is empty. Enough to type-check and plan.
    pub fn schemas_only(schemas: impl IntoIterator<Item = TableSchema>) -> Self {
        let mut s = Self::new();
        for schema in schemas {
            let empty = schema.empty_frame();
            s = s.with_table(schema, empty);
        }
        s
    }
}

impl Catalog for MemorySource {
    fn table(&self, name: &str) -> Option<TableSchema> {
        self.tables
            .iter()
            .find(|(s, _)| s.name == name)
            .map(|(s, _)| s.clone())
    }

    fn table_names(&self) -> Vec<String> {
        self.tables.iter().map(|(s, _)| s.name.clone()).collect()
    }
}

impl TableSource for MemorySource {
    fn scan(&self, table: &str, range: TimeRange) -> PolarsResult<LazyFrame> {
        use polars::prelude::{col, lit, IntoLazy};
        let Some((schema, frame)) = self.tables.iter().find(|(s, _)| s.name == table) else {
            polars::prelude::polars_bail!(ColumnNotFound: "no table {}", table);
        };
        let mut lf = frame.clone().lazy();
        if schema.column("time_").is_some() {
            let t = || col("time_").cast(polars::prelude::DataType::Int64);
            if let Some(s) = range.start_ns {
                lf = lf.filter(t().gt_eq(lit(s)));
            }
            if let Some(e) = range.end_ns {
                lf = lf.filter(t().lt_eq(lit(e)));
            }
        }
        Ok(lf)
    }

    fn debug_table_info(&self) -> DataFrame {
        let names: Vec<String> = self.table_names();
        let rows: Vec<i64> = self.tables.iter().map(|(_, f)| f.height() as i64).collect();
        polars::prelude::df!("name" => names, "rows" => rows).unwrap_or_default()
    }
}
