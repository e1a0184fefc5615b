//! Symbolic evaluation: runs a script's statements over [`Value`]s. Constants
//! fold; dataframe operations build Polars lazy plans; `px.display` records
//! outputs. Nothing here reads data: tables come from the [`TableSource`],
//! whose scans are lazy.

use std::collections::HashMap;
use std::rc::Rc;

use scry_stdlib::{registry, DataType, Literal, TypedExpr};

use crate::ast::*;
use crate::catalog::TableSource;
use crate::diag::{near_name, Diagnostic, Span};
use crate::ops;
use crate::value::{Builtin, ColumnInfo, Frame, Receiver, Value};

/// Deepest chain of user function calls (guards against runaway recursion).
const MAX_CALL_DEPTH: usize = 64;

pub type EvalResult<T> = Result<T, Diagnostic>;

/// An output table as the script named it.
#[derive(Clone)]
pub struct Output {
    pub name: String,
    pub frame: Frame,
}

pub struct Interpreter<'a> {
    pub(crate) source: &'a dyn TableSource,
    pub(crate) env: scry_stdlib::Env,
    pub(crate) globals: HashMap<String, Value>,
    pub(crate) outputs: Vec<Output>,
    /// In function mode (a vis.json drives the run) `px.display` is a no-op.
    pub(crate) function_mode: bool,
    depth: usize,
}

/// Where assignments go: module globals, or a function call's locals.
pub(crate) struct Scope {
    locals: Option<HashMap<String, Value>>,
}

enum Flow {
    Next,
    Return(Value),
}

pub(crate) fn err(code: &'static str, span: Span, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::new(code, span, msg)
}

impl<'a> Interpreter<'a> {
    pub fn new(source: &'a dyn TableSource, env: scry_stdlib::Env) -> Self {
        Interpreter {
            source,
            env,
            globals: HashMap::new(),
            outputs: Vec::new(),
            function_mode: false,
            depth: 0,
        }
    }

    /// Run a module's top-level statements.
    pub fn exec_module(&mut self, module: &Module) -> EvalResult<()> {
        let mut scope = Scope { locals: None };
        for stmt in &module.body {
            if let Flow::Return(_) = self.exec(stmt, &mut scope)? {
                if let Stmt::Return { span, .. } = stmt {
                    return Err(err("syntax", *span, "'return' outside a function"));
                }
            }
        }
        Ok(())
    }

    fn exec(&mut self, stmt: &Stmt, scope: &mut Scope) -> EvalResult<Flow> {
        match stmt {
            Stmt::Import {
                module,
                alias,
                span,
            } => {
                let value = import_module(module, *span)?;
                let name = alias.clone().unwrap_or_else(|| module.clone());
                self.bind(scope, name, value);
            }
            Stmt::FromImport {
                module,
                names,
                span,
            } => {
                let m = import_module(module, *span)?;
                for (name, alias) in names {
                    let v = self.attribute(&m, name, *span)?;
                    self.bind(scope, alias.clone().unwrap_or_else(|| name.clone()), v);
                }
            }
            Stmt::Assign { target, value, .. } => {
                let v = self.eval(value, scope)?;
                self.assign(target, v, scope)?;
            }
            Stmt::Expr(e) => {
                self.eval(e, scope)?;
            }
            Stmt::Def(f) => self.bind(scope, f.name.clone(), Value::UserFunction(f.clone())),
            Stmt::Return { value, .. } => {
                let v = match value {
                    Some(e) => self.eval(e, scope)?,
                    None => Value::None,
                };
                return Ok(Flow::Return(v));
            }
            Stmt::Pass => {}
        }
        Ok(Flow::Next)
    }

    fn bind(&mut self, scope: &mut Scope, name: String, value: Value) {
        match &mut scope.locals {
            Some(locals) => {
                locals.insert(name, value);
            }
            None => {
                self.globals.insert(name, value);
            }
        }
    }

