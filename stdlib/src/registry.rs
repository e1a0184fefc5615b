//! The one registry of `px.*` functions: signatures, docs, examples and
//! lowerings to Polars expressions. The compiler, the REPL's completion and
//! `scry docs` all read it.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use polars::prelude::Expr;

use crate::types::{DataType, Literal, SemanticType};

/// A Polars expression with its PxL data type and semantic type.
#[derive(Clone, Debug)]
pub struct TypedExpr {
    pub expr: Expr,
    pub dtype: DataType,
    pub semantic: SemanticType,
}

impl TypedExpr {
    pub fn new(expr: Expr, dtype: DataType) -> Self {
        TypedExpr {
            expr,
            dtype,
            semantic: SemanticType::None,
        }
    }

    pub fn with_semantic(mut self, semantic: SemanticType) -> Self {
        self.semantic = semantic;
        self
    }
}

/// An argument as the compiler hands it to a function: the expression, and
/// its value when it is known at compile time (a literal or a folded constant).
#[derive(Clone, Debug)]
pub struct Operand {
    pub typed: TypedExpr,
    pub literal: Option<Literal>,
}

impl Operand {
    /// An operand for a compile-time constant: the literal and its expression.
    pub fn from_literal(literal: Literal) -> Operand {
        Operand {
            typed: TypedExpr::new(literal.to_expr(), literal.data_type()),
            literal: Some(literal),
        }
    }

    /// An operand for a runtime expression with no known value.
    pub fn from_expr(expr: Expr, dtype: DataType) -> Operand {
        Operand {
            typed: TypedExpr::new(expr, dtype),
            literal: None,
        }
    }

    pub fn semantic(&self) -> SemanticType {
        self.typed.semantic
    }

    pub fn dtype(&self) -> DataType {
        self.typed.dtype
    }
    pub fn expr(&self) -> Expr {
        self.typed.expr.clone()
    }
    /// The compile-time string value, for arguments that must be literals.
    pub fn literal_str(&self) -> Option<&str> {
        match &self.literal {
            Some(Literal::Str(s)) => Some(s),
            _ => None,
        }
    }
    pub fn literal_int(&self) -> Option<i64> {
        match &self.literal {
            Some(Literal::Int(i)) => Some(*i),
            Some(Literal::Time(i)) => Some(*i),
            _ => None,
        }
    }
    pub fn literal_float(&self) -> Option<f64> {
        match &self.literal {
            Some(Literal::Float(f)) => Some(*f),
            Some(Literal::Int(i)) => Some(*i as f64),
            _ => None,
        }
    }
}

/// Facts about processes and hosts that some functions need
/// (`upid_to_cmdline`, `nslookup`, …). The runtime provides the real one;
/// `NoMetadata` answers empty values.
pub trait MetadataProvider: Send + Sync {
    /// The command line of the process with this upid (`asid:pid:start_ticks`), or "".
    fn cmdline(&self, upid: &str) -> String;
    /// The host name of the node the process runs on, or "".
    fn hostname(&self, upid: &str) -> String;
    /// The container id of the process, or "".
    fn container_id(&self, upid: &str) -> String;
    /// Reverse DNS of an IP address, or the address itself when it has no name.
    fn reverse_dns(&self, addr: &str) -> String;
    /// A Kubernetes lookup, named by the Pixie function that asks for it
    /// (`upid_to_pod_name`, `ip_to_pod_id`, `pod_id_to_service_name`, …), of
    /// `key` (a upid, pod id, pod name, IP, …). "" when unknown, which is
    /// always the answer on a bare host.
    fn k8s(&self, _function: &str, _key: &str) -> String {
        String::new()
    }
    /// The host name of the node executing the query (`px._exec_hostname`).
    fn exec_hostname(&self) -> String {
        String::new()
    }
    /// The number of CPUs of the node executing the query (`px._exec_host_num_cpus`), or 0.
    fn exec_num_cpus(&self) -> i64 {
        0
    }
    /// The agent short id of this node (`px.asid`).
    fn asid(&self) -> i64 {
        0
    }
}

/// Metadata that knows nothing: every lookup is the empty string.
#[derive(Debug, Default)]
pub struct NoMetadata;

impl MetadataProvider for NoMetadata {
    fn cmdline(&self, _: &str) -> String {
        String::new()
    }
    fn hostname(&self, _: &str) -> String {
        String::new()
    }
    fn container_id(&self, _: &str) -> String {
        String::new()
    }
    fn reverse_dns(&self, addr: &str) -> String {
        addr.to_string()
    }
}

/// What a function may consult while it is lowered.
#[derive(Clone)]
pub struct Env {
    /// "Now" for this compilation, in ns since the epoch: relative times are
    /// resolved against it once, so a script sees one consistent instant.
    pub now_ns: i64,
    pub metadata: Arc<dyn MetadataProvider>,
}

impl Env {
    pub fn new(now_ns: i64) -> Self {
        Env {
            now_ns,
            metadata: Arc::new(NoMetadata),
        }
    }
}

/// Why a call could not be lowered; the compiler adds the span.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct FnError(pub String);

impl FnError {
    pub fn new(msg: impl Into<String>) -> Self {
        FnError(msg.into())
    }
}

