//! `verify`: does a stored tensor look like it was drawn from a scheme, for its shape?
//!
//! The scheme is resolved against each tensor's stored shape exactly as `gen` resolves it
//! ([`SchemeSpec::resolve`]), then the values are checked against the resulting law:
//!
//! * **elementwise laws** (normal, uniform, truncated normal): the sample mean and
//!   variance in standard errors ([`check::moment_z_scores`], with the law's exact fourth
//!   moment), fail when |z| > [`Z_LIMIT`]; bounds of uniform and truncated laws (every
//!   value within `[low, high]`, allowing the dtype's rounding); a Kolmogorov–Smirnov
//!   test against the law *as rounded to the stored dtype*, fail when p < [`KS_P_LIMIT`].
//! * **constant laws** (zeros, ones, constant, identity): every value must equal the
//!   expected one rounded to the dtype.
//! * **orthogonal**: max |G/gain² − I| ≤ [`check::orthogonality_tolerance`], G the Gram
//!   matrix of the smaller side of the 2-D view [`fan::matrix_view`].
//! * **symmetry** (random laws, rank ≥ 2): no two rows and no two columns of the 2-D view
//!   may be identical. Skipped when rows or columns are so short that a repeat could
//!   happen by chance (expected chance repeats > [`CHANCE_REPEATS_LIMIT`]).
//!
//! Why these thresholds: |z| > 5 has probability 5.7e-7 per moment under the law, and
//! p < 1e-6 is by definition a 1e-6 chance (less for rounded, hence discrete, data, for
//! which the Kolmogorov distribution is conservative), so a correct tensor fails with
//! probability about 2e-6. The power is ample where it matters: a 10% error in scale at
//! n = 100,000 normal values moves the variance by 21%, i.e. z ≈ 0.21·√(n/2) ≈ 47, and
//! the KS distance to about 0.023, √n·D ≈ 7.3 (p ≈ 1e-46). Each tensor's report states
//! the smallest variance error its n can detect, and says so when n is too small for
//! the checks to mean much ([`WEAK_RESOLUTION`]).
//!
//! Rounding: values in f16/bf16 (and f32) are rounded, so their empirical distribution
//! is discrete and, for n in the millions, rounding alone would inflate the KS distance
//! against the continuous law. The test here compares with the law of the *rounded*
//! value instead: each distinct stored value v carries the probability F(hi) − F(lo) of
//! its rounding interval [lo, hi] (half-way to its neighbours in the dtype), so the CDF
//! of the rounded law is evaluated exactly at the interval edges of every stored value.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::check;
use crate::check::stats::Stats;
use crate::error::{Error, Result};
use crate::inspect::load::{self, Entry, LoadedTensor};
use crate::law::{Distribution, Theory};
use crate::scheme::SchemeSpec;
use crate::tensor::dtype::DType;
use crate::tensor::fan::{self, Layout};
use crate::text::escape_control;
use crate::text::num;

mod outcome;
mod repeats;

pub use outcome::{Check, Status};
pub use repeats::CHANCE_REPEATS_LIMIT;

use crate::check::ks::{distinct_counts, ks_rounded};
use repeats::{collision_probability, repeat_checks};

pub use crate::check::VERIFY_Z_LIMIT as Z_LIMIT;
/// Smallest Kolmogorov–Smirnov p-value a consistent tensor may show.
pub const KS_P_LIMIT: f64 = 1e-6;
/// When the smallest detectable relative variance error exceeds this, the report says
/// that n is too small for the checks to tell nearby schemes apart.
pub const WEAK_RESOLUTION: f64 = 0.2;

/// Summary statistics of the stored values.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Observed {
    pub mean: f64,
    /// Population variance (divides by n).
    pub variance: f64,
    pub min: f64,
    pub max: f64,
}

/// The checks of one tensor against the scheme.
#[derive(Debug, Clone, Serialize)]
pub struct TensorVerdict {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub count: usize,
    /// The law the scheme resolves to for this shape.
    pub distribution: Distribution,
    pub fan_in: Option<usize>,
    pub fan_out: Option<usize>,
    pub receptive_field: Option<usize>,
    pub gain: Option<f64>,
    pub fan: Option<f64>,
    pub theory: Option<Theory>,
    pub observed: Observed,
    /// Smallest relative variance error the variance check would flag at this n.
    pub variance_resolution: Option<f64>,
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
    pub consistent: bool,
}

impl TensorVerdict {
    /// The first failed check, which is the reason given for the verdict.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Fail)
    }
}

/// A tensor of the file that was not checked, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// The answer for a whole file.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub file: String,
    /// The scheme in canonical form (`he-normal:mode=fan-out`).
    pub scheme: String,
    pub layout: Layout,
    /// True when every checked tensor is consistent with the scheme.
    pub consistent: bool,
    /// For an inconsistent file: `NOT consistent with S: TENSOR: <first failed check>`.
    pub reason: Option<String>,
    pub tensors: Vec<TensorVerdict>,
    pub skipped: Vec<Skipped>,
    /// The thresholds the checks used.
    pub limits: Limits,
}

