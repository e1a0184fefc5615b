//! Test helpers, used by every test in this crate: build operands from
//! literals, call a registered function, evaluate over small frames, render
//! values the way `--format json` does, and run the registry's examples
//! through a small evaluator of literal PxL calls (`px.f(1, 'a', [..], {..})`).

use polars::prelude::*;

use crate::functions::util::json_number;
use crate::registry::{registry, Env, FnError, FunctionKind, Operand, ParamKind, TypedExpr};
use crate::types::{DataType as PxType, Literal};

/// The instant examples of impure functions assume: 2024-01-01T00:00:00Z.
pub const NOW_NS: i64 = 1_704_067_200_000_000_000;

pub fn env() -> Env {
    Env::new(NOW_NS)
}

pub fn s(v: &str) -> Operand {
    Operand::from_literal(Literal::Str(v.to_string()))
}
pub fn i(v: i64) -> Operand {
    Operand::from_literal(Literal::Int(v))
}
pub fn f(v: f64) -> Operand {
    Operand::from_literal(Literal::Float(v))
}
pub fn b(v: bool) -> Operand {
    Operand::from_literal(Literal::Bool(v))
}
pub fn t(ns: i64) -> Operand {
    Operand::from_literal(Literal::Time(ns))
}

/// Lowers `px.<name>(args)`, which must be a scalar function.
pub fn lower(name: &str, args: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    let def = registry()
        .get(name)
        .unwrap_or_else(|| panic!("px.{name} is not registered"));
    match def.kind {
        FunctionKind::Scalar(lowering) => lowering(args, env),
        _ => panic!("px.{name} is not a scalar function"),
    }
}

/// `px.<name>(args)` on literals, rendered as JSON.
pub fn call(name: &str, args: &[Operand]) -> String {
    let typed = lower(name, args, &env()).unwrap_or_else(|e| panic!("px.{name}: {e}"));
    render_one(&typed)
}

/// The error lowering `px.<name>(args)` reports.
pub fn call_err(name: &str, args: &[Operand]) -> String {
    match lower(name, args, &env()) {
        Ok(_) => panic!("px.{name} lowered but should not have"),
        Err(e) => e.0,
    }
}

/// Evaluates an expression that needs no columns (one row) and renders it.
pub fn render_one(typed: &TypedExpr) -> String {
    let df = DataFrame::empty()
        .lazy()
        .select([typed.expr.clone().alias("out")])
        .collect()
        .unwrap_or_else(|e| panic!("evaluating {:?}: {e}", typed.expr));
    let col = df.column("out").expect("out column");
    assert_eq!(col.len(), 1, "expected one row, got {df}");
    check_dtype(col, typed.dtype);
    render(&col.get(0).expect("row 0"))
}

/// Evaluates `expr` over `df` (a select) and renders every row.
pub fn over(df: &DataFrame, typed: &TypedExpr) -> Vec<String> {
    let out = df
        .clone()
        .lazy()
        .select([typed.expr.clone().alias("out")])
        .collect()
        .unwrap_or_else(|e| panic!("evaluating {:?}: {e}", typed.expr));
    let col = out.column("out").expect("out column");
    check_dtype(col, typed.dtype);
    (0..col.len())
        .map(|i| render(&col.get(i).expect("row")))
        .collect()
}

