//! Values of the symbolic evaluation: Python-like constants, dataframes
//! (a Polars lazy plan plus its typed columns), column expressions, and the
//! callables a script can name.

use std::rc::Rc;

use polars::prelude::LazyFrame;
use scry_stdlib::{DataType, FunctionDef, Literal, SemanticType, TypedExpr};

use crate::ast::FuncDef;

/// A column of a frame: name, PxL type, semantic type.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub dtype: DataType,
    pub semantic: SemanticType,
}

/// A dataframe under construction: a lazy plan whose output columns are
/// exactly `columns`, in order.
#[derive(Clone)]
pub struct Frame {
    pub plan: LazyFrame,
    pub columns: Vec<ColumnInfo>,
}

impl Frame {
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.column_names().collect();
        write!(f, "DataFrame[{}]", names.join(", "))
    }
}

/// Methods of a dataframe, a groupby, or the px module, bound to their receiver.
#[derive(Debug, Clone)]
pub enum Receiver {
    Frame(Rc<Frame>),
    GroupBy(Rc<Frame>, Vec<String>),
}

/// Callables built into the language (not in the stdlib registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    DataFrame,
    Display,
    Debug,
    /// `px.vis` and other namespaces only used for decorations.
    Ignored,
}

#[derive(Clone)]
pub enum Value {
    None,
    Lit(Literal),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Frame(Rc<Frame>),
    Column(TypedExpr),
    GroupBy(Rc<Frame>, Vec<String>),
    /// `df.ctx`, waiting for `['key']`.
    Ctx(Rc<Frame>),
    /// A module: `px`, or a namespace under it (`px.vis`).
    Module(&'static str),
    StdFunction(&'static FunctionDef),
    Builtin(Builtin),
    Method(Receiver, &'static str),
    UserFunction(Rc<FuncDef>),
    /// A type named in an annotation (`str`, `int`, `px.Time` …).
    Type(&'static str),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.kind_name())
    }
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Lit(Literal::Str(s.into()))
    }

    /// What a user would call this value's type, for messages.
    pub fn kind_name(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Lit(l) => match l {
                Literal::Bool(_) => "bool".into(),
                Literal::Int(_) => "int".into(),
                Literal::Float(_) => "float".into(),
                Literal::Str(_) => "string".into(),
                Literal::Time(_) => "time".into(),
                Literal::List(_) => "list".into(),
            },
            Value::List(_) => "list".into(),
            Value::Tuple(_) => "tuple".into(),
            Value::Dict(_) => "dict".into(),
            Value::Frame(_) => "DataFrame".into(),
            Value::Column(t) => format!("column expression ({})", t.dtype),
            Value::GroupBy(..) => "groupby".into(),
            Value::Ctx(_) => "ctx".into(),
            Value::Module(m) => format!("module {m}"),
            Value::StdFunction(f) => format!("function px.{}", f.name),
            Value::Builtin(_) => "builtin function".into(),
            Value::Method(_, m) => format!("method {m}"),
            Value::UserFunction(f) => format!("function {}", f.name),
            Value::Type(t) => format!("type {t}"),
        }
    }

    /// As a typed expression, if this is a column or a scalar literal.
    pub fn as_typed(&self) -> Option<TypedExpr> {
        match self {
            Value::Column(t) => Some(t.clone()),
            Value::Lit(l) => Some(literal_expr(l)),
            _ => None,
        }
    }

    pub fn as_literal(&self) -> Option<&Literal> {
        match self {
            Value::Lit(l) => Some(l),
            _ => None,
        }
    }
}

/// A literal as a Polars expression of its PxL type.
pub fn literal_expr(l: &Literal) -> TypedExpr {
    TypedExpr::new(l.to_expr(), l.data_type())
}