/// The fixed thresholds, recorded in every JSON report.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Limits {
    pub z: f64,
    pub ks_p: f64,
    pub chance_repeats: f64,
}

const LIMITS: Limits = Limits {
    z: Z_LIMIT,
    ks_p: KS_P_LIMIT,
    chance_repeats: CHANCE_REPEATS_LIMIT,
};

/// Memory `verify` holds per value of the tensor it checks, at its peak: the values
/// (8 bytes), a sorted copy for the Kolmogorov–Smirnov test (8) and the distinct values
/// with their counts (at most 16). The other checks hold less: the orthogonality check a
/// copy and a Gram matrix of at most one value per value (16), the repeat checks one
/// hash and index per row or column (at most 8).
pub const BYTES_PER_VALUE: u64 = 32;

/// Checks every float tensor of `path` (or only `only`) against `scheme` resolved for
/// its stored shape under `layout`. Tensors the scheme cannot apply to (a 1-D bias for
/// he-normal) and non-float tensors are listed as skipped; when nothing is left to
/// check, that is an error. With `only`, a scheme that does not apply is an error.
/// Tensors are loaded one at a time, so memory holds one tensor, and the memory budget
/// is asked for [`BYTES_PER_VALUE`] per value before each is read.
pub fn verify_file(
    path: &Path,
    scheme: &SchemeSpec,
    layout: Layout,
    only: Option<&str>,
) -> Result<Verification> {
    let mut tensors = Vec::new();
    let mut skipped = Vec::new();
    let purpose = load::Purpose {
        reader: "verify",
        bytes_per_value: BYTES_PER_VALUE,
    };
    load::visit_tensors_for(path, only, purpose, |entry| {
        match entry {
            Entry::Other(t) => skipped.push(Skipped {
                name: t.name,
                reason: format!("holds {} values, not floats", t.holds),
            }),
            Entry::Float(t) => match verify_tensor(&t, scheme, layout) {
                Ok(verdict) => tensors.push(verdict),
                Err(e @ (Error::NotApplicable { .. } | Error::Shape { .. })) if only.is_none() => {
                    skipped.push(Skipped {
                        name: t.name,
                        reason: e.to_string(),
                    })
                }
                Err(e) => return Err(e),
            },
        }
        Ok(())
    })?;
    if tensors.is_empty() {
        let why = crate::text::list(skipped.iter().map(|s| format!("{}: {}", s.name, s.reason)));
        return Err(Error::Usage(format!(
            "'{}': nothing to check against {scheme}: every tensor was skipped ({why})",
            path.display(),
        )));
    }
    Ok(conclude(
        path.display().to_string(),
        scheme,
        layout,
        tensors,
        skipped,
    ))
}

/// Checks values already in memory (the Python package's arrays) as [`verify_file`]
/// checks one tensor of a file; `source` names them in the report.
pub fn verify_values(
    tensor: &LoadedTensor,
    scheme: &SchemeSpec,
    layout: Layout,
    source: &str,
) -> Result<Verification> {
    let verdict = verify_tensor(tensor, scheme, layout)?;
    Ok(conclude(
        source.to_string(),
        scheme,
        layout,
        vec![verdict],
        Vec::new(),
    ))
}

/// The answer for the checked tensors: consistent when none failed, else the first
/// failure as the reason.
fn conclude(
    file: String,
    scheme: &SchemeSpec,
    layout: Layout,
    tensors: Vec<TensorVerdict>,
    skipped: Vec<Skipped>,
) -> Verification {
    let scheme_text = scheme.to_string();
    let reason = tensors.iter().find_map(|t| {
        t.first_failure().map(|c| {
            format!(
                "NOT consistent with {scheme_text}: {}: {}",
                escape_control(&t.name),
                c.detail
            )
        })
    });
    Verification {
        file,
        scheme: scheme_text,
        layout,
        consistent: reason.is_none(),
        reason,
        tensors,
        skipped,
        limits: LIMITS,
    }
}

