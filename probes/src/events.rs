//! Rust mirrors of the kernel's event structs (`probes-ebpf/include/scry_events.h`)
//! and decoding of ring-buffer records into [`Event`]s.
//!
//! Every mirror is `#[repr(C)]` with the same fields, names and padding as
//! the C struct. `build.rs` includes this file and turns [`layout_table`]
//! and [`constants`] into C `_Static_assert`s compiled against the header,
//! so a layout mismatch fails the build.
//!
//! This file must only use `std`: `build.rs` compiles it too.

use std::mem::{offset_of, size_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Hard upper bound of payload bytes per data event (`SCRY_MAX_DATA`).
pub const MAX_DATA: usize = 16384;
/// Default per-event copy cap (`scry_data_cap`).
pub const DEFAULT_DATA_CAP: u32 = 4096;

pub const EV_OPEN: u32 = 1;
pub const EV_DATA: u32 = 2;
pub const EV_CLOSE: u32 = 3;
pub const EV_PROC_EXIT: u32 = 4;

pub const PROTO_UNKNOWN: u8 = 0;
pub const PROTO_HTTP: u8 = 1;
pub const PROTO_DNS: u8 = 2;
pub const PROTO_REDIS: u8 = 3;

pub const ROLE_UNKNOWN: u8 = 0;
pub const ROLE_CLIENT: u8 = 1;
pub const ROLE_SERVER: u8 = 2;

pub const DIR_EGRESS: u8 = 0;
pub const DIR_INGRESS: u8 = 1;

pub const TRANSPORT_UNKNOWN: u8 = 0;
pub const TRANSPORT_TCP: u8 = 1;
pub const TRANSPORT_UDP: u8 = 2;

pub const OPEN_CONNECT: u8 = 1;
pub const OPEN_ACCEPT: u8 = 2;
pub const OPEN_FIRST_SEEN: u8 = 3;

/// Indexes of the per-CPU `scry_stats` array, with their names in
/// `scry_probe_stats` (protocol `kernel`).
pub const KERNEL_STATS: [(u32, &str); 8] = [
    (0, "ringbuf_drops"),
    (1, "events"),
    (2, "data_truncated"),
    (3, "unknown_protocol_skipped"),
    (4, "args_unreadable"),
    (5, "read_failures"),
    (6, "loop_bound_hit"),
    (7, "forced_wakeups"),
];
/// `SCRY_STAT_MAX`: entries of `scry_stats`.
pub const STAT_MAX: u32 = 8;
pub const STAT_RINGBUF_DROPS: u32 = 0;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// `struct scry_addr`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RawAddr {
    pub family: u16,
    pub port: u16,
    pub _pad: u32,
    pub addr: [u8; 16],
}

impl RawAddr {
    /// The IP address, if the family is IPv4 or IPv6.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.family {
            AF_INET => Some(IpAddr::V4(Ipv4Addr::new(
                self.addr[0],
                self.addr[1],
                self.addr[2],
                self.addr[3],
            ))),
            AF_INET6 => {
                let v6 = Ipv6Addr::from(self.addr);
                // Show IPv4-mapped addresses as IPv4, like Pixie.
                Some(match v6.to_ipv4_mapped() {
                    Some(v4) => IpAddr::V4(v4),
                    None => IpAddr::V6(v6),
                })
            }
            _ => None,
        }
    }

    /// Known family and a non-zero port or address.
    pub fn is_set(&self) -> bool {
        self.ip().is_some_and(|ip| !ip.is_unspecified()) || (self.family != 0 && self.port != 0)
    }

    /// Pixie's `addr_family`: 2 (AF_INET), 10 (AF_INET6), 0 unknown.
    pub fn family(&self) -> u16 {
        self.family
    }

    pub fn from_ip(ip: IpAddr, port: u16) -> RawAddr {
        let mut a = RawAddr {
            port,
            ..RawAddr::default()
        };
        match ip {
            IpAddr::V4(v4) => {
                a.family = AF_INET;
                a.addr[..4].copy_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                a.family = AF_INET6;
                a.addr = v6.octets();
            }
        }
        a
    }
}

/// `struct scry_event_header`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawHeader {
    pub kind: u32,
    pub tgid: u32,
    pub tid: u32,
    pub fd: i32,
    pub generation: u64,
    pub timestamp_ns: u64,
    pub proc_start_ns: u64,
}

/// `struct scry_open_event`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawOpenEvent {
    pub hdr: RawHeader,
    pub remote: RawAddr,
    pub local: RawAddr,
    pub role: u8,
    pub transport: u8,
    pub source: u8,
    pub _pad: [u8; 5],
    /// The task's name (`comm`, NUL-padded).
    pub comm: [u8; 16],
}

