//! HTTP/1.x test vectors. Each has a short dissection.

use super::parse::{parse_message, BodyDecoder, BodyProgress};
use super::table::{body_text, headers_json};
use super::types::BodyMode;
use super::*;
use crate::protocols::rows::TableRow;
use crate::protocols::test_util::{chunk, get, meta, run};
use crate::protocols::{new_parser, Protocol, Record, Role, Transport};

use Direction::{Egress as E, Ingress as I};

/// Request line `GET /index.html?x=1 HTTP/1.1`, two headers, blank line; no body.
pub const GET: &[u8] = b"GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
/// Status `200 OK`, JSON content type, `Content-Length: 13`, 13-byte body.
pub const RESP_200: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"ok\": true}\n";
/// `POST /upload` with a chunked body: chunks of 5 (`hello`) and 6
/// (` world`, with a chunk extension), the last chunk `0`, a trailer, blank line.
pub const POST_CHUNKED: &[u8] = b"POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
/// `201 Created`, chunked body `created` (7 bytes) in one chunk.
pub const RESP_201_CHUNKED: &[u8] =
    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n7\r\ncreated\r\n0\r\n\r\n";
/// `HEAD /` (no body).
pub const HEAD: &[u8] = b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n";
/// Response to HEAD: announces 1000 bytes but carries none.
pub const RESP_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
/// `204 No Content`: never a body.
pub const RESP_204: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";
/// `304 Not Modified` with a Content-Length that describes the cached entity: no body.
pub const RESP_304: &[u8] = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n";
/// HTTP/1.0 response without a length: the body runs until the connection closes.
pub const RESP_10_CLOSE: &[u8] = b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close";

fn http(role: Role, feeds: &[(Direction, &[u8])]) -> (Vec<HttpRecord>, Arc<ProtocolCounters>) {
    let m = meta(role, Transport::Tcp, 80);
    let (recs, c) = run(Protocol::Http, &m, ParserLimits::default(), feeds);
    let recs = recs
        .into_iter()
        .map(|r| match r {
            Record::Http(h) => *h,
            other => panic!("not http: {other:?}"),
        })
        .collect();
    (recs, c)
}

#[test]
fn get_and_json_response() {
    let (recs, c) = http(Role::Client, &[(E, GET), (I, RESP_200)]);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.req.method, "GET");
    assert_eq!(r.req.path, "/index.html?x=1");
    assert_eq!(r.resp.status, 200);
    assert_eq!(r.resp.message, "OK");
    assert_eq!(r.resp.body.kept, b"{\"ok\": true}\n");
    assert_eq!(r.resp.body.size, 13);
    assert_eq!(r.common.latency_ns(), 1000);
    assert_eq!(r.common.time_ns(), 2000);
    assert_eq!(r.common.role, Role::Client);
    assert_eq!(
        r.value("req_headers"),
        Some(crate::protocols::rows::Value::Str(
            r#"{"Accept":"*/*","Host":"example.com"}"#.into()
        ))
    );
    assert_eq!(
        r.value("content_type"),
        Some(crate::protocols::rows::Value::Int(1))
    );
    assert_eq!(get(&c.records), 1);
    assert_eq!(get(&c.parse_errors), 0);
}

#[test]
fn chunked_request_and_response() {
    let (recs, c) = http(Role::Client, &[(E, POST_CHUNKED), (I, RESP_201_CHUNKED)]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].req.body.kept, b"hello world");
    assert_eq!(recs[0].req.body.size, 11);
    assert_eq!(recs[0].resp.body.kept, b"created");
    assert_eq!(recs[0].resp.status, 201);
    assert_eq!(get(&c.parse_errors), 0);
}

#[test]
fn server_role_requests_are_ingress() {
    let (recs, _) = http(Role::Server, &[(I, GET), (E, RESP_200)]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].common.role, Role::Server);
    assert_eq!(recs[0].common.latency_ns(), 1000);
}

#[test]
fn unknown_role_is_inferred_from_request_direction() {
    let (recs, _) = http(Role::Unknown, &[(I, GET), (E, RESP_200)]);
    assert_eq!(recs[0].common.role, Role::Server);
    let (recs, _) = http(Role::Unknown, &[(E, GET), (I, RESP_200)]);
    assert_eq!(recs[0].common.role, Role::Client);
}

#[test]
fn pipelined_requests_match_in_order() {
    let reqs = [GET, HEAD, POST_CHUNKED].concat();
    let resps = [RESP_200, RESP_HEAD, RESP_201_CHUNKED].concat();
    let (recs, c) = http(Role::Client, &[(E, &reqs), (I, &resps)]);
    let got: Vec<_> = recs
        .iter()
        .map(|r| (r.req.method.as_str(), r.resp.status))
        .collect();
    assert_eq!(got, [("GET", 200), ("HEAD", 200), ("POST", 201)]);
    assert!(recs[1].resp.body.kept.is_empty());
    assert_eq!(get(&c.unmatched_responses), 0);
    assert_eq!(get(&c.parse_errors), 0);
}

