//! Script bundles: a `.pxl` with its optional `vis.json` (function mode) and
//! `manifest.yaml` (one-line summary), as Pixie lays them out in
//! `px/<name>/{<name>.pxl, vis.json, manifest.yaml}`.

use std::path::Path;

use serde::Deserialize;

use crate::vis::VisSpec;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Manifest {
    #[serde(default)]
    pub short: String,
    #[serde(default)]
    pub long: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScriptBundle {
    /// `px/http_data` for a bundled script, the path for a file.
    pub name: String,
    pub pxl: String,
    pub vis: Option<VisSpec>,
    /// The vis.json text as read, so a bundle can be sent to an agent as is.
    pub vis_json: Option<String>,
    pub manifest: Manifest,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path} is a directory without {expected}")]
    NoScript { path: String, expected: String },
}

impl ScriptBundle {
    /// A bundle from its texts (bundled scripts are embedded in the binary).
    pub fn from_texts(
        name: &str,
        pxl: &str,
        vis_json: Option<&str>,
        manifest_yaml: Option<&str>,
    ) -> Result<Self, BundleError> {
        let invalid = |message: String| BundleError::Invalid {
            path: name.to_string(),
            message,
        };
        let vis = vis_json.map(VisSpec::parse).transpose().map_err(invalid)?;
        let manifest = match manifest_yaml {
            Some(y) => {
                serde_yaml_ng::from_str(y).map_err(|e| invalid(format!("manifest.yaml: {e}")))?
            }
            None => Manifest::default(),
        };
        Ok(ScriptBundle {
            name: name.to_string(),
            pxl: pxl.to_string(),
            vis,
            vis_json: vis_json.map(str::to_string),
            manifest,
        })
    }

    /// Load `script.pxl` (with `vis.json`/`manifest.yaml` beside it), or a
    /// folder `x/` holding `x.pxl` (or a single `.pxl`).
    pub fn load(path: &Path) -> Result<Self, BundleError> {
        let display = path.display().to_string();
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| BundleError::Read {
                path: p.display().to_string(),
                source,
            })
        };
        let (pxl_path, dir) = if path.is_dir() {
            let stem = path.file_name().and_then(|s| s.to_str()).unwrap_or("");
            let named = path.join(format!("{stem}.pxl"));
            let pxl = if named.exists() {
                named
            } else {
                let mut found: Vec<_> = std::fs::read_dir(path)
                    .map_err(|source| BundleError::Read {
                        path: display.clone(),
                        source,
                    })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "pxl"))
                    .collect();
                if found.len() != 1 {
                    return Err(BundleError::NoScript {
                        path: display,
                        expected: format!("{stem}.pxl"),
                    });
                }
                found.remove(0)
            };
            (pxl, path.to_path_buf())
        } else {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (path.to_path_buf(), dir)
        };
        let pxl = read(&pxl_path)?;
        // A vis.json only belongs to the script if it is the folder's only
        // script or the folder is named after it (Pixie's layout).
        let vis_path = dir.join("vis.json");
        let stem = pxl_path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let dir_name = dir.file_name().and_then(|s| s.to_str()).unwrap_or("");
        let owns_vis = path.is_dir() || stem == dir_name;
        let vis = if owns_vis && vis_path.exists() {
            Some(read(&vis_path)?)
        } else {
            None
        };
        let manifest_path = dir.join("manifest.yaml");
        let manifest = if owns_vis && manifest_path.exists() {
            Some(read(&manifest_path)?)
        } else {
            None
        };
        Self::from_texts(&display, &pxl, vis.as_deref(), manifest.as_deref())
    }
}
