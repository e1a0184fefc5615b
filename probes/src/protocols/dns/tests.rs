//! DNS test vectors, each with its dissection.

use std::sync::Arc;

use super::parse::{parse_datagram, parse_tcp_frame};
use super::table::{answers_json, header_json, queries_json};
use super::*;
use crate::protocols::test_util::{get, meta, run};
use crate::protocols::{Protocol, Role};

use Direction::{Egress as E, Ingress as I};

/// Query `example.com A`.
/// header: txid 0x1234 | flags 0x0100 (RD) | qd 1 | an 0 | ns 0 | ar 0
/// question: 7"example" 3"com" 0 | type 1 (A) | class 1 (IN)
pub const QUERY_A: &[u8] = &[
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, //
    0x00, 0x01, 0x00, 0x01,
];

/// Response to [`QUERY_A`].
/// header: txid 0x1234 | flags 0x8180 (QR RD RA, rcode 0) | qd 1 | an 2 | ns 0 | ar 0
/// question: as in the query (offset 12)
/// answer 1 (offset 29): name → 12 (`example.com`) | CNAME | IN | ttl 60 | rdlen 6 |
///   3"www" → 12 (`www.example.com`, starts at offset 41)
/// answer 2: name → 41 | A | IN | ttl 60 | rdlen 4 | 93.184.215.14
pub const RESPONSE_A: &[u8] = &[
    0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, //
    7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, //
    0x00, 0x01, 0x00, 0x01, //
    0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x06, //
    3, b'w', b'w', b'w', 0xc0, 0x0c, //
    0xc0, 0x29, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, //
    93, 184, 215, 14,
];

/// Query `example.com AAAA`: txid 0x0002 | flags 0x0100 | qd 1 | type 28 (AAAA).
pub const QUERY_AAAA: &[u8] = &[
    0x00, 0x02, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, //
    0x00, 0x1c, 0x00, 0x01,
];

/// Response to [`QUERY_AAAA`]: flags 0x8180 | an 1: name → 12 | AAAA | IN |
/// ttl 300 | rdlen 16 | 2606:2800:220:1:248:1893:25c8:1946
pub const RESPONSE_AAAA: &[u8] = &[
    0x00, 0x02, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, //
    7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, //
    0x00, 0x1c, 0x00, 0x01, //
    0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x10, //
    0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0x00, 0x01, 0x02, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46,
];

/// Query `nothere.test A`: txid 0xbeef | flags 0x0100 | qd 1.
pub const QUERY_NX: &[u8] = &[
    0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    7, b'n', b'o', b't', b'h', b'e', b'r', b'e', 4, b't', b'e', b's', b't', 0, //
    0x00, 0x01, 0x00, 0x01,
];

/// NXDOMAIN for [`QUERY_NX`]: flags 0x8183 (QR RD RA, rcode 3) | qd 1 | an 0.
pub const RESPONSE_NX: &[u8] = &[
    0xbe, 0xef, 0x81, 0x83, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    7, b'n', b'o', b't', b'h', b'e', b'r', b'e', 4, b't', b'e', b's', b't', 0, //
    0x00, 0x01, 0x00, 0x01,
];

