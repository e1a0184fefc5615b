// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * scry's kernel side: syscall tracepoints that see what processes say over
 * their IPv4/IPv6 sockets.
 *
 * - exit tracepoints read the return value, take the syscall's arguments
 *   from the registers the kernel saved at entry (no enter programs: see
 *   syscall_args()) and emit events through the scry_events ring buffer:
 *   connection open (connect/accept/first seen), data (payload up to
 *   scry_data_cap bytes), close, process exit;
 * - a per-connection map (scry_conns, LRU) keyed by (tgid, fd) holds a
 *   never-reused generation, addresses, byte counters and the protocol
 *   inferred in-kernel from the first bytes. Payload of connections whose
 *   protocol is unknown is never copied: only their counters move;
 * - events do not wake the reader, which drains the ring on a short
 *   timer, unless the unread bytes pass a threshold (see emit());
 * - every loss is counted in the per-CPU scry_stats array.
 *
 * Built by probes/build.rs with clang -target bpf; CO-RE.
 */
#ifdef SCRY_HAVE_VMLINUX_H
#include "vmlinux.h"
#else
#include "scry_vmlinux_min.h"
#endif
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "scry_events.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define SCRY_AF_INET 2
#define SCRY_AF_INET6 10
#define SCRY_S_IFMT 00170000
#define SCRY_S_IFSOCK 0140000
#define SCRY_SOCK_STREAM 1
#define SCRY_SOCK_DGRAM 2
#define SCRY_EINPROGRESS 115

/* Set by the loader before load (EbpfLoader::override_global). */
const volatile __u32 scry_self_tgid = 0;
const volatile __u32 scry_data_cap = 4096;
/* Unread ring-buffer bytes from which events wake the reader (see emit());
 * the loader sets it to a fraction of the ring. */
const volatile __u64 scry_wakeup_bytes = 1 << 20;

/* Source of connection generations; bumped on every open. */
__u64 scry_generation = 0;

/* Userspace ABI structs (LP64), read with bpf_probe_read_user. */
struct scry_iovec {
	__u64 base;
	__u64 len;
};

struct scry_msghdr {
	__u64 msg_name;
	__s32 msg_namelen;
	__u32 _pad0;
	__u64 msg_iov;
	__u64 msg_iovlen;
	__u64 msg_control;
	__u64 msg_controllen;
	__u32 msg_flags;
	__u32 _pad1;
};

struct scry_mmsghdr {
	struct scry_msghdr hdr;
	__u32 msg_len;
	__u32 _pad;
};

/* Syscall tracepoint contexts (see events/syscalls/sys_*_x/format). */
struct scry_sys_enter_ctx {
	__u64 common;
	__s32 nr;
	__u32 _pad;
	__u64 args[6];
};

struct scry_sys_exit_ctx {
	__u64 common;
	__s32 nr;
	__u32 _pad;
	__s64 ret;
};

/* One message to handle (stack, passed to handle_msg). */
struct scry_msg {
	__u64 buf;    /* contiguous buffer, or 0 */
	__u64 iov;    /* iovec array when buf == 0 */
	__u64 iovcnt;
	__u64 total;  /* bytes the syscall moved for this message */
	struct scry_addr peer;
	__s32 fd;
	__u8 direction;
	__u8 syscall;
	__u8 _pad[2];
};

/* Scratch for building a data event: data[] followed by SCRY_MAX_DATA bytes
 * of slack so that (offset < SCRY_MAX_DATA) + (len <= SCRY_MAX_DATA) stays
 * inside the value, which the verifier can prove. */
struct scry_scratch {
	struct scry_data_event ev;
	__u8 slack[SCRY_MAX_DATA];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} scry_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct scry_conn_key);
	__type(value, struct scry_conn);
} scry_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRY_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} scry_stats SEC(".maps");

/* One slot per CPU, indexed by bpf_get_smp_processor_id() (a per-CPU array
 * value cannot exceed 32 KiB). The loader sets max_entries to the number of
 * possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct scry_scratch);
} scry_scratch_map SEC(".maps");

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&scry_stats, &idx);
	if (v)
		*v += n;
}

/* Writes one event to the ring buffer.
 *
 * With flags 0 the kernel wakes the reader whenever it had caught up, which
 * at moderate rates is once per event: an irq_work, a context switch into
 * the reader and an epoll round trip per traced syscall, on a machine whose
 * CPUs are busy running the traced program. So events are written with
 * BPF_RB_NO_WAKEUP and the reader drains the ring on a short timer
 * (probes/src/tracer.rs, `poll_interval`). An event of 1 KiB or more, and
 * every 64th event on a CPU, also looks at the unread bytes (a helper call,
 * so not at every small event) and wakes the reader at once if they are
 * past scry_wakeup_bytes (an eighth of the ring by default), so that a
 * burst between two ticks cannot fill the ring: the small events in between
 * add less than 64 KiB. */
