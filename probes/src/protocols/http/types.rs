//! HTTP/1.x frames and records.

use crate::protocols::RecordCommon;

/// The part of a message before its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHead {
    pub start: StartLine,
    /// 0 or 1 (`HTTP/1.0`, `HTTP/1.1`).
    pub minor_version: u8,
    /// Header fields in wire order, names as sent.
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, path: String },
    Response { status: u16, reason: String },
}

impl HttpHead {
    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }
}

/// How a message's body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    /// No body (requests without a length, HEAD responses, 1xx/204/304).
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// A response without a length: the body runs until the connection closes.
    UntilClose,
}

/// A body as kept in a record: a bounded prefix plus the real size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpBody {
    /// At most `max_body_bytes` of the (de-chunked) body.
    pub kept: Vec<u8>,
    /// The body's size before any truncation (de-chunked).
    pub size: u64,
    /// The kernel copied only part of a syscall inside this body.
    pub gap: bool,
}

impl HttpBody {
    pub fn is_truncated(&self) -> bool {
        self.size > self.kept.len() as u64
    }
}

/// One whole message, as the parser produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMessage {
    pub head: HttpHead,
    pub body: HttpBody,
    /// Timestamp of the chunk holding the message's first byte.
    pub timestamp_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRequest {
    pub method: String,
    /// Path with query, as sent.
    pub path: String,
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
    pub body: HttpBody,
    pub timestamp_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub message: String,
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
    pub body: HttpBody,
    pub timestamp_ns: u64,
}

/// A request and its response: one row of `http_events`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRecord {
    pub common: RecordCommon,
    pub req: HttpRequest,
    pub resp: HttpResponse,
}

impl HttpMessage {
    pub fn into_request(self) -> Option<HttpRequest> {
        match self.head.start {
            StartLine::Request { method, path } => Some(HttpRequest {
                method,
                path,
                minor_version: self.head.minor_version,
                headers: self.head.headers,
                body: self.body,
                timestamp_ns: self.timestamp_ns,
            }),
            StartLine::Response { .. } => None,
        }
    }

    pub fn into_response(self) -> Option<HttpResponse> {
        match self.head.start {
            StartLine::Response { status, reason } => Some(HttpResponse {
                status,
                message: reason,
                minor_version: self.head.minor_version,
                headers: self.head.headers,
                body: self.body,
                timestamp_ns: self.timestamp_ns,
            }),
            StartLine::Request { .. } => None,
        }
    }
}
