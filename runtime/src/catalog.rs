//! The builtin tables: Pixie's socket-tracer and stats tables with their exact
//! schemas (column names, order, types, semantic types), plus scry's own
//! tables (`scry_probe_stats`, `scheduled_runs`).
//!
//! Pixie builds each table from shared "canonical" columns (`time_`, `upid`,
//! the endpoint columns, `latency`, …); the helpers below mirror that so every
//! table spells them the same way. Debug-only columns Pixie adds in debug
//! builds (`px_info_`) are not part of the schemas.

use std::sync::OnceLock;

use scry_lang::catalog::{ColumnSchema, TableSchema};
use scry_stdlib::{DataType, SemanticType};

use DataType::{Boolean, Int64, String as Str, Time64Ns, Uint128};
use SemanticType as St;

/// The name of the time column every table starts with.
pub const TIME_COLUMN: &str = "time_";

/// All builtin tables, in a stable order.
pub fn builtin_tables() -> &'static [TableSchema] {
    static TABLES: OnceLock<Vec<TableSchema>> = OnceLock::new();
    TABLES.get_or_init(build_tables)
}

/// The builtin table with this name, if any.
pub fn builtin_schema(name: &str) -> Option<&'static TableSchema> {
    builtin_tables().iter().find(|t| t.name == name)
}

fn col(name: &str, dtype: DataType, semantic: SemanticType, desc: &str) -> ColumnSchema {
    ColumnSchema::new(name, dtype, semantic, desc)
}

fn table(name: &str, desc: &str, columns: Vec<ColumnSchema>) -> TableSchema {
    TableSchema {
        name: name.to_string(),
        desc: desc.to_string(),
        columns,
    }
}

fn time_col() -> ColumnSchema {
    col(
        TIME_COLUMN,
        Time64Ns,
        St::None,
        "Timestamp when the data record was collected.",
    )
}

fn upid_col() -> ColumnSchema {
    col(
        "upid",
        Uint128,
        St::Upid,
        "An opaque numeric ID that globally identify a running process inside the cluster.",
    )
}

fn latency_col() -> ColumnSchema {
    col(
        "latency",
        Int64,
        St::DurationNs,
        "Request-response latency.",
    )
}

/// `time_`, `upid`, the four endpoint columns, `trace_role` and `encrypted`:
/// the prefix every protocol table shares.
fn protocol_prefix() -> Vec<ColumnSchema> {
    vec![
        time_col(),
        upid_col(),
        col(
            "remote_addr",
            Str,
            St::IpAddress,
            "IP address of the remote endpoint.",
        ),
        col(
            "remote_port",
            Int64,
            St::Port,
            "Port of the remote endpoint.",
        ),
        col(
            "local_addr",
            Str,
            St::IpAddress,
            "IP address of the local endpoint.",
        ),
        col("local_port", Int64, St::Port, "Port of the local endpoint."),
        col(
            "trace_role",
            Int64,
            St::None,
            "The role (client-or-server) of the process that owns the connections.",
        ),
        col(
            "encrypted",
            Boolean,
            St::None,
            "If the protocol trace happened over an encrypted connection",
        ),
    ]
}

/// A protocol table: the shared prefix, the protocol's own columns, `latency`.
fn protocol_table(name: &str, desc: &str, own: Vec<ColumnSchema>) -> TableSchema {
    let mut columns = protocol_prefix();
    columns.extend(own);
    columns.push(latency_col());
    table(name, desc, columns)
}

fn build_tables() -> Vec<TableSchema> {
    vec![
        http_events(),
        dns_events(),
        redis_events(),
        kafka_events(),
        mysql_events(),
        pgsql_events(),
        conn_stats(),
        process_stats(),
        network_stats(),
        scry_probe_stats(),
        scheduled_runs(),
    ]
}

