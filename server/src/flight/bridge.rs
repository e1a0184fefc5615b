//! Polars ↔ arrow-rs without copying column buffers.
//!
//! Polars carries its own Arrow implementation (polars-arrow); Flight speaks
//! arrow-rs. Both implement Arrow's C Data Interface, whose structs have one
//! C layout, so an array exported by one side is imported by the other and
//! the buffers are shared (released by whichever side drops last). No crate
//! does this hand-off for these two versions, hence this module.
//!
//! Strings are exported at `CompatLevel::oldest()` (`LargeUtf8`): Polars'
//! view strings would otherwise go on the wire as views, which many Flight
//! clients reject and which can carry far more buffer bytes than the rows
//! reference. That one conversion copies string bytes; numbers and
//! timestamps are not copied.

use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::{make_array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{Field, Schema, SchemaRef};
use polars::prelude::{Column, CompatLevel, DataFrame, IntoColumn, PlSmallStr, Series};

/// Rows per record batch sent to a client: large enough to amortise
/// per-batch overhead, small enough to bound the memory of one message.
pub const DEFAULT_BATCH_ROWS: usize = 64 * 1024;

fn export_polars_field(field: &polars_arrow::datatypes::Field) -> FFI_ArrowSchema {
    let c = polars_arrow::ffi::export_field_to_c(field);
    // SAFETY: both types are `#[repr(C)]` mirrors of the C Data Interface's
    // `struct ArrowSchema`; ownership (and the release callback) moves over.
    unsafe { std::mem::transmute::<polars_arrow::ffi::ArrowSchema, FFI_ArrowSchema>(c) }
}

/// The arrow-rs schema a frame is sent with.
pub fn arrow_schema(df: &DataFrame) -> Result<SchemaRef> {
    let fields = df
        .columns()
        .iter()
        .map(|c| {
            let pf = c.field().to_arrow(CompatLevel::oldest());
            let ffi = export_polars_field(&pf);
            Field::try_from(&ffi).with_context(|| format!("column {} has no Arrow type", c.name()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

/// Split `df` into record batches of at most `batch_rows` rows.
pub fn to_record_batches(df: &DataFrame, batch_rows: usize) -> Result<Vec<RecordBatch>> {
    let (_, batches) = record_batch_iter(df.clone(), batch_rows)?;
    batches.collect()
}

/// The schema, and the record batches of `df` converted one slice at a time
/// as the consumer pulls them (so only one batch is in flight at once). An
/// empty frame yields one empty batch, so the schema always travels.
pub fn record_batch_iter(
    df: DataFrame,
    batch_rows: usize,
) -> Result<(SchemaRef, impl Iterator<Item = Result<RecordBatch>> + Send)> {
    let schema = arrow_schema(&df)?;
    let batch_rows = batch_rows.max(1);
    let height = df.height();
    let starts: Vec<usize> = if height == 0 {
        vec![0]
    } else {
        (0..height).step_by(batch_rows).collect()
    };
    let iter_schema = schema.clone();
    let batches = starts.into_iter().flat_map(move |offset| {
        let len = batch_rows.min(height - offset);
        match slice_batches(&df, offset, len, &iter_schema) {
            Ok(batches) => batches.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        }
    });
    Ok((schema, batches))
}

/// Rows `offset..offset+len` of `df` as record batches (one per aligned chunk).
fn slice_batches(
    df: &DataFrame,
    offset: usize,
    len: usize,
    schema: &SchemaRef,
) -> Result<Vec<RecordBatch>> {
    let mut part = df.slice(offset as i64, len);
    if part.should_rechunk() {
        part.align_chunks();
    }
    let mut out = Vec::new();
    for chunk in part.iter_chunks(CompatLevel::oldest(), false) {
        let rows = chunk.height();
        let arrays = chunk
            .into_arrays()
            .into_iter()
            .zip(schema.fields())
            .map(|(array, field)| polars_array_to_arrow(array, field))
            .collect::<Result<Vec<_>>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        out.push(RecordBatch::try_new_with_options(
            schema.clone(),
            arrays,
            &options,
        )?);
    }
    if out.is_empty() {
        out.push(RecordBatch::new_empty(schema.clone()));
    }
    Ok(out)
}

fn polars_array_to_arrow(
    array: Box<dyn polars_arrow::array::Array>,
    field: &Field,
) -> Result<ArrayRef> {
    let c_array = polars_arrow::ffi::export_array_to_c(array);
    // SAFETY: `#[repr(C)]` mirrors of `struct ArrowArray`; see export_polars_field.
    let c_array =
        unsafe { std::mem::transmute::<polars_arrow::ffi::ArrowArray, FFI_ArrowArray>(c_array) };
    let c_schema = FFI_ArrowSchema::try_from(field)?;
    // SAFETY: the array was just exported by polars-arrow with this type.
    let data = unsafe { arrow_array::ffi::from_ffi(c_array, &c_schema) }?;
    Ok(make_array(data))
}

/// Record batches (from Flight) back into one Polars frame.
pub fn to_dataframe(schema: &Schema, batches: &[RecordBatch]) -> Result<DataFrame> {
    let mut columns: Vec<Vec<Box<dyn polars_arrow::array::Array>>> =
        vec![Vec::with_capacity(batches.len()); schema.fields().len()];
    let mut polars_fields = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let c_schema = FFI_ArrowSchema::try_from(field.as_ref())?;
        // SAFETY: `#[repr(C)]` mirrors of `struct ArrowSchema`.
        let c_schema = unsafe {
            std::mem::transmute::<FFI_ArrowSchema, polars_arrow::ffi::ArrowSchema>(c_schema)
        };
        // SAFETY: a valid schema exported by arrow-rs just above.
        let pf = unsafe { polars_arrow::ffi::import_field_from_c(&c_schema) }
            .map_err(|e| anyhow!("column {}: {e}", field.name()))?;
        polars_fields.push(pf);
    }
    let mut height = 0usize;
    for batch in batches {
        height += batch.num_rows();
        for (i, array) in batch.columns().iter().enumerate() {
            let (c_array, _c_schema) = arrow_array::ffi::to_ffi(&array.to_data())?;
            // SAFETY: `#[repr(C)]` mirrors of `struct ArrowArray`.
            let c_array = unsafe {
                std::mem::transmute::<FFI_ArrowArray, polars_arrow::ffi::ArrowArray>(c_array)
            };
            // SAFETY: exported by arrow-rs with the type recorded in polars_fields[i].
            let imported = unsafe {
                polars_arrow::ffi::import_array_from_c(c_array, polars_fields[i].dtype().clone())
            }
            .map_err(|e| anyhow!("column {}: {e}", schema.field(i).name()))?;
            columns[i].push(imported);
        }
    }
    let cols = schema
        .fields()
        .iter()
        .zip(columns)
        .zip(&polars_fields)
        .map(|((field, chunks), pf)| {
            let name = PlSmallStr::from(field.name().as_str());
            let series = if chunks.is_empty() {
                let dtype = polars::prelude::DataType::from_arrow_field(pf);
                Series::new_empty(name, &dtype)
            } else {
                Series::try_from((name, chunks))?
            };
            Ok(series.into_column())
        })
        .collect::<Result<Vec<Column>>>()?;
    Ok(DataFrame::new(height, cols)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn sample(n: usize) -> DataFrame {
        let t = Int64Chunked::from_vec("time_".into(), (0..n as i64).collect())
            .into_datetime(TimeUnit::Nanoseconds, None)
            .into_column();
        let s = StringChunked::from_iter_values(
            "req_path".into(),
            (0..n).map(|i| format!("/path/{i}")),
        )
        .into_column();
        let f = Float64Chunked::from_vec("ratio".into(), (0..n).map(|i| i as f64 / 2.0).collect())
            .into_column();
        let b =
            BooleanChunked::from_iter_values("ok".into(), (0..n).map(|i| i % 2 == 0)).into_column();
        DataFrame::new(n, vec![t, s, f, b]).unwrap()
    }

    #[test]
    fn round_trip_keeps_types_and_values() {
        let df = sample(1000);
        let batches = to_record_batches(&df, 300).unwrap();
        assert_eq!(batches.len(), 4);
        assert!(batches.iter().all(|b| b.num_rows() <= 300));
        let schema = batches[0].schema();
        assert_eq!(
            schema.field(0).data_type(),
            &arrow_schema::DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, None)
        );
        assert_eq!(
            schema.field(1).data_type(),
            &arrow_schema::DataType::LargeUtf8
        );
        let back = to_dataframe(&schema, &batches).unwrap();
        assert!(back.equals(&df), "{back}\n{df}");
    }

    #[test]
    fn empty_frame_has_schema_and_one_empty_batch() {
        let df = sample(0);
        let batches = to_record_batches(&df, 100).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].num_rows(), 0);
        let back = to_dataframe(&batches[0].schema(), &batches).unwrap();
        assert_eq!(back.schema(), df.schema());
    }

    #[test]
    fn numeric_buffers_are_shared_not_copied() {
        let df = sample(10);
        let polars_ptr = df
            .column("ratio")
            .unwrap()
            .f64()
            .unwrap()
            .downcast_iter()
            .next()
            .unwrap()
            .values()
            .as_ptr();
        let batches = to_record_batches(&df, 100).unwrap();
        let arrow_ptr = batches[0].column(2).to_data().buffers()[0].as_ptr() as *const f64;
        assert_eq!(polars_ptr, arrow_ptr);
    }
}
