//! PxL's value types and semantic types, and how they map onto Polars.
//!
//! PxL has six data types (Pixie's `types.DataType`). Columns also carry a
//! semantic type (Pixie's `SemanticType`) that tells renderers and `ctx`
//! lookups what a value means (a duration, a upid, a service name, …).

use polars::prelude::{lit, AnyValue, DataType as PlType, Expr, Series, TimeUnit, NULL};

/// PxL data types, with Pixie's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Boolean,
    Int64,
    /// Pixie's UINT128. scry only uses it for upids, which it stores as the
    /// string `asid:pid:start_ticks` so that every Arrow client can read them.
    Uint128,
    Float64,
    String,
    Time64Ns,
}

impl DataType {
    pub const ALL: [DataType; 6] = [
        DataType::Boolean,
        DataType::Int64,
        DataType::Uint128,
        DataType::Float64,
        DataType::String,
        DataType::Time64Ns,
    ];

    /// Pixie's spelling (`INT64`, `TIME64NS`, …), used in schemas and messages.
    pub fn pixie_name(self) -> &'static str {
        match self {
            DataType::Boolean => "BOOLEAN",
            DataType::Int64 => "INT64",
            DataType::Uint128 => "UINT128",
            DataType::Float64 => "FLOAT64",
            DataType::String => "STRING",
            DataType::Time64Ns => "TIME64NS",
        }
    }

    /// The Polars type that holds values of this type.
    pub fn to_polars(self) -> PlType {
        match self {
            DataType::Boolean => PlType::Boolean,
            DataType::Int64 => PlType::Int64,
            DataType::Uint128 | DataType::String => PlType::String,
            DataType::Float64 => PlType::Float64,
            DataType::Time64Ns => PlType::Datetime(TimeUnit::Nanoseconds, None),
        }
    }

    /// The PxL type of a Polars column, when it has one. Strings map to
    /// `String` (a upid column is recognised by its name and semantic type).
    pub fn from_polars(dtype: &PlType) -> Option<DataType> {
        Some(match dtype {
            PlType::Boolean => DataType::Boolean,
            PlType::Int8
            | PlType::Int16
            | PlType::Int32
            | PlType::Int64
            | PlType::UInt8
            | PlType::UInt16
            | PlType::UInt32
            | PlType::UInt64 => DataType::Int64,
            PlType::Float32 | PlType::Float64 => DataType::Float64,
            PlType::String => DataType::String,
            PlType::Datetime(_, _) => DataType::Time64Ns,
            _ => return None,
        })
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            DataType::Int64 | DataType::Float64 | DataType::Time64Ns
        )
    }
}

impl std::fmt::Display for DataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.pixie_name())
    }
}

macro_rules! semantic_types {
    ($($variant:ident => $name:literal, $cast:expr;)*) => {
        /// Pixie's semantic types. The name is Pixie's (`ST_DURATION_NS`); the
        /// cast is the `px.<Cast>(expr)` function that sets it, if any.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum SemanticType {
            #[default]
            $($variant,)*
        }

        impl SemanticType {
            pub const ALL: &'static [SemanticType] = &[$(SemanticType::$variant,)*];

            pub fn pixie_name(self) -> &'static str {
                match self { $(SemanticType::$variant => $name,)* }
            }

            /// The `px.*` cast function that sets this semantic type.
            pub fn cast_function(self) -> Option<&'static str> {
                match self { $(SemanticType::$variant => $cast,)* }
            }
        }
    };
}

semantic_types! {
    None => "ST_NONE", None;
    AgentUid => "ST_AGENT_UID", None;
    Asid => "ST_ASID", None;
    Upid => "ST_UPID", Some("UPID");
    ServiceName => "ST_SERVICE_NAME", Some("Service");
    PodName => "ST_POD_NAME", Some("Pod");
    PodPhase => "ST_POD_PHASE", None;
    PodStatus => "ST_POD_STATUS", None;
    NodeName => "ST_NODE_NAME", Some("Node");
    ContainerName => "ST_CONTAINER_NAME", Some("Container");
    ContainerState => "ST_CONTAINER_STATE", None;
    ContainerStatus => "ST_CONTAINER_STATUS", None;
    NamespaceName => "ST_NAMESPACE_NAME", Some("Namespace");
    Bytes => "ST_BYTES", Some("Bytes");
    Percent => "ST_PERCENT", Some("Percent");
    DurationNs => "ST_DURATION_NS", Some("DurationNanos");
    ThroughputPerNs => "ST_THROUGHPUT_PER_NS", Some("Throughput");
    ThroughputBytesPerNs => "ST_THROUGHPUT_BYTES_PER_NS", Some("ThroughputBytes");
    Quantiles => "ST_QUANTILES", None;
    DurationNsQuantiles => "ST_DURATION_NS_QUANTILES", None;
    IpAddress => "ST_IP_ADDRESS", Some("IPAddress");
    Port => "ST_PORT", Some("Port");
    HttpReqMethod => "ST_HTTP_REQ_METHOD", None;
    HttpRespStatus => "ST_HTTP_RESP_STATUS", Some("HTTPRespStatus");
    HttpRespMessage => "ST_HTTP_RESP_MESSAGE", Some("HTTPRespMessage");
    ScriptReference => "ST_SCRIPT_REFERENCE", None;
}

impl std::fmt::Display for SemanticType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.pixie_name())
    }
}

/// A literal value known at compile time.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Nanoseconds since the Unix epoch.
    Time(i64),
    /// A list of literals, as in `px.equals_any(x, ['a', 'b'])`.
    List(Vec<Literal>),
}

impl Literal {
    pub fn data_type(&self) -> DataType {
        match self {
            Literal::Bool(_) => DataType::Boolean,
            Literal::Int(_) => DataType::Int64,
            Literal::Float(_) => DataType::Float64,
            Literal::Str(_) => DataType::String,
            Literal::Time(_) => DataType::Time64Ns,
            // A list is typed by its elements (a list of strings is STRING).
            Literal::List(items) => items.first().map_or(DataType::String, Literal::data_type),
        }
    }
}

impl Literal {
    /// The Polars expression for this value (a TIME64NS is a Datetime(ns)).
    pub fn to_expr(&self) -> Expr {
        match self {
            Literal::Bool(b) => lit(*b),
            Literal::Int(i) => lit(*i).cast(PlType::Int64),
            Literal::Float(f) => lit(*f),
            Literal::Str(s) => lit(s.clone()),
            Literal::Time(t) => lit(*t).cast(DataType::Time64Ns.to_polars()),
            Literal::List(items) => {
                let values: Vec<AnyValue> = items
                    .iter()
                    .map(|l| match l {
                        Literal::Bool(b) => AnyValue::Boolean(*b),
                        Literal::Int(i) | Literal::Time(i) => AnyValue::Int64(*i),
                        Literal::Float(f) => AnyValue::Float64(*f),
                        Literal::Str(s) => AnyValue::StringOwned(s.as_str().into()),
                        Literal::List(_) => AnyValue::Null,
                    })
                    .collect();
                match Series::from_any_values("".into(), &values, false) {
                    Ok(series) => lit(series),
                    Err(_) => lit(NULL),
                }
            }
        }
    }
}
