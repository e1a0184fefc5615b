//! The runtime: table catalog, table store, data directories and metadata.
//!
//! - [`catalog`]: the builtin tables — Pixie's exact schemas and scry's own.
//! - [`store`]: [`TableStore`], the byte-capped, time-indexed table store;
//!   implements the compiler's `Catalog` and `TableSource`.
//! - [`data_dir`]: load tables from `DIR/<table>.parquet` and save them back.
//! - [`metadata`]: [`Upid`] and [`ProcMetadata`], process and host facts
//!   from `/proc` behind the stdlib's `MetadataProvider`.
//! - [`exec`]: runs a compiled script's plans into frames.
//! - [`bounded_cache`]: the fixed-capacity map every cache here uses.

pub mod bounded_cache;
pub mod catalog;
pub mod data_dir;
pub mod exec;
pub mod metadata;
pub mod store;

pub use catalog::{builtin_schema, builtin_tables, TIME_COLUMN};
pub use data_dir::{load_dir, load_file, save_dir, DataDirError, TableFile};
pub use metadata::{MetadataError, ProcInfo, ProcMetadata, Upid};
pub use store::{StoreConfig, StoreError, TableStats, TableStore, DEFAULT_MEMORY_LIMIT_BYTES};
