//! `px.quantiles`: p01 … p99 of a group, exactly.
//!
//! Pixie finalizes `px.quantiles` from a t-digest with compression 1000. While
//! every centroid of that digest still holds a single value (groups of up to
//! 1273 values; the first merge happens at 1274) the digest is exact and its answer is a fixed
//! interpolation between two neighbouring order statistics. We compute that
//! same interpolation from the exact order statistics for groups of every
//! size, so:
//! - up to 1273 values the result is Pixie's, bit for bit (up to the sign of
//!   a zero, which Pixie leaves to its sort too);
//! - beyond that Pixie's digest starts merging neighbours into centroids and
//!   approximates; ours stays exact (the value the digest approximates).
//!
//! Only the ranks the seven quantiles need (at most 14) are selected, with
//! `select_nth_unstable` on a copy of the group, never a full sort. The
//! groups reach us as one list column (`implode`), rendered in one call, on
//! several threads when there are many values. Nulls and NaN are skipped, as
//! the digest skips them; an empty group yields 0.0 for every key (the
//! digest's NaN, rendered as the zero value).

use polars::polars_utils::total_ord::TotalOrd;
use polars::prelude::*;

use super::util::json_number;

/// The keys of the JSON object and their quantiles, in output order.
const KEYS: [(&str, f64); 7] = [
    ("p01", 0.01),
    ("p10", 0.10),
    ("p25", 0.25),
    ("p50", 0.50),
    ("p75", 0.75),
    ("p90", 0.90),
    ("p99", 0.99),
];

/// `px.quantiles` of `input`: each group's values as one list (Polars'
/// `implode`, one gather for all groups), then one call that renders every
/// group. One call instead of one per group keeps the per-group cost to the
/// selection itself, which matters for many small groups (e.g. per service
/// and time bin); large inputs are split over threads by group.
pub(super) fn quantiles_expr(input: Expr) -> Expr {
    input.implode(false).map_with_fmt_str(
        quantiles_of_lists,
        |_: &Schema, f: &Field| Ok(Field::new(f.name().clone(), DataType::String)),
        "quantiles",
    )
}

/// Below this many values in all, the groups are rendered on the calling
/// thread: spawning threads would cost more than it saves.
const PARALLEL_MIN_VALUES: usize = 1 << 16;

/// One JSON object per list of a list column.
fn quantiles_of_lists(c: Column) -> PolarsResult<Column> {
    let name = c.name().clone();
    let lists = c.list()?.rechunk();
    let rendered = match lists.downcast_iter().next() {
        Some(arr) if lists.null_count() == 0 => {
            let values = Series::try_from((PlSmallStr::EMPTY, arr.values().clone()))?;
            let offsets = arr.offsets().as_slice();
            match values.dtype() {
                DataType::Int64 if values.null_count() == 0 => {
                    let values = values.i64()?.cont_slice()?;
                    per_group(values, offsets, |group| {
                        let mut buf = group.to_vec();
                        let n = buf.len();
                        render(&mut buf, n, |v| v as f64)
                    })?
                }
                DataType::Float64 if values.null_count() == 0 => {
                    let any_nan = values.f64()?.is_nan().any();
                    let values = values.f64()?.cont_slice()?;
                    per_group(values, offsets, |group| {
                        let mut buf = group.to_vec();
                        let nan = if any_nan {
                            buf.iter().filter(|v| v.is_nan()).count()
                        } else {
                            0
                        };
                        // NaN orders after every number (TotalOrd), so the
                        // ranks below `n` are those of the values the digest
                        // would have kept.
                        let n = buf.len() - nan;
                        render(&mut buf, n, |v| v)
                    })?
                }
                _ => per_series(&lists)?,
            }
        }
        _ => per_series(&lists)?,
    };
    Ok(StringChunked::from_iter_values(name, rendered.iter().map(String::as_str)).into_column())
}

