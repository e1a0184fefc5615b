//! Loading and attaching the kernel programs with aya.
//!
//! [`Probes::load`] checks what the kernel needs first (capabilities, BTF,
//! tracefs — mounted when it is missing and we may), then loads the object
//! built by `build.rs` with scry's own tgid, the copy cap and the ring
//! buffer's wake-up threshold patched into `.rodata`, and attaches every
//! tracepoint. Errors are one line and say what to do.

use std::collections::HashSet;
use std::ffi::CString;
use std::path::Path;

use aya::maps::{HashMap as BpfHashMap, MapData, PerCpuArray, RingBuf};
use aya::programs::TracePoint;
use aya::{Ebpf, EbpfLoader};

use crate::events::{RawConn, RawConnKey, MAX_DATA, STAT_MAX};

// SAFETY: both are #[repr(C)] structs of integers (see events.rs), every
// bit pattern is valid, layout checked against C by build.rs.
unsafe impl aya::Pod for RawConnKey {}
unsafe impl aya::Pod for RawConn {}

/// The compiled kernel object (see `build.rs`).
static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/scry.bpf.o"));

/// Tracepoint programs: (program name, category, event). Syscalls are
/// hooked at their exit only (the arguments come from the saved user
/// registers; see `syscall_args` in `scry.bpf.c`); `close` at its enter,
/// while the fd still names the socket.
pub const PROGRAMS: &[(&str, &str, &str)] = &[
    ("scry_exit_read", "syscalls", "sys_exit_read"),
    ("scry_exit_write", "syscalls", "sys_exit_write"),
    ("scry_exit_readv", "syscalls", "sys_exit_readv"),
    ("scry_exit_writev", "syscalls", "sys_exit_writev"),
    ("scry_exit_sendto", "syscalls", "sys_exit_sendto"),
    ("scry_exit_recvfrom", "syscalls", "sys_exit_recvfrom"),
    ("scry_exit_sendmsg", "syscalls", "sys_exit_sendmsg"),
    ("scry_exit_recvmsg", "syscalls", "sys_exit_recvmsg"),
    ("scry_exit_sendmmsg", "syscalls", "sys_exit_sendmmsg"),
    ("scry_exit_recvmmsg", "syscalls", "sys_exit_recvmmsg"),
    ("scry_exit_connect", "syscalls", "sys_exit_connect"),
    ("scry_exit_accept", "syscalls", "sys_exit_accept"),
    ("scry_exit_accept4", "syscalls", "sys_exit_accept4"),
    ("scry_enter_close", "syscalls", "sys_enter_close"),
    ("scry_process_exit", "sched", "sched_process_exit"),
];

const TRACEFS: &str = "/sys/kernel/tracing";
const BTF: &str = "/sys/kernel/btf/vmlinux";

/// Why the probes could not be loaded or attached. Every message is one
/// line that names the condition and the fix.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("missing capability {capability}: run scry as root or grant it ({hint})")]
    MissingCapability {
        capability: &'static str,
        hint: &'static str,
    },
    #[error("no kernel BTF at {BTF}: scry needs a kernel built with CONFIG_DEBUG_INFO_BTF=y")]
    NoBtf,
    #[error("tracefs is not mounted at {TRACEFS} and mounting it failed ({reason}): run `mount -t tracefs tracefs {TRACEFS}` as root")]
    Tracefs { reason: String },
    #[error("kernel lockdown is in confidentiality mode, which forbids reading process memory from eBPF: boot with lockdown=integrity or none")]
    Lockdown,
    #[error("loading the eBPF object failed: {0}")]
    Object(String),
    #[error(
        "the eBPF object has no {kind} named {name} (stale build? run cargo build -p scry-probes)"
    )]
    Missing { kind: &'static str, name: String },
    #[error("the kernel rejected eBPF program {program}: {reason}")]
    Verifier { program: String, reason: String },
    #[error("attaching {program} to tracepoint {category}:{event} failed: {reason}")]
    Attach {
        program: String,
        category: String,
        event: String,
        reason: String,
    },
    #[error("eBPF map {map}: {reason}")]
    Map { map: &'static str, reason: String },
}

/// Load-time settings.
#[derive(Debug, Clone, Copy)]
pub struct LoadConfig {
    /// Process never traced (scry itself).
    pub self_tgid: u32,
    /// Payload bytes copied per data event (at most `MAX_DATA`).
    pub data_cap: u32,
    /// Ring buffer size in bytes (power of two, multiple of the page size).
    pub ring_bytes: u32,
    /// Connections tracked in the kernel map (LRU).
    pub max_kernel_conns: u32,
    /// Unread ring-buffer bytes from which an event wakes the reader at
    /// once; below it events wake nobody and the reader drains the ring on
    /// its timer. 0: an eighth of the ring.
    pub wakeup_bytes: u64,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            self_tgid: std::process::id(),
            data_cap: crate::events::DEFAULT_DATA_CAP,
            ring_bytes: 8 << 20,
            max_kernel_conns: 65536,
            wakeup_bytes: 0,
        }
    }
}

