//! Math functions. Operators (`+`, `/`, `%`, comparisons) are the compiler's.

use polars::prelude::*;

use super::util::{
    arg, expect_type, inherit, rowwise, time_dtype, In, INT, NUMBER, NUMERIC_SEMANTICS,
};
use crate::registry::{
    Env, Example, FnError, FunctionDef, FunctionKind, Operand, Param, TypedExpr,
};
use crate::types::DataType as PxType;

const BINNABLE: &[PxType] = &[PxType::Int64, PxType::Float64, PxType::Time64Ns];

fn number_arg(args: &[Operand], i: usize, func: &str, param: &str) -> Result<Expr, FnError> {
    let op = arg(args, i, func, param)?;
    expect_type(op, NUMBER, func, param)?;
    Ok(op.expr().cast(DataType::Float64))
}

fn bin(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let value = arg(args, 0, "bin", "value")?;
    expect_type(value, BINNABLE, "bin", "value")?;
    let size = arg(args, 1, "bin", "size")?;
    expect_type(size, &[PxType::Int64, PxType::Time64Ns], "bin", "size")?;
    if let Some(s) = size.literal_int() {
        if s <= 0 {
            return Err(FnError::new(format!(
                "px.bin: 'size' must be positive, got {s}"
            )));
        }
    }
    // Floats are truncated to integers first; then `v - v % size` with C's
    // remainder (so a negative value goes towards zero), as in Pixie.
    let v = value.expr().cast(DataType::Int64);
    let s = size.expr().cast(DataType::Int64);
    let binned = rowwise(vec![v, s], &[In::I64, In::I64], |r| {
        let (v, s) = (r.i64(0), r.i64(1));
        if s == 0 {
            v
        } else {
            v.wrapping_sub(v.wrapping_rem(s))
        }
    });
    Ok(match value.dtype() {
        PxType::Time64Ns => TypedExpr::new(binned.cast(time_dtype()), PxType::Time64Ns),
        _ => TypedExpr::new(binned, PxType::Int64),
    })
}

fn to_int(e: Expr) -> Expr {
    e.cast(DataType::Int64).fill_null(lit(0i64))
}

fn floor(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let v = number_arg(args, 0, "floor", "arg1")?;
    Ok(TypedExpr::new(to_int(v.floor()), PxType::Int64))
}

fn ceil(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let v = number_arg(args, 0, "ceil", "arg1")?;
    Ok(TypedExpr::new(to_int(v.ceil()), PxType::Int64))
}

fn round(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let v = number_arg(args, 0, "round", "value")?;
    let d = arg(args, 1, "round", "decimals")?;
    expect_type(d, INT, "round", "decimals")?;
    Ok(TypedExpr::new(
        rowwise(vec![v, d.expr()], &[In::F64, In::I64], |r| {
            // printf("%.*f"): a negative precision means the default, 6.
            let decimals = match r.i64(1) {
                d if d < 0 => 6,
                d => d.min(340) as usize,
            };
            format!("{:.*}", decimals, r.f64(0))
        }),
        PxType::String,
    ))
}

fn abs(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let v = arg(args, 0, "abs", "v")?;
    expect_type(v, NUMBER, "abs", "v")?;
    Ok(TypedExpr::new(v.expr().abs(), v.dtype())
        .with_semantic(inherit(v.semantic(), NUMERIC_SEMANTICS)))
}

fn float_fn(
    args: &[Operand],
    func: &str,
    param: &str,
    f: fn(f64) -> f64,
) -> Result<TypedExpr, FnError> {
    let v = number_arg(args, 0, func, param)?;
    Ok(TypedExpr::new(
        rowwise(vec![v], &[In::F64], move |r| f(r.f64(0))),
        PxType::Float64,
    ))
}

fn sqrt(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    float_fn(args, "sqrt", "v", f64::sqrt)
}

fn ln(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    float_fn(args, "ln", "v", f64::ln)
}

fn log2(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    float_fn(args, "log2", "v", f64::log2)
}

fn log10(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    float_fn(args, "log10", "v", f64::log10)
}

fn exp(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    float_fn(args, "exp", "y", f64::exp)
}

fn log(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let b = number_arg(args, 0, "log", "b")?;
    let v = number_arg(args, 1, "log", "v")?;
    Ok(TypedExpr::new(
        rowwise(vec![b, v], &[In::F64, In::F64], |r| {
            r.f64(1).ln() / r.f64(0).ln()
        }),
        PxType::Float64,
    ))
}

