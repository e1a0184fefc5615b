//! Shared helpers for the definitions: argument checks, row-wise closures
//! over Polars columns, and number rendering.

use polars::prelude::*;

use crate::registry::{FnError, Operand};
use crate::types::{DataType as PxType, SemanticType};

pub const ANY: &[PxType] = &[];
pub const STRING: &[PxType] = &[PxType::String];
pub const INT: &[PxType] = &[PxType::Int64];
pub const FLOAT: &[PxType] = &[PxType::Float64];
pub const BOOL: &[PxType] = &[PxType::Boolean];
pub const TIME: &[PxType] = &[PxType::Time64Ns];
pub const UPID: &[PxType] = &[PxType::Uint128, PxType::String];
pub const NUMBER: &[PxType] = &[PxType::Int64, PxType::Float64];

/// The operand at `i`, or an error naming the function and parameter.
pub fn arg<'a>(
    args: &'a [Operand],
    i: usize,
    func: &str,
    param: &str,
) -> Result<&'a Operand, FnError> {
    args.get(i)
        .ok_or_else(|| FnError::new(format!("px.{func}: missing argument '{param}'")))
}

/// The compile-time string value of an argument that must be a literal.
pub fn literal_str<'a>(
    args: &'a [Operand],
    i: usize,
    func: &str,
    param: &str,
) -> Result<&'a str, FnError> {
    arg(args, i, func, param)?.literal_str().ok_or_else(|| {
        FnError::new(format!(
            "px.{func}: argument '{param}' must be a string literal"
        ))
    })
}

/// Fails unless the operand has one of `types`.
pub fn expect_type(op: &Operand, types: &[PxType], func: &str, param: &str) -> Result<(), FnError> {
    if types.is_empty() || types.contains(&op.dtype()) {
        return Ok(());
    }
    let names: Vec<&str> = types.iter().map(|t| t.pixie_name()).collect();
    Err(FnError::new(format!(
        "px.{func}: argument '{param}' must be {}, got {}",
        names.join(" or "),
        op.dtype()
    )))
}

/// The semantic type kept when the input's is one of `kept` (Pixie's
/// "inherit type from args" rule), `None` otherwise.
pub fn inherit(semantic: SemanticType, kept: &[SemanticType]) -> SemanticType {
    if kept.contains(&semantic) {
        semantic
    } else {
        SemanticType::None
    }
}

/// The semantic types that arithmetic-like functions (`abs`, `mean`, `min`,
/// `max`) keep from their input, as Pixie does.
pub const NUMERIC_SEMANTICS: &[SemanticType] = &[
    SemanticType::Bytes,
    SemanticType::ThroughputPerNs,
    SemanticType::ThroughputBytesPerNs,
    SemanticType::DurationNs,
    SemanticType::Percent,
];

/// The Polars type of a TIME64NS value.
pub fn time_dtype() -> DataType {
    PxType::Time64Ns.to_polars()
}

/// How a row-wise closure reads one input.
#[derive(Clone, Copy, Debug)]
pub enum In {
    Str,
    I64,
    F64,
}

enum Col {
    Str(StringChunked),
    I64(Int64Chunked),
    F64(Float64Chunked),
}

/// One row of a row-wise closure's inputs. Missing values read as the zero
/// value of their type (PxL has no nulls). Length-1 inputs are broadcast.
pub struct Row<'a> {
    cols: &'a [(Col, usize)],
    i: usize,
}

impl Row<'_> {
    fn idx(&self, k: usize) -> usize {
        if self.cols[k].1 == 1 {
            0
        } else {
            self.i
        }
    }
    pub fn str(&self, k: usize) -> &str {
        match &self.cols[k].0 {
            Col::Str(ca) => ca.get(self.idx(k)).unwrap_or(""),
            _ => "",
        }
    }
    pub fn i64(&self, k: usize) -> i64 {
        match &self.cols[k].0 {
            Col::I64(ca) => ca.get(self.idx(k)).unwrap_or(0),
            _ => 0,
        }
    }
    pub fn f64(&self, k: usize) -> f64 {
        match &self.cols[k].0 {
            Col::F64(ca) => ca.get(self.idx(k)).unwrap_or(0.0),
            _ => 0.0,
        }
    }
}

/// A value a row-wise closure can return; the output column's type follows.
pub trait OutValue: Sized + Send + Sync + 'static {
    fn dtype() -> DataType;
    fn column(name: PlSmallStr, values: Vec<Self>) -> Column;
}

