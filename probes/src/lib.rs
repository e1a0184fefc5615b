//! The eBPF socket tracer: loads the kernel programs built from `probes-ebpf/`,
//! reads their ring buffer, tracks connections, reassembles streams, infers
//! and parses protocols, and writes rows in Pixie's schemas into the store.
//!
//! - [`tracer`]: [`Tracer::start`] / [`Tracer::stop`], the public entry point: reader task on
//!   the current tokio runtime, periodic writes into the `TableStore`.
//! - [`loader`]: aya loading/attaching of the C programs in `probes-ebpf/` (built by `build.rs`).
//! - [`events`]: `#[repr(C)]` mirrors of the kernel's event structs, decoding, layout table.
//! - [`conn`]: connection tracker keyed by (tgid, fd, generation), parsers per stream,
//!   `conn_stats` rows.
//! - [`procfs`]: `/proc` readers (socket addresses, start times, `process_stats`).
//! - [`stats`]: `scry_probe_stats` rows and the end-of-capture summary.
//! - [`protocols`]: one folder per protocol (parse → stitch → row) and their registry.

pub mod conn;
pub mod events;
pub mod loader;
pub mod procfs;
pub mod protocols;
pub mod stats;
pub mod tracer;

pub use stats::CaptureSummary;
pub use tracer::{Tracer, TracerConfig, TracerError};
