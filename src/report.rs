//! The variance report: what each tensor was meant to look like next to what was drawn.
//!
//! For elementwise laws the check is statistical: the sample mean and variance are
//! compared with their theoretical values in units of their standard errors
//! (SE(mean) = σ/√n; Var(s²) = (μ₄ − σ⁴·(n−3)/(n−1))/n), and a tensor is "within
//! sampling error" when both |z| ≤ [`Z_LIMIT`]. Orthogonal matrices are checked by
//! max |WᵀW/g² − I|; constant tensors get a plain warning about symmetry.

use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::distribution::{Distribution, Theory};
use crate::dtype::DType;
use crate::generate::Generated;
use crate::rng::RngMode;
use crate::stats::Stats;
use crate::tensor::{ResolvedTensor, TensorMeta};

/// How many standard errors a drawn moment may stray before the report flags it.
/// Two moments per tensor at 4σ: a false alarm about once in 8,000 tensors.
pub const Z_LIMIT: f64 = 4.0;

/// Largest acceptable max |WᵀW/g² − I| for a stored orthogonal matrix.
pub fn orthogonality_tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1e-5,
        DType::F64 => 1e-10,
        // Rounding alone puts Gram entries off by up to about half a unit in the last
        // place (2^-11, 2^-8); measured at 512²: 9.4e-5 (f16), 7.7e-4 (bf16).
        DType::F16 => 2e-3,
        DType::Bf16 => 1.6e-2,
    }
}

/// What was drawn.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Observed {
    pub count: u64,
    pub mean: f64,
    pub variance: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

/// The comparison for one tensor.
#[derive(Debug, Clone, Serialize)]
pub struct TensorReport {
    /// Where the data went: a path or `-` for stdout.
    pub output: String,
    #[serde(flatten)]
    pub meta: TensorMeta,
    pub theory: Option<Theory>,
    pub observed: Observed,
    /// (drawn − theory) / theory for the variance.
    pub variance_rel_error: Option<f64>,
    /// Drawn minus theoretical variance, in standard errors.
    pub variance_z: Option<f64>,
    /// Drawn minus theoretical mean, in standard errors.
    pub mean_z: Option<f64>,
    pub orthogonality_error: Option<f64>,
    /// True when the tensor matches its law within sampling (or rounding) error.
    pub consistent: bool,
    /// Plain-language remarks (symmetry, orthogonality, bounds).
    pub notes: Vec<String>,
}

impl TensorReport {
    pub fn new(tensor: &ResolvedTensor, generated: &Generated, output: String) -> Self {
        let s = generated.stats;
        let observed = Observed {
            count: s.count,
            mean: s.mean,
            variance: s.variance(),
            std: s.std(),
            min: s.min,
            max: s.max,
        };
        let mut report = TensorReport {
            output,
            meta: tensor.meta(),
            theory: tensor.resolved.distribution.theory(),
            observed,
            variance_rel_error: None,
            variance_z: None,
            mean_z: None,
            orthogonality_error: generated.orthogonality_error,
            consistent: true,
            notes: Vec::new(),
        };
        match tensor.resolved.distribution {
            Distribution::Constant { value } => report.constant_notes(tensor, value, &s),
            Distribution::Orthogonal { gain } => {
                // Every orthogonal matrix has the same sum of squares, gain²·min(r, c),
                // so its mean square is exactly gain²/max(r, c).
                let (rows, cols) = crate::generate::matrix_view(tensor);
                report.theory = Some(exact_theory(
                    0.0,
                    gain * gain / rows.max(cols) as f64,
                    (-gain, gain),
                ));
                let error = generated.orthogonality_error.unwrap_or(f64::NAN);
                let tolerance = orthogonality_tolerance(tensor.spec.dtype);
                report.consistent = error <= tolerance;
                report.notes.push(format!(
                    "orthogonality: max |G/gain² − I| = {error:.3e}, G the Gram matrix of the smaller side (WᵀW or WWᵀ); tolerance {tolerance:.0e} for {}",
                    tensor.spec.dtype
                ));
            }
            Distribution::Identity { gain } => {
                let (rows, cols) = crate::generate::matrix_view(tensor);
                let fraction = rows.min(cols) as f64 / (rows * cols) as f64;
                let mean = gain * fraction;
                let low = if rows * cols > 1 { 0.0 } else { gain };
                report.theory = Some(exact_theory(
                    mean,
                    gain * gain * fraction - mean * mean,
                    (low, gain),
                ));
                report
                    .notes
                    .push("identity: exact construction, nothing random to check".into());
            }
            _ => report.compare_moments(&s, tensor.spec.dtype),
        }
        if let Some(code) = tensor.equivalent() {
            report.notes.push(match tensor.spec.rng {
                RngMode::Numpy => format!(
                    "NumPy: with rng = np.random.default_rng({}) (shared by the run's tensors, in order): {code}",
                    tensor.spec.seed
                ),
                RngMode::Torch => format!(
                    "PyTorch: after torch.manual_seed({}) (shared by the run's tensors, in order): {code}",
                    tensor.spec.seed
                ),
                RngMode::Native => code,
            });
        }
        if tensor.spec.rng == RngMode::Numpy
            && matches!(
                tensor.resolved.distribution,
                Distribution::Orthogonal { .. }
            )
        {
            report.notes.push(
                "NumPy's QR is LAPACK's; ours is faer's on the same draws: values agree to about 1e-14 before rounding to the dtype (measured up to 512²), not bit for bit".into(),
            );
        }
        report
    }

