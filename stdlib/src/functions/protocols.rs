//! Names for the numeric codes protocol tables store, with Pixie's numbering
//! and spelling. Unknown codes render as Pixie renders them (usually the
//! number itself).

use polars::prelude::*;

use super::util::{arg, expect_type, rowwise, In, INT};
use crate::registry::{
    Env, Example, FnError, FunctionDef, FunctionKind, Operand, Param, TypedExpr,
};
use crate::types::{DataType as PxType, SemanticType};

/// Pixie's traffic protocol enum (the `protocol` column of `conn_stats`).
pub fn protocol_name(code: i64) -> String {
    match code {
        0 => "Unknown",
        1 => "HTTP",
        2 => "HTTP2",
        3 => "MySQL",
        4 => "CQL",
        5 => "PGSQL",
        6 => "DNS",
        7 => "Redis",
        8 => "NATS",
        9 => "Mongo",
        10 => "Kafka",
        11 => "Mux",
        12 => "AMQP",
        13 => "TLS",
        _ => return format!("Invalid ({code})"),
    }
    .to_string()
}

/// The IANA reason phrase of an HTTP status code.
pub fn http_resp_message(code: i64) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        306 => "(Unused)",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "Unassigned",
    }
}

/// Kafka request API keys.
pub fn kafka_api_key_name(key: i64) -> String {
    const NAMES: [&str; 52] = [
        "Produce",
        "Fetch",
        "ListOffsets",
        "Metadata",
        "LeaderAndIsr",
        "StopReplica",
        "UpdateMetadata",
        "ControlledShutdown",
        "OffsetCommit",
        "OffsetFetch",
        "FindCoordinator",
        "JoinGroup",
        "Heartbeat",
        "LeaveGroup",
        "SyncGroup",
        "DescribeGroups",
        "ListGroups",
        "SaslHandshake",
        "ApiVersions",
        "CreateTopics",
        "DeleteTopics",
        "DeleteRecords",
        "InitProducerId",
        "OffsetForLeaderEpoch",
        "AddPartitionsToTxn",
        "AddOffsetsToTxn",
        "EndTxn",
        "WriteTxnMarkers",
        "TxnOffsetCommit",
        "DescribeAcls",
        "CreateAcls",
        "DeleteAcls",
        "DescribeConfigs",
        "AlterConfigs",
        "AlterReplicaLogDirs",
        "DescribeLogDirs",
        "SaslAuthenticate",
        "CreatePartitions",
        "CreateDelegationToken",
        "RenewDelegationToken",
        "ExpireDelegationToken",
        "DescribeDelegationToken",
        "DeleteGroups",
        "ElectLeaders",
        "IncrementalAlterConfigs",
        "AlterPartitionReassignments",
        "ListPartitionReassignments",
        "OffsetDelete",
        "DescribeClientQuotas",
        "AlterClientQuotas",
        "DescribeUserScramCredentials",
        "AlterUserScramCredentials",
    ];
    let name = match key {
        0..=51 => NAMES[key as usize],
        56 => "AlterIsr",
        57 => "UpdateFeatures",
        60 => "DescribeCluster",
        61 => "DescribeProducers",
        _ => return key.to_string(),
    };
    name.to_string()
}

/// MySQL command bytes (`COM_*`).
pub fn mysql_command_name(cmd: i64) -> String {
    const NAMES: [&str; 32] = [
        "Sleep",
        "Quit",
        "InitDB",
        "Query",
        "FieldList",
        "CreateDB",
        "DropDB",
        "Refresh",
        "Shutdown",
        "Statistics",
        "ProcessInfo",
        "Connect",
        "ProcessKill",
        "Debug",
        "Ping",
        "Time",
        "DelayedInsert",
        "ChangeUser",
        "BinlogDump",
        "TableDump",
        "ConnectOut",
        "RegisterSlave",
        "StmtPrepare",
        "StmtExecute",
        "StmtSendLongData",
        "StmtClose",
        "StmtReset",
        "SetOption",
        "StmtFetch",
        "Daemon",
        "BinlogDumpGTID",
        "ResetConnection",
    ];
    match usize::try_from(cmd).ok().and_then(|i| NAMES.get(i)) {
        Some(name) => name.to_string(),
        None => cmd.to_string(),
    }
}

/// DNS response codes (RFC 1035, 2136, 6891, 8490, …).
pub fn dns_rcode_name(rcode: i64) -> String {
    let name = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "DSOTYPENI",
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        _ => return rcode.to_string(),
    };
    name.to_string()
}

/// CQL (Cassandra native protocol) opcodes.
pub fn cql_opcode_name(op: i64) -> String {
    let name = match op {
        0x00 => "Error",
        0x01 => "Startup",
        0x02 => "Ready",
        0x03 => "Authenticate",
        0x05 => "Options",
        0x06 => "Supported",
        0x07 => "Query",
        0x08 => "Result",
        0x09 => "Prepare",
        0x0a => "Execute",
        0x0b => "Register",
        0x0c => "Event",
        0x0d => "Batch",
        0x0e => "AuthChallenge",
        0x0f => "AuthResponse",
        0x10 => "AuthSuccess",
        _ => return op.to_string(),
    };
    name.to_string()
}

