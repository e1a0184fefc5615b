//! Dataframe operations with Pixie's semantics, each turning a [`Frame`]
//! into a new one: `px.DataFrame`, column access and assignment, filter,
//! projection, groupby/agg, merge, append, drop, head, and `df.ctx[...]`.

use std::rc::Rc;

use polars::prelude::*;
use scry_stdlib::{registry, DataType as PxType, FunctionKind, Literal, Operand, TypedExpr};

use crate::catalog::TimeRange;
use crate::diag::{near_name, Diagnostic, Span};
use crate::eval::{column_expr, err, string_list, Args, Call, EvalResult, Interpreter};
use crate::value::{ColumnInfo, Frame, Receiver, Value};

/// `px.DataFrame(table, select=[], start_time=None, end_time=None)`.
pub fn dataframe(it: &mut Interpreter<'_>, call: Call) -> EvalResult<Value> {
    let mut a = Args::new(
        call,
        "px.DataFrame",
        &["table", "select", "start_time", "end_time"],
    )?;
    let (table, tspan) = a.required("table")?;
    let Value::Lit(Literal::Str(table)) = table else {
        return Err(err("type", tspan, "table must be a string naming a table"));
    };
    let Some(schema) = it.source.table(&table) else {
        let names = it.source.table_names();
        let mut d = err(
            "unknown-table",
            tspan,
            format!("table '{table}' does not exist"),
        );
        d = match near_name(&table, names.iter().map(String::as_str)) {
            Some(n) => d.with_hint(format!("did you mean '{n}'?")),
            None => d.with_hint("px.GetTables() lists the tables"),
        };
        return Err(d);
    };
    let range = TimeRange {
        start_ns: a
            .optional("start_time")
            .map(|(v, s)| time_arg(&v, s, it.env.now_ns))
            .transpose()?,
        end_ns: a
            .optional("end_time")
            .map(|(v, s)| time_arg(&v, s, it.env.now_ns))
            .transpose()?,
    };
    let plan = it
        .source
        .scan(&table, range)
        .map_err(|e| err("table", tspan, format!("cannot read table '{table}': {e}")))?;
    let frame = Frame {
        plan,
        columns: schema
            .columns
            .iter()
            .map(|c| ColumnInfo {
                name: c.name.clone(),
                dtype: c.dtype,
                semantic: c.semantic,
            })
            .collect(),
    };
    let frame = match a.optional("select") {
        Some((Value::List(items), s)) if !items.is_empty() => {
            let names = string_list(&items, s, "select")?;
            select(&frame, &names, s)?
        }
        Some((Value::List(_), _)) | None => frame,
        Some((v, s)) => {
            return Err(err(
                "type",
                s,
                format!(
                    "select must be a list of column names, got {}",
                    v.kind_name()
                ),
            ))
        }
    };
    Ok(Value::Frame(Rc::new(frame)))
}

/// A time bound: `'-5m'` (relative to now), an absolute time string, integer
/// nanoseconds since the epoch, or a time value such as `px.now() - px.minutes(5)`.
pub fn time_arg(v: &Value, span: Span, now_ns: i64) -> EvalResult<i64> {
    // An expression of constants only (`px.now() - px.minutes(5)`) folds.
    let folded = match v {
        Value::Column(t) => crate::calls::fold(t).map(Value::Lit),
        _ => None,
    };
    match folded.as_ref().unwrap_or(v) {
        Value::Lit(Literal::Int(i)) | Value::Lit(Literal::Time(i)) => Ok(*i),
        Value::Lit(Literal::Str(s)) => {
            let t = s.trim();
            if t.starts_with('-') || t.starts_with('+') {
                crate::time::parse_duration(t)
                    .map(|d| now_ns + d)
                    .ok_or_else(|| {
                        err("time", span, format!("'{s}' is not a relative time"))
                            .with_hint("write it like '-5m' (units: ms, s, m, h, d)")
                    })
            } else if t == "now" {
                Ok(now_ns)
            } else {
                crate::time::parse_absolute(t).ok_or_else(|| {
                    err("time", span, format!("'{s}' is not a time")).with_hint(
                        "use a relative time like '-5m' or RFC 3339 like '2024-01-02T03:04:05Z'",
                    )
                })
            }
        }
        other => Err(err(
            "time",
            span,
            format!(
                "a time must be a string like '-5m', a time, or int nanoseconds; got {}",
                other.kind_name()
            ),
        )),
    }
}