pub type ScalarLowering = fn(&[Operand], &Env) -> Result<TypedExpr, FnError>;
pub type AggregateLowering = fn(&TypedExpr) -> Result<TypedExpr, FnError>;

/// How the compiler passes a parameter's argument to the lowering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// One expression: one operand.
    Value,
    /// A PxL list (`px.equals_any(x, ['a', 'b'])`), always the last
    /// parameter. Either one operand whose literal is `Literal::List`, or
    /// each element as its own operand (which allows column elements).
    List,
    /// A PxL dict with string keys (`px.script_reference(l, s, {'k': v})`),
    /// always the last parameter. Either key, value, key, value, … operands
    /// (keys as string literals; values may be columns), or one STRING
    /// literal holding a JSON object of string values.
    Dict,
}

/// One parameter of a function. An empty `types` accepts every type.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub types: &'static [DataType],
    /// The PxL text of the default value when the argument may be omitted
    /// (`"0"`, `"{}"`). Defaulted parameters are trailing; the compiler may
    /// either pass the default or omit the operand: every lowering accepts both.
    pub default: Option<&'static str>,
    pub kind: ParamKind,
}

impl Param {
    /// A required single-value parameter.
    pub const fn new(name: &'static str, types: &'static [DataType]) -> Param {
        Param {
            name,
            types,
            default: None,
            kind: ParamKind::Value,
        }
    }

    /// A parameter that may be omitted; `default` is PxL source text.
    pub const fn with_default(
        name: &'static str,
        types: &'static [DataType],
        default: &'static str,
    ) -> Param {
        Param {
            name,
            types,
            default: Some(default),
            kind: ParamKind::Value,
        }
    }

    /// A list parameter, flattened into trailing operands.
    pub const fn list(name: &'static str, types: &'static [DataType]) -> Param {
        Param {
            name,
            types,
            default: None,
            kind: ParamKind::List,
        }
    }

    /// A dict parameter, flattened into trailing key/value operand pairs.
    pub const fn dict(
        name: &'static str,
        types: &'static [DataType],
        default: &'static str,
    ) -> Param {
        Param {
            name,
            types,
            default: Some(default),
            kind: ParamKind::Dict,
        }
    }
}

#[derive(Clone, Copy)]
pub enum FunctionKind {
    /// Row-wise: lowered to an expression over its operands.
    Scalar(ScalarLowering),
    /// Used as `('col', px.fn)` inside `agg(...)`.
    Aggregate(AggregateLowering),
    /// A table function (`px.GetTables()` …) that the compiler answers from
    /// the catalog; documented here so the registry stays the one list.
    Table,
    /// Sets a column's semantic type (`px.DurationNanos(x)`).
    SemanticCast(SemanticType),
}

/// An example that runs as a test. For a scalar function or a semantic cast
/// `input` is a PxL expression whose value is known at compile time; for an
/// aggregate it is a PxL list literal of the values aggregated. `output` is
/// the value rendered the way `--format json` renders it (times as RFC 3339
/// with 9 fractional digits). Examples of functions that are not pure assume
/// `Env::now_ns` = 2024-01-01T00:00:00Z (1704067200000000000) and
/// `NoMetadata`. For a table function `output` lists the output's columns.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    pub input: &'static str,
    pub output: &'static str,
}

#[derive(Clone, Copy)]
pub struct FunctionDef {
    pub name: &'static str,
    pub kind: FunctionKind,
    pub params: &'static [Param],
    /// The return type as the docs show it (`INT64`, `same as arg`, …).
    pub returns: &'static str,
    pub doc: &'static str,
    pub example: Example,
    /// False for functions whose value changes between calls or depends on
    /// the outside world (`now`, `nslookup`): they are not constant-folded.
    pub pure: bool,
}

impl FunctionDef {
    /// `name(a: INT64, b: STRING) -> STRING`, as docs and completion show it.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                let mut text = if p.types.is_empty() {
                    p.name.to_string()
                } else {
                    let tys: Vec<&str> = p.types.iter().map(|t| t.pixie_name()).collect();
                    format!("{}: {}", p.name, tys.join("|"))
                };
                match p.kind {
                    ParamKind::Value => {}
                    ParamKind::List => text = format!("{text} (list)"),
                    ParamKind::Dict => text = format!("{text} (dict)"),
                }
                if let Some(default) = p.default {
                    text = format!("{text} = {default}");
                }
                text
            })
            .collect();
        format!(
            "px.{}({}) -> {}",
            self.name,
            params.join(", "),
            self.returns
        )
    }
}

/// All `px.*` functions, by name.
pub struct Registry {
    functions: BTreeMap<&'static str, FunctionDef>,
}

impl Registry {
    fn build() -> Registry {
        let mut functions = BTreeMap::new();
        for def in crate::functions::all() {
            let previous = functions.insert(def.name, def);
            assert!(previous.is_none(), "px.{} registered twice", def.name);
        }
        Registry { functions }
    }

    pub fn get(&self, name: &str) -> Option<&FunctionDef> {
        self.functions.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &FunctionDef> {
        self.functions.values()
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.functions.keys().copied()
    }
}

/// The process-wide registry.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::build)
}
