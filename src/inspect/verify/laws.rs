//! The checks per law: what `verify` asks of the values for each kind of distribution
//! (see the module documentation of `verify` for the thresholds and why).

use super::repeats::{collision_probability, repeat_checks};
use super::{Check, KS_P_LIMIT, Status, TensorVerdict, WEAK_RESOLUTION, Z_LIMIT};
use crate::array::dtype::DType;
use crate::array::fan::{self, Layout};
use crate::array::shape::Shape;
use crate::check;
use crate::check::ks::{distinct_counts, ks_rounded};
use crate::check::stats::Stats;
use crate::error::Result;
use crate::law::{Distribution, Theory};
use crate::output::load::LoadedTensor;
use crate::text::num;

/// Adds to `verdict` the checks of `law` on the tensor's values (finite, as the caller
/// checked), for its stored `shape` under `layout`.
pub(super) fn check_law(
    verdict: &mut TensorVerdict,
    tensor: &LoadedTensor,
    stats: &Stats,
    shape: &Shape,
    layout: Layout,
    law: Distribution,
) -> Result<()> {
    let values = &tensor.values;
    let view = fan::matrix_view(shape.dims(), layout);
    match law {
        Distribution::Constant { value } => {
            let expected = check::stored_value(tensor.dtype, value);
            verdict
                .checks
                .push(exact_values(values, |_| expected, tensor.dtype));
            if shape.rank() >= 2 {
                verdict.notes.push(
                    "identical rows and columns are what a constant law gives (symmetry is not broken)"
                        .into(),
                );
            }
        }
        Distribution::Identity { gain } => {
            let on = check::stored_value(tensor.dtype, gain);
            let cols = view.1;
            verdict.checks.push(exact_values(
                values,
                |i| if i / cols == i % cols { on } else { 0.0 },
                tensor.dtype,
            ));
        }
        Distribution::DeltaOrthogonal { gain } => {
            delta_orthogonal(verdict, tensor, shape, layout, gain)?;
        }
        Distribution::LstmBias { forget } => {
            let on = check::stored_value(tensor.dtype, forget);
            let n = values.len();
            verdict.checks.push(exact_values(
                values,
                |i| if (n / 4..n / 2).contains(&i) { on } else { 0.0 },
                tensor.dtype,
            ));
        }
        Distribution::S4dRealLog { last } => {
            // The values the native sampler computes: our own ln in f64, rounded once
            // (16-bit types: through f32), so the comparison is exact.
            let dtype = tensor.dtype;
            let table: Vec<f64> = (0..last.max(1))
                .map(|n| drawn_value(dtype, crate::draw::special::ln_f64((n + 1) as f64)))
                .collect();
            verdict.checks.push(exact_values(
                values,
                |i| table[i % table.len()],
                tensor.dtype,
            ));
        }
        Distribution::Dirac { gain, groups } => {
            let on = check::stored_value(tensor.dtype, gain);
            let taps = crate::array::geometry::dirac_positions(shape.dims(), layout, groups);
            verdict.checks.push(exact_values(
                values,
                |i| {
                    if taps.binary_search(&i).is_ok() {
                        on
                    } else {
                        0.0
                    }
                },
                tensor.dtype,
            ));
        }
        Distribution::Orthogonal { gain, blocks } => {
            orthogonal(verdict, tensor, view, layout, gain, blocks)?;
        }
        Distribution::Sparse { std, zeros, .. } => {
            verdict.checks.push(sparse_zero_counts(
                values,
                shape.dims(),
                layout,
                zeros,
                std,
                tensor.dtype,
            ));
            // The weights that were kept must be the normal law's (zeros aside).
            let mut kept = Vec::new();
            crate::budget::try_reserve(&mut kept, values.len(), || {
                format!("a copy of the {} values kept by sparse", values.len())
            })?;
            kept.extend(values.iter().copied().filter(|&x| x != 0.0));
            let kept_stats = Stats::of(kept.iter().copied());
            let normal = Distribution::Normal { mean: 0.0, std };
            check_elementwise(verdict, &kept, &kept_stats, normal, view, 1);
        }
        law => check_elementwise(verdict, values, stats, law, view, shape.rank()),
    }
    Ok(())
}

