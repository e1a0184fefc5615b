//! Golden tests: PxL → results over fixture tables, PxL → plans, and the
//! diagnostics users see for common mistakes.

mod fixtures;

use fixtures::*;
use insta::assert_snapshot;

#[test]
fn filter_and_projection() {
    assert_snapshot!(run(r#"
import px
df = px.DataFrame(table='http_events', start_time='-10s')
df = df[df.resp_status >= 400]
df = df[['req_path', 'resp_status']]
px.display(df, 'errors')
"#));
}

#[test]
fn column_assignment_order_and_float_division() {
    assert_snapshot!(run(r#"
import px
df = px.DataFrame('http_events', select=['req_path', 'latency', 'resp_status'])
df.latency_ms = df.latency / 1000000
df.req_path = px.toupper(df.req_path)
df['half'] = df.resp_status / 2
df = df.head(3)
px.display(df)
"#));
}

#[test]
fn groupby_agg_orders_keys_then_aggregates_in_kwarg_order() {
    assert_snapshot!(run(r#"
import px
df = px.DataFrame('http_events')
df.failure = df.resp_status >= 500
df = df.groupby(['req_method', 'remote_port']).agg(
    total_latency=('latency', px.sum),
    n=('latency', px.count)
    errors=('failure', px.sum),
)
px.display(df)
"#));
}

#[test]
fn agg_without_aggregates_is_distinct_and_without_groupby_is_one_row() {
    assert_snapshot!(run(r#"
import px
df = px.DataFrame('http_events')
px.display(df.groupby('remote_addr').agg(), 'distinct')
px.display(df.agg(n=('latency', px.count), worst=('latency', px.max)), 'whole')
"#));
}

#[test]
fn merge_keeps_both_keys_and_suffixes_only_clashes() {
    assert_snapshot!(run(r#"
import px
df = px.DataFrame('http_events')
by_path = df.groupby('req_path').agg(n=('latency', px.count))
slow = df[df.latency > 1500000].groupby('req_path').agg(n=('latency', px.count), worst=('latency', px.max))
m = by_path.merge(slow, how='inner', left_on='req_path', right_on='req_path', suffixes=['', '_slow'])
px.display(m)
"#));
}

#[test]
fn outer_merge_pads_with_zero_values_not_nulls() {
    assert_snapshot!(run(r#"
import px
df = px.DataFrame('http_events')
a = df[df.remote_port == 80].groupby('req_path').agg(n80=('latency', px.count))
b = df[df.remote_port == 443].groupby('req_path').agg(n443=('latency', px.count))
px.display(a.merge(b, how='outer', left_on=['req_path'], right_on=['req_path']))
"#));
}

#[test]
fn append_matches_columns_by_name() {
    assert_snapshot!(run(r#"
import px
df = px.DataFrame('http_events')
a = df[df.resp_status == 404][['req_path', 'resp_status']]
b = df[df.resp_status == 503][['resp_status', 'req_path']]
px.display(a.append(b))
"#));
}

#[test]
fn time_bounds_are_inclusive_and_absolute_or_relative() {
    assert_snapshot!(run(r#"
import px
a = px.DataFrame('http_events', start_time='2024-01-01T00:00:02Z', end_time='2024-01-01T00:00:04Z')
px.display(a[['time_', 'req_path']], 'absolute')
b = px.DataFrame('http_events', start_time='-4s')
px.display(b[['time_']], 'relative')
c = px.DataFrame('http_events', start_time=px.now() - px.seconds(3), end_time=1704067207000000000)
px.display(c[['time_']], 'computed')
"#));
}

#[test]
fn ctx_resolves_through_upid() {
    assert_snapshot!(run(r#"
import px
df = px.DataFrame('http_events')
df.pid = df.ctx['pid']
df = df.groupby('pid').agg(n=('latency', px.count))
px.display(df)
"#));
}

#[test]
fn user_functions_see_module_globals_and_constants_fold() {
    assert_snapshot!(run(r#"
import px
threshold = 1000 * 1000 + 500 * 1000
label = 'slow' + '!'

def slow_requests(min_latency: int):
    '''Requests slower than min_latency.'''
    df = px.DataFrame('http_events')
    df = df[df.latency > min_latency]
    df.label = label
    return df[['req_path', 'latency', 'label']]

px.display(slow_requests(threshold), 'slow')
"#));
}

#[test]
fn output_names_debug_prefix_and_clashes() {
    let script = compile_fixture(
        r#"
import px
df = px.DataFrame('http_events')
px.display(df)
px.display(df)
px.debug(df, 'x')
px.display(df, 'x')
"#,
    )
    .unwrap();
    let names: Vec<&str> = script.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["output", "output_1", "_x", "x"]);
}

#[test]
fn row_cap_flag_limits_outputs() {
    let out = run(r#"
#px:set max_output_rows_per_table=2
import px
px.display(px.DataFrame('http_events')[['req_path']])
"#);
    assert_eq!(out.lines().count(), 4, "{out}");
}

#[test]
fn default_row_cap_is_ten_thousand() {
    let script = compile_fixture("import px\npx.display(px.DataFrame('http_events'))\n").unwrap();
    assert_eq!(script.max_output_rows, 10_000);
}

#[test]
fn plan_snapshot() {
    let script = compile_fixture(
        r#"
import px
df = px.DataFrame(table='http_events', start_time='-5s')
df = df[df.resp_status >= 500]
df = df.groupby('req_path').agg(n=('latency', px.count))
px.display(df, 'errors')
"#,
    )
    .unwrap();
    assert_snapshot!(script.explain(false));
}

#[test]
fn error_unknown_column_suggests_near_name() {
    assert_snapshot!(error(
        "import px\ndf = px.DataFrame('http_events')\ndf = df[df.latncy > 10]\n"
    ));
}

#[test]
fn error_unknown_table() {
    assert_snapshot!(error("import px\ndf = px.DataFrame(table='http_event')\n"));
}

#[test]
fn error_syntax() {
    assert_snapshot!(error(
        "import px\ndf = px.DataFrame('http_events'))\npx.display(df)\n"
    ));
}

#[test]
fn error_wrong_argument() {
    assert_snapshot!(error(
        "import px\ndf = px.DataFrame('http_events', start='-5m')\n"
    ));
}

#[test]
fn error_wrong_argument_type() {
    assert_snapshot!(error(
        "import px\ndf = px.DataFrame('http_events')\ndf.x = px.length(df.latency)\n"
    ));
}

#[test]
fn error_unsupported_construct() {
    assert_snapshot!(error(
        "import px\nfor t in ['a', 'b']:\n    px.display(px.DataFrame(t))\n"
    ));
}

#[test]
fn error_unknown_px_function() {
    assert_snapshot!(error(
        "import px\ndf = px.DataFrame('http_events')\ndf.x = px.uppercase(df.req_path)\n"
    ));
}

#[test]
fn error_aggregate_outside_agg() {
    let e = error("import px\ndf = px.DataFrame('http_events')\ndf.x = px.mean(df.latency)\n");
    assert!(e.contains("px.mean is an aggregate"), "{e}");
}
