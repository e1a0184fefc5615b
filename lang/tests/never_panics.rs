//! Property test: the parser and compiler return diagnostics, never panic,
//! whatever text they are given.

mod fixtures;

use proptest::prelude::*;

/// Fragments that look like PxL, so that generated inputs reach deep into
/// the grammar and the evaluator rather than failing on the first byte.
const PIECES: &[&str] = &[
    "import px\n",
    "df = ",
    "px.DataFrame('http_events')",
    "df",
    ".",
    "[",
    "]",
    "(",
    ")",
    "'",
    "\"",
    "\"\"\"",
    ",",
    "=",
    "==",
    " ",
    "\n",
    "    ",
    "def f(a: int):\n",
    "return ",
    "px.display(df)\n",
    "df.latency",
    "df.x = ",
    "1",
    "2.5",
    "-",
    "/",
    "*",
    "%",
    "and",
    "or",
    "not",
    "~",
    "px.count",
    "groupby('req_path')",
    ".agg(n=('latency', px.count))",
    "merge(",
    "ctx['pid']",
    "#",
    "#px:set x=1\n",
    "px.now()",
    "'-5m'",
    "None",
    "True",
    "{",
    "}",
    ":",
    "\\",
    "px.quantiles",
    "head(2)",
    "append(df)",
];

fn script() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn compiler_never_panics_on_pxl_like_text(src in script()) {
        let _ = fixtures::compile_fixture(&src);
    }

    #[test]
    fn compiler_never_panics_on_arbitrary_text(src in "\\PC{0,200}") {
        let _ = fixtures::compile_fixture(&src);
    }
}