static __always_inline int emit(void *ev, __u64 size)
{
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u32 idx = SCRY_STAT_EVENTS;
	__u64 *events = bpf_map_lookup_elem(&scry_stats, &idx);
	if ((size >= 1024 || !events || (*events & 63) == 0) &&
	    bpf_ringbuf_query(&scry_events, BPF_RB_AVAIL_DATA) >= scry_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&scry_events, ev, size, flags) != 0) {
		stat_add(SCRY_STAT_RINGBUF_DROPS, 1);
		return -1;
	}
	if (events)
		*events += 1;
	if (flags == BPF_RB_FORCE_WAKEUP)
		stat_add(SCRY_STAT_FORCED_WAKEUPS, 1);
	return 0;
}

static __always_inline void fill_header(struct scry_event_header *h, __u32 kind, __u64 pid_tgid,
					__s32 fd, __u64 generation)
{
	h->kind = kind;
	h->tgid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->fd = fd;
	h->generation = generation;
	h->timestamp_ns = bpf_ktime_get_ns();
	/* A BTF task pointer: plain (fault-checked) loads, relocated with
	 * CO-RE, instead of two bpf_probe_read_kernel calls. */
	struct task_struct *task = bpf_get_current_task_btf();
	h->proc_start_ns = task->group_leader->start_boottime;
}

/* The struct socket behind fd in the current task, or NULL when fd is not a
 * socket. */
static __always_inline struct socket *fd_socket(__s32 fd)
{
	if (fd < 0)
		return NULL;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct files_struct *files = BPF_CORE_READ(task, files);
	if (!files)
		return NULL;
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	if (!fdt)
		return NULL;
	unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max_fds)
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) != 0 || !f)
		return NULL;
	unsigned short mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & SCRY_S_IFMT) != SCRY_S_IFSOCK)
		return NULL;
	return (struct socket *)BPF_CORE_READ(f, private_data);
}

/* Addresses and transport of an IPv4/IPv6 socket; 0 if it is not one. */
static __always_inline int socket_info(struct socket *sock, struct scry_conn *c)
{
	if (!sock)
		return 0;
	short type = BPF_CORE_READ(sock, type);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != SCRY_AF_INET && family != SCRY_AF_INET6)
		return 0;
	c->transport = type == SCRY_SOCK_STREAM  ? SCRY_TRANSPORT_TCP
		       : type == SCRY_SOCK_DGRAM ? SCRY_TRANSPORT_UDP
						 : SCRY_TRANSPORT_UNKNOWN;
	c->remote.family = family;
	c->local.family = family;
	c->remote.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c->local.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (family == SCRY_AF_INET) {
		__be32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__be32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(c->remote.addr, &d, 4);
		__builtin_memcpy(c->local.addr, &s, 4);
	} else {
		BPF_CORE_READ_INTO(&c->remote.addr, sk, __sk_common.skc_v6_daddr);
		BPF_CORE_READ_INTO(&c->local.addr, sk, __sk_common.skc_v6_rcv_saddr);
	}
	return 1;
}

/* A sockaddr_in / sockaddr_in6 from user memory; 0 if absent or another
 * family. */
static __always_inline int read_sockaddr(__u64 ptr, struct scry_addr *out)
{
	if (!ptr)
		return 0;
	__u16 family = 0;
	if (bpf_probe_read_user(&family, sizeof(family), (void *)ptr) != 0)
		return 0;
	__u16 port = 0;
	if (family == SCRY_AF_INET) {
		struct {
			__u16 family;
			__u16 port;
			__u8 addr[4];
		} sa = {};
		if (bpf_probe_read_user(&sa, sizeof(sa), (void *)ptr) != 0)
			return 0;
		__builtin_memset(out->addr, 0, sizeof(out->addr));
		__builtin_memcpy(out->addr, sa.addr, 4);
		port = sa.port;
	} else if (family == SCRY_AF_INET6) {
		struct {
			__u16 family;
			__u16 port;
			__u32 flowinfo;
			__u8 addr[16];
		} sa = {};
		if (bpf_probe_read_user(&sa, sizeof(sa), (void *)ptr) != 0)
			return 0;
		__builtin_memcpy(out->addr, sa.addr, 16);
		port = sa.port;
	} else {
		return 0;
	}
	out->family = family;
	out->port = bpf_ntohs(port);
	return 1;
}

static __always_inline __u64 next_generation(void)
{
	return __sync_fetch_and_add(&scry_generation, 1) + 1;
}

