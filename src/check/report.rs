//! The variance report: what each tensor was meant to look like next to what was drawn.
//!
//! For elementwise laws the check is statistical: the sample mean and variance are
//! compared with their theoretical values in units of their standard errors
//! (SE(mean) = σ/√n; Var(s²) = (μ₄ − σ⁴·(n−3)/(n−1))/n), and a tensor is "within
//! sampling error" when both |z| ≤ [`Z_LIMIT`]. Orthogonal matrices are checked by
//! max |WᵀW/g² − I|; constant tensors get a plain warning about symmetry.

use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::array::dtype::DType;
use crate::check::Generated;
use crate::check::stats::Stats;
use crate::check::{moment_z_scores, orthogonality_tolerance, rounding_slack, stored_value};
use crate::law::{Distribution, Theory};
use crate::tensor::rng::RngMode;
use crate::tensor::{ResolvedTensor, TensorMeta};
use crate::text::{num, plain};

use crate::check::REPORT_Z_LIMIT as Z_LIMIT;

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
            Distribution::Orthogonal { gain, blocks } => {
                // Every orthogonal matrix has the same sum of squares, gain²·min(r, c),
                // so its mean square is exactly gain²/max(r, c) (per block, and so for
                // equal blocks together).
                let view =
                    crate::array::fan::matrix_view(tensor.spec.shape.dims(), tensor.spec.layout);
                let block =
                    crate::array::geometry::OutputBlocks::new(view, blocks, tensor.spec.layout)
                        .block_dims();
                report.orthogonal_construction(
                    tensor,
                    gain,
                    block,
                    blocks,
                    generated.orthogonality_error,
                    "orthogonality: max |G/gain² − I|",
                    "G the Gram matrix of the smaller side (WᵀW or WWᵀ)",
                );
            }
            Distribution::Identity { gain } => {
                let (rows, cols) =
                    crate::array::fan::matrix_view(tensor.spec.shape.dims(), tensor.spec.layout);
                report.theory = Some(taps_theory(gain, rows.min(cols), rows * cols));
                report
                    .notes
                    .push("identity: exact construction, nothing random to check".into());
            }
            Distribution::DeltaOrthogonal { gain } => {
                // The centre's orthogonal matrix has sum of squares gain²·min(r, c),
                // spread over the whole kernel.
                let ((rows, cols), _) = crate::array::geometry::centre_channels(
                    tensor.spec.shape.dims(),
                    tensor.spec.layout,
                );
                report.orthogonal_construction(
                    tensor,
                    gain,
                    (rows, cols),
                    1,
                    generated.orthogonality_error,
                    &format!("delta-orthogonal: the centre tap's {rows}x{cols} channel matrix has max |G/gain² − I|"),
                    "every other tap is 0",
                );
            }
            Distribution::LstmBias { forget } => {
                let n = tensor.spec.shape.len();
                report.theory = Some(taps_theory(forget, n / 2 - n / 4, n));
                report.notes.push(
                    "lstm-bias: exact construction (gates i, f, g/c, o; the forget gate's quarter set), nothing random to check".into(),
                );
            }
            Distribution::S4dRealLog { last } => {
                // Every row along the last axis is ln 1 … ln N: the tensor's moments are
                // those of that one row.
                let row: Vec<f64> = (1..=last.max(1)).map(|n| libm::log(n as f64)).collect();
                let mean = row.iter().sum::<f64>() / row.len() as f64;
                let variance =
                    row.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / row.len() as f64;
                report.theory = Some(exact_theory(
                    mean,
                    variance,
                    (0.0, *row.last().unwrap_or(&0.0)),
                ));
                report.notes.push(
                    "s4d-real-log: exact construction (ln(n + 1) along the last axis), nothing random to check".into(),
                );
            }
            Distribution::Dirac { gain, groups } => {
                let dims = tensor.spec.shape.dims();
                let taps =
                    crate::array::geometry::dirac_positions(dims, tensor.spec.layout, groups).len();
                report.theory = Some(taps_theory(gain, taps, dims.iter().product()));
                report.notes.push(format!(
                    "dirac: exact construction ({taps} centre taps of {gain}, the rest 0), \
                     nothing random to check"
                ));
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
                RngMode::Jax => format!("JAX (CPU): {code}"),
                RngMode::Keras => format!("Keras 3, JAX backend (CPU): {code}"),
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

/// Whole-matrix moments and bounds of a matrix construction (orthogonal entries are
/// bounded by the gain because every column or row has norm gain).
impl TensorReport {
    /// A tensor made of `count` orthogonal matrices of `rows × cols` times gain (the rest
    /// zeros): each has the same sum of squares, gain²·min(r, c), so the moments are
    /// exact; the verdict is the orthogonality error the draw measured, against the
    /// dtype's tolerance. `what` and `detail` word the note.
    #[allow(clippy::too_many_arguments)]
    fn orthogonal_construction(
        &mut self,
        tensor: &ResolvedTensor,
        gain: f64,
        (rows, cols): (usize, usize),
        count: usize,
        error: Option<f64>,
        what: &str,
        detail: &str,
    ) {
        let n = tensor.spec.shape.len() as f64;
        self.theory = Some(exact_theory(
            0.0,
            gain * gain * (count * rows.min(cols)) as f64 / n,
            (-gain, gain),
        ));
        let error = error.unwrap_or(f64::NAN);
        let tolerance = orthogonality_tolerance(tensor.spec.dtype);
        self.consistent = error <= tolerance;
        self.notes.push(format!(
            "{what} = {error:.3e}, {detail}; tolerance {tolerance:.0e} for {}",
            tensor.spec.dtype
        ));
    }
}

/// The moments of a construction with `taps` values of `gain` among `n`, the rest 0.
fn taps_theory(gain: f64, taps: usize, n: usize) -> Theory {
    let fraction = taps as f64 / n as f64;
    let mean = gain * fraction;
    let low = if taps < n { 0.0f64.min(gain) } else { gain };
    let high = if taps < n { 0.0f64.max(gain) } else { gain };
    exact_theory(mean, gain * gain * fraction - mean * mean, (low, high))
}

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

/// The report as gen's `--report json` prints it: whether every tensor is consistent,
/// the totals, and one object per tensor.
pub fn render_json(reports: &[TensorReport]) -> String {
    let consistent = reports.iter().all(|r| r.consistent);
    let total = Total::of(reports);
    let doc = serde_json::json!({ "consistent": consistent, "total": total, "tensors": reports });
    let mut text = serde_json::to_string_pretty(&doc).expect("report serializes");
    text.push('\n');
    text
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
                write!(out, "; scaled by {mode} = {}", plain(fan))?;
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