fn http_events() -> TableSchema {
    protocol_table(
        "http_events",
        "HTTP request-response pair events",
        vec![
            col(
                "major_version",
                Int64,
                St::None,
                "HTTP major version, can be 1 or 2",
            ),
            col(
                "minor_version",
                Int64,
                St::None,
                "HTTP minor version, HTTP1 uses 1, HTTP2 set this value to 0",
            ),
            col(
                "content_type",
                Int64,
                St::None,
                "Type of the HTTP payload, can be JSON or protobuf",
            ),
            col(
                "req_headers",
                Str,
                St::None,
                "Request headers in JSON format",
            ),
            col(
                "req_method",
                Str,
                St::HttpReqMethod,
                "HTTP request method (e.g. GET, POST, ...)",
            ),
            col("req_path", Str, St::None, "Request path"),
            col("req_body", Str, St::None, "Request body in JSON format"),
            col(
                "req_body_size",
                Int64,
                St::Bytes,
                "Request body size (before any truncation)",
            ),
            col(
                "resp_headers",
                Str,
                St::None,
                "Response headers in JSON format",
            ),
            col(
                "resp_status",
                Int64,
                St::HttpRespStatus,
                "HTTP response status code",
            ),
            col(
                "resp_message",
                Str,
                St::HttpRespMessage,
                "HTTP response status text (e.g. OK, Not Found, ...)",
            ),
            col("resp_body", Str, St::None, "Response body in JSON format"),
            col(
                "resp_body_size",
                Int64,
                St::Bytes,
                "Response body size (before any truncation)",
            ),
        ],
    )
}

fn dns_events() -> TableSchema {
    protocol_table(
        "dns_events",
        "DNS request-response pair events",
        vec![
            col("req_header", Str, St::None, "Request header"),
            col("req_body", Str, St::None, "Request"),
            col("resp_header", Str, St::None, "Response header"),
            col("resp_body", Str, St::None, "Response"),
        ],
    )
}

fn redis_events() -> TableSchema {
    protocol_table(
        "redis_events",
        "Redis request-response pair events",
        vec![
            col(
                "req_cmd",
                Str,
                St::None,
                "Request command. See https://redis.io/commands.",
            ),
            col("req_args", Str, St::None, "Request command arguments."),
            col("resp", Str, St::None, "Response message."),
        ],
    )
}

fn kafka_events() -> TableSchema {
    protocol_table(
        "kafka_events.beta",
        "Kafka request-response pair events",
        vec![
            col("req_cmd", Int64, St::None, "Kafka request command"),
            col("client_id", Str, St::None, "Kafka client ID"),
            col("req_body", Str, St::None, "Kafka request body"),
            col("resp", Str, St::None, "Kafka response"),
        ],
    )
}

fn mysql_events() -> TableSchema {
    protocol_table(
        "mysql_events",
        "MySQL request-response pair events",
        vec![
            col("req_cmd", Int64, St::None, "MySQL request command"),
            col("req_body", Str, St::None, "MySQL request body"),
            col("resp_status", Int64, St::None, "MySQL response status code"),
            col("resp_body", Str, St::None, "MySQL response body"),
        ],
    )
}

fn pgsql_events() -> TableSchema {
    protocol_table(
        "pgsql_events",
        "Postgres (pgsql) request-response pair events",
        vec![
            col("req_cmd", Str, St::None, "PostgreSQL request command code"),
            col("req", Str, St::None, "PostgreSQL request body"),
            col("resp", Str, St::None, "PostgreSQL response body"),
        ],
    )
}

fn conn_stats() -> TableSchema {
    table(
        "conn_stats",
        "Connection-level stats. This table contains statistics on the communications made \
         between client-server pairs. For network-level information such as RX/TX errors and \
         drops, see the Network-Layer Stats (network_stats) table.",
        vec![
            time_col(),
            upid_col(),
            col(
                "remote_addr",
                Str,
                St::IpAddress,
                "IP address of the remote endpoint.",
            ),
            col(
                "remote_port",
                Int64,
                St::Port,
                "Port of the remote endpoint.",
            ),
            col(
                "trace_role",
                Int64,
                St::None,
                "The role (client-or-server) of the process that owns the connections.",
            ),
            col(
                "addr_family",
                Int64,
                St::None,
                "The socket address family of the connection.",
            ),
            col(
                "protocol",
                Int64,
                St::None,
                "The protocol of the traffic on the connections.",
            ),
            col(
                "ssl",
                Boolean,
                St::None,
                "Was SSL traffic detected on this connection.",
            ),
            col(
                "conn_open",
                Int64,
                St::None,
                "The number of connections opened since the beginning of tracing.",
            ),
            col(
                "conn_close",
                Int64,
                St::None,
                "The number of connections closed since the beginning of tracing.",
            ),
            col(
                "conn_active",
                Int64,
                St::None,
                "The number of active connections",
            ),
            col(
                "bytes_sent",
                Int64,
                St::Bytes,
                "The number of bytes sent to the remote endpoint(s).",
            ),
            col(
                "bytes_recv",
                Int64,
                St::Bytes,
                "The number of bytes received from the remote endpoint(s).",
            ),
        ],
    )
}

