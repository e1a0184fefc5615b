//! Process and host metadata on a bare host: [`Upid`] (Pixie's unique process
//! id) and [`ProcMetadata`], which answers the stdlib's [`MetadataProvider`]
//! from `/proc`, `gethostname` and `getnameinfo`.
//!
//! A pid is only trusted together with its start time: every lookup checks
//! `/proc/<pid>/stat`'s start time against the upid, so a recycled pid never
//! yields another process's command line. What was read is remembered in a
//! bounded cache keyed by the whole upid, so rows of processes that have
//! since exited still resolve (call [`ProcMetadata::observe`] when a process
//! is first seen to make sure it is captured). Reverse DNS answers, names and
//! failures alike, are cached in a bounded cache too.

use std::ffi::CStr;
use std::fmt;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use scry_stdlib::MetadataProvider;

use crate::bounded_cache::BoundedCache;

/// How many processes [`ProcMetadata`] remembers.
pub const PROCESS_CACHE_ENTRIES: usize = 8192;
/// How many reverse-DNS answers [`ProcMetadata`] remembers.
pub const DNS_CACHE_ENTRIES: usize = 4096;
/// Command lines longer than this are cut (bounds the process cache).
pub const MAX_CMDLINE_BYTES: usize = 4096;
/// The most bytes read from `/proc/<pid>/stat` or `/proc/<pid>/cgroup`.
const MAX_PROC_FILE_BYTES: u64 = 64 * 1024;

/// Pixie's unique process id: agent short id, pid and the process's start
/// time in clock ticks since boot. Written `asid:pid:start_ticks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Upid {
    pub asid: u32,
    pub pid: u32,
    pub start_ticks: u64,
}

/// Why a upid or a process's facts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("invalid upid '{0}': expected asid:pid:start_ticks")]
    BadUpid(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no start time (field 22) in its contents")]
    BadStat { path: PathBuf },
}

impl Upid {
    pub fn new(asid: u32, pid: u32, start_ticks: u64) -> Self {
        Upid {
            asid,
            pid,
            start_ticks,
        }
    }

    /// The upid of a live process on this host (asid 0).
    pub fn for_pid(pid: u32) -> Result<Upid, MetadataError> {
        Upid::for_pid_in(Path::new("/proc"), 0, pid)
    }

    /// The upid of a live process, reading `<proc_root>/<pid>/stat`.
    pub fn for_pid_in(proc_root: &Path, asid: u32, pid: u32) -> Result<Upid, MetadataError> {
        Ok(Upid::new(asid, pid, read_start_ticks(proc_root, pid)?))
    }

    /// From Pixie's UINT128 halves: `high = asid << 32 | pid`, `low = start_ticks`.
    pub fn from_u128_halves(high: u64, low: u64) -> Self {
        Upid::new((high >> 32) as u32, high as u32, low)
    }

    /// Pixie's UINT128 halves `(high, low)`.
    pub fn to_u128_halves(self) -> (u64, u64) {
        (
            (u64::from(self.asid) << 32) | u64::from(self.pid),
            self.start_ticks,
        )
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.asid, self.pid, self.start_ticks)
    }
}

impl FromStr for Upid {
    type Err = MetadataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || MetadataError::BadUpid(s.to_string());
        let mut parts = s.split(':');
        let (Some(a), Some(p), Some(t), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(Upid::new(
            a.parse().map_err(|_| bad())?,
            p.parse().map_err(|_| bad())?,
            t.parse().map_err(|_| bad())?,
        ))
    }
}

/// The start time (field 22, clock ticks since boot) in a `/proc/<pid>/stat`
/// line. `comm` (field 2) may hold spaces and parentheses, so fields are
/// counted from the last `)`.
pub fn parse_stat_start_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After `comm` comes field 3 (state); field 22 is 19 fields further.
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, MetadataError> {
    let io = |source| MetadataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut buf = Vec::new();
    file.take(limit).read_to_end(&mut buf).map_err(io)?;
    Ok(buf)
}

