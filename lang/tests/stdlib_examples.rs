//! Every scalar `px.*` example in the registry (the ones `scry docs`
//! prints), compiled and run by the real compiler inside a script, must give
//! its documented output. (stdlib's own tests check the same examples by
//! lowering the call directly; this checks parsing, argument binding,
//! folding and execution end to end.)

mod fixtures;

use polars::prelude::AnyValue;
use scry_lang::catalog::MemorySource;
use scry_lang::{compile, CompileOptions};
use scry_stdlib::{registry, FunctionKind};

/// The value a documented output stands for, compared by meaning: numbers
/// numerically, times as instants, everything else as JSON text.
fn matches(cell: &AnyValue<'_>, documented: &str) -> bool {
    match cell {
        AnyValue::Boolean(b) => documented == b.to_string(),
        AnyValue::Int64(i) => documented == i.to_string(),
        AnyValue::Float64(x) => documented.parse::<f64>().is_ok_and(|d| {
            d == *x || (d - x).abs() <= 1e-9 * d.abs().max(1.0) || (d.is_nan() && x.is_nan())
        }),
        AnyValue::String(s) => serde_json::to_string(s).is_ok_and(|j| j == documented),
        AnyValue::StringOwned(s) => {
            serde_json::to_string(s.as_str()).is_ok_and(|j| j == documented)
        }
        AnyValue::Datetime(ns, _, _) | AnyValue::DatetimeOwned(ns, _, _) => {
            let text = documented.trim_matches('"');
            scry_lang::time::parse_absolute(text) == Some(*ns)
        }
        _ => false,
    }
}

#[test]
fn every_scalar_example_runs_through_the_compiler() {
    let source = MemorySource::new().with_table(fixtures::http_schema(), fixtures::http_frame());
    let opts = CompileOptions::new(1_704_067_200_000_000_000);
    let mut failures = Vec::new();
    let mut checked = 0;
    for def in registry().iter() {
        if !matches!(
            def.kind,
            FunctionKind::Scalar(_) | FunctionKind::SemanticCast(_)
        ) {
            continue;
        }
        let script = format!(
            "import px\ndf = px.DataFrame('http_events')\ndf = df.head(1)\ndf.out = {}\npx.display(df[['out']])\n",
            def.example.input
        );
        let result = compile(&script, &source, &opts)
            .map_err(|d| d.one_line())
            .and_then(|c| {
                c.outputs[0]
                    .plan
                    .clone()
                    .collect()
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(df) => {
                let cell = df.column("out").and_then(|c| c.get(0));
                match cell {
                    Ok(v) if matches(&v, def.example.output) => checked += 1,
                    Ok(v) => failures.push(format!(
                        "px.{}: {} gave {v:?}, the doc says {}",
                        def.name, def.example.input, def.example.output
                    )),
                    Err(e) => failures.push(format!("px.{}: {e}", def.name)),
                }
            }
            Err(e) => failures.push(format!(
                "px.{}: {} failed: {e}",
                def.name, def.example.input
            )),
        }
    }
    eprintln!("{checked} examples ran through the compiler");
    assert!(
        failures.is_empty(),
        "{} ok, failing:\n{}",
        checked,
        failures.join("\n")
    );
    assert!(checked > 50, "only {checked} examples checked");
}
