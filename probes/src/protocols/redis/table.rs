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
use crate::protocols::rows::{
    cap_string, common_cell, Cell, SocketRow, TableRow, Value, MAX_STRING_BYTES,
};
use crate::protocols::RecordCommon;

impl TableRow for RedisRecord {
    const TABLE: &'static str = "redis_events";

    fn cell(column: &str) -> Option<Cell<Self>> {
        let cell: Cell<Self> = match column {
            "req_cmd" => |r| Value::Str(Cow::Borrowed(&r.req_cmd)),
            "req_args" => |r| Value::Str(cap_string(&r.req_args, MAX_STRING_BYTES)),
            "resp" => |r| Value::Str(cap_string(&r.resp, MAX_STRING_BYTES)),
            _ => return common_cell(column),
        };
        Some(cell)
    }
}

impl SocketRow for RedisRecord {
    fn common(&self) -> &RecordCommon {
        &self.common
    }
}

/// `b` as text, replacing invalid UTF-8. Nearly every Redis word is short
/// ASCII: `is_ascii` checks it a word at a time, where `from_utf8_lossy`
/// walks byte by byte (and `from_utf8` costs about a hundred instructions
/// per call before its fast path pays off).
pub(super) fn lossy(b: &[u8]) -> Cow<'_, str> {
    if b.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        return Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(b) });
    }
    String::from_utf8_lossy(b)
}

fn text(b: &[u8]) -> String {
    lossy(b).into_owned()
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