fn read_start_ticks(proc_root: &Path, pid: u32) -> Result<u64, MetadataError> {
    let path = proc_root.join(pid.to_string()).join("stat");
    let bytes = read_limited(&path, MAX_PROC_FILE_BYTES)?;
    parse_stat_start_ticks(&String::from_utf8_lossy(&bytes)).ok_or(MetadataError::BadStat { path })
}

/// `/proc/<pid>/cmdline` contents as one line: NULs become spaces, trailing
/// NULs are dropped, at most [`MAX_CMDLINE_BYTES`] are kept.
pub fn format_cmdline(raw: &[u8]) -> String {
    let raw = &raw[..raw.len().min(MAX_CMDLINE_BYTES)];
    let end = raw.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let joined: Vec<u8> = raw[..end]
        .iter()
        .map(|&b| if b == 0 { b' ' } else { b })
        .collect();
    String::from_utf8_lossy(&joined).into_owned()
}

/// The container id (64 hex digits) in a `/proc/<pid>/cgroup` file, for
/// docker, containerd and cri-o layouts (cgroupfs and systemd drivers):
/// `/docker/<id>`, `docker-<id>.scope`, `cri-containerd-<id>.scope`,
/// `crio-<id>.scope`, `/kubepods/.../<id>`, `...:cri-containerd:<id>`.
pub fn container_id_from_cgroup(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        path.rsplit('/').find_map(|segment| {
            let segment = segment.strip_suffix(".scope").unwrap_or(segment);
            let id = segment.rsplit(['-', ':']).next()?;
            (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| id.to_ascii_lowercase())
        })
    })
}

/// What is known about one process.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcInfo {
    pub cmdline: String,
    /// "" on a bare host.
    pub container_id: String,
}

/// Process and host facts from `/proc`, with bounded caches.
pub struct ProcMetadata {
    proc_root: PathBuf,
    processes: Mutex<BoundedCache<Upid, ProcInfo>>,
    dns: Mutex<BoundedCache<String, String>>,
    hostname: OnceLock<String>,
}

impl Default for ProcMetadata {
    fn default() -> Self {
        ProcMetadata::new()
    }
}

impl ProcMetadata {
    /// Reads the host's `/proc`.
    pub fn new() -> Self {
        ProcMetadata::with_proc_root("/proc")
    }

    /// The process-wide instance over the host's `/proc`: what the tracer
    /// learns of processes as it sees them (see [`ProcMetadata::observe`],
    /// [`ProcMetadata::remember`]) is what scripts run in the same scry
    /// process resolve, after those processes have exited.
    pub fn shared() -> Arc<ProcMetadata> {
        static SHARED: OnceLock<Arc<ProcMetadata>> = OnceLock::new();
        SHARED.get_or_init(|| Arc::new(ProcMetadata::new())).clone()
    }

    /// Records what is known of a process that `/proc` can no longer tell
    /// (e.g. only its kernel `comm`), unless a command line is cached. (An
    /// exiting process is still in `/proc` with an empty command line.)
    pub fn remember(&self, upid: Upid, info: ProcInfo) {
        let mut cache = lock(&self.processes);
        if cache
            .get(&upid)
            .is_none_or(|known| known.cmdline.is_empty())
        {
            cache.insert(upid, info);
        }
    }

    /// Reads another proc tree (tests, or a host's `/proc` mounted elsewhere).
    pub fn with_proc_root(proc_root: impl Into<PathBuf>) -> Self {
        ProcMetadata::with_capacity(proc_root, PROCESS_CACHE_ENTRIES, DNS_CACHE_ENTRIES)
    }

    pub fn with_capacity(proc_root: impl Into<PathBuf>, processes: usize, dns: usize) -> Self {
        ProcMetadata {
            proc_root: proc_root.into(),
            processes: Mutex::new(BoundedCache::new(processes)),
            dns: Mutex::new(BoundedCache::new(dns)),
            hostname: OnceLock::new(),
        }
    }

