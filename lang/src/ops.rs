//! Operators on values: folded at compile time when both sides are known,
//! otherwise lowered to Polars expressions with PxL's typing rules
//! (`/` always yields FLOAT64; TIME64NS ± INT64 is a time; time − time is
//! INT64 nanoseconds; comparisons need compatible types).

use polars::prelude::{DataType as PlType, Expr};
use scry_stdlib::{DataType, Literal, SemanticType, TypedExpr};

use crate::ast::{BinOp, UnaryOp};
use crate::value::Value;

/// Apply a binary operator. `Err` carries a message; the caller adds the span.
pub fn binary(op: BinOp, left: &Value, right: &Value) -> Result<Value, String> {
    if let (Value::Lit(l), Value::Lit(r)) = (left, right) {
        return fold(op, l, r).map(Value::Lit);
    }
    // String concatenation of Python lists is not a thing in PxL.
    let (Some(l), Some(r)) = (left.as_typed(), right.as_typed()) else {
        return Err(format!(
            "operator '{}' does not apply to {} and {}",
            op.symbol(),
            left.kind_name(),
            right.kind_name()
        ));
    };
    lower(op, l, r).map(Value::Column)
}

pub fn unary(op: UnaryOp, v: &Value) -> Result<Value, String> {
    match (op, v) {
        (UnaryOp::Neg, Value::Lit(Literal::Int(i))) => Ok(Value::Lit(Literal::Int(
            i.checked_neg().ok_or("integer overflow")?,
        ))),
        (UnaryOp::Neg, Value::Lit(Literal::Float(f))) => Ok(Value::Lit(Literal::Float(-f))),
        (UnaryOp::Pos, Value::Lit(l @ (Literal::Int(_) | Literal::Float(_)))) => {
            Ok(Value::Lit(l.clone()))
        }
        (UnaryOp::Not, Value::Lit(Literal::Bool(b))) => Ok(Value::Lit(Literal::Bool(!b))),
        (_, Value::Column(t)) => match op {
            UnaryOp::Neg if matches!(t.dtype, DataType::Int64 | DataType::Float64) => {
                Ok(Value::Column(TypedExpr {
                    expr: -t.expr.clone(),
                    ..t.clone()
                }))
            }
            UnaryOp::Pos if matches!(t.dtype, DataType::Int64 | DataType::Float64) => Ok(v.clone()),
            UnaryOp::Not if t.dtype == DataType::Boolean => Ok(Value::Column(TypedExpr::new(
                t.expr.clone().not(),
                DataType::Boolean,
            ))),
            _ => Err(format!(
                "unary operator does not apply to a {} column",
                t.dtype
            )),
        },
        _ => Err(format!(
            "unary operator does not apply to {}",
            v.kind_name()
        )),
    }
}

fn fold(op: BinOp, l: &Literal, r: &Literal) -> Result<Literal, String> {
    use Literal::*;
    let mismatch = || {
        format!(
            "operator '{}' does not apply to {} and {}",
            op.symbol(),
            l.data_type(),
            r.data_type()
        )
    };
    Ok(match (op, l, r) {
        (BinOp::And, Bool(a), Bool(b)) => Bool(*a && *b),
        (BinOp::Or, Bool(a), Bool(b)) => Bool(*a || *b),
        (BinOp::Add, Str(a), Str(b)) => Str(format!("{a}{b}")),
        (BinOp::Add, Time(t), Int(d)) | (BinOp::Add, Int(d), Time(t)) => {
            Time(t.checked_add(*d).ok_or("time overflow")?)
        }
        (BinOp::Sub, Time(t), Int(d)) => Time(t.checked_sub(*d).ok_or("time overflow")?),
        (BinOp::Sub, Time(a), Time(b)) => Int(a - b),
        (BinOp::Div, _, _) => {
            let (a, b) = (num(l).ok_or_else(mismatch)?, num(r).ok_or_else(mismatch)?);
            Float(a / b)
        }
        (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Mod, Int(a), Int(b)) => Int(match op {
            BinOp::Add => a.checked_add(*b),
            BinOp::Sub => a.checked_sub(*b),
            BinOp::Mul => a.checked_mul(*b),
            _ => {
                if *b == 0 {
                    return Err("integer modulo by zero".into());
                }
                Some(a.rem_euclid(*b))
            }
        }
        .ok_or("integer overflow")?),
        (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Mod, _, _) => {
            let (a, b) = (num(l).ok_or_else(mismatch)?, num(r).ok_or_else(mismatch)?);
            Float(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                _ => a.rem_euclid(b),
            })
        }
        (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, _, _) => {
            let ord = match (l, r) {
                (Str(a), Str(b)) => a.partial_cmp(b),
                (Bool(a), Bool(b)) => a.partial_cmp(b),
                _ => num(l).zip(num(r)).and_then(|(a, b)| a.partial_cmp(&b)),
            }
            .ok_or_else(mismatch)?;
            use std::cmp::Ordering::*;
            Bool(match op {
                BinOp::Eq => ord == Equal,
                BinOp::Ne => ord != Equal,
                BinOp::Lt => ord == Less,
                BinOp::Le => ord != Greater,
                BinOp::Gt => ord == Greater,
                _ => ord != Less,
            })
        }
        _ => return Err(mismatch()),
    })
}

