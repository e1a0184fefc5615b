//! Function mode: a vis.json beside the script names the functions to call
//! and the variables that become `--flags`.

mod fixtures;

use fixtures::*;
use scry_lang::vis::VisSpec;
use scry_lang::{compile, CompileOptions};

const SCRIPT: &str = r#"
import px

def requests(start_time: str, min_status: int):
    df = px.DataFrame('http_events', start_time=start_time)
    df = df[df.resp_status >= min_status]
    return df[['req_path', 'resp_status']]

def summary(start_time: str):
    df = px.DataFrame('http_events', start_time=start_time)
    return df.agg(n=('latency', px.count))

px.display(requests('-1h', 0), 'ignored_in_function_mode')
"#;

const VIS: &str = r#"{
  "variables": [
    {"name": "start_time", "type": "PX_STRING", "defaultValue": "-5m"},
    {"name": "min_status", "type": "PX_INT64", "defaultValue": "400"}
  ],
  "globalFuncs": [
    {"outputName": "summary", "func": {"name": "summary", "args": [{"name": "start_time", "variable": "start_time"}]}}
  ],
  "widgets": [
    {"name": "Failing requests", "func": {"name": "requests", "args": [
      {"name": "start_time", "variable": "start_time"},
      {"name": "min_status", "variable": "min_status"}]}},
    {"name": "Summary table", "globalFuncOutputName": "summary"}
  ]
}"#;

fn opts(args: &[(&str, &str)]) -> CompileOptions {
    let mut o = CompileOptions::new(NOW);
    o.vis = Some(VisSpec::parse(VIS).unwrap());
    o.args = args
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    o
}

#[test]
fn widgets_and_global_funcs_become_named_outputs() {
    let script = compile(SCRIPT, &source(), &opts(&[("min_status", "500")])).unwrap();
    let names: Vec<&str> = script.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["summary", "Failing requests"]);
    let failing = script.outputs[1].plan.clone().collect().unwrap();
    assert_eq!(failing.height(), 2, "{failing}");
}

#[test]
fn flags_are_converted_by_annotation() {
    let err = compile(SCRIPT, &source(), &opts(&[("min_status", "five")])).unwrap_err();
    assert!(
        err.one_line().contains("--min_status=five is not an int"),
        "{}",
        err.one_line()
    );
}

#[test]
fn unknown_flags_list_the_valid_ones() {
    let err = compile(SCRIPT, &source(), &opts(&[("start", "-1m")])).unwrap_err();
    let line = err.one_line();
    assert!(line.contains("unknown argument --start"), "{line}");
    assert!(line.contains("--start_time, --min_status"), "{line}");
}

#[test]
fn missing_required_variable_is_an_error() {
    let vis = r#"{"variables": [{"name": "svc", "type": "PX_STRING"}], "widgets": []}"#;
    let mut o = CompileOptions::new(NOW);
    o.vis = Some(VisSpec::parse(vis).unwrap());
    let err = compile("import px\n", &source(), &o).unwrap_err();
    assert!(err.one_line().contains("missing required argument --svc"));
}
