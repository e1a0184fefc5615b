//! Arrow Flight: how results leave an agent and reach any Arrow client.
//!
//! - [`bridge`]: Polars frames ↔ arrow-rs record batches (C Data Interface).
//! - [`ticket`]: the JSON tickets and action bodies.
//! - [`results`]: script results kept (bounded) until their outputs are fetched.
//! - [`service`]: the Flight service itself.
//! - [`server`]: serving it: auth, TLS, graceful shutdown.
//! - [`client`]: the blocking client used by `run --server`, the REPL and checks.

pub mod bridge;
pub mod client;
pub mod results;
pub mod server;
pub mod service;
pub mod ticket;