static __always_inline void emit_open(__u64 pid_tgid, __s32 fd, const struct scry_conn *c,
				      __u8 source)
{
	struct scry_open_event ev = {};
	fill_header(&ev.hdr, SCRY_EV_OPEN, pid_tgid, fd, c->generation);
	ev.remote = c->remote;
	ev.local = c->local;
	ev.role = c->role;
	ev.transport = c->transport;
	ev.source = source;
	bpf_get_current_comm(ev.comm, sizeof(ev.comm));
	emit(&ev, sizeof(ev));
}

/* ------------------------------------------------------------------ */
/* Protocol inference on the first bytes of a connection.              */

static __always_inline int is_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

static __always_inline int is_upper(__u8 c)
{
	return c >= 'A' && c <= 'Z';
}

#define B4(b, s) (b[0] == s[0] && b[1] == s[1] && b[2] == s[2] && b[3] == s[3])

/* Returns the protocol and sets *is_request (1 request, 0 response). */
static __always_inline __u8 infer_http(const __u8 *b, __u32 n, int *is_request)
{
	if (n < 8)
		return SCRY_PROTO_UNKNOWN;
	if (B4(b, "HTTP") && b[4] == '/' && b[5] == '1' && b[6] == '.') {
		*is_request = 0;
		return SCRY_PROTO_HTTP;
	}
	if ((B4(b, "GET ")) || (B4(b, "PUT ")) || (B4(b, "POST") && b[4] == ' ') ||
	    (B4(b, "HEAD") && b[4] == ' ') || (B4(b, "DELE") && b[4] == 'T' && b[5] == 'E') ||
	    (B4(b, "PATC") && b[4] == 'H' && b[5] == ' ') ||
	    (B4(b, "OPTI") && b[4] == 'O' && b[5] == 'N') ||
	    (B4(b, "CONN") && b[4] == 'E' && b[5] == 'C')) {
		*is_request = 1;
		return SCRY_PROTO_HTTP;
	}
	return SCRY_PROTO_UNKNOWN;
}

static __always_inline int has_crlf(const __u8 *b, __u32 n)
{
#pragma unroll
	for (int i = 1; i < SCRY_INFER_BYTES - 1; i++) {
		if ((__u32)(i + 1) < n && b[i] == '\r' && b[i + 1] == '\n')
			return 1;
	}
	return 0;
}

static __always_inline __u8 infer_redis(const __u8 *b, __u32 n, int *is_request)
{
	if (n < 4)
		return SCRY_PROTO_UNKNOWN;
	/* "*3\r\n$3\r\nSET..." : an array of bulk strings is a command. */
	if (b[0] == '*' && is_digit(b[1]) && has_crlf(b, n)) {
		*is_request = 1;
		return SCRY_PROTO_REDIS;
	}
	/* "+OK\r\n", "-ERR ...", ":1\r\n", "$5\r\n...", "$-1\r\n" */
	if ((b[0] == '+' || b[0] == '-') && is_upper(b[1]) && has_crlf(b, n)) {
		*is_request = 0;
		return SCRY_PROTO_REDIS;
	}
	if ((b[0] == ':' || b[0] == '$') && (is_digit(b[1]) || (b[1] == '-' && is_digit(b[2]))) &&
	    has_crlf(b, n)) {
		*is_request = 0;
		return SCRY_PROTO_REDIS;
	}
	return SCRY_PROTO_UNKNOWN;
}

static __always_inline __u8 infer_dns(const __u8 *b, __u32 n, __u64 total, int *is_request)
{
	if (n < 12 || total < 12 || total > 65535)
		return SCRY_PROTO_UNKNOWN;
	__u16 flags = ((__u16)b[2] << 8) | b[3];
	__u16 qd = ((__u16)b[4] << 8) | b[5];
	__u16 an = ((__u16)b[6] << 8) | b[7];
	__u16 ns = ((__u16)b[8] << 8) | b[9];
	__u16 ar = ((__u16)b[10] << 8) | b[11];
	if (((flags >> 11) & 0xf) != 0) /* opcode QUERY */
		return SCRY_PROTO_UNKNOWN;
	if (flags & 0x0040) /* Z must be zero */
		return SCRY_PROTO_UNKNOWN;
	if ((flags & 0xf) > 10) /* rcode */
		return SCRY_PROTO_UNKNOWN;
	if (qd != 1 || an > 128 || ns > 128 || ar > 128)
		return SCRY_PROTO_UNKNOWN;
	int response = (flags & 0x8000) != 0;
	if (!response && an != 0)
		return SCRY_PROTO_UNKNOWN;
	*is_request = !response;
	return SCRY_PROTO_DNS;
}

/* DNS over TCP (RFC 1035 4.2.2): a 2-byte big-endian length, then the
 * message. b holds the first n bytes of a chunk of total bytes, length
 * prefix included. The length must cover at least a header and fit in the
 * chunk (queries, the first message of a connection, are small and written
 * whole; a chunk may hold more than one message), and the header must pass
 * the same checks as a UDP datagram's (opcode QUERY, one question, ...). */
