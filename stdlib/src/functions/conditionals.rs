//! Conditionals and other compile-time helpers: `select`, `equals_any`,
//! `script_reference`.

use polars::prelude::*;

use super::json::{write_string, Json};
use super::util::{arg, expect_type, rowwise, In, ANY, BOOL, STRING};
use crate::registry::{
    Env, Example, FnError, FunctionDef, FunctionKind, Operand, Param, TypedExpr,
};
use crate::types::{DataType as PxType, Literal, SemanticType};

fn select(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = arg(args, 0, "select", "s")?;
    expect_type(s, BOOL, "select", "s")?;
    let v1 = arg(args, 1, "select", "v1")?;
    let v2 = arg(args, 2, "select", "v2")?;
    let (t1, t2) = (v1.dtype(), v2.dtype());
    let dtype = if t1 == t2 {
        t1
    } else if matches!(
        (t1, t2),
        (PxType::Int64, PxType::Float64) | (PxType::Float64, PxType::Int64)
    ) {
        PxType::Float64
    } else if matches!(
        (t1, t2),
        (PxType::String, PxType::Uint128) | (PxType::Uint128, PxType::String)
    ) {
        PxType::String
    } else {
        return Err(FnError::new(format!(
            "px.select: v1 and v2 must have the same type, got {t1} and {t2}"
        )));
    };
    let pl = dtype.to_polars();
    let expr = when(s.expr())
        .then(v1.expr().cast(pl.clone()))
        .otherwise(v2.expr().cast(pl));
    let semantic = if v1.semantic() == v2.semantic() {
        v1.semantic()
    } else {
        SemanticType::None
    };
    Ok(TypedExpr::new(expr, dtype).with_semantic(semantic))
}

fn equals_any(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let value = arg(args, 0, "equals_any", "value")?;
    // The list arrives as one operand holding a list literal, or flattened.
    let listed: Vec<Operand>;
    let comparisons = match args.get(1).and_then(|a| a.literal.as_ref()) {
        Some(Literal::List(items)) if args.len() == 2 => {
            listed = items.iter().cloned().map(Operand::from_literal).collect();
            &listed[..]
        }
        _ => &args[1..],
    };
    if comparisons.is_empty() {
        return Err(FnError::new(
            "px.equals_any: 'comparisons' cannot be an empty list",
        ));
    }
    let mut any: Option<Expr> = None;
    for c in comparisons {
        let numeric = |t: PxType| matches!(t, PxType::Int64 | PxType::Float64);
        let stringy = |t: PxType| matches!(t, PxType::String | PxType::Uint128);
        let ok = c.dtype() == value.dtype()
            || (numeric(c.dtype()) && numeric(value.dtype()))
            || (stringy(c.dtype()) && stringy(value.dtype()));
        if !ok {
            return Err(FnError::new(format!(
                "px.equals_any: cannot compare {} with {}",
                value.dtype(),
                c.dtype()
            )));
        }
        let eq = value.expr().eq(c.expr());
        any = Some(match any {
            None => eq,
            Some(prev) => prev.or(eq),
        });
    }
    let expr = any.unwrap_or_else(|| lit(false)).fill_null(lit(false));
    Ok(TypedExpr::new(expr, PxType::Boolean))
}

fn script_reference(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let label = arg(args, 0, "script_reference", "label")?;
    let script = arg(args, 1, "script_reference", "script")?;
    // The dict arrives as key, value operands (values may be columns), or as
    // one string literal holding a JSON object of string values.
    let from_json: Vec<Operand>;
    let pairs = match args.get(2).and_then(Operand::literal_str) {
        Some(text) if args.len() == 3 => {
            let Some(Json::Object(members)) = Json::parse(text) else {
                return Err(FnError::new(
                    "px.script_reference: 'args' must be a dict of strings",
                ));
            };
            from_json = members
                .into_iter()
                .flat_map(|(k, v)| {
                    let v = match v {
                        Json::Str(s) => s,
                        other => other.to_pluck_string(),
                    };
                    [Literal::Str(k), Literal::Str(v)]
                })
                .map(Operand::from_literal)
                .collect();
            &from_json[..]
        }
        _ => &args[2..],
    };
    if pairs.len() % 2 != 0 {
        return Err(FnError::new(
            "px.script_reference: 'args' must be passed as key, value pairs",
        ));
    }
    let mut keys = Vec::new();
    let mut inputs = vec![label.expr(), script.expr()];
    for pair in pairs.chunks(2) {
        let key = pair[0].literal_str().ok_or_else(|| {
            FnError::new("px.script_reference: the keys of 'args' must be string literals")
        })?;
        keys.push(key.to_string());
        inputs.push(pair[1].expr());
    }
    let kinds = vec![In::Str; inputs.len()];
    let expr = rowwise(inputs, &kinds, move |r| {
        let mut out = String::from("{\"label\":");
        write_string(r.str(0), &mut out);
        out.push_str(",\"script\":");
        write_string(r.str(1), &mut out);
        out.push_str(",\"args\":{");
        for (n, key) in keys.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            write_string(key, &mut out);
            out.push(':');
            write_string(r.str(n + 2), &mut out);
        }
        out.push_str("}}");
        out
    });
    Ok(TypedExpr::new(expr, PxType::String).with_semantic(SemanticType::ScriptReference))
}

pub fn defs() -> Vec<FunctionDef> {
    vec![
        FunctionDef {
            name: "select",
            kind: FunctionKind::Scalar(select),
            params: const { &[
                Param::new("s", BOOL),
                Param::new("v1", ANY),
                Param::new("v2", ANY),
            ] },
            returns: "same as v1",
            doc: "v1 where s is true, v2 elsewhere (both are evaluated).",
            example: Example {
                input: "px.select(px.contains('abc', 'b'), 'yes', 'no')",
                output: "\"yes\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "equals_any",
            kind: FunctionKind::Scalar(equals_any),
            params: const { &[Param::new("value", ANY), Param::list("comparisons", ANY)] },
            returns: "BOOLEAN",
            doc: "Whether the value equals any element of the list.",
            example: Example {
                input: "px.equals_any('10.0.0.2', ['10.0.0.1', '10.0.0.2'])",
                output: "true",
            },
            pure: true,
        },
        FunctionDef {
            name: "script_reference",
            kind: FunctionKind::Scalar(script_reference),
            params: const { &[
                Param::new("label", STRING),
                Param::new("script", STRING),
                Param::dict("args", STRING, "{}"),
            ] },
            returns: "STRING",
            doc: "A link to run a PxL script with arguments, as JSON {\"label\", \"script\", \"args\"} (ST_SCRIPT_REFERENCE).",
            example: Example {
                input: "px.script_reference('ns1', 'px/namespace', {'namespace': 'ns1', 'start_time': '-5m'})",
                output: r#""{\"label\":\"ns1\",\"script\":\"px/namespace\",\"args\":{\"namespace\":\"ns1\",\"start_time\":\"-5m\"}}""#,
            },
            pure: true,
        },
    ]
}
