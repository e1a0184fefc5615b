// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * The cost of the hooks alone: one program that does nothing. The overhead
 * benchmark (probes/benches/overhead.rs) attaches it to every tracepoint
 * scry's probes use, so that what the kernel spends only to call a BPF
 * program at each of them is measured beside the real tracer: no design on
 * these hooks can cost less. Never loaded by scry itself.
 */
#include "scry_vmlinux_min.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tracepoint/syscalls/sys_enter_read")
int scry_hooks_floor(void *ctx)
{
	return 0;
}