static __always_inline __u8 infer_dns_tcp(const __u8 *b, __u32 n, __u64 total, int *is_request)
{
	if (n < 2 + 12)
		return SCRY_PROTO_UNKNOWN;
	__u32 len = ((__u32)b[0] << 8) | b[1];
	if (len < 12 || (__u64)len + 2 > total)
		return SCRY_PROTO_UNKNOWN;
	return infer_dns(b + 2, n - 2, len, is_request);
}

/* The role of the process, from whether it sent or received a request. */
static __always_inline __u8 role_of(int is_request, __u8 direction)
{
	int egress = direction == SCRY_DIR_EGRESS;
	/* request sent or response received: client */
	return (is_request == egress) ? SCRY_ROLE_CLIENT : SCRY_ROLE_SERVER;
}

static __always_inline __u8 infer(const __u8 *b, __u32 n, __u64 total, __u8 transport,
				  __u8 direction, __u8 *role)
{
	int is_request = 0;
	__u8 p = SCRY_PROTO_UNKNOWN;
	if (transport == SCRY_TRANSPORT_UDP) {
		p = infer_dns(b, n, total, &is_request);
	} else {
		p = infer_http(b, n, &is_request);
		if (p == SCRY_PROTO_UNKNOWN)
			p = infer_redis(b, n, &is_request);
		if (p == SCRY_PROTO_UNKNOWN)
			p = infer_dns_tcp(b, n, total, &is_request);
	}
	if (p != SCRY_PROTO_UNKNOWN)
		*role = role_of(is_request, direction);
	return p;
}

/* A TCP chunk that no protocol claims on its own: maybe the message after a
 * DNS length prefix that moved in syscalls of its own (dnsmasq reads the 2
 * bytes one at a time, then the message). Tries the bytes kept aside on the
 * connection (c->prefix, same direction) in front of this chunk; on success
 * returns DNS with *prepend = how many kept bytes (in pre[]) go in front of
 * the payload sent to userspace, whose TCP framing needs the prefix.
 * Otherwise keeps this chunk aside if it is short enough to be (part of) a
 * prefix. head/n: the chunk's first bytes, as read by read_head(). */
static __always_inline __u8 infer_tcp_prefixed(struct scry_conn *c, const struct scry_msg *m,
					       const __u8 *head, __u32 n, __u8 *role,
					       __u32 *prepend, __u8 *pre)
{
	__u32 plen = c->prefix_len;
	int same_dir = c->prefix_dir == m->direction;
	if (plen > 0 && plen <= SCRY_TCP_PREFIX_MAX && same_dir) {
		/* Constant offsets only: plen is 1 or 2. */
		__u8 cat[SCRY_TCP_PREFIX_MAX + SCRY_INFER_BYTES] = {};
		cat[0] = c->prefix[0];
		if (plen == 2) {
			cat[1] = c->prefix[1];
			__builtin_memcpy(cat + 2, head, SCRY_INFER_BYTES);
		} else {
			__builtin_memcpy(cat + 1, head, SCRY_INFER_BYTES);
		}
		int is_request = 0;
		if (infer_dns_tcp(cat, n + plen, m->total + plen, &is_request) != SCRY_PROTO_UNKNOWN) {
			pre[0] = c->prefix[0];
			pre[1] = c->prefix[1];
			*prepend = plen;
			c->prefix_len = 0;
			*role = role_of(is_request, m->direction);
			return SCRY_PROTO_DNS;
		}
	}
	if (m->total > SCRY_TCP_PREFIX_MAX || n != m->total) {
		c->prefix_len = 0;
	} else if (plen > 0 && same_dir && plen + n <= SCRY_TCP_PREFIX_MAX) {
		/* plen == 1, n == 1: the second byte of a prefix read bytewise */
		c->prefix[1] = head[0];
		c->prefix_len = 2;
	} else {
		c->prefix[0] = head[0];
		c->prefix[1] = head[1];
		c->prefix_len = n;
		c->prefix_dir = m->direction;
	}
	return SCRY_PROTO_UNKNOWN;
}

/* ------------------------------------------------------------------ */
/* Data.                                                               */

/* Looks up the connection of (tgid, fd), creating it (and emitting an open
 * event) for an IPv4/IPv6 socket that was opened before the probes. */