/// Loaded and attached programs plus the maps userspace reads.
pub struct Probes {
    /// Owns the programs and their links; dropping it detaches everything.
    _ebpf: Ebpf,
    events: Option<RingBuf<MapData>>,
    pub stats: PerCpuArray<MapData, u64>,
    pub conns: BpfHashMap<MapData, RawConnKey, RawConn>,
}

impl Drop for Probes {
    /// Detaching a tracepoint waits for the kernel to finish every call in
    /// flight (an RCU grace period); one program after another that adds up
    /// to seconds for our ~40 programs. Unloading them from several threads
    /// lets the waits overlap. Whatever is left, `Ebpf`'s own drop handles.
    fn drop(&mut self) {
        let programs: Vec<&mut aya::programs::Program> =
            self._ebpf.programs_mut().map(|(_, p)| p).collect();
        std::thread::scope(|scope| {
            for program in programs {
                scope.spawn(move || {
                    if let aya::programs::Program::TracePoint(tp) = program {
                        // An error here only means it was already detached.
                        let _ = tp.unload();
                    }
                });
            }
        });
    }
}

/// The no-op program of `probes-ebpf/src/hooks_floor.bpf.c` (see `build.rs`).
static HOOKS_FLOOR_OBJECT: &[u8] =
    aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/hooks_floor.bpf.o"));

/// A program that does nothing, attached to every tracepoint in
/// [`PROGRAMS`]: what the kernel spends only to call BPF at scry's hooks,
/// the least any tracer built on them can cost. For the overhead benchmark;
/// detached when dropped.
pub struct HooksFloor {
    _ebpf: Ebpf,
}

impl HooksFloor {
    pub fn attach() -> Result<HooksFloor, LoadError> {
        preflight()?;
        let mut ebpf = Ebpf::load(HOOKS_FLOOR_OBJECT)
            .map_err(|e| LoadError::Object(one_line(&error_chain(&e))))?;
        let name = "scry_hooks_floor";
        let tp: &mut TracePoint = ebpf
            .program_mut(name)
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| LoadError::Missing {
                kind: "tracepoint program",
                name: name.to_string(),
            })?;
        tp.load().map_err(|e| load_error(name, &e))?;
        for (_, category, event) in PROGRAMS {
            attach(tp, name, category, event)?;
        }
        Ok(HooksFloor { _ebpf: ebpf })
    }
}

