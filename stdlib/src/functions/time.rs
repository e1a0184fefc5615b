//! Time and duration functions. Durations are INT64 nanoseconds
//! (ST_DURATION_NS); times are TIME64NS (ns since the Unix epoch, UTC).
//! Relative times are resolved against `Env::now_ns`, once per compilation.

use polars::prelude::*;

use super::util::{arg, expect_type, rowwise, time_dtype, In, INT, NUMBER, STRING, TIME};
use crate::registry::{
    Env, Example, FnError, FunctionDef, FunctionKind, Operand, Param, TypedExpr,
};
use crate::types::{DataType as PxType, Literal, SemanticType};

const NS_PER_US: i64 = 1_000;
const NS_PER_MS: i64 = 1_000_000;
const NS_PER_S: i64 = 1_000_000_000;
const NS_PER_M: i64 = 60 * NS_PER_S;
const NS_PER_H: i64 = 60 * NS_PER_M;
const NS_PER_D: i64 = 24 * NS_PER_H;

/// Parses `5m`, `-30s`, `100ms`, `2h`, `7d`, `10us`, `500ns` (an integer and
/// a unit) into nanoseconds.
pub fn parse_duration_ns(text: &str) -> Option<i64> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return None;
    }
    let amount: i64 = digits.parse().ok()?;
    let scale = match unit {
        "ns" => 1,
        "us" | "µs" => NS_PER_US,
        "ms" => NS_PER_MS,
        "s" => NS_PER_S,
        "m" => NS_PER_M,
        "h" => NS_PER_H,
        "d" => NS_PER_D,
        _ => return None,
    };
    let ns = amount.checked_mul(scale)?;
    Some(if negative { -ns } else { ns })
}

/// Pixie's `format_duration`: the largest whole unit among d, h, m, s, ms
/// (rounding towards zero), keeping the sign.
pub fn format_duration_ns(ns: i64) -> String {
    let magnitude = ns.unsigned_abs();
    let unit = |n: i64| n as u64;
    let s = if magnitude >= unit(NS_PER_D) {
        format!("{}d", magnitude / unit(NS_PER_D))
    } else if magnitude >= unit(NS_PER_H) {
        format!("{}h", magnitude / unit(NS_PER_H))
    } else if magnitude >= unit(NS_PER_M) {
        format!("{}m", magnitude / unit(NS_PER_M))
    } else if magnitude >= unit(NS_PER_S) {
        format!("{}s", magnitude / unit(NS_PER_S))
    } else {
        format!("{}ms", magnitude / unit(NS_PER_MS))
    };
    if ns < 0 {
        format!("-{s}")
    } else {
        s
    }
}

/// Translates absl/C `strptime` directives that chrono spells differently.
fn chrono_format(format: &str) -> String {
    let mut out = format.replace("%E4Y", "%Y").replace("%Ez", "%:z");
    // %E*S and %E<n>S: seconds with an optional fraction.
    out = out.replace("%E*S", "%S%.f");
    for n in 0..=9 {
        out = out.replace(&format!("%E{n}S"), "%S%.f");
    }
    out
}

/// Parses `text` with a strptime-style format into ns since the epoch. A
/// format without a zone is read as UTC; a format without a time, as midnight.
pub fn strptime_ns(text: &str, format: &str) -> Option<i64> {
    let f = chrono_format(format);
    if let Ok(t) = chrono::DateTime::parse_from_str(text, &f) {
        return t.timestamp_nanos_opt();
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, &f) {
        return t.and_utc().timestamp_nanos_opt();
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, &f) {
        return d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt();
    }
    None
}

/// An absolute time as `parse_time` accepts it: Pixie's
/// `2020-03-12 19:39:59 -0200`, RFC 3339, or `YYYY-MM-DD[ HH:MM:SS]` in UTC.
fn parse_absolute_ns(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return dt.timestamp_nanos_opt();
    }
    [
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d",
    ]
    .iter()
    .find_map(|f| strptime_ns(t, f))
}

fn time_lit(ns: i64) -> TypedExpr {
    TypedExpr::new(Literal::Time(ns).to_expr(), PxType::Time64Ns)
}

fn now(_: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    Ok(time_lit(env.now_ns))
}

fn scaled(args: &[Operand], func: &str, scale: i64) -> Result<TypedExpr, FnError> {
    let unit = arg(args, 0, func, "unit")?;
    expect_type(unit, NUMBER, func, "unit")?;
    let expr = match unit.dtype() {
        PxType::Float64 => (unit.expr() * lit(scale as f64)).cast(DataType::Int64),
        _ => unit.expr().cast(DataType::Int64) * lit(scale),
    };
    Ok(TypedExpr::new(expr, PxType::Int64).with_semantic(SemanticType::DurationNs))
}

