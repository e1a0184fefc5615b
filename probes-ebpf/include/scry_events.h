/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Events and maps shared between the kernel programs (scry.bpf.c) and
 * userspace (probes/src/events.rs mirrors every struct here, #[repr(C)]).
 *
 * Layout is checked at build time: probes/build.rs generates
 * _Static_assert(sizeof/offsetof == <Rust value>) for every mirrored field
 * and compiles them against this header. Keep every struct naturally
 * aligned with explicit padding; no bitfields, no implicit holes.
 */
#ifndef SCRY_EVENTS_H
#define SCRY_EVENTS_H

/* Hard upper bound of payload bytes copied per data event; the configured
 * cap (scry_data_cap in .rodata, default 4096) must be <= this. Power of 2. */
#define SCRY_MAX_DATA 16384
/* iovecs looked at per readv/writev/sendmsg/recvmsg message. */
#define SCRY_MAX_IOV 8
/* messages looked at per sendmmsg/recvmmsg call. */
#define SCRY_MAX_MMSG 8
/* Bytes looked at by in-kernel protocol inference. */
#define SCRY_INFER_BYTES 16
/* Data events of an unknown-protocol connection tried for inference. */
#define SCRY_INFER_ATTEMPTS 4
/* Bytes of a TCP connection kept aside for inference (DNS length prefix). */
#define SCRY_TCP_PREFIX_MAX 2

enum scry_event_kind {
	SCRY_EV_OPEN = 1,
	SCRY_EV_DATA = 2,
	SCRY_EV_CLOSE = 3,
	SCRY_EV_PROC_EXIT = 4,
};

enum scry_protocol {
	SCRY_PROTO_UNKNOWN = 0,
	SCRY_PROTO_HTTP = 1,
	SCRY_PROTO_DNS = 2,
	SCRY_PROTO_REDIS = 3,
};

enum scry_role {
	SCRY_ROLE_UNKNOWN = 0,
	SCRY_ROLE_CLIENT = 1,
	SCRY_ROLE_SERVER = 2,
};

enum scry_direction {
	SCRY_DIR_EGRESS = 0,
	SCRY_DIR_INGRESS = 1,
};

enum scry_transport {
	SCRY_TRANSPORT_UNKNOWN = 0,
	SCRY_TRANSPORT_TCP = 1,
	SCRY_TRANSPORT_UDP = 2,
};

/* How an open event came to be. */
enum scry_open_source {
	SCRY_OPEN_CONNECT = 1,
	SCRY_OPEN_ACCEPT = 2,
	/* First data on a socket opened before the probes attached. */
	SCRY_OPEN_FIRST_SEEN = 3,
};

/* Which syscall produced a data event. */
enum scry_syscall {
	SCRY_SYS_READ = 1,
	SCRY_SYS_WRITE = 2,
	SCRY_SYS_READV = 3,
	SCRY_SYS_WRITEV = 4,
	SCRY_SYS_SENDTO = 5,
	SCRY_SYS_RECVFROM = 6,
	SCRY_SYS_SENDMSG = 7,
	SCRY_SYS_RECVMSG = 8,
	SCRY_SYS_SENDMMSG = 9,
	SCRY_SYS_RECVMMSG = 10,
	SCRY_SYS_CONNECT = 11,
	SCRY_SYS_ACCEPT = 12,
	SCRY_SYS_ACCEPT4 = 13,
};

/* Indexes of the per-CPU `scry_stats` array. */
enum scry_stat {
	/* bpf_ringbuf_output failed: the event is lost. */
	SCRY_STAT_RINGBUF_DROPS = 0,
	/* events successfully written to the ring buffer. */
	SCRY_STAT_EVENTS = 1,
	/* data events whose payload was cut at the copy cap. */
	SCRY_STAT_TRUNCATED = 2,
	/* data syscalls on sockets with no inferred protocol (not copied). */
	SCRY_STAT_UNKNOWN_SKIPPED = 3,
	/* syscall exits whose arguments could not be read (no saved user
	 * registers for the task). */
	SCRY_STAT_NO_ARGS = 4,
	/* bpf_probe_read_user of a payload failed. */
	SCRY_STAT_READ_FAILURES = 5,
	/* mmsg messages or iovecs beyond the in-kernel loop bounds. */
	SCRY_STAT_LOOP_BOUND_HIT = 6,
	/* events written with BPF_RB_FORCE_WAKEUP because the unread bytes
	 * were past scry_wakeup_bytes when they looked (other events wake
	 * nobody: the reader drains on a timer). Not a loss; the reader fell
	 * behind. */
	SCRY_STAT_FORCED_WAKEUPS = 7,
	SCRY_STAT_MAX = 8,
};

/* An IPv4 / IPv6 endpoint. family 0 = unknown. */
struct scry_addr {
	__u16 family; /* AF_INET (2) / AF_INET6 (10) */
	__u16 port;   /* host byte order */
	__u32 _pad;
	__u8 addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

struct scry_event_header {
	__u32 kind; /* enum scry_event_kind */
	__u32 tgid;
	__u32 tid;
	__s32 fd;
	__u64 generation; /* unique per connection open, never reused */
	__u64 timestamp_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	/* start_boottime of the process (thread group leader), ns since boot:
	 * /proc/<pid>/stat's start time in ticks is this / (1e9 / USER_HZ).
	 * Lets userspace build the upid of processes that already exited. */
	__u64 proc_start_ns;
};

struct scry_open_event {
	struct scry_event_header hdr;
	struct scry_addr remote;
	struct scry_addr local;
	__u8 role;      /* enum scry_role */
	__u8 transport; /* enum scry_transport */
	__u8 source;    /* enum scry_open_source */
	__u8 _pad[5];
	/* The task's name (comm): names short-lived processes that are gone
	 * from /proc by the time userspace looks. */
	char comm[16];
};

struct scry_data_event {
	struct scry_event_header hdr;
	/* The peer of this message when the syscall named one (UDP
	 * sendto/recvfrom/sendmsg/recvmsg); family 0 otherwise. */
	struct scry_addr remote;
	__u64 original_len; /* bytes the syscall really moved (this message) */
	__u32 data_len;     /* bytes copied into data[] and sent */
	__u8 direction;     /* enum scry_direction */
	__u8 protocol;      /* enum scry_protocol */
	__u8 role;          /* enum scry_role */
	__u8 transport;     /* enum scry_transport */
	__u8 syscall;       /* enum scry_syscall */
	__u8 _pad[7];
	__u8 data[SCRY_MAX_DATA]; /* only data_len bytes are sent */
};

struct scry_close_event {
	struct scry_event_header hdr;
	__u64 bytes_sent;
	__u64 bytes_recv;
	__u8 protocol;
	__u8 role;
	__u8 transport;
	__u8 _pad[5];
};

struct scry_proc_exit_event {
	struct scry_event_header hdr;
};

/* Key of the per-connection map. */
struct scry_conn_key {
	__u32 tgid;
	__s32 fd;
};

/* Value of the per-connection map (`scry_conns`, LRU), also read by
 * userspace for conn_stats of connections whose data is not copied. */
struct scry_conn {
	__u64 generation;
	__u64 open_ts_ns;
	__u64 bytes_sent;
	__u64 bytes_recv;
	struct scry_addr remote;
	struct scry_addr local;
	__u8 infer_attempts; /* data events tried, at most SCRY_INFER_ATTEMPTS */
	/* Bytes (at most SCRY_TCP_PREFIX_MAX) that a TCP process moved in
	 * syscalls of their own before any protocol was recognised: possibly a
	 * DNS length prefix read or written apart from its message (dnsmasq
	 * reads it 1 byte at a time). Tried with the next chunk of the same
	 * direction, and sent to userspace in front of it if that makes DNS. */
	__u8 prefix_len;
	__u8 prefix[2];
	__u8 protocol;
	__u8 role;
	__u8 transport;
	__u8 prefix_dir; /* enum scry_direction of prefix[] */
};

#endif /* SCRY_EVENTS_H */