fn tcp(msg: &[u8]) -> Vec<u8> {
    let mut v = (msg.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(msg);
    v
}

fn dns(
    transport: Transport,
    role: Role,
    feeds: &[(Direction, &[u8])],
) -> (Vec<DnsRecord>, Arc<ProtocolCounters>) {
    let port = if role == Role::Server { 33333 } else { 53 };
    let m = meta(role, transport, port);
    let (recs, c) = run(Protocol::Dns, &m, ParserLimits::default(), feeds);
    let recs = recs
        .into_iter()
        .map(|r| match r {
            Record::Dns(d) => *d,
            other => panic!("not dns: {other:?}"),
        })
        .collect();
    (recs, c)
}

#[test]
fn udp_a_query_with_cname_chain() {
    let (recs, c) = dns(
        Transport::Udp,
        Role::Client,
        &[(E, QUERY_A), (I, RESPONSE_A)],
    );
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(
        header_json(&r.req.header),
        r#"{"txid":4660,"qr":0,"opcode":0,"aa":0,"tc":0,"rd":1,"ra":0,"ad":0,"cd":0,"rcode":0,"num_queries":1,"num_answers":0,"num_auth":0,"num_addl":0}"#
    );
    assert_eq!(
        header_json(&r.resp.header),
        r#"{"txid":4660,"qr":1,"opcode":0,"aa":0,"tc":0,"rd":1,"ra":1,"ad":0,"cd":0,"rcode":0,"num_queries":1,"num_answers":2,"num_auth":0,"num_addl":0}"#
    );
    assert_eq!(
        queries_json(&r.req),
        r#"{"queries":[{"name":"example.com","type":"A"}]}"#
    );
    assert_eq!(
        answers_json(&r.resp),
        r#"{"answers":[{"name":"example.com","type":"CNAME","cname":"www.example.com"},{"name":"www.example.com","type":"A","addr":"93.184.215.14"}]}"#
    );
    assert_eq!(r.common.latency_ns(), 1000);
    assert_eq!(r.common.role, Role::Client);
    assert_eq!(get(&c.records), 1);
}

#[test]
fn aaaa_and_nxdomain() {
    let (recs, c) = dns(
        Transport::Udp,
        Role::Client,
        &[
            (E, QUERY_AAAA),
            (E, QUERY_NX),
            (I, RESPONSE_NX),
            (I, RESPONSE_AAAA),
        ],
    );
    assert_eq!(recs.len(), 2);
    // Out-of-order answers match by txid.
    assert_eq!(recs[0].resp.header.rcode(), 3);
    assert_eq!(answers_json(&recs[0].resp), r#"{"answers":[]}"#);
    assert_eq!(
        answers_json(&recs[1].resp),
        r#"{"answers":[{"name":"example.com","type":"AAAA","addr":"2606:2800:220:1:248:1893:25c8:1946"}]}"#
    );
    assert_eq!(
        queries_json(&recs[1].req),
        r#"{"queries":[{"name":"example.com","type":"AAAA"}]}"#
    );
    assert_eq!(get(&c.unmatched_responses), 0);
}

#[test]
fn server_role_and_unknown_role() {
    let (recs, _) = dns(
        Transport::Udp,
        Role::Server,
        &[(I, QUERY_A), (E, RESPONSE_A)],
    );
    assert_eq!(recs[0].common.role, Role::Server);
    let (recs, _) = dns(
        Transport::Udp,
        Role::Unknown,
        &[(I, QUERY_A), (E, RESPONSE_A)],
    );
    assert_eq!(recs[0].common.role, Role::Server);
}

#[test]
fn tcp_length_prefixed_pipelined() {
    let reqs = [tcp(QUERY_A), tcp(QUERY_AAAA)].concat();
    let resps = [tcp(RESPONSE_AAAA), tcp(RESPONSE_A)].concat();
    let (recs, c) = dns(Transport::Tcp, Role::Client, &[(E, &reqs), (I, &resps)]);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].req.header.txid, 2);
    assert_eq!(recs[1].req.header.txid, 0x1234);
    assert_eq!(get(&c.parse_errors), 0);
}

#[test]
fn tcp_every_prefix_needs_more_and_consumes_nothing() {
    for msg in [
        QUERY_A,
        RESPONSE_A,
        QUERY_AAAA,
        RESPONSE_AAAA,
        QUERY_NX,
        RESPONSE_NX,
    ] {
        let framed = tcp(msg);
        match parse_tcp_frame(&framed) {
            Parsed::Frame { consumed, .. } => assert_eq!(consumed, framed.len()),
            other => panic!("{other:?}"),
        }
        for n in 0..framed.len() {
            assert_eq!(
                parse_tcp_frame(&framed[..n]),
                Parsed::NeedMore,
                "prefix {n}"
            );
            let (recs, c) = dns(Transport::Tcp, Role::Client, &[(E, &framed[..n])]);
            assert!(recs.is_empty());
            assert_eq!(get(&c.parse_errors), 0);
        }
    }
}

#[test]
fn udp_truncated_datagrams_are_invalid_not_frames() {
    // A datagram is never continued: a cut one is an error, never a record.
    for n in 0..RESPONSE_A.len() {
        assert!(
            !matches!(parse_datagram(&RESPONSE_A[..n]), Parsed::Frame { .. }),
            "prefix {n}"
        );
    }
}

#[test]
fn tcp_garbage_before_a_frame_resyncs() {
    let mut stream = vec![0xff, 0xff, 0x00, 0x01, 0x02];
    stream.extend_from_slice(&tcp(QUERY_A));
    let (recs, c) = dns(
        Transport::Tcp,
        Role::Client,
        &[(E, &stream), (I, &tcp(RESPONSE_A))],
    );
    assert_eq!(recs.len(), 1);
    assert_eq!(get(&c.parse_errors), 1);
    assert_eq!(get(&c.bytes_skipped_resync), 5);
}

#[test]
fn udp_garbage_is_counted() {
    let (recs, c) = dns(
        Transport::Udp,
        Role::Client,
        &[(E, b"hello world, not dns"), (E, QUERY_A), (I, RESPONSE_A)],
    );
    assert_eq!(recs.len(), 1);
    assert_eq!(get(&c.parse_errors), 1);
}

#[test]
fn orphan_response_and_lost_query_are_counted() {
    let (recs, c) = dns(
        Transport::Udp,
        Role::Client,
        &[(I, RESPONSE_A), (E, QUERY_NX)],
    );
    assert!(recs.is_empty());
    assert_eq!(get(&c.unmatched_responses), 1);
    assert_eq!(get(&c.unmatched_requests), 1);
}