/// `df.col` / `df['col']`.
pub fn column(frame: &Frame, name: &str, span: Span) -> EvalResult<TypedExpr> {
    match frame.column(name) {
        Some(c) => Ok(column_expr(c)),
        None => Err(unknown_column(frame, name, span)),
    }
}

pub fn unknown_column(frame: &Frame, name: &str, span: Span) -> Diagnostic {
    let d = err(
        "unknown-column",
        span,
        format!("column '{name}' does not exist"),
    );
    match near_name(name, frame.column_names()) {
        Some(n) => d.with_hint(format!("did you mean '{n}'?")),
        None => {
            let names: Vec<&str> = frame.column_names().collect();
            d.with_hint(format!("columns are: {}", names.join(", ")))
        }
    }
}

/// `df[['a', 'b']]`: those columns, in that order.
pub fn select(frame: &Frame, names: &[String], span: Span) -> EvalResult<Frame> {
    let mut columns = Vec::with_capacity(names.len());
    for n in names {
        let c = frame
            .column(n)
            .ok_or_else(|| unknown_column(frame, n, span))?;
        if columns.iter().any(|x: &ColumnInfo| x.name == *n) {
            return Err(err(
                "argument",
                span,
                format!("column '{n}' selected twice"),
            ));
        }
        columns.push(c.clone());
    }
    Ok(Frame {
        plan: frame.plan.clone().select(cols_of(&columns)),
        columns,
    })
}

fn cols_of(columns: &[ColumnInfo]) -> Vec<Expr> {
    columns.iter().map(|c| col(c.name.as_str())).collect()
}

pub fn filter(frame: &Frame, mask: Expr) -> Frame {
    Frame {
        plan: frame.plan.clone().filter(mask),
        columns: frame.columns.clone(),
    }
}

/// `df.name = expr`: a new column goes last; reassigning moves it last too.
pub fn with_column(frame: &Frame, name: &str, value: TypedExpr) -> Frame {
    let position = frame.columns.iter().position(|c| c.name == name);
    let mut columns = frame.columns.clone();
    if let Some(p) = position {
        columns.remove(p);
    }
    columns.push(ColumnInfo {
        name: name.to_string(),
        dtype: value.dtype,
        semantic: value.semantic,
    });
    let mut plan = frame.plan.clone().with_column(value.expr.alias(name));
    if position.is_some_and(|p| p + 1 != frame.columns.len()) {
        plan = plan.select(cols_of(&columns));
    }
    Frame { plan, columns }
}

/// `df.ctx['key']`: process and Kubernetes context of each row, through the
/// first key column the frame has (`upid`, else a column named like the key).
pub fn ctx(frame: &Frame, key: &str, span: Span, env: &scry_stdlib::Env) -> EvalResult<TypedExpr> {
    let via_upid = match key {
        "upid" => None,
        "pid" => Some("upid_to_pid"),
        "asid" => Some("upid_to_asid"),
        "cmdline" | "cmd" => Some("upid_to_cmdline"),
        "hostname" | "host" | "node" | "node_name" => Some("upid_to_hostname"),
        "container_id" => Some("upid_to_container_id"),
        "container" | "container_name" => Some("upid_to_container_name"),
        "pod" | "pod_name" => Some("upid_to_pod_name"),
        "pod_id" => Some("upid_to_pod_id"),
        "service" | "service_name" => Some("upid_to_service_name"),
        "service_id" => Some("upid_to_service_id"),
        "namespace" => Some("upid_to_namespace"),
        "deployment" | "deployment_name" => Some("upid_to_deployment_name"),
        _ => {
            return Err(err("ctx", span, format!("ctx has no key '{key}'")).with_hint(
                "keys are: upid, pid, cmdline, hostname, container_id, container, pod, service, namespace, node, deployment",
            ))
        }
    };
    if let Some(upid) = frame.column("upid") {
        let upid = column_expr(upid);
        return match via_upid {
            None => Ok(upid),
            Some(f) => apply_named(f, vec![upid], env),
        };
    }
    if let Some(c) = frame.column(key) {
        return Ok(column_expr(c));
    }
    Err(err(
        "ctx",
        span,
        format!("df.ctx['{key}'] needs a 'upid' column, and this dataframe has none"),
    )
    .with_hint("keep upid in the dataframe (select it, or group by it) before using ctx"))
}