/// The general path (null lists, null values, other types): group by group.
fn per_series(lists: &ListChunked) -> PolarsResult<Vec<String>> {
    let empty = Series::new_empty(PlSmallStr::EMPTY, &DataType::Float64);
    lists
        .amortized_iter()
        .map(|group| match group {
            Some(group) => quantiles_json(group.as_ref()),
            None => quantiles_json(&empty),
        })
        .collect()
}

/// `render_group` of each group (`offsets` delimit the groups in `values`),
/// on several threads when there is enough work.
fn per_group<T: Sync>(
    values: &[T],
    offsets: &[i64],
    render_group: impl Fn(&[T]) -> String + Sync,
) -> PolarsResult<Vec<String>> {
    let groups = offsets.len().saturating_sub(1);
    let bounds = |g: usize| (offsets[g] as usize, offsets[g + 1] as usize);
    let run = |range: std::ops::Range<usize>| -> Vec<String> {
        range
            .map(|g| {
                let (start, end) = bounds(g);
                render_group(&values[start..end])
            })
            .collect()
    };
    let total = match (offsets.first(), offsets.last()) {
        (Some(first), Some(last)) => (last - first) as usize,
        _ => 0,
    };
    let threads = thread_count().min(groups);
    if threads <= 1 || total < PARALLEL_MIN_VALUES {
        return Ok(run(0..groups));
    }
    // Contiguous runs of groups holding about the same number of values.
    let mut splits = vec![0];
    let mut seen = 0;
    for g in 0..groups {
        let (start, end) = bounds(g);
        seen += end - start;
        if splits.len() < threads && seen * threads >= total * splits.len() {
            splits.push(g + 1);
        }
    }
    if splits.last() != Some(&groups) {
        splits.push(groups);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = splits
            .windows(2)
            .map(|w| {
                let range = w[0]..w[1];
                scope.spawn(|| run(range))
            })
            .collect();
        let mut out = Vec::with_capacity(groups);
        for worker in workers {
            let part = worker
                .join()
                .map_err(|_| polars_err!(ComputeError: "px.quantiles: a worker thread panicked"))?;
            out.extend(part);
        }
        Ok(out)
    })
}

/// Threads to use: Polars' own limit when set, else the machine's.
fn thread_count() -> usize {
    std::env::var("POLARS_MAX_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
        .max(1)
}

/// The JSON object `px.quantiles` yields for one group's values.
fn quantiles_json(values: &Series) -> PolarsResult<String> {
    let values = if values.null_count() > 0 {
        values.drop_nulls()
    } else {
        values.clone()
    };
    match values.dtype() {
        DataType::Int64 => {
            let mut buf = contiguous(values.i64()?);
            let n = buf.len();
            // `as f64` is monotone, so the order statistics of the integers
            // are those of their float images.
            Ok(render(&mut buf, n, |v| v as f64))
        }
        DataType::Float64 => Ok(render_f64(values.f64()?)),
        _ => Ok(render_f64(values.cast(&DataType::Float64)?.f64()?)),
    }
}

/// The values of a null-free column in one buffer.
fn contiguous<T: PolarsNumericType>(ca: &ChunkedArray<T>) -> Vec<T::Native> {
    let mut buf = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        buf.extend_from_slice(arr.values());
    }
    buf
}

fn render_f64(ca: &Float64Chunked) -> String {
    let nan = ca.is_nan().sum().unwrap_or(0) as usize;
    let mut buf = contiguous(ca);
    // NaN orders after every number, so the ranks below `n` are those of
    // the values the digest would have kept.
    let n = buf.len() - nan;
    render(&mut buf, n, |v| v)
}

/// Selects the ranks the seven quantiles of the `n` smallest `values` need
/// (reordering `values`) and renders the JSON object.
fn render<T: TotalOrd + Copy>(values: &mut [T], n: usize, to_f64: impl Fn(T) -> f64) -> String {
    let mut ranks: Vec<usize> = Vec::with_capacity(2 * KEYS.len());
    for (_, q) in KEYS {
        singleton_quantile(n, q, |r| {
            ranks.push(r);
            0.0
        });
    }
    ranks.sort_unstable();
    ranks.dedup();
    select_ranks(values, 0, &ranks);

    let mut out = String::with_capacity(16 * KEYS.len());
    for (i, (key, q)) in KEYS.iter().enumerate() {
        let value = singleton_quantile(n, *q, |r| to_f64(values[r]));
        out.push_str(if i == 0 { "{\"" } else { ",\"" });
        out.push_str(key);
        out.push_str("\":");
        out.push_str(&json_number(value));
    }
    out.push('}');
    out
}

