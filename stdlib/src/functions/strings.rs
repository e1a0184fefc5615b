//! String, regex and JSON functions. Positions and lengths count bytes, as
//! in Pixie; a failing row yields the zero value ('' / 0 / 0.0 / false).

use std::sync::Arc;

use polars::prelude::*;

use super::json::{write_string, Json};
use super::util::{arg, expect_type, literal_str, rowwise, In, INT, STRING};
use crate::registry::{
    Env, Example, FnError, FunctionDef, FunctionKind, Operand, Param, TypedExpr,
};
use crate::types::DataType as PxType;

/// The operand as a string expression, checking its type.
fn string_arg(args: &[Operand], i: usize, func: &str, param: &str) -> Result<Expr, FnError> {
    let op = arg(args, i, func, param)?;
    expect_type(op, STRING, func, param)?;
    Ok(op.expr())
}

fn int_arg(args: &[Operand], i: usize, func: &str, param: &str) -> Result<Expr, FnError> {
    let op = arg(args, i, func, param)?;
    expect_type(op, INT, func, param)?;
    Ok(op.expr())
}

fn contains(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = string_arg(args, 0, "contains", "arg1")?;
    let sub = string_arg(args, 1, "contains", "arg2")?;
    Ok(TypedExpr::new(
        s.str().contains_literal(sub).fill_null(lit(false)),
        PxType::Boolean,
    ))
}

fn length(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = string_arg(args, 0, "length", "s")?;
    Ok(TypedExpr::new(
        s.str()
            .len_bytes()
            .cast(DataType::Int64)
            .fill_null(lit(0i64)),
        PxType::Int64,
    ))
}

fn find(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = string_arg(args, 0, "find", "arg1")?;
    let sub = string_arg(args, 1, "find", "arg2")?;
    Ok(TypedExpr::new(
        rowwise(vec![s, sub], &[In::Str, In::Str], |r| {
            r.str(0).find(r.str(1)).map_or(-1, |i| i as i64)
        }),
        PxType::Int64,
    ))
}

fn substring(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = string_arg(args, 0, "substring", "string")?;
    let pos = int_arg(args, 1, "substring", "pos")?;
    let len = int_arg(args, 2, "substring", "length")?;
    Ok(TypedExpr::new(
        rowwise(vec![s, pos, len], &[In::Str, In::I64, In::I64], |r| {
            let bytes = r.str(0).as_bytes();
            let (pos, len) = (r.i64(1), r.i64(2));
            if pos < 0 || pos as u64 > bytes.len() as u64 || len < 0 {
                return String::new();
            }
            let start = pos as usize;
            let end = start.saturating_add(len as usize).min(bytes.len());
            String::from_utf8_lossy(&bytes[start..end]).into_owned()
        }),
        PxType::String,
    ))
}

fn tolower(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = string_arg(args, 0, "tolower", "string")?;
    Ok(TypedExpr::new(
        rowwise(vec![s], &[In::Str], |r| r.str(0).to_ascii_lowercase()),
        PxType::String,
    ))
}

fn toupper(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = string_arg(args, 0, "toupper", "string")?;
    Ok(TypedExpr::new(
        rowwise(vec![s], &[In::Str], |r| r.str(0).to_ascii_uppercase()),
        PxType::String,
    ))
}

fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
}

fn trim(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = string_arg(args, 0, "trim", "string")?;
    Ok(TypedExpr::new(
        rowwise(vec![s], &[In::Str], |r| {
            r.str(0).trim_matches(is_c_space).to_string()
        }),
        PxType::String,
    ))
}

fn strip_prefix(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let prefix = string_arg(args, 0, "strip_prefix", "prefix")?;
    let s = string_arg(args, 1, "strip_prefix", "string")?;
    Ok(TypedExpr::new(
        rowwise(vec![prefix, s], &[In::Str, In::Str], |r| {
            let s = r.str(1);
            s.strip_prefix(r.str(0)).unwrap_or(s).to_string()
        }),
        PxType::String,
    ))
}

