//! `verify`: does a stored tensor look like it was drawn from a scheme, for its shape?
//!
//! The scheme is resolved against each tensor's stored shape exactly as `gen` resolves it
//! ([`SchemeSpec::resolve`]), then the values are checked against the resulting law:
//!
//! * **elementwise laws** (normal, uniform, truncated normal): the sample mean and
//!   variance in standard errors ([`check::moment_z_scores`](crate::check::moment_z_scores), with the law's exact fourth
//!   moment), fail when |z| > [`Z_LIMIT`]; bounds of uniform and truncated laws (every
//!   value within `[low, high]`, allowing the dtype's rounding); a Kolmogorov–Smirnov
//!   test against the law *as rounded to the stored dtype*, fail when p < [`KS_P_LIMIT`].
//! * **constant laws** (zeros, ones, constant, identity): every value must equal the
//!   expected one rounded to the dtype.
//! * **orthogonal**: max |G/gain² − I| ≤ [`check::orthogonality_tolerance`](crate::check::orthogonality_tolerance), G the Gram
//!   matrix of the smaller side of the 2-D view [`fan::matrix_view`](crate::array::fan::matrix_view).
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

use crate::array::dtype::DType;
use crate::array::fan::Layout;
use crate::check::stats::Stats;
use crate::error::{Error, Result};
use crate::law::{Distribution, Theory};
use crate::output::load::{self, Entry, LoadedTensor};
use crate::scheme::SchemeSpec;
use crate::text::escape_control;
use crate::text::num;

mod laws;
mod outcome;
mod repeats;

pub use outcome::{Check, Status};
pub use repeats::CHANCE_REPEATS_LIMIT;

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
    let mut verdict = TensorVerdict::unchecked(tensor, &resolved, &stats);
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        verdict.checks.push(Check::new(
            "finite",
            false,
            format!("element {i} is {} (no scheme draws that)", values[i]),
        ));
        verdict.consistent = false;
        return Ok(verdict);
    }
    laws::check_law(
        &mut verdict,
        tensor,
        &stats,
        &shape,
        layout,
        resolved.distribution,
    )?;
    verdict.consistent = verdict.first_failure().is_none();
    Ok(verdict)
}

impl TensorVerdict {
    /// The verdict before any check: what the tensor holds and what the resolved law
    /// says it should.
    fn unchecked(
        tensor: &LoadedTensor,
        resolved: &crate::scheme::Resolved,
        stats: &Stats,
    ) -> TensorVerdict {
        TensorVerdict {
            name: tensor.name.clone(),
            shape: tensor.shape.clone(),
            dtype: tensor.dtype,
            count: tensor.values.len(),
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
        }
    }
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