/// Applies an aggregate to `values` as one group, both without grouping and
/// inside a `group_by`, checks they agree, and renders the result.
pub fn aggregate(name: &str, values: Series) -> String {
    let def = registry().get(name).expect("registered");
    let FunctionKind::Aggregate(lowering) = def.kind else {
        panic!("px.{name} is not an aggregate");
    };
    let dtype = PxType::from_polars(values.dtype()).expect("a PxL type");
    let n = values.len();
    let df = DataFrame::new_infer_height(vec![
        values.with_name("x".into()).into(),
        Series::new("g".into(), vec![1i64; n]).into(),
    ])
    .expect("frame");
    let typed = lowering(&TypedExpr::new(col("x"), dtype)).expect("lowers");
    let plain = df
        .clone()
        .lazy()
        .select([typed.expr.clone().alias("out")])
        .collect()
        .expect("aggregates");
    let grouped = df
        .lazy()
        .group_by([col("g")])
        .agg([typed.expr.clone().alias("out")])
        .collect()
        .expect("aggregates per group");
    let plain_col = plain.column("out").unwrap();
    check_dtype(plain_col, typed.dtype);
    let a = render(&plain_col.get(0).unwrap());
    let g = render(&grouped.column("out").unwrap().get(0).unwrap());
    assert_eq!(a, g, "px.{name}: grouped and ungrouped results differ");
    a
}

fn check_dtype(col: &Column, dtype: PxType) {
    assert_eq!(
        col.dtype(),
        &dtype.to_polars(),
        "the declared type {dtype} does not match the column"
    );
}

/// A value as `--format json` renders it.
pub fn render(v: &AnyValue) -> String {
    match v {
        AnyValue::Null => "null".into(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Int8(i) => i.to_string(),
        AnyValue::Int16(i) => i.to_string(),
        AnyValue::Int32(i) => i.to_string(),
        AnyValue::Int64(i) => i.to_string(),
        AnyValue::UInt8(i) => i.to_string(),
        AnyValue::UInt16(i) => i.to_string(),
        AnyValue::UInt32(i) => i.to_string(),
        AnyValue::UInt64(i) => i.to_string(),
        AnyValue::Float32(x) => json_number(*x as f64),
        AnyValue::Float64(x) => json_number(*x),
        AnyValue::String(s) => serde_json::to_string(s).unwrap(),
        AnyValue::StringOwned(s) => serde_json::to_string(s.as_str()).unwrap(),
        AnyValue::Datetime(ns, _, _) | AnyValue::DatetimeOwned(ns, _, _) => {
            format!("\"{}\"", rfc3339(*ns))
        }
        other => format!("<{other:?}>"),
    }
}

pub fn rfc3339(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns)
        .format("%Y-%m-%dT%H:%M:%S%.9fZ")
        .to_string()
}

fn literal_of(v: &AnyValue) -> Option<Literal> {
    Some(match v {
        AnyValue::Boolean(b) => Literal::Bool(*b),
        AnyValue::Int64(i) => Literal::Int(*i),
        AnyValue::Float64(x) => Literal::Float(*x),
        AnyValue::String(s) => Literal::Str(s.to_string()),
        AnyValue::StringOwned(s) => Literal::Str(s.to_string()),
        AnyValue::Datetime(ns, _, _) | AnyValue::DatetimeOwned(ns, _, _) => Literal::Time(*ns),
        _ => return None,
    })
}

/// A value of the example evaluator.
enum Value {
    One(Operand),
    List(Vec<Operand>),
    Dict(Vec<(String, Operand)>),
}

/// Parses and evaluates literal PxL: calls of `px.*` scalar functions and
/// casts on literals (strings, numbers, booleans, lists, dicts), folding each
/// call to a literal as the compiler does.
pub struct Eval<'a> {
    src: &'a str,
    pos: usize,
    env: Env,
}