/// Apply a registered scalar function by name to column expressions; a
/// function this build does not register yields '' (documented fallback for
/// Kubernetes lookups on a bare host).
fn apply_named(name: &str, args: Vec<TypedExpr>, env: &scry_stdlib::Env) -> EvalResult<TypedExpr> {
    match registry().get(name).map(|d| d.kind) {
        Some(FunctionKind::Scalar(lower)) => {
            let ops: Vec<Operand> = args
                .into_iter()
                .map(|typed| Operand {
                    typed,
                    literal: None,
                })
                .collect();
            lower(&ops, env).map_err(|e| err("ctx", Span::default(), e.0))
        }
        _ => Ok(TypedExpr::new(lit(""), PxType::String)),
    }
}

pub fn call_method(
    it: &mut Interpreter<'_>,
    recv: Receiver,
    name: &'static str,
    call: Call,
) -> EvalResult<Value> {
    let frame = match &recv {
        Receiver::Frame(f) => f.clone(),
        Receiver::GroupBy(f, keys) => {
            return agg(f, Some(keys), call).map(|f| Value::Frame(Rc::new(f)));
        }
    };
    let out = match name {
        "groupby" => {
            let mut a = Args::new(call, "groupby", &["by"])?;
            let (by, span) = a.required("by")?;
            let keys = match by {
                Value::Lit(Literal::Str(s)) => vec![s],
                Value::List(items) | Value::Tuple(items) => {
                    string_list(&items, span, "groupby columns")?
                }
                other => {
                    return Err(err(
                        "type",
                        span,
                        format!(
                            "groupby takes a column name or a list of them, got {}",
                            other.kind_name()
                        ),
                    ))
                }
            };
            for k in &keys {
                if frame.column(k).is_none() {
                    return Err(unknown_column(&frame, k, span));
                }
            }
            return Ok(Value::GroupBy(frame, keys));
        }
        "agg" => agg(&frame, None, call)?,
        "merge" => merge(&frame, call)?,
        "append" => append(&frame, call)?,
        "drop" => {
            let mut a = Args::new(call, "drop", &["columns"])?;
            let (cols, span) = a.required("columns")?;
            let names = match cols {
                Value::Lit(Literal::Str(s)) => vec![s],
                Value::List(items) | Value::Tuple(items) => {
                    string_list(&items, span, "drop columns")?
                }
                other => {
                    return Err(err(
                        "type",
                        span,
                        format!("drop takes column names, got {}", other.kind_name()),
                    ))
                }
            };
            for n in &names {
                if frame.column(n).is_none() {
                    return Err(unknown_column(&frame, n, span));
                }
            }
            let keep: Vec<String> = frame
                .column_names()
                .filter(|c| !names.iter().any(|n| n == c))
                .map(str::to_string)
                .collect();
            select(&frame, &keep, span)?
        }
        "head" => {
            let mut a = Args::new(call, "head", &["n"])?;
            let n = match a.optional("n") {
                None => 5,
                Some((Value::Lit(Literal::Int(n)), _)) if n >= 0 => n,
                Some((v, s)) => {
                    return Err(err(
                        "type",
                        s,
                        format!("head(n) needs a non-negative int, got {}", v.kind_name()),
                    ))
                }
            };
            Frame {
                plan: frame.plan.clone().limit(n as IdxSize),
                columns: frame.columns.clone(),
            }
        }
        "filter" => {
            let mut a = Args::new(call, "filter", &["expr"])?;
            let (mask, span) = a.required("expr")?;
            match mask {
                Value::Column(t) if t.dtype == PxType::Boolean => filter(&frame, t.expr),
                other => {
                    return Err(err(
                        "type",
                        span,
                        format!(
                            "filter needs a BOOLEAN expression, got {}",
                            other.kind_name()
                        ),
                    ))
                }
            }
        }
        // Pixie's streaming mode; a scry query always reads the range it is given.
        "stream" => (*frame).clone(),
        other => unreachable!("frame method {other}"),
    };
    let _ = it;
    Ok(Value::Frame(Rc::new(out)))
}