    fn constant_notes(&mut self, tensor: &ResolvedTensor, value: f64, s: &Stats) {
        let stored = stored_value(tensor.spec.dtype, value);
        self.consistent = s.min == stored && s.max == stored;
        if tensor.spec.shape.rank() >= 2 {
            self.notes.push(
                "symmetry is NOT broken: every unit of this layer starts with the same \
                 weights, computes the same output and gets the same gradient, so the units \
                 stay identical through training; use a random scheme for weights"
                    .into(),
            );
        } else {
            self.notes.push(
                "constant 1-D tensor: fine for biases and norm scales, whose symmetry is \
                 broken by the random weights around them"
                    .into(),
            );
        }
    }

    fn compare_moments(&mut self, s: &Stats, dtype: DType) {
        let Some(t) = self.theory else { return };
        let n = s.count as f64;
        if n < 2.0 || t.variance == 0.0 {
            return;
        }
        let variance = s.variance();
        let z = moment_z_scores(&t, s.count, s.mean, variance);
        self.mean_z = Some(z.mean);
        self.variance_z = Some(z.variance);
        self.variance_rel_error = Some((variance - t.variance) / t.variance);
        self.consistent = z.mean.abs() <= Z_LIMIT && z.variance.abs() <= Z_LIMIT;
        let slack = |b: f64| b.abs() * rounding_slack(dtype);
        if let Some(low) = t.low
            && s.min < low - slack(low)
        {
            self.consistent = false;
            self.notes
                .push(format!("minimum {} is below the lower bound {low}", s.min));
        }
        if let Some(high) = t.high
            && s.max > high + slack(high)
        {
            self.consistent = false;
            self.notes
                .push(format!("maximum {} is above the upper bound {high}", s.max));
        }
    }
}

/// `x` rounded to `dtype` and widened back (exactly): the value a file of that dtype
/// stores for `x`.
pub fn stored_value(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F32 => f64::from(x as f32),
        DType::F64 => x,
        DType::F16 => half::f16::from_f64(x).to_f64(),
        DType::Bf16 => half::bf16::from_f64(x).to_f64(),
    }
}

/// How far, relative to its size, a bound may be overstepped by rounding to `dtype`: a
/// value can round past a bound that the dtype cannot hold exactly, by up to half a step
/// (2^-24 for f32 ... 2^-9 for bf16, relative), so the allowance is one such half step
/// with a little room.
pub fn rounding_slack(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => 1e-15,
        DType::F32 => 1e-7,
        DType::F16 => 2f64.powi(-11),
        DType::Bf16 => 2f64.powi(-8),
    }
}

/// Sample mean and variance of n values, in standard errors from a law's theory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MomentZ {
    /// (mean − μ) / (σ/√n).
    pub mean: f64,
    /// (variance − σ²) / SE, with Var(s²) = (μ₄ − σ⁴·(n−3)/(n−1))/n.
    pub variance: f64,
    /// That standard error of the sample variance.
    pub variance_se: f64,
}

/// The z-scores of an observed mean and variance of `n` iid values against `theory`
/// (its variance must be positive and n ≥ 2). The standard error of the variance uses
/// the law's exact fourth central moment, so the test is right for uniform and
/// truncated laws too, not only normal ones.
pub fn moment_z_scores(theory: &Theory, n: u64, mean: f64, variance: f64) -> MomentZ {
    let n = n as f64;
    let se_mean = (theory.variance / n).sqrt();
    let var_of_var =
        (theory.fourth_moment - theory.variance * theory.variance * (n - 3.0) / (n - 1.0)) / n;
    let se_var = var_of_var.max(0.0).sqrt();
    MomentZ {
        mean: (mean - theory.mean) / se_mean,
        variance: (variance - theory.variance) / se_var,
        variance_se: se_var,
    }
}

/// Whole-matrix moments and bounds of a matrix construction (orthogonal entries are
/// bounded by the gain because every column or row has norm gain).
fn exact_theory(mean: f64, variance: f64, (low, high): (f64, f64)) -> Theory {
    Theory {
        mean,
        variance,
        std: variance.sqrt(),
        low: Some(low),
        high: Some(high),
        fourth_moment: 0.0,
    }
}

/// Renders reports as the human table printed on stderr.
pub fn render_human(reports: &[TensorReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let _ = r.write_human(&mut out);
    }
    if reports.len() > 1 {
        let t = Total::of(reports);
        let _ = writeln!(
            out,
            "total: {} tensors, {} elements, {} bytes of data; {}",
            t.tensors,
            t.elements,
            t.bytes,
            if t.inconsistent == 0 {
                "all consistent with their scheme".to_string()
            } else {
                format!("{} NOT consistent with their scheme", t.inconsistent)
            }
        );
    }
    out
}

