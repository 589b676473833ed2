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

/// Largest |z| of the sample mean or variance a consistent tensor may show
/// (two-sided probability 5.7e-7 per moment under the law).
pub const Z_LIMIT: f64 = 5.0;
/// Smallest Kolmogorov–Smirnov p-value a consistent tensor may show.
pub const KS_P_LIMIT: f64 = 1e-6;
/// The duplicate-row/column check runs only when fewer than this many repeats are
/// expected by chance under the law (so a repeat it finds is not a coincidence).
pub const CHANCE_REPEATS_LIMIT: f64 = 1e-6;
/// When the smallest detectable relative variance error exceeds this, the report says
/// that n is too small for the checks to tell nearby schemes apart.
pub const WEAK_RESOLUTION: f64 = 0.2;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Not run, and why is in the detail (too few values, rows too short ...).
    Skipped,
}

/// One check of one tensor, with every number it used.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// `finite`, `mean`, `variance`, `bounds`, `ks`, `values`, `orthogonality`, `rows`,
    /// `columns`.
    pub check: &'static str,
    pub status: Status,
    /// The measured quantity (mean, variance, min/max, KS distance, error, count).
    pub observed: Option<f64>,
    /// What the law says it should be.
    pub expected: Option<f64>,
    /// The test statistic: z for mean and variance, the p-value for KS.
    pub statistic: Option<f64>,
    /// The limit the statistic (or the observed value) is held to.
    pub limit: Option<f64>,
    /// The line the human report prints.
    pub detail: String,
}

impl Check {
    fn new(check: &'static str, passed: bool, detail: String) -> Check {
        Check {
            check,
            status: if passed { Status::Pass } else { Status::Fail },
            observed: None,
            expected: None,
            statistic: None,
            limit: None,
            detail,
        }
    }

    fn skipped(check: &'static str, detail: String) -> Check {
        Check {
            status: Status::Skipped,
            ..Check::new(check, true, detail)
        }
    }

    fn numbers(
        mut self,
        observed: f64,
        expected: Option<f64>,
        statistic: Option<f64>,
        limit: f64,
    ) -> Check {
        self.observed = Some(observed);
        self.expected = expected;
        self.statistic = statistic;
        self.limit = Some(limit);
        self
    }
}

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
    let scheme_text = scheme.to_string();
    if tensors.is_empty() {
        let why = crate::text::list(skipped.iter().map(|s| format!("{}: {}", s.name, s.reason)));
        return Err(Error::Usage(format!(
            "'{}': nothing to check against {scheme_text}: every tensor was skipped ({why})",
            path.display(),
        )));
    }
    let reason = tensors.iter().find_map(|t| {
        t.first_failure().map(|c| {
            format!(
                "NOT consistent with {scheme_text}: {}: {}",
                escape_control(&t.name),
                c.detail
            )
        })
    });
    Ok(Verification {
        file: path.display().to_string(),
        scheme: scheme_text,
        layout,
        consistent: reason.is_none(),
        reason,
        tensors,
        skipped,
        limits: LIMITS,
    })
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
        Distribution::Orthogonal { gain } => {
            let error = crate::draw::orthogonal::orthogonality_error(values, view.0, view.1, gain);
            let tolerance = check::orthogonality_tolerance(tensor.dtype);
            verdict.checks.push(
                Check::new(
                    "orthogonality",
                    error <= tolerance,
                    format!(
                        "max |G/gain² − I| = {error:.3e} on the {}x{} view, G the Gram matrix of its smaller side (limit {tolerance:.0e} for {})",
                        view.0, view.1, tensor.dtype
                    ),
                )
                .numbers(error, Some(0.0), None, tolerance),
            );
            let entry_law = Distribution::orthogonal_entries(gain, view);
            let counts = distinct_counts(values, tensor.dtype);
            let p = collision_probability(&counts, &entry_law, tensor.dtype, values.len());
            drop(counts);
            verdict.checks.extend(repeat_checks(values, view, p));
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

/// The distinct stored values in increasing order with how often each occurs (−0 and
/// +0 counted together).
fn distinct_counts(values: &[f64], dtype: DType) -> Vec<(f64, usize)> {
    if dtype.is_half() {
        // 65,536 possible values: count them by an order-preserving key of their bits
        // (linear time, however many millions of values).
        let bits = |x: f64| match dtype {
            DType::F16 => half::f16::from_f64(x).to_bits(),
            _ => half::bf16::from_f64(x).to_bits(),
        };
        let key = |b: u16| if b & 0x8000 != 0 { !b } else { b | 0x8000 };
        let unkey = |k: u16| if k & 0x8000 != 0 { k & 0x7fff } else { !k };
        let mut counts = vec![0usize; 1 << 16];
        for &x in values {
            counts[usize::from(key(bits(x + 0.0)))] += 1;
        }
        counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0)
            .map(|(k, &c)| {
                let b = unkey(k as u16);
                let v = match dtype {
                    DType::F16 => half::f16::from_bits(b).to_f64(),
                    _ => half::bf16::from_bits(b).to_f64(),
                };
                (v, c)
            })
            .collect()
    } else {
        let mut sorted: Vec<f64> = values.iter().map(|&x| x + 0.0).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        // Sized exactly, so the counts never hold more than 16 bytes per distinct value.
        let distinct = 1 + sorted.windows(2).filter(|w| w[0] != w[1]).count();
        let mut out: Vec<(f64, usize)> = Vec::with_capacity(distinct);
        for x in sorted {
            match out.last_mut() {
                Some((v, c)) if *v == x => *c += 1,
                _ => out.push((x, 1)),
            }
        }
        out
    }
}

