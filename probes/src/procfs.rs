//! What scry reads from `/proc`: socket addresses of connections opened
//! before the probes attached, process start times, and `process_stats`.
//!
//! All parsing is total: malformed lines are skipped, never unwrapped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use crate::events::RawAddr;
use crate::protocols::Transport;

/// Clock ticks per second (`USER_HZ`), as /proc/<pid>/stat counts them.
pub fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if v > 0 {
        v as u64
    } else {
        100
    }
}

/// /proc/<pid>/stat's start time (ticks) from the kernel's start_boottime.
pub fn start_ticks_from_ns(start_boottime_ns: u64, ticks_per_sec: u64) -> u64 {
    start_boottime_ns / (1_000_000_000 / ticks_per_sec.clamp(1, 1_000_000_000))
}

/// Fields after the `(comm)` of /proc/<pid>/stat, starting at field 3.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let close = stat.rfind(')')?;
    Some(stat.get(close + 1..)?.split_whitespace().collect())
}

/// A socket's transport and endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketInfo {
    pub transport: Transport,
    pub local: RawAddr,
    pub remote: RawAddr,
}

/// The inode of `/proc/<pid>/fd/<fd>` when it is a socket.
pub fn socket_inode(proc_root: &Path, pid: u32, fd: i32) -> Option<u64> {
    let link = std::fs::read_link(proc_root.join(format!("{pid}/fd/{fd}"))).ok()?;
    let s = link.to_str()?;
    s.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// Finds the socket behind (pid, fd) in /proc/<pid>/net/{tcp,tcp6,udp,udp6}.
pub fn socket_info(proc_root: &Path, pid: u32, fd: i32) -> Option<SocketInfo> {
    let inode = socket_inode(proc_root, pid, fd)?;
    for (file, transport) in [
        ("tcp", Transport::Tcp),
        ("tcp6", Transport::Tcp),
        ("udp", Transport::Udp),
        ("udp6", Transport::Udp),
    ] {
        let path: PathBuf = proc_root.join(format!("{pid}/net/{file}"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Some((local, remote)) = find_inode(&text, inode) {
            return Some(SocketInfo {
                transport,
                local,
                remote,
            });
        }
    }
    None
}

/// The (local, remote) endpoints of the line of /proc/net/{tcp,udp}[6] with
/// this inode.
pub fn find_inode(table: &str, inode: u64) -> Option<(RawAddr, RawAddr)> {
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[9].parse::<u64>().ok() != Some(inode) {
            continue;
        }
        return Some((parse_endpoint(f[1])?, parse_endpoint(f[2])?));
    }
    None
}

/// `0100007F:1F90` (IPv4) or 32 hex digits + port (IPv6), as the kernel
/// prints them: each 32-bit word in host byte order.
pub fn parse_endpoint(s: &str) -> Option<RawAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(addr.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_ne_bytes())
    };
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return None,
    };
    let mut a = RawAddr::from_ip(ip, port);
    if ip.is_ipv6() {
        a.family = 10;
    }
    Some(a)
}

/// One `process_stats` sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcStats {
    pub major_faults: i64,
    pub minor_faults: i64,
    pub cpu_utime_ns: i64,
    pub cpu_ktime_ns: i64,
    pub num_threads: i64,
    pub vsize_bytes: i64,
    pub rss_bytes: i64,
    pub rchar_bytes: i64,
    pub wchar_bytes: i64,
    pub read_bytes: i64,
    pub write_bytes: i64,
}

