//! RESP bytes → frames, by hand.
//!
//! Why not a crate: `redis-protocol` (nom-based) was the candidate. It has
//! separate RESP2 and RESP3 decoders that the caller picks between, while a
//! traced connection switches mid-stream (`HELLO 3`) and we must read both;
//! it does not decode inline commands (`PING\r\n`); and it would bring nom
//! and cookie-factory for what is ~200 lines of line-and-length framing.
//! Here every length is bounded, nesting is bounded ([`MAX_DEPTH`]), and
//! "need more" consumes nothing.

use super::types::{RedisFrame, RespValue};
use crate::protocols::stream::Parsed;

/// Deepest nesting of aggregates accepted (real replies nest 2–3 deep).
pub const MAX_DEPTH: usize = 32;
/// Longest line (simple string, error, number, inline command) accepted.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Largest bulk string accepted (Redis' own limit is 512 MB).
pub const MAX_BULK_BYTES: i64 = 512 * 1024 * 1024;
/// Most elements in one aggregate.
pub const MAX_ELEMENTS: i64 = 1 << 20;

/// RESP2 and RESP3 type bytes.
pub const TYPE_BYTES: &[u8] = b"*$+-:_,#%~>=(!|";

enum Stop {
    NeedMore,
    Invalid(&'static str),
}

type Res<T> = Result<T, Stop>;

/// Reads a CRLF-terminated line starting at `*pos`; advances past the CRLF.
fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Res<&'a [u8]> {
    let rest = &buf[*pos..];
    let Some(nl) = memchr::memchr(b'\n', rest) else {
        if rest.len() > MAX_LINE_BYTES {
            return Err(Stop::Invalid("line too long"));
        }
        return Err(Stop::NeedMore);
    };
    if nl == 0 || rest[nl - 1] != b'\r' {
        return Err(Stop::Invalid("line not terminated by CRLF"));
    }
    *pos += nl + 1;
    Ok(&rest[..nl - 1])
}

fn int(text: &[u8]) -> Res<i64> {
    if text.is_empty() || text.len() > 20 {
        return Err(Stop::Invalid("bad length"));
    }
    let (neg, digits) = match text.split_first() {
        Some((b'-', d)) => (true, d),
        _ => (false, text),
    };
    if digits.is_empty() {
        return Err(Stop::Invalid("bad length"));
    }
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(Stop::Invalid("bad length"));
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .ok_or(Stop::Invalid("bad length"))?;
    }
    Ok(if neg { -v } else { v })
}

/// Reads `len` bytes plus CRLF.
fn blob<'a>(buf: &'a [u8], pos: &mut usize, len: i64) -> Res<&'a [u8]> {
    if !(0..=MAX_BULK_BYTES).contains(&len) {
        return Err(Stop::Invalid("bad bulk length"));
    }
    let len = len as usize;
    let rest = &buf[*pos..];
    if rest.len() < len + 2 {
        // A CRLF that is already visible in the wrong place is invalid.
        if rest.len() > len && rest[len] != b'\r' {
            return Err(Stop::Invalid("bulk string not terminated by CRLF"));
        }
        return Err(Stop::NeedMore);
    }
    if &rest[len..len + 2] != b"\r\n" {
        return Err(Stop::Invalid("bulk string not terminated by CRLF"));
    }
    *pos += len + 2;
    Ok(&rest[..len])
}

fn count(text: &[u8]) -> Res<Option<usize>> {
    let n = int(text)?;
    if n == -1 {
        return Ok(None);
    }
    if !(0..=MAX_ELEMENTS).contains(&n) {
        return Err(Stop::Invalid("bad element count"));
    }
    Ok(Some(n as usize))
}

fn elements<'a>(buf: &'a [u8], pos: &mut usize, n: usize, depth: usize) -> Res<Vec<RespValue<'a>>> {
    let mut v = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        v.push(value(buf, pos, depth + 1)?);
    }
    Ok(v)
}

fn value<'a>(buf: &'a [u8], pos: &mut usize, depth: usize) -> Res<RespValue<'a>> {
    if depth > MAX_DEPTH {
        return Err(Stop::Invalid("nesting too deep"));
    }
    let Some(&t) = buf.get(*pos) else {
        return Err(Stop::NeedMore);
    };
    *pos += 1;
    Ok(match t {
        b'+' => RespValue::Simple(line(buf, pos)?),
        b'-' => RespValue::Error(line(buf, pos)?),
        b':' => {
            let l = line(buf, pos)?;
            int(l)?;
            RespValue::Integer(l)
        }
        b'$' => match int(line(buf, pos)?)? {
            -1 => RespValue::Null,
            n => RespValue::Bulk(blob(buf, pos, n)?),
        },
        b'*' => match count(line(buf, pos)?)? {
            None => RespValue::NullArray,
            Some(n) => RespValue::Array(elements(buf, pos, n, depth)?),
        },
        b'_' => {
            if !line(buf, pos)?.is_empty() {
                return Err(Stop::Invalid("null with payload"));
            }
            RespValue::Null
        }
        b',' => RespValue::Double(line(buf, pos)?),
        b'#' => match line(buf, pos)? {
            b"t" => RespValue::Boolean(true),
            b"f" => RespValue::Boolean(false),
            _ => return Err(Stop::Invalid("bad boolean")),
        },
        b'(' => RespValue::BigNumber(line(buf, pos)?),
        b'!' => {
            let n = int(line(buf, pos)?)?;
            RespValue::BulkError(blob(buf, pos, n)?)
        }
        b'=' => {
            let n = int(line(buf, pos)?)?;
            let b = blob(buf, pos, n)?;
            // `txt:` / `mkd:` prefix.
            RespValue::Verbatim(if b.len() >= 4 && b[3] == b':' {
                &b[4..]
            } else {
                b
            })
        }
        b'%' => {
            let Some(n) = count(line(buf, pos)?)? else {
                return Ok(RespValue::Null);
            };
            let mut m = Vec::with_capacity(n.min(64));
            for _ in 0..n {
                let k = value(buf, pos, depth + 1)?;
                let v = value(buf, pos, depth + 1)?;
                m.push((k, v));
            }
            RespValue::Map(m)
        }
        b'~' => match count(line(buf, pos)?)? {
            None => RespValue::Null,
            Some(n) => RespValue::Set(elements(buf, pos, n, depth)?),
        },
        b'>' => match count(line(buf, pos)?)? {
            None => RespValue::Null,
            Some(n) => RespValue::Push(elements(buf, pos, n, depth)?),
        },
        b'|' => {
            // Attributes describe the reply that follows; keep the reply.
            let Some(n) = count(line(buf, pos)?)? else {
                return Err(Stop::Invalid("null attribute"));
            };
            for _ in 0..n {
                value(buf, pos, depth + 1)?;
                value(buf, pos, depth + 1)?;
            }
            value(buf, pos, depth + 1)?
        }
        _ => return Err(Stop::Invalid("unknown RESP type byte")),
    })
}