fn num(l: &Literal) -> Option<f64> {
    match l {
        Literal::Int(i) | Literal::Time(i) => Some(*i as f64),
        Literal::Float(f) => Some(*f),
        _ => None,
    }
}

fn as_i64(t: &TypedExpr) -> Expr {
    if t.dtype == DataType::Time64Ns {
        t.expr.clone().cast(PlType::Int64)
    } else {
        t.expr.clone()
    }
}

fn as_f64(t: &TypedExpr) -> Expr {
    match t.dtype {
        DataType::Float64 => t.expr.clone(),
        _ => as_i64(t).cast(PlType::Float64),
    }
}

/// The semantic type a result keeps: a duration plus a duration is still a
/// duration; most arithmetic drops semantics.
fn arith_semantic(op: BinOp, l: &TypedExpr, r: &TypedExpr) -> SemanticType {
    match op {
        BinOp::Add | BinOp::Sub if l.semantic == r.semantic => l.semantic,
        BinOp::Mul | BinOp::Div if r.semantic == SemanticType::None => l.semantic,
        BinOp::Mul if l.semantic == SemanticType::None => r.semantic,
        _ => SemanticType::None,
    }
}

/// Lower an operator on two typed expressions.
pub fn lower(op: BinOp, l: TypedExpr, r: TypedExpr) -> Result<TypedExpr, String> {
    use DataType::*;
    let mismatch = || {
        format!(
            "operator '{}' does not apply to {} and {}",
            op.symbol(),
            l.dtype,
            r.dtype
        )
    };
    let numeric = |t: DataType| matches!(t, Int64 | Float64);
    let out = match op {
        BinOp::And | BinOp::Or => {
            if l.dtype != Boolean || r.dtype != Boolean {
                return Err(mismatch());
            }
            let e = if op == BinOp::And {
                l.expr.clone().and(r.expr.clone())
            } else {
                l.expr.clone().or(r.expr.clone())
            };
            TypedExpr::new(e, Boolean)
        }
        BinOp::Add if l.dtype == String && r.dtype == String => TypedExpr::new(
            polars::prelude::concat_str([l.expr.clone(), r.expr.clone()], "", false),
            String,
        ),
        BinOp::Add | BinOp::Sub if l.dtype == Time64Ns && r.dtype == Int64 => {
            let e = if op == BinOp::Add {
                as_i64(&l) + r.expr.clone()
            } else {
                as_i64(&l) - r.expr.clone()
            };
            TypedExpr::new(e.cast(Time64Ns.to_polars()), Time64Ns)
        }
        BinOp::Add if l.dtype == Int64 && r.dtype == Time64Ns => TypedExpr::new(
            (l.expr.clone() + as_i64(&r)).cast(Time64Ns.to_polars()),
            Time64Ns,
        ),
        BinOp::Sub if l.dtype == Time64Ns && r.dtype == Time64Ns => {
            TypedExpr::new(as_i64(&l) - as_i64(&r), Int64).with_semantic(SemanticType::DurationNs)
        }
        BinOp::Div => {
            if !(numeric(l.dtype) || l.dtype == Time64Ns)
                || !(numeric(r.dtype) || r.dtype == Time64Ns)
            {
                return Err(mismatch());
            }
            TypedExpr::new(as_f64(&l) / as_f64(&r), Float64)
                .with_semantic(arith_semantic(op, &l, &r))
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Mod => {
            if !numeric(l.dtype) || !numeric(r.dtype) {
                return Err(mismatch());
            }
            let (a, b, ty) = if l.dtype == Int64 && r.dtype == Int64 {
                (l.expr.clone(), r.expr.clone(), Int64)
            } else {
                (as_f64(&l), as_f64(&r), Float64)
            };
            let e = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                _ => a % b,
            };
            TypedExpr::new(e, ty).with_semantic(arith_semantic(op, &l, &r))
        }
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let comparable = l.dtype == r.dtype
                || (numeric(l.dtype) || l.dtype == Time64Ns)
                    && (numeric(r.dtype) || r.dtype == Time64Ns)
                || matches!((l.dtype, r.dtype), (String | Uint128, String | Uint128));
            if !comparable {
                return Err(mismatch());
            }
            let (a, b) = if l.dtype == r.dtype || matches!(l.dtype, String | Uint128) {
                (l.expr.clone(), r.expr.clone())
            } else if l.dtype == Float64 || r.dtype == Float64 {
                (as_f64(&l), as_f64(&r))
            } else {
                (as_i64(&l), as_i64(&r))
            };
            let e = match op {
                BinOp::Eq => a.eq(b),
                BinOp::Ne => a.neq(b),
                BinOp::Lt => a.lt(b),
                BinOp::Le => a.lt_eq(b),
                BinOp::Gt => a.gt(b),
                _ => a.gt_eq(b),
            };
            TypedExpr::new(e, Boolean)
        }
    };
    Ok(out)
}