impl<'a> Eval<'a> {
    pub fn new(src: &'a str) -> Self {
        Eval {
            src,
            pos: 0,
            env: env(),
        }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.ws();
        if self.rest().starts_with(tok) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &str) -> Result<(), String> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(format!("expected {tok:?} at {:?}", self.rest()))
        }
    }

    fn ident(&mut self) -> String {
        self.ws();
        let end = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest().len());
        let id = self.rest()[..end].to_string();
        self.pos += end;
        id
    }

    /// Evaluates the whole text as one operand.
    pub fn operand(mut self) -> Result<Operand, String> {
        let v = self.value()?;
        self.ws();
        if !self.rest().is_empty() {
            return Err(format!("trailing text {:?}", self.rest()));
        }
        match v {
            Value::One(op) => Ok(op),
            _ => Err("expected a single value".into()),
        }
    }

    /// Evaluates the whole text as a list literal.
    pub fn list(mut self) -> Result<Vec<Operand>, String> {
        match self.value()? {
            Value::List(items) => Ok(items),
            _ => Err("expected a list".into()),
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        let rest = self.rest();
        if rest.starts_with("px.") {
            self.pos += 3;
            return self.call().map(Value::One);
        }
        if self.eat("[") {
            let mut items = Vec::new();
            if !self.eat("]") {
                loop {
                    items.push(self.one()?);
                    if self.eat("]") {
                        break;
                    }
                    self.expect(",")?;
                }
            }
            return Ok(Value::List(items));
        }
        if self.eat("{") {
            let mut pairs = Vec::new();
            if !self.eat("}") {
                loop {
                    let key = match self.one()?.literal {
                        Some(Literal::Str(k)) => k,
                        _ => return Err("dict keys must be strings".into()),
                    };
                    self.expect(":")?;
                    pairs.push((key, self.one()?));
                    if self.eat("}") {
                        break;
                    }
                    self.expect(",")?;
                }
            }
            return Ok(Value::Dict(pairs));
        }
        if rest.starts_with('\'') || rest.starts_with('"') {
            return self.string().map(|s| Value::One(s_op(s)));
        }
        if self.eat("True") {
            return Ok(Value::One(b(true)));
        }
        if self.eat("False") {
            return Ok(Value::One(b(false)));
        }
        self.number().map(Value::One)
    }

    fn one(&mut self) -> Result<Operand, String> {
        match self.value()? {
            Value::One(op) => Ok(op),
            _ => Err("nested lists and dicts are not supported".into()),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.rest().chars().next().ok_or("eof")?;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                self.pos += i + 1;
                return Ok(out);
            }
            if c == '\\' {
                match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, e @ ('\\' | '\'' | '"'))) => out.push(e),
                    Some((_, e)) => {
                        out.push('\\');
                        out.push(e);
                    }
                    None => break,
                }
            } else {
                out.push(c);
            }
        }
        Err("unterminated string".into())
    }

    fn number(&mut self) -> Result<Operand, String> {
        self.ws();
        let end = self
            .rest()
            .char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_digit() || *c == '.' || *c == 'e' || (*i == 0 && *c == '-'))
            })
            .map_or(self.rest().len(), |(i, _)| i);
        let text = &self.rest()[..end];
        let op = if text.contains(['.', 'e']) {
            f(text
                .parse()
                .map_err(|e| format!("bad float {text:?}: {e}"))?)
        } else {
            i(text
                .parse()
                .map_err(|e| format!("bad number {text:?}: {e}"))?)
        };
        self.pos += end;
        Ok(op)
    }

    fn call(&mut self) -> Result<Operand, String> {
        let name = self.ident();
        let def = *registry()
            .get(&name)
            .ok_or_else(|| format!("px.{name} is not registered"))?;
        self.expect("(")?;
        let mut args: Vec<Value> = Vec::new();
        if !self.eat(")") {
            loop {
                args.push(self.value()?);
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        }
        let mut operands = Vec::new();
        for (n, a) in args.into_iter().enumerate() {
            let kind = def.params.get(n).map_or(ParamKind::Value, |p| p.kind);
            match (a, kind) {
                (Value::One(op), ParamKind::Value) => operands.push(op),
                (Value::List(items), ParamKind::List) => operands.extend(items),
                (Value::Dict(pairs), ParamKind::Dict) => {
                    for (k, v) in pairs {
                        operands.push(s_op(k));
                        operands.push(v);
                    }
                }
                _ => return Err(format!("px.{name}: argument {n} has the wrong shape")),
            }
        }
        let typed = match def.kind {
            FunctionKind::Scalar(lowering) => lowering(&operands, &self.env).map_err(|e| e.0)?,
            FunctionKind::SemanticCast(st) => {
                let op = operands.first().ok_or("a cast needs an argument")?;
                op.typed.clone().with_semantic(st)
            }
            _ => return Err(format!("px.{name} cannot be called in an expression")),
        };
        // Fold to a literal, as the compiler folds calls on constants.
        let df = DataFrame::empty()
            .lazy()
            .select([typed.expr.clone().alias("out")])
            .collect()
            .map_err(|e| format!("px.{name}: {e}"))?;
        let col = df.column("out").map_err(|e| e.to_string())?;
        check_dtype(col, typed.dtype);
        let v = col.get(0).map_err(|e| e.to_string())?;
        let literal = literal_of(&v).ok_or_else(|| format!("px.{name}: cannot fold {v:?}"))?;
        let mut op = Operand::from_literal(literal);
        op.typed.semantic = typed.semantic;
        op.typed.dtype = typed.dtype;
        Ok(op)
    }
}