static __always_inline struct scry_conn *conn_get(__u64 pid_tgid, __s32 fd)
{
	struct scry_conn_key key = {.tgid = pid_tgid >> 32, .fd = fd};
	struct scry_conn *c = bpf_map_lookup_elem(&scry_conns, &key);
	if (c)
		return c;
	struct scry_conn nc = {};
	if (!socket_info(fd_socket(fd), &nc))
		return NULL;
	nc.generation = next_generation();
	nc.open_ts_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&scry_conns, &key, &nc, BPF_NOEXIST) == 0)
		emit_open(pid_tgid, fd, &nc, SCRY_OPEN_FIRST_SEEN);
	return bpf_map_lookup_elem(&scry_conns, &key);
}

/* Reads the first bytes of a message (at most SCRY_INFER_BYTES) into head
 * and returns how many, or -1 if user memory could not be read. An iovec
 * message is read across its first two iovecs when the first is short:
 * dig sends DNS over TCP as writev([2-byte length, message]). head must
 * have 2 * SCRY_INFER_BYTES bytes: the verifier cannot relate the offset of
 * the second read (n0 < SCRY_INFER_BYTES) to its length
 * (<= SCRY_INFER_BYTES - n0), so it checks head + 15 + 16 bytes. */
static __always_inline int read_head(const struct scry_msg *m, __u8 *head)
{
	__u64 total = m->total;
	if (m->buf) {
		__u32 n = total > SCRY_INFER_BYTES ? SCRY_INFER_BYTES : (__u32)total;
		if (bpf_probe_read_user(head, n & (2 * SCRY_INFER_BYTES - 1), (void *)m->buf) != 0)
			return -1;
		return n;
	}
	struct scry_iovec iov = {};
	if (m->iovcnt == 0 || bpf_probe_read_user(&iov, sizeof(iov), (void *)m->iov) != 0)
		return -1;
	__u64 len = iov.len < total ? iov.len : total;
	__u32 n0 = len > SCRY_INFER_BYTES ? SCRY_INFER_BYTES : (__u32)len;
	if (bpf_probe_read_user(head, n0 & (2 * SCRY_INFER_BYTES - 1), (void *)iov.base) != 0)
		return -1;
	if (n0 >= SCRY_INFER_BYTES || m->iovcnt < 2 || total <= n0)
		return n0;
	if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(m->iov + sizeof(iov))) != 0)
		return n0;
	len = iov.len < total - n0 ? iov.len : total - n0;
	__u32 n1 = len > SCRY_INFER_BYTES - n0 ? SCRY_INFER_BYTES - n0 : (__u32)len;
	n1 &= 2 * SCRY_INFER_BYTES - 1;
	if (n1 > SCRY_INFER_BYTES)
		n1 = SCRY_INFER_BYTES;
	if (bpf_probe_read_user(head + (n0 & (SCRY_INFER_BYTES - 1)), n1, (void *)iov.base) != 0)
		return n0;
	return n0 + n1;
}

/* One message of a data syscall: counters, inference, data event.
 *
 * A global (not static) function: the verifier checks it once, on its own,
 * with m any valid pointer to a struct scry_msg (hence the NULL check),
 * instead of once per call site and caller state. sendmmsg/recvmmsg call it
 * in a loop of SCRY_MAX_MMSG; inlined or static, every iteration would be
 * verified again and the program passes the 1M-instruction limit. */