    /// Facts about a process: from the cache, else from `/proc` when the pid
    /// there still has the upid's start time. `None` when neither knows it.
    pub fn process(&self, upid: Upid) -> Option<ProcInfo> {
        let cached = lock(&self.processes).get(&upid);
        cached.or_else(|| self.observe(upid))
    }

    /// Reads a live process's facts now and remembers them, so they resolve
    /// after it exits. `None` if the pid is gone or belongs to another process.
    pub fn observe(&self, upid: Upid) -> Option<ProcInfo> {
        let ticks = read_start_ticks(&self.proc_root, upid.pid).ok()?;
        if ticks != upid.start_ticks {
            return None;
        }
        let dir = self.proc_root.join(upid.pid.to_string());
        let cmdline = read_limited(&dir.join("cmdline"), MAX_CMDLINE_BYTES as u64)
            .map(|raw| format_cmdline(&raw))
            .unwrap_or_default();
        let container_id = read_limited(&dir.join("cgroup"), MAX_PROC_FILE_BYTES)
            .ok()
            .and_then(|raw| container_id_from_cgroup(&String::from_utf8_lossy(&raw)))
            .unwrap_or_default();
        // The process may have exited (and its pid been reused) while we read.
        if read_start_ticks(&self.proc_root, upid.pid).ok() != Some(upid.start_ticks) {
            return None;
        }
        let info = ProcInfo {
            cmdline,
            container_id,
        };
        lock(&self.processes).insert(upid, info.clone());
        Some(info)
    }

    fn process_str(&self, upid: &str) -> Option<ProcInfo> {
        self.process(upid.parse().ok()?)
    }

    /// This host's name (read once).
    pub fn host_name(&self) -> String {
        self.hostname.get_or_init(read_hostname).clone()
    }

    /// Reverse DNS of an IP address; the address itself when it has no name
    /// or is not an address.
    pub fn resolve(&self, addr: &str) -> String {
        let Ok(ip) = addr.trim().parse::<IpAddr>() else {
            return addr.to_string();
        };
        let key = ip.to_string();
        if let Some(name) = lock(&self.dns).get(&key) {
            return name;
        }
        let name = reverse_lookup(ip).unwrap_or_else(|| addr.to_string());
        lock(&self.dns).insert(key, name.clone());
        name
    }
}

impl MetadataProvider for ProcMetadata {
    fn cmdline(&self, upid: &str) -> String {
        self.process_str(upid)
            .map(|p| p.cmdline)
            .unwrap_or_default()
    }

    fn hostname(&self, _upid: &str) -> String {
        // Every process this agent sees runs on this host.
        self.host_name()
    }

    fn container_id(&self, upid: &str) -> String {
        self.process_str(upid)
            .map(|p| p.container_id)
            .unwrap_or_default()
    }

