//! Calls of `px.*` registry functions: argument binding and type checks,
//! lowering, constant folding of pure calls with literal arguments, and the
//! table functions answered from the catalog.

use std::rc::Rc;

use polars::prelude::*;
use scry_stdlib::{
    registry, DataType as PxType, FunctionDef, FunctionKind, Literal, Operand, ParamKind, TypedExpr,
};

use crate::eval::{err, Call, EvalResult, Interpreter};
use crate::value::{literal_expr, ColumnInfo, Frame, Value};

pub fn call_std(
    it: &mut Interpreter<'_>,
    def: &'static FunctionDef,
    call: Call,
) -> EvalResult<Value> {
    match def.kind {
        FunctionKind::Aggregate(_) => Err(err(
            "argument",
            call.func_span,
            format!("px.{} is an aggregate", def.name),
        )
        .with_hint(format!(
            "use it inside agg: name=('column', px.{})",
            def.name
        ))),
        FunctionKind::Table => table_function(it, def, call),
        FunctionKind::SemanticCast(st) => {
            let operands = bind(def, call)?;
            let mut typed = operands[0].typed.clone();
            typed.semantic = st;
            Ok(Value::Column(typed))
        }
        FunctionKind::Scalar(lower) => {
            let span = call.span;
            let operands = bind(def, call)?;
            let typed = lower(&operands, &it.env).map_err(|e| err("argument", span, e.0))?;
            if def.pure && operands.iter().all(|o| o.literal.is_some()) {
                if let Some(l) = fold(&typed) {
                    return Ok(Value::Lit(l));
                }
            }
            Ok(Value::Column(typed))
        }
    }
}

/// Bind call arguments to the function's parameters and check their types.
fn bind(def: &FunctionDef, call: Call) -> EvalResult<Vec<Operand>> {
    let n = def.params.len();
    if call.args.len() > n {
        return Err(err(
            "argument",
            call.args[n].1,
            format!(
                "px.{} takes {n} argument(s), got {}",
                def.name,
                call.args.len()
            ),
        )
        .with_hint(def.signature()));
    }
    let mut slots: Vec<Option<(Value, crate::diag::Span)>> = vec![None; n];
    for (i, a) in call.args.into_iter().enumerate() {
        slots[i] = Some(a);
    }
    for (name, v, span) in call.kwargs {
        match def.params.iter().position(|p| p.name == name) {
            Some(i) if slots[i].is_none() => slots[i] = Some((v, span)),
            Some(_) => {
                return Err(err(
                    "argument",
                    span,
                    format!("px.{} got '{name}' twice", def.name),
                ))
            }
            None => {
                return Err(err(
                    "argument",
                    span,
                    format!("px.{} has no argument '{name}'", def.name),
                )
                .with_hint(def.signature()))
            }
        }
    }
    let mut operands = Vec::with_capacity(n);
    let mut omitted: Option<&str> = None;
    for (param, slot) in def.params.iter().zip(slots) {
        let Some((v, span)) = slot else {
            if param.default.is_some() {
                // Defaulted parameters trail; lowerings accept omitted ones.
                omitted.get_or_insert(param.name);
                continue;
            }
            return Err(err(
                "argument",
                call.span,
                format!("px.{} needs the argument '{}'", def.name, param.name),
            )
            .with_hint(def.signature()));
        };
        if let Some(skipped) = omitted {
            return Err(err(
                "argument",
                span,
                format!(
                    "px.{}: pass '{skipped}' too when passing '{}'",
                    def.name, param.name
                ),
            )
            .with_hint(def.signature()));
        }
        let cannot = |v: &Value| {
            err(
                "type",
                span,
                format!(
                    "argument '{}' of px.{} cannot be {}",
                    param.name,
                    def.name,
                    v.kind_name()
                ),
            )
        };
        match (param.kind, &v) {
            // A dict with column values travels as key, value, … operands.
            (ParamKind::Dict, Value::Dict(items))
                if items.iter().any(|(_, x)| matches!(x, Value::Column(_))) =>
            {
                for (k, x) in items {
                    let key = match k {
                        Value::Lit(Literal::Str(_)) => to_operand(k),
                        _ => None,
                    };
                    operands.push(key.ok_or_else(|| cannot(k))?);
                    operands.push(to_operand(x).ok_or_else(|| cannot(x))?);
                }
                continue;
            }
            // A list with column elements travels as one operand per element.
            (ParamKind::List, Value::List(items) | Value::Tuple(items))
                if items.iter().any(|x| matches!(x, Value::Column(_))) =>
            {
                for x in items {
                    operands.push(to_operand(x).ok_or_else(|| cannot(x))?);
                }
                continue;
            }
            _ => {}
        }
        let operand = to_operand(&v).ok_or_else(|| cannot(&v))?;
        let operand = coerce(operand, param.types);
        if param.kind == ParamKind::Value
            && !param.types.is_empty()
            && !param.types.contains(&operand.dtype())
        {
            let want: Vec<&str> = param.types.iter().map(|t| t.pixie_name()).collect();
            return Err(err(
                "type",
                span,
                format!(
                    "argument '{}' of px.{} must be {}, got {}",
                    param.name,
                    def.name,
                    want.join(" or "),
                    operand.dtype()
                ),
            )
            .with_hint(def.signature()));
        }
        operands.push(operand);
    }
    Ok(operands)
}

