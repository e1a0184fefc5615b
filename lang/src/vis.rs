//! Pixie's `vis.json`: script variables (→ command-line flags) and the
//! functions whose outputs become the script's tables ("function mode").

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VisSpec {
    #[serde(default)]
    pub variables: Vec<Variable>,
    #[serde(default)]
    pub global_funcs: Vec<GlobalFunc>,
    #[serde(default)]
    pub widgets: Vec<Widget>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    pub name: String,
    #[serde(rename = "type", default)]
    pub var_type: String,
    /// Pixie writes `{"value": "-5m"}`; a plain string is accepted too.
    #[serde(default, deserialize_with = "default_value")]
    pub default_value: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub valid_values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GlobalFunc {
    pub output_name: String,
    pub func: Func,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Widget {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub func: Option<Func>,
    #[serde(default)]
    pub global_func_output_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Func {
    pub name: String,
    #[serde(default)]
    pub args: Vec<FuncArg>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct FuncArg {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub variable: Option<String>,
}

fn default_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Default {
        Plain(String),
        Wrapped { value: String },
    }
    Ok(Option::<Default>::deserialize(d)?.map(|v| match v {
        Default::Plain(s) | Default::Wrapped { value: s } => s,
    }))
}

impl VisSpec {
    /// Parse a vis.json text.
    pub fn parse(json: &str) -> Result<VisSpec, String> {
        serde_json::from_str(json).map_err(|e| format!("vis.json: {e}"))
    }

    /// The functions to call and the output name of each, in Pixie's order:
    /// global funcs (named by `outputName`), then widgets that call a
    /// function (named by the widget's name, or `widget_<i>`).
    pub fn calls(&self) -> Vec<(String, &Func)> {
        let mut out: Vec<(String, &Func)> = self
            .global_funcs
            .iter()
            .map(|g| (g.output_name.clone(), &g.func))
            .collect();
        for (i, w) in self.widgets.iter().enumerate() {
            if let Some(f) = &w.func {
                out.push((w.name.clone().unwrap_or_else(|| format!("widget_{i}")), f));
            }
        }
        out
    }
}
