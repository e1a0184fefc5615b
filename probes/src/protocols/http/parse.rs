//! HTTP/1.x bytes → messages. The start line and headers are decoded by
//! `httparse`; bodies (Content-Length, chunked, until close) by
//! [`BodyDecoder`], which is incremental so that a connection never has to
//! buffer a whole body: it keeps at most `max_body_bytes` and counts the rest.
//!
//! [`parse_message`] is the pure, whole-frame view used by tests and the
//! bench: it consumes nothing unless a whole message is present.

use super::types::{BodyMode, HttpBody, HttpHead, HttpMessage, StartLine};
use crate::protocols::stream::Parsed;

/// Most header fields accepted in one message.
pub const MAX_HEADERS: usize = 64;
/// Largest start line + header block accepted; beyond it the bytes are not HTTP.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Longest chunk-size line (with extensions) or trailer line.
const MAX_LINE_BYTES: usize = 8 * 1024;

const METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"PUT ",
    b"DELETE ",
    b"HEAD ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];
const RESPONSE_PREFIX: &[u8] = b"HTTP/1.";

/// True if `buf` starts like a request or a response, or is a prefix of
/// such a start (so a resync keeps a start split across chunks).
pub fn could_start(buf: &[u8]) -> bool {
    METHODS
        .iter()
        .chain(std::iter::once(&RESPONSE_PREFIX))
        .any(|t| {
            if buf.len() >= t.len() {
                buf.starts_with(t)
            } else {
                t.starts_with(buf)
            }
        })
}

/// True if `buf` starts with a request method token and a space.
pub fn starts_with_method(buf: &[u8]) -> bool {
    METHODS.iter().any(|m| buf.starts_with(m))
}

/// Parses a start line and headers. `consumed` is the head's length
/// (including the blank line).
pub fn parse_head(buf: &[u8]) -> Parsed<HttpHead> {
    if buf.is_empty() {
        return Parsed::NeedMore;
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let result = if buf.starts_with(b"HTTP/") || RESPONSE_PREFIX.starts_with(buf) {
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(buf) {
            Ok(httparse::Status::Complete(n)) => {
                let (Some(status), Some(minor)) = (resp.code, resp.version) else {
                    return Parsed::Invalid("incomplete status line");
                };
                let head = HttpHead {
                    start: StartLine::Response {
                        status,
                        reason: resp.reason.unwrap_or("").to_string(),
                    },
                    minor_version: minor,
                    headers: owned_headers(resp.headers),
                };
                Ok(Some((head, n)))
            }
            Ok(httparse::Status::Partial) => Ok(None),
            Err(e) => Err(e),
        }
    } else {
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(n)) => {
                let (Some(method), Some(path), Some(minor)) = (req.method, req.path, req.version)
                else {
                    return Parsed::Invalid("incomplete request line");
                };
                let head = HttpHead {
                    start: StartLine::Request {
                        method: method.to_string(),
                        path: path.to_string(),
                    },
                    minor_version: minor,
                    headers: owned_headers(req.headers),
                };
                Ok(Some((head, n)))
            }
            Ok(httparse::Status::Partial) => Ok(None),
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(Some((head, consumed))) => Parsed::Frame {
            frame: head,
            consumed,
        },
        Ok(None) if buf.len() > MAX_HEAD_BYTES => Parsed::Invalid("header block too large"),
        Ok(None) => Parsed::NeedMore,
        Err(httparse::Error::TooManyHeaders) => Parsed::Invalid("too many headers"),
        Err(_) => Parsed::Invalid("malformed start line or header"),
    }
}

fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// How the body of a message with this head is delimited. For a response,
/// `request_method` is the method of the request it answers, if known.
pub fn body_mode(head: &HttpHead, request_method: Option<&str>) -> Result<BodyMode, &'static str> {
    let chunked = head.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding")
            && v.rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
    });
    let length = match head.header("content-length") {
        Some(v) => Some(
            v.trim()
                .parse::<u64>()
                .map_err(|_| "invalid Content-Length")?,
        ),
        None => None,
    };
    match &head.start {
        StartLine::Request { .. } => Ok(if chunked {
            BodyMode::Chunked
        } else {
            match length {
                Some(0) | None => BodyMode::None,
                Some(n) => BodyMode::Length(n),
            }
        }),
        StartLine::Response { status, .. } => {
            let method = request_method.unwrap_or("");
            if (100..200).contains(status)
                || *status == 204
                || *status == 304
                || method.eq_ignore_ascii_case("HEAD")
                || (method.eq_ignore_ascii_case("CONNECT") && (200..300).contains(status))
            {
                return Ok(BodyMode::None);
            }
            Ok(if chunked {
                BodyMode::Chunked
            } else {
                match length {
                    Some(0) => BodyMode::None,
                    Some(n) => BodyMode::Length(n),
                    None => BodyMode::UntilClose,
                }
            })
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    Length { remaining: u64 },
    ChunkSize,
    ChunkData { remaining: u64 },
    ChunkDataEnd,
    Trailers,
    UntilClose,
    Done,
}

/// Whether a body is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyProgress {
    Done,
    NeedMore,
}

/// Decodes one body incrementally, keeping its first `max_keep` bytes.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    state: BodyState,
    max_keep: usize,
    body: HttpBody,
}