impl Probes {
    /// Checks the prerequisites, loads the object and attaches every program.
    pub fn load(config: LoadConfig) -> Result<Probes, LoadError> {
        preflight()?;
        let cpus = aya::util::nr_cpus()
            .map_err(|(what, e)| LoadError::Object(format!("cannot count CPUs ({what}: {e})")))?
            .max(1);
        let data_cap = config.data_cap.clamp(1, MAX_DATA as u32);
        let ring_bytes = config.ring_bytes.max(4096).next_power_of_two();
        let wakeup_bytes = match config.wakeup_bytes {
            0 => u64::from(ring_bytes / 8),
            n => n.min(u64::from(ring_bytes / 2)),
        };
        let mut ebpf = EbpfLoader::new()
            .override_global("scry_self_tgid", &config.self_tgid, true)
            .override_global("scry_data_cap", &data_cap, true)
            .override_global("scry_wakeup_bytes", &wakeup_bytes, true)
            .map_max_entries("scry_scratch_map", cpus as u32)
            .map_max_entries("scry_events", ring_bytes)
            .map_max_entries("scry_conns", config.max_kernel_conns.max(1))
            .load(OBJECT)
            .map_err(|e| LoadError::Object(one_line(&error_chain(&e))))?;

        for (name, category, event) in PROGRAMS {
            let prog = ebpf.program_mut(name).ok_or_else(|| LoadError::Missing {
                kind: "program",
                name: (*name).to_string(),
            })?;
            let tp: &mut TracePoint = prog.try_into().map_err(|_| LoadError::Missing {
                kind: "tracepoint program",
                name: (*name).to_string(),
            })?;
            tp.load().map_err(|e| load_error(name, &e))?;
            attach(tp, name, category, event)?;
        }

        let events = take_map(&mut ebpf, "scry_events")
            .and_then(|m| RingBuf::try_from(m).map_err(|e| map_err("scry_events", &e)))?;
        let stats = take_map(&mut ebpf, "scry_stats")
            .and_then(|m| PerCpuArray::try_from(m).map_err(|e| map_err("scry_stats", &e)))?;
        let conns = take_map(&mut ebpf, "scry_conns")
            .and_then(|m| BpfHashMap::try_from(m).map_err(|e| map_err("scry_conns", &e)))?;
        Ok(Probes {
            _ebpf: ebpf,
            events: Some(events),
            stats,
            conns,
        })
    }

    /// The ring buffer, for the reader (once).
    pub fn take_events(&mut self) -> Option<RingBuf<MapData>> {
        self.events.take()
    }

    /// The kernel counters (`scry_stats`), summed over CPUs, by index.
    pub fn kernel_stats(&self) -> Vec<u64> {
        (0..STAT_MAX)
            .map(|i| {
                self.stats
                    .get(&i, 0)
                    .map(|per_cpu| per_cpu.iter().copied().fold(0u64, u64::wrapping_add))
                    .unwrap_or(0)
            })
            .collect()
    }

    /// A snapshot of the kernel's connection map.
    pub fn kernel_conns(&self) -> Vec<(RawConnKey, RawConn)> {
        self.conns.iter().filter_map(Result::ok).collect()
    }

    /// Forgets kernel entries of processes that are gone.
    pub fn forget_tgids(&mut self, gone: &HashSet<u32>) -> usize {
        if gone.is_empty() {
            return 0;
        }
        let keys: Vec<RawConnKey> = self
            .conns
            .keys()
            .filter_map(Result::ok)
            .filter(|k| gone.contains(&k.tgid))
            .collect();
        keys.iter().filter(|k| self.conns.remove(k).is_ok()).count()
    }
}

/// Attaches a loaded tracepoint program to `category:event`.
fn attach(
    tp: &mut TracePoint,
    program: &str,
    category: &str,
    event: &str,
) -> Result<(), LoadError> {
    tp.attach(category, event)
        .map(|_| ())
        .map_err(|e| LoadError::Attach {
            program: program.to_string(),
            category: category.to_string(),
            event: event.to_string(),
            reason: one_line(&error_chain(&e)),
        })
}

fn take_map(ebpf: &mut Ebpf, name: &'static str) -> Result<aya::maps::Map, LoadError> {
    ebpf.take_map(name).ok_or(LoadError::Missing {
        kind: "map",
        name: name.to_string(),
    })
}

fn map_err(map: &'static str, e: &dyn std::error::Error) -> LoadError {
    LoadError::Map {
        map,
        reason: one_line(&error_chain(e)),
    }
}