/// `groupby(keys).agg(out=('col', px.fn), …)`; no keyword arguments means
/// distinct keys; `df.agg(...)` without groupby aggregates the whole frame.
fn agg(frame: &Frame, keys: Option<&Vec<String>>, call: Call) -> EvalResult<Frame> {
    if let Some((_, span)) = call.args.first() {
        return Err(err(
            "argument",
            *span,
            "agg takes keyword arguments: name=('column', px.aggregate)",
        ));
    }
    let mut exprs = Vec::new();
    let mut agg_columns = Vec::new();
    for (name, value, span) in &call.kwargs {
        let (col_name, def) = match value {
            Value::Tuple(items) if items.len() == 2 => match (&items[0], &items[1]) {
                (Value::Lit(Literal::Str(c)), Value::StdFunction(d)) => (c.clone(), *d),
                _ => return Err(agg_shape_error(*span)),
            },
            _ => return Err(agg_shape_error(*span)),
        };
        let FunctionKind::Aggregate(lower) = def.kind else {
            return Err(err(
                "argument",
                *span,
                format!("px.{} is not an aggregate", def.name),
            )
            .with_hint(
                "aggregates are px.count, px.sum, px.mean, px.min, px.max, px.any, px.quantiles",
            ));
        };
        let input = column(frame, &col_name, *span)?;
        let out = lower(&input).map_err(|e| err("type", *span, e.0))?;
        exprs.push(out.expr.alias(name.as_str()));
        agg_columns.push(ColumnInfo {
            name: name.clone(),
            dtype: out.dtype,
            semantic: out.semantic,
        });
    }
    match keys {
        Some(keys) => {
            let key_cols: Vec<ColumnInfo> = keys
                .iter()
                .filter_map(|k| frame.column(k).cloned())
                .collect();
            let key_exprs = cols_of(&key_cols);
            let plan = if exprs.is_empty() {
                frame
                    .plan
                    .clone()
                    .select(key_exprs)
                    .unique(None, UniqueKeepStrategy::Any)
            } else {
                frame.plan.clone().group_by(key_exprs).agg(exprs)
            };
            let mut columns = key_cols;
            columns.extend(agg_columns);
            Ok(Frame { plan, columns })
        }
        None => {
            if exprs.is_empty() {
                return Err(err(
                    "argument",
                    call.span,
                    "agg() without groupby needs at least one aggregate",
                ));
            }
            Ok(Frame {
                plan: frame.plan.clone().select(exprs),
                columns: agg_columns,
            })
        }
    }
}

fn agg_shape_error(span: Span) -> Diagnostic {
    err(
        "argument",
        span,
        "each agg argument must be name=('column', px.aggregate)",
    )
    .with_hint("for example: n=('latency', px.count)")
}