fn pow(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let x = number_arg(args, 0, "pow", "x")?;
    let y = number_arg(args, 1, "pow", "y")?;
    Ok(TypedExpr::new(
        rowwise(vec![x, y], &[In::F64, In::F64], |r| r.f64(0).powf(r.f64(1))),
        PxType::Float64,
    ))
}

pub fn defs() -> Vec<FunctionDef> {
    vec![
        FunctionDef {
            name: "bin",
            kind: FunctionKind::Scalar(bin),
            params: const { &[Param::new("value", BINNABLE), Param::new("size", INT)] },
            returns: "INT64 (TIME64NS for a TIME64NS value)",
            doc: "value - value % size: the start of the size-wide bin holding the value (floats are truncated first).",
            example: Example {
                input: "px.bin(1234, 100)",
                output: "1200",
            },
            pure: true,
        },
        FunctionDef {
            name: "floor",
            kind: FunctionKind::Scalar(floor),
            params: const { &[Param::new("arg1", NUMBER)] },
            returns: "INT64",
            doc: "The largest integer not greater than the value.",
            example: Example {
                input: "px.floor(2.7)",
                output: "2",
            },
            pure: true,
        },
        FunctionDef {
            name: "ceil",
            kind: FunctionKind::Scalar(ceil),
            params: const { &[Param::new("arg1", NUMBER)] },
            returns: "INT64",
            doc: "The smallest integer not less than the value.",
            example: Example {
                input: "px.ceil(2.1)",
                output: "3",
            },
            pure: true,
        },
        FunctionDef {
            name: "round",
            kind: FunctionKind::Scalar(round),
            params: const { &[Param::new("value", NUMBER), Param::new("decimals", INT)] },
            returns: "STRING",
            doc: "The value rounded to `decimals` places, as a string (for display), as in Pixie.",
            example: Example {
                input: "px.round(0.248, 2)",
                output: "\"0.25\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "abs",
            kind: FunctionKind::Scalar(abs),
            params: const { &[Param::new("v", NUMBER)] },
            returns: "same as v",
            doc: "Absolute value.",
            example: Example {
                input: "px.abs(-3)",
                output: "3",
            },
            pure: true,
        },
        FunctionDef {
            name: "sqrt",
            kind: FunctionKind::Scalar(sqrt),
            params: const { &[Param::new("v", NUMBER)] },
            returns: "FLOAT64",
            doc: "Square root.",
            example: Example {
                input: "px.sqrt(16)",
                output: "4.0",
            },
            pure: true,
        },
        FunctionDef {
            name: "log",
            kind: FunctionKind::Scalar(log),
            params: const { &[Param::new("b", NUMBER), Param::new("v", NUMBER)] },
            returns: "FLOAT64",
            doc: "Logarithm of v in base b (note the order: base first).",
            example: Example {
                input: "px.log(2, 8)",
                output: "3.0",
            },
            pure: true,
        },
        FunctionDef {
            name: "ln",
            kind: FunctionKind::Scalar(ln),
            params: const { &[Param::new("v", NUMBER)] },
            returns: "FLOAT64",
            doc: "Natural logarithm.",
            example: Example {
                input: "px.ln(1)",
                output: "0.0",
            },
            pure: true,
        },
        FunctionDef {
            name: "log2",
            kind: FunctionKind::Scalar(log2),
            params: const { &[Param::new("v", NUMBER)] },
            returns: "FLOAT64",
            doc: "Base-2 logarithm.",
            example: Example {
                input: "px.log2(1024)",
                output: "10.0",
            },
            pure: true,
        },
        FunctionDef {
            name: "log10",
            kind: FunctionKind::Scalar(log10),
            params: const { &[Param::new("v", NUMBER)] },
            returns: "FLOAT64",
            doc: "Base-10 logarithm.",
            example: Example {
                input: "px.log10(1000)",
                output: "3.0",
            },
            pure: true,
        },
        FunctionDef {
            name: "exp",
            kind: FunctionKind::Scalar(exp),
            params: const { &[Param::new("y", NUMBER)] },
            returns: "FLOAT64",
            doc: "e raised to the power y.",
            example: Example {
                input: "px.exp(0)",
                output: "1.0",
            },
            pure: true,
        },
        FunctionDef {
            name: "pow",
            kind: FunctionKind::Scalar(pow),
            params: const { &[Param::new("x", NUMBER), Param::new("y", NUMBER)] },
            returns: "FLOAT64",
            doc: "x raised to the power y.",
            example: Example {
                input: "px.pow(2, 10)",
                output: "1024.0",
            },
            pure: true,
        },
    ]
}