/// `delta-orthogonal`: the centre tap's channel matrix is orthogonal, every other value
/// is exactly 0.
fn delta_orthogonal(
    verdict: &mut TensorVerdict,
    tensor: &LoadedTensor,
    shape: &Shape,
    layout: Layout,
    gain: f64,
) -> Result<()> {
    let values = &tensor.values;
    let ((rows, cols), taps) = crate::array::geometry::centre_channels(shape.dims(), layout);
    let centre: Vec<f64> = taps.iter().map(|&p| values[p]).collect();
    crate::draw::orthogonal::products_fit(rows.max(cols), rows.min(cols), 8)?;
    let error = crate::draw::orthogonal::orthogonality_error(&centre, rows, cols, gain);
    verdict.checks.push(orthogonality_check(
        error,
        &format!("the centre tap's {rows}x{cols} channel matrix"),
        tensor.dtype,
    ));
    let mut off_centre = crate::budget::try_vec(values.len(), 0.0, || {
        format!("a copy of the {} values off the centre tap", values.len())
    })?;
    off_centre.copy_from_slice(values);
    for &p in &taps {
        off_centre[p] = 0.0;
    }
    let mut zeros = exact_values(&off_centre, |_| 0.0, tensor.dtype);
    if zeros.status == Status::Pass {
        zeros.detail = "every value off the centre tap is exactly 0".into();
    }
    verdict.checks.push(zeros);
    Ok(())
}

/// `orthogonal` (in `blocks` blocks of the 2-D `view`): each block orthogonal, and no
/// two rows or columns repeated beyond what the entries' law explains.
fn orthogonal(
    verdict: &mut TensorVerdict,
    tensor: &LoadedTensor,
    view: (usize, usize),
    layout: Layout,
    gain: f64,
    blocks: usize,
) -> Result<()> {
    let values = &tensor.values;
    let split = crate::array::geometry::OutputBlocks::new(view, blocks, layout);
    let block = split.block_dims();
    crate::draw::orthogonal::products_fit(block.0.max(block.1), block.0.min(block.1), 8)?;
    let error = (0..blocks)
        .map(|b| {
            let values = split.take(values, b);
            crate::draw::orthogonal::orthogonality_error(&values, block.0, block.1, gain)
        })
        .fold(0.0, f64::max);
    let on = if blocks > 1 {
        format!(
            "each of the {blocks} {}x{} blocks of the {}x{} view, G the Gram matrix of its smaller side",
            block.0, block.1, view.0, view.1
        )
    } else {
        format!(
            "the {}x{} view, G the Gram matrix of its smaller side",
            view.0, view.1
        )
    };
    verdict
        .checks
        .push(orthogonality_check(error, &on, tensor.dtype));
    let entry_law = Distribution::orthogonal_entries(gain, block);
    let counts = distinct_counts(values, tensor.dtype);
    let p = collision_probability(&counts, &entry_law, tensor.dtype, values.len());
    drop(counts);
    verdict.checks.extend(repeat_checks(values, view, p));
    Ok(())
}

