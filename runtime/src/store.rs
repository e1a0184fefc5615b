//! The table store: append-only, time-ordered, byte-capped tables of
//! DataFrame batches, read back by time range.
//!
//! - Probes call [`TableStore::append`] while queries call
//!   [`TableStore::scan`]; the store is shared as `Arc<TableStore>` and guards
//!   its state with one `RwLock`. Appends do their checking and sorting before
//!   taking the lock; scans only clone batch handles (Polars columns are
//!   `Arc`-backed, so no row data is copied under the lock).
//! - Each table keeps its batches sorted by time and non-overlapping, so the
//!   batches a time range needs are found by binary search on each batch's
//!   `(min_time, max_time)`. A batch that arrives out of order is merged with
//!   the batches it overlaps (and sorted) to keep that invariant; merged
//!   batches are split at 16 Ki rows, so each append costs a bounded amount.
//! - Memory is bounded twice: each table by `per_table_limit_bytes` (default:
//!   the whole budget) and all tables together by `memory_limit_bytes`. Over a
//!   cap, the oldest batches are expired first (globally oldest for the total
//!   budget), and every expiry is counted; `px._DebugTableInfo()` and
//!   [`TableStore::table_stats`] show the counters.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use polars::prelude::{
    col, concat, lit, Column, DataFrame, DataType as PlType, IntoLazy, LazyFrame, PolarsError,
    PolarsResult, SchemaRef, SortMultipleOptions, TimeUnit, UnionArgs,
};
use scry_lang::catalog::{Catalog, TableSchema, TableSource, TimeRange};
use scry_stdlib::DataType;

use crate::catalog::{builtin_tables, TIME_COLUMN};

/// The most rows a batch made by merging out-of-order arrivals holds.
const MERGED_BATCH_ROWS: usize = 16_384;

/// The default total memory budget: 1 GiB.
pub const DEFAULT_MEMORY_LIMIT_BYTES: usize = 1 << 30;

/// How much memory the store may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreConfig {
    /// The budget for all tables together.
    pub memory_limit_bytes: usize,
    /// A cap for each table; `None` lets one table use the whole budget.
    pub per_table_limit_bytes: Option<usize>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            memory_limit_bytes: DEFAULT_MEMORY_LIMIT_BYTES,
            per_table_limit_bytes: None,
        }
    }
}

impl StoreConfig {
    /// The most bytes one table may hold.
    pub fn max_table_bytes(&self) -> usize {
        self.per_table_limit_bytes
            .map_or(self.memory_limit_bytes, |t| t.min(self.memory_limit_bytes))
    }
}

/// Why an append or a registration was refused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unknown table '{0}'")]
    UnknownTable(String),
    #[error("table '{table}': frame lacks column '{column}' (column {index} of the table)")]
    MissingColumn {
        table: String,
        column: String,
        index: usize,
    },
    #[error("table '{table}': frame has extra column '{column}' at position {index}")]
    ExtraColumn {
        table: String,
        column: String,
        index: usize,
    },
    #[error("table '{table}': column {index} of the frame is '{got}', expected '{expected}'")]
    ColumnName {
        table: String,
        index: usize,
        expected: String,
        got: String,
    },
    #[error("table '{table}': column '{column}' has type {got}, expected {expected}")]
    ColumnType {
        table: String,
        column: String,
        expected: String,
        got: String,
    },
    #[error("table '{table}': column 'time_' has {nulls} null values")]
    NullTime { table: String, nulls: usize },
    #[error("table '{table}' has no 'time_' column of type TIME64NS")]
    NoTimeColumn { table: String },
    #[error("table '{table}': column '{column}' appears twice")]
    DuplicateColumn { table: String, column: String },
    #[error("table '{table}' is already registered with a different schema")]
    SchemaConflict { table: String },
    #[error("table '{table}': {source}")]
    Polars {
        table: String,
        #[source]
        source: PolarsError,
    },
}

