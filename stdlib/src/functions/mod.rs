//! The `px.*` definitions, one module per family of functions.

mod aggregates;
mod casts;
mod conditionals;
mod json;
mod math;
mod process;
mod protocols;
mod quantiles;
mod strings;
mod tables;
mod time;
pub(crate) mod util;

#[cfg(test)]
mod tests;

use crate::registry::FunctionDef;

/// A family of functions, as `scry docs` groups them.
pub struct Family {
    pub name: &'static str,
    pub intro: &'static str,
    pub defs: Vec<FunctionDef>,
}

/// Every family, in the order the reference shows them.
pub fn families() -> Vec<Family> {
    vec![
        Family {
            name: "Aggregates",
            intro: "Used inside `agg`: `df.groupby('svc').agg(n=('latency', px.count))`.",
            defs: aggregates::defs(),
        },
        Family {
            name: "Conditionals and script links",
            intro: "Row-wise choices and links to other scripts.",
            defs: conditionals::defs(),
        },
        Family {
            name: "Strings, regular expressions and JSON",
            intro: "Positions and lengths count bytes. A row that cannot be processed yields '', 0, 0.0 or false, never null.",
            defs: strings::defs(),
        },
        Family {
            name: "Math",
            intro: "Arithmetic and comparison operators are written as operators (`a / b`); `/` always yields a float.",
            defs: math::defs(),
        },
        Family {
            name: "Time and durations",
            intro: "Durations are INT64 nanoseconds; times are TIME64NS (UTC). Relative times resolve once, when the script is compiled.",
            defs: time::defs(),
        },
        Family {
            name: "Processes, hosts and Kubernetes",
            intro: "A upid is `asid:pid:start_ticks`. Lookups happen when the query runs. On a bare host every Kubernetes lookup is '' (the epoch for times); process lookups (cmdline, container id, hostname) still work.",
            defs: process::defs(),
        },
        Family {
            name: "Protocol codes",
            intro: "Names for the numeric codes protocol tables store, with Pixie's numbering.",
            defs: protocols::defs(),
        },
        Family {
            name: "Semantic types",
            intro: "Set a column's semantic type, which tells renderers what a value means; the data type is unchanged.",
            defs: casts::defs(),
        },
        Family {
            name: "Table functions",
            intro: "Return a DataFrame: `df = px.GetTables()`.",
            defs: tables::defs(),
        },
    ]
}

/// Every definition; the registry checks that names are unique.
pub fn all() -> Vec<FunctionDef> {
    families().into_iter().flat_map(|f| f.defs).collect()
}
