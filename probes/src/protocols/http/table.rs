//! `HttpRecord` → a row of `http_events`.

use std::borrow::Cow;

use super::types::{HttpBody, HttpRecord};
use crate::protocols::rows::{common_cell, Cell, SocketRow, TableRow, Value, TRUNCATED_MARKER};
use crate::protocols::RecordCommon;

/// Pixie's `content_type` values.
pub const CONTENT_TYPE_UNKNOWN: i64 = 0;
pub const CONTENT_TYPE_JSON: i64 = 1;

impl TableRow for HttpRecord {
    const TABLE: &'static str = "http_events";

    fn cell(column: &str) -> Option<Cell<Self>> {
        let cell: Cell<Self> = match column {
            "major_version" => |_| Value::Int(1),
            "minor_version" => |r| Value::Int(i64::from(r.resp.minor_version)),
            "content_type" => |r| Value::Int(content_type(&r.resp.headers)),
            "req_headers" => |r| Value::Str(Cow::Owned(headers_json(&r.req.headers))),
            "req_method" => |r| Value::Str(Cow::Borrowed(&r.req.method)),
            "req_path" => |r| Value::Str(Cow::Borrowed(&r.req.path)),
            "req_body" => |r| Value::Str(body_text(&r.req.body)),
            "req_body_size" => |r| Value::Int(clamp(r.req.body.size)),
            "resp_headers" => |r| Value::Str(Cow::Owned(headers_json(&r.resp.headers))),
            "resp_status" => |r| Value::Int(i64::from(r.resp.status)),
            "resp_message" => |r| Value::Str(Cow::Borrowed(&r.resp.message)),
            "resp_body" => |r| Value::Str(body_text(&r.resp.body)),
            "resp_body_size" => |r| Value::Int(clamp(r.resp.body.size)),
            _ => return common_cell(column),
        };
        Some(cell)
    }
}

impl SocketRow for HttpRecord {
    fn common(&self) -> &RecordCommon {
        &self.common
    }
}

fn clamp(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

/// Pixie's rule: JSON if the response's `Content-Type` mentions `json`.
pub fn content_type(resp_headers: &[(String, String)]) -> i64 {
    let json = resp_headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .is_some_and(|(_, v)| v.contains("json"));
    if json {
        CONTENT_TYPE_JSON
    } else {
        CONTENT_TYPE_UNKNOWN
    }
}

/// Headers as a JSON object, the way Pixie renders its header multimap:
/// keys ordered case-insensitively, a repeated header repeated as a key.
pub fn headers_json(headers: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = headers.iter().collect();
    sorted.sort_by_cached_key(|(k, _)| k.to_ascii_lowercase());
    let mut out = String::with_capacity(2 + headers.len() * 32);
    out.push('{');
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_str(k));
        out.push(':');
        out.push_str(&json_str(v));
    }
    out.push('}');
    out
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// The kept body as text, with Pixie's marker when it was cut.
pub fn body_text(body: &HttpBody) -> Cow<'_, str> {
    let text = String::from_utf8_lossy(&body.kept);
    if body.is_truncated() {
        Cow::Owned(format!("{text}{TRUNCATED_MARKER}"))
    } else {
        text
    }
}
