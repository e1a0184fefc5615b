//! Table functions (`px.GetTables()` …). The compiler answers them from the
//! catalog and this registry; they are listed here so the registry stays the
//! one list of `px.*` names. The example output is the output's column names.

use crate::registry::{Example, FunctionDef, FunctionKind};

fn table(
    name: &'static str,
    doc: &'static str,
    input: &'static str,
    columns: &'static str,
) -> FunctionDef {
    FunctionDef {
        name,
        kind: FunctionKind::Table,
        params: &[],
        returns: "DataFrame",
        doc,
        example: Example {
            input,
            output: columns,
        },
        pure: false,
    }
}

pub fn defs() -> Vec<FunctionDef> {
    vec![
        table(
            "GetTables",
            "One row per table: table_name STRING, table_desc STRING.",
            "px.GetTables()",
            "table_name, table_desc",
        ),
        table(
            "GetSchemas",
            "One row per column of every table: table_name, column_name, column_type, pattern_type, column_desc (all STRING).",
            "px.GetSchemas()",
            "table_name, column_name, column_type, pattern_type, column_desc",
        ),
        table(
            "_DebugTableInfo",
            "Table store statistics per table: asid, name, id, batches_added, batches_expired, bytes_added, num_batches, compacted_batches, size, cold_size, max_table_size (INT64 but name STRING), min_time TIME64NS.",
            "px._DebugTableInfo()",
            "asid, name, id, batches_added, batches_expired, bytes_added, num_batches, compacted_batches, size, cold_size, max_table_size, min_time",
        ),
        table(
            "GetUDFList",
            "One row per scalar function: name, return_type, args (all STRING).",
            "px.GetUDFList()",
            "name, return_type, args",
        ),
        table(
            "GetUDAList",
            "One row per aggregate: name, return_type, args (all STRING).",
            "px.GetUDAList()",
            "name, return_type, args",
        ),
        table(
            "GetUDTFList",
            "One row per table function: name, executor, init_args, output_relation (all STRING).",
            "px.GetUDTFList()",
            "name, executor, init_args, output_relation",
        ),
    ]
}
