//! Aggregates used as `agg(out=('col', px.fn))`.
//!
//! Semantic types follow Pixie's rules: `mean`, `min`, `max` keep a
//! bytes / throughput / duration / percent input's semantic type, `sum` keeps
//! bytes / throughput / percent (not durations, as in Pixie), `any` keeps any,
//! and `quantiles` of a duration is `ST_DURATION_NS_QUANTILES`.

use polars::prelude::*;

use super::util::{inherit, json_number, ANY, NUMERIC_SEMANTICS};
use crate::registry::{Example, FnError, FunctionDef, FunctionKind, Param, TypedExpr};
use crate::types::{DataType as PxType, SemanticType};

const SUMMABLE: &[PxType] = &[PxType::Int64, PxType::Float64, PxType::Boolean];
const ORDERED: &[PxType] = &[PxType::Int64, PxType::Float64, PxType::Time64Ns];
const QUANTILE_INPUTS: &[PxType] = &[PxType::Int64, PxType::Float64];

/// Semantic types `sum` keeps (Pixie leaves durations out).
const SUM_SEMANTICS: &[SemanticType] = &[
    SemanticType::Bytes,
    SemanticType::ThroughputPerNs,
    SemanticType::ThroughputBytesPerNs,
    SemanticType::Percent,
];

fn check(input: &TypedExpr, types: &[PxType], func: &str) -> Result<(), FnError> {
    if types.contains(&input.dtype) {
        return Ok(());
    }
    let names: Vec<&str> = types.iter().map(|t| t.pixie_name()).collect();
    Err(FnError::new(format!(
        "px.{func} needs a {} column, got {}",
        names.join(" or "),
        input.dtype
    )))
}

/// The zero value of a PxL type, as an expression (what an empty group yields).
fn zero(dtype: PxType) -> Expr {
    match dtype {
        PxType::Boolean => lit(false),
        PxType::Int64 => lit(0i64),
        PxType::Float64 => lit(0.0f64),
        PxType::String | PxType::Uint128 => lit(""),
        PxType::Time64Ns => lit(0i64).cast(dtype.to_polars()),
    }
}

fn count(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    Ok(TypedExpr::new(
        input.expr.clone().len().cast(DataType::Int64),
        PxType::Int64,
    ))
}

fn sum(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    check(input, SUMMABLE, "sum")?;
    let dtype = match input.dtype {
        PxType::Float64 => PxType::Float64,
        _ => PxType::Int64,
    };
    let expr = input
        .expr
        .clone()
        .cast(dtype.to_polars())
        .sum()
        .fill_null(zero(dtype));
    Ok(TypedExpr::new(expr, dtype).with_semantic(inherit(input.semantic, SUM_SEMANTICS)))
}

fn mean(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    check(input, SUMMABLE, "mean")?;
    Ok(TypedExpr::new(
        input
            .expr
            .clone()
            .cast(DataType::Float64)
            .mean()
            .fill_null(lit(0.0f64)),
        PxType::Float64,
    )
    .with_semantic(inherit(input.semantic, NUMERIC_SEMANTICS)))
}

fn min(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    check(input, ORDERED, "min")?;
    Ok(TypedExpr::new(
        input.expr.clone().min().fill_null(zero(input.dtype)),
        input.dtype,
    )
    .with_semantic(inherit(input.semantic, NUMERIC_SEMANTICS)))
}

fn max(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    check(input, ORDERED, "max")?;
    Ok(TypedExpr::new(
        input.expr.clone().max().fill_null(zero(input.dtype)),
        input.dtype,
    )
    .with_semantic(inherit(input.semantic, NUMERIC_SEMANTICS)))
}

fn any(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    Ok(TypedExpr::new(
        input.expr.clone().first().fill_null(zero(input.dtype)),
        input.dtype,
    )
    .with_semantic(input.semantic))
}

fn quantiles(input: &TypedExpr) -> Result<TypedExpr, FnError> {
    check(input, QUANTILE_INPUTS, "quantiles")?;
    let semantic = if input.semantic == SemanticType::DurationNs {
        SemanticType::DurationNsQuantiles
    } else {
        SemanticType::Quantiles
    };
    let expr = input.expr.clone().cast(DataType::Float64).agg_with_fmt_str(
        |c: Column| {
            let values = c.f64()?;
            let mut digest = TDigest::new(1000.0);
            for v in values.iter().flatten() {
                digest.add(v);
            }
            Ok(Series::new(c.name().clone(), [quantiles_json(&mut digest)]).into())
        },
        |_: &Schema, f: &Field| Ok(Field::new(f.name().clone(), DataType::String)),
        "quantiles",
    );
    Ok(TypedExpr::new(expr, PxType::String).with_semantic(semantic))
}