#[test]
fn keep_alive_head_204_304_have_no_body() {
    let (recs, c) = http(
        Role::Client,
        &[
            (E, HEAD),
            (I, RESP_HEAD),
            (E, GET),
            (I, RESP_204),
            (E, GET),
            (I, RESP_304),
            (E, GET),
            (I, RESP_200),
        ],
    );
    let statuses: Vec<_> = recs.iter().map(|r| r.resp.status).collect();
    assert_eq!(statuses, [200, 204, 304, 200]);
    assert_eq!(get(&c.parse_errors), 0);
}

#[test]
fn interim_100_continue_is_skipped() {
    let (recs, c) = http(
        Role::Client,
        &[
            (
                E,
                b"PUT /x HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
            ),
            (I, b"HTTP/1.1 100 Continue\r\n\r\n"),
            (E, b"ok"),
            (I, RESP_204),
        ],
    );
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].resp.status, 204);
    assert_eq!(recs[0].req.body.kept, b"ok");
    assert_eq!(get(&c.unmatched_responses), 0);
}

#[test]
fn body_until_close() {
    let (recs, _) = http(Role::Client, &[(E, GET), (I, RESP_10_CLOSE), (I, b" more")]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].resp.minor_version, 0);
    assert_eq!(recs[0].resp.body.kept, b"until close more");
}

#[test]
fn big_body_is_truncated_but_sized() {
    let body = vec![b'a'; 2000];
    let resp = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n".as_slice(),
        &body,
    ]
    .concat();
    // Fed in 100-byte pieces: memory stays bounded, the body is counted.
    let mut feeds = vec![(E, GET)];
    feeds.extend(resp.chunks(100).map(|c| (I, c)));
    let (recs, c) = http(Role::Client, &feeds);
    assert_eq!(recs.len(), 1);
    let b = &recs[0].resp.body;
    assert_eq!(b.size, 2000);
    assert_eq!(b.kept.len(), 512);
    let text = body_text(b);
    assert!(text.ends_with("a... [TRUNCATED]"));
    assert_eq!(text.len(), 512 + "... [TRUNCATED]".len());
    assert_eq!(get(&c.truncated_bodies), 1);
}

#[test]
fn kernel_gap_inside_body_is_a_counted_truncation() {
    let counters = Arc::new(ProtocolCounters::default());
    let m = meta(Role::Client, Transport::Tcp, 80);
    let mut p = new_parser(
        Protocol::Http,
        &m,
        ParserLimits::default(),
        counters.clone(),
    );
    p.feed(chunk(E, 1, GET));
    // The response moved 100 bytes of head + 10000 of body in one syscall,
    // but the kernel copied only the first 64 body bytes.
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n";
    let mut data = head.to_vec();
    data.extend_from_slice(&[b'z'; 64]);
    let mut c = chunk(I, 2, &data);
    c.original_len = head.len() + 10000;
    p.feed(c);
    // The next request/response still parse: the framing was kept.
    p.feed(chunk(E, 3, GET));
    p.feed(chunk(I, 4, RESP_204));
    let recs = p.take_records();
    assert_eq!(recs.len(), 2);
    let Record::Http(r) = &recs[0] else { panic!() };
    assert_eq!(r.resp.body.size, 10000);
    assert_eq!(r.resp.body.kept.len(), 64);
    assert!(r.resp.body.gap);
    assert_eq!(get(&counters.truncated_bodies), 1);
    assert_eq!(get(&counters.parse_errors), 0);
}

#[test]
fn kernel_gap_in_headers_resyncs() {
    let counters = Arc::new(ProtocolCounters::default());
    let m = meta(Role::Client, Transport::Tcp, 80);
    let mut p = new_parser(
        Protocol::Http,
        &m,
        ParserLimits::default(),
        counters.clone(),
    );
    p.feed(chunk(E, 1, GET));
    let mut c = chunk(I, 2, b"HTTP/1.1 200 OK\r\nX-Long: aaaa");
    c.original_len = 5000;
    p.feed(c);
    p.feed(chunk(E, 3, GET));
    p.feed(chunk(I, 4, RESP_204));
    let recs = p.take_records();
    // The first request is answered by the 204 (FIFO); one error counted.
    assert_eq!(recs.len(), 1);
    assert_eq!(get(&counters.parse_errors), 1);
}

