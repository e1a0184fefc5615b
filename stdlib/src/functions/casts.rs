//! Semantic casts: `px.DurationNanos(x)`, `px.Service(x)`, … set a value's
//! semantic type and keep its data type. One definition per semantic type
//! with a cast function; the compiler applies them.

use super::util::{FLOAT, INT, NUMBER, STRING, UPID};
use crate::registry::{Example, FunctionDef, FunctionKind, Param};
use crate::types::SemanticType;

/// Parameter, doc and example of the cast to `st`.
fn cast_info(st: SemanticType) -> (&'static [Param], &'static str, Example) {
    let ex = |input, output| Example { input, output };
    match st {
        SemanticType::Upid => (
            const { &[Param::new("value", UPID)] },
            "Marks a value as a upid (ST_UPID).",
            ex("px.UPID('1:4242:99')", "\"1:4242:99\""),
        ),
        SemanticType::ServiceName => (
            const { &[Param::new("value", STRING)] },
            "Marks a string as a Kubernetes service name (ST_SERVICE_NAME).",
            ex("px.Service('default/web')", "\"default/web\""),
        ),
        SemanticType::PodName => (
            const { &[Param::new("value", STRING)] },
            "Marks a string as a Kubernetes pod name (ST_POD_NAME).",
            ex("px.Pod('default/web-0')", "\"default/web-0\""),
        ),
        SemanticType::NodeName => (
            const { &[Param::new("value", STRING)] },
            "Marks a string as a node name (ST_NODE_NAME).",
            ex("px.Node('node-1')", "\"node-1\""),
        ),
        SemanticType::ContainerName => (
            const { &[Param::new("value", STRING)] },
            "Marks a string as a container name (ST_CONTAINER_NAME).",
            ex("px.Container('web')", "\"web\""),
        ),
        SemanticType::NamespaceName => (
            const { &[Param::new("value", STRING)] },
            "Marks a string as a Kubernetes namespace (ST_NAMESPACE_NAME).",
            ex("px.Namespace('default')", "\"default\""),
        ),
        SemanticType::Bytes => (
            const { &[Param::new("value", INT)] },
            "Marks an integer as a number of bytes (ST_BYTES).",
            ex("px.Bytes(1024)", "1024"),
        ),
        SemanticType::Percent => (
            const { &[Param::new("value", FLOAT)] },
            "Marks a float as a percentage, 1.0 being 100% (ST_PERCENT).",
            ex("px.Percent(0.25)", "0.25"),
        ),
        SemanticType::DurationNs => (
            const { &[Param::new("value", INT)] },
            "Marks an integer as a duration in nanoseconds (ST_DURATION_NS).",
            ex("px.DurationNanos(1500000)", "1500000"),
        ),
        SemanticType::ThroughputPerNs => (
            const { &[Param::new("value", NUMBER)] },
            "Marks a value as a rate per nanosecond (ST_THROUGHPUT_PER_NS).",
            ex("px.Throughput(0.5)", "0.5"),
        ),
        SemanticType::ThroughputBytesPerNs => (
            const { &[Param::new("value", NUMBER)] },
            "Marks a value as bytes per nanosecond (ST_THROUGHPUT_BYTES_PER_NS).",
            ex("px.ThroughputBytes(0.5)", "0.5"),
        ),
        SemanticType::IpAddress => (
            const { &[Param::new("value", STRING)] },
            "Marks a string as an IP address (ST_IP_ADDRESS).",
            ex("px.IPAddress('10.0.0.1')", "\"10.0.0.1\""),
        ),
        SemanticType::Port => (
            const { &[Param::new("value", INT)] },
            "Marks an integer as a port number (ST_PORT).",
            ex("px.Port(443)", "443"),
        ),
        SemanticType::HttpRespStatus => (
            const { &[Param::new("value", INT)] },
            "Marks an integer as an HTTP status code (ST_HTTP_RESP_STATUS).",
            ex("px.HTTPRespStatus(404)", "404"),
        ),
        SemanticType::HttpRespMessage => (
            const { &[Param::new("value", STRING)] },
            "Marks a string as an HTTP reason phrase (ST_HTTP_RESP_MESSAGE).",
            ex("px.HTTPRespMessage('Not Found')", "\"Not Found\""),
        ),
        // A semantic type given a cast function after this list was written.
        _ => (
            const { &[Param::new("value", &[])] },
            "Sets the value's semantic type.",
            ex("", ""),
        ),
    }
}

pub fn defs() -> Vec<FunctionDef> {
    SemanticType::ALL
        .iter()
        .filter_map(|st| {
            let name = st.cast_function()?;
            let (params, doc, example) = cast_info(*st);
            Some(FunctionDef {
                name,
                kind: FunctionKind::SemanticCast(*st),
                params,
                returns: "same as value",
                doc,
                example,
                pure: true,
            })
        })
        .collect()
}
