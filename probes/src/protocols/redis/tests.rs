//! Redis test vectors, each with its dissection.

use super::parse::{parse_frame, parse_value};
use super::table::render;
use super::*;
use crate::protocols::test_util::{chunk, get, meta, run};
use crate::protocols::{new_parser, Protocol, Transport};

use Direction::{Egress as E, Ingress as I};

/// `GET foo`: array of 2 (`*2`), bulk strings `$3 GET`, `$3 foo`.
pub const GET_REQ: &[u8] = b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n";
/// Bulk string reply `bar`.
pub const BULK_BAR: &[u8] = b"$3\r\nbar\r\n";
/// `SET k v EX 10`: array of 5 bulk strings.
pub const SET_REQ: &[u8] = b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$2\r\n10\r\n";
/// Simple string reply `OK`.
pub const OK: &[u8] = b"+OK\r\n";
/// `INCR counter`.
pub const INCR_REQ: &[u8] = b"*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n";
/// Integer reply 7.
pub const INT_7: &[u8] = b":7\r\n";
/// Inline command `PING` (no RESP framing, as typed into telnet).
pub const PING_INLINE: &[u8] = b"PING\r\n";
/// `CONFIG GET maxmemory`: a two-word command.
pub const CONFIG_GET: &[u8] = b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$9\r\nmaxmemory\r\n";
/// Array reply of 2 bulk strings: `maxmemory`, `0`.
pub const CONFIG_REPLY: &[u8] = b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n";
/// Error reply.
pub const ERR: &[u8] = b"-ERR unknown command 'FOO'\r\n";
/// RESP2 null bulk string and null array.
pub const NULL_BULK: &[u8] = b"$-1\r\n";
pub const NULL_ARRAY: &[u8] = b"*-1\r\n";
/// `SUBSCRIBE ch1 ch2`.
pub const SUBSCRIBE: &[u8] = b"*3\r\n$9\r\nSUBSCRIBE\r\n$3\r\nch1\r\n$3\r\nch2\r\n";
/// The two confirmations: `[subscribe, ch1, 1]`, `[subscribe, ch2, 2]`.
pub const SUB_CONFIRMS: &[u8] =
    b"*3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$3\r\nch2\r\n:2\r\n";
/// A published message: `[message, ch1, hello]`.
pub const MESSAGE: &[u8] = b"*3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$5\r\nhello\r\n";
/// RESP3 push of a published message: `>3`.
pub const PUSH3: &[u8] = b">3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$2\r\nhi\r\n";
/// RESP3 map (`%2`): `server → redis`, `proto → 3`.
pub const MAP3: &[u8] = b"%2\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n";
/// RESP3 attribute (`|1`, `ttl → 3`) before the reply `:42`.
pub const ATTR3: &[u8] = b"|1\r\n+ttl\r\n:3\r\n:42\r\n";

fn redis(role: Role, feeds: &[(Direction, &[u8])]) -> (Vec<RedisRecord>, Arc<ProtocolCounters>) {
    let m = meta(role, Transport::Tcp, 6379);
    let (recs, c) = run(Protocol::Redis, &m, ParserLimits::default(), feeds);
    let recs = recs
        .into_iter()
        .map(|r| match r {
            Record::Redis(x) => x,
            other => panic!("not redis: {other:?}"),
        })
        .collect();
    (recs, c)
}

fn triples(recs: &[RedisRecord]) -> Vec<(&str, &str, &str)> {
    recs.iter()
        .map(|r| (r.req_cmd.as_str(), r.req_args.as_str(), r.resp.as_str()))
        .collect()
}