#[test]
fn every_prefix_needs_more_and_consumes_nothing() {
    for (msg, method) in [
        (GET, None),
        (RESP_200, None),
        (POST_CHUNKED, None),
        (RESP_201_CHUNKED, None),
        (HEAD, None),
        (RESP_HEAD, Some("HEAD")),
        (RESP_204, None),
        (RESP_304, None),
    ] {
        match parse_message(msg, method, 512) {
            Parsed::Frame { consumed, .. } => assert_eq!(consumed, msg.len()),
            other => panic!("{other:?} for {}", String::from_utf8_lossy(msg)),
        }
        for n in 0..msg.len() {
            let got = parse_message(&msg[..n], method, 512);
            assert_eq!(
                got,
                Parsed::NeedMore,
                "prefix {n} of {}",
                String::from_utf8_lossy(msg)
            );
        }
        // And through the stream parser: no record from any prefix.
        for n in 0..msg.len() {
            let (recs, c) = http(Role::Client, &[(E, GET), (I, &msg[..n])]);
            if msg == RESP_200 || msg == RESP_204 || msg == RESP_304 {
                assert!(recs.is_empty(), "prefix {n}");
            }
            assert_eq!(get(&c.parse_errors), 0, "prefix {n}");
        }
    }
}

#[test]
fn chunked_body_byte_by_byte() {
    let head_end = POST_CHUNKED
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head")
        + 4;
    let body = &POST_CHUNKED[head_end..];
    let mut dec = BodyDecoder::new(BodyMode::Chunked, 512);
    let mut fed = 0;
    let mut buf = Vec::new();
    for &b in body {
        buf.push(b);
        let (n, progress) = dec.feed(&buf).expect("valid");
        buf.drain(..n);
        fed += n;
        if progress == BodyProgress::Done {
            break;
        }
    }
    assert!(dec.is_done());
    assert_eq!(fed, body.len());
    assert_eq!(dec.into_body().kept, b"hello world");
}

#[test]
fn garbage_before_a_request_is_skipped() {
    let mut req = b"\x00\x01garbage\xffGE".to_vec();
    req.extend_from_slice(GET);
    let (recs, c) = http(Role::Client, &[(E, &req), (I, RESP_200)]);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].req.path, "/index.html?x=1");
    assert_eq!(get(&c.parse_errors), 1);
    assert_eq!(get(&c.bytes_skipped_resync), 12);
}

#[test]
fn garbage_split_across_chunks_then_response() {
    let (recs, c) = http(
        Role::Client,
        &[
            (E, GET),
            (I, b"\r\n\r\nxx HTTP"),
            (I, b"/1.1 204 No Content\r\n\r\n"),
        ],
    );
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].resp.status, 204);
    assert_eq!(get(&c.parse_errors), 1);
}

#[test]
fn invalid_chunk_size_is_an_error_then_resync() {
    let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    let (recs, c) = http(Role::Client, &[(E, GET), (I, bad), (E, GET), (I, RESP_204)]);
    assert_eq!(recs.len(), 1);
    assert_eq!(get(&c.parse_errors), 1);
}

#[test]
fn buffer_overflow_drops_oldest_and_counts() {
    let limits = ParserLimits {
        max_buffer_bytes: 64,
        ..ParserLimits::default()
    };
    let m = meta(Role::Client, Transport::Tcp, 80);
    let huge_head = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(200));
    let (recs, c) = run(
        Protocol::Http,
        &m,
        limits,
        &[(E, huge_head.as_bytes()), (E, GET), (I, RESP_204)],
    );
    assert_eq!(recs.len(), 1);
    assert_eq!(get(&c.buffer_overflows), 1);
}

#[test]
fn unanswered_requests_and_orphan_responses_are_counted() {
    let (recs, c) = http(Role::Client, &[(I, RESP_204), (E, GET), (E, GET)]);
    assert!(recs.is_empty());
    assert_eq!(get(&c.unmatched_responses), 1);
    assert_eq!(get(&c.unmatched_requests), 2);
}

#[test]
fn upgrade_stops_parsing() {
    let (recs, c) = http(
        Role::Client,
        &[
            (
                E,
                b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            ),
            (
                I,
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
            ),
            (E, b"\x81\x85garbage"),
        ],
    );
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].resp.status, 101);
    assert_eq!(get(&c.parse_errors), 0);
}

#[test]
fn headers_json_orders_like_pixie_and_keeps_repeats() {
    let h = vec![
        ("b".to_string(), "2".to_string()),
        ("Set-Cookie".to_string(), "x=1".to_string()),
        ("A".to_string(), "\"q\"".to_string()),
        ("set-cookie".to_string(), "y=2".to_string()),
    ];
    assert_eq!(
        headers_json(&h),
        r#"{"A":"\"q\"","b":"2","Set-Cookie":"x=1","set-cookie":"y=2"}"#
    );
}