/// Reorders `values` (the part of a larger slice starting at rank `offset`)
/// so that each of `ranks` (ascending, distinct, absolute) holds the value of
/// that rank: the multi-rank form of `select_nth_unstable`.
///
/// The comparison is Polars' `TotalOrd::tot_cmp` on purpose: it is the very
/// instantiation Polars' own quantiles use, so unoptimized (dev) builds share
/// Polars' optimized copy instead of compiling one at opt-level 0 (16× slower).
fn select_ranks<T: TotalOrd>(values: &mut [T], offset: usize, ranks: &[usize]) {
    if ranks.is_empty() {
        return;
    }
    let mid = ranks.len() / 2;
    let rank = ranks[mid];
    let (left, _, right) = values.select_nth_unstable_by(rank - offset, TotalOrd::tot_cmp);
    select_ranks(left, offset, &ranks[..mid]);
    select_ranks(right, rank + 1, &ranks[mid + 1..]);
}

/// The t-digest's quantile `q` of `n` values when every centroid holds one
/// value, with `x(r)` the value of rank `r` (the digest's min and max are
/// `x(0)` and `x(n - 1)`). The arithmetic is the digest's, step for step, so
/// that the result is bit-identical: centroid `i` sits at cumulative weight
/// `i + 0.5`, and a quantile between two centroids is their weighted average.
fn singleton_quantile(n: usize, q: f64, mut x: impl FnMut(usize) -> f64) -> f64 {
    match n {
        0 => return f64::NAN,
        1 => return x(0),
        _ => {}
    }
    let total = n as f64;
    let index = q * total;
    if index < 0.5 {
        let (min, mean0) = (x(0), x(0));
        return min + 2.0 * index / 1.0 * (mean0 - min);
    }
    // The digest's cumulative weights: i + 0.5 for centroid i, then the total.
    let cumulative = |i: usize| if i < n { i as f64 + 0.5 } else { total };
    // First i with cumulative(i) >= index (n + 1 if none), as partition_point.
    let mut i = ((index - 0.5).ceil().max(0.0) as usize).min(n + 1);
    while i > 0 && cumulative(i - 1) >= index {
        i -= 1;
    }
    while i <= n && cumulative(i) < index {
        i += 1;
    }
    if i < n {
        if i == 0 {
            return x(0);
        }
        let z1 = index - cumulative(i - 1);
        let z2 = cumulative(i) - index;
        return weighted_average(x(i - 1), z2, x(i), z1);
    }
    let last = x(n - 1);
    let z1 = index - total - 0.5;
    let z2 = 0.5 - z1;
    weighted_average(last, z1, last, z2)
}