    fn lookup(&self, name: &str, scope: &Scope, span: Span) -> EvalResult<Value> {
        if let Some(v) = scope.locals.as_ref().and_then(|l| l.get(name)) {
            return Ok(v.clone());
        }
        if let Some(v) = self.globals.get(name) {
            return Ok(v.clone());
        }
        let builtin = match name {
            "str" => Some(Value::Type("str")),
            "int" => Some(Value::Type("int")),
            "float" => Some(Value::Type("float")),
            "bool" => Some(Value::Type("bool")),
            _ => None,
        };
        if let Some(b) = builtin {
            return Ok(b);
        }
        let mut d = err(
            "unknown-name",
            span,
            format!("name '{name}' is not defined"),
        );
        let mut candidates: Vec<&str> = self.globals.keys().map(String::as_str).collect();
        if let Some(l) = &scope.locals {
            candidates.extend(l.keys().map(String::as_str));
        }
        if let Some(near) = near_name(name, candidates) {
            d = d.with_hint(format!("did you mean '{near}'?"));
        } else if name == "px" {
            d = d.with_hint("add 'import px' at the top of the script");
        }
        Err(d)
    }

    fn assign(&mut self, target: &Expr, value: Value, scope: &mut Scope) -> EvalResult<()> {
        match &target.kind {
            ExprKind::Name(n) => {
                self.bind(scope, n.clone(), value);
                Ok(())
            }
            ExprKind::Attribute(obj, col) => {
                self.assign_column(obj, col, value, scope, target.span)
            }
            ExprKind::Subscript(obj, index) => match &index.kind {
                ExprKind::Str(col) => self.assign_column(obj, col, value, scope, target.span),
                _ => Err(err(
                    "unsupported",
                    index.span,
                    "only df['column'] = … can be assigned through a subscript",
                )),
            },
            _ => Err(err(
                "syntax",
                target.span,
                "cannot assign to this expression",
            )),
        }
    }

    /// `df.col = value`: computes the column and rebinds `df` to the new frame.
    fn assign_column(
        &mut self,
        obj: &Expr,
        col: &str,
        value: Value,
        scope: &mut Scope,
        span: Span,
    ) -> EvalResult<()> {
        let ExprKind::Name(df_name) = &obj.kind else {
            return Err(err(
                "unsupported",
                obj.span,
                "column assignment needs a dataframe variable on the left (df.col = …)",
            ));
        };
        let frame = match self.lookup(df_name, scope, obj.span)? {
            Value::Frame(f) => f,
            other => {
                return Err(err(
                    "type",
                    obj.span,
                    format!("cannot set a column on {}", other.kind_name()),
                ))
            }
        };
        let typed = value.as_typed().ok_or_else(|| {
            err(
                "type",
                span,
                format!(
                    "a column must be an expression or a constant, not {}",
                    value.kind_name()
                ),
            )
        })?;
        let new = crate::frame_ops::with_column(&frame, col, typed);
        self.bind(scope, df_name.clone(), Value::Frame(Rc::new(new)));
        Ok(())
    }

    pub(crate) fn eval(&mut self, e: &Expr, scope: &mut Scope) -> EvalResult<Value> {
        Ok(match &e.kind {
            ExprKind::Name(n) => self.lookup(n, scope, e.span)?,
            ExprKind::Int(i) => Value::Lit(Literal::Int(*i)),
            ExprKind::Float(f) => Value::Lit(Literal::Float(*f)),
            ExprKind::Str(s) => Value::str(s.clone()),
            ExprKind::Bool(b) => Value::Lit(Literal::Bool(*b)),
            ExprKind::None => Value::None,
            ExprKind::List(items) => Value::List(self.eval_all(items, scope)?),
            ExprKind::Tuple(items) => Value::Tuple(self.eval_all(items, scope)?),
            ExprKind::Dict(items) => {
                let mut out = Vec::new();
                for (k, v) in items {
                    out.push((self.eval(k, scope)?, self.eval(v, scope)?));
                }
                Value::Dict(out)
            }
            ExprKind::Attribute(obj, name) => {
                let o = self.eval(obj, scope)?;
                let name_span = Span::new(e.span.end.saturating_sub(name.len()), e.span.end);
                self.attribute(&o, name, name_span)?
            }
            ExprKind::Call { func, args, kwargs } => {
                let f = self.eval(func, scope)?;
                let args = args
                    .iter()
                    .map(|a| Ok((self.eval(a, scope)?, a.span)))
                    .collect::<EvalResult<Vec<_>>>()?;
                let mut kw = Vec::new();
                for k in kwargs {
                    kw.push((k.name.clone(), self.eval(&k.value, scope)?, k.span));
                }
                let call = Call {
                    span: e.span,
                    func_span: func.span,
                    args,
                    kwargs: kw,
                };
                self.call(f, call)?
            }
            ExprKind::Subscript(obj, index) => {
                let o = self.eval(obj, scope)?;
                let i = self.eval(index, scope)?;
                self.subscript(o, i, index.span, e.span)?
            }
            ExprKind::Binary(op, l, r) => {
                let lv = self.eval(l, scope)?;
                let rv = self.eval(r, scope)?;
                ops::binary(*op, &lv, &rv).map_err(|m| err("type", e.span, m))?
            }
            ExprKind::Unary(op, v) => {
                let val = self.eval(v, scope)?;
                ops::unary(*op, &val).map_err(|m| err("type", e.span, m))?
            }
            ExprKind::Unsupported(what) => {
                return Err(err(
                    "unsupported",
                    e.span,
                    format!("PxL does not support {what}"),
                ))
            }
        })
    }