fn atoi(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = string_arg(args, 0, "atoi", "arg1")?;
    let default = match args.get(1) {
        Some(_) => int_arg(args, 1, "atoi", "arg2")?,
        None => lit(0i64),
    };
    Ok(TypedExpr::new(
        rowwise(vec![s, default], &[In::Str, In::I64], |r| {
            r.str(0)
                .trim_matches(is_c_space)
                .parse::<i64>()
                .unwrap_or_else(|_| r.i64(1))
        }),
        PxType::Int64,
    ))
}

fn itoa(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let i = int_arg(args, 0, "itoa", "arg1")?;
    Ok(TypedExpr::new(
        i.cast(DataType::String).fill_null(lit("")),
        PxType::String,
    ))
}

/// A regex argument: must be a literal so that it is checked (and compiled)
/// once, when the script is compiled.
fn regex_arg(
    args: &[Operand],
    func: &str,
    wrap: impl Fn(&str) -> String,
) -> Result<Arc<regex::Regex>, FnError> {
    let pattern = literal_str(args, 0, func, "arg1")?;
    regex::Regex::new(&wrap(pattern))
        .map(Arc::new)
        .map_err(|e| FnError::new(format!("px.{func}: invalid regex {pattern:?}: {e}")))
}

fn regex_match(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    // The pattern must match the whole string; `.` also matches newlines.
    let re = regex_arg(args, "regex_match", |p| format!(r"\A(?s:{p})\z"))?;
    let s = string_arg(args, 1, "regex_match", "arg2")?;
    Ok(TypedExpr::new(
        rowwise(vec![s], &[In::Str], move |r| re.is_match(r.str(0))),
        PxType::Boolean,
    ))
}

/// Turns an RE2 rewrite string (`\1` for group 1, `\\` for a backslash)
/// into the `regex` crate's (`${1}`, `$$` for a dollar).
fn re2_rewrite(sub: &str) -> String {
    let mut out = String::with_capacity(sub.len());
    let mut chars = sub.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

fn replace(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let re = regex_arg(args, "replace", |p| p.to_string())?;
    let s = string_arg(args, 1, "replace", "arg2")?;
    let sub = string_arg(args, 2, "replace", "arg3")?;
    Ok(TypedExpr::new(
        rowwise(vec![s, sub], &[In::Str, In::Str], move |r| {
            re.replace_all(r.str(0), re2_rewrite(r.str(1)).as_str())
                .into_owned()
        }),
        PxType::String,
    ))
}

fn pluck(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let json = string_arg(args, 0, "pluck", "json_str")?;
    let key = string_arg(args, 1, "pluck", "key")?;
    Ok(TypedExpr::new(
        rowwise(vec![json, key], &[In::Str, In::Str], |r| {
            Json::parse(r.str(0))
                .and_then(|v| v.member(r.str(1)).map(Json::to_pluck_string))
                .unwrap_or_default()
        }),
        PxType::String,
    ))
}

fn pluck_int64(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let json = string_arg(args, 0, "pluck_int64", "json_str")?;
    let key = string_arg(args, 1, "pluck_int64", "key")?;
    Ok(TypedExpr::new(
        rowwise(
            vec![json, key],
            &[In::Str, In::Str],
            |r| match Json::parse(r.str(0))
                .as_ref()
                .and_then(|v| v.member(r.str(1)))
            {
                Some(Json::Int(i)) => *i,
                _ => 0,
            },
        ),
        PxType::Int64,
    ))
}

fn pluck_float64(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let json = string_arg(args, 0, "pluck_float64", "json_str")?;
    let key = string_arg(args, 1, "pluck_float64", "key")?;
    Ok(TypedExpr::new(
        rowwise(
            vec![json, key],
            &[In::Str, In::Str],
            |r| match Json::parse(r.str(0))
                .as_ref()
                .and_then(|v| v.member(r.str(1)))
            {
                Some(Json::Double(d)) => *d,
                _ => 0.0,
            },
        ),
        PxType::Float64,
    ))
}

fn pluck_array(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let json = string_arg(args, 0, "pluck_array", "json_str")?;
    let index = int_arg(args, 1, "pluck_array", "index")?;
    Ok(TypedExpr::new(
        rowwise(
            vec![json, index],
            &[In::Str, In::I64],
            |r| match Json::parse(r.str(0)) {
                Some(Json::Array(items)) => usize::try_from(r.i64(1))
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(Json::to_pluck_string)
                    .unwrap_or_default(),
                _ => String::new(),
            },
        ),
        PxType::String,
    ))
}

fn split(args: &[Operand], _: &Env) -> Result<TypedExpr, FnError> {
    let s = string_arg(args, 0, "split", "input_str")?;
    let delimiter = string_arg(args, 1, "split", "delimiter")?;
    Ok(TypedExpr::new(
        rowwise(vec![s, delimiter], &[In::Str, In::Str], |r| {
            let (s, d) = (r.str(0), r.str(1));
            let parts: Vec<&str> = if d.is_empty() {
                s.char_indices()
                    .map(|(i, c)| &s[i..i + c.len_utf8()])
                    .collect()
            } else {
                s.split(d).collect()
            };
            let mut out = String::from("[");
            for (n, part) in parts.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_string(part, &mut out);
            }
            out.push(']');
            out
        }),
        PxType::String,
    ))
}