#[test]
fn get_set_and_types() {
    let (recs, c) = redis(
        Role::Client,
        &[(E, GET_REQ), (I, BULK_BAR), (E, SET_REQ), (I, OK)],
    );
    assert_eq!(
        triples(&recs),
        [
            ("GET", r#"{"key":"foo"}"#, "bar"),
            (
                "SET",
                r#"{"key":"k","value":"v","options":["EX 10"]}"#,
                "OK"
            ),
        ]
    );
    assert_eq!(recs[0].common.latency_ns(), 1000);
    assert_eq!(get(&c.records), 2);
    assert_eq!(get(&c.parse_errors), 0);
}

#[test]
fn pipelined_requests_match_in_order() {
    let reqs = [GET_REQ, SET_REQ, INCR_REQ, CONFIG_GET].concat();
    let resps = [BULK_BAR, OK, INT_7, CONFIG_REPLY].concat();
    let (recs, c) = redis(Role::Client, &[(E, &reqs), (I, &resps)]);
    let cmds: Vec<_> = recs
        .iter()
        .map(|r| (r.req_cmd.as_str(), r.resp.as_str()))
        .collect();
    assert_eq!(
        cmds,
        [
            ("GET", "bar"),
            ("SET", "OK"),
            ("INCR", "7"),
            ("CONFIG GET", r#"["maxmemory","0"]"#)
        ]
    );
    assert_eq!(recs[3].req_args, r#"{"parameter":["maxmemory"]}"#);
    assert_eq!(get(&c.parse_errors), 0);
}

#[test]
fn inline_command() {
    let (recs, _) = redis(Role::Client, &[(E, PING_INLINE), (I, b"+PONG\r\n")]);
    assert_eq!(triples(&recs), [("PING", "{}", "PONG")]);
}

#[test]
fn errors_and_nulls_render_like_pixie() {
    let (recs, _) = redis(
        Role::Client,
        &[
            (E, GET_REQ),
            (I, ERR),
            (E, GET_REQ),
            (I, NULL_BULK),
            (E, GET_REQ),
            (I, NULL_ARRAY),
        ],
    );
    let resps: Vec<_> = recs.iter().map(|r| r.resp.as_str()).collect();
    assert_eq!(resps, ["-ERR unknown command 'FOO'", "<NULL>", "[NULL]"]);
}

#[test]
fn resp3_types() {
    let cases: &[(&[u8], &str)] = &[
        (MAP3, r#"{"server":"redis","proto":"3"}"#),
        (ATTR3, "42"),
        (b"_\r\n", "<NULL>"),
        (b",3.14\r\n", "3.14"),
        (b"#t\r\n", "true"),
        (b"(12345678901234567890\r\n", "12345678901234567890"),
        (b"!9\r\nERR boom!\r\n", "-ERR boom!"),
        (b"=8\r\ntxt:abcd\r\n", "abcd"),
        (b"~2\r\n:1\r\n:2\r\n", r#"["1","2"]"#),
        (b"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n", r#"["[\"1\"]","x"]"#),
    ];
    for (bytes, want) in cases {
        match parse_value(bytes) {
            Parsed::Frame { frame, consumed } => {
                assert_eq!(consumed, bytes.len());
                assert_eq!(render(&frame), *want);
            }
            other => panic!("{other:?} for {}", String::from_utf8_lossy(bytes)),
        }
    }
}

#[test]
fn pubsub_pushes_are_response_only_records() {
    let (recs, c) = redis(
        Role::Client,
        &[(E, SUBSCRIBE), (I, SUB_CONFIRMS), (I, MESSAGE), (I, PUSH3)],
    );
    assert_eq!(
        triples(&recs),
        [
            (
                "SUBSCRIBE",
                r#"{"channel":["ch1","ch2"]}"#,
                r#"["subscribe","ch1","1"]"#
            ),
            ("PUSH PUB", "", r#"["message","ch1","hello"]"#),
            ("PUSH PUB", "", r#"["message","ch1","hi"]"#),
        ]
    );
    assert_eq!(recs[1].common.latency_ns(), 0);
    assert_eq!(get(&c.unmatched_responses), 0);
    assert_eq!(get(&c.unmatched_requests), 0);
}

#[test]
fn server_role_and_unknown_role() {
    let (recs, _) = redis(Role::Server, &[(I, GET_REQ), (E, BULK_BAR)]);
    assert_eq!(recs[0].common.role, Role::Server);
    assert_eq!(recs[0].req_cmd, "GET");
    let (recs, _) = redis(Role::Unknown, &[(I, GET_REQ), (E, BULK_BAR)]);
    assert_eq!(recs[0].common.role, Role::Server);
    assert_eq!(recs[0].resp, "bar");
    let (recs, _) = redis(Role::Unknown, &[(I, OK), (E, GET_REQ), (I, BULK_BAR)]);
    assert_eq!(recs[0].common.role, Role::Client);
}

#[test]
fn every_prefix_needs_more_and_consumes_nothing() {
    let all = [
        GET_REQ,
        BULK_BAR,
        SET_REQ,
        OK,
        INCR_REQ,
        INT_7,
        PING_INLINE,
        CONFIG_GET,
        CONFIG_REPLY,
        ERR,
        NULL_BULK,
        NULL_ARRAY,
        SUBSCRIBE,
        MESSAGE,
        PUSH3,
        MAP3,
        ATTR3,
    ];
    for msg in all {
        match parse_frame(msg, true) {
            Parsed::Frame { consumed, .. } => assert_eq!(consumed, msg.len()),
            other => panic!("{other:?}"),
        }
        for n in 0..msg.len() {
            assert_eq!(
                parse_frame(&msg[..n], true),
                Parsed::NeedMore,
                "prefix {n} of {}",
                String::from_utf8_lossy(msg)
            );
            let is_request = [
                GET_REQ,
                SET_REQ,
                INCR_REQ,
                PING_INLINE,
                CONFIG_GET,
                SUBSCRIBE,
            ]
            .contains(&msg);
            let feeds: &[(Direction, &[u8])] = if is_request {
                &[(E, &msg[..n])]
            } else {
                &[(E, GET_REQ), (I, &msg[..n])]
            };
            let (recs, c) = redis(Role::Client, feeds);
            assert!(recs.is_empty());
            assert_eq!(get(&c.parse_errors), 0);
        }
    }
}

#[test]
fn garbage_before_a_request_resyncs() {
    let mut req = b"\x00\x01junk$$*x".to_vec();
    req.extend_from_slice(GET_REQ);
    let (recs, c) = redis(Role::Client, &[(E, &req), (I, b"\x07\x07"), (I, BULK_BAR)]);
    assert_eq!(triples(&recs), [("GET", r#"{"key":"foo"}"#, "bar")]);
    assert_eq!(get(&c.parse_errors), 2);
    assert_eq!(get(&c.bytes_skipped_resync), 12);
}

#[test]
fn gap_in_a_response_drops_its_request() {
    let counters = Arc::new(ProtocolCounters::default());
    let m = meta(Role::Client, Transport::Tcp, 6379);
    let mut p = new_parser(
        Protocol::Redis,
        &m,
        ParserLimits::default(),
        counters.clone(),
    );
    p.feed(chunk(E, 1, GET_REQ));
    let mut c = chunk(I, 2, b"$100000\r\nxxxxxxxx");
    c.original_len = 100_009;
    p.feed(c);
    p.feed(chunk(E, 3, INCR_REQ));
    p.feed(chunk(I, 4, INT_7));
    let recs = p.take_records();
    assert_eq!(recs.len(), 1);
    let Record::Redis(r) = &recs[0] else { panic!() };
    assert_eq!((r.req_cmd.as_str(), r.resp.as_str()), ("INCR", "7"));
    assert_eq!(get(&counters.unmatched_requests), 1);
}

#[test]
fn deep_nesting_is_invalid_not_a_stack_overflow() {
    let deep = b"*1\r\n".repeat(10_000);
    assert!(matches!(parse_value(&deep), Parsed::Invalid(_)));
}

#[test]
fn long_values_are_capped_in_rows() {
    use crate::protocols::rows::{TableRow, Value};
    let big = format!("${}\r\n{}\r\n", 5000, "v".repeat(5000));
    let (recs, _) = redis(Role::Client, &[(E, GET_REQ), (I, big.as_bytes())]);
    let Some(Value::Str(s)) = recs[0].value("resp") else {
        panic!()
    };
    assert_eq!(s.len(), 1024 + "... [TRUNCATED]".len());
}