    fn eval_all(&mut self, items: &[Expr], scope: &mut Scope) -> EvalResult<Vec<Value>> {
        items.iter().map(|i| self.eval(i, scope)).collect()
    }

    pub(crate) fn attribute(&mut self, obj: &Value, name: &str, span: Span) -> EvalResult<Value> {
        match obj {
            Value::Module("px") => px_attribute(name, span),
            Value::Module(_) => Ok(Value::Builtin(Builtin::Ignored)),
            Value::Frame(f) => {
                if let Some(m) = FRAME_METHODS.iter().find(|m| **m == name) {
                    return Ok(Value::Method(Receiver::Frame(f.clone()), m));
                }
                if name == "ctx" {
                    return Ok(Value::Ctx(f.clone()));
                }
                crate::frame_ops::column(f, name, span).map(Value::Column)
            }
            Value::GroupBy(f, keys) if name == "agg" => Ok(Value::Method(
                Receiver::GroupBy(f.clone(), keys.clone()),
                "agg",
            )),
            other => Err(err(
                "unknown-attribute",
                span,
                format!("{} has no attribute '{name}'", other.kind_name()),
            )),
        }
    }

    fn subscript(
        &mut self,
        obj: Value,
        index: Value,
        ispan: Span,
        span: Span,
    ) -> EvalResult<Value> {
        match (&obj, &index) {
            (Value::Frame(f), Value::Lit(Literal::Str(col))) => {
                crate::frame_ops::column(f, col, ispan).map(Value::Column)
            }
            (Value::Frame(f), Value::List(items) | Value::Tuple(items)) => {
                let names = string_list(items, ispan, "columns")?;
                crate::frame_ops::select(f, &names, ispan).map(|f| Value::Frame(Rc::new(f)))
            }
            (Value::Frame(f), Value::Column(mask)) => {
                if mask.dtype != DataType::Boolean {
                    return Err(err(
                        "type",
                        ispan,
                        format!("a filter needs a BOOLEAN expression, got {}", mask.dtype),
                    ));
                }
                Ok(Value::Frame(Rc::new(crate::frame_ops::filter(
                    f,
                    mask.expr.clone(),
                ))))
            }
            (Value::Frame(f), Value::Lit(Literal::Bool(b))) => Ok(Value::Frame(Rc::new(
                crate::frame_ops::filter(f, polars::prelude::lit(*b)),
            ))),
            (Value::Ctx(f), Value::Lit(Literal::Str(key))) => {
                crate::frame_ops::ctx(f, key, ispan, &self.env).map(Value::Column)
            }
            (Value::List(items) | Value::Tuple(items), Value::Lit(Literal::Int(i))) => {
                let idx = if *i < 0 { items.len() as i64 + i } else { *i };
                items
                    .get(usize::try_from(idx).unwrap_or(usize::MAX))
                    .cloned()
                    .ok_or_else(|| err("index", ispan, "index out of range"))
            }
            (Value::Dict(items), key) => items
                .iter()
                .find(|(k, _)| values_equal(k, key))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| err("index", ispan, "key not found in dict")),
            _ => Err(err(
                "type",
                span,
                format!(
                    "cannot index {} with {}",
                    obj.kind_name(),
                    index.kind_name()
                ),
            )),
        }
    }

    pub(crate) fn call(&mut self, f: Value, call: Call) -> EvalResult<Value> {
        match f {
            Value::Builtin(b) => self.call_builtin(b, call),
            Value::StdFunction(def) => crate::calls::call_std(self, def, call),
            Value::Method(recv, name) => crate::frame_ops::call_method(self, recv, name, call),
            Value::UserFunction(def) => {
                let args = bind_user_args(&def, call)?;
                self.call_user(&def, args)
            }
            other => Err(err(
                "type",
                call.func_span,
                format!("{} is not callable", other.kind_name()),
            )),
        }
    }

    /// Call a user `def` with its arguments bound by name.
    pub fn call_user(&mut self, def: &FuncDef, args: HashMap<String, Value>) -> EvalResult<Value> {
        if self.depth >= MAX_CALL_DEPTH {
            return Err(err(
                "recursion",
                def.span,
                format!("calls nested deeper than {MAX_CALL_DEPTH} (recursive function?)"),
            ));
        }
        self.depth += 1;
        let mut scope = Scope { locals: Some(args) };
        let mut result = Value::None;
        for stmt in &def.body {
            match self.exec(stmt, &mut scope) {
                Ok(Flow::Next) => {}
                Ok(Flow::Return(v)) => {
                    result = v;
                    break;
                }
                Err(e) => {
                    self.depth -= 1;
                    return Err(e);
                }
            }
        }
        self.depth -= 1;
        Ok(result)
    }

    fn call_builtin(&mut self, b: Builtin, call: Call) -> EvalResult<Value> {
        match b {
            Builtin::DataFrame => crate::frame_ops::dataframe(self, call),
            Builtin::Display | Builtin::Debug => {
                let mut a = Args::new(
                    call,
                    if b == Builtin::Display {
                        "px.display"
                    } else {
                        "px.debug"
                    },
                    &["df", "name", "cols"],
                )?;
                let (df, dspan) = a.required("df")?;
                let Value::Frame(frame) = df else {
                    return Err(err(
                        "type",
                        dspan,
                        format!("px.display needs a DataFrame, got {}", df.kind_name()),
                    ));
                };
                let name = match a.optional("name") {
                    Some((Value::Lit(Literal::Str(s)), _)) => s,
                    Some((v, s)) => {
                        return Err(err(
                            "type",
                            s,
                            format!("name must be a string, got {}", v.kind_name()),
                        ))
                    }
                    None => "output".to_string(),
                };
                if !self.function_mode {
                    let name = if b == Builtin::Debug {
                        format!("_{name}")
                    } else {
                        name
                    };
                    self.add_output(name, (*frame).clone());
                }
                Ok(Value::None)
            }
            Builtin::Ignored => Ok(Value::None),
        }
    }

    /// Record an output, renaming on a clash: `name`, `name_1`, `name_2` …
    pub(crate) fn add_output(&mut self, name: String, frame: Frame) {
        let mut unique = name.clone();
        let mut n = 1;
        while self.outputs.iter().any(|o| o.name == unique) {
            unique = format!("{name}_{n}");
            n += 1;
        }
        self.outputs.push(Output {
            name: unique,
            frame,
        });
    }
}

