//! Redis frames and records.

use crate::protocols::RecordCommon;

/// One RESP2/RESP3 value. Scalars keep their bytes as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RespValue {
    /// `+OK`
    Simple(Vec<u8>),
    /// `-ERR …`
    Error(Vec<u8>),
    /// `:42` (kept as text)
    Integer(Vec<u8>),
    /// `$3 foo`
    Bulk(Vec<u8>),
    /// `$-1` (RESP2 null bulk string) or `_` (RESP3 null)
    Null,
    /// `*-1` (RESP2 null array)
    NullArray,
    /// `*n …`
    Array(Vec<RespValue>),
    /// `,3.14` (RESP3)
    Double(Vec<u8>),
    /// `#t` / `#f` (RESP3)
    Boolean(bool),
    /// `(3492890328409238509324850943850943825024385` (RESP3)
    BigNumber(Vec<u8>),
    /// `!21 SYNTAX invalid syntax` (RESP3)
    BulkError(Vec<u8>),
    /// `=15 txt:Some string` (RESP3); the 3-letter format and `:` are dropped.
    Verbatim(Vec<u8>),
    /// `%n k v …` (RESP3)
    Map(Vec<(RespValue, RespValue)>),
    /// `~n …` (RESP3)
    Set(Vec<RespValue>),
    /// `>n …` (RESP3 out-of-band push: pub/sub messages, invalidations)
    Push(Vec<RespValue>),
}

/// One frame on the wire: a RESP value, or an inline command
/// (`PING\r\n`, as typed into telnet) split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisFrame {
    Value(RespValue),
    Inline(Vec<Vec<u8>>),
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