/// Counters and sizes of one table, as [`TableStore::stats`] reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    pub name: String,
    pub id: u64,
    pub rows: usize,
    pub bytes: usize,
    pub max_table_bytes: usize,
    /// Batches held now (all of them are "hot": scry has no cold store).
    pub batches: usize,
    pub batches_added: u64,
    pub batches_expired: u64,
    pub bytes_added: u64,
    pub bytes_expired: u64,
    pub rows_added: u64,
    pub rows_expired: u64,
    /// Smallest and largest `time_` held, `None` when empty.
    pub min_time: Option<i64>,
    pub max_time: Option<i64>,
}

/// One stored batch: a time-sorted frame and its time bounds.
#[derive(Clone)]
struct Batch {
    df: DataFrame,
    min_time: i64,
    max_time: i64,
    bytes: usize,
}

impl Batch {
    fn rows(&self) -> usize {
        self.df.height()
    }
}

struct Table {
    id: u64,
    schema: TableSchema,
    polars_schema: SchemaRef,
    batches: VecDeque<Batch>,
    bytes: usize,
    rows: usize,
    batches_added: u64,
    batches_expired: u64,
    bytes_added: u64,
    bytes_expired: u64,
    rows_added: u64,
    rows_expired: u64,
}

impl Table {
    fn new(id: u64, schema: TableSchema) -> Self {
        let polars_schema = SchemaRef::new(schema.polars_schema());
        Table {
            id,
            schema,
            polars_schema,
            batches: VecDeque::new(),
            bytes: 0,
            rows: 0,
            batches_added: 0,
            batches_expired: 0,
            bytes_added: 0,
            bytes_expired: 0,
            rows_added: 0,
            rows_expired: 0,
        }
    }

    /// Inserts a sorted batch, merging it with the batches it overlaps so
    /// that batches stay sorted and disjoint. Merged results are split into
    /// batches of at most [`MERGED_BATCH_ROWS`] rows, so that the tracer's
    /// frequent, slightly overlapping flushes cost a bounded amount each and
    /// never grow one batch without bound. Returns the change in bytes.
    fn insert(&mut self, batch: Batch) -> PolarsResult<isize> {
        // Batches entirely at or before the new one's start.
        let lo = self
            .batches
            .partition_point(|b| b.max_time <= batch.min_time);
        // Batches starting before the new one's end.
        let hi = self
            .batches
            .partition_point(|b| b.min_time < batch.max_time);
        if lo >= hi {
            let delta = batch.bytes as isize;
            self.bytes += batch.bytes;
            self.rows += batch.rows();
            self.batches.insert(lo, batch);
            return Ok(delta);
        }
        // batches[lo..hi] overlap (or precede) the new batch: merge them.
        let mut merged = self.batches[lo].df.clone();
        for b in self.batches.range(lo + 1..hi) {
            merged.vstack_mut(&b.df)?;
        }
        merged.vstack_mut(&batch.df)?;
        let merged = merged.sort(
            [TIME_COLUMN],
            SortMultipleOptions::default().with_maintain_order(true),
        )?;
        let old_bytes: usize = self.batches.range(lo..hi).map(|b| b.bytes).sum();
        let old_rows: usize = self.batches.range(lo..hi).map(Batch::rows).sum();
        self.batches.drain(lo..hi);
        let mut new_bytes = 0;
        let mut offset = 0;
        let mut at = lo;
        while offset < merged.height() {
            let part = merged.slice(offset as i64, MERGED_BATCH_ROWS);
            offset += part.height();
            let bounds = time_bounds(&part)?;
            let piece = Batch {
                bytes: part.estimated_size(),
                min_time: bounds.min,
                max_time: bounds.max,
                df: part,
            };
            new_bytes += piece.bytes;
            self.batches.insert(at, piece);
            at += 1;
        }
        self.bytes = self.bytes - old_bytes + new_bytes;
        self.rows = self.rows - old_rows + merged.height();
        Ok(new_bytes as isize - old_bytes as isize)
    }