/// The digest's weighted average of two neighbouring centroids, clamped
/// between them.
fn weighted_average(x1: f64, w1: f64, x2: f64, w2: f64) -> f64 {
    let (x1, w1, x2, w2) = if x1 <= x2 {
        (x1, w1, x2, w2)
    } else {
        (x2, w2, x1, w1)
    };
    let x = (x1 * w1 + x2 * w2) / (w1 + w2);
    x1.max(x.min(x2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Largest group for which Pixie's t-digest (compression 1000) keeps one
    /// value per centroid, i.e. for which the exact result is Pixie's.
    const DIGEST_EXACT_UP_TO: usize = 1273;

    /// Pixie's `px.quantiles` as it is: a merging t-digest with compression
    /// 1000 and buffers of 2×/8× the compression, finalized with the same
    /// keys. The oracle the exact computation is checked against.
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
            self.processed.len() > self.max_processed
                || self.unprocessed.len() > self.max_unprocessed
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
                return weighted_average(self.processed[i - 1].0, z2, self.processed[i].0, z1);
            }
            let (last_mean, last_weight) = self.processed[n - 1];
            let z1 = index - self.processed_weight - last_weight / 2.0;
            let z2 = last_weight / 2.0 - z1;
            weighted_average(last_mean, z1, self.max, z2)
        }

        fn json(&mut self) -> String {
            let parts: Vec<String> = KEYS
                .iter()
                .map(|(key, q)| format!("\"{key}\":{}", json_number(self.quantile(*q))))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
    }

    fn digest(values: &[f64]) -> TDigest {
        let mut d = TDigest::new(1000.0);
        for v in values {
            d.add(*v);
        }
        d
    }

    fn exact(values: &[f64]) -> String {
        quantiles_json(&Series::new("x".into(), values)).unwrap()
    }

    /// The exact quantile by a full sort and the digest's singleton rule.
    fn sorted_quantile(values: &[f64], q: f64) -> f64 {
        let mut v: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        v.sort_by(f64::total_cmp);
        singleton_quantile(v.len(), q, |r| v[r])
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
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

    #[test]
    fn digest_keeps_one_value_per_centroid_up_to_the_documented_size() {
        for n in [1, 2, 100, DIGEST_EXACT_UP_TO - 1, DIGEST_EXACT_UP_TO] {
            let mut d = digest(&vec![1.0; n]);
            d.quantile(0.5);
            assert_eq!(d.processed.len(), n, "n = {n}");
        }
        let n = DIGEST_EXACT_UP_TO + 1;
        let mut d = digest(&vec![1.0; n]);
        d.quantile(0.5);
        assert!(d.processed.len() < n);
    }

    #[test]
    fn exact_is_bit_identical_to_the_digest_while_it_is_exact() {
        let mut rng = Rng(0x9E3779B97F4A7C15);
        for n in 0..=DIGEST_EXACT_UP_TO {
            // Distinct floats, heavy duplicates and integers, negative values.
            let floats: Vec<f64> = (0..n)
                .map(|_| (rng.next() % 1_000_000) as f64 / 7.0 - 50_000.0)
                .collect();
            let dups: Vec<f64> = (0..n).map(|_| (rng.next() % 5) as f64).collect();
            let ints: Vec<i64> = (0..n)
                .map(|_| (rng.next() % 50_000_000) as i64 - 1000)
                .collect();
            // NaN scattered among the values: skipped, as the digest skips them.
            let with_nan: Vec<f64> = floats
                .iter()
                .map(|v| {
                    if rng.next().is_multiple_of(4) {
                        f64::NAN
                    } else {
                        *v
                    }
                })
                .collect();
            for values in [&floats, &dups, &with_nan] {
                assert_eq!(exact(values), digest(values).json(), "n = {n}");
            }
            let as_f64: Vec<f64> = ints.iter().map(|v| *v as f64).collect();
            assert_eq!(
                quantiles_json(&Series::new("x".into(), &ints)).unwrap(),
                digest(&as_f64).json(),
                "n = {n}"
            );
        }
    }

    #[test]
    fn exact_matches_a_full_sort_and_stays_near_the_digest_on_large_groups() {
        let mut rng = Rng(0x2545F4914F6CDD1D);
        for n in [DIGEST_EXACT_UP_TO + 1, 5_000, 8_001, 100_000] {
            let values: Vec<f64> = (0..n).map(|_| (rng.next() % 50_000_000) as f64).collect();
            let json = exact(&values);
            let mut d = digest(&values);
            for (key, q) in KEYS {
                let want = sorted_quantile(&values, q);
                assert!(json.contains(&format!("\"{key}\":{}", json_number(want))));
                // Pixie's digest approximates the same value to well under
                // 0.1% of the range.
                assert!((d.quantile(q) - want).abs() < 50_000.0, "n = {n}, {key}");
            }
        }
    }

    #[test]
    fn empty_nan_and_null_values_are_skipped() {
        let zeros = r#"{"p01":0.0,"p10":0.0,"p25":0.0,"p50":0.0,"p75":0.0,"p90":0.0,"p99":0.0}"#;
        assert_eq!(exact(&[]), zeros);
        assert_eq!(exact(&[f64::NAN, f64::NAN]), zeros);
        assert_eq!(digest(&[]).json(), zeros);
        assert_eq!(exact(&[f64::NAN, 1.0, f64::NAN, 3.0]), exact(&[1.0, 3.0]));
        assert_eq!(
            exact(&[f64::NAN, 1.0, f64::NAN, 3.0]),
            digest(&[f64::NAN, 1.0, f64::NAN, 3.0]).json()
        );
        let with_nulls = Series::new("x".into(), [None, Some(1i64), Some(3), None]);
        assert_eq!(quantiles_json(&with_nulls).unwrap(), exact(&[1.0, 3.0]));
        let with_nulls = Series::new("x".into(), [Some(1.0f64), None, Some(f64::NAN)]);
        assert_eq!(quantiles_json(&with_nulls).unwrap(), exact(&[1.0]));
        let empty_ints = Series::new("x".into(), Vec::<i64>::new());
        assert_eq!(quantiles_json(&empty_ints).unwrap(), zeros);
    }

    #[test]
    fn edge_values_render_like_the_digest() {
        // Zeros of either sign compare equal (as in Pixie's std::sort), so
        // which sign a zero quantile shows is not specified.
        let unsigned = |s: String| s.replace("-0.0", "0.0");
        let zeros = [-0.0, 0.0, -0.0, 0.0];
        assert_eq!(unsigned(exact(&zeros)), unsigned(digest(&zeros).json()));
        for values in [
            vec![f64::INFINITY, 1.0, 2.0],
            vec![f64::NEG_INFINITY, 1.0, 2.0, f64::INFINITY],
            vec![f64::MAX, f64::MIN, 0.5],
        ] {
            assert_eq!(exact(&values), digest(&values).json(), "{values:?}");
        }
        let ints = [i64::MAX, i64::MIN, 0, 1 << 53, (1 << 53) + 1];
        let as_f64: Vec<f64> = ints.iter().map(|v| *v as f64).collect();
        assert_eq!(
            quantiles_json(&Series::new("x".into(), ints)).unwrap(),
            digest(&as_f64).json()
        );
    }

    /// Each group's JSON through `quantiles_expr` in a group-by, next to the
    /// same group's values rendered alone.
    fn grouped(df: DataFrame) -> Vec<(String, String)> {
        let out = df
            .clone()
            .lazy()
            .group_by([col("g")])
            .agg([
                quantiles_expr(col("x")).alias("q"),
                col("x").implode(false).alias("values"),
            ])
            .collect()
            .unwrap();
        assert_eq!(out.column("q").unwrap().dtype(), &DataType::String);
        let q = out.column("q").unwrap().str().unwrap().clone();
        let values = out.column("values").unwrap().list().unwrap().clone();
        q.iter()
            .zip(values.amortized_iter())
            .map(|(q, v)| {
                let alone = quantiles_json(v.unwrap().as_ref()).unwrap();
                (q.unwrap().to_string(), alone)
            })
            .collect()
    }

    #[test]
    fn every_group_renders_as_it_would_alone_on_every_path() {
        let mut rng = Rng(11);
        // Enough values for the threaded path, groups from 1 to ~3000 values.
        let n = 200_000;
        let g: Vec<i64> = (0..n)
            .map(|_| {
                let r = rng.next() % 1000;
                (r * r / 1000) as i64
            })
            .collect();
        let ints: Vec<i64> = (0..n).map(|_| (rng.next() % 1_000_000) as i64).collect();
        let floats: Vec<f64> = ints
            .iter()
            .map(|v| {
                if v % 97 == 0 {
                    f64::NAN
                } else {
                    *v as f64 / 3.0
                }
            })
            .collect();
        let with_nulls: Vec<Option<i64>> =
            ints.iter().map(|v| (v % 5 != 0).then_some(*v)).collect();
        let small: Vec<i32> = ints.iter().map(|v| (*v % 1000) as i32).collect();
        let columns: Vec<Series> = vec![
            Series::new("x".into(), &ints),
            Series::new("x".into(), &floats),
            Series::new("x".into(), &with_nulls),
            Series::new("x".into(), &small),
        ];
        for x in columns {
            let dtype = x.dtype().clone();
            let df =
                DataFrame::new_infer_height(vec![Series::new("g".into(), &g).into(), x.into()])
                    .unwrap();
            let rows = grouped(df);
            assert!(rows.len() > 500, "{dtype}");
            for (q, alone) in rows {
                assert_eq!(q, alone, "{dtype}");
            }
        }
    }

    #[test]
    fn lists_with_nulls_and_no_groups_render_zero_values() {
        let zeros = r#"{"p01":0.0,"p10":0.0,"p25":0.0,"p50":0.0,"p75":0.0,"p90":0.0,"p99":0.0}"#;
        let lists = Series::new(
            "x".into(),
            [
                Some(Series::new("".into(), [3i64, 1, 2])),
                None,
                Some(Series::new_empty("".into(), &DataType::Int64)),
            ],
        );
        let out = quantiles_of_lists(lists.into()).unwrap();
        let out: Vec<Option<&str>> = out.str().unwrap().iter().collect();
        assert_eq!(out[0], Some(exact(&[1.0, 2.0, 3.0]).as_str()));
        assert_eq!(out[1], Some(zeros));
        assert_eq!(out[2], Some(zeros));
        let df = DataFrame::new_infer_height(vec![
            Series::new("g".into(), Vec::<i64>::new()).into(),
            Series::new("x".into(), Vec::<f64>::new()).into(),
        ])
        .unwrap();
        assert!(grouped(df).is_empty());
        // Without a group-by: one object for the whole column.
        let df =
            DataFrame::new_infer_height(vec![Series::new("x".into(), [2.0, 1.0]).into()]).unwrap();
        let out = df
            .lazy()
            .select([quantiles_expr(col("x"))])
            .collect()
            .unwrap();
        assert_eq!(out.height(), 1);
        assert_eq!(
            out.column("x").unwrap().str().unwrap().get(0),
            Some(exact(&[1.0, 2.0]).as_str())
        );
    }

    #[test]
    fn threaded_rendering_keeps_group_order() {
        let mut rng = Rng(5);
        let mut offsets = vec![0i64];
        // One huge group among small ones, to skew the split.
        for g in 0..500 {
            let len = if g == 123 {
                100_000
            } else {
                (rng.next() % 300) as i64
            };
            offsets.push(offsets[offsets.len() - 1] + len);
        }
        let total = offsets[offsets.len() - 1] as usize;
        assert!(total >= PARALLEL_MIN_VALUES);
        let values: Vec<i64> = (0..total).map(|_| (rng.next() % 1000) as i64).collect();
        let render_group = |group: &[i64]| format!("{}:{}", group.len(), group.iter().sum::<i64>());
        let threaded = per_group(&values, &offsets, render_group).unwrap();
        let sequential: Vec<String> = offsets
            .windows(2)
            .map(|w| render_group(&values[w[0] as usize..w[1] as usize]))
            .collect();
        assert_eq!(threaded, sequential);
        assert!(per_group(&values, &[0], render_group).unwrap().is_empty());
    }

    #[test]
    fn select_ranks_places_every_requested_rank() {
        let mut rng = Rng(7);
        for n in [1usize, 2, 3, 10, 257, 5000] {
            let values: Vec<i64> = (0..n).map(|_| (rng.next() % 100) as i64).collect();
            let mut sorted = values.clone();
            sorted.sort();
            let mut ranks: Vec<usize> = (0..14).map(|_| (rng.next() as usize) % n).collect();
            ranks.sort_unstable();
            ranks.dedup();
            let mut v = values.clone();
            select_ranks(&mut v, 0, &ranks);
            for r in ranks {
                assert_eq!(v[r], sorted[r], "n = {n}, rank {r}");
            }
        }
    }
}