/// The JSON object Pixie's `px.quantiles` finalizes to.
fn quantiles_json(digest: &mut TDigest) -> String {
    const KEYS: [(&str, f64); 7] = [
        ("p01", 0.01),
        ("p10", 0.10),
        ("p25", 0.25),
        ("p50", 0.50),
        ("p75", 0.75),
        ("p90", 0.90),
        ("p99", 0.99),
    ];
    let parts: Vec<String> = KEYS
        .iter()
        .map(|(key, q)| format!("\"{key}\":{}", json_number(digest.quantile(*q))))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// A merging t-digest with the parameters Pixie's quantiles use
/// (compression 1000, buffers of 2×/8× the compression), so that results
/// match Pixie's for the same input order: exact on small inputs, with the
/// same interpolation between neighbouring values.
struct TDigest {
    compression: f64,
    max_processed: usize,
    max_unprocessed: usize,
    /// (mean, weight), sorted by mean.
    processed: Vec<(f64, f64)>,
    unprocessed: Vec<(f64, f64)>,
    /// Weight up to the middle of each processed centroid, then the total.
    cumulative: Vec<f64>,
    processed_weight: f64,
    unprocessed_weight: f64,
    min: f64,
    max: f64,
}

impl TDigest {
    fn new(compression: f64) -> Self {
        TDigest {
            compression,
            max_processed: 2 * compression.ceil() as usize,
            max_unprocessed: 8 * compression.ceil() as usize,
            processed: Vec::new(),
            unprocessed: Vec::new(),
            cumulative: Vec::new(),
            processed_weight: 0.0,
            unprocessed_weight: 0.0,
            min: f64::MAX,
            max: f64::MIN,
        }
    }

    fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.unprocessed.push((x, 1.0));
        self.unprocessed_weight += 1.0;
        if self.is_dirty() {
            self.process();
        }
    }

    fn is_dirty(&self) -> bool {
        self.processed.len() > self.max_processed || self.unprocessed.len() > self.max_unprocessed
    }

    /// Scale function: quantile → centroid index.
    fn k_of_q(&self, q: f64) -> f64 {
        self.compression * ((2.0 * q - 1.0).asin() + std::f64::consts::FRAC_PI_2)
            / std::f64::consts::PI
    }

    /// Inverse scale function: centroid index → quantile.
    fn q_of_k(&self, k: f64) -> f64 {
        ((k.min(self.compression) * std::f64::consts::PI / self.compression
            - std::f64::consts::FRAC_PI_2)
            .sin()
            + 1.0)
            / 2.0
    }

    fn process(&mut self) {
        self.unprocessed.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Stable merge: new values before equal processed ones.
        let mut all = Vec::with_capacity(self.unprocessed.len() + self.processed.len());
        {
            let (mut a, mut b) = (
                self.unprocessed.iter().peekable(),
                self.processed.iter().peekable(),
            );
            loop {
                match (a.peek(), b.peek()) {
                    (Some(x), Some(y)) => {
                        if y.0 < x.0 {
                            all.push(**y);
                            b.next();
                        } else {
                            all.push(**x);
                            a.next();
                        }
                    }
                    (Some(x), None) => {
                        all.push(**x);
                        a.next();
                    }
                    (None, Some(y)) => {
                        all.push(**y);
                        b.next();
                    }
                    (None, None) => break,
                }
            }
        }
        self.unprocessed.clear();
        if all.is_empty() {
            return;
        }
        self.processed_weight += self.unprocessed_weight;
        self.unprocessed_weight = 0.0;
        let total = self.processed_weight;
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(all.len());
        merged.push(all[0]);
        let mut w_so_far = all[0].1;
        let mut w_limit = total * self.q_of_k(1.0);
        for &(mean, weight) in &all[1..] {
            let projected = w_so_far + weight;
            if projected <= w_limit {
                w_so_far = projected;
                if let Some(last) = merged.last_mut() {
                    last.1 += weight;
                    last.0 += weight * (mean - last.0) / last.1;
                }
            } else {
                let k1 = self.k_of_q(w_so_far / total);
                w_limit = total * self.q_of_k(k1 + 1.0);
                w_so_far += weight;
                merged.push((mean, weight));
            }
        }
        self.processed = merged;
        if let (Some(first), Some(last)) = (self.processed.first(), self.processed.last()) {
            self.min = self.min.min(first.0);
            self.max = self.max.max(last.0);
        }
        self.cumulative.clear();
        let mut previous = 0.0;
        for &(_, weight) in &self.processed {
            self.cumulative.push(previous + weight / 2.0);
            previous += weight;
        }
        self.cumulative.push(previous);
    }

    fn weighted_average(x1: f64, w1: f64, x2: f64, w2: f64) -> f64 {
        let (x1, w1, x2, w2) = if x1 <= x2 {
            (x1, w1, x2, w2)
        } else {
            (x2, w2, x1, w1)
        };
        let x = (x1 * w1 + x2 * w2) / (w1 + w2);
        x1.max(x.min(x2))
    }

    fn quantile(&mut self, q: f64) -> f64 {
        if !self.unprocessed.is_empty() || self.is_dirty() {
            self.process();
        }
        let n = self.processed.len();
        match n {
            0 => return f64::NAN,
            1 => return self.processed[0].0,
            _ => {}
        }
        let index = q * self.processed_weight;
        let (mean0, weight0) = self.processed[0];
        if index < weight0 / 2.0 {
            return self.min + 2.0 * index / weight0 * (mean0 - self.min);
        }
        let i = self.cumulative.partition_point(|c| *c < index);
        if i + 1 < self.cumulative.len() {
            if i == 0 {
                return mean0;
            }
            let z1 = index - self.cumulative[i - 1];
            let z2 = self.cumulative[i] - index;
            return Self::weighted_average(self.processed[i - 1].0, z2, self.processed[i].0, z1);
        }
        let (last_mean, last_weight) = self.processed[n - 1];
        let z1 = index - self.processed_weight - last_weight / 2.0;
        let z2 = last_weight / 2.0 - z1;
        Self::weighted_average(last_mean, z1, self.max, z2)
    }
}