pub fn defs() -> Vec<FunctionDef> {
    vec![
        FunctionDef {
            name: "contains",
            kind: FunctionKind::Scalar(contains),
            params: const { &[Param::new("arg1", STRING), Param::new("arg2", STRING)] },
            returns: "BOOLEAN",
            doc: "Whether the first string contains the second.",
            example: Example {
                input: "px.contains('checkout-svc', 'out')",
                output: "true",
            },
            pure: true,
        },
        FunctionDef {
            name: "length",
            kind: FunctionKind::Scalar(length),
            params: const { &[Param::new("s", STRING)] },
            returns: "INT64",
            doc: "Length of a string in bytes.",
            example: Example {
                input: "px.length('hello')",
                output: "5",
            },
            pure: true,
        },
        FunctionDef {
            name: "find",
            kind: FunctionKind::Scalar(find),
            params: const { &[Param::new("arg1", STRING), Param::new("arg2", STRING)] },
            returns: "INT64",
            doc: "Byte index of the first occurrence of arg2 in arg1, or -1.",
            example: Example {
                input: "px.find('pixie-labs', '-labs')",
                output: "5",
            },
            pure: true,
        },
        FunctionDef {
            name: "substring",
            kind: FunctionKind::Scalar(substring),
            params: const { &[
                Param::new("string", STRING),
                Param::new("pos", INT),
                Param::new("length", INT),
            ] },
            returns: "STRING",
            doc: "Up to `length` bytes of `string` from byte `pos`; '' when pos or length is out of range.",
            example: Example {
                input: "px.substring('checkout', 1, 5)",
                output: "\"hecko\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "tolower",
            kind: FunctionKind::Scalar(tolower),
            params: const { &[Param::new("string", STRING)] },
            returns: "STRING",
            doc: "The string with ASCII uppercase letters lowercased.",
            example: Example {
                input: "px.tolower('Kelvin')",
                output: "\"kelvin\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "toupper",
            kind: FunctionKind::Scalar(toupper),
            params: const { &[Param::new("string", STRING)] },
            returns: "STRING",
            doc: "The string with ASCII lowercase letters uppercased.",
            example: Example {
                input: "px.toupper('Kelvin')",
                output: "\"KELVIN\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "trim",
            kind: FunctionKind::Scalar(trim),
            params: const { &[Param::new("string", STRING)] },
            returns: "STRING",
            doc: "The string without leading and trailing ASCII whitespace.",
            example: Example {
                input: "px.trim('   pl/kelvin ')",
                output: "\"pl/kelvin\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "strip_prefix",
            kind: FunctionKind::Scalar(strip_prefix),
            params: const { &[Param::new("prefix", STRING), Param::new("string", STRING)] },
            returns: "STRING",
            doc: "`string` without `prefix` at its start (unchanged when it does not start with it).",
            example: Example {
                input: "px.strip_prefix('pl/', 'pl/kelvin')",
                output: "\"kelvin\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "atoi",
            kind: FunctionKind::Scalar(atoi),
            params: const { &[
                Param::new("arg1", STRING),
                Param::with_default("arg2", INT, "0"),
            ] },
            returns: "INT64",
            doc: "The string parsed as a base-10 integer, or arg2 (default 0) when it is not one.",
            example: Example {
                input: "px.atoi('42x', -1)",
                output: "-1",
            },
            pure: true,
        },
        FunctionDef {
            name: "itoa",
            kind: FunctionKind::Scalar(itoa),
            params: const { &[Param::new("arg1", INT)] },
            returns: "STRING",
            doc: "The integer as a base-10 string.",
            example: Example {
                input: "px.itoa(-42)",
                output: "\"-42\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "regex_match",
            kind: FunctionKind::Scalar(regex_match),
            params: const { &[Param::new("arg1", STRING), Param::new("arg2", STRING)] },
            returns: "BOOLEAN",
            doc: "Whether the regex arg1 (a literal; `.` matches newlines) matches the whole of arg2.",
            example: Example {
                input: "px.regex_match('.*/api/v[0-9]+', '/api/v1')",
                output: "true",
            },
            pure: true,
        },
        FunctionDef {
            name: "replace",
            kind: FunctionKind::Scalar(replace),
            params: const { &[
                Param::new("arg1", STRING),
                Param::new("arg2", STRING),
                Param::new("arg3", STRING),
            ] },
            returns: "STRING",
            doc: r"arg2 with every match of the regex arg1 (a literal) replaced by arg3; \1..\9 insert capture groups.",
            example: Example {
                input: r"px.replace('10\.0\.0\.[0-9]+', 'from 10.0.0.7', 'IP')",
                output: "\"from IP\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "pluck",
            kind: FunctionKind::Scalar(pluck),
            params: const { &[Param::new("json_str", STRING), Param::new("key", STRING)] },
            returns: "STRING",
            doc: "The value of `key` in a JSON object: strings as is, other values as compact JSON, '' when missing or null.",
            example: Example {
                input: r#"px.pluck('{"a": {"b": [1, 2]}}', 'a')"#,
                output: r#""{\"b\":[1,2]}""#,
            },
            pure: true,
        },
        FunctionDef {
            name: "pluck_int64",
            kind: FunctionKind::Scalar(pluck_int64),
            params: const { &[Param::new("json_str", STRING), Param::new("key", STRING)] },
            returns: "INT64",
            doc: "The integer value of `key` in a JSON object; 0 when missing or not an integer.",
            example: Example {
                input: r#"px.pluck_int64('{"status_code": 200}', 'status_code')"#,
                output: "200",
            },
            pure: true,
        },
        FunctionDef {
            name: "pluck_float64",
            kind: FunctionKind::Scalar(pluck_float64),
            params: const { &[Param::new("json_str", STRING), Param::new("key", STRING)] },
            returns: "FLOAT64",
            doc: "The value of `key` in a JSON object when it is written as a float (`5.0`, `1e3`); 0.0 otherwise, including integers, as in Pixie.",
            example: Example {
                input: r#"px.pluck_float64('{"p50": 5.1, "p90": 10}', 'p50')"#,
                output: "5.1",
            },
            pure: true,
        },
        FunctionDef {
            name: "pluck_array",
            kind: FunctionKind::Scalar(pluck_array),
            params: const { &[Param::new("json_str", STRING), Param::new("index", INT)] },
            returns: "STRING",
            doc: "Element `index` of a JSON array, as px.pluck renders values; '' when out of range or not an array.",
            example: Example {
                input: r#"px.pluck_array('["foo", "bar"]', 1)"#,
                output: "\"bar\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "split",
            kind: FunctionKind::Scalar(split),
            params: const { &[Param::new("input_str", STRING), Param::new("delimiter", STRING)] },
            returns: "STRING",
            doc: "The parts of the string between delimiters, as a JSON array (read with px.pluck_array).",
            example: Example {
                input: "px.split('By=a;URI=b', ';')",
                output: r#""[\"By=a\",\"URI=b\"]""#,
            },
            pure: true,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::re2_rewrite;

    #[test]
    fn rewrites_re2_substitutions() {
        assert_eq!(re2_rewrite(r"<\1>"), "<${1}>");
        assert_eq!(re2_rewrite(r"a\\b$"), r"a\b$$");
    }
}
