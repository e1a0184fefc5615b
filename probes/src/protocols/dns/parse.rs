//! DNS bytes → messages, decoded by `simple-dns`. Over UDP each datagram is
//! one message; over TCP each message has a 2-byte big-endian length prefix
//! (RFC 1035 §4.2.2). Before handing bytes to the decoder the header is
//! checked for sanity (section counts that fit in the message), so garbage
//! is rejected cheaply and never makes the decoder reserve large vectors.

use simple_dns::rdata::RData;
use simple_dns::{Packet, QTYPE, TYPE};

use super::types::{DnsAnswer, DnsAnswerData, DnsHeader, DnsMessage, DnsQuery};
use crate::protocols::stream::Parsed;

pub const HEADER_LEN: usize = 12;

/// Header checks that hold for real DNS traffic: a known opcode, the zero
/// `Z` bit, and section counts whose minimal encodings fit in `len` bytes.
pub fn header_is_sane(h: &DnsHeader, len: usize) -> bool {
    let opcode_ok = matches!(h.opcode(), 0 | 1 | 2 | 4 | 5 | 6);
    let z_ok = (h.flags >> 6) & 1 == 0;
    // A question takes at least 5 bytes (root name + type + class), a
    // resource record at least 11.
    let min = HEADER_LEN
        + 5 * usize::from(h.num_queries)
        + 11 * (usize::from(h.num_answers) + usize::from(h.num_auth) + usize::from(h.num_addl));
    opcode_ok && z_ok && min <= len && h.num_queries <= 16
}

/// Parses one whole message (a UDP datagram, or a TCP frame's payload).
/// `consumed` is always `buf.len()`; a short buffer is `Invalid` here
/// because a datagram is never continued.
pub fn parse_datagram(buf: &[u8]) -> Parsed<DnsMessage> {
    let Some(header) = DnsHeader::from_bytes(buf) else {
        return Parsed::Invalid("shorter than a DNS header");
    };
    if !header_is_sane(&header, buf.len()) {
        return Parsed::Invalid("implausible DNS header");
    }
    let packet = match Packet::parse(buf) {
        Ok(p) => p,
        Err(_) => return Parsed::Invalid("malformed DNS message"),
    };
    let queries = packet
        .questions
        .iter()
        .map(|q| DnsQuery {
            name: q.qname.to_string(),
            qtype: qtype_name(q.qtype),
        })
        .collect();
    let answers = packet
        .answers
        .iter()
        .filter_map(|rr| {
            let data = match &rr.rdata {
                RData::A(a) => DnsAnswerData::A(std::net::Ipv4Addr::from(a.address)),
                RData::AAAA(a) => DnsAnswerData::Aaaa(std::net::Ipv6Addr::from(a.address)),
                RData::CNAME(c) => DnsAnswerData::Cname(c.0.to_string()),
                _ => return None,
            };
            Some(DnsAnswer {
                name: rr.name.to_string(),
                data,
            })
        })
        .collect();
    Parsed::Frame {
        frame: DnsMessage {
            header,
            queries,
            answers,
            timestamp_ns: 0,
        },
        consumed: buf.len(),
    }
}

/// Parses one length-prefixed message from a TCP stream. Nothing is
/// consumed until the whole frame is there.
pub fn parse_tcp_frame(buf: &[u8]) -> Parsed<DnsMessage> {
    let Some(len) = buf
        .get(..2)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    else {
        return Parsed::NeedMore;
    };
    if len < HEADER_LEN {
        return Parsed::Invalid("TCP DNS frame shorter than a header");
    }
    if let Some(h) = buf.get(2..2 + HEADER_LEN).and_then(DnsHeader::from_bytes) {
        if !header_is_sane(&h, len) {
            return Parsed::Invalid("implausible DNS header");
        }
    }
    let Some(payload) = buf.get(2..2 + len) else {
        return Parsed::NeedMore;
    };
    match parse_datagram(payload) {
        Parsed::Frame { frame, .. } => Parsed::Frame {
            frame,
            consumed: 2 + len,
        },
        Parsed::NeedMore => Parsed::NeedMore,
        Parsed::Invalid(why) => Parsed::Invalid(why),
    }
}

/// True where a TCP DNS frame could start (used to resync).
pub fn could_start_tcp(buf: &[u8]) -> bool {
    match buf.get(..2) {
        None => true,
        Some(b) => {
            let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
            len >= HEADER_LEN
                && buf
                    .get(2..2 + HEADER_LEN)
                    .and_then(DnsHeader::from_bytes)
                    .is_none_or(|h| header_is_sane(&h, len))
        }
    }
}

/// A query type's mnemonic (`A`, `AAAA`, `CNAME`, …; `TYPE<n>` if unknown).
pub fn qtype_name(q: QTYPE) -> String {
    match q {
        QTYPE::TYPE(TYPE::A) => "A".into(),
        QTYPE::TYPE(TYPE::AAAA) => "AAAA".into(),
        QTYPE::TYPE(TYPE::CNAME) => "CNAME".into(),
        QTYPE::TYPE(TYPE::Unknown(n)) => format!("TYPE{n}"),
        QTYPE::TYPE(t) => format!("{t:?}"),
        other => format!("{other:?}"),
    }
}