fn days(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    scaled(args, "days", NS_PER_D)
}
fn hours(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    scaled(args, "hours", NS_PER_H)
}
fn minutes(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    scaled(args, "minutes", NS_PER_M)
}
fn seconds(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    scaled(args, "seconds", NS_PER_S)
}
fn milliseconds(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    scaled(args, "milliseconds", NS_PER_MS)
}
fn microseconds(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    scaled(args, "microseconds", NS_PER_US)
}

fn parse_duration(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let d = arg(args, 0, "parse_duration", "duration")?;
    expect_type(d, STRING, "parse_duration", "duration")?;
    let expr = match d.literal_str() {
        Some(text) => lit(parse_duration_ns(text).ok_or_else(|| {
            FnError::new(format!(
                "px.parse_duration: {text:?} is not a duration like '5m', '-30s', '100ms'"
            ))
        })?)
        .cast(DataType::Int64),
        None => rowwise(vec![d.expr()], &[In::Str], |r| {
            parse_duration_ns(r.str(0)).unwrap_or(0)
        }),
    };
    Ok(TypedExpr::new(expr, PxType::Int64).with_semantic(SemanticType::DurationNs))
}

fn format_duration(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let d = arg(args, 0, "format_duration", "duration")?;
    expect_type(d, INT, "format_duration", "duration")?;
    let expr = match d.literal_int() {
        Some(ns) => lit(format_duration_ns(ns)),
        None => rowwise(vec![d.expr()], &[In::I64], |r| format_duration_ns(r.i64(0))),
    };
    Ok(TypedExpr::new(expr, PxType::String))
}

fn parse_time(args: &[Operand], env: &Env) -> Result<TypedExpr, FnError> {
    let t = arg(args, 0, "parse_time", "time")?;
    match t.dtype() {
        PxType::Time64Ns => Ok(TypedExpr::new(t.expr(), PxType::Time64Ns)),
        PxType::Int64 => Ok(TypedExpr::new(
            t.expr().cast(time_dtype()),
            PxType::Time64Ns,
        )),
        PxType::String => {
            let text = t
                .literal_str()
                .ok_or_else(|| FnError::new("px.parse_time: a string time must be a literal"))?;
            let ns = parse_duration_ns(text)
                .and_then(|d| env.now_ns.checked_add(d))
                .or_else(|| parse_absolute_ns(text))
                .ok_or_else(|| {
                    FnError::new(format!(
                        "px.parse_time: {text:?} is neither a relative time like '-5m' nor a time like '2020-03-12 19:39:59 -0200'"
                    ))
                })?;
            Ok(time_lit(ns))
        }
        other => Err(FnError::new(format!(
            "px.parse_time: 'time' must be STRING, INT64 or TIME64NS, got {other}"
        ))),
    }
}

fn strptime(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = arg(args, 0, "strptime", "date_string")?;
    expect_type(s, STRING, "strptime", "date_string")?;
    let f = arg(args, 1, "strptime", "format")?;
    let format = f
        .literal_str()
        .ok_or_else(|| FnError::new("px.strptime: 'format' must be a string literal"))?
        .to_string();
    if let Some(text) = s.literal_str() {
        let ns = strptime_ns(text, &format).ok_or_else(|| {
            FnError::new(format!(
                "px.strptime: {text:?} does not match the format {format:?}"
            ))
        })?;
        return Ok(time_lit(ns));
    }
    let expr = rowwise(vec![s.expr()], &[In::Str], move |r| {
        strptime_ns(r.str(0), &format).unwrap_or(0)
    });
    Ok(TypedExpr::new(expr.cast(time_dtype()), PxType::Time64Ns))
}

fn int64_to_time(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let v = arg(args, 0, "int64_to_time", "value")?;
    expect_type(v, INT, "int64_to_time", "value")?;
    Ok(TypedExpr::new(
        v.expr().cast(time_dtype()),
        PxType::Time64Ns,
    ))
}

fn time_to_int64(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let v = arg(args, 0, "time_to_int64", "value")?;
    expect_type(v, TIME, "time_to_int64", "value")?;
    Ok(TypedExpr::new(
        v.expr().cast(DataType::Int64),
        PxType::Int64,
    ))
}

macro_rules! unit_def {
    ($name:literal, $f:ident, $doc:literal, $input:literal, $output:literal) => {
        FunctionDef {
            name: $name,
            kind: FunctionKind::Scalar($f),
            params: const { &[Param::new("unit", NUMBER)] },
            returns: "INT64 (ST_DURATION_NS)",
            doc: $doc,
            example: Example {
                input: $input,
                output: $output,
            },
            pure: true,
        }
    };
}