fn load_error(program: &str, e: &aya::programs::ProgramError) -> LoadError {
    if let aya::programs::ProgramError::LoadError {
        io_error,
        verifier_log,
    } = e
    {
        if io_error.raw_os_error() == Some(libc::EPERM) {
            return LoadError::MissingCapability {
                capability: "CAP_BPF",
                hint: "setcap cap_bpf,cap_perfmon+ep on the binary",
            };
        }
        // The verifier's verdict is at the end of its log.
        let log = verifier_log.to_string();
        let tail: Vec<&str> = log
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .rev()
            .take(3)
            .collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return LoadError::Verifier {
            program: program.to_string(),
            reason: format!("{io_error}; verifier: {}", tail.join(" | ")),
        };
    }
    LoadError::Verifier {
        program: program.to_string(),
        reason: one_line(&error_chain(e)),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// Collapses a message to one line of bounded length.
pub(crate) fn one_line(s: &str) -> String {
    let mut out: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.len() > 600 {
        let mut cut = 600;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(" …");
    }
    out
}

/// Capabilities, BTF, lockdown and tracefs, in the order a user fixes them.
pub fn preflight() -> Result<(), LoadError> {
    check_capabilities()?;
    if !Path::new(BTF).exists() {
        return Err(LoadError::NoBtf);
    }
    if let Ok(l) = std::fs::read_to_string("/sys/kernel/security/lockdown") {
        if l.contains("[confidentiality]") {
            return Err(LoadError::Lockdown);
        }
    }
    ensure_tracefs()
}

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

fn check_capabilities() -> Result<(), LoadError> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let Some(eff) = effective_caps(&status) else {
        // Cannot tell: let the kernel decide, errors are mapped later.
        return Ok(());
    };
    let has = |bit: u32| eff & (1u64 << bit) != 0;
    if has(CAP_SYS_ADMIN) {
        return Ok(());
    }
    if !has(CAP_BPF) {
        return Err(LoadError::MissingCapability {
            capability: "CAP_BPF",
            hint: "setcap cap_bpf,cap_perfmon+ep on the binary",
        });
    }
    if !has(CAP_PERFMON) {
        return Err(LoadError::MissingCapability {
            capability: "CAP_PERFMON",
            hint: "setcap cap_bpf,cap_perfmon+ep on the binary",
        });
    }
    Ok(())
}

/// `CapEff` from /proc/<pid>/status.
pub(crate) fn effective_caps(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
}

fn tracefs_ready(path: &Path) -> bool {
    path.join("events/syscalls").is_dir()
}

fn ensure_tracefs() -> Result<(), LoadError> {
    if tracefs_ready(Path::new(TRACEFS)) || tracefs_ready(Path::new("/sys/kernel/debug/tracing")) {
        return Ok(());
    }
    let target = CString::new(TRACEFS).map_err(|e| LoadError::Tracefs {
        reason: e.to_string(),
    })?;
    let fstype = CString::new("tracefs").map_err(|e| LoadError::Tracefs {
        reason: e.to_string(),
    })?;
    // SAFETY: all pointers are valid NUL-terminated strings for the call.
    let rc = unsafe {
        libc::mount(
            fstype.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(LoadError::Tracefs {
            reason: std::io::Error::last_os_error().to_string(),
        });
    }
    if !tracefs_ready(Path::new(TRACEFS)) {
        return Err(LoadError::Tracefs {
            reason:
                "mounted but events/syscalls is missing (kernel without CONFIG_FTRACE_SYSCALLS?)"
                    .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_effective_caps() {
        let s = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(effective_caps(s), Some(0x1ff_ffff_ffff));
        assert_eq!(effective_caps("nothing"), None);
    }

    #[test]
    fn errors_are_one_line() {
        let e = LoadError::MissingCapability {
            capability: "CAP_BPF",
            hint: "setcap cap_bpf,cap_perfmon+ep on the binary",
        };
        assert!(!e.to_string().contains('\n'));
        assert!(e.to_string().contains("CAP_BPF"));
        assert_eq!(one_line("a\n  b\tc"), "a b c");
    }

    #[test]
    fn every_program_is_in_the_object() {
        let obj = aya_obj_names();
        for (name, _, _) in PROGRAMS {
            assert!(obj.iter().any(|n| n == name), "{name} missing from object");
        }
    }

    /// Program names in the embedded object (without loading it).
    fn aya_obj_names() -> Vec<String> {
        // Symbol names appear verbatim in the ELF string table.
        let text = String::from_utf8_lossy(OBJECT);
        PROGRAMS
            .iter()
            .filter(|(n, _, _)| text.contains(n))
            .map(|(n, _, _)| (*n).to_string())
            .collect()
    }
}