impl OutValue for String {
    fn dtype() -> DataType {
        DataType::String
    }
    fn column(name: PlSmallStr, values: Vec<Self>) -> Column {
        Series::new(name, values).into()
    }
}
impl OutValue for i64 {
    fn dtype() -> DataType {
        DataType::Int64
    }
    fn column(name: PlSmallStr, values: Vec<Self>) -> Column {
        Series::new(name, values).into()
    }
}
impl OutValue for f64 {
    fn dtype() -> DataType {
        DataType::Float64
    }
    fn column(name: PlSmallStr, values: Vec<Self>) -> Column {
        Series::new(name, values).into()
    }
}
impl OutValue for bool {
    fn dtype() -> DataType {
        DataType::Boolean
    }
    fn column(name: PlSmallStr, values: Vec<Self>) -> Column {
        Series::new(name, values).into()
    }
}

fn read_inputs(columns: &[Column], kinds: &[In]) -> PolarsResult<Vec<(Col, usize)>> {
    columns
        .iter()
        .zip(kinds)
        .map(|(c, kind)| {
            let len = c.len();
            let col = match kind {
                In::Str => Col::Str(c.cast(&DataType::String)?.str()?.rechunk().into_owned()),
                In::I64 => Col::I64(c.cast(&DataType::Int64)?.i64()?.rechunk().into_owned()),
                In::F64 => Col::F64(c.cast(&DataType::Float64)?.f64()?.rechunk().into_owned()),
            };
            Ok((col, len))
        })
        .collect()
}

/// Applies `f` to every row of `inputs` (read as `kinds`), producing one
/// value per row. The output has the longest input's length; length-1 inputs
/// (literals) are broadcast.
pub fn rowwise<T, F>(inputs: Vec<Expr>, kinds: &[In], f: F) -> Expr
where
    T: OutValue,
    F: Fn(&Row) -> T + Send + Sync + 'static,
{
    debug_assert_eq!(inputs.len(), kinds.len());
    let kinds: Vec<In> = kinds.to_vec();
    let mut inputs = inputs.into_iter();
    let first = inputs.next().expect("rowwise needs at least one input");
    let rest: Vec<Expr> = inputs.collect();
    let func = move |columns: &mut [Column]| -> PolarsResult<Column> {
        let name = columns[0].name().clone();
        let cols = read_inputs(columns, &kinds)?;
        let n = if cols.iter().any(|(_, len)| *len == 0) {
            0
        } else {
            cols.iter().map(|(_, len)| *len).max().unwrap_or(0)
        };
        let values: Vec<T> = (0..n).map(|i| f(&Row { cols: &cols, i })).collect();
        Ok(T::column(name, values))
    };
    let output = |_: &Schema, fields: &[Field]| -> PolarsResult<Field> {
        Ok(Field::new(fields[0].name().clone(), T::dtype()))
    };
    if rest.is_empty() {
        first.map(
            move |c| func(&mut [c]),
            move |s, f| output(s, std::slice::from_ref(f)),
        )
    } else {
        first.map_many(func, &rest, output)
    }
}

/// Renders a float the way Pixie's JSON writer (RapidJSON) does: the
/// shortest digits that round-trip, `.0` on whole numbers, plain decimals
/// for exponents in [-6, 21), scientific notation (`1e21`, `1.5e-7`) outside.
pub fn json_number(v: f64) -> String {
    if !v.is_finite() {
        return "0.0".to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // `{:e}` gives the shortest round-trip digits: "d.ddde±x".
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let len = digits.len() as i32;
    // The value is 0.digits × 10^kk.
    let kk = exp + 1;
    let body = if (0..=21).contains(&kk) && len <= kk {
        format!("{digits}{}.0", "0".repeat((kk - len) as usize))
    } else if 0 < kk && kk <= 21 {
        format!("{}.{}", &digits[..kk as usize], &digits[kk as usize..])
    } else if -6 < kk && kk <= 0 {
        format!("0.{}{digits}", "0".repeat((-kk) as usize))
    } else if len == 1 {
        format!("{digits}e{}", kk - 1)
    } else {
        format!("{}.{}e{}", &digits[..1], &digits[1..], kk - 1)
    };
    if v < 0.0 {
        format!("-{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::json_number;

    #[test]
    fn json_numbers_render_like_rapidjson() {
        assert_eq!(json_number(5.0), "5.0");
        assert_eq!(json_number(5.8), "5.8");
        assert_eq!(json_number(-2.5), "-2.5");
        assert_eq!(json_number(0.001), "0.001");
        assert_eq!(json_number(1e-7), "1e-7");
        assert_eq!(json_number(1.5e-7), "1.5e-7");
        assert_eq!(json_number(123456789.0), "123456789.0");
        assert_eq!(json_number(1e21), "1e21");
        assert_eq!(json_number(1e20), "100000000000000000000.0");
        assert_eq!(json_number(0.0), "0.0");
    }
}
