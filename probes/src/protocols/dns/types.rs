//! DNS frames and records.

use crate::protocols::RecordCommon;

/// The fixed 12-byte DNS header (RFC 1035 §4.1.1), flags kept raw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DnsHeader {
    pub txid: u16,
    /// `QR | Opcode(4) | AA | TC | RD | RA | Z | AD | CD | RCODE(4)`.
    pub flags: u16,
    pub num_queries: u16,
    pub num_answers: u16,
    pub num_auth: u16,
    pub num_addl: u16,
}

impl DnsHeader {
    pub fn from_bytes(b: &[u8]) -> Option<DnsHeader> {
        let w =
            |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])) };
        Some(DnsHeader {
            txid: w(0)?,
            flags: w(2)?,
            num_queries: w(4)?,
            num_answers: w(6)?,
            num_auth: w(8)?,
            num_addl: w(10)?,
        })
    }

    fn bits(&self, pos: u32, width: u32) -> u16 {
        (self.flags >> pos) & ((1 << width) - 1)
    }

    /// 1 for a response, 0 for a query.
    pub fn qr(&self) -> u16 {
        self.bits(15, 1)
    }
    pub fn opcode(&self) -> u16 {
        self.bits(11, 4)
    }
    pub fn aa(&self) -> u16 {
        self.bits(10, 1)
    }
    pub fn tc(&self) -> u16 {
        self.bits(9, 1)
    }
    pub fn rd(&self) -> u16 {
        self.bits(8, 1)
    }
    pub fn ra(&self) -> u16 {
        self.bits(7, 1)
    }
    pub fn ad(&self) -> u16 {
        self.bits(5, 1)
    }
    pub fn cd(&self) -> u16 {
        self.bits(4, 1)
    }
    /// 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, …
    pub fn rcode(&self) -> u16 {
        self.bits(0, 4)
    }

    pub fn is_response(&self) -> bool {
        self.qr() == 1
    }
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuery {
    pub name: String,
    /// `A`, `AAAA`, `CNAME`, `MX`, … (`TYPE<n>` for unknown types).
    pub qtype: String,
}

/// One answer of a type scry records (A, AAAA, CNAME), as Pixie does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsAnswer {
    pub name: String,
    pub data: DnsAnswerData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsAnswerData {
    A(std::net::Ipv4Addr),
    Aaaa(std::net::Ipv6Addr),
    Cname(String),
}

/// One DNS message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsMessage {
    pub header: DnsHeader,
    pub queries: Vec<DnsQuery>,
    pub answers: Vec<DnsAnswer>,
    pub timestamp_ns: u64,
}

/// A query and its response: one row of `dns_events`.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsRecord {
    pub common: RecordCommon,
    pub req: DnsMessage,
    pub resp: DnsMessage,
}
