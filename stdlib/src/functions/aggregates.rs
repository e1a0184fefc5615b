//! Aggregates used as `agg(out=('col', px.fn))`.
//!
//! Semantic types follow Pixie's rules: `mean`, `min`, `max` keep a
//! bytes / throughput / duration / percent input's semantic type, `sum` keeps
//! bytes / throughput / percent (not durations, as in Pixie), `any` keeps any,
//! and `quantiles` of a duration is `ST_DURATION_NS_QUANTILES`.

use polars::prelude::*;

use super::quantiles::quantiles_expr;
use super::util::{inherit, ANY, NUMERIC_SEMANTICS};
use crate::registry::{Example, FnError, FunctionDef, FunctionKind, Param, TypedExpr};
use crate::types::{DataType as PxType, SemanticType};

const SUMMABLE: &[PxType] = &[PxType::Int64, PxType::Float64, PxType::Boolean];
const ORDERED: &[PxType] = &[PxType::Int64, PxType::Float64, PxType::Time64Ns];
const QUANTILE_INPUTS: &[PxType] = &[PxType::Int64, PxType::Float64];

/// Semantic types `sum` keeps (Pixie leaves durations out).
const SUM_SEMANTICS: &[SemanticType] = &[
    SemanticType::Bytes,
    SemanticType::ThroughputPerNs,
    SemanticType::ThroughputBytesPerNs,
    SemanticType::Percent,
];

fn check(input: &TypedExpr, types: &[PxType], func: &str) -> Result<(), FnError> {
    if types.contains(&input.dtype) {
        return Ok(());
    }
    let names: Vec<&str> = types.iter().map(|t| t.pixie_name()).collect();
    Err(FnError::new(format!(
        "px.{func} needs a {} column, got {}",
        names.join(" or "),
        input.dtype
    )))
}

/// The zero value of a PxL type, as an expression (what an empty group yields).
fn zero(dtype: PxType) -> Expr {
    match dtype {
        PxType::Boolean => lit(false),
        PxType::Int64 => lit(0i64),
        PxType::Float64 => lit(0.0f64),
        PxType::String | PxType::Uint128 => lit(""),
        PxType::Time64Ns => lit(0i64).cast(dtype.to_polars()),
    }
}

fn count(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    Ok(TypedExpr::new(
        input.expr.clone().len().cast(DataType::Int64),
        PxType::Int64,
    ))
}

fn sum(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    check(input, SUMMABLE, "sum")?;
    let dtype = match input.dtype {
        PxType::Float64 => PxType::Float64,
        _ => PxType::Int64,
    };
    let expr = input
        .expr
        .clone()
        .cast(dtype.to_polars())
        .sum()
        .fill_null(zero(dtype));
    Ok(TypedExpr::new(expr, dtype).with_semantic(inherit(input.semantic, SUM_SEMANTICS)))
}

fn mean(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    check(input, SUMMABLE, "mean")?;
    Ok(TypedExpr::new(
        input
            .expr
            .clone()
            .cast(DataType::Float64)
            .mean()
            .fill_null(lit(0.0f64)),
        PxType::Float64,
    )
    .with_semantic(inherit(input.semantic, NUMERIC_SEMANTICS)))
}

fn min(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    check(input, ORDERED, "min")?;
    Ok(TypedExpr::new(
        input.expr.clone().min().fill_null(zero(input.dtype)),
        input.dtype,
    )
    .with_semantic(inherit(input.semantic, NUMERIC_SEMANTICS)))
}

fn max(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    check(input, ORDERED, "max")?;
    Ok(TypedExpr::new(
        input.expr.clone().max().fill_null(zero(input.dtype)),
        input.dtype,
    )
    .with_semantic(inherit(input.semantic, NUMERIC_SEMANTICS)))
}

fn any(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    Ok(TypedExpr::new(
        input.expr.clone().first().fill_null(zero(input.dtype)),
        input.dtype,
    )
    .with_semantic(input.semantic))
}

fn quantiles(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    check(input, QUANTILE_INPUTS, "quantiles")?;
    let semantic = if input.semantic == SemanticType::DurationNs {
        SemanticType::DurationNsQuantiles
    } else {
        SemanticType::Quantiles
    };
    // No cast to FLOAT64 first: INT64 groups are selected as integers and
    // converted afterwards (see `quantiles.rs`), which saves a pass over the
    // whole column.
    let expr = quantiles_expr(input.expr.clone());
    Ok(TypedExpr::new(expr, PxType::String).with_semantic(semantic))
}

pub fn defs() -> Vec<FunctionDef> {
    vec![
        FunctionDef {
            name: "count",
            kind: FunctionKind::Aggregate(count),
            params: const { &[Param::new("arg", ANY)] },
            returns: "INT64",
            doc: "Number of rows in the group.",
            example: Example {
                input: "[3, 1, 2]",
                output: "3",
            },
            pure: true,
        },
        FunctionDef {
            name: "sum",
            kind: FunctionKind::Aggregate(sum),
            params: const { &[Param::new("arg", SUMMABLE)] },
            returns: "INT64 (FLOAT64 for FLOAT64)",
            doc: "Sum of the group's values; booleans count as 1 and 0.",
            example: Example {
                input: "[1, 2, 6]",
                output: "9",
            },
            pure: true,
        },
        FunctionDef {
            name: "mean",
            kind: FunctionKind::Aggregate(mean),
            params: const { &[Param::new("arg", SUMMABLE)] },
            returns: "FLOAT64",
            doc: "Arithmetic mean of the group's values.",
            example: Example {
                input: "[1, 2, 6]",
                output: "3.0",
            },
            pure: true,
        },
        FunctionDef {
            name: "min",
            kind: FunctionKind::Aggregate(min),
            params: const { &[Param::new("arg", ORDERED)] },
            returns: "same as arg",
            doc: "Smallest value in the group.",
            example: Example {
                input: "[3, 1, 2]",
                output: "1",
            },
            pure: true,
        },
        FunctionDef {
            name: "max",
            kind: FunctionKind::Aggregate(max),
            params: const { &[Param::new("arg", ORDERED)] },
            returns: "same as arg",
            doc: "Largest value in the group.",
            example: Example {
                input: "[3, 1, 2]",
                output: "3",
            },
            pure: true,
        },
        FunctionDef {
            name: "any",
            kind: FunctionKind::Aggregate(any),
            params: const { &[Param::new("val", ANY)] },
            returns: "same as val",
            doc: "Any one value of the group (no guarantee which).",
            example: Example {
                input: "['a', 'a', 'a']",
                output: "\"a\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "quantiles",
            kind: FunctionKind::Aggregate(quantiles),
            params: const { &[Param::new("val", QUANTILE_INPUTS)] },
            returns: "STRING (JSON)",
            doc: "p01, p10, p25, p50, p75, p90, p99 of the group as a JSON object; read one with px.pluck_float64. Exact, interpolated between neighbouring values the way Pixie's t-digest does: identical to Pixie for groups of up to 1273 values, more accurate than Pixie's approximation beyond.",
            example: Example {
                input: "[1, 2, 2, 1, 1, 5, 6]",
                output: r#""{\"p01\":1.0,\"p10\":1.0,\"p25\":1.0,\"p50\":2.0,\"p75\":4.25,\"p90\":5.8,\"p99\":6.0}""#,
            },
            pure: true,
        },
    ]
}