/// Moments, bounds, KS and symmetry for an elementwise random law.
fn check_elementwise(
    verdict: &mut TensorVerdict,
    values: &[f64],
    stats: &Stats,
    law: Distribution,
    view: (usize, usize),
    rank: usize,
) {
    let Some(theory) = law.theory() else { return };
    let dtype = verdict.dtype;
    let n = values.len();
    if n >= 2 {
        let variance = stats.variance();
        let z = check::moment_z_scores(&theory, stats.count, stats.mean, variance);
        let relative = (variance - theory.variance) / theory.variance;
        // The relative error at which |z| reaches Z_LIMIT: the smallest one the check sees.
        let resolution = Z_LIMIT * z.variance_se / theory.variance;
        verdict.variance_resolution = Some(resolution);
        verdict.checks.push(
            Check::new(
                "mean",
                z.mean.abs() <= Z_LIMIT,
                format!(
                    "mean {} vs {}: z = {:+.2} (limit |z| ≤ {Z_LIMIT})",
                    num(stats.mean),
                    num(theory.mean),
                    z.mean
                ),
            )
            .numbers(stats.mean, Some(theory.mean), Some(z.mean), Z_LIMIT),
        );
        verdict.checks.push(
            Check::new(
                "variance",
                z.variance.abs() <= Z_LIMIT,
                format!(
                    "variance {} vs {} ({:+.2}%): z = {:+.2} (limit |z| ≤ {Z_LIMIT})",
                    num(variance),
                    num(theory.variance),
                    relative * 100.0,
                    z.variance
                ),
            )
            .numbers(variance, Some(theory.variance), Some(z.variance), Z_LIMIT),
        );
        verdict.notes.push(format!(
            "sensitivity at n = {n}: a variance off by more than ±{:.2}% (std ±{:.2}%) would be flagged",
            resolution * 100.0,
            ((1.0 + resolution).sqrt() - 1.0) * 100.0
        ));
        if resolution > WEAK_RESOLUTION {
            verdict.notes.push(format!(
                "n = {n} is too small for these checks to tell nearby schemes apart; \
                 \"consistent\" here only rules out gross errors"
            ));
        }
    } else {
        verdict.checks.push(Check::skipped(
            "moments",
            "one value has no variance to compare".into(),
        ));
    }
    if theory.low.is_some() || theory.high.is_some() {
        verdict
            .checks
            .push(bounds_check(values, stats, &theory, dtype));
    }
    let counts = distinct_counts(values, dtype);
    let (d, p) = ks_rounded(&counts, n, &law, dtype);
    let collision = collision_probability(&counts, &law, dtype, n);
    let distinct = counts.len();
    drop(counts);
    verdict.checks.push(
        Check::new(
            "ks",
            p >= KS_P_LIMIT,
            format!(
                "Kolmogorov–Smirnov distance D = {d:.5} to the law rounded to {dtype} ({} distinct values): p = {} (limit p ≥ {KS_P_LIMIT:.0e})",
                distinct,
                num(p)
            ),
        )
        .numbers(d, Some(0.0), Some(p), KS_P_LIMIT),
    );
    if rank >= 2 {
        verdict
            .checks
            .extend(repeat_checks(values, view, collision));
    }
}

/// Whether the largest |G/gain² − I| of an orthogonal construction (`on` says which
/// matrix) is within the dtype's tolerance.
fn orthogonality_check(error: f64, on: &str, dtype: DType) -> Check {
    let tolerance = check::orthogonality_tolerance(dtype);
    Check::new(
        "orthogonality",
        error <= tolerance,
        format!("max |G/gain² − I| = {error:.3e} on {on} (limit {tolerance:.0e} for {dtype})"),
    )
    .numbers(error, Some(0.0), None, tolerance)
}