    /// Drops the oldest batch, counting it; returns its size.
    fn expire_oldest(&mut self) -> Option<usize> {
        let b = self.batches.pop_front()?;
        self.bytes -= b.bytes;
        self.rows -= b.rows();
        self.batches_expired += 1;
        self.bytes_expired += b.bytes as u64;
        self.rows_expired += b.rows() as u64;
        Some(b.bytes)
    }

    fn stats(&self, name: &str, max_table_bytes: usize) -> TableStats {
        TableStats {
            name: name.to_string(),
            id: self.id,
            rows: self.rows,
            bytes: self.bytes,
            max_table_bytes,
            batches: self.batches.len(),
            batches_added: self.batches_added,
            batches_expired: self.batches_expired,
            bytes_added: self.bytes_added,
            bytes_expired: self.bytes_expired,
            rows_added: self.rows_added,
            rows_expired: self.rows_expired,
            min_time: self.batches.front().map(|b| b.min_time),
            max_time: self.batches.back().map(|b| b.max_time),
        }
    }
}

#[derive(Default)]
struct Inner {
    tables: BTreeMap<String, Table>,
    total_bytes: usize,
    next_id: u64,
}

/// All tables of one agent. Share it as `Arc<TableStore>`.
pub struct TableStore {
    config: StoreConfig,
    inner: RwLock<Inner>,
}

impl Default for TableStore {
    fn default() -> Self {
        TableStore::new(StoreConfig::default())
    }
}

impl TableStore {
    /// A store with every builtin table registered and empty.
    pub fn new(config: StoreConfig) -> Self {
        let mut inner = Inner::default();
        for schema in builtin_tables() {
            let id = inner.next_id;
            inner.next_id += 1;
            inner
                .tables
                .insert(schema.name.clone(), Table::new(id, schema.clone()));
        }
        TableStore {
            config,
            inner: RwLock::new(inner),
        }
    }