__noinline int handle_msg(struct scry_msg *m, __u64 pid_tgid)
{
	if (!m)
		return 0;
	struct scry_conn *c = conn_get(pid_tgid, m->fd);
	if (!c)
		return 0;
	if (m->direction == SCRY_DIR_EGRESS)
		__sync_fetch_and_add(&c->bytes_sent, m->total);
	else
		__sync_fetch_and_add(&c->bytes_recv, m->total);

	/* Bytes kept aside by inference that go in front of the payload. */
	__u32 prepend = 0;
	__u8 pre[SCRY_TCP_PREFIX_MAX] = {};
	if (c->protocol == SCRY_PROTO_UNKNOWN) {
		if (c->infer_attempts >= SCRY_INFER_ATTEMPTS) {
			stat_add(SCRY_STAT_UNKNOWN_SKIPPED, 1);
			return 0;
		}
		__u8 head[2 * SCRY_INFER_BYTES] = {};
		int n = read_head(m, head);
		if (n < 0) {
			stat_add(SCRY_STAT_READ_FAILURES, 1);
			return 0;
		}
		__u8 role = SCRY_ROLE_UNKNOWN;
		__u8 p = infer(head, n, m->total, c->transport, m->direction, &role);
		if (p == SCRY_PROTO_UNKNOWN && c->transport == SCRY_TRANSPORT_TCP)
			p = infer_tcp_prefixed(c, m, head, n, &role, &prepend, pre);
		if (p == SCRY_PROTO_UNKNOWN) {
			c->infer_attempts += 1;
			stat_add(SCRY_STAT_UNKNOWN_SKIPPED, 1);
			return 0;
		}
		c->protocol = p;
		if (c->role == SCRY_ROLE_UNKNOWN)
			c->role = role;
	}
	/* What this event stands for: the message, plus kept-aside bytes. */
	__u64 total = m->total + prepend;

	__u32 cpu = bpf_get_smp_processor_id();
	struct scry_scratch *s = bpf_map_lookup_elem(&scry_scratch_map, &cpu);
	if (!s) {
		stat_add(SCRY_STAT_RINGBUF_DROPS, 1);
		return 0;
	}
	struct scry_data_event *ev = &s->ev;
	fill_header(&ev->hdr, SCRY_EV_DATA, pid_tgid, m->fd, c->generation);
	ev->remote = m->peer;
	ev->original_len = total;
	ev->direction = m->direction;
	ev->protocol = c->protocol;
	ev->role = c->role;
	ev->transport = c->transport;
	ev->syscall = m->syscall;

	__u32 cap = scry_data_cap;
	if (cap > SCRY_MAX_DATA)
		cap = SCRY_MAX_DATA;
	__u64 want = total < cap ? total : cap;
	__u32 off = prepend < want ? prepend : (__u32)want;
	if (off > 0)
		ev->data[0] = pre[0];
	if (off > 1)
		ev->data[1] = pre[1];
	if (m->buf) {
		__u32 n = (want - off) & (2 * SCRY_MAX_DATA - 1);
		if (n > SCRY_MAX_DATA)
			n = SCRY_MAX_DATA;
		if (bpf_probe_read_user(ev->data + (off & (SCRY_MAX_DATA - 1)), n,
					(void *)m->buf) == 0)
			off += n;
		else
			stat_add(SCRY_STAT_READ_FAILURES, 1);
	} else {
		for (int i = 0; i < SCRY_MAX_IOV; i++) {
			if ((__u64)i >= m->iovcnt || off >= want)
				break;
			struct scry_iovec iov = {};
			if (bpf_probe_read_user(&iov, sizeof(iov),
						(void *)(m->iov + i * sizeof(iov))) != 0)
				break;
			__u64 n = iov.len;
			if (n > want - off)
				n = want - off;
			__u32 o = off & (SCRY_MAX_DATA - 1);
			__u32 nn = n & (2 * SCRY_MAX_DATA - 1);
			if (nn > SCRY_MAX_DATA)
				nn = SCRY_MAX_DATA;
			if (bpf_probe_read_user(ev->data + o, nn, (void *)iov.base) != 0) {
				stat_add(SCRY_STAT_READ_FAILURES, 1);
				break;
			}
			off += nn;
			if (i == SCRY_MAX_IOV - 1 && (__u64)SCRY_MAX_IOV < m->iovcnt && off < want)
				stat_add(SCRY_STAT_LOOP_BOUND_HIT, 1);
		}
	}
	if (off > SCRY_MAX_DATA)
		off = SCRY_MAX_DATA;
	ev->data_len = off;
	if (total > off)
		stat_add(SCRY_STAT_TRUNCATED, 1);
	emit(ev, offsetof(struct scry_data_event, data) + off);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Exit.                                                               */

/* The arguments of the current syscall, read at its exit from the user
 * registers the kernel saved on entry (x86-64: di, si, dx, r10, r8, r9),
 * which syscalls leave untouched: only ax takes the return value.
 *
 * Why no enter programs: stashing the arguments at enter (in task local
 * storage, or a hash keyed by thread) doubled the programs run per traced
 * syscall. On this kind of machine each tracepoint program costs about
 * 0.13 us of dispatch before it does anything, and the stash itself about
 * 0.19 us (redis-benchmark, bpf_stats): for a request and its response,
 * seen by client and server, that was 4 enter programs, ~1.3 us of the
 * ~36 us of CPU the request costs. The exit now reads 6 words of the
 * task's pt_regs instead (plain BTF loads, no helper call).
 *
 * Returns 0 for scry's own process (never traced). */
static __always_inline int syscall_args(__u64 *pid_tgid, __u64 arg[6])
{
	*pid_tgid = bpf_get_current_pid_tgid();
	if ((*pid_tgid >> 32) == scry_self_tgid)
		return 0;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs) {
		stat_add(SCRY_STAT_NO_ARGS, 1);
		return 0;
	}
	arg[0] = regs->di;
	arg[1] = regs->si;
	arg[2] = regs->dx;
	arg[3] = regs->r10;
	arg[4] = regs->r8;
	arg[5] = regs->r9;
	return 1;
}

/* read/write/sendto/recvfrom: one contiguous buffer. with_addr: the 5th
 * argument is a sockaddr (sendto's dest_addr, recvfrom's src_addr). */
