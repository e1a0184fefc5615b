//! Property tests: no parser panics on arbitrary bytes in arbitrary
//! chunkings, directions, gaps and limits; and valid traffic split at
//! arbitrary points parses the same as when fed whole.

use std::sync::Arc;

use proptest::prelude::*;

use super::test_util::meta;
use super::{
    dns, http, infer, new_parser, redis, rows, Chunk, Direction, ParserLimits, Protocol,
    ProtocolCounters, Role, Transport,
};

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        Just(Protocol::Http),
        Just(Protocol::Dns),
        Just(Protocol::Redis)
    ]
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Client), Just(Role::Server), Just(Role::Unknown)]
}

/// Bytes that are sometimes protocol-shaped: random bytes mixed with
/// fragments of valid messages, so the parsers get past their first byte.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let valid: Vec<&'static [u8]> = vec![
        http::tests::GET,
        http::tests::RESP_200,
        http::tests::POST_CHUNKED,
        http::tests::RESP_201_CHUNKED,
        http::tests::RESP_10_CLOSE,
        dns::tests::QUERY_A,
        dns::tests::RESPONSE_A,
        redis::tests::SET_REQ,
        redis::tests::SUB_CONFIRMS,
        redis::tests::MAP3,
        redis::tests::ATTR3,
        b"\r\n",
        b"*3\r\n",
        b"$-1\r\n",
        b"Content-Length: 99999999999999999999\r\n",
        b"ffffffffffffffff\r\n",
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::sample::select(valid).prop_map(|v| v.to_vec()),
        (
            proptest::sample::select(vec![
                http::tests::RESP_200,
                redis::tests::CONFIG_REPLY,
                dns::tests::RESPONSE_A
            ]),
            any::<usize>()
        )
            .prop_map(|(v, cut)| v[..cut % (v.len() + 1)].to_vec()),
    ]
}

#[derive(Debug, Clone)]
struct Feed {
    egress: bool,
    data: Vec<u8>,
    extra: usize,
    datagram: bool,
}

fn feeds() -> impl Strategy<Value = Vec<Feed>> {
    proptest::collection::vec(
        (
            any::<bool>(),
            proptest::collection::vec(fragment(), 1..4),
            prop_oneof![4 => Just(0usize), 1 => 0usize..100_000],
            any::<bool>(),
        )
            .prop_map(|(egress, parts, extra, datagram)| Feed {
                egress,
                data: parts.concat(),
                extra,
                datagram,
            }),
        0..24,
    )
}

fn limits() -> impl Strategy<Value = ParserLimits> {
    (1usize..4096, 0usize..600, 1usize..8).prop_map(|(b, m, p)| ParserLimits {
        max_buffer_bytes: b,
        max_body_bytes: m,
        max_pending_requests: p,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(
        protocol in protocol(),
        role in role(),
        udp in any::<bool>(),
        limits in prop_oneof![Just(ParserLimits::default()), limits()],
        feeds in feeds(),
    ) {
        let transport = if udp { Transport::Udp } else { Transport::Tcp };
        let m = meta(role, transport, 53);
        let counters = Arc::new(ProtocolCounters::default());
        let mut p = new_parser(protocol, &m, limits, counters);
        let mut records = Vec::new();
        for (i, f) in feeds.iter().enumerate() {
            let direction = if f.egress { Direction::Egress } else { Direction::Ingress };
            let _ = infer(direction, &f.data, transport, 53);
            p.feed(Chunk {
                direction,
                timestamp_ns: i as u64,
                data: &f.data,
                original_len: f.data.len() + f.extra,
                datagram: f.datagram,
            });
            records.extend(p.take_records());
        }
        p.close();
        records.extend(p.take_records());
        // Whatever came out must also become rows.
        let _ = rows::to_frames(&records);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        protocol in protocol(),
        data in proptest::collection::vec(any::<u8>(), 0..2048),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let m = meta(Role::Client, Transport::Tcp, 80);
        let counters = Arc::new(ProtocolCounters::default());
        let mut p = new_parser(protocol, &m, ParserLimits::default(), counters);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (data.len() + 1)).collect();
        cuts.push(0);
        cuts.push(data.len());
        cuts.sort_unstable();
        for (i, w) in cuts.windows(2).enumerate() {
            let direction = if i % 2 == 0 { Direction::Egress } else { Direction::Ingress };
            let piece = &data[w[0]..w[1]];
            p.feed(Chunk { direction, timestamp_ns: i as u64, data: piece, original_len: piece.len(), datagram: false });
        }
        p.close();
        let _ = p.take_records();
    }

    /// Valid pipelined traffic cut at arbitrary points gives the same
    /// records as when each side arrives in one chunk.
    #[test]
    fn chunking_does_not_change_records(
        protocol in protocol(),
        req_cuts in proptest::collection::vec(any::<usize>(), 0..8),
        resp_cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let (reqs, resps): (Vec<u8>, Vec<u8>) = match protocol {
            Protocol::Http => (
                [http::tests::GET, http::tests::POST_CHUNKED, http::tests::HEAD].concat(),
                [http::tests::RESP_200, http::tests::RESP_201_CHUNKED, http::tests::RESP_HEAD].concat(),
            ),
            Protocol::Redis => (
                [redis::tests::GET_REQ, redis::tests::SET_REQ, redis::tests::CONFIG_GET].concat(),
                [redis::tests::BULK_BAR, redis::tests::OK, redis::tests::CONFIG_REPLY].concat(),
            ),
            Protocol::Dns => {
                let framed = |m: &[u8]| {
                    let mut v = (m.len() as u16).to_be_bytes().to_vec();
                    v.extend_from_slice(m);
                    v
                };
                (
                    [framed(dns::tests::QUERY_A), framed(dns::tests::QUERY_NX)].concat(),
                    [framed(dns::tests::RESPONSE_NX), framed(dns::tests::RESPONSE_A)].concat(),
                )
            }
        };
        let m = meta(Role::Client, Transport::Tcp, 53);
        let split = |data: &[u8], cuts: &[usize]| -> Vec<Vec<u8>> {
            let mut c: Vec<usize> = cuts.iter().map(|x| x % (data.len() + 1)).collect();
            c.push(0);
            c.push(data.len());
            c.sort_unstable();
            c.windows(2).map(|w| data[w[0]..w[1]].to_vec()).collect()
        };
        let run = |req_parts: Vec<Vec<u8>>, resp_parts: Vec<Vec<u8>>| {
            let counters = Arc::new(ProtocolCounters::default());
            let mut p = new_parser(protocol, &m, ParserLimits::default(), counters.clone());
            let mut out = Vec::new();
            for part in &req_parts {
                p.feed(Chunk { direction: Direction::Egress, timestamp_ns: 1, data: part, original_len: part.len(), datagram: false });
            }
            for part in &resp_parts {
                p.feed(Chunk { direction: Direction::Ingress, timestamp_ns: 2, data: part, original_len: part.len(), datagram: false });
            }
            out.extend(p.take_records());
            (out, counters.parse_errors.load(std::sync::atomic::Ordering::Relaxed))
        };
        let (whole, errs) = run(vec![reqs.clone()], vec![resps.clone()]);
        prop_assert_eq!(errs, 0);
        prop_assert_eq!(whole.len(), if protocol == Protocol::Dns { 2 } else { 3 });
        let (pieces, errs) = run(split(&reqs, &req_cuts), split(&resps, &resp_cuts));
        prop_assert_eq!(errs, 0);
        prop_assert_eq!(whole, pieces);
    }
}
