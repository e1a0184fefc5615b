//! `HttpRecord` → a row of `http_events`.

use std::borrow::Cow;

use super::types::{HttpBody, HttpRecord};
use crate::protocols::rows::{common_value, TableRow, Value, TRUNCATED_MARKER};

/// Pixie's `content_type` values.
pub const CONTENT_TYPE_UNKNOWN: i64 = 0;
pub const CONTENT_TYPE_JSON: i64 = 1;

impl TableRow for HttpRecord {
    const TABLE: &'static str = "http_events";

    fn value(&self, column: &str) -> Option<Value<'_>> {
        let s = |v: &str| Some(Value::Str(Cow::Owned(v.to_string())));
        match column {
            "major_version" => Some(Value::Int(1)),
            "minor_version" => Some(Value::Int(i64::from(self.resp.minor_version))),
            "content_type" => Some(Value::Int(content_type(&self.resp.headers))),
            "req_headers" => s(&headers_json(&self.req.headers)),
            "req_method" => Some(Value::Str(Cow::Borrowed(&self.req.method))),
            "req_path" => Some(Value::Str(Cow::Borrowed(&self.req.path))),
            "req_body" => Some(Value::Str(body_text(&self.req.body))),
            "req_body_size" => Some(Value::Int(clamp(self.req.body.size))),
            "resp_headers" => s(&headers_json(&self.resp.headers)),
            "resp_status" => Some(Value::Int(i64::from(self.resp.status))),
            "resp_message" => Some(Value::Str(Cow::Borrowed(&self.resp.message))),
            "resp_body" => Some(Value::Str(body_text(&self.resp.body))),
            "resp_body_size" => Some(Value::Int(clamp(self.resp.body.size))),
            _ => common_value(&self.common, column),
        }
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
