//! Parser throughput per protocol, in MB/s of payload fed through a
//! connection's `StreamParser` (parse + stitch), plus a baseline measured in
//! the same run: a `memchr` scan for CRLF over the same bytes, the least
//! work any of these parsers can do. Each line prints the ratio to it.
//!
//! Run: `cargo bench --workspace --profile dev --bench parsers` (a `-p` subset
//! would resolve other features and rebuild Polars).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scry_probes::protocols::{
    new_parser, Chunk, ConnMeta, Direction, ParserLimits, Protocol, ProtocolCounters, Role,
    Transport,
};

fn meta(transport: Transport) -> ConnMeta {
    ConnMeta {
        upid: "1:1:1".into(),
        pid: 1,
        fd: 3,
        remote_addr: "127.0.0.1".into(),
        remote_port: 53,
        local_addr: "127.0.0.1".into(),
        local_port: 40000,
        role: Role::Client,
        transport,
    }
}

/// One workload: (direction, chunk) pairs making up `n` request/response pairs.
struct Workload {
    name: &'static str,
    protocol: Protocol,
    transport: Transport,
    chunks: Vec<(Direction, Vec<u8>)>,
}

impl Workload {
    fn bytes(&self) -> usize {
        self.chunks.iter().map(|(_, c)| c.len()).sum()
    }
}

fn http_workload() -> Workload {
    let req = b"GET /api/v1/items?limit=10 HTTP/1.1\r\nHost: svc.local\r\nUser-Agent: bench/1.0\r\nAccept: application/json\r\n\r\n";
    let body = "{\"items\":[1,2,3,4,5,6,7,8,9,10],\"next\":\"abcdef\"}".repeat(8);
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nServer: bench\r\n\r\n{}",
        body.len(),
        body
    );
    let mut chunks = Vec::new();
    for _ in 0..1000 {
        chunks.push((Direction::Egress, req.to_vec()));
        chunks.push((Direction::Ingress, resp.as_bytes().to_vec()));
    }
    Workload {
        name: "http",
        protocol: Protocol::Http,
        transport: Transport::Tcp,
        chunks,
    }
}

fn dns_workload() -> Workload {
    // example.com A query / response with a CNAME and an A answer.
    let query: &[u8] = &[
        0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 7, b'e', b'x',
        b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0x00, 0x01, 0x00, 0x01,
    ];
    let resp: &[u8] = &[
        0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 7, b'e', b'x',
        b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c,
        0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x06, 3, b'w', b'w', b'w', 0xc0,
        0x0c, 0xc0, 0x29, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 93, 184, 215,
        14,
    ];
    let mut chunks = Vec::new();
    for _ in 0..1000 {
        chunks.push((Direction::Egress, query.to_vec()));
        chunks.push((Direction::Ingress, resp.to_vec()));
    }
    Workload {
        name: "dns",
        protocol: Protocol::Dns,
        transport: Transport::Udp,
        chunks,
    }
}

fn redis_workload() -> Workload {
    // Pipelines of 10 commands (GET/SET/HSET), then their 10 replies.
    let value = "v".repeat(64);
    let mut reqs = Vec::new();
    let mut resps = Vec::new();
    for i in 0..10 {
        let key = format!("user:{i:04}");
        match i % 3 {
            0 => {
                reqs.extend(format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).bytes());
                resps.extend(format!("${}\r\n{value}\r\n", value.len()).bytes());
            }
            1 => {
                reqs.extend(
                    format!(
                        "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
                        key.len(),
                        value.len()
                    )
                    .bytes(),
                );
                resps.extend(b"+OK\r\n");
            }
            _ => {
                reqs.extend(
                    format!(
                        "*4\r\n$4\r\nHSET\r\n${}\r\n{key}\r\n$4\r\nname\r\n${}\r\n{value}\r\n",
                        key.len(),
                        value.len()
                    )
                    .bytes(),
                );
                resps.extend(b":1\r\n");
            }
        }
    }
    let mut chunks = Vec::new();
    for _ in 0..100 {
        chunks.push((Direction::Egress, reqs.clone()));
        chunks.push((Direction::Ingress, resps.clone()));
    }
    Workload {
        name: "redis",
        protocol: Protocol::Redis,
        transport: Transport::Tcp,
        chunks,
    }
}

fn run_parser(w: &Workload, m: &ConnMeta) -> usize {
    let counters = Arc::new(ProtocolCounters::default());
    let mut p = new_parser(w.protocol, m, ParserLimits::default(), counters);
    let mut n = 0;
    for (i, (d, data)) in w.chunks.iter().enumerate() {
        p.feed(Chunk {
            direction: *d,
            timestamp_ns: i as u64 + 1,
            data,
            original_len: data.len(),
            datagram: w.transport == Transport::Udp,
        });
        if i % 64 == 63 {
            n += p.take_records().len();
        }
    }
    n + p.take_records().len()
}

fn run_baseline(w: &Workload) -> usize {
    w.chunks
        .iter()
        .map(|(_, c)| memchr::memmem::find_iter(c, b"\r\n").count())
        .sum()
}

/// MB/s of one pass, measured over at least `budget`.
fn mbps(bytes: usize, budget: Duration, mut f: impl FnMut() -> usize) -> f64 {
    let start = Instant::now();
    let mut iters = 0u64;
    while start.elapsed() < budget || iters == 0 {
        black_box(f());
        iters += 1;
    }
    (bytes as f64 * iters as f64) / start.elapsed().as_secs_f64() / 1e6
}

fn parsers(c: &mut Criterion) {
    let workloads = [http_workload(), dns_workload(), redis_workload()];
    let mut group = c.benchmark_group("parsers");
    for w in &workloads {
        let m = meta(w.transport);
        // Sanity: every pair makes a record.
        let records = run_parser(w, &m);
        assert!(records > 0, "{}: no records", w.name);
        group.throughput(Throughput::Bytes(w.bytes() as u64));
        group.bench_function(w.name, |b| b.iter(|| run_parser(w, &m)));
        group.bench_function(format!("{}_baseline_crlf_scan", w.name), |b| {
            b.iter(|| run_baseline(w))
        });
    }
    group.finish();

    // A summary in MB/s, with the ratio to the baseline of the same run.
    println!("\nparser throughput (payload MB/s; baseline = memchr CRLF scan of the same bytes)");
    for w in &workloads {
        let m = meta(w.transport);
        let budget = Duration::from_millis(500);
        let parser = mbps(w.bytes(), budget, || run_parser(w, &m));
        let base = mbps(w.bytes(), budget, || run_baseline(w));
        println!(
            "  {:<6} {:>9.1} MB/s   baseline {:>9.1} MB/s   ratio {:>6.3}   ({} records / {} bytes per pass)",
            w.name,
            parser,
            base,
            parser / base,
            run_parser(w, &m),
            w.bytes()
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = parsers
}
criterion_main!(benches);