/// `struct scry_data_event` without its trailing `data[]`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawDataHeader {
    pub hdr: RawHeader,
    pub remote: RawAddr,
    pub original_len: u64,
    pub data_len: u32,
    pub direction: u8,
    pub protocol: u8,
    pub role: u8,
    pub transport: u8,
    pub syscall: u8,
    pub _pad: [u8; 7],
}

/// `struct scry_close_event`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawCloseEvent {
    pub hdr: RawHeader,
    pub bytes_sent: u64,
    pub bytes_recv: u64,
    pub protocol: u8,
    pub role: u8,
    pub transport: u8,
    pub _pad: [u8; 5],
}

/// `struct scry_proc_exit_event`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawProcExitEvent {
    pub hdr: RawHeader,
}

/// `struct scry_conn_key`: key of the kernel's `scry_conns` map.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RawConnKey {
    pub tgid: u32,
    pub fd: i32,
}

/// `struct scry_conn`: value of the kernel's `scry_conns` map.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawConn {
    pub generation: u64,
    pub open_ts_ns: u64,
    pub bytes_sent: u64,
    pub bytes_recv: u64,
    pub remote: RawAddr,
    pub local: RawAddr,
    pub infer_attempts: u8,
    /// Bytes kept aside for DNS-over-TCP inference (a length prefix moved
    /// in a syscall of its own); kernel-internal.
    pub prefix_len: u8,
    pub prefix: [u8; 2],
    pub protocol: u8,
    pub role: u8,
    pub transport: u8,
    pub prefix_dir: u8,
}

/// A decoded ring-buffer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Open(RawOpenEvent),
    Data { hdr: RawDataHeader, data: &'a [u8] },
    Close(RawCloseEvent),
    ProcExit(RawProcExitEvent),
}

impl Event<'_> {
    pub fn header(&self) -> &RawHeader {
        match self {
            Event::Open(e) => &e.hdr,
            Event::Data { hdr, .. } => &hdr.hdr,
            Event::Close(e) => &e.hdr,
            Event::ProcExit(e) => &e.hdr,
        }
    }
}

