//! The compiler's entry point: script text (+ optional vis.json and flags)
//! → [`CompiledScript`], one named lazy plan per output table.

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::{IdxSize, LazyFrame};
use scry_stdlib::{Literal, MetadataProvider, NoMetadata};

use crate::ast::{ExprKind, FuncDef, Stmt};
use crate::catalog::TableSource;
use crate::diag::{near_name, Diagnostic, Span};
use crate::eval::{err, Interpreter};
use crate::value::{ColumnInfo, Value};
use crate::vis::VisSpec;

/// Pixie's default cap on rows per output table.
pub const DEFAULT_MAX_OUTPUT_ROWS: usize = 10_000;

#[derive(Clone)]
pub struct CompileOptions {
    /// "Now" in ns since the epoch; relative times resolve against it.
    pub now_ns: i64,
    /// Script arguments from `-- --name=value`, in order.
    pub args: Vec<(String, String)>,
    /// The vis.json beside the script: when present, function mode.
    pub vis: Option<VisSpec>,
    /// The script's name for messages (a path or `px/name`).
    pub origin: Option<String>,
    pub metadata: Arc<dyn MetadataProvider>,
}

impl CompileOptions {
    pub fn new(now_ns: i64) -> Self {
        CompileOptions {
            now_ns,
            args: Vec::new(),
            vis: None,
            origin: None,
            metadata: Arc::new(NoMetadata),
        }
    }

    /// Options with "now" taken from the system clock.
    pub fn now() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        Self::new(now)
    }
}

/// One output table: its name, plan (row cap applied) and columns.
#[derive(Clone)]
pub struct CompiledOutput {
    pub name: String,
    pub plan: LazyFrame,
    pub columns: Vec<ColumnInfo>,
}

#[derive(Clone)]
pub struct CompiledScript {
    pub outputs: Vec<CompiledOutput>,
    pub max_output_rows: usize,
}

impl std::fmt::Debug for CompiledScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.outputs.iter().map(|o| o.name.as_str()).collect();
        write!(f, "CompiledScript{names:?}")
    }
}

impl CompiledScript {
    /// The plans as text, one block per output (`scry compile`, `:explain`).
    pub fn explain(&self, optimized: bool) -> String {
        let mut out = String::new();
        for o in &self.outputs {
            let cols: Vec<String> = o
                .columns
                .iter()
                .map(|c| format!("{}:{}", c.name, c.dtype))
                .collect();
            out.push_str(&format!("== output {} [{}]\n", o.name, cols.join(", ")));
            let plan = if optimized {
                o.plan.describe_optimized_plan()
            } else {
                o.plan.describe_plan()
            };
            match plan {
                Ok(p) => out.push_str(&p),
                Err(e) => out.push_str(&format!("(plan unavailable: {e})")),
            }
            out.push('\n');
        }
        out
    }
}

/// Compile a script against a table source.
pub fn compile(
    src: &str,
    source: &dyn TableSource,
    opts: &CompileOptions,
) -> Result<CompiledScript, Diagnostic> {
    let text: Arc<str> = Arc::from(src);
    compile_inner(src, source, opts).map_err(|d| d.with_source(&text, opts.origin.as_deref()))
}

fn compile_inner(
    src: &str,
    source: &dyn TableSource,
    opts: &CompileOptions,
) -> Result<CompiledScript, Diagnostic> {
    let module = crate::parser::parse(src)?;
    let mut max_rows = DEFAULT_MAX_OUTPUT_ROWS;
    for (key, value, span) in &module.flags {
        if key == "max_output_rows_per_table" {
            max_rows = value.parse::<usize>().map_err(|_| {
                err(
                    "flag",
                    *span,
                    format!("max_output_rows_per_table must be a positive integer, got '{value}'"),
                )
            })?;
        }
    }
    let env = scry_stdlib::Env {
        now_ns: opts.now_ns,
        metadata: opts.metadata.clone(),
    };
    let mut interp = Interpreter::new(source, env);
    match &opts.vis {
        None => {
            if let Some((name, _)) = opts.args.first() {
                return Err(err(
                    "argument",
                    Span::default(),
                    format!("unknown argument --{name}: this script takes no arguments"),
                )
                .with_hint("arguments come from the vis.json beside a script"));
            }
            interp.exec_module(&module)?;
        }
        Some(vis) => {
            let values = resolve_variables(vis, &opts.args)?;
            interp.function_mode = true;
            interp.exec_module(&module)?;
            for (output, func) in vis.calls() {
                let def = match interp.globals.get(&func.name) {
                    Some(Value::UserFunction(d)) => d.clone(),
                    _ => {
                        return Err(err(
                            "vis",
                            Span::default(),
                            format!(
                                "vis.json calls '{}', which the script does not define",
                                func.name
                            ),
                        ))
                    }
                };
                let mut args = HashMap::new();
                for a in &func.args {
                    let raw = match (&a.variable, &a.value) {
                        (Some(var), _) => values.get(var).cloned().ok_or_else(|| {
                            err(
                                "vis",
                                Span::default(),
                                format!("vis.json uses undeclared variable '{var}'"),
                            )
                        })?,
                        (None, Some(v)) => v.clone(),
                        (None, None) => String::new(),
                    };
                    let param = def
                        .params
                        .iter()
                        .find(|p| p.name == a.name)
                        .ok_or_else(|| {
                            err(
                                "vis",
                                def.span,
                                format!(
                                    "vis.json passes '{}' to {}(), which has no such parameter",
                                    a.name, def.name
                                ),
                            )
                        })?;
                    args.insert(a.name.clone(), convert_arg(&def, param, &raw)?);
                }
                match interp.call_user(&def, args)? {
                    Value::Frame(f) => interp.add_output(output, (*f).clone()),
                    other => {
                        return Err(err(
                            "vis",
                            def.span,
                            format!(
                                "{}() must return a DataFrame for output '{output}', returned {}",
                                def.name,
                                other.kind_name()
                            ),
                        ))
                    }
                }
            }
        }
    }
    let outputs = interp
        .outputs
        .into_iter()
        .map(|o| CompiledOutput {
            name: o.name,
            plan: o.frame.plan.limit(max_rows as IdxSize),
            columns: o.frame.columns,
        })
        .collect();
    Ok(CompiledScript {
        outputs,
        max_output_rows: max_rows,
    })
}

