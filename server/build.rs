//! Embeds the bundled scripts into the binary: Pixie-style scripts
//! (`scripts/px/<name>/…`, named `px/<name>`) and example checks
//! (`scripts/checks/<name>/…`, named `checks/<name>`). The generated file
//! lists (name, pxl, vis.json, manifest.yaml) for each.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out =
        String::from("pub static BUNDLED: &[(&str, &str, Option<&str>, Option<&str>)] = &[\n");
    let mut entries = Vec::new();
    for ns in ["px", "checks"] {
        let dir = root.join(ns);
        println!("cargo:rerun-if-changed={}", dir.display());
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in read.flatten() {
            let path = e.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            let pxl = path.join(format!("{name}.pxl"));
            if !pxl.exists() {
                continue;
            }
            for f in ["vis.json", "manifest.yaml"] {
                println!("cargo:rerun-if-changed={}", path.join(f).display());
            }
            println!("cargo:rerun-if-changed={}", pxl.display());
            entries.push((format!("{ns}/{name}"), path));
        }
    }
    entries.sort();
    for (name, path) in entries {
        let opt = |f: &str| {
            let p = path.join(f);
            if p.exists() {
                format!(
                    "Some(include_str!({:?}))",
                    p.canonicalize().unwrap().display().to_string()
                )
            } else {
                "None".to_string()
            }
        };
        let pxl = path.join(format!(
            "{}.pxl",
            path.file_name().unwrap().to_str().unwrap()
        ));
        writeln!(
            out,
            "    ({name:?}, include_str!({:?}), {}, {}),",
            pxl.canonicalize().unwrap().display().to_string(),
            opt("vis.json"),
            opt("manifest.yaml")
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("bundled_scripts.rs");
    std::fs::write(dest, out).unwrap();
}