/// The interval of reals that round to `v` in `dtype` (round to nearest): half-way to
/// the neighbours on either side. f64 is treated as continuous (the interval is `v`).
fn rounding_interval(v: f64, dtype: DType) -> (f64, f64) {
    fn halfway16(v: f64, to_bits: fn(f64) -> u16, from_bits: fn(u16) -> f64) -> (f64, f64) {
        // IEEE bit patterns are ordered by magnitude within each sign.
        let b = to_bits(v);
        let (down, up) = match b {
            0x0000 | 0x8000 => (0x8001, 0x0001),
            b if b & 0x8000 == 0 => (b - 1, b + 1),
            b => (b + 1, b - 1),
        };
        (0.5 * (v + from_bits(down)), 0.5 * (v + from_bits(up)))
    }
    match dtype {
        DType::F64 => (v, v),
        DType::F32 => {
            let x = v as f32;
            (
                0.5 * (v + f64::from(x.next_down())),
                0.5 * (v + f64::from(x.next_up())),
            )
        }
        DType::F16 => halfway16(
            v,
            |x| half::f16::from_f64(x).to_bits(),
            |b| half::f16::from_bits(b).to_f64(),
        ),
        DType::Bf16 => halfway16(
            v,
            |x| half::bf16::from_f64(x).to_bits(),
            |b| half::bf16::from_bits(b).to_f64(),
        ),
    }
}

/// KS distance between the stored values and `law` rounded to `dtype`, and its p-value.
///
/// Both CDFs are step functions that jump only at representable values, and between two
/// stored values the empirical one is flat while the law's rises; so the supremum is
/// attained at an edge: for each distinct stored value v (rounding interval [lo, hi],
/// empirical CDF F̂ before it and after it) the candidates are |F̂(v⁻) − F(lo)| and
/// |F̂(v) − F(hi)|. For f64 (lo = hi = v) this is the classic statistic, ties included.
fn ks_rounded(counts: &[(f64, usize)], n: usize, law: &Distribution, dtype: DType) -> (f64, f64) {
    let cdf = |x: f64| law.cdf(x).unwrap_or(f64::NAN);
    let nf = n as f64;
    let mut below = 0usize;
    let mut d = 0.0f64;
    for &(v, c) in counts {
        let (lo, hi) = rounding_interval(v, dtype);
        d = d.max((below as f64 / nf - cdf(lo)).abs());
        below += c;
        d = d.max((below as f64 / nf - cdf(hi)).abs());
    }
    (d, kolmogorov_p(d, n))
}

/// P(D_n ≥ d) for the KS statistic of n values, from the asymptotic Kolmogorov
/// distribution with Stephens' finite-n correction λ = (√n + 0.12 + 0.11/√n)·d
/// (M. A. Stephens, JRSS B 32 (1970) 115–122; accurate to about 1% in the tail for
/// n ≥ 5, and the tail is all the threshold looks at). For discrete (rounded) data the
/// test is conservative: the true p-value is at least this large.
pub fn kolmogorov_p(d: f64, n: usize) -> f64 {
    if n == 0 || d <= 0.0 {
        return 1.0;
    }
    let sqrt_n = (n as f64).sqrt();
    let lambda = (sqrt_n + 0.12 + 0.11 / sqrt_n) * d;
    kolmogorov_survival(lambda).clamp(0.0, 1.0)
}