/// Values of the vis variables: the flags given, else the defaults. Unknown
/// flags and missing required ones are errors that list the valid flags.
fn resolve_variables(
    vis: &VisSpec,
    args: &[(String, String)],
) -> Result<HashMap<String, String>, Diagnostic> {
    let valid = || {
        let flags: Vec<String> = vis
            .variables
            .iter()
            .map(|v| format!("--{}", v.name))
            .collect();
        if flags.is_empty() {
            "this script takes no arguments".to_string()
        } else {
            format!("valid flags: {}", flags.join(", "))
        }
    };
    let mut values = HashMap::new();
    for (name, value) in args {
        let Some(var) = vis.variables.iter().find(|v| &v.name == name) else {
            let mut d = err(
                "argument",
                Span::default(),
                format!("unknown argument --{name}"),
            );
            d = match near_name(name, vis.variables.iter().map(|v| v.name.as_str())) {
                Some(n) => d.with_hint(format!("did you mean --{n}? {}", valid())),
                None => d.with_hint(valid()),
            };
            return Err(d);
        };
        if !var.valid_values.is_empty() && !var.valid_values.contains(value) {
            return Err(err(
                "argument",
                Span::default(),
                format!(
                    "--{name}={value} is not one of: {}",
                    var.valid_values.join(", ")
                ),
            ));
        }
        values.insert(name.clone(), value.clone());
    }
    for var in &vis.variables {
        if !values.contains_key(&var.name) {
            match &var.default_value {
                Some(d) => {
                    values.insert(var.name.clone(), d.clone());
                }
                None => {
                    return Err(err(
                        "argument",
                        Span::default(),
                        format!("missing required argument --{}", var.name),
                    )
                    .with_hint(valid()))
                }
            }
        }
    }
    Ok(values)
}

/// Convert a flag's text by the parameter's annotation (`int`, `float`,
/// `bool`, `str`, `px.Time` …; unannotated means string).
fn convert_arg(def: &FuncDef, param: &crate::ast::Param, raw: &str) -> Result<Value, Diagnostic> {
    let ann = match param.annotation.as_ref().map(|a| &a.kind) {
        Some(ExprKind::Name(n)) => n.as_str(),
        Some(ExprKind::Attribute(_, n)) => n.as_str(),
        _ => "str",
    };
    let bad = |what: &str| {
        err(
            "argument",
            param.span,
            format!(
                "--{}={raw} is not {what} (parameter of {}())",
                param.name, def.name
            ),
        )
    };
    Ok(match ann {
        "int" => Value::Lit(Literal::Int(raw.trim().parse().map_err(|_| bad("an int"))?)),
        "float" => Value::Lit(Literal::Float(
            raw.trim().parse().map_err(|_| bad("a float"))?,
        )),
        "bool" => Value::Lit(Literal::Bool(
            match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => return Err(bad("a bool")),
            },
        )),
        _ => Value::str(raw),
    })
}

/// The user functions a script defines, for docs and REPL completion.
pub fn defined_functions(module: &crate::ast::Module) -> Vec<&FuncDef> {
    module
        .body
        .iter()
        .filter_map(|s| match s {
            Stmt::Def(d) => Some(d.as_ref()),
            _ => None,
        })
        .collect()
}