/// Parses one RESP value at the start of `buf`.
pub fn parse_value(buf: &[u8]) -> Parsed<RespValue<'_>> {
    let mut pos = 0;
    match value(buf, &mut pos, 0) {
        Ok(v) => Parsed::Frame {
            frame: v,
            consumed: pos,
        },
        Err(Stop::NeedMore) => Parsed::NeedMore,
        Err(Stop::Invalid(why)) => Parsed::Invalid(why),
    }
}

/// Parses one frame: a RESP value, or (if `allow_inline` and the bytes do
/// not start with a type byte) an inline command line. An empty inline
/// line is a frame with no words.
pub fn parse_frame(buf: &[u8], allow_inline: bool) -> Parsed<RedisFrame<'_>> {
    let Some(&first) = buf.first() else {
        return Parsed::NeedMore;
    };
    if TYPE_BYTES.contains(&first) || !allow_inline {
        return match parse_value(buf) {
            Parsed::Frame { frame, consumed } => Parsed::Frame {
                frame: RedisFrame::Value(frame),
                consumed,
            },
            Parsed::NeedMore => Parsed::NeedMore,
            Parsed::Invalid(why) => Parsed::Invalid(why),
        };
    }
    parse_inline(buf)
}

/// An inline command: printable words separated by blanks, ending in LF
/// (CRLF in practice).
pub fn parse_inline(buf: &[u8]) -> Parsed<RedisFrame<'_>> {
    let limit = buf.len().min(MAX_LINE_BYTES + 1);
    let Some(nl) = memchr::memchr(b'\n', &buf[..limit]) else {
        if !buf[..limit]
            .iter()
            .all(|&b| is_inline_byte(b) || b == b'\r')
        {
            return Parsed::Invalid("not an inline command");
        }
        if buf.len() > MAX_LINE_BYTES {
            return Parsed::Invalid("inline command too long");
        }
        return Parsed::NeedMore;
    };
    let line = buf[..nl].strip_suffix(b"\r").unwrap_or(&buf[..nl]);
    if !line.iter().all(|&b| is_inline_byte(b)) {
        return Parsed::Invalid("not an inline command");
    }
    let words: Vec<&[u8]> = line
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|w| !w.is_empty())
        .collect();
    if let Some(cmd) = words.first() {
        if !super::commands::is_known_command(cmd) {
            return Parsed::Invalid("inline command is not a known command");
        }
    }
    Parsed::Frame {
        frame: RedisFrame::Inline(words),
        consumed: nl + 1,
    }
}

fn is_inline_byte(b: u8) -> bool {
    b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80
}

/// True where a RESP value could start (or `buf` is too short to tell):
/// a type byte followed by what that type allows. Used to resync.
pub fn could_start(buf: &[u8]) -> bool {
    let Some((&t, rest)) = buf.split_first() else {
        return false;
    };
    let Some(&n) = rest.first() else {
        return TYPE_BYTES.contains(&t);
    };
    let digit_or_minus = n.is_ascii_digit() || n == b'-';
    match t {
        b'*' | b'$' | b'%' | b'~' | b'>' | b'|' | b'!' | b'=' => digit_or_minus,
        b':' | b'(' => digit_or_minus || n == b'+',
        b',' => digit_or_minus || matches!(n, b'i' | b'n' | b'+' | b'.'),
        b'#' => matches!(n, b't' | b'f'),
        b'_' => n == b'\r',
        b'+' | b'-' => n != b'\r' && n != b'\n',
        _ => false,
    }
}

/// True where a request could start: an array (`*<n>`), or an inline
/// command at the start of a line whose first word is a known command.
pub fn could_start_request(buf: &[u8], at_line_start: bool) -> bool {
    match buf.first() {
        Some(b'*') => buf.get(1).is_none_or(|b| b.is_ascii_digit()),
        Some(b) if at_line_start && b.is_ascii_alphabetic() => {
            let word_end = buf
                .iter()
                .position(|&b| !b.is_ascii_alphabetic())
                .unwrap_or(buf.len());
            if word_end == buf.len() {
                return word_end <= 20; // maybe a command still arriving
            }
            let word = &buf[..word_end];
            matches!(buf[word_end], b' ' | b'\r' | b'\n') && super::commands::is_known_command(word)
        }
        _ => false,
    }
}
