//! The reference `scry docs` prints: one section per family, each function
//! with its signature, doc and example.

use crate::functions::families;
use crate::registry::FunctionKind;

/// Markdown text of every `px.*` function, grouped by family.
pub fn render_reference() -> String {
    let mut out = String::from("# The px module\n");
    for family in families() {
        out.push_str(&format!("\n## {}\n\n{}\n", family.name, family.intro));
        for def in &family.defs {
            out.push_str(&format!("\n### px.{}\n\n`{}`", def.name, def.signature()));
            if !def.pure {
                out.push_str(" (evaluated when the query runs)");
            }
            out.push_str(&format!("\n\n{}\n\n", def.doc));
            let ex = def.example;
            match def.kind {
                FunctionKind::Aggregate(_) => out.push_str(&format!(
                    "    px.{} over {}  →  {}\n",
                    def.name, ex.input, ex.output
                )),
                FunctionKind::Table => {
                    out.push_str(&format!("    {}  →  columns: {}\n", ex.input, ex.output))
                }
                FunctionKind::Scalar(_) | FunctionKind::SemanticCast(_) => {
                    out.push_str(&format!("    {}  →  {}\n", ex.input, ex.output))
                }
            }
        }
    }
    out
}