pub fn defs() -> Vec<FunctionDef> {
    vec![
        FunctionDef {
            name: "now",
            kind: FunctionKind::Scalar(now),
            params: &[],
            returns: "TIME64NS",
            doc: "The current time, fixed once when the script is compiled.",
            example: Example {
                input: "px.now()",
                output: "\"2024-01-01T00:00:00.000000000Z\"",
            },
            pure: false,
        },
        unit_def!("days", days, "A number of days, in nanoseconds.", "px.days(1)", "86400000000000"),
        unit_def!("hours", hours, "A number of hours, in nanoseconds.", "px.hours(2)", "7200000000000"),
        unit_def!("minutes", minutes, "A number of minutes, in nanoseconds.", "px.minutes(5)", "300000000000"),
        unit_def!("seconds", seconds, "A number of seconds, in nanoseconds.", "px.seconds(30)", "30000000000"),
        unit_def!("milliseconds", milliseconds, "A number of milliseconds, in nanoseconds.", "px.milliseconds(250)", "250000000"),
        unit_def!("microseconds", microseconds, "A number of microseconds, in nanoseconds.", "px.microseconds(3)", "3000"),
        FunctionDef {
            name: "parse_duration",
            kind: FunctionKind::Scalar(parse_duration),
            params: const { &[Param::new("duration", STRING)] },
            returns: "INT64 (ST_DURATION_NS)",
            doc: "A duration like '5m' or '-30s' (units ns, us, ms, s, m, h, d) in nanoseconds.",
            example: Example {
                input: "px.parse_duration('-5m')",
                output: "-300000000000",
            },
            pure: true,
        },
        FunctionDef {
            name: "format_duration",
            kind: FunctionKind::Scalar(format_duration),
            params: const { &[Param::new("duration", INT)] },
            returns: "STRING",
            doc: "Nanoseconds as a duration string in the largest whole unit (d, h, m, s, ms), rounding towards zero.",
            example: Example {
                input: "px.format_duration(-300000000005)",
                output: "\"-5m\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "parse_time",
            kind: FunctionKind::Scalar(parse_time),
            params: const { &[Param::new("time", &[PxType::String, PxType::Int64, PxType::Time64Ns])] },
            returns: "TIME64NS",
            doc: "A time from a relative string ('-5m', from now), an absolute string ('2020-03-12 19:39:59 -0200', RFC 3339), ns since the epoch, or a time.",
            example: Example {
                input: "px.parse_time('2020-03-12 19:39:59 -0200')",
                output: "\"2020-03-12T21:39:59.000000000Z\"",
            },
            pure: false,
        },
        FunctionDef {
            name: "strptime",
            kind: FunctionKind::Scalar(strptime),
            params: const { &[Param::new("date_string", STRING), Param::new("format", STRING)] },
            returns: "TIME64NS",
            doc: "A time parsed with a C strptime format (a literal); no zone in the format means UTC.",
            example: Example {
                input: "px.strptime('2020-03-12 19:39:59 -0200', '%Y-%m-%d %H:%M:%S %z')",
                output: "\"2020-03-12T21:39:59.000000000Z\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "int64_to_time",
            kind: FunctionKind::Scalar(int64_to_time),
            params: const { &[Param::new("value", INT)] },
            returns: "TIME64NS",
            doc: "Nanoseconds since the epoch as a time.",
            example: Example {
                input: "px.int64_to_time(1704067200000000000)",
                output: "\"2024-01-01T00:00:00.000000000Z\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "time_to_int64",
            kind: FunctionKind::Scalar(time_to_int64),
            params: const { &[Param::new("value", TIME)] },
            returns: "INT64",
            doc: "A time as nanoseconds since the epoch.",
            example: Example {
                input: "px.time_to_int64(px.int64_to_time(1704067200000000000))",
                output: "1704067200000000000",
            },
            pure: true,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_format_like_pixie() {
        assert_eq!(parse_duration_ns("-2m"), Some(-120_000_000_000));
        assert_eq!(parse_duration_ns("10d"), Some(864_000_000_000_000));
        assert_eq!(parse_duration_ns("10ms"), Some(10_000_000));
        assert_eq!(parse_duration_ns("7us"), Some(7_000));
        assert_eq!(parse_duration_ns("hello"), None);
        assert_eq!(parse_duration_ns("5"), None);
        assert_eq!(parse_duration_ns("99999999999999d"), None);
        assert_eq!(format_duration_ns(-5 * NS_PER_M), "-5m");
        assert_eq!(format_duration_ns(5 * NS_PER_M + 5), "5m");
        assert_eq!(format_duration_ns(1_500_000), "1ms");
        assert_eq!(format_duration_ns(i64::MIN), "-106751d");
    }

    #[test]
    fn absolute_times_parse() {
        assert_eq!(parse_absolute_ns("1970-01-01T00:00:01Z"), Some(NS_PER_S));
        assert_eq!(parse_absolute_ns("1970-01-02"), Some(NS_PER_D));
        assert_eq!(
            strptime_ns("1970-01-01 00:00:01.5 +0000", "%E4Y-%m-%d %H:%M:%E*S %z"),
            Some(1_500_000_000)
        );
    }
}