pub fn defs() -> Vec<FunctionDef> {
    vec![
        FunctionDef {
            name: "count",
            kind: FunctionKind::Aggregate(count),
            params: const { &[Param::new("arg", ANY)] },
            returns: "INT64",
            doc: "Number of rows in the group.",
            example: Example {
                input: "[3, 1, 2]",
                output: "3",
            },
            pure: true,
        },
        FunctionDef {
            name: "sum",
            kind: FunctionKind::Aggregate(sum),
            params: const { &[Param::new("arg", SUMMABLE)] },
            returns: "INT64 (FLOAT64 for FLOAT64)",
            doc: "Sum of the group's values; booleans count as 1 and 0.",
            example: Example {
                input: "[1, 2, 6]",
                output: "9",
            },
            pure: true,
        },
        FunctionDef {
            name: "mean",
            kind: FunctionKind::Aggregate(mean),
            params: const { &[Param::new("arg", SUMMABLE)] },
            returns: "FLOAT64",
            doc: "Arithmetic mean of the group's values.",
            example: Example {
                input: "[1, 2, 6]",
                output: "3.0",
            },
            pure: true,
        },
        FunctionDef {
            name: "min",
            kind: FunctionKind::Aggregate(min),
            params: const { &[Param::new("arg", ORDERED)] },
            returns: "same as arg",
            doc: "Smallest value in the group.",
            example: Example {
                input: "[3, 1, 2]",
                output: "1",
            },
            pure: true,
        },
        FunctionDef {
            name: "max",
            kind: FunctionKind::Aggregate(max),
            params: const { &[Param::new("arg", ORDERED)] },
            returns: "same as arg",
            doc: "Largest value in the group.",
            example: Example {
                input: "[3, 1, 2]",
                output: "3",
            },
            pure: true,
        },
        FunctionDef {
            name: "any",
            kind: FunctionKind::Aggregate(any),
            params: const { &[Param::new("val", ANY)] },
            returns: "same as val",
            doc: "Any one value of the group (no guarantee which).",
            example: Example {
                input: "['a', 'a', 'a']",
                output: "\"a\"",
            },
            pure: true,
        },
        FunctionDef {
            name: "quantiles",
            kind: FunctionKind::Aggregate(quantiles),
            params: const { &[Param::new("val", QUANTILE_INPUTS)] },
            returns: "STRING (JSON)",
            doc: "Approximate p01, p10, p25, p50, p75, p90, p99 of the group (t-digest) as a JSON object; read one with px.pluck_float64.",
            example: Example {
                input: "[1, 2, 2, 1, 1, 5, 6]",
                output: r#""{\"p01\":1.0,\"p10\":1.0,\"p25\":1.0,\"p50\":2.0,\"p75\":4.25,\"p90\":5.8,\"p99\":6.0}""#,
            },
            pure: true,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::TDigest;

    fn digest(values: &[f64]) -> TDigest {
        let mut d = TDigest::new(1000.0);
        for v in values {
            d.add(*v);
        }
        d
    }

    #[test]
    fn tdigest_matches_pixies_small_input_results() {
        let mut d = digest(&[1.234, 2.442, 1.04, 5.322, 6.333]);
        assert_eq!(d.quantile(0.01), 1.04);
        assert_eq!(d.quantile(0.10), 1.04);
        assert_eq!(d.quantile(0.50), 2.442);
        assert_eq!(d.quantile(0.90), 6.333);
        assert_eq!(d.quantile(0.99), 6.333);
        let mut d = digest(&[1.0, 2.0, 2.0, 1.0, 1.0, 5.0, 6.0]);
        assert_eq!(d.quantile(0.01), 1.0);
        assert_eq!(d.quantile(0.50), 2.0);
        assert!((d.quantile(0.90) - 5.8).abs() < 1e-12);
        assert_eq!(d.quantile(0.99), 6.0);
    }

    #[test]
    fn tdigest_stays_close_on_large_input() {
        let values: Vec<f64> = (0..100_000)
            .map(|i| ((i * 7919) % 100_000) as f64)
            .collect();
        let mut d = digest(&values);
        let p50 = d.quantile(0.5);
        assert!((p50 - 50_000.0).abs() < 200.0, "p50 = {p50}");
        let p99 = d.quantile(0.99);
        assert!((p99 - 99_000.0).abs() < 200.0, "p99 = {p99}");
    }
}
