//! Redis frames and records.

use crate::protocols::RecordCommon;

/// One RESP2/RESP3 value. Scalars borrow their bytes from the stream
/// buffer they were parsed from (no copy per element: every request the
/// tracer sees is parsed, twice when both ends are traced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespValue<'a> {
    /// `+OK`
    Simple(&'a [u8]),
    /// `-ERR …`
    Error(&'a [u8]),
    /// `:42` (kept as text)
    Integer(&'a [u8]),
    /// `$3 foo`
    Bulk(&'a [u8]),
    /// `$-1` (RESP2 null bulk string) or `_` (RESP3 null)
    Null,
    /// `*-1` (RESP2 null array)
    NullArray,
    /// `*n …`
    Array(Vec<RespValue<'a>>),
    /// `,3.14` (RESP3)
    Double(&'a [u8]),
    /// `#t` / `#f` (RESP3)
    Boolean(bool),
    /// `(3492890328409238509324850943850943825024385` (RESP3)
    BigNumber(&'a [u8]),
    /// `!21 SYNTAX invalid syntax` (RESP3)
    BulkError(&'a [u8]),
    /// `=15 txt:Some string` (RESP3); the 3-letter format and `:` are dropped.
    Verbatim(&'a [u8]),
    /// `%n k v …` (RESP3)
    Map(Vec<(RespValue<'a>, RespValue<'a>)>),
    /// `~n …` (RESP3)
    Set(Vec<RespValue<'a>>),
    /// `>n …` (RESP3 out-of-band push: pub/sub messages, invalidations)
    Push(Vec<RespValue<'a>>),
}

/// One frame on the wire: a RESP value, or an inline command
/// (`PING\r\n`, as typed into telnet) split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisFrame<'a> {
    Value(RespValue<'a>),
    Inline(Vec<&'a [u8]>),
}

/// A parsed request waiting for its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisRequest {
    /// Upper-case command, two words for container commands (`CONFIG GET`).
    pub cmd: String,
    /// Arguments as JSON (Pixie's `req_args`).
    pub args: String,
    pub timestamp_ns: u64,
    /// For `SUBSCRIBE`-family commands: how many confirmations to expect.
    pub expected_replies: usize,
}

/// A request and its response, or a pushed message with no request: one
/// row of `redis_events`.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisRecord {
    pub common: RecordCommon,
    pub req_cmd: String,
    pub req_args: String,
    pub resp: String,
}
