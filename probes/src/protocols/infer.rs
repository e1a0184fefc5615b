//! Userspace confirmation of the kernel's protocol guess, from the first
//! payload of a connection. The kernel looks at a few bytes; here the whole
//! first chunk is checked with the real parsers, so a wrong guess costs a
//! dropped connection instead of a stream of parse errors.
//!
//! - HTTP/1.x: a known method and a request line ending in `HTTP/1.x`, or a
//!   status line `HTTP/1.x NNN`.
//! - DNS: UDP datagrams (or TCP messages with their 2-byte length) whose
//!   header is sane and which decode whole; away from port 53 only plain
//!   one-question queries/answers count.
//! - Redis: a RESP type byte (`*$+-:_,#%~>=(!|`) with plausible framing
//!   that parses (or needs more bytes after a complete first line), or an
//!   inline command naming a known Redis command.

use super::stream::Parsed;
use super::{dns, http, redis, Direction, Protocol, Transport};

/// The protocol `data` (the first payload seen in `direction`) belongs to,
/// if it clearly is one scry parses. Every shape is accepted in both
/// directions: a traced server reads requests, a traced client writes them.
pub fn infer(
    direction: Direction,
    data: &[u8],
    transport: Transport,
    remote_port: u16,
) -> Option<Protocol> {
    let _ = direction;
    match transport {
        Transport::Udp => is_dns_datagram(data, remote_port).then_some(Protocol::Dns),
        Transport::Tcp => {
            if is_http(data) {
                Some(Protocol::Http)
            } else if is_dns_tcp(data, remote_port) {
                Some(Protocol::Dns)
            } else if is_redis(data) {
                Some(Protocol::Redis)
            } else {
                None
            }
        }
    }
}

fn is_http(data: &[u8]) -> bool {
    if let Some(rest) = data.strip_prefix(b"HTTP/1.") {
        return rest.len() >= 5
            && matches!(rest[0], b'0' | b'1')
            && rest[1] == b' '
            && rest[2..5].iter().all(u8::is_ascii_digit);
    }
    if !http::parse::starts_with_method(data) {
        return false;
    }
    match memchr::memchr(b'\n', data) {
        Some(nl) => {
            let line = data[..nl].strip_suffix(b"\r").unwrap_or(&data[..nl]);
            line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0")
        }
        None => {
            let target = data.iter().position(|&b| b == b' ').map(|i| i + 1);
            target
                .and_then(|i| data.get(i))
                .is_some_and(|&b| b == b'/' || b == b'*' || b.is_ascii_alphabetic())
                && data.iter().all(|&b| (0x20..0x7f).contains(&b))
        }
    }
}

fn plain_message(m: &dns::DnsMessage) -> bool {
    m.header.num_queries == 1 && m.header.opcode() == 0
}

fn is_dns_datagram(data: &[u8], remote_port: u16) -> bool {
    match dns::parse::parse_datagram(data) {
        Parsed::Frame { frame, .. } => remote_port == 53 || plain_message(&frame),
        _ => false,
    }
}

fn is_dns_tcp(data: &[u8], remote_port: u16) -> bool {
    match dns::parse::parse_tcp_frame(data) {
        Parsed::Frame { frame, .. } => remote_port == 53 || plain_message(&frame),
        _ => false,
    }
}

fn is_redis(data: &[u8]) -> bool {
    let Some(&first) = data.first() else {
        return false;
    };
    if !redis::parse::TYPE_BYTES.contains(&first) {
        // An inline command: known command word, printable line.
        return matches!(
            redis::parse::parse_inline(data),
            Parsed::Frame { frame: redis::RedisFrame::Inline(ref w), .. } if !w.is_empty()
        );
    }
    if !redis::parse::could_start(data) {
        return false;
    }
    // The first line must be complete and printable.
    let Some(nl) = memchr::memchr(b'\n', data) else {
        return false;
    };
    if nl == 0
        || data[nl - 1] != b'\r'
        || !data[..nl - 1].iter().all(|&b| (0x20..0x7f).contains(&b))
    {
        return false;
    }
    if first == b'*'
        && data
            .get(nl + 1)
            .is_some_and(|&b| !redis::parse::TYPE_BYTES.contains(&b))
    {
        return false;
    }
    match redis::parse::parse_value(data) {
        Parsed::Frame { .. } | Parsed::NeedMore => true,
        Parsed::Invalid(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::dns::tests::{QUERY_A, RESPONSE_A};

    fn tcp(d: &[u8]) -> Option<Protocol> {
        infer(Direction::Egress, d, Transport::Tcp, 8080)
    }

    #[test]
    fn http() {
        assert_eq!(
            tcp(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(Protocol::Http)
        );
        assert_eq!(
            tcp(b"POST /api/v1/x?y=1 HTTP/1.0\r\n"),
            Some(Protocol::Http)
        );
        assert_eq!(tcp(b"GET /partial-without-newl"), Some(Protocol::Http));
        assert_eq!(tcp(b"HTTP/1.1 200 OK\r\n"), Some(Protocol::Http));
        assert_eq!(tcp(b"HTTP/2.0 200 OK\r\n"), None);
        assert_eq!(tcp(b"GET foo\r\n"), Some(Protocol::Redis)); // inline Redis GET
        assert_eq!(tcp(b"GETTING / HTTP/1.1\r\n"), None);
    }

    #[test]
    fn redis() {
        assert_eq!(
            tcp(b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n"),
            Some(Protocol::Redis)
        );
        assert_eq!(tcp(b"*2\r\n$3\r\nGET\r\n$3\r\nf"), Some(Protocol::Redis));
        assert_eq!(tcp(b"+OK\r\n"), Some(Protocol::Redis));
        assert_eq!(tcp(b"-ERR wrong\r\n"), Some(Protocol::Redis));
        assert_eq!(tcp(b":12\r\n"), Some(Protocol::Redis));
        assert_eq!(tcp(b"$3\r\nbar\r\n"), Some(Protocol::Redis));
        assert_eq!(tcp(b"%1\r\n+a\r\n:1\r\n"), Some(Protocol::Redis));
        assert_eq!(tcp(b"_\r\n"), Some(Protocol::Redis));
        assert_eq!(tcp(b"PING\r\n"), Some(Protocol::Redis));
        assert_eq!(tcp(b"ping\r\n"), Some(Protocol::Redis));
        assert_eq!(tcp(b"howdy there\r\n"), None);
        assert_eq!(tcp(b"*2\r\nxx"), None);
        assert_eq!(tcp(b"+OK"), None);
        assert_eq!(tcp(b":abc\r\n"), None);
        assert_eq!(tcp(b"\x16\x03\x01\x02\x00"), None); // TLS ClientHello
        assert_eq!(tcp(b""), None);
    }

    #[test]
    fn dns() {
        let udp = |d: &[u8], port| infer(Direction::Egress, d, Transport::Udp, port);
        assert_eq!(udp(QUERY_A, 53), Some(Protocol::Dns));
        assert_eq!(udp(RESPONSE_A, 53), Some(Protocol::Dns));
        assert_eq!(udp(QUERY_A, 5353), Some(Protocol::Dns));
        assert_eq!(udp(b"GET / HTTP/1.1\r\n\r\n", 53), None);
        assert_eq!(udp(&QUERY_A[..20], 53), None);
        let mut framed = (QUERY_A.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(QUERY_A);
        assert_eq!(tcp(&framed), Some(Protocol::Dns));
        assert_eq!(tcp(&framed[..10]), None);
    }
}