    fn reverse_dns(&self, addr: &str) -> String {
        self.resolve(addr)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn read_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname writes
    // at most that many and we only read up to the first NUL inside it.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc == 0 {
        if let Ok(name) = CStr::from_bytes_until_nul(&buf) {
            let name = name.to_string_lossy().trim().to_string();
            if !name.is_empty() {
                return name;
            }
        }
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// `getnameinfo` with `NI_NAMEREQD`: the name of an address, if it has one.
fn reverse_lookup(ip: IpAddr) -> Option<String> {
    // SAFETY: sockaddr_in/sockaddr_in6 are plain C structs for which all-zero
    // bytes are a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match ip {
        IpAddr::V4(v4) => {
            let sa = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: 0,
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&raw mut storage).cast::<libc::sockaddr_in>(), sa) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        IpAddr::V6(v6) => {
            // SAFETY: as above, all-zero is a valid sockaddr_in6.
            let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sa.sin6_addr.s6_addr = v6.octets();
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&raw mut storage).cast::<libc::sockaddr_in6>(), sa) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    let mut host = [0u8; 1025]; // NI_MAXHOST
                                // SAFETY: `storage` holds a valid address of `len` bytes; `host` is valid
                                // for its length; no service buffer is requested.
    let rc = unsafe {
        libc::getnameinfo(
            (&raw const storage).cast::<libc::sockaddr>(),
            len as libc::socklen_t,
            host.as_mut_ptr().cast(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    let name = CStr::from_bytes_until_nul(&host).ok()?.to_string_lossy();
    (!name.is_empty()).then(|| name.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_proc(root: &Path, pid: u32, start: u64, cmdline: &[u8], cgroup: &str) {
        let dir = root.join(pid.to_string());
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut fields: Vec<String> = (3..=52).map(|i| i.to_string()).collect();
        fields[22 - 3] = start.to_string();
        let stat = format!("{pid} (my (odd) comm) {}\n", fields.join(" "));
        std::fs::write(dir.join("stat"), stat).expect("stat");
        std::fs::write(dir.join("cmdline"), cmdline).expect("cmdline");
        std::fs::write(dir.join("cgroup"), cgroup).expect("cgroup");
    }

    #[test]
    fn upid_round_trips() {
        let u = Upid::new(3, 1234, 987654321);
        assert_eq!(u.to_string(), "3:1234:987654321");
        assert_eq!("3:1234:987654321".parse::<Upid>().expect("parse"), u);
        let (hi, lo) = u.to_u128_halves();
        assert_eq!(Upid::from_u128_halves(hi, lo), u);
        for bad in ["", "1:2", "1:2:3:4", "a:2:3", "1:-2:3", "99999999999:1:1"] {
            let err = bad.parse::<Upid>().expect_err(bad);
            assert_eq!(
                err.to_string(),
                format!("invalid upid '{bad}': expected asid:pid:start_ticks")
            );
        }
    }

    #[test]
    fn stat_parsing_survives_odd_comm() {
        let mut fields: Vec<String> = (3..=52).map(|i| i.to_string()).collect();
        fields[19] = "4242".into();
        let stat = format!("17 (a) b ) (c) {}", fields.join(" "));
        assert_eq!(parse_stat_start_ticks(&stat), Some(4242));
        assert_eq!(parse_stat_start_ticks("17 (x) S 1 2"), None);
        assert_eq!(parse_stat_start_ticks("garbage"), None);
    }

    #[test]
    fn own_process() {
        let pid = std::process::id();
        let upid = Upid::for_pid(pid).expect("own upid");
        assert_eq!(upid.pid, pid);
        let md = ProcMetadata::new();
        let cmdline = md.cmdline(&upid.to_string());
        let exe = std::env::args().next().expect("argv0");
        assert!(cmdline.starts_with(&exe), "{cmdline:?} vs {exe:?}");
        let stale = Upid::new(0, pid, upid.start_ticks + 1);
        assert_eq!(md.cmdline(&stale.to_string()), "");
        assert_eq!(md.cmdline("not a upid"), "");
        assert!(!md.hostname(&upid.to_string()).is_empty());
        let id = md.container_id(&upid.to_string());
        assert!(id.is_empty() || id.len() == 64, "{id}");
    }

    #[test]
    fn remembered_names_fill_in_for_exiting_processes_only() {
        let root = tempfile::tempdir().expect("tempdir");
        let md = ProcMetadata::with_proc_root(root.path());
        let comm = |name: &str| ProcInfo {
            cmdline: name.into(),
            container_id: String::new(),
        };
        // Exiting: still in /proc, with an empty command line.
        write_proc(root.path(), 7, 100, b"", "0::/\n");
        let exiting = Upid::new(0, 7, 100);
        assert_eq!(md.observe(exiting).map(|p| p.cmdline), Some(String::new()));
        md.remember(exiting, comm("redis-cli"));
        assert_eq!(md.cmdline(&exiting.to_string()), "redis-cli");
        // A command line read from /proc is never replaced.
        write_proc(root.path(), 8, 100, b"/bin/server\0", "0::/\n");
        let live = Upid::new(0, 8, 100);
        assert!(md.observe(live).is_some());
        md.remember(live, comm("server"));
        assert_eq!(md.cmdline(&live.to_string()), "/bin/server");
    }

    #[test]
    fn recycled_and_exited_processes() {
        let root = tempfile::tempdir().expect("tempdir");
        let md = ProcMetadata::with_proc_root(root.path());
        let docker = "0::/system.slice/docker-\
            4f2c1d0e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d.scope\n";
        write_proc(root.path(), 42, 100, b"/bin/server\0--port\08080\0", docker);
        let first = Upid::new(0, 42, 100).to_string();
        assert_eq!(md.cmdline(&first), "/bin/server --port 8080");
        assert_eq!(
            md.container_id(&first),
            "4f2c1d0e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d"
        );
        // pid 42 exits and is reused by another process.
        write_proc(root.path(), 42, 500, b"/bin/other\0", "0::/user.slice\n");
        assert_eq!(md.cmdline(&first), "/bin/server --port 8080");
        assert_eq!(md.cmdline(&Upid::new(0, 42, 500).to_string()), "/bin/other");
        assert_eq!(md.container_id(&Upid::new(0, 42, 500).to_string()), "");
        // A upid never seen whose pid now belongs to someone else.
        assert_eq!(md.cmdline(&Upid::new(0, 42, 300).to_string()), "");
        // Gone entirely.
        assert_eq!(md.cmdline(&Upid::new(0, 7, 1).to_string()), "");
    }

    #[test]
    fn process_cache_is_bounded() {
        let root = tempfile::tempdir().expect("tempdir");
        let md = ProcMetadata::with_capacity(root.path(), 2, 2);
        for pid in 1..=3 {
            write_proc(root.path(), pid, 10, format!("p{pid}").as_bytes(), "");
            assert!(md.observe(Upid::new(0, pid, 10)).is_some());
        }
        assert_eq!(lock(&md.processes).len(), 2);
    }

    #[test]
    fn cgroup_layouts() {
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let cases = [
            format!("12:memory:/docker/{id}\n11:cpu:/docker/{id}\n"),
            format!("0::/kubepods.slice/kubepods-besteffort.slice/cri-containerd-{id}.scope"),
            format!("0::/kubepods.slice/kubepods-pod1.slice/crio-{id}.scope"),
            format!("5:pids:/kubepods/burstable/pod7a1b/{id}"),
            format!("0::/kubepods-besteffort-pod1.slice:cri-containerd:{id}"),
        ];
        for c in &cases {
            assert_eq!(container_id_from_cgroup(c).as_deref(), Some(id), "{c}");
        }
        assert_eq!(
            container_id_from_cgroup("0::/user.slice/session-2.scope"),
            None
        );
        assert_eq!(container_id_from_cgroup("0::/\n"), None);
        assert_eq!(container_id_from_cgroup("garbage"), None);
    }

    #[test]
    fn cmdline_formatting() {
        assert_eq!(format_cmdline(b"a\0b c\0\0"), "a b c");
        assert_eq!(format_cmdline(b""), "");
        assert_eq!(format_cmdline(&[b'x'; 10_000]).len(), MAX_CMDLINE_BYTES);
    }

    #[test]
    fn reverse_dns() {
        let md = ProcMetadata::with_capacity("/proc", 4, 2);
        assert_eq!(md.reverse_dns("not-an-ip"), "not-an-ip");
        // Loopback resolves from /etc/hosts (or comes back as itself).
        assert!(!md.reverse_dns("127.0.0.1").is_empty());
        assert!(!md.reverse_dns("::1").is_empty());
        assert!(!md.reverse_dns("127.0.0.2").is_empty());
        assert!(lock(&md.dns).len() <= 2);
    }
}