fn s_op(v: String) -> Operand {
    Operand::from_literal(Literal::Str(v))
}

/// Runs an example and renders its result.
pub fn run_example(name: &str) -> Result<String, String> {
    let def = registry().get(name).ok_or("not registered")?;
    match def.kind {
        FunctionKind::Aggregate(_) => {
            let items = Eval::new(def.example.input).list()?;
            let values: Vec<AnyValue> = items
                .iter()
                .map(|op| match op.literal.as_ref() {
                    Some(Literal::Bool(b)) => AnyValue::Boolean(*b),
                    Some(Literal::Int(i)) => AnyValue::Int64(*i),
                    Some(Literal::Float(x)) => AnyValue::Float64(*x),
                    Some(Literal::Str(s)) => AnyValue::StringOwned(s.as_str().into()),
                    _ => AnyValue::Null,
                })
                .collect();
            let series =
                Series::from_any_values("x".into(), &values, true).map_err(|e| e.to_string())?;
            Ok(aggregate(name, series))
        }
        FunctionKind::Scalar(_) | FunctionKind::SemanticCast(_) => {
            let op = Eval::new(def.example.input).operand()?;
            Ok(render_one(&op.typed))
        }
        FunctionKind::Table => Ok(def.example.output.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::registry;

    #[test]
    fn every_function_has_a_doc_and_an_example() {
        for def in registry().iter() {
            assert!(!def.doc.trim().is_empty(), "px.{} has no doc", def.name);
            assert!(
                !def.example.input.trim().is_empty() && !def.example.output.trim().is_empty(),
                "px.{} has no example",
                def.name
            );
        }
    }

    #[test]
    fn every_example_runs_and_gives_its_output() {
        let mut failures = Vec::new();
        for def in registry().iter() {
            match run_example(def.name) {
                Ok(out) if out == def.example.output => {}
                Ok(out) => failures.push(format!(
                    "px.{}: {} gave {out}, the doc says {}",
                    def.name, def.example.input, def.example.output
                )),
                Err(e) => failures.push(format!(
                    "px.{}: {} failed: {e}",
                    def.name, def.example.input
                )),
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn examples_call_the_function_they_document() {
        for def in registry().iter() {
            if matches!(
                def.kind,
                FunctionKind::Scalar(_) | FunctionKind::SemanticCast(_) | FunctionKind::Table
            ) {
                assert!(
                    def.example.input.contains(&format!("px.{}(", def.name)),
                    "the example of px.{} does not call it",
                    def.name
                );
            }
        }
    }

    #[test]
    fn reference_lists_every_function() {
        let text = crate::render_reference();
        for def in registry().iter() {
            assert!(
                text.contains(&format!("### px.{}\n", def.name)),
                "px.{} missing",
                def.name
            );
        }
    }
}