static __always_inline int exit_buf(struct scry_sys_exit_ctx *ctx, __u8 syscall, __u8 direction,
				    int with_addr)
{
	if (ctx->ret <= 0)
		return 0;
	__u64 arg[6] = {};
	__u64 pid_tgid;
	if (!syscall_args(&pid_tgid, arg))
		return 0;
	struct scry_msg m = {};
	m.buf = arg[1];
	m.total = ctx->ret;
	m.fd = (__s32)arg[0];
	m.direction = direction;
	m.syscall = syscall;
	/* sendto's dest_addr is read at exit: same user memory. For
	 * recvfrom the kernel has filled src_addr by now. */
	if (with_addr)
		read_sockaddr(arg[4], &m.peer);
	return handle_msg(&m, pid_tgid);
}

/* readv/writev: an iovec array. */
static __always_inline int exit_iov(struct scry_sys_exit_ctx *ctx, __u8 syscall, __u8 direction)
{
	if (ctx->ret <= 0)
		return 0;
	__u64 arg[6] = {};
	__u64 pid_tgid;
	if (!syscall_args(&pid_tgid, arg))
		return 0;
	struct scry_msg m = {};
	m.iov = arg[1];
	m.iovcnt = arg[2];
	m.total = ctx->ret;
	m.fd = (__s32)arg[0];
	m.direction = direction;
	m.syscall = syscall;
	return handle_msg(&m, pid_tgid);
}

/* sendmsg/recvmsg: one msghdr. */
static __always_inline int exit_msg(struct scry_sys_exit_ctx *ctx, __u8 syscall, __u8 direction)
{
	if (ctx->ret <= 0)
		return 0;
	__u64 arg[6] = {};
	__u64 pid_tgid;
	if (!syscall_args(&pid_tgid, arg))
		return 0;
	struct scry_msghdr h = {};
	if (bpf_probe_read_user(&h, sizeof(h), (void *)arg[1]) != 0)
		return 0;
	struct scry_msg m = {};
	m.iov = h.msg_iov;
	m.iovcnt = h.msg_iovlen;
	m.total = ctx->ret;
	m.fd = (__s32)arg[0];
	m.direction = direction;
	m.syscall = syscall;
	read_sockaddr(h.msg_name, &m.peer);
	return handle_msg(&m, pid_tgid);
}

/* sendmmsg/recvmmsg: ret messages, each with msg_len bytes. */
static __always_inline int exit_mmsg(struct scry_sys_exit_ctx *ctx, __u8 syscall, __u8 direction)
{
	if (ctx->ret <= 0)
		return 0;
	__u64 arg[6] = {};
	__u64 pid_tgid;
	if (!syscall_args(&pid_tgid, arg))
		return 0;
	__u64 count = ctx->ret;
	if (count > SCRY_MAX_MMSG)
		stat_add(SCRY_STAT_LOOP_BOUND_HIT, 1);
	for (int i = 0; i < SCRY_MAX_MMSG; i++) {
		if ((__u64)i >= count)
			break;
		struct scry_mmsghdr h = {};
		if (bpf_probe_read_user(&h, sizeof(h),
					(void *)(arg[1] + i * sizeof(struct scry_mmsghdr))) != 0)
			break;
		if (h.msg_len == 0)
			continue;
		struct scry_msg m = {};
		m.iov = h.hdr.msg_iov;
		m.iovcnt = h.hdr.msg_iovlen;
		m.total = h.msg_len;
		m.fd = (__s32)arg[0];
		m.direction = direction;
		m.syscall = syscall;
		read_sockaddr(h.hdr.msg_name, &m.peer);
		handle_msg(&m, pid_tgid);
	}
	return 0;
}

#define EXIT(name, kind, sys, dir)                                                 \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                  \
	int scry_exit_##name(struct scry_sys_exit_ctx *ctx)                         \
	{                                                                           \
		return exit_##kind(ctx, sys, dir);                                  \
	}

#define EXIT_BUF(name, sys, dir, with_addr)                                        \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                  \
	int scry_exit_##name(struct scry_sys_exit_ctx *ctx)                         \
	{                                                                           \
		return exit_buf(ctx, sys, dir, with_addr);                          \
	}

