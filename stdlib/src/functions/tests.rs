//! Behaviour of the definitions beyond their examples: columns, edge cases,
//! zero values instead of nulls, errors, semantic types, metadata lookups.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use polars::prelude::*;

use crate::registry::{Env, MetadataProvider, Operand, TypedExpr};
use crate::testutil::*;
use crate::types::{DataType as PxType, SemanticType};

fn column(name: &str, dtype: PxType) -> Operand {
    Operand::from_expr(col(name), dtype)
}

fn strings(values: &[&str]) -> DataFrame {
    DataFrame::new_infer_height(vec![Series::new("s".into(), values).into()]).unwrap()
}

fn ints(values: &[i64]) -> DataFrame {
    DataFrame::new_infer_height(vec![Series::new("n".into(), values).into()]).unwrap()
}

fn lower_ok(name: &str, args: &[Operand]) -> TypedExpr {
    lower(name, args, &env()).unwrap()
}

#[test]
fn string_functions_work_on_columns_with_byte_positions() {
    let df = strings(&["checkout", "", "héllo"]);
    let sc = column("s", PxType::String);
    assert_eq!(
        over(&df, &lower_ok("length", std::slice::from_ref(&sc))),
        ["8", "0", "6"]
    );
    assert_eq!(
        over(&df, &lower_ok("substring", &[sc.clone(), i(1), i(3)])),
        ["\"hec\"", "\"\"", "\"él\""]
    );
    assert_eq!(
        over(&df, &lower_ok("substring", &[sc.clone(), i(7), i(100)])),
        ["\"t\"", "\"\"", "\"\""]
    );
    assert_eq!(
        over(&df, &lower_ok("find", &[sc.clone(), s("l")])),
        ["-1", "-1", "3"]
    );
    assert_eq!(
        over(&df, &lower_ok("contains", &[sc.clone(), s("")])),
        ["true", "true", "true"]
    );
    assert_eq!(
        over(&df, &lower_ok("toupper", std::slice::from_ref(&sc))),
        ["\"CHECKOUT\"", "\"\"", "\"HéLLO\""]
    );
}

#[test]
fn substring_out_of_range_is_empty() {
    assert_eq!(call("substring", &[s("abc"), i(-1), i(2)]), "\"\"");
    assert_eq!(call("substring", &[s("abc"), i(4), i(2)]), "\"\"");
    assert_eq!(call("substring", &[s("abc"), i(3), i(2)]), "\"\"");
    assert_eq!(call("substring", &[s("abc"), i(0), i(-2)]), "\"\"");
}

#[test]
fn atoi_defaults() {
    assert_eq!(call("atoi", &[s(" 42 ")]), "42");
    assert_eq!(call("atoi", &[s("+7")]), "7");
    assert_eq!(call("atoi", &[s("4x")]), "0");
    assert_eq!(call("atoi", &[s("99999999999999999999"), i(-1)]), "-1");
    let df = strings(&["1", "x"]);
    let t = lower_ok("atoi", &[column("s", PxType::String), i(-5)]);
    assert_eq!(over(&df, &t), ["1", "-5"]);
}

#[test]
fn regexes_are_literal_checked_and_match_whole_strings() {
    assert_eq!(call("regex_match", &[s("abc"), s("abcd")]), "false");
    assert_eq!(call("regex_match", &[s("abc.*"), s("abcd")]), "true");
    assert_eq!(call("regex_match", &[s("a.c"), s("a\nc")]), "true");
    assert!(call_err("regex_match", &[s("(("), s("x")]).contains("invalid regex"));
    let not_literal = column("s", PxType::String);
    assert!(call_err("regex_match", &[not_literal, s("x")]).contains("literal"));
    assert_eq!(
        call(
            "replace",
            &[
                s("([a-z]+)@([a-z]+)"),
                s("joe@host, ann@box"),
                s(r"\2:\1 $")
            ]
        ),
        "\"host:joe $, box:ann $\""
    );
}