fn names_arg(v: Value, span: Span, what: &str) -> EvalResult<Vec<String>> {
    match v {
        Value::Lit(Literal::Str(s)) => Ok(vec![s]),
        Value::List(items) | Value::Tuple(items) => string_list(&items, span, what),
        other => Err(err(
            "type",
            span,
            format!(
                "{what} must be a column name or a list of them, got {}",
                other.kind_name()
            ),
        )),
    }
}

/// `left.merge(right, how='inner', left_on=[..], right_on=[..], suffixes=['_x', '_y'])`.
/// Both key columns are kept; only names present on both sides get suffixes.
fn merge(left: &Frame, call: Call) -> EvalResult<Frame> {
    let call_span = call.span;
    let mut a = Args::new(
        call,
        "merge",
        &["right", "how", "left_on", "right_on", "suffixes"],
    )?;
    let (right, rspan) = a.required("right")?;
    let Value::Frame(right) = right else {
        return Err(err(
            "type",
            rspan,
            format!(
                "merge needs a DataFrame to join with, got {}",
                right.kind_name()
            ),
        ));
    };
    let how = match a.optional("how") {
        None => JoinType::Inner,
        Some((Value::Lit(Literal::Str(h)), s)) => match h.as_str() {
            "inner" => JoinType::Inner,
            "left" => JoinType::Left,
            "right" => JoinType::Right,
            "outer" | "full" => JoinType::Full,
            other => {
                return Err(err("argument", s, format!("unknown join type '{other}'"))
                    .with_hint("how is one of 'inner', 'left', 'right', 'outer'"))
            }
        },
        Some((v, s)) => {
            return Err(err(
                "type",
                s,
                format!("how must be a string, got {}", v.kind_name()),
            ))
        }
    };
    let (lo, lspan) = a.required("left_on")?;
    let (ro, rospan) = a.required("right_on")?;
    let left_on = names_arg(lo, lspan, "left_on")?;
    let right_on = names_arg(ro, rospan, "right_on")?;
    if left_on.len() != right_on.len() || left_on.is_empty() {
        return Err(err(
            "argument",
            call_span,
            "left_on and right_on must name the same number of columns",
        ));
    }
    let (sx, sy) = match a.optional("suffixes") {
        None => ("_x".to_string(), "_y".to_string()),
        Some((Value::List(items) | Value::Tuple(items), s)) if items.len() == 2 => {
            let v = string_list(&items, s, "suffixes")?;
            (v[0].clone(), v[1].clone())
        }
        Some((_, s)) => {
            return Err(err(
                "type",
                s,
                "suffixes must be two strings, like ['_x', '_y']",
            ))
        }
    };
    let mut key_types = Vec::new();
    for (l, r) in left_on.iter().zip(&right_on) {
        let lc = left
            .column(l)
            .ok_or_else(|| unknown_column(left, l, lspan))?;
        let rc = right
            .column(r)
            .ok_or_else(|| unknown_column(&right, r, rospan))?;
        let compatible = lc.dtype == rc.dtype
            || matches!(
                (lc.dtype, rc.dtype),
                (
                    PxType::String | PxType::Uint128,
                    PxType::String | PxType::Uint128
                )
            );
        if !compatible {
            return Err(err(
                "type",
                call_span,
                format!("cannot join {l} ({}) with {r} ({})", lc.dtype, rc.dtype),
            ));
        }
        key_types.push(lc.dtype);
    }
    let clash = |n: &str| left.column(n).is_some() && right.column(n).is_some();
    let rename = |f: &Frame, suffix: &str| -> (LazyFrame, Vec<ColumnInfo>) {
        let mut columns = f.columns.clone();
        let mut old = Vec::new();
        let mut new = Vec::new();
        for c in &mut columns {
            if clash(&c.name) {
                old.push(c.name.clone());
                c.name = format!("{}{suffix}", c.name);
                new.push(c.name.clone());
            }
        }
        let plan = if old.is_empty() {
            f.plan.clone()
        } else {
            f.plan.clone().rename(old, new, true)
        };
        (plan, columns)
    };
    let (lplan, lcols) = rename(left, &sx);
    let (rplan, rcols) = rename(&right, &sy);
    let renamed = |n: &String, s: &str| {
        if clash(n) {
            format!("{n}{s}")
        } else {
            n.clone()
        }
    };
    let lkeys: Vec<Expr> = left_on
        .iter()
        .map(|n| col(renamed(n, &sx).as_str()))
        .collect();
    let rkeys: Vec<Expr> = right_on
        .iter()
        .map(|n| col(renamed(n, &sy).as_str()))
        .collect();
    let mut columns = lcols;
    columns.extend(rcols);
    if columns
        .iter()
        .enumerate()
        .any(|(i, c)| columns[..i].iter().any(|d| d.name == c.name))
    {
        return Err(err(
            "argument",
            call_span,
            "merge would produce two columns with the same name",
        )
        .with_hint("choose other suffixes"));
    }
    let mut plan = lplan.join(
        rplan,
        lkeys,
        rkeys,
        JoinArgs::new(how.clone()).with_coalesce(JoinCoalesce::KeepColumns),
    );
    if !matches!(how, JoinType::Inner) {
        // No nulls in PxL: rows padded by an outer join get zero values.
        plan = plan.with_columns(
            columns
                .iter()
                .map(|c| col(c.name.as_str()).fill_null(zero_value(c.dtype)))
                .collect::<Vec<_>>(),
        );
    }
    Ok(Frame {
        plan: plan.select(cols_of(&columns)),
        columns,
    })
}