/* read(fd, buf, count) */
EXIT_BUF(read, SCRY_SYS_READ, SCRY_DIR_INGRESS, 0)
/* write(fd, buf, count) */
EXIT_BUF(write, SCRY_SYS_WRITE, SCRY_DIR_EGRESS, 0)
/* sendto(fd, buf, len, flags, dest_addr, addrlen) */
EXIT_BUF(sendto, SCRY_SYS_SENDTO, SCRY_DIR_EGRESS, 1)
/* recvfrom(fd, buf, len, flags, src_addr, addrlen) */
EXIT_BUF(recvfrom, SCRY_SYS_RECVFROM, SCRY_DIR_INGRESS, 1)
/* readv(fd, iov, iovcnt) */
EXIT(readv, iov, SCRY_SYS_READV, SCRY_DIR_INGRESS)
/* writev(fd, iov, iovcnt) */
EXIT(writev, iov, SCRY_SYS_WRITEV, SCRY_DIR_EGRESS)
/* sendmsg(fd, msg, flags) */
EXIT(sendmsg, msg, SCRY_SYS_SENDMSG, SCRY_DIR_EGRESS)
/* recvmsg(fd, msg, flags) */
EXIT(recvmsg, msg, SCRY_SYS_RECVMSG, SCRY_DIR_INGRESS)
/* sendmmsg(fd, msgvec, vlen, flags) */
EXIT(sendmmsg, mmsg, SCRY_SYS_SENDMMSG, SCRY_DIR_EGRESS)
/* recvmmsg(fd, msgvec, vlen, flags, timeout) */
EXIT(recvmmsg, mmsg, SCRY_SYS_RECVMMSG, SCRY_DIR_INGRESS)

/* connect(fd, addr, addrlen): a client connection (TCP, or a connected
 * UDP socket). */
SEC("tracepoint/syscalls/sys_exit_connect")
int scry_exit_connect(struct scry_sys_exit_ctx *ctx)
{
	if (ctx->ret != 0 && ctx->ret != -SCRY_EINPROGRESS)
		return 0;
	__u64 arg[6] = {};
	__u64 pid_tgid;
	if (!syscall_args(&pid_tgid, arg))
		return 0;
	__s32 fd = (__s32)arg[0];
	struct scry_conn c = {};
	if (!socket_info(fd_socket(fd), &c))
		return 0;
	/* The sockaddr is what the process asked for; the socket may not
	 * have its peer set yet (non-blocking connect). */
	read_sockaddr(arg[1], &c.remote);
	c.generation = next_generation();
	c.open_ts_ns = bpf_ktime_get_ns();
	c.role = SCRY_ROLE_CLIENT;
	struct scry_conn_key key = {.tgid = pid_tgid >> 32, .fd = fd};
	bpf_map_update_elem(&scry_conns, &key, &c, BPF_ANY);
	emit_open(pid_tgid, fd, &c, SCRY_OPEN_CONNECT);
	return 0;
}

/* accept/accept4: a server connection on the returned fd. */
static __always_inline int exit_accept(struct scry_sys_exit_ctx *ctx)
{
	if (ctx->ret < 0)
		return 0;
	__s32 fd = (__s32)ctx->ret;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((pid_tgid >> 32) == scry_self_tgid)
		return 0;
	struct scry_conn c = {};
	if (!socket_info(fd_socket(fd), &c))
		return 0;
	c.generation = next_generation();
	c.open_ts_ns = bpf_ktime_get_ns();
	c.role = SCRY_ROLE_SERVER;
	struct scry_conn_key key = {.tgid = pid_tgid >> 32, .fd = fd};
	bpf_map_update_elem(&scry_conns, &key, &c, BPF_ANY);
	emit_open(pid_tgid, fd, &c, SCRY_OPEN_ACCEPT);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int scry_exit_accept(struct scry_sys_exit_ctx *ctx)
{
	return exit_accept(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int scry_exit_accept4(struct scry_sys_exit_ctx *ctx)
{
	return exit_accept(ctx);
}

/* close(fd): final counters, then forget the connection. */
SEC("tracepoint/syscalls/sys_enter_close")
int scry_enter_close(struct scry_sys_enter_ctx *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((pid_tgid >> 32) == scry_self_tgid)
		return 0;
	struct scry_conn_key key = {.tgid = pid_tgid >> 32, .fd = (__s32)ctx->args[0]};
	struct scry_conn *c = bpf_map_lookup_elem(&scry_conns, &key);
	if (!c)
		return 0;
	struct scry_close_event ev = {};
	fill_header(&ev.hdr, SCRY_EV_CLOSE, pid_tgid, key.fd, c->generation);
	ev.bytes_sent = c->bytes_sent;
	ev.bytes_recv = c->bytes_recv;
	ev.protocol = c->protocol;
	ev.role = c->role;
	ev.transport = c->transport;
	bpf_map_delete_elem(&scry_conns, &key);
	emit(&ev, sizeof(ev));
	return 0;
}

/* The process (its main thread) exited. */
SEC("tracepoint/sched/sched_process_exit")
int scry_process_exit(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	if (tgid != (__u32)pid_tgid || tgid == scry_self_tgid)
		return 0;
	struct scry_proc_exit_event ev = {};
	fill_header(&ev.hdr, SCRY_EV_PROC_EXIT, pid_tgid, -1, 0);
	emit(&ev, sizeof(ev));
	return 0;
}