/// A value as an operand; lists of literals become a list literal.
fn to_operand(v: &Value) -> Option<Operand> {
    match v {
        Value::Lit(l) => Some(Operand {
            typed: literal_expr(l),
            literal: Some(l.clone()),
        }),
        Value::Column(t) => Some(Operand {
            typed: t.clone(),
            literal: None,
        }),
        Value::List(items) | Value::Tuple(items) => {
            let lits: Option<Vec<Literal>> =
                items.iter().map(|i| i.as_literal().cloned()).collect();
            let lits = lits?;
            let l = Literal::List(lits);
            Some(Operand {
                typed: literal_expr(&l),
                literal: Some(l),
            })
        }
        Value::Dict(items) => {
            // Dict arguments (script_reference's args) travel as JSON text.
            let mut map = serde_json::Map::new();
            for (k, v) in items {
                let key = match k.as_literal()? {
                    Literal::Str(s) => s.clone(),
                    _ => return None,
                };
                let val = match v {
                    Value::Lit(Literal::Str(s)) => serde_json::Value::String(s.clone()),
                    Value::Lit(Literal::Int(i)) => serde_json::Value::from(*i),
                    Value::Lit(Literal::Float(f)) => serde_json::Value::from(*f),
                    Value::Lit(Literal::Bool(b)) => serde_json::Value::from(*b),
                    Value::Column(_) => return None,
                    _ => return None,
                };
                map.insert(key, val);
            }
            let l = Literal::Str(serde_json::Value::Object(map).to_string());
            Some(Operand {
                typed: literal_expr(&l),
                literal: Some(l),
            })
        }
        _ => None,
    }
}

/// An INT64 literal passed where only FLOAT64 is accepted becomes a float,
/// and a STRING where only UINT128 is accepted is taken as a upid.
fn coerce(o: Operand, accepted: &[PxType]) -> Operand {
    if accepted.is_empty() || accepted.contains(&o.dtype()) {
        return o;
    }
    match (&o.literal, o.dtype()) {
        (Some(Literal::Int(i)), PxType::Int64) if accepted.contains(&PxType::Float64) => {
            let l = Literal::Float(*i as f64);
            Operand {
                typed: literal_expr(&l),
                literal: Some(l),
            }
        }
        (_, PxType::Int64) if accepted.contains(&PxType::Float64) => Operand {
            typed: TypedExpr {
                expr: o.typed.expr.clone().cast(DataType::Float64),
                dtype: PxType::Float64,
                semantic: o.typed.semantic,
            },
            literal: None,
        },
        (_, PxType::String) if accepted.contains(&PxType::Uint128) => Operand {
            typed: TypedExpr {
                dtype: PxType::Uint128,
                ..o.typed.clone()
            },
            literal: o.literal.clone(),
        },
        (_, PxType::Uint128) if accepted.contains(&PxType::String) => Operand {
            typed: TypedExpr {
                dtype: PxType::String,
                ..o.typed.clone()
            },
            literal: o.literal.clone(),
        },
        _ => o,
    }
}