/// Why a ring-buffer record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than the struct its kind needs.
    Short {
        kind: u32,
        len: usize,
        need: usize,
    },
    UnknownKind(u32),
    /// `data_len` larger than the bytes present or than `MAX_DATA`.
    BadDataLen {
        data_len: u32,
        available: usize,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Short { kind, len, need } => {
                write!(f, "event of kind {kind} is {len} bytes, needs {need}")
            }
            DecodeError::UnknownKind(k) => write!(f, "unknown event kind {k}"),
            DecodeError::BadDataLen {
                data_len,
                available,
            } => write!(f, "data event claims {data_len} bytes, {available} present"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Plain-old-data structs: every bit pattern is a valid value.
///
/// # Safety
/// Implementors must be `#[repr(C)]` and contain only integers and arrays
/// of integers.
pub unsafe trait Plain: Copy + Default {}
unsafe impl Plain for RawHeader {}
unsafe impl Plain for RawOpenEvent {}
unsafe impl Plain for RawDataHeader {}
unsafe impl Plain for RawCloseEvent {}
unsafe impl Plain for RawProcExitEvent {}
unsafe impl Plain for RawConnKey {}
unsafe impl Plain for RawConn {}

/// Reads a `T` from the start of `bytes`, or `None` if too short.
pub fn read_struct<T: Plain>(bytes: &[u8]) -> Option<T> {
    if bytes.len() < size_of::<T>() {
        return None;
    }
    // SAFETY: the length is checked above, T is plain old data (any bit
    // pattern is valid) and read_unaligned has no alignment requirement.
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

/// The bytes of a `T`, for building test events.
pub fn struct_bytes<T: Plain>(v: &T) -> Vec<u8> {
    let mut out = vec![0u8; size_of::<T>()];
    // SAFETY: out has exactly size_of::<T>() bytes; T is plain old data.
    unsafe { std::ptr::write_unaligned(out.as_mut_ptr().cast::<T>(), *v) };
    out
}

/// Decodes one ring-buffer record. Never panics on any input.
pub fn decode(bytes: &[u8]) -> Result<Event<'_>, DecodeError> {
    let short = |kind, need| DecodeError::Short {
        kind,
        len: bytes.len(),
        need,
    };
    let kind = match bytes.get(..4) {
        Some(k) => u32::from_ne_bytes([k[0], k[1], k[2], k[3]]),
        None => return Err(short(0, size_of::<RawHeader>())),
    };
    match kind {
        EV_OPEN => read_struct(bytes)
            .map(Event::Open)
            .ok_or_else(|| short(kind, size_of::<RawOpenEvent>())),
        EV_DATA => {
            let hdr: RawDataHeader =
                read_struct(bytes).ok_or_else(|| short(kind, size_of::<RawDataHeader>()))?;
            let start = size_of::<RawDataHeader>();
            let available = bytes.len() - start;
            let n = hdr.data_len as usize;
            if n > available || n > MAX_DATA {
                return Err(DecodeError::BadDataLen {
                    data_len: hdr.data_len,
                    available,
                });
            }
            Ok(Event::Data {
                hdr,
                data: &bytes[start..start + n],
            })
        }
        EV_CLOSE => read_struct(bytes)
            .map(Event::Close)
            .ok_or_else(|| short(kind, size_of::<RawCloseEvent>())),
        EV_PROC_EXIT => read_struct(bytes)
            .map(Event::ProcExit)
            .ok_or_else(|| short(kind, size_of::<RawProcExitEvent>())),
        k => Err(DecodeError::UnknownKind(k)),
    }
}

/// One size or field offset of a mirrored struct.
#[derive(Debug, Clone, Copy)]
pub struct LayoutEntry {
    pub c_struct: &'static str,
    pub rust_type: &'static str,
    /// `None`: the value is `sizeof`.
    pub field: Option<&'static str>,
    pub value: usize,
}

macro_rules! layout {
    ($out:ident, $rust:ty, $c:literal, size = $size:expr, [$($f:ident),* $(,)?]) => {
        $out.push(LayoutEntry {
            c_struct: $c,
            rust_type: stringify!($rust),
            field: None,
            value: $size,
        });
        $(
            $out.push(LayoutEntry {
                c_struct: $c,
                rust_type: stringify!($rust),
                field: Some(stringify!($f)),
                value: offset_of!($rust, $f),
            });
        )*
    };
}

/// Sizes and field offsets of every mirror, checked against C by build.rs.
pub fn layout_table() -> Vec<LayoutEntry> {
    let mut v = Vec::new();
    layout!(
        v,
        RawAddr,
        "scry_addr",
        size = size_of::<RawAddr>(),
        [family, port, _pad, addr]
    );
    layout!(
        v,
        RawHeader,
        "scry_event_header",
        size = size_of::<RawHeader>(),
        [kind, tgid, tid, fd, generation, timestamp_ns, proc_start_ns]
    );
    layout!(
        v,
        RawOpenEvent,
        "scry_open_event",
        size = size_of::<RawOpenEvent>(),
        [hdr, remote, local, role, transport, source, _pad, comm]
    );
    // The C struct has data[MAX_DATA] after the header part.
    layout!(
        v,
        RawDataHeader,
        "scry_data_event",
        size = size_of::<RawDataHeader>() + MAX_DATA,
        [
            hdr,
            remote,
            original_len,
            data_len,
            direction,
            protocol,
            role,
            transport,
            syscall,
            _pad
        ]
    );
    v.push(LayoutEntry {
        c_struct: "scry_data_event",
        rust_type: "RawDataHeader",
        field: Some("data"),
        value: size_of::<RawDataHeader>(),
    });
    layout!(
        v,
        RawCloseEvent,
        "scry_close_event",
        size = size_of::<RawCloseEvent>(),
        [hdr, bytes_sent, bytes_recv, protocol, role, transport, _pad]
    );
    layout!(
        v,
        RawProcExitEvent,
        "scry_proc_exit_event",
        size = size_of::<RawProcExitEvent>(),
        [hdr]
    );
    layout!(
        v,
        RawConnKey,
        "scry_conn_key",
        size = size_of::<RawConnKey>(),
        [tgid, fd]
    );
    layout!(
        v,
        RawConn,
        "scry_conn",
        size = size_of::<RawConn>(),
        [
            generation,
            open_ts_ns,
            bytes_sent,
            bytes_recv,
            remote,
            local,
            infer_attempts,
            prefix_len,
            prefix,
            protocol,
            role,
            transport,
            prefix_dir
        ]
    );
    v
}

/// C constants and their Rust values, checked by build.rs.
pub fn constants() -> Vec<(&'static str, u64)> {
    let mut v: Vec<(&'static str, u64)> = vec![
        ("SCRY_MAX_DATA", MAX_DATA as u64),
        ("SCRY_EV_OPEN", EV_OPEN.into()),
        ("SCRY_EV_DATA", EV_DATA.into()),
        ("SCRY_EV_CLOSE", EV_CLOSE.into()),
        ("SCRY_EV_PROC_EXIT", EV_PROC_EXIT.into()),
        ("SCRY_PROTO_UNKNOWN", PROTO_UNKNOWN.into()),
        ("SCRY_PROTO_HTTP", PROTO_HTTP.into()),
        ("SCRY_PROTO_DNS", PROTO_DNS.into()),
        ("SCRY_PROTO_REDIS", PROTO_REDIS.into()),
        ("SCRY_ROLE_UNKNOWN", ROLE_UNKNOWN.into()),
        ("SCRY_ROLE_CLIENT", ROLE_CLIENT.into()),
        ("SCRY_ROLE_SERVER", ROLE_SERVER.into()),
        ("SCRY_DIR_EGRESS", DIR_EGRESS.into()),
        ("SCRY_DIR_INGRESS", DIR_INGRESS.into()),
        ("SCRY_TRANSPORT_UNKNOWN", TRANSPORT_UNKNOWN.into()),
        ("SCRY_TRANSPORT_TCP", TRANSPORT_TCP.into()),
        ("SCRY_TRANSPORT_UDP", TRANSPORT_UDP.into()),
        ("SCRY_OPEN_CONNECT", OPEN_CONNECT.into()),
        ("SCRY_OPEN_ACCEPT", OPEN_ACCEPT.into()),
        ("SCRY_OPEN_FIRST_SEEN", OPEN_FIRST_SEEN.into()),
        ("SCRY_STAT_MAX", STAT_MAX.into()),
    ];
    let names = [
        "SCRY_STAT_RINGBUF_DROPS",
        "SCRY_STAT_EVENTS",
        "SCRY_STAT_TRUNCATED",
        "SCRY_STAT_UNKNOWN_SKIPPED",
        "SCRY_STAT_NO_ARGS",
        "SCRY_STAT_READ_FAILURES",
        "SCRY_STAT_LOOP_BOUND_HIT",
        "SCRY_STAT_FORCED_WAKEUPS",
    ];
    for (name, (idx, _)) in names.iter().zip(KERNEL_STATS.iter()) {
        v.push((name, u64::from(*idx)));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_sizes_are_multiples_of_8_and_fields_in_order() {
        // The C side is checked by build.rs; here: no struct is empty and
        // offsets grow, i.e. the table itself is sane.
        let table = layout_table();
        assert!(table.len() > 40);
        assert_eq!(size_of::<RawAddr>(), 24);
        assert_eq!(size_of::<RawHeader>(), 40);
        assert_eq!(size_of::<RawOpenEvent>(), 112);
        assert_eq!(size_of::<RawDataHeader>(), 88);
        assert_eq!(size_of::<RawCloseEvent>(), 64);
        assert_eq!(size_of::<RawConn>(), 88);
        for e in &table {
            if e.field.is_none() {
                assert_eq!(e.value % 8, 0, "{} size {}", e.c_struct, e.value);
            }
        }
    }

    #[test]
    fn decode_round_trips_each_kind() {
        let mut open = RawOpenEvent::default();
        open.hdr.kind = EV_OPEN;
        open.hdr.tgid = 42;
        open.remote = RawAddr::from_ip("127.0.0.1".parse().unwrap(), 6379);
        let b = struct_bytes(&open);
        assert_eq!(decode(&b), Ok(Event::Open(open)));

        let mut data = RawDataHeader::default();
        data.hdr.kind = EV_DATA;
        data.data_len = 3;
        let mut b = struct_bytes(&data);
        b.extend_from_slice(b"abc");
        match decode(&b) {
            Ok(Event::Data { hdr, data }) => {
                assert_eq!(hdr.data_len, 3);
                assert_eq!(data, b"abc");
            }
            other => panic!("{other:?}"),
        }

        let mut close = RawCloseEvent::default();
        close.hdr.kind = EV_CLOSE;
        close.bytes_sent = 7;
        assert_eq!(decode(&struct_bytes(&close)), Ok(Event::Close(close)));
    }

    #[test]
    fn decode_rejects_garbage_without_panicking() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[1, 0]).is_err());
        assert!(matches!(
            decode(&[9, 0, 0, 0]),
            Err(DecodeError::UnknownKind(9))
        ));
        let mut data = RawDataHeader::default();
        data.hdr.kind = EV_DATA;
        data.data_len = 100;
        let b = struct_bytes(&data);
        assert!(matches!(decode(&b), Err(DecodeError::BadDataLen { .. })));
        // every prefix of a valid event
        let mut open = RawOpenEvent::default();
        open.hdr.kind = EV_OPEN;
        let b = struct_bytes(&open);
        for n in 0..b.len() {
            assert!(decode(&b[..n]).is_err());
        }
    }

    #[test]
    fn addresses_render() {
        let a = RawAddr::from_ip("::ffff:10.0.0.1".parse().unwrap(), 80);
        assert_eq!(a.ip(), Some("10.0.0.1".parse().unwrap()));
        assert!(a.is_set());
        assert_eq!(RawAddr::default().ip(), None);
        assert!(!RawAddr::default().is_set());
    }
}
