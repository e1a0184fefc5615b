//! Redis values → Pixie's text, and `RedisRecord` → a row of `redis_events`.
//!
//! Pixie's renderings: simple strings and bulk strings as their text,
//! errors with a leading `-`, integers as digits, a null bulk string as
//! `<NULL>`, a null array as `[NULL]`, arrays as a JSON array of their
//! elements' renderings. RESP3 additions follow the same idea: doubles and
//! big numbers as text, booleans `true`/`false`, blob errors with `-`,
//! verbatim strings without their format prefix, sets and pushes as arrays,
//! maps as a JSON object of renderings.

use std::borrow::Cow;

use super::commands::{json_array, json_str};
use super::types::{RedisRecord, RespValue};
use crate::protocols::rows::{cap_string, common_value, TableRow, Value, MAX_STRING_BYTES};

impl TableRow for RedisRecord {
    const TABLE: &'static str = "redis_events";

    fn value(&self, column: &str) -> Option<Value<'_>> {
        match column {
            "req_cmd" => Some(Value::Str(Cow::Borrowed(&self.req_cmd))),
            "req_args" => Some(Value::Str(cap_string(&self.req_args, MAX_STRING_BYTES))),
            "resp" => Some(Value::Str(cap_string(&self.resp, MAX_STRING_BYTES))),
            _ => common_value(&self.common, column),
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Pixie's text for a value.
pub fn render(v: &RespValue<'_>) -> String {
    match v {
        RespValue::Simple(b) | RespValue::Integer(b) | RespValue::Bulk(b) => text(b),
        RespValue::Double(b) | RespValue::BigNumber(b) | RespValue::Verbatim(b) => text(b),
        RespValue::Error(b) | RespValue::BulkError(b) => format!("-{}", text(b)),
        RespValue::Null => "<NULL>".to_string(),
        RespValue::NullArray => "[NULL]".to_string(),
        RespValue::Boolean(b) => b.to_string(),
        RespValue::Array(items) | RespValue::Set(items) | RespValue::Push(items) => {
            let parts: Vec<String> = items.iter().map(render).collect();
            json_array(&parts)
        }
        RespValue::Map(pairs) => {
            let mut out = String::from("{");
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_str(&render(k)));
                out.push(':');
                out.push_str(&json_str(&render(v)));
            }
            out.push('}');
            out
        }
    }
}