/// The methods a dataframe has (besides its columns and `ctx`).
const FRAME_METHODS: &[&str] = &[
    "groupby", "agg", "merge", "append", "drop", "head", "stream", "filter",
];

fn import_module(module: &str, span: Span) -> EvalResult<Value> {
    match module {
        "px" => Ok(Value::Module("px")),
        "pxviews" | "pxtrace" => Ok(Value::Module("pxviews")),
        other => Err(
            err("unknown-module", span, format!("no module named '{other}'"))
                .with_hint("PxL scripts import px"),
        ),
    }
}

/// `px.<name>`.
fn px_attribute(name: &str, span: Span) -> EvalResult<Value> {
    let builtin = match name {
        "DataFrame" => Some(Value::Builtin(Builtin::DataFrame)),
        "display" => Some(Value::Builtin(Builtin::Display)),
        "debug" => Some(Value::Builtin(Builtin::Debug)),
        "vis" | "pxtrace" | "viz" => Some(Value::Module("px.vis")),
        "Time" => Some(Value::Type("time")),
        "Duration" => Some(Value::Type("duration")),
        "Types" | "DataType" => Some(Value::Module("px.types")),
        _ => None,
    };
    if let Some(b) = builtin {
        return Ok(b);
    }
    if let Some(def) = registry().get(name) {
        return Ok(Value::StdFunction(def));
    }
    let names = registry().names().chain(["DataFrame", "display", "debug"]);
    let mut d = err(
        "unknown-function",
        span,
        format!("px has no function '{name}'"),
    );
    if let Some(near) = near_name(name, names) {
        d = d.with_hint(format!("did you mean 'px.{near}'?"));
    } else {
        d = d.with_hint("`scry docs` lists the px functions");
    }
    Err(d)
}

pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Lit(x), Value::Lit(y)) => x == y,
        (Value::None, Value::None) => true,
        _ => false,
    }
}

/// A list of strings, as in `select=[...]` or `df[['a', 'b']]`.
pub(crate) fn string_list(items: &[Value], span: Span, what: &str) -> EvalResult<Vec<String>> {
    items
        .iter()
        .map(|v| match v {
            Value::Lit(Literal::Str(s)) => Ok(s.clone()),
            other => Err(err(
                "type",
                span,
                format!("{what} must be strings, got {}", other.kind_name()),
            )),
        })
        .collect()
}

/// The evaluated arguments of one call.
pub struct Call {
    pub span: Span,
    pub func_span: Span,
    pub args: Vec<(Value, Span)>,
    pub kwargs: Vec<(String, Value, Span)>,
}

/// Arguments bound to named parameters, Python style.
pub(crate) struct Args {
    what: String,
    call_span: Span,
    bound: Vec<(&'static str, Option<(Value, Span)>)>,
}

impl Args {
    pub fn new(call: Call, what: &str, params: &[&'static str]) -> EvalResult<Args> {
        let mut bound: Vec<(&'static str, Option<(Value, Span)>)> =
            params.iter().map(|p| (*p, None)).collect();
        if call.args.len() > params.len() {
            let extra = &call.args[params.len()];
            return Err(err(
                "argument",
                extra.1,
                format!(
                    "{what} takes at most {} arguments, got {}",
                    params.len(),
                    call.args.len()
                ),
            ));
        }
        for (i, a) in call.args.into_iter().enumerate() {
            bound[i].1 = Some(a);
        }
        for (name, v, span) in call.kwargs {
            match bound.iter_mut().find(|(p, _)| *p == name) {
                Some((_, slot @ None)) => *slot = Some((v, span)),
                Some(_) => return Err(err("argument", span, format!("{what} got '{name}' twice"))),
                None => {
                    let mut d = err("argument", span, format!("{what} has no argument '{name}'"));
                    d = match near_name(&name, params.iter().copied()) {
                        Some(n) => d.with_hint(format!("did you mean '{n}'?")),
                        None => d.with_hint(format!("its arguments are: {}", params.join(", "))),
                    };
                    return Err(d);
                }
            }
        }
        Ok(Args {
            what: what.to_string(),
            call_span: call.span,
            bound,
        })
    }

    pub fn optional(&mut self, name: &str) -> Option<(Value, Span)> {
        self.bound
            .iter_mut()
            .find(|(p, _)| *p == name)
            .and_then(|(_, v)| v.take())
            .filter(|(v, _)| !matches!(v, Value::None))
    }

    pub fn required(&mut self, name: &str) -> EvalResult<(Value, Span)> {
        let span = self.call_span;
        let what = self.what.clone();
        self.optional(name).ok_or_else(|| {
            err(
                "argument",
                span,
                format!("{what} needs the argument '{name}'"),
            )
        })
    }
}

fn bind_user_args(def: &FuncDef, call: Call) -> EvalResult<HashMap<String, Value>> {
    let mut out = HashMap::new();
    if call.args.len() > def.params.len() {
        return Err(err(
            "argument",
            call.args[def.params.len()].1,
            format!(
                "{}() takes {} arguments, got {}",
                def.name,
                def.params.len(),
                call.args.len()
            ),
        ));
    }
    for (p, (v, _)) in def.params.iter().zip(call.args) {
        out.insert(p.name.clone(), v);
    }
    for (name, v, span) in call.kwargs {
        if !def.params.iter().any(|p| p.name == name) {
            return Err(err(
                "argument",
                span,
                format!("{}() has no argument '{name}'", def.name),
            ));
        }
        if out.insert(name.clone(), v).is_some() {
            return Err(err(
                "argument",
                span,
                format!("{}() got '{name}' twice", def.name),
            ));
        }
    }
    if let Some(missing) = def.params.iter().find(|p| !out.contains_key(&p.name)) {
        return Err(err(
            "argument",
            call.span,
            format!("{}() needs the argument '{}'", def.name, missing.name),
        ));
    }
    Ok(out)
}

/// A column of a frame's schema as a typed expression.
pub(crate) fn column_expr(c: &ColumnInfo) -> TypedExpr {
    TypedExpr {
        expr: polars::prelude::col(c.name.as_str()),
        dtype: c.dtype,
        semantic: c.semantic,
    }
}