/// `sparse`: every input unit holds at least `zeros` zeros among its `out` weights, and
/// no more than rounding explains: a normal value rounds to 0 when it is below half the
/// dtype's smallest positive value, which happens a handful of times in f16 at most.
fn sparse_zero_counts(
    values: &[f64],
    dims: &[usize],
    layout: Layout,
    zeros: usize,
    std: f64,
    dtype: DType,
) -> Check {
    let units = crate::draw::sparse::Units::of(dims, layout);
    let counts: Vec<usize> = (0..units.inputs)
        .map(|j| {
            (0..units.out)
                .filter(|&k| values[units.position(j, k)] == 0.0)
                .count()
        })
        .collect();
    let smallest = match dtype {
        DType::F32 => f64::from(f32::from_bits(1)),
        DType::F64 => f64::from_bits(1),
        DType::F16 => half::f16::from_bits(1).to_f64(),
        DType::Bf16 => half::bf16::from_bits(1).to_f64(),
    };
    // P(|x| < smallest/2) for x ~ N(0, std²), times the kept weights.
    let per_value = smallest / (std * (2.0 * std::f64::consts::PI).sqrt());
    let kept = (units.inputs * units.out.saturating_sub(zeros)) as f64;
    let expected_extra = kept * per_value;
    let allowed = (expected_extra + 5.0 * expected_extra.sqrt() + 1.0).floor() as usize;
    let extra: usize = counts.iter().map(|&c| c.saturating_sub(zeros)).sum();
    let short = counts.iter().position(|&c| c < zeros);
    let (passed, detail) = match short {
        Some(j) => (
            false,
            format!(
                "input unit {j} has {} zeros among its {} weights, {zeros} expected",
                counts[j], units.out
            ),
        ),
        None if extra > allowed => (
            false,
            format!(
                "{extra} zeros beyond the {zeros} per input unit, more than rounding to {dtype} explains ({allowed})"
            ),
        ),
        None => (
            true,
            format!(
                "each of the {} input units has {zeros} of its {} weights 0{}",
                units.inputs,
                units.out,
                if extra > 0 {
                    format!(" ({extra} more rounded to 0)")
                } else {
                    String::new()
                }
            ),
        ),
    };
    let mut check = Check::new("zeros", passed, detail);
    check.observed = Some(extra as f64);
    check.expected = Some(0.0);
    check
}

fn bounds_check(values: &[f64], stats: &Stats, theory: &Theory, dtype: DType) -> Check {
    let slack = |b: f64| b.abs() * check::rounding_slack(dtype);
    let low = theory.low.unwrap_or(f64::NEG_INFINITY);
    let high = theory.high.unwrap_or(f64::INFINITY);
    let (lo_limit, hi_limit) = (low - slack(low), high + slack(high));
    let outside = values
        .iter()
        .filter(|&&x| x < lo_limit || x > hi_limit)
        .count();
    let range = format!("[{}, {}]", num(low), num(high));
    let detail = if outside == 0 {
        format!(
            "all values in {range} (min {}, max {})",
            num(stats.min),
            num(stats.max)
        )
    } else if stats.max > hi_limit {
        format!(
            "maximum {} is above the upper bound {} ({outside} values outside {range})",
            num(stats.max),
            num(high)
        )
    } else {
        format!(
            "minimum {} is below the lower bound {} ({outside} values outside {range})",
            num(stats.min),
            num(low)
        )
    };
    let mut check = Check::new("bounds", outside == 0, detail);
    check.observed = Some(outside as f64);
    check.expected = Some(0.0);
    check
}

/// `x` as the native stream stores a value computed in f64: rounded once to f32 or f64,
/// the 16-bit types through f32.
fn drawn_value(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F32 => f64::from(x as f32),
        DType::F64 => x,
        DType::F16 => half::f16::from_f32(x as f32).to_f64(),
        DType::Bf16 => half::bf16::from_f32(x as f32).to_f64(),
    }
}

/// Every value must equal `expected(i)` exactly (both already rounded to the dtype).
fn exact_values(values: &[f64], expected: impl Fn(usize) -> f64, dtype: DType) -> Check {
    let mut wrong = values
        .iter()
        .enumerate()
        .filter(|&(i, &x)| x != expected(i));
    let first = wrong.next();
    let count = first.map_or(0, |_| 1 + wrong.count());
    let detail = match first {
        None => {
            let constant = values.iter().all(|&x| x == expected(0));
            if constant {
                format!("every value is exactly {} ({dtype})", num(expected(0)))
            } else {
                format!("every value is exactly as the construction gives ({dtype})")
            }
        }
        Some((i, &x)) => format!(
            "element {i} is {} where {} is expected ({count} of {} values differ)",
            num(x),
            num(expected(i)),
            values.len()
        ),
    };
    let mut check = Check::new("values", count == 0, detail);
    check.observed = Some(count as f64);
    check.expected = Some(0.0);
    check
}