impl BodyDecoder {
    pub fn new(mode: BodyMode, max_keep: usize) -> Self {
        let state = match mode {
            BodyMode::None | BodyMode::Length(0) => BodyState::Done,
            BodyMode::Length(n) => BodyState::Length { remaining: n },
            BodyMode::Chunked => BodyState::ChunkSize,
            BodyMode::UntilClose => BodyState::UntilClose,
        };
        BodyDecoder {
            state,
            max_keep,
            body: HttpBody::default(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.state == BodyState::Done
    }

    fn take_data(&mut self, data: &[u8]) {
        self.body.size += data.len() as u64;
        if !self.body.gap {
            let room = self.max_keep.saturating_sub(self.body.kept.len());
            self.body
                .kept
                .extend_from_slice(&data[..room.min(data.len())]);
        }
    }

    /// Consumes as much of `buf` as belongs to the body. Returns the bytes
    /// consumed and whether the body is complete; a partial chunk-size or
    /// trailer line is left unconsumed.
    pub fn feed(&mut self, buf: &[u8]) -> Result<(usize, BodyProgress), &'static str> {
        let mut pos = 0;
        loop {
            let rest = &buf[pos..];
            match self.state {
                BodyState::Done => return Ok((pos, BodyProgress::Done)),
                BodyState::Length { remaining } => {
                    let n = remaining.min(rest.len() as u64) as usize;
                    self.take_data(&rest[..n]);
                    pos += n;
                    let remaining = remaining - n as u64;
                    if remaining == 0 {
                        self.state = BodyState::Done;
                    } else {
                        self.state = BodyState::Length { remaining };
                        return Ok((pos, BodyProgress::NeedMore));
                    }
                }
                BodyState::UntilClose => {
                    self.take_data(rest);
                    pos += rest.len();
                    return Ok((pos, BodyProgress::NeedMore));
                }
                BodyState::ChunkSize => {
                    let Some(line_len) = memchr::memchr(b'\n', rest) else {
                        if rest.len() > MAX_LINE_BYTES {
                            return Err("chunk-size line too long");
                        }
                        return Ok((pos, BodyProgress::NeedMore));
                    };
                    let line = trim_cr(&rest[..line_len]);
                    let size = parse_chunk_size(line)?;
                    pos += line_len + 1;
                    self.state = if size == 0 {
                        BodyState::Trailers
                    } else {
                        BodyState::ChunkData { remaining: size }
                    };
                }
                BodyState::ChunkData { remaining } => {
                    let n = remaining.min(rest.len() as u64) as usize;
                    self.take_data(&rest[..n]);
                    pos += n;
                    let remaining = remaining - n as u64;
                    if remaining == 0 {
                        self.state = BodyState::ChunkDataEnd;
                    } else {
                        self.state = BodyState::ChunkData { remaining };
                        return Ok((pos, BodyProgress::NeedMore));
                    }
                }
                BodyState::ChunkDataEnd => {
                    if rest.starts_with(b"\r\n") {
                        pos += 2;
                    } else if rest.starts_with(b"\n") {
                        pos += 1;
                    } else if rest.is_empty() || rest == b"\r" {
                        return Ok((pos, BodyProgress::NeedMore));
                    } else {
                        return Err("chunk data not followed by CRLF");
                    }
                    self.state = BodyState::ChunkSize;
                }
                BodyState::Trailers => {
                    let Some(line_len) = memchr::memchr(b'\n', rest) else {
                        if rest.len() > MAX_LINE_BYTES {
                            return Err("trailer line too long");
                        }
                        return Ok((pos, BodyProgress::NeedMore));
                    };
                    let empty = trim_cr(&rest[..line_len]).is_empty();
                    pos += line_len + 1;
                    if empty {
                        self.state = BodyState::Done;
                    }
                }
            }
        }
    }

    /// The kernel skipped `n` bytes of this body (it copied only a prefix of
    /// a syscall). Returns false if the gap cannot lie inside body data (so
    /// the stream has lost its framing).
    pub fn absorb_gap(&mut self, n: u64) -> bool {
        match self.state {
            BodyState::Length { remaining } if n <= remaining => {
                self.body.size += n;
                self.body.gap = true;
                let remaining = remaining - n;
                self.state = if remaining == 0 {
                    BodyState::Done
                } else {
                    BodyState::Length { remaining }
                };
                true
            }
            BodyState::ChunkData { remaining } if n <= remaining => {
                self.body.size += n;
                self.body.gap = true;
                let remaining = remaining - n;
                self.state = if remaining == 0 {
                    BodyState::ChunkDataEnd
                } else {
                    BodyState::ChunkData { remaining }
                };
                true
            }
            BodyState::UntilClose => {
                self.body.size += n;
                self.body.gap = true;
                true
            }
            _ => false,
        }
    }

    /// The connection closed: a body delimited by the close is complete.
    pub fn finish_at_close(&mut self) -> bool {
        if self.state == BodyState::UntilClose {
            self.state = BodyState::Done;
        }
        self.is_done()
    }

    pub fn into_body(self) -> HttpBody {
        self.body
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn parse_chunk_size(line: &[u8]) -> Result<u64, &'static str> {
    let end = line
        .iter()
        .position(|&b| b == b';' || b == b' ' || b == b'\t')
        .unwrap_or(line.len());
    let hex = &line[..end];
    if hex.is_empty() || hex.len() > 15 {
        return Err("invalid chunk size");
    }
    let mut size = 0u64;
    for &b in hex {
        let d = (b as char).to_digit(16).ok_or("invalid chunk size")?;
        size = size * 16 + u64::from(d);
    }
    Ok(size)
}

/// Parses one whole message at the start of `buf`. Nothing is consumed
/// unless the message (head and body) is complete. A response whose body
/// runs until the connection closes is never complete here.
pub fn parse_message(
    buf: &[u8],
    request_method: Option<&str>,
    max_body_bytes: usize,
) -> Parsed<HttpMessage> {
    let (head, head_len) = match parse_head(buf) {
        Parsed::Frame { frame, consumed } => (frame, consumed),
        Parsed::NeedMore => return Parsed::NeedMore,
        Parsed::Invalid(why) => return Parsed::Invalid(why),
    };
    let mode = match body_mode(&head, request_method) {
        Ok(m) => m,
        Err(why) => return Parsed::Invalid(why),
    };
    let mut decoder = BodyDecoder::new(mode, max_body_bytes);
    match decoder.feed(&buf[head_len..]) {
        Ok((n, BodyProgress::Done)) => Parsed::Frame {
            frame: HttpMessage {
                head,
                body: decoder.into_body(),
                timestamp_ns: 0,
            },
            consumed: head_len + n,
        },
        Ok((_, BodyProgress::NeedMore)) => Parsed::NeedMore,
        Err(why) => Parsed::Invalid(why),
    }
}