#[test]
fn pluck_follows_pixie() {
    let doc = r#"{"a": "x", "n": null, "i": 10, "f": 1.50, "o": {"k": [1, "v"]}, "big": 1e400}"#;
    assert_eq!(call("pluck", &[s(doc), s("a")]), "\"x\"");
    assert_eq!(call("pluck", &[s(doc), s("n")]), "\"\"");
    assert_eq!(call("pluck", &[s(doc), s("missing")]), "\"\"");
    assert_eq!(call("pluck", &[s(doc), s("f")]), "\"1.5\"");
    assert_eq!(call("pluck", &[s(doc), s("o")]), r#""{\"k\":[1,\"v\"]}""#);
    assert_eq!(call("pluck", &[s("not json"), s("a")]), "\"\"");
    assert_eq!(call("pluck_int64", &[s(doc), s("i")]), "10");
    assert_eq!(call("pluck_int64", &[s(doc), s("f")]), "0");
    assert_eq!(call("pluck_float64", &[s(doc), s("f")]), "1.5");
    assert_eq!(call("pluck_float64", &[s(doc), s("i")]), "0.0");
    assert_eq!(call("pluck_array", &[s("[1, [2], {}]"), i(1)]), "\"[2]\"");
    assert_eq!(call("pluck_array", &[s("[1]"), i(-1)]), "\"\"");
    assert_eq!(call("pluck_array", &[s("{}"), i(0)]), "\"\"");
}

#[test]
fn split_renders_json_arrays() {
    assert_eq!(call("split", &[s(""), s(",")]), r#""[\"\"]""#);
    assert_eq!(
        call("split", &[s("a\"b"), s("")]),
        r#""[\"a\",\"\\\"\",\"b\"]""#
    );
}

#[test]
fn select_keeps_matching_semantic_types() {
    let d = column("n", PxType::Int64);
    let mut dur = d.clone();
    dur.typed.semantic = SemanticType::DurationNs;
    let cond = Operand::from_expr(col("n").gt(lit(1i64)), PxType::Boolean);
    let t = lower_ok("select", &[cond.clone(), dur.clone(), dur.clone()]);
    assert_eq!(t.semantic, SemanticType::DurationNs);
    let t = lower_ok("select", &[cond.clone(), dur, i(0)]);
    assert_eq!(t.semantic, SemanticType::None);
    assert_eq!(over(&ints(&[1, 2]), &t), ["0", "2"]);
    let mixed = lower_ok("select", &[cond.clone(), d, f(0.5)]);
    assert_eq!(mixed.dtype, PxType::Float64);
    assert!(call_err("select", &[cond, s("a"), i(1)]).contains("same type"));
}

#[test]
fn equals_any_over_a_column() {
    let t = lower_ok("equals_any", &[column("n", PxType::Int64), i(2), i(3)]);
    assert_eq!(over(&ints(&[1, 2, 3]), &t), ["false", "true", "true"]);
    assert!(call_err("equals_any", &[i(1)]).contains("empty"));
    assert!(call_err("equals_any", &[i(1), s("a")]).contains("compare"));
}

#[test]
fn script_reference_takes_columns() {
    let ns = column("s", PxType::String);
    let t = lower_ok(
        "script_reference",
        &[ns.clone(), s("px/namespace"), s("namespace"), ns],
    );
    assert_eq!(t.semantic, SemanticType::ScriptReference);
    assert_eq!(
        over(&strings(&["a\"b"]), &t),
        [
            r#""{\"label\":\"a\\\"b\",\"script\":\"px/namespace\",\"args\":{\"namespace\":\"a\\\"b\"}}""#
        ]
    );
    assert_eq!(
        call("script_reference", &[s("l"), s("px/x")]),
        r#""{\"label\":\"l\",\"script\":\"px/x\",\"args\":{}}""#
    );
    assert!(call_err("script_reference", &[s("l"), s("px/x"), s("k")]).contains("dict"));
    assert!(call_err(
        "script_reference",
        &[s("l"), s("px/x"), s("k"), s("v"), s("k2")]
    )
    .contains("pairs"));
}

#[test]
fn bin_truncates_like_pixie_and_keeps_times() {
    let t = lower_ok("bin", &[column("n", PxType::Int64), i(10)]);
    assert_eq!(
        over(&ints(&[-15, -10, 0, 9, 10, 25]), &t),
        ["-10", "-10", "0", "0", "10", "20"]
    );
    assert_eq!(call("bin", &[f(25.9), i(10)]), "20");
    let time = lower_ok("bin", &[t_op(1_704_067_234_567_000_000), i(1_000_000_000)]);
    assert_eq!(time.dtype, PxType::Time64Ns);
    assert_eq!(render_one(&time), "\"2024-01-01T00:00:34.000000000Z\"");
    assert!(call_err("bin", &[i(5), i(0)]).contains("positive"));
}

fn t_op(ns: i64) -> Operand {
    t(ns)
}

#[test]
fn math_returns_pixies_types() {
    assert_eq!(call("floor", &[f(-2.5)]), "-3");
    assert_eq!(call("ceil", &[i(4)]), "4");
    assert_eq!(call("round", &[f(2.0), i(0)]), "\"2\"");
    assert_eq!(call("round", &[f(1.0), i(-1)]), "\"1.000000\"");
    assert_eq!(call("abs", &[f(-1.5)]), "1.5");
    assert_eq!(call("log", &[i(10), i(100)]), "2.0");
    assert_eq!(call("sqrt", &[i(2)]), "1.4142135623730951");
    let mut bytes = column("n", PxType::Int64);
    bytes.typed.semantic = SemanticType::Bytes;
    assert_eq!(lower_ok("abs", &[bytes]).semantic, SemanticType::Bytes);
    assert!(call_err("sqrt", &[s("x")]).contains("INT64 or FLOAT64"));
}

#[test]
fn time_functions() {
    assert_eq!(call("now", &[]), format!("\"{}\"", rfc3339(NOW_NS)));
    assert_eq!(
        call("parse_time", &[s("-5m")]),
        format!("\"{}\"", rfc3339(NOW_NS - 300_000_000_000))
    );
    assert_eq!(
        call("parse_time", &[i(5)]),
        "\"1970-01-01T00:00:00.000000005Z\""
    );
    assert_eq!(
        call("parse_time", &[s("2024-01-01T00:00:00Z")]),
        format!("\"{}\"", rfc3339(NOW_NS))
    );
    assert!(call_err("parse_time", &[s("yesterday")]).contains("neither"));
    assert!(call_err("parse_duration", &[s("5 minutes")]).contains("not a duration"));
    let minutes = lower_ok("minutes", &[i(2)]);
    assert_eq!(minutes.semantic, SemanticType::DurationNs);
    assert_eq!(call("seconds", &[f(1.5)]), "1500000000");
    let durations = lower_ok("format_duration", &[column("n", PxType::Int64)]);
    assert_eq!(
        over(&ints(&[0, 1_500_000_000, -7_200_000_000_000]), &durations),
        ["\"0ms\"", "\"1s\"", "\"-2h\""]
    );
    let parsed = lower_ok("strptime", &[column("s", PxType::String), s("%Y-%m-%d")]);
    assert_eq!(
        over(&strings(&["1970-01-02", "bad"]), &parsed),
        [
            "\"1970-01-02T00:00:00.000000000Z\"",
            "\"1970-01-01T00:00:00.000000000Z\""
        ]
    );
    assert!(call_err("strptime", &[s("x"), s("%Y")]).contains("does not match"));
}

#[test]
fn upids_split() {
    let df = strings(&["3:1234:5678", "garbage", ""]);
    let upid = column("s", PxType::Uint128);
    assert_eq!(
        over(&df, &lower_ok("upid_to_pid", std::slice::from_ref(&upid))),
        ["1234", "0", "0"]
    );
    assert_eq!(
        over(&df, &lower_ok("upid_to_asid", &[upid])),
        ["3", "0", "0"]
    );
}

/// Metadata that answers from fixed maps and counts its calls.
#[derive(Default)]
struct FakeMetadata {
    calls: AtomicUsize,
}

impl MetadataProvider for FakeMetadata {
    fn cmdline(&self, upid: &str) -> String {
        self.calls.fetch_add(1, Ordering::SeqCst);
        format!("cmd-of-{upid}")
    }
    fn hostname(&self, _: &str) -> String {
        "host".into()
    }
    fn container_id(&self, _: &str) -> String {
        "cid".into()
    }
    fn reverse_dns(&self, addr: &str) -> String {
        if addr == "127.0.0.1" {
            "localhost".into()
        } else {
            addr.into()
        }
    }
    fn k8s(&self, function: &str, key: &str) -> String {
        match (function, key) {
            ("upid_to_pod_name", "1:2:3") => "default/web-0".into(),
            ("pod_name_to_start_time", "default/web-0") => "1000".into(),
            _ => String::new(),
        }
    }
}

#[test]
fn metadata_lookups_go_through_the_provider_once_per_key() {
    let fake = Arc::new(FakeMetadata::default());
    let env = Env {
        now_ns: NOW_NS,
        metadata: fake.clone(),
    };
    let df = strings(&["1:2:3", "1:2:3", "4:5:6", "1:2:3"]);
    let upid = column("s", PxType::Uint128);
    let cmd = lower("upid_to_cmdline", std::slice::from_ref(&upid), &env).unwrap();
    assert_eq!(
        over(&df, &cmd),
        [
            "\"cmd-of-1:2:3\"",
            "\"cmd-of-1:2:3\"",
            "\"cmd-of-4:5:6\"",
            "\"cmd-of-1:2:3\""
        ]
    );
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
    let pod = lower("upid_to_pod_name", &[upid], &env).unwrap();
    assert_eq!(pod.semantic, SemanticType::PodName);
    assert_eq!(
        over(&df, &pod)[..3],
        ["\"default/web-0\"", "\"default/web-0\"", "\"\""]
    );
    let start = lower("pod_name_to_start_time", &[s("default/web-0")], &env).unwrap();
    assert_eq!(render_one(&start), "\"1970-01-01T00:00:00.000001000Z\"");
    let dns = lower("nslookup", &[s("127.0.0.1")], &env).unwrap();
    assert_eq!(render_one(&dns), "\"localhost\"");
}

#[test]
fn aggregates_follow_pixie_types_and_semantics() {
    assert_eq!(
        aggregate("sum", Series::new("x".into(), [true, false, true])),
        "2"
    );
    assert_eq!(aggregate("sum", Series::new("x".into(), [1.5, 2.0])), "3.5");
    assert_eq!(
        aggregate("mean", Series::new("x".into(), [true, false])),
        "0.5"
    );
    assert_eq!(aggregate("count", Series::new("x".into(), ["a", "b"])), "2");
    assert_eq!(
        aggregate("max", Series::new("x".into(), [1.5, -2.0])),
        "1.5"
    );
    assert_eq!(
        aggregate("quantiles", Series::new("x".into(), [5i64])),
        r#""{\"p01\":5.0,\"p10\":5.0,\"p25\":5.0,\"p50\":5.0,\"p75\":5.0,\"p90\":5.0,\"p99\":5.0}""#
    );
    let def = crate::registry::registry().get("quantiles").unwrap();
    let crate::registry::FunctionKind::Aggregate(q) = def.kind else {
        panic!()
    };
    let dur = TypedExpr::new(col("x"), PxType::Int64).with_semantic(SemanticType::DurationNs);
    assert_eq!(q(&dur).unwrap().semantic, SemanticType::DurationNsQuantiles);
    let plain = TypedExpr::new(col("x"), PxType::Int64);
    assert_eq!(q(&plain).unwrap().semantic, SemanticType::Quantiles);
    let sum = crate::registry::registry().get("sum").unwrap();
    let crate::registry::FunctionKind::Aggregate(sum) = sum.kind else {
        panic!()
    };
    assert_eq!(sum(&dur).unwrap().semantic, SemanticType::None);
    let bytes = TypedExpr::new(col("x"), PxType::Int64).with_semantic(SemanticType::Bytes);
    assert_eq!(sum(&bytes).unwrap().semantic, SemanticType::Bytes);
    assert!(sum(&TypedExpr::new(col("x"), PxType::String)).is_err());
}

#[test]
fn quantiles_per_group() {
    let df = DataFrame::new_infer_height(vec![
        Series::new("g".into(), ["a", "a", "b"]).into(),
        Series::new("x".into(), [1.0, 3.0, 10.0]).into(),
    ])
    .unwrap();
    let def = crate::registry::registry().get("quantiles").unwrap();
    let crate::registry::FunctionKind::Aggregate(q) = def.kind else {
        panic!()
    };
    let t = q(&TypedExpr::new(col("x"), PxType::Float64)).unwrap();
    let out = df
        .lazy()
        .group_by([col("g")])
        .agg([t.expr.alias("q")])
        .sort(["g"], Default::default())
        .collect()
        .unwrap();
    let q = out.column("q").unwrap();
    assert_eq!(
        render(&q.get(0).unwrap()),
        r#""{\"p01\":1.0,\"p10\":1.0,\"p25\":1.0,\"p50\":2.0,\"p75\":3.0,\"p90\":3.0,\"p99\":3.0}""#
    );
    assert!(render(&q.get(1).unwrap()).contains("\\\"p50\\\":10.0"));
}

#[test]
fn protocol_names_fall_back_like_pixie() {
    assert_eq!(call("protocol_name", &[i(99)]), "\"Invalid (99)\"");
    assert_eq!(
        call("kafka_api_key_name", &[i(61)]),
        "\"DescribeProducers\""
    );
    assert_eq!(call("kafka_api_key_name", &[i(52)]), "\"52\"");
    assert_eq!(
        call("mysql_command_name", &[i(0x1f)]),
        "\"ResetConnection\""
    );
    assert_eq!(call("mysql_command_name", &[i(-1)]), "\"-1\"");
    assert_eq!(call("http_resp_message", &[i(299)]), "\"Unassigned\"");
    assert_eq!(call("dns_rcode_name", &[i(16)]), "\"BADVERS\"");
}

#[test]
fn semantic_casts_cover_every_cast_function() {
    for st in SemanticType::ALL {
        if let Some(name) = st.cast_function() {
            let def = crate::registry::registry().get(name).unwrap();
            assert!(matches!(def.kind, crate::registry::FunctionKind::SemanticCast(x) if x == *st));
        }
    }
}

#[test]
fn signatures_show_defaults_and_collections() {
    let reg = crate::registry::registry();
    assert_eq!(
        reg.get("atoi").unwrap().signature(),
        "px.atoi(arg1: STRING, arg2: INT64 = 0) -> INT64"
    );
    assert_eq!(
        reg.get("equals_any").unwrap().signature(),
        "px.equals_any(value, comparisons (list)) -> BOOLEAN"
    );
}

#[test]
fn collections_also_arrive_as_single_literals() {
    use crate::types::Literal;
    let list = Operand::from_literal(Literal::List(vec![
        Literal::Str("a".into()),
        Literal::Str("b".into()),
    ]));
    assert_eq!(call("equals_any", &[s("b"), list.clone()]), "true");
    assert_eq!(call("equals_any", &[s("c"), list]), "false");
    assert_eq!(
        call(
            "script_reference",
            &[s("l"), s("px/x"), s(r#"{"ns":"n1","n":5}"#)]
        ),
        r#""{\"label\":\"l\",\"script\":\"px/x\",\"args\":{\"ns\":\"n1\",\"n\":\"5\"}}""#
    );
}