fn process_stats() -> TableSchema {
    table(
        "process_stats",
        "CPU, memory and IO stats for all processes on the host.",
        vec![
            time_col(),
            upid_col(),
            col(
                "major_faults",
                Int64,
                St::None,
                "Number of major page faults",
            ),
            col(
                "minor_faults",
                Int64,
                St::None,
                "Number of minor page faults",
            ),
            col(
                "cpu_utime_ns",
                Int64,
                St::DurationNs,
                "Time spent on user space by the process",
            ),
            col(
                "cpu_ktime_ns",
                Int64,
                St::DurationNs,
                "Time spent on kernel by the process",
            ),
            col(
                "num_threads",
                Int64,
                St::None,
                "Number of threads of the process",
            ),
            col(
                "vsize_bytes",
                Int64,
                St::Bytes,
                "Virtual memory size in bytes of the process",
            ),
            col(
                "rss_bytes",
                Int64,
                St::Bytes,
                "Resident memory size in bytes of the process",
            ),
            col(
                "rchar_bytes",
                Int64,
                St::Bytes,
                "IO reads in bytes of the process",
            ),
            col(
                "wchar_bytes",
                Int64,
                St::Bytes,
                "IO writes in bytes of the process",
            ),
            col(
                "read_bytes",
                Int64,
                St::Bytes,
                "IO reads actually go to storage layer in bytes of the process",
            ),
            col(
                "write_bytes",
                Int64,
                St::Bytes,
                "IO writes actually go to storage layer in bytes of the process",
            ),
        ],
    )
}

fn network_stats() -> TableSchema {
    table(
        "network_stats",
        "Network-layer RX/TX stats, grouped by pod. This table contains aggregate statistics \
         measured at the network device interface. For connection-level information, including \
         the remote endpoints with which a pod is communicating, see the Connection-Level Stats \
         (conn_stats) table.",
        vec![
            time_col(),
            col("pod_id", Str, St::None, "The ID of the pod"),
            col(
                "rx_bytes",
                Int64,
                St::Bytes,
                "Received network traffic in bytes of the pod",
            ),
            col(
                "rx_packets",
                Int64,
                St::None,
                "Number of received network packets of the pod",
            ),
            col(
                "rx_errors",
                Int64,
                St::None,
                "Number of network receive errors of the pod",
            ),
            col(
                "rx_drops",
                Int64,
                St::None,
                "Number of dropped network packets being received of the pod",
            ),
            col(
                "tx_bytes",
                Int64,
                St::Bytes,
                "Transmitted network traffic of the pod",
            ),
            col(
                "tx_packets",
                Int64,
                St::None,
                "Number of transmitted network packets of the pod",
            ),
            col(
                "tx_errors",
                Int64,
                St::None,
                "Number of network transmit errors of the pod",
            ),
            col(
                "tx_drops",
                Int64,
                St::None,
                "Number of dropped network packets being transmitted of the pod",
            ),
        ],
    )
}

fn scry_probe_stats() -> TableSchema {
    table(
        "scry_probe_stats",
        "Counters of the tracer itself, one row per (protocol, counter) sample: ring-buffer \
         drops, truncated bodies, parse failures, unmatched requests, …",
        vec![
            time_col(),
            col(
                "protocol",
                Str,
                St::None,
                "The protocol the counter is about, or \"\" for the tracer as a whole",
            ),
            col(
                "counter",
                Str,
                St::None,
                "What is counted (e.g. ringbuf_drops, truncations, parse_failures)",
            ),
            col(
                "value",
                Int64,
                St::None,
                "The counter's value since tracing began",
            ),
        ],
    )
}