/// The zero value of a type: what PxL shows instead of null.
pub fn zero_value(t: PxType) -> Expr {
    match t {
        PxType::Boolean => lit(false),
        PxType::Int64 => lit(0i64),
        PxType::Float64 => lit(0.0f64),
        PxType::String | PxType::Uint128 => lit(""),
        PxType::Time64Ns => lit(0i64).cast(PxType::Time64Ns.to_polars()),
    }
}

/// `df.append(other)` / `df.append([a, b])`: rows of frames with the same
/// columns, matched by name.
fn append(frame: &Frame, call: Call) -> EvalResult<Frame> {
    let mut a = Args::new(call, "append", &["objs"])?;
    let (objs, span) = a.required("objs")?;
    let others = match objs {
        Value::Frame(f) => vec![f],
        Value::List(items) => items
            .into_iter()
            .map(|v| match v {
                Value::Frame(f) => Ok(f),
                other => Err(err(
                    "type",
                    span,
                    format!("append takes DataFrames, got {}", other.kind_name()),
                )),
            })
            .collect::<EvalResult<Vec<_>>>()?,
        other => {
            return Err(err(
                "type",
                span,
                format!("append takes a DataFrame, got {}", other.kind_name()),
            ))
        }
    };
    let mut plans = vec![frame.plan.clone()];
    for o in others {
        if o.columns.len() != frame.columns.len() {
            return Err(err(
                "schema",
                span,
                format!(
                    "append needs the same columns: this dataframe has {}, the other {}",
                    frame.columns.len(),
                    o.columns.len()
                ),
            ));
        }
        for c in &frame.columns {
            match o.column(&c.name) {
                Some(oc) if oc.dtype == c.dtype => {}
                Some(oc) => {
                    return Err(err(
                        "schema",
                        span,
                        format!(
                            "column '{}' is {} here and {} in the appended dataframe",
                            c.name, c.dtype, oc.dtype
                        ),
                    ))
                }
                None => {
                    return Err(err(
                        "schema",
                        span,
                        format!("the appended dataframe has no column '{}'", c.name),
                    ))
                }
            }
        }
        plans.push(o.plan.clone().select(cols_of(&frame.columns)));
    }
    let plan = concat(plans, UnionArgs::default())
        .map_err(|e| err("schema", span, format!("cannot append: {e}")))?;
    Ok(Frame {
        plan,
        columns: frame.columns.clone(),
    })
}