/// Checks one loaded tensor against `scheme` resolved for its shape. Fails with the
/// resolution's error when the scheme does not apply to the shape.
pub fn verify_tensor(
    tensor: &LoadedTensor,
    scheme: &SchemeSpec,
    layout: Layout,
) -> Result<TensorVerdict> {
    let shape = tensor.law_shape()?;
    let resolved = scheme.resolve(&shape, layout)?;
    let values = &tensor.values;
    let stats = Stats::of(values.iter().copied());
    let mut verdict = TensorVerdict {
        name: tensor.name.clone(),
        shape: tensor.shape.clone(),
        dtype: tensor.dtype,
        count: values.len(),
        distribution: resolved.distribution,
        fan_in: resolved.fans.map(|f| f.fan_in),
        fan_out: resolved.fans.map(|f| f.fan_out),
        receptive_field: resolved.fans.map(|f| f.receptive_field),
        gain: resolved.gain,
        fan: resolved.fan,
        theory: resolved.distribution.theory(),
        observed: Observed {
            mean: stats.mean,
            variance: stats.variance(),
            min: stats.min,
            max: stats.max,
        },
        variance_resolution: None,
        checks: Vec::new(),
        notes: Vec::new(),
        consistent: true,
    };
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        verdict.checks.push(Check::new(
            "finite",
            false,
            format!("element {i} is {} (no scheme draws that)", values[i]),
        ));
        verdict.consistent = false;
        return Ok(verdict);
    }
    let view = fan::matrix_view(shape.dims(), layout);
    match resolved.distribution {
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
            let ((rows, cols), taps) = crate::draw::matrix::centre_channels(shape.dims(), layout);
            let centre: Vec<f64> = taps.iter().map(|&p| values[p]).collect();
            crate::draw::orthogonal::products_fit(rows.max(cols), rows.min(cols), 8)?;
            let error = crate::draw::orthogonal::orthogonality_error(&centre, rows, cols, gain);
            verdict.checks.push(orthogonality_check(
                error,
                &format!("the centre tap's {rows}x{cols} channel matrix"),
                tensor.dtype,
            ));
            let mut off_centre = values.to_vec();
            for &p in &taps {
                off_centre[p] = 0.0;
            }
            let mut zeros = exact_values(&off_centre, |_| 0.0, tensor.dtype);
            if zeros.status == Status::Pass {
                zeros.detail = "every value off the centre tap is exactly 0".into();
            }
            verdict.checks.push(zeros);
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
        Distribution::Dirac { gain, groups } => {
            let on = check::stored_value(tensor.dtype, gain);
            let taps = crate::draw::matrix::dirac_positions(shape.dims(), layout, groups);
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
            let split = crate::draw::matrix::OutputBlocks::new(view, blocks, layout);
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
            let kept: Vec<f64> = values.iter().copied().filter(|&x| x != 0.0).collect();
            let kept_stats = Stats::of(kept.iter().copied());
            let normal = Distribution::Normal { mean: 0.0, std };
            check_elementwise(&mut verdict, &kept, &kept_stats, normal, view, 1);
        }
        law => check_elementwise(&mut verdict, values, &stats, law, view, shape.rank()),
    }
    verdict.consistent = verdict.first_failure().is_none();
    Ok(verdict)
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

impl Verification {
    /// The human report: one block per tensor, the skipped tensors, and a last line
    /// `consistent with S` or `NOT consistent with S: <first reason>`.
    pub fn render_human(&self) -> String {
        let mut out = String::new();
        for t in &self.tensors {
            t.write_human(&mut out, &self.scheme, self.layout);
        }
        for s in &self.skipped {
            let _ = writeln!(out, "skipped {}: {}", escape_control(&s.name), s.reason);
        }
        if !self.skipped.is_empty() {
            out.push('\n');
        }
        match &self.reason {
            Some(reason) => {
                let _ = writeln!(out, "{reason}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "consistent with {} ({} tensor{} checked)",
                    self.scheme,
                    self.tensors.len(),
                    if self.tensors.len() == 1 { "" } else { "s" }
                );
            }
        }
        out
    }
}

impl TensorVerdict {
    fn write_human(&self, out: &mut String, scheme: &str, layout: Layout) {
        let shape: Vec<String> = self.shape.iter().map(|d| d.to_string()).collect();
        let shape = if shape.is_empty() {
            "scalar".to_string()
        } else {
            shape.join("x")
        };
        let _ = writeln!(
            out,
            "{}: {shape} {}, {} values; {scheme} → {}",
            escape_control(&self.name),
            self.dtype,
            self.count,
            self.distribution.describe()
        );
        if let (Some(fi), Some(fo)) = (self.fan_in, self.fan_out) {
            let _ = write!(out, "  fans (layout {layout}): fan_in {fi}, fan_out {fo}");
            if let Some(fan) = self.fan {
                let _ = write!(out, "; scaled by {fan}");
            }
            if let Some(gain) = self.gain {
                let _ = write!(out, "; gain {}", num(gain));
            }
            out.push('\n');
        }
        for c in &self.checks {
            let status = match c.status {
                Status::Pass => "ok  ",
                Status::Fail => "FAIL",
                Status::Skipped => "skip",
            };
            let _ = writeln!(out, "  {status} {}", c.detail);
        }
        for note in &self.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        let _ = writeln!(
            out,
            "  => {}\n",
            if self.consistent {
                "consistent"
            } else {
                "NOT consistent"
            }
        );
    }
}

#[cfg(test)]
mod tests;
