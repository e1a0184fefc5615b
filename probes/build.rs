//! Builds the kernel programs in `probes-ebpf/` into a BPF object that the
//! crate embeds (`include_bytes!(concat!(env!("OUT_DIR"), "/scry.bpf.o"))`).
//!
//! - clang: `$CLANG`, else `clang-19`, else `clang`;
//! - kernel types: `vmlinux.h` dumped with `bpftool` from
//!   `/sys/kernel/btf/vmlinux` when both exist (unless `SCRY_NO_VMLINUX_H` is
//!   set), else the small CO-RE header `probes-ebpf/include/scry_vmlinux_min.h`;
//! - layout: every `#[repr(C)]` mirror in `src/events.rs` is checked against
//!   the C structs with generated `_Static_assert`s, so the two cannot drift.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[allow(dead_code)]
#[path = "src/events.rs"]
mod events;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let ebpf = manifest
        .parent()
        .ok_or("probes/ has no parent directory")?
        .join("probes-ebpf");
    let src = ebpf.join("src/scry.bpf.c");
    let floor_src = ebpf.join("src/hooks_floor.bpf.c");
    let include = ebpf.join("include");
    for p in [
        src.clone(),
        floor_src.clone(),
        include.join("scry_events.h"),
        include.join("scry_vmlinux_min.h"),
        manifest.join("src/events.rs"),
    ] {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rerun-if-env-changed=CLANG");
    println!("cargo:rerun-if-env-changed=SCRY_NO_VMLINUX_H");

    let clang = find_clang()?;
    if !Path::new("/usr/include/bpf/bpf_helpers.h").exists() {
        return Err(
            "libbpf headers not found (/usr/include/bpf/bpf_helpers.h): apt-get install libbpf-dev"
                .into(),
        );
    }

    let mut defines = Vec::new();
    if env::var_os("SCRY_NO_VMLINUX_H").is_none() && dump_vmlinux_h(&out) {
        defines.push("-DSCRY_HAVE_VMLINUX_H".to_string());
    }

    // Layout check: Rust offsets/sizes must equal the C ones.
    let check = out.join("scry_layout_check.c");
    fs::write(&check, layout_check_source()).map_err(|e| format!("{}: {e}", check.display()))?;
    let mut cmd = Command::new(&clang);
    cmd.args(["-target", "bpf", "-fsyntax-only"])
        .arg(format!("-I{}", include.display()))
        .arg(&check);
    run_cmd(
        &mut cmd,
        "layout check of src/events.rs against scry_events.h",
    )?;

    let obj = out.join("scry.bpf.o");
    let mut cmd = Command::new(&clang);
    cmd.args([
        "-target",
        "bpf",
        "-O2",
        "-g",
        "-Wall",
        "-Wno-unused-function",
    ])
    .args(&defines)
    .arg(format!("-I{}", include.display()))
    .arg(format!("-I{}", out.display()))
    .arg("-c")
    .arg(&src)
    .arg("-o")
    .arg(&obj);
    run_cmd(&mut cmd, "compiling probes-ebpf/src/scry.bpf.c")?;

    let floor_obj = out.join("hooks_floor.bpf.o");
    let mut cmd = Command::new(&clang);
    cmd.args(["-target", "bpf", "-O2", "-g", "-Wall"])
        .arg(format!("-I{}", include.display()))
        .arg("-c")
        .arg(&floor_src)
        .arg("-o")
        .arg(&floor_obj);
    run_cmd(&mut cmd, "compiling probes-ebpf/src/hooks_floor.bpf.c")?;
    Ok(())
}

fn find_clang() -> Result<String, String> {
    let candidates: Vec<String> = match env::var("CLANG") {
        Ok(c) if !c.is_empty() => vec![c],
        _ => vec!["clang-19".into(), "clang".into()],
    };
    for c in &candidates {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Ok(c.clone());
        }
    }
    Err(format!(
        "no clang found (tried {}): apt-get install clang-19 libbpf-dev",
        candidates.join(", ")
    ))
}

/// Dumps the running kernel's BTF as C; false when bpftool or BTF is missing.
fn dump_vmlinux_h(out: &Path) -> bool {
    if !Path::new("/sys/kernel/btf/vmlinux").exists() {
        return false;
    }
    let Ok(o) = Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "c",
        ])
        .output()
    else {
        return false;
    };
    o.status.success()
        && !o.stdout.is_empty()
        && fs::write(out.join("vmlinux.h"), &o.stdout).is_ok()
}

fn run_cmd(cmd: &mut Command, what: &str) -> Result<(), String> {
    let o = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run {cmd:?}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{what} failed:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(())
}

fn layout_check_source() -> String {
    let mut s = String::from(
        "/* generated by probes/build.rs from src/events.rs */\n\
         #include \"scry_vmlinux_min.h\"\n#include \"scry_events.h\"\n",
    );
    for e in events::layout_table() {
        match e.field {
            None => {
                let _ = writeln!(
                    s,
                    "_Static_assert(sizeof(struct {c}) == {v}, \"sizeof(struct {c}) != {v} (Rust {r})\");",
                    c = e.c_struct,
                    v = e.value,
                    r = e.rust_type,
                );
            }
            Some(f) => {
                let _ = writeln!(
                    s,
                    "_Static_assert(__builtin_offsetof(struct {c}, {f}) == {v}, \"offsetof({c}, {f}) != {v} (Rust {r})\");",
                    c = e.c_struct,
                    v = e.value,
                    r = e.rust_type,
                );
            }
        }
    }
    for (name, value) in events::constants() {
        let _ = writeln!(
            s,
            "_Static_assert({name} == {value}, \"{name} != {value} (Rust)\");"
        );
    }
    s
}