/// The run as a whole: the report's last line, and `total` in the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Total {
    pub tensors: usize,
    pub elements: u64,
    pub bytes: u64,
    /// Tensors whose statistics do not fit their scheme.
    pub inconsistent: usize,
}

impl Total {
    pub fn of(reports: &[TensorReport]) -> Total {
        let elements: u64 = reports
            .iter()
            .map(|r| r.meta.shape.iter().product::<usize>() as u64)
            .sum();
        let bytes = reports
            .iter()
            .map(|r| r.meta.shape.iter().product::<usize>() as u64 * r.meta.dtype.size() as u64)
            .sum();
        Total {
            tensors: reports.len(),
            elements,
            bytes,
            inconsistent: reports.iter().filter(|r| !r.consistent).count(),
        }
    }
}

impl TensorReport {
    fn write_human(&self, out: &mut String) -> fmt::Result {
        let m = &self.meta;
        let shape: Vec<String> = m.shape.iter().map(|d| d.to_string()).collect();
        writeln!(
            out,
            "{} → {}   {} {} {} layout {}   seed {} (rng {})",
            // Names and paths can come from a stranger's file (--like, --spec).
            crate::text::escape_control(&m.name),
            if self.output == "-" {
                "<stdout>".to_string()
            } else {
                crate::text::escape_control(&self.output)
            },
            m.scheme,
            shape.join("x"),
            m.dtype,
            m.layout,
            m.seed,
            m.rng,
        )?;
        if let (Some(fi), Some(fo), Some(rf)) = (m.fan_in, m.fan_out, m.receptive_field) {
            write!(
                out,
                "  fans: fan_in {fi}, fan_out {fo}, receptive field {rf}"
            )?;
            if let (Some(mode), Some(fan)) = (m.fan_mode, m.fan) {
                write!(out, "; scaled by {mode} = {}", trim(fan))?;
            }
            if let Some(g) = m.gain {
                write!(out, "; gain {}", num(g))?;
            }
            writeln!(out)?;
        }
        let o = &self.observed;
        let (tm, tv, ts, tlo, thi) = match self.theory {
            Some(t) => (
                num(t.mean),
                num(t.variance),
                num(t.std),
                t.low.map_or("-inf".into(), num),
                t.high.map_or("+inf".into(), num),
            ),
            None => Default::default(),
        };
        writeln!(out, "  {:<10} {:>14} {:>14}", "", "theory", "drawn")?;
        let mut var_note = String::new();
        if let (Some(rel), Some(z)) = (self.variance_rel_error, self.variance_z) {
            var_note = format!("   ({:+.3}%, z = {:+.2})", rel * 100.0, z);
        }
        let mean_note = self
            .mean_z
            .map(|z| format!("   (z = {z:+.2})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:<10} {:>14} {:>14}{mean_note}",
            "mean",
            tm,
            num(o.mean)
        )?;
        writeln!(
            out,
            "  {:<10} {:>14} {:>14}{var_note}",
            "variance",
            tv,
            num(o.variance)
        )?;
        writeln!(out, "  {:<10} {:>14} {:>14}", "std", ts, num(o.std))?;
        writeln!(out, "  {:<10} {:>14} {:>14}", "min", tlo, num(o.min))?;
        writeln!(out, "  {:<10} {:>14} {:>14}", "max", thi, num(o.max))?;
        writeln!(out, "  {:<10} {:>14} {:>14}", "count", "", o.count)?;
        for note in &self.notes {
            writeln!(out, "  note: {note}")?;
        }
        let verdict = if self.mean_z.is_some() {
            if self.consistent {
                format!("  ok: mean and variance within sampling error (|z| ≤ {Z_LIMIT})")
            } else {
                format!(
                    "  WARNING: drawn values differ from the theory by more than {Z_LIMIT} standard errors"
                )
            }
        } else if self.consistent {
            match m.distribution {
                Distribution::Constant { value } => {
                    // The value the file holds, which is the scheme's only if the dtype
                    // can hold it exactly.
                    let stored = stored_value(m.dtype, value);
                    if stored == value {
                        format!("  ok: every element is exactly {value}")
                    } else {
                        format!(
                            "  ok: every element is exactly {stored} ({value} rounded to {})",
                            m.dtype
                        )
                    }
                }
                _ => "  ok".to_string(),
            }
        } else {
            "  WARNING: the stored values do not match the scheme".to_string()
        };
        writeln!(out, "{verdict}")?;
        writeln!(out)
    }
}

/// Six significant digits, switching to exponent form for very small or large values.
pub(crate) fn num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() < 1e-4 || x.abs() >= 1e6 {
        format!("{x:.5e}")
    } else {
        let digits = (5 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    }
}

fn trim(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}
