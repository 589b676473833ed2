//! A mergeable accumulator of count, mean, variance, min and max.
//!
//! Blocks are summarized independently (on any thread) and merged in block order with
//! Chan, Golub & LeVeque's pairwise update, so the result is the same for every thread
//! count and accurate for billions of elements (no catastrophic sum of squares).

use serde::Serialize;

use crate::array::dtype::Element;

/// Independent accumulator lanes in [`Stats::of_slice`]. Sixteen f64 lanes are two AVX-512
/// or four AVX2 registers per sum: enough independent add chains to hide the adder's
/// latency, which is what limits this loop, not the arithmetic.
const LANES: usize = 16;

crate::simd::dispatched! {
    /// The body of [`Stats::of_slice`], compiled per vector level (see [`crate::simd`]).
    fn of_slice_lanes<E: Element>(values: &[E]) -> Stats = of_slice_body;
}

#[inline(always)]
fn of_slice_body<E: Element>(values: &[E]) -> Stats {
    let Some(first) = values.first() else {
        return Stats::default();
    };
    let shift = first.to_f64();
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    let mut s1 = [0.0f64; LANES];
    let mut s2 = [0.0f64; LANES];
    let mut lo = [shift; LANES];
    let mut hi = [shift; LANES];
    for chunk in chunks {
        for lane in 0..LANES {
            let x = chunk[lane].to_f64();
            let d = x - shift;
            s1[lane] += d;
            s2[lane] += d * d;
            // Compare-and-select (not f64::min) so it maps onto vector min/max.
            lo[lane] = if x < lo[lane] { x } else { lo[lane] };
            hi[lane] = if x > hi[lane] { x } else { hi[lane] };
        }
    }
    let mut sum_d = s1.iter().sum::<f64>();
    let mut sum_d2 = s2.iter().sum::<f64>();
    let mut min = lo.iter().copied().fold(f64::INFINITY, f64::min);
    let mut max = hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for x in tail.iter().map(|x| x.to_f64()) {
        let d = x - shift;
        sum_d += d;
        sum_d2 += d * d;
        min = min.min(x);
        max = max.max(x);
    }
    let n = values.len() as f64;
    let mean_d = sum_d / n;
    Stats {
        count: values.len() as u64,
        mean: shift + mean_d,
        m2: (sum_d2 - sum_d * mean_d).max(0.0),
        min,
        max,
    }
}

/// Summary statistics of the values actually stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    pub count: u64,
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    #[serde(skip)]
    pub m2: f64,
    pub min: f64,
    pub max: f64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            count: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Stats {
    /// Statistics of a slice (two passes: exact mean first, then deviations).
    pub fn of(values: impl Iterator<Item = f64> + Clone) -> Stats {
        let mut count = 0u64;
        let mut sum = 0.0;
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for x in values.clone() {
            count += 1;
            sum += x;
            min = min.min(x);
            max = max.max(x);
        }
        if count == 0 {
            return Stats::default();
        }
        let mean = sum / count as f64;
        let m2 = values.map(|x| (x - mean) * (x - mean)).sum();
        Stats {
            count,
            mean,
            m2,
            min,
            max,
        }
    }

    /// Statistics of one block of stored values in a single pass, in lanes the compiler
    /// can vectorize.
    ///
    /// Sums are taken of `x − c` and `(x − c)²` with the shift `c` = the first value
    /// (same scale as the data, so no cancellation), in `LANES` (16) independent lanes
    /// combined in a fixed order: deterministic, and the same on every CPU whatever its
    /// vector width (the lane count is fixed; only the instructions differ).
    pub fn of_slice<E: Element>(values: &[E]) -> Stats {
        of_slice_lanes(values)
    }
    /// Folds `other` into `self` as if their values had been seen one after another.
    pub fn merge(&mut self, other: &Stats) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let n1 = self.count as f64;
        let n2 = other.count as f64;
        let n = n1 + n2;
        let delta = other.mean - self.mean;
        self.mean += delta * n2 / n;
        self.m2 += other.m2 + delta * delta * n1 * n2 / n;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Population variance (divides by n): the variance of the tensor as a set of values.
    pub fn variance(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.m2 / self.count as f64
        }
    }

    pub fn std(&self) -> f64 {
        self.variance().sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_equals_whole() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| ((i * 37) % 101) as f64 * 0.1 - 3.0)
            .collect();
        let whole = Stats::of(xs.iter().copied());
        let mut merged = Stats::default();
        for chunk in xs.chunks(77) {
            merged.merge(&Stats::of(chunk.iter().copied()));
        }
        assert_eq!(merged.count, whole.count);
        assert!((merged.mean - whole.mean).abs() < 1e-12);
        assert!((merged.variance() - whole.variance()).abs() < 1e-12);
        assert_eq!((merged.min, merged.max), (whole.min, whole.max));
    }

    #[test]
    fn slice_path_matches_iterator_path() {
        let xs: Vec<f32> = (0..1003)
            .map(|i| ((i * 7919) % 1013) as f32 * 0.01 - 5.0)
            .collect();
        let a = Stats::of(xs.iter().map(|&x| f64::from(x)));
        let b = Stats::of_slice(&xs);
        assert_eq!((a.count, a.min, a.max), (b.count, b.min, b.max));
        assert!((a.mean - b.mean).abs() < 1e-12 && (a.m2 - b.m2).abs() < 1e-9 * a.m2);
        assert_eq!(Stats::of_slice::<f64>(&[]), Stats::default());
    }

    #[test]
    fn known_values() {
        let s = Stats::of([1.0, 2.0, 3.0, 4.0].into_iter());
        assert_eq!(s.mean, 2.5);
        assert_eq!(s.variance(), 1.25);
        assert_eq!((s.min, s.max), (1.0, 4.0));
    }
}