/// Evaluate an expression with no column inputs to a literal.
pub fn fold(typed: &TypedExpr) -> Option<Literal> {
    let out = DataFrame::empty()
        .lazy()
        .select([typed.expr.clone().alias("v")])
        .collect()
        .ok()?;
    let column = out.column("v").ok()?;
    if column.len() != 1 {
        return None;
    }
    let value = column.get(0).ok()?;
    Some(match (typed.dtype, value) {
        (PxType::Boolean, AnyValue::Boolean(b)) => Literal::Bool(b),
        (PxType::Int64, v) => Literal::Int(v.extract::<i64>()?),
        (PxType::Float64, v) => Literal::Float(v.extract::<f64>()?),
        (PxType::String | PxType::Uint128, AnyValue::String(s)) => Literal::Str(s.to_string()),
        (PxType::String | PxType::Uint128, AnyValue::StringOwned(s)) => Literal::Str(s.to_string()),
        (PxType::Time64Ns, AnyValue::Datetime(t, _, _)) => Literal::Time(t),
        (PxType::Time64Ns, AnyValue::DatetimeOwned(t, _, _)) => Literal::Time(t),
        _ => return None,
    })
}

/// GetTables, GetSchemas, _DebugTableInfo, GetUDFList.
fn table_function(it: &mut Interpreter<'_>, def: &FunctionDef, call: Call) -> EvalResult<Value> {
    if let Some((_, span)) = call.args.first() {
        return Err(err(
            "argument",
            *span,
            format!("px.{}() takes no arguments", def.name),
        ));
    }
    let df = match def.name {
        "GetTables" => {
            let mut names = Vec::new();
            let mut descs = Vec::new();
            for n in it.source.table_names() {
                let desc = it.source.table(&n).map(|t| t.desc).unwrap_or_default();
                names.push(n);
                descs.push(desc);
            }
            df!("table_name" => names, "table_desc" => descs)
        }
        "GetSchemas" => {
            let (mut t, mut c, mut ty, mut st, mut d) = (vec![], vec![], vec![], vec![], vec![]);
            for n in it.source.table_names() {
                if let Some(schema) = it.source.table(&n) {
                    for col in schema.columns {
                        t.push(n.clone());
                        c.push(col.name);
                        ty.push(col.dtype.pixie_name().to_string());
                        st.push(col.semantic.pixie_name().to_string());
                        d.push(col.desc);
                    }
                }
            }
            df!("table_name" => t, "column_name" => c, "column_type" => ty, "pattern_type" => st, "column_desc" => d)
        }
        "_DebugTableInfo" => Ok(it.source.debug_table_info()),
        "GetUDFList" => {
            let (mut n, mut k, mut s, mut d) = (vec![], vec![], vec![], vec![]);
            for f in registry().iter() {
                n.push(f.name.to_string());
                k.push(
                    match f.kind {
                        FunctionKind::Scalar(_) | FunctionKind::SemanticCast(_) => "scalar",
                        FunctionKind::Aggregate(_) => "aggregate",
                        FunctionKind::Table => "table",
                    }
                    .to_string(),
                );
                s.push(f.signature());
                d.push(f.doc.to_string());
            }
            df!("name" => n, "kind" => k, "signature" => s, "doc" => d)
        }
        other => {
            return Err(err("unknown-function", call.func_span, format!("px.{other} is not available here")))
        }
    }
    .map_err(|e| err("table", call.span, format!("px.{}: {e}", def.name)))?;
    Ok(Value::Frame(Rc::new(frame_of(df))))
}

/// A materialised frame as a PxL frame (types mapped from Polars).
pub fn frame_of(df: DataFrame) -> Frame {
    let columns = df
        .columns()
        .iter()
        .map(|c| ColumnInfo {
            name: c.name().to_string(),
            dtype: PxType::from_polars(c.dtype()).unwrap_or(PxType::String),
            semantic: scry_stdlib::SemanticType::None,
        })
        .collect();
    Frame {
        plan: df.lazy(),
        columns,
    }
}