/// Parses /proc/<pid>/stat and /proc/<pid>/io (io may be empty).
pub fn parse_proc_stats(
    stat: &str,
    io: &str,
    ticks_per_sec: u64,
    page_size: u64,
) -> Option<ProcStats> {
    let f = stat_fields(stat)?;
    // f[0] is field 3 (state): field N is f[N - 3].
    let num = |n: usize| -> Option<i64> { f.get(n - 3)?.parse::<i64>().ok() };
    let tick_ns = 1_000_000_000 / ticks_per_sec.clamp(1, 1_000_000_000) as i64;
    let io_val = |key: &str| -> i64 {
        io.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim_start_matches(':').trim().parse().ok())
            .unwrap_or(0)
    };
    Some(ProcStats {
        minor_faults: num(10)?,
        major_faults: num(12)?,
        cpu_utime_ns: num(14)?.saturating_mul(tick_ns),
        cpu_ktime_ns: num(15)?.saturating_mul(tick_ns),
        num_threads: num(20)?,
        vsize_bytes: num(23)?,
        rss_bytes: num(24)?.saturating_mul(page_size as i64),
        rchar_bytes: io_val("rchar"),
        wchar_bytes: io_val("wchar"),
        read_bytes: io_val("read_bytes"),
        write_bytes: io_val("write_bytes"),
    })
}

/// Samples `process_stats` of a live process.
pub fn proc_stats(proc_root: &Path, pid: u32, ticks_per_sec: u64) -> Option<ProcStats> {
    let stat = std::fs::read_to_string(proc_root.join(format!("{pid}/stat"))).ok()?;
    let io = std::fs::read_to_string(proc_root.join(format!("{pid}/io"))).unwrap_or_default();
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = if page > 0 { page as u64 } else { 4096 };
    parse_proc_stats(&stat, &io, ticks_per_sec, page)
}

/// Whether /proc/<pid> exists.
pub fn alive(proc_root: &Path, pid: u32) -> bool {
    proc_root.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ipv4_and_ipv6_endpoints() {
        let a = parse_endpoint("0100007F:1F90").expect("v4");
        assert_eq!(a.ip(), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(a.port, 8080);
        let a = parse_endpoint("00000000000000000000000001000000:0035").expect("v6");
        assert_eq!(a.ip(), Some("::1".parse().unwrap()));
        assert_eq!(a.port, 53);
        assert!(parse_endpoint("zz").is_none());
        assert!(parse_endpoint("0100007F:XYZ").is_none());
        assert!(parse_endpoint("01007F:0050").is_none());
    }

    #[test]
    fn finds_socket_by_inode() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:18EB 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 98765 1 0000000000000000 20 4 30 10 -1\n";
        let (l, r) = find_inode(table, 98765).expect("found");
        assert_eq!(l.port, 6379);
        assert_eq!(r.port, 54321);
        assert!(find_inode(table, 1).is_none());
        assert!(find_inode("garbage\nline", 1).is_none());
    }

    #[test]
    fn parses_stat_with_spaces_in_comm() {
        let stat = "1234 (my (odd) proc) S 1 1234 1234 0 -1 4194560 500 0 7 0 30 20 0 0 20 0 3 0 4242 1000000 250 18446744073709551615";
        let io = "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 30\nwrite_bytes: 40\n";
        let s = parse_proc_stats(stat, io, 100, 4096).expect("parsed");
        assert_eq!(s.minor_faults, 500);
        assert_eq!(s.major_faults, 7);
        assert_eq!(s.cpu_utime_ns, 300_000_000);
        assert_eq!(s.cpu_ktime_ns, 200_000_000);
        assert_eq!(s.num_threads, 3);
        assert_eq!(s.vsize_bytes, 1_000_000);
        assert_eq!(s.rss_bytes, 250 * 4096);
        assert_eq!(
            (s.rchar_bytes, s.wchar_bytes, s.read_bytes, s.write_bytes),
            (10, 20, 30, 40)
        );
        assert!(parse_proc_stats("garbage", "", 100, 4096).is_none());
        assert_eq!(start_ticks_from_ns(12_340_000_000, 100), 1234);
    }

    #[test]
    fn reads_own_sockets() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let c = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        use std::os::fd::AsRawFd;
        let info = socket_info(Path::new("/proc"), std::process::id(), c.as_raw_fd())
            .expect("socket found in /proc/self/net/tcp");
        assert_eq!(info.transport, Transport::Tcp);
        assert_eq!(info.remote.port, port);
        assert_eq!(info.remote.ip(), Some("127.0.0.1".parse().unwrap()));
    }
}