/// gRPC status codes.
pub fn grpc_status_name(code: i64) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "unknown code",
    }
}

fn code_to_name(
    args: &[Operand],
    func: &str,
    param: &str,
    name: fn(i64) -> String,
) -> Result<Expr, FnError> {
    let code = arg(args, 0, func, param)?;
    expect_type(code, INT, func, param)?;
    Ok(rowwise(vec![code.expr()], &[In::I64], move |r| {
        name(r.i64(0))
    }))
}

fn protocol_name_fn(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let e = code_to_name(args, "protocol_name", "protocol", protocol_name)?;
    Ok(TypedExpr::new(e, PxType::String))
}

fn http_resp_message_fn(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let e = code_to_name(args, "http_resp_message", "code", |c| {
        http_resp_message(c).to_string()
    })?;
    Ok(TypedExpr::new(e, PxType::String).with_semantic(SemanticType::HttpRespMessage))
}

fn kafka_api_key_name_fn(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let e = code_to_name(args, "kafka_api_key_name", "api_key", kafka_api_key_name)?;
    Ok(TypedExpr::new(e, PxType::String))
}

fn mysql_command_name_fn(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let e = code_to_name(args, "mysql_command_name", "cmd", mysql_command_name)?;
    Ok(TypedExpr::new(e, PxType::String))
}

fn dns_rcode_name_fn(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let e = code_to_name(args, "dns_rcode_name", "rcode", dns_rcode_name)?;
    Ok(TypedExpr::new(e, PxType::String))
}

fn cql_opcode_name_fn(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let e = code_to_name(args, "cql_opcode_name", "req_op", cql_opcode_name)?;
    Ok(TypedExpr::new(e, PxType::String))
}

fn grpc_status_code_to_str_fn(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let e = code_to_name(args, "grpc_status_code_to_str", "status_code", |c| {
        grpc_status_name(c).to_string()
    })?;
    Ok(TypedExpr::new(e, PxType::String))
}

pub fn defs() -> Vec<FunctionDef> {
    vec![
        FunctionDef {
            name: "protocol_name",
            kind: FunctionKind::Scalar(protocol_name_fn),
            params: const { &[Param::new("protocol", INT)] },
            returns: "STRING",
            doc: "The name of a traffic protocol number (Pixie's numbering: 1 HTTP, 2 HTTP2, 3 MySQL, … 13 TLS).",
            example: Example {
                input: "px.protocol_name(1)",
                output: "\"HTTP\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "http_resp_message",
            kind: FunctionKind::Scalar(http_resp_message_fn),
            params: const { &[Param::new("code", INT)] },
            returns: "STRING",
            doc: "The reason phrase of an HTTP status code ('Unassigned' when it has none).",
            example: Example {
                input: "px.http_resp_message(404)",
                output: "\"Not Found\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "kafka_api_key_name",
            kind: FunctionKind::Scalar(kafka_api_key_name_fn),
            params: const { &[Param::new("api_key", INT)] },
            returns: "STRING",
            doc: "The name of a Kafka request API key (the number itself when unknown).",
            example: Example {
                input: "px.kafka_api_key_name(0)",
                output: "\"Produce\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "mysql_command_name",
            kind: FunctionKind::Scalar(mysql_command_name_fn),
            params: const { &[Param::new("cmd", INT)] },
            returns: "STRING",
            doc: "The name of a MySQL command byte (the number itself when unknown).",
            example: Example {
                input: "px.mysql_command_name(3)",
                output: "\"Query\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "dns_rcode_name",
            kind: FunctionKind::Scalar(dns_rcode_name_fn),
            params: const { &[Param::new("rcode", INT)] },
            returns: "STRING",
            doc: "The name of a DNS response code (the number itself when unknown).",
            example: Example {
                input: "px.dns_rcode_name(3)",
                output: "\"NXDOMAIN\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "cql_opcode_name",
            kind: FunctionKind::Scalar(cql_opcode_name_fn),
            params: const { &[Param::new("req_op", INT)] },
            returns: "STRING",
            doc: "The name of a CQL opcode (the number itself when unknown).",
            example: Example {
                input: "px.cql_opcode_name(7)",
                output: "\"Query\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "grpc_status_code_to_str",
            kind: FunctionKind::Scalar(grpc_status_code_to_str_fn),
            params: const { &[Param::new("status_code", INT)] },
            returns: "STRING",
            doc: "The name of a gRPC status code.",
            example: Example {
                input: "px.grpc_status_code_to_str(14)",
                output: "\"UNAVAILABLE\"",
            },
            pure: true,
        },
    ]
}