fn scheduled_runs() -> TableSchema {
    table(
        "scheduled_runs",
        "One row per run of a scheduled script",
        vec![
            time_col(),
            col("name", Str, St::None, "The schedule's name"),
            col("duration", Int64, St::DurationNs, "How long the run took"),
            col("rows", Int64, St::None, "Rows the run produced (a check's violations)"),
            col(
                "status",
                Str,
                St::None,
                "ok, failed (a check found rows), error (the script could not run) or overrun (took longer than its interval)",
            ),
            col("error", Str, St::None, "The error message, \"\" when ok"),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn names(t: &TableSchema) -> Vec<&str> {
        t.columns.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn every_table_starts_with_time() {
        for t in builtin_tables() {
            let first = &t.columns[0];
            assert_eq!(first.name, TIME_COLUMN, "{}", t.name);
            assert_eq!(first.dtype, Time64Ns, "{}", t.name);
        }
    }

    #[test]
    fn table_and_column_names_are_unique() {
        let mut tables = HashSet::new();
        for t in builtin_tables() {
            assert!(tables.insert(t.name.as_str()), "duplicate table {}", t.name);
            let mut cols = HashSet::new();
            for c in &t.columns {
                assert!(cols.insert(c.name.as_str()), "{}.{}", t.name, c.name);
                assert!(
                    !c.desc.is_empty(),
                    "{}.{} has no description",
                    t.name,
                    c.name
                );
            }
        }
        assert_eq!(builtin_tables().len(), 11);
    }

    #[test]
    fn http_events_column_order() {
        let t = builtin_schema("http_events").expect("http_events");
        assert_eq!(
            names(t),
            [
                "time_",
                "upid",
                "remote_addr",
                "remote_port",
                "local_addr",
                "local_port",
                "trace_role",
                "encrypted",
                "major_version",
                "minor_version",
                "content_type",
                "req_headers",
                "req_method",
                "req_path",
                "req_body",
                "req_body_size",
                "resp_headers",
                "resp_status",
                "resp_message",
                "resp_body",
                "resp_body_size",
                "latency",
            ]
        );
        let latency = t.column("latency").expect("latency");
        assert_eq!((latency.dtype, latency.semantic), (Int64, St::DurationNs));
        let upid = t.column("upid").expect("upid");
        assert_eq!((upid.dtype, upid.semantic), (Uint128, St::Upid));
    }

    #[test]
    fn conn_stats_and_kafka_spot_checks() {
        let t = builtin_schema("conn_stats").expect("conn_stats");
        assert_eq!(
            names(t),
            [
                "time_",
                "upid",
                "remote_addr",
                "remote_port",
                "trace_role",
                "addr_family",
                "protocol",
                "ssl",
                "conn_open",
                "conn_close",
                "conn_active",
                "bytes_sent",
                "bytes_recv",
            ]
        );
        let k = builtin_schema("kafka_events.beta").expect("kafka");
        assert_eq!(
            names(k)[8..],
            ["req_cmd", "client_id", "req_body", "resp", "latency"]
        );
        assert_eq!(k.column("req_cmd").map(|c| c.dtype), Some(Int64));
        let pg = builtin_schema("pgsql_events").expect("pgsql");
        assert_eq!(pg.column("req_cmd").map(|c| c.dtype), Some(Str));
        let n = builtin_schema("network_stats").expect("network_stats");
        assert_eq!(names(n)[..2], ["time_", "pod_id"]);
        assert!(builtin_schema("nope").is_none());
    }

    #[test]
    fn scry_tables() {
        let p = builtin_schema("scry_probe_stats").expect("probe stats");
        assert_eq!(names(p), ["time_", "protocol", "counter", "value"]);
        let s = builtin_schema("scheduled_runs").expect("scheduled_runs");
        assert_eq!(
            names(s),
            ["time_", "name", "duration", "rows", "status", "error"]
        );
        assert_eq!(
            s.column("duration").map(|c| c.semantic),
            Some(St::DurationNs)
        );
    }
}
