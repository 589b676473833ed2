//! Symmetry checks: identical rows or columns of a tensor's 2-D view, which a random law
//! essentially never produces, and the chance that it does (to skip the check where
//! short rows make repeats likely).

use super::outcome::Check;
use crate::check::ks::rounding_interval;

/// The duplicate-row/column check runs only when fewer than this many repeats are
/// expected by chance under the law (so a repeat it finds is not a coincidence).
pub const CHANCE_REPEATS_LIMIT: f64 = 1e-6;

use crate::array::dtype::DType;
use crate::law::Distribution;

/// The chance that two independent draws of `law`, rounded to `dtype`, are equal:
/// Σ P(v)², estimated as the mean over the stored values of P(value) under the law
/// (unbiased when the values do follow the law; when they do not, it still measures
/// how likely *the law* makes repeats). Never below 1/n, to stay on the cautious side.
pub(super) fn collision_probability(
    counts: &[(f64, usize)],
    law: &Distribution,
    dtype: DType,
    n: usize,
) -> f64 {
    let nf = n as f64;
    let mass: f64 = counts
        .iter()
        .map(|&(v, c)| {
            let (lo, hi) = rounding_interval(v, dtype);
            let p = law.cdf(hi).unwrap_or(1.0) - law.cdf(lo).unwrap_or(0.0);
            c as f64 / nf * p
        })
        .sum();
    mass.max(1.0 / nf)
}

/// Duplicate rows and duplicate columns of the row-major `rows x cols` view: a random
/// law essentially never repeats a whole row or column, so a repeat means the units of
/// the layer start identical (broken symmetry breaking), or data was copied.
pub(super) fn repeat_checks(
    values: &[f64],
    (rows, cols): (usize, usize),
    collision: f64,
) -> Vec<Check> {
    vec![
        repeat_check("rows", values, rows, cols, collision, |i, j| i * cols + j),
        repeat_check("columns", values, cols, rows, collision, |i, j| {
            j * cols + i
        }),
    ]
}

/// Looks for two identical lines among `count` lines of `len` values each, where
/// `at(line, k)` is the index of a line's k-th value.
fn repeat_check(
    what: &'static str,
    values: &[f64],
    count: usize,
    len: usize,
    collision: f64,
    at: impl Fn(usize, usize) -> usize,
) -> Check {
    let pairs = count as f64 * (count as f64 - 1.0) / 2.0;
    let chance = pairs * collision.powf(len as f64);
    if count < 2 {
        return Check::skipped(what, format!("only one of the {what}"));
    }
    if chance > CHANCE_REPEATS_LIMIT {
        return Check::skipped(
            what,
            format!(
                "{what} of {len} values are too short to tell a repeat from chance ({chance:.1e} expected)"
            ),
        );
    }
    // FNV-1a over the bit patterns (−0 folded into +0), then a full comparison of lines
    // whose hashes agree.
    let hash = |line: usize| {
        (0..len).fold(0xcbf2_9ce4_8422_2325u64, |h, k| {
            (h ^ (values[at(line, k)] + 0.0).to_bits()).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let same = |a: usize, b: usize| (0..len).all(|k| values[at(a, k)] == values[at(b, k)]);
    // Lines sorted by hash (16 bytes per line, less than a hash map's entries): within a
    // run of equal hashes the lines are in order, and each is compared with the earlier
    // distinct ones of its run.
    let mut keyed: Vec<(u64, usize)> = (0..count).map(|line| (hash(line), line)).collect();
    keyed.sort_unstable();
    let mut first: Option<(usize, usize)> = None;
    let mut repeats = 0usize;
    let mut distinct: Vec<usize> = Vec::new();
    for run in keyed.chunk_by(|a, b| a.0 == b.0) {
        distinct.clear();
        for &(_, line) in run {
            match distinct.iter().find(|&&earlier| same(earlier, line)) {
                Some(&earlier) => {
                    repeats += 1;
                    if first.is_none_or(|(_, b)| line < b) {
                        first = Some((earlier, line));
                    }
                }
                None => distinct.push(line),
            }
        }
    }
    let detail = match first {
        None => format!("no two of the {count} {what} are identical"),
        Some((a, b)) => format!(
            "{what} {a} and {b} are identical ({repeats} of the {count} {what} repeat an earlier one): symmetry is not broken, which no random law does"
        ),
    };
    let mut check = Check::new(what, first.is_none(), detail);
    check.observed = Some(repeats as f64);
    check.expected = Some(0.0);
    check.limit = Some(CHANCE_REPEATS_LIMIT);
    check
}