/// Q(λ) = P(K > λ) for the Kolmogorov distribution K.
///
/// Two series for the same function, each used where it converges in a few terms:
/// Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} for λ ≥ 1.18, and
/// Q(λ) = 1 − (√(2π)/λ) Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)} below.
pub fn kolmogorov_survival(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.18 {
        let t = std::f64::consts::PI * std::f64::consts::PI / (8.0 * lambda * lambda);
        let mut sum = 0.0;
        for k in 1..=20 {
            let odd = (2 * k - 1) as f64;
            let term = (-odd * odd * t).exp();
            sum += term;
            if term < 1e-17 * sum {
                break;
            }
        }
        1.0 - (2.0 * std::f64::consts::PI).sqrt() / lambda * sum
    } else {
        let mut sum = 0.0;
        for k in 1..=100 {
            let kf = k as f64;
            let term = (-2.0 * kf * kf * lambda * lambda).exp();
            sum += if k % 2 == 1 { term } else { -term };
            if term < 1e-17 * sum.abs() {
                break;
            }
        }
        2.0 * sum
    }
}

/// The chance that two independent draws of `law`, rounded to `dtype`, are equal:
/// Σ P(v)², estimated as the mean over the stored values of P(value) under the law
/// (unbiased when the values do follow the law; when they do not, it still measures
/// how likely *the law* makes repeats). Never below 1/n, to stay on the cautious side.
fn collision_probability(
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
fn repeat_checks(values: &[f64], (rows, cols): (usize, usize), collision: f64) -> Vec<Check> {
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
mod tests {
    use super::*;

    #[test]
    fn kolmogorov_distribution_matches_published_values() {
        // Q(λ) = P(K > λ): tabulated values (Smirnov 1948; e.g. Marsaglia, Tsang & Wang
        // 2003): the 5% and 1% critical points 1.3581 and 1.6276, Q(1) = 0.269999671.
        let table = [
            (1.0, 0.269_999_671),
            (1.3581, 0.05),
            (1.6276, 0.01),
            (0.5, 0.963_945_2),
        ];
        for (lambda, q) in table {
            let got = kolmogorov_survival(lambda);
            assert!(
                (got - q).abs() < 2e-5 * q.max(0.01) / 0.01,
                "Q({lambda}) = {got}, want {q}"
            );
        }
        // The two series agree where they meet.
        let (below, above) = (kolmogorov_survival(1.18 - 1e-12), kolmogorov_survival(1.18));
        assert!((below - above).abs() < 1e-12, "{below} vs {above}");
        assert_eq!(kolmogorov_survival(0.0), 1.0);
        assert!(kolmogorov_survival(10.0) < 1e-80);
        assert_eq!(kolmogorov_p(0.0, 100), 1.0);
    }

    #[test]
    fn rounding_intervals_reach_half_way_to_the_neighbours() {
        let (lo, hi) = rounding_interval(1.0, DType::F16);
        assert_eq!((lo, hi), (1.0 - 2f64.powi(-12), 1.0 + 2f64.powi(-11)));
        let (lo, hi) = rounding_interval(-1.0, DType::Bf16);
        assert_eq!((lo, hi), (-1.0 - 2f64.powi(-8), -1.0 + 2f64.powi(-9)));
        let (lo, hi) = rounding_interval(1.0, DType::F32);
        assert_eq!((lo, hi), (1.0 - 2f64.powi(-25), 1.0 + 2f64.powi(-24)));
        let (lo, hi) = rounding_interval(0.0, DType::F16);
        assert!(lo < 0.0 && hi > 0.0 && hi == -lo);
        assert_eq!(rounding_interval(0.3, DType::F64), (0.3, 0.3));
    }

    /// The reason for comparing with the *rounded* law: a sample that follows the
    /// bf16-rounded normal perfectly (counts n·P(v) for every bf16 value v) is rejected
    /// by the plain KS test at n = 10⁸ — rounding alone makes D ≈ half a CDF jump — and
    /// accepted by ours.
    #[test]
    fn rounded_data_is_compared_with_the_rounded_law() {
        let law = Distribution::Normal {
            mean: 0.0,
            std: 0.05,
        };
        let n_target = 1e8;
        let mut counts = Vec::new();
        // Every bf16 value in ±7σ, in increasing order.
        let mut v = half::bf16::from_f64(-0.35);
        while v.to_f64() <= 0.35 {
            let x = v.to_f64();
            let (lo, hi) = rounding_interval(x, DType::Bf16);
            let c = (n_target * (law.cdf(hi).unwrap() - law.cdf(lo).unwrap())).round() as usize;
            if c > 0 && !(x == 0.0 && counts.iter().any(|&(y, _)| y == 0.0)) {
                counts.push((x, c));
            }
            let b = v.to_bits();
            v = half::bf16::from_bits(match b {
                0x8000 => 0x0001,
                b if b & 0x8000 != 0 => b - 1,
                b => b + 1,
            });
        }
        let n: usize = counts.iter().map(|&(_, c)| c).sum();
        let (d_rounded, p_rounded) = ks_rounded(&counts, n, &law, DType::Bf16);
        let (d_plain, p_plain) = ks_rounded(&counts, n, &law, DType::F64);
        assert!(p_rounded > 0.5, "rounded: D = {d_rounded}, p = {p_rounded}");
        assert!(p_plain < KS_P_LIMIT, "plain: D = {d_plain}, p = {p_plain}");
    }

    fn tensor(shape: &[usize], values: Vec<f64>) -> LoadedTensor {
        LoadedTensor {
            name: "w".into(),
            shape: shape.to_vec(),
            dtype: DType::F64,
            values,
        }
    }

    fn scheme(text: &str) -> SchemeSpec {
        text.parse().unwrap()
    }

    /// A deterministic U(0,1) stream for test data (SplitMix64).
    fn uniforms(seed: u64, n: usize) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                ((z ^ (z >> 31)) >> 11) as f64 * 2f64.powi(-53)
            })
            .collect()
    }

    #[test]
    fn repeated_rows_and_columns_are_found_only_when_they_cannot_be_chance() {
        // 200x50 uniform(-1, 1) values: consistent; then row 17 := row 3.
        let mut values: Vec<f64> = uniforms(1, 10_000).iter().map(|u| 2.0 * u - 1.0).collect();
        let s = scheme("uniform:low=-1,high=1");
        let ok = verify_tensor(&tensor(&[200, 50], values.clone()), &s, Layout::Io).unwrap();
        assert!(ok.consistent, "{:?}", ok.first_failure());
        let (first, rest) = values.split_at_mut(17 * 50);
        rest[..50].copy_from_slice(&first[3 * 50..4 * 50]);
        let bad = verify_tensor(&tensor(&[200, 50], values.clone()), &s, Layout::Io).unwrap();
        let failure = bad.first_failure().unwrap();
        assert_eq!(failure.check, "rows");
        assert!(
            failure.detail.starts_with("rows 3 and 17 are identical"),
            "{}",
            failure.detail
        );
        // A 10000x1 view has one-value rows: repeats there would prove nothing, so the
        // row check is skipped rather than run.
        let column = verify_tensor(&tensor(&[10_000, 1], values), &s, Layout::Io).unwrap();
        let rows = column.checks.iter().find(|c| c.check == "rows").unwrap();
        assert_eq!(rows.status, Status::Skipped, "{}", rows.detail);
    }

    #[test]
    fn constant_and_identity_laws_need_exact_values() {
        let eye = vec![2.0, 0.0, 0.0, 0.0, 2.0, 0.0];
        let v = verify_tensor(
            &tensor(&[2, 3], eye.clone()),
            &scheme("identity:gain=2"),
            Layout::Io,
        )
        .unwrap();
        assert!(v.consistent);
        let mut off = eye;
        off[5] = 1e-9;
        let v = verify_tensor(
            &tensor(&[2, 3], off),
            &scheme("identity:gain=2"),
            Layout::Io,
        )
        .unwrap();
        assert!(
            v.first_failure()
                .unwrap()
                .detail
                .starts_with("element 5 is")
        );
        let v = verify_tensor(
            &tensor(&[3], vec![0.1; 3]),
            &scheme("constant:value=0.1"),
            Layout::Io,
        )
        .unwrap();
        assert!(v.consistent);
        let v = verify_tensor(
            &tensor(&[3], vec![f64::NAN; 3]),
            &scheme("zeros"),
            Layout::Io,
        )
        .unwrap();
        assert_eq!(v.first_failure().unwrap().check, "finite");
    }

    #[test]
    fn small_samples_say_the_checks_are_weak() {
        let values: Vec<f64> = uniforms(2, 20).iter().map(|u| u - 0.5).collect();
        let v = verify_tensor(
            &tensor(&[20], values),
            &scheme("uniform:low=-0.5,high=0.5"),
            Layout::Io,
        )
        .unwrap();
        assert!(v.variance_resolution.unwrap() > WEAK_RESOLUTION);
        assert!(
            v.notes.iter().any(|n| n.contains("too small")),
            "{:?}",
            v.notes
        );
    }
}