    pub fn config(&self) -> StoreConfig {
        self.config
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a derived or custom table. Registering the same schema again is
    /// a no-op; a different schema under an existing name is an error.
    pub fn register(&self, schema: TableSchema) -> Result<(), StoreError> {
        validate_schema(&schema)?;
        let mut inner = self.write();
        if let Some(t) = inner.tables.get(&schema.name) {
            return if t.schema == schema {
                Ok(())
            } else {
                Err(StoreError::SchemaConflict { table: schema.name })
            };
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner
            .tables
            .insert(schema.name.clone(), Table::new(id, schema));
        Ok(())
    }

    /// The schema of a registered table.
    pub fn schema(&self, table: &str) -> Option<TableSchema> {
        self.read().tables.get(table).map(|t| t.schema.clone())
    }

    /// Appends a batch. The frame must have exactly the table's columns, in
    /// order, with the table's Polars types, and no null `time_`. Rows need
    /// not be sorted, nor come after earlier batches. Empty frames are ignored.
    pub fn append(&self, table: &str, df: DataFrame) -> Result<(), StoreError> {
        let expected = self
            .read()
            .tables
            .get(table)
            .map(|t| t.polars_schema.clone())
            .ok_or_else(|| StoreError::UnknownTable(table.to_string()))?;
        check_frame_schema(table, &expected, &df)?;
        if df.height() == 0 {
            return Ok(());
        }
        let polars = |source| StoreError::Polars {
            table: table.to_string(),
            source,
        };
        let nulls = df.column(TIME_COLUMN).map_err(polars)?.null_count();
        if nulls > 0 {
            return Err(StoreError::NullTime {
                table: table.to_string(),
                nulls,
            });
        }
        let bounds = time_bounds(&df).map_err(polars)?;
        let df = if bounds.sorted {
            df
        } else {
            df.sort(
                [TIME_COLUMN],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .map_err(polars)?
        };
        let batch = Batch {
            bytes: df.estimated_size(),
            min_time: bounds.min,
            max_time: bounds.max,
            df,
        };

        let max_table = self.config.max_table_bytes();
        let mut inner = self.write();
        let inner = &mut *inner;
        let t = inner
            .tables
            .get_mut(table)
            .ok_or_else(|| StoreError::UnknownTable(table.to_string()))?;
        t.batches_added += 1;
        t.bytes_added += batch.bytes as u64;
        t.rows_added += batch.rows() as u64;
        let delta = t.insert(batch).map_err(polars)?;
        inner.total_bytes = inner.total_bytes.saturating_add_signed(delta);
        while t.bytes > max_table {
            match t.expire_oldest() {
                Some(b) => inner.total_bytes -= b,
                None => break,
            }
        }
        while inner.total_bytes > self.config.memory_limit_bytes {
            let oldest = inner
                .tables
                .values_mut()
                .filter_map(|t| t.batches.front().map(|b| b.min_time).zip(Some(t)))
                .min_by_key(|(min, _)| *min);
            match oldest.and_then(|(_, t)| t.expire_oldest()) {
                Some(b) => inner.total_bytes -= b,
                None => break,
            }
        }
        Ok(())
    }

    /// The bytes held by all tables.
    pub fn total_bytes(&self) -> usize {
        self.read().total_bytes
    }

    /// Counters of every table, by table id.
    pub fn stats(&self) -> Vec<TableStats> {
        let max_table = self.config.max_table_bytes();
        let inner = self.read();
        let mut stats: Vec<TableStats> = inner
            .tables
            .iter()
            .map(|(name, t)| t.stats(name, max_table))
            .collect();
        stats.sort_by_key(|s| s.id);
        stats
    }

    /// Counters of one table.
    pub fn table_stat(&self, table: &str) -> Option<TableStats> {
        let max_table = self.config.max_table_bytes();
        self.read()
            .tables
            .get(table)
            .map(|t| t.stats(table, max_table))
    }

    /// The store's sizes, limits and counters as a table (one row per table),
    /// so the limits in force are visible to scripts and the CLI.
    pub fn table_stats(&self) -> DataFrame {
        let stats = self.stats();
        let ints = |name: &str, f: &dyn Fn(&TableStats) -> i64| {
            Column::new(name.into(), stats.iter().map(f).collect::<Vec<i64>>())
        };
        let cols = vec![
            Column::new(
                "table".into(),
                stats.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ),
            ints("id", &|s| to_i64(s.id)),
            ints("rows", &|s| to_i64(s.rows)),
            ints("bytes", &|s| to_i64(s.bytes)),
            ints("max_table_bytes", &|s| to_i64(s.max_table_bytes)),
            ints("memory_limit_bytes", &|_| {
                to_i64(self.config.memory_limit_bytes)
            }),
            ints("batches", &|s| to_i64(s.batches)),
            ints("batches_added", &|s| to_i64(s.batches_added)),
            ints("batches_expired", &|s| to_i64(s.batches_expired)),
            ints("rows_expired", &|s| to_i64(s.rows_expired)),
            ints("bytes_added", &|s| to_i64(s.bytes_added)),
            ints("bytes_expired", &|s| to_i64(s.bytes_expired)),
            time_column("min_time", stats.iter().map(|s| s.min_time.unwrap_or(-1))),
            time_column("max_time", stats.iter().map(|s| s.max_time.unwrap_or(-1))),
        ];
        frame(cols)
    }

    fn scan_frames(&self, table: &str, range: TimeRange) -> Option<(TableSchema, ScanParts)> {
        let inner = self.read();
        let t = inner.tables.get(table)?;
        let start = range.start_ns.unwrap_or(i64::MIN);
        let end = range.end_ns.unwrap_or(i64::MAX);
        let mut parts = ScanParts {
            frames: Vec::new(),
            needs_filter: false,
        };
        if start <= end {
            let lo = t.batches.partition_point(|b| b.max_time < start);
            let hi = t.batches.partition_point(|b| b.min_time <= end);
            if lo < hi {
                parts.frames = t.batches.range(lo..hi).map(|b| b.df.clone()).collect();
                parts.needs_filter =
                    t.batches[lo].min_time < start || t.batches[hi - 1].max_time > end;
            }
        }
        Some((t.schema.clone(), parts))
    }
}

struct ScanParts {
    frames: Vec<DataFrame>,
    needs_filter: bool,
}

impl Catalog for TableStore {
    fn table(&self, name: &str) -> Option<TableSchema> {
        self.schema(name)
    }

    fn table_names(&self) -> Vec<String> {
        self.read().tables.keys().cloned().collect()
    }
}

impl TableSource for TableStore {
    fn scan(&self, table: &str, range: TimeRange) -> PolarsResult<LazyFrame> {
        let (schema, parts) = self
            .scan_frames(table, range)
            .ok_or_else(|| PolarsError::ComputeError(format!("unknown table '{table}'").into()))?;
        let mut frames = parts.frames.into_iter().map(IntoLazy::lazy);
        let lf = match (frames.next(), frames.len()) {
            (None, _) => return Ok(schema.empty_frame().lazy()),
            (Some(one), 0) => one,
            (Some(first), _) => concat(
                std::iter::once(first).chain(frames).collect::<Vec<_>>(),
                UnionArgs {
                    rechunk: false,
                    maintain_order: true,
                    ..Default::default()
                },
            )?,
        };
        if !parts.needs_filter {
            return Ok(lf);
        }
        let ns = |t: i64| lit(t).cast(PlType::Datetime(TimeUnit::Nanoseconds, None));
        let mut pred = None;
        if let Some(s) = range.start_ns {
            pred = Some(col(TIME_COLUMN).gt_eq(ns(s)));
        }
        if let Some(e) = range.end_ns {
            let le = col(TIME_COLUMN).lt_eq(ns(e));
            pred = Some(match pred {
                Some(p) => p.and(le),
                None => le,
            });
        }
        Ok(match pred {
            Some(p) => lf.filter(p),
            None => lf,
        })
    }

    /// Pixie's `_DebugTableInfo` columns: asid, name, id, batches_added,
    /// batches_expired, bytes_added, num_batches, compacted_batches, size,
    /// cold_size, max_table_size, min_time (-1 ns when the table is empty).
    fn debug_table_info(&self) -> DataFrame {
        let stats = self.stats();
        let ints = |name: &str, f: &dyn Fn(&TableStats) -> i64| {
            Column::new(name.into(), stats.iter().map(f).collect::<Vec<i64>>())
        };
        let cols = vec![
            ints("asid", &|_| 0),
            Column::new(
                "name".into(),
                stats.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ),
            ints("id", &|s| to_i64(s.id)),
            ints("batches_added", &|s| to_i64(s.batches_added)),
            ints("batches_expired", &|s| to_i64(s.batches_expired)),
            ints("bytes_added", &|s| to_i64(s.bytes_added)),
            ints("num_batches", &|s| to_i64(s.batches)),
            ints("compacted_batches", &|_| 0),
            ints("size", &|s| to_i64(s.bytes)),
            ints("cold_size", &|_| 0),
            ints("max_table_size", &|s| to_i64(s.max_table_bytes)),
            time_column("min_time", stats.iter().map(|s| s.min_time.unwrap_or(-1))),
        ];
        frame(cols)
    }
}

fn to_i64<T: TryInto<i64>>(v: T) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}

fn time_column(name: &str, values: impl Iterator<Item = i64>) -> Column {
    let c = Column::new(name.into(), values.collect::<Vec<i64>>());
    let dtype = PlType::Datetime(TimeUnit::Nanoseconds, None);
    // Int64 → Datetime is a relabel of the physical values and cannot fail.
    c.cast(&dtype).unwrap_or(c)
}

/// A frame from equal-length columns (built here, so the lengths agree).
fn frame(cols: Vec<Column>) -> DataFrame {
    DataFrame::new_infer_height(cols).unwrap_or_else(|_| DataFrame::empty())
}

struct TimeBounds {
    min: i64,
    max: i64,
    sorted: bool,
}

/// Min, max and sortedness of a frame's non-null `time_` values.
fn time_bounds(df: &DataFrame) -> PolarsResult<TimeBounds> {
    let times = df.column(TIME_COLUMN)?.datetime()?.physical();
    let mut b = TimeBounds {
        min: i64::MAX,
        max: i64::MIN,
        sorted: true,
    };
    let mut prev = i64::MIN;
    for t in times.iter().flatten() {
        b.sorted &= t >= prev;
        prev = t;
        b.min = b.min.min(t);
        b.max = b.max.max(t);
    }
    Ok(b)
}

/// Checks that a table schema can be stored: unique names, a `time_` column.
fn validate_schema(schema: &TableSchema) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    for c in &schema.columns {
        if !seen.insert(c.name.as_str()) {
            return Err(StoreError::DuplicateColumn {
                table: schema.name.clone(),
                column: c.name.clone(),
            });
        }
    }
    match schema.column(TIME_COLUMN) {
        Some(c) if c.dtype == DataType::Time64Ns => Ok(()),
        _ => Err(StoreError::NoTimeColumn {
            table: schema.name.clone(),
        }),
    }
}

/// The frame's columns must be the table's: same names, order and types.
fn check_frame_schema(
    table: &str,
    expected: &polars::prelude::Schema,
    df: &DataFrame,
) -> Result<(), StoreError> {
    let got = df.schema();
    let n = expected.len().max(got.len());
    for i in 0..n {
        match (expected.get_at_index(i), got.get_at_index(i)) {
            (Some((en, et)), Some((gn, gt))) => {
                if en != gn {
                    return Err(StoreError::ColumnName {
                        table: table.to_string(),
                        index: i,
                        expected: en.to_string(),
                        got: gn.to_string(),
                    });
                }
                if et != gt {
                    return Err(StoreError::ColumnType {
                        table: table.to_string(),
                        column: en.to_string(),
                        expected: et.to_string(),
                        got: gt.to_string(),
                    });
                }
            }
            (Some((en, _)), None) => {
                return Err(StoreError::MissingColumn {
                    table: table.to_string(),
                    column: en.to_string(),
                    index: i,
                })
            }
            (None, Some((gn, _))) => {
                return Err(StoreError::ExtraColumn {
                    table: table.to_string(),
                    column: gn.to_string(),
                    index: i,
                })
            }
            (None, None) => break,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{NamedFrom, Series};
    use scry_lang::catalog::ColumnSchema;
    use scry_stdlib::SemanticType;
    use std::sync::Arc;

    fn custom_schema() -> TableSchema {
        TableSchema {
            name: "custom".into(),
            desc: "test".into(),
            columns: vec![
                ColumnSchema::new(TIME_COLUMN, DataType::Time64Ns, SemanticType::None, "t"),
                ColumnSchema::new("v", DataType::Int64, SemanticType::None, "v"),
            ],
        }
    }

    fn batch(times: &[i64]) -> DataFrame {
        let t = Series::new(TIME_COLUMN.into(), times)
            .cast(&PlType::Datetime(TimeUnit::Nanoseconds, None))
            .expect("cast");
        let v = Series::new("v".into(), times.iter().map(|t| t * 10).collect::<Vec<_>>());
        DataFrame::new_infer_height(vec![t.into(), v.into()]).expect("frame")
    }

    fn store_with(config: StoreConfig) -> TableStore {
        let s = TableStore::new(config);
        s.register(custom_schema()).expect("register");
        s
    }

    fn times(store: &TableStore, range: TimeRange) -> Vec<i64> {
        let df = store
            .scan("custom", range)
            .expect("scan")
            .collect()
            .expect("collect");
        df.column(TIME_COLUMN)
            .expect("time")
            .datetime()
            .expect("dt")
            .physical()
            .iter()
            .flatten()
            .collect()
    }

    fn range(s: Option<i64>, e: Option<i64>) -> TimeRange {
        TimeRange {
            start_ns: s,
            end_ns: e,
        }
    }

    #[test]
    fn scan_filters_inclusive_range_across_batches() {
        let s = store_with(StoreConfig::default());
        s.append("custom", batch(&[1, 2, 3])).expect("append");
        s.append("custom", batch(&[4, 5, 6])).expect("append");
        s.append("custom", batch(&[7, 8, 9])).expect("append");
        assert_eq!(times(&s, range(None, None)), (1..=9).collect::<Vec<_>>());
        assert_eq!(times(&s, range(Some(3), Some(7))), vec![3, 4, 5, 6, 7]);
        assert_eq!(times(&s, range(Some(4), Some(6))), vec![4, 5, 6]);
        assert_eq!(times(&s, range(Some(10), None)), Vec::<i64>::new());
        assert_eq!(times(&s, range(Some(5), Some(4))), Vec::<i64>::new());
        let empty = s.scan("custom", range(Some(100), None)).expect("scan");
        let df = empty.collect().expect("collect");
        assert_eq!(df.schema().len(), 2);
    }

    #[test]
    fn out_of_order_batches_are_merged_and_sorted() {
        let s = store_with(StoreConfig::default());
        s.append("custom", batch(&[10, 20, 30])).expect("append");
        s.append("custom", batch(&[40, 50])).expect("append");
        // Overlaps the first batch only, and is itself unsorted.
        s.append("custom", batch(&[25, 5, 15])).expect("append");
        // Entirely before everything: inserted in front without merging.
        s.append("custom", batch(&[1, 2])).expect("append");
        assert_eq!(
            times(&s, range(None, None)),
            vec![1, 2, 5, 10, 15, 20, 25, 30, 40, 50]
        );
        assert_eq!(
            times(&s, range(Some(15), Some(40))),
            vec![15, 20, 25, 30, 40]
        );
        let st = s.table_stat("custom").expect("stats");
        assert_eq!(st.batches, 3);
        assert_eq!(st.batches_added, 4);
        assert_eq!((st.min_time, st.max_time), (Some(1), Some(50)));
        assert_eq!(st.rows, 10);
    }

    #[test]
    fn schema_mismatches_are_named() {
        let s = store_with(StoreConfig::default());
        let df = batch(&[1]);
        let renamed = df
            .clone()
            .lazy()
            .rename(["v"], ["w"], true)
            .collect()
            .expect("rename");
        let err = s.append("custom", renamed).expect_err("renamed");
        assert_eq!(
            err.to_string(),
            "table 'custom': column 1 of the frame is 'w', expected 'v'"
        );
        let mut wrong_type = df.clone();
        wrong_type
            .with_column(Column::new("v".into(), [1.5f64]))
            .expect("replace");
        let err = s.append("custom", wrong_type).expect_err("type");
        assert!(
            err.to_string()
                .contains("column 'v' has type f64, expected i64"),
            "{err}"
        );
        let short = df.select(["time_"]).expect("select");
        let err = s.append("custom", short).expect_err("short");
        assert!(err.to_string().contains("lacks column 'v'"), "{err}");
        let mut long = df.clone();
        long.with_column(Column::new("x".into(), [1i64]))
            .expect("add");
        let err = s.append("custom", long).expect_err("long");
        assert!(err.to_string().contains("extra column 'x'"), "{err}");
        let err = s.append("nope", df).expect_err("unknown");
        assert_eq!(err.to_string(), "unknown table 'nope'");
    }

    #[test]
    fn per_table_cap_expires_oldest_first() {
        let one = batch(&[1, 2, 3, 4]).estimated_size();
        let s = store_with(StoreConfig {
            memory_limit_bytes: 1 << 30,
            per_table_limit_bytes: Some(one * 2 + one / 2),
        });
        for i in 0..5 {
            let base = i * 10;
            s.append("custom", batch(&[base, base + 1, base + 2, base + 3]))
                .expect("append");
        }
        let st = s.table_stat("custom").expect("stats");
        assert_eq!(st.batches, 2);
        assert_eq!(st.batches_expired, 3);
        assert_eq!(st.rows_expired, 12);
        assert!(st.bytes <= one * 2 + one / 2);
        assert_eq!(st.min_time, Some(30));
        assert_eq!(times(&s, range(None, None))[0], 30);
        assert_eq!(s.total_bytes(), st.bytes);
    }

    #[test]
    fn total_budget_expires_globally_oldest() {
        let one = batch(&[1, 2, 3, 4]).estimated_size();
        let s = store_with(StoreConfig {
            memory_limit_bytes: one * 3,
            per_table_limit_bytes: None,
        });
        let mut other = custom_schema();
        other.name = "other".into();
        s.register(other).expect("register");
        s.append("custom", batch(&[1, 2, 3, 4])).expect("append");
        s.append("other", batch(&[5, 6, 7, 8])).expect("append");
        s.append("custom", batch(&[9, 10, 11, 12])).expect("append");
        s.append("other", batch(&[13, 14, 15, 16])).expect("append");
        assert!(s.total_bytes() <= one * 3);
        let c = s.table_stat("custom").expect("custom");
        let o = s.table_stat("other").expect("other");
        assert_eq!((c.batches_expired, o.batches_expired), (1, 0));
        assert_eq!(c.min_time, Some(9));
    }

    #[test]
    fn register_rules() {
        let s = TableStore::default();
        s.register(custom_schema()).expect("first");
        s.register(custom_schema()).expect("same again");
        let mut changed = custom_schema();
        changed.columns.pop();
        assert!(matches!(
            s.register(changed),
            Err(StoreError::SchemaConflict { .. })
        ));
        let mut no_time = custom_schema();
        no_time.name = "x".into();
        no_time.columns.remove(0);
        assert_eq!(
            s.register(no_time).expect_err("no time").to_string(),
            "table 'x' has no 'time_' column of type TIME64NS"
        );
        assert!(s.table_names().contains(&"http_events".to_string()));
        assert!(s.table("custom").is_some());
    }

    #[test]
    fn null_time_is_refused() {
        let s = store_with(StoreConfig::default());
        let t = Series::new(TIME_COLUMN.into(), [Some(1i64), None])
            .cast(&PlType::Datetime(TimeUnit::Nanoseconds, None))
            .expect("cast");
        let v = Series::new("v".into(), [1i64, 2]);
        let df = DataFrame::new_infer_height(vec![t.into(), v.into()]).expect("df");
        let err = s.append("custom", df).expect_err("nulls");
        assert_eq!(
            err.to_string(),
            "table 'custom': column 'time_' has 1 null values"
        );
    }

    #[test]
    fn builtin_table_accepts_its_empty_frame_and_debug_info() {
        let s = TableStore::default();
        let http = s.schema("http_events").expect("http");
        s.append("http_events", http.empty_frame())
            .expect("empty ok");
        s.register(custom_schema()).expect("register");
        s.append("custom", batch(&[7, 8])).expect("append");
        let info = s.debug_table_info();
        let names: Vec<_> = info
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "asid",
                "name",
                "id",
                "batches_added",
                "batches_expired",
                "bytes_added",
                "num_batches",
                "compacted_batches",
                "size",
                "cold_size",
                "max_table_size",
                "min_time"
            ]
        );
        assert_eq!(info.height(), s.table_names().len());
        let stats = s.table_stats();
        assert_eq!(stats.height(), s.table_names().len());
        assert!(stats.column("memory_limit_bytes").is_ok());
    }

    #[test]
    fn concurrent_append_and_scan() {
        let s = Arc::new(store_with(StoreConfig::default()));
        let writer = {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..200 {
                    s.append("custom", batch(&[i * 2, i * 2 + 1]))
                        .expect("append");
                }
            })
        };
        for _ in 0..50 {
            let t = times(&s, range(None, None));
            assert!(t.windows(2).all(|w| w[0] <= w[1]));
        }
        writer.join().expect("writer");
        assert_eq!(times(&s, range(None, None)).len(), 400);
    }
}
