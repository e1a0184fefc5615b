//! Finding scripts: bundled ones (`px/http_data`, embedded at build time)
//! and files or folders on disk.

use std::path::Path;

use anyhow::{bail, Context, Result};
use scry_lang::bundle::ScriptBundle;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/bundled_scripts.rs"));
}

/// Every bundled script, by name.
pub fn bundled() -> Result<Vec<ScriptBundle>> {
    embedded::BUNDLED
        .iter()
        .map(|(name, pxl, vis, manifest)| {
            ScriptBundle::from_texts(name, pxl, *vis, *manifest)
                .with_context(|| format!("bundled script {name} is broken"))
        })
        .collect()
}

/// A script argument: an existing file or folder, else a bundled name.
pub fn resolve(spec: &str) -> Result<ScriptBundle> {
    let path = Path::new(spec);
    if path.exists() {
        return Ok(ScriptBundle::load(path)?);
    }
    if let Some((name, pxl, vis, manifest)) = embedded::BUNDLED.iter().find(|(n, ..)| *n == spec) {
        return Ok(ScriptBundle::from_texts(name, pxl, *vis, *manifest)?);
    }
    let names: Vec<&str> = embedded::BUNDLED.iter().map(|(n, ..)| *n).collect();
    let near = scry_lang::diag::near_name(spec, names.iter().copied());
    match near {
        Some(n) => bail!("no script file or bundled script named '{spec}' (did you mean '{n}'?)"),
        None => bail!(
            "no script file or bundled script named '{spec}'; `scry scripts list` shows the bundled ones"
        ),
    }
}
