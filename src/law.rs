//! Plain distributions: what a scheme resolves to once the fans and gain are known.
//!
//! Samplers draw from these; the report compares draws with [`Distribution::theory`];
//! the statistical tests use [`Distribution::cdf`]. Nothing here knows about fans.

use serde::Serialize;

mod dt_bias;
pub use dt_bias::{DtBias, inverse_softplus, softplus};

/// What to draw every element of a tensor from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Distribution {
    /// Every element equals `value`.
    Constant { value: f64 },
    /// Uniform on `[low, high)` (the upper end can be reached after rounding to f32).
    Uniform { low: f64, high: f64 },
    /// Normal with the given mean and standard deviation.
    Normal { mean: f64, std: f64 },
    /// A normal with mean `mean` and standard deviation `std` *before truncation*,
    /// restricted to the absolute interval `[low, high]`.
    TruncatedNormal {
        mean: f64,
        std: f64,
        low: f64,
        high: f64,
    },
    /// `gain ×` a random (semi-)orthogonal matrix; not elementwise. With `blocks` > 1,
    /// the 2-D view is split along its output side into that many equal blocks, each its
    /// own orthogonal matrix (per-gate initialization of LSTM/GRU weights).
    Orthogonal {
        gain: f64,
        #[serde(skip_serializing_if = "is_one")]
        blocks: usize,
    },
    /// `gain ×` the identity matrix (ones on the main diagonal of a rectangle).
    Identity { gain: f64 },
    /// `gain ×` a Dirac delta kernel (PyTorch's `dirac_`): in each of `groups` groups,
    /// input channel d feeds output channel d through the kernel's centre tap only.
    Dirac { gain: f64, groups: usize },
    /// `gain ×` a random orthogonal channel matrix at the kernel's centre tap, zeros at
    /// every other tap (Xiao et al. 2018's delta-orthogonal kernel).
    DeltaOrthogonal { gain: f64 },
    /// N(0, std²) with exactly `zeros` of each input unit's `out` weights set to 0
    /// (PyTorch's `sparse_`, Martens 2010).
    /// An LSTM's bias, 4 equal gate blocks in the order i, f, g, o (PyTorch) or i, f, c, o
    /// (Keras): `forget` on the forget gate's block, 0 on the others.
    LstmBias { forget: f64 },
    Sparse {
        std: f64,
        /// The fraction asked for; `zeros` = ⌈sparsity·out⌉, as PyTorch rounds it.
        sparsity: f64,
        zeros: usize,
        out: usize,
    },
    /// The S4D-real state matrix's logarithm (Mamba's `A_log`): the element at position n
    /// of the last axis (of length `last`) is ln(n + 1), whatever its other indices. No
    /// randomness.
    S4dRealLog { last: usize },
    /// Mamba's dt bias: the inverse softplus ln(e^dt − 1) of dt = max(exp(ln dt_min +
    /// U·(ln dt_max − ln dt_min)), floor), U uniform on [0, 1) per element.
    MambaDtBias {
        dt_min: f64,
        dt_max: f64,
        floor: f64,
    },
}

/// The moments and support a tensor drawn from a distribution should show.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Theory {
    pub mean: f64,
    pub variance: f64,
    pub std: f64,
    /// Smallest and largest value the distribution can produce, if bounded.
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Fourth central moment, for the standard error of the sample variance.
    #[serde(skip)]
    pub fourth_moment: f64,
}

impl Distribution {
    /// True when every element is drawn independently from the same law, so that the
    /// sample mean and variance are meaningful estimates.
    pub fn is_elementwise(&self) -> bool {
        !matches!(
            self,
            Distribution::Orthogonal { .. }
                | Distribution::Identity { .. }
                | Distribution::Dirac { .. }
                | Distribution::DeltaOrthogonal { .. }
                | Distribution::Sparse { .. }
                | Distribution::LstmBias { .. }
                | Distribution::S4dRealLog { .. }
        )
    }

    /// Exact moments of an element. Orthogonal and identity matrices are not iid, so
    /// their "theory" is that of the whole matrix (see [`crate::check::report`]); this returns
    /// `None` for them.
    pub fn theory(&self) -> Option<Theory> {
        let t = match *self {
            Distribution::Constant { value } => Theory {
                mean: value,
                variance: 0.0,
                std: 0.0,
                low: Some(value),
                high: Some(value),
                fourth_moment: 0.0,
            },
            Distribution::Uniform { low, high } => {
                let width = high - low;
                let variance = width * width / 12.0;
                Theory {
                    mean: 0.5 * (low + high),
                    variance,
                    std: variance.sqrt(),
                    low: Some(low),
                    high: Some(high),
                    fourth_moment: width.powi(4) / 80.0,
                }
            }
            Distribution::Normal { mean, std } => Theory {
                mean,
                variance: std * std,
                std,
                low: None,
                high: None,
                fourth_moment: 3.0 * std.powi(4),
            },
            Distribution::TruncatedNormal {
                mean,
                std,
                low,
                high,
            } => {
                let m = truncated_standard_moments((low - mean) / std, (high - mean) / std);
                let variance = m.variance * std * std;
                Theory {
                    mean: mean + std * m.mean,
                    variance,
                    std: variance.sqrt(),
                    low: Some(low),
                    high: Some(high),
                    fourth_moment: m.fourth_central * std.powi(4),
                }
            }
            // Each element is 0 with probability q = zeros/out and N(0, std²) otherwise
            // (not independent within an input unit, whose zero count is exact).
            Distribution::Sparse {
                std, zeros, out, ..
            } => {
                let kept = 1.0 - zeros as f64 / out.max(1) as f64;
                let variance = kept * std * std;
                Theory {
                    mean: 0.0,
                    variance,
                    std: variance.sqrt(),
                    low: None,
                    high: None,
                    fourth_moment: kept * 3.0 * std.powi(4),
                }
            }
            Distribution::MambaDtBias {
                dt_min,
                dt_max,
                floor,
            } => DtBias::new(dt_min, dt_max, floor).theory(),
            Distribution::Orthogonal { .. }
            | Distribution::Identity { .. }
            | Distribution::Dirac { .. }
            | Distribution::DeltaOrthogonal { .. }
            | Distribution::LstmBias { .. }
            | Distribution::S4dRealLog { .. } => return None,
        };
        Some(t)
    }

    /// The cumulative distribution function of one element, for elementwise laws.
    pub fn cdf(&self, x: f64) -> Option<f64> {
        let p = match *self {
            Distribution::Constant { value } => f64::from(u8::from(x >= value)),
            Distribution::Uniform { low, high } => ((x - low) / (high - low)).clamp(0.0, 1.0),
            Distribution::Normal { mean, std } => normal_cdf((x - mean) / std),
            Distribution::TruncatedNormal {
                mean,
                std,
                low,
                high,
            } => {
                if x <= low {
                    0.0
                } else if x >= high {
                    1.0
                } else {
                    let a = (low - mean) / std;
                    let b = (high - mean) / std;
                    normal_mass(a, (x - mean) / std) / normal_mass(a, b)
                }
            }
            Distribution::MambaDtBias {
                dt_min,
                dt_max,
                floor,
            } => DtBias::new(dt_min, dt_max, floor).cdf(x),
            Distribution::Orthogonal { .. }
            | Distribution::Identity { .. }
            | Distribution::Dirac { .. }
            | Distribution::DeltaOrthogonal { .. }
            | Distribution::Sparse { .. }
            | Distribution::LstmBias { .. }
            | Distribution::S4dRealLog { .. } => return None,
        };
        Some(p)
    }

    /// A bound on the magnitude of every value: exact for bounded laws and the matrix
    /// constructions (|gain|), `|mean| + normal_sigmas·std` for a normal.
    pub fn reach(&self, normal_sigmas: f64) -> f64 {
        match *self {
            Distribution::Constant { value } => value.abs(),
            Distribution::Uniform { low, high }
            | Distribution::TruncatedNormal { low, high, .. } => low.abs().max(high.abs()),
            Distribution::Normal { mean, std } => mean.abs() + normal_sigmas * std,
            Distribution::Sparse { std, .. } => normal_sigmas * std,
            Distribution::LstmBias { forget } => forget.abs(),
            Distribution::S4dRealLog { last } => libm::log(last.max(1) as f64),
            Distribution::MambaDtBias {
                dt_min,
                dt_max,
                floor,
            } => {
                let d = DtBias::new(dt_min, dt_max, floor);
                d.low().abs().max(d.high().abs())
            }
            Distribution::Orthogonal { gain, .. }
            | Distribution::Identity { gain }
            | Distribution::Dirac { gain, .. }
            | Distribution::DeltaOrthogonal { gain } => gain.abs(),
        }
    }
}

impl Distribution {
    /// The probability density of one element, for continuous elementwise laws (`None`
    /// for constants, which are a single spike, and for matrix laws).
    pub fn pdf(&self, x: f64) -> Option<f64> {
        let p = match *self {
            Distribution::Uniform { low, high } => {
                if (low..=high).contains(&x) && high > low {
                    1.0 / (high - low)
                } else {
                    0.0
                }
            }
            Distribution::Normal { mean, std } => normal_pdf((x - mean) / std) / std,
            Distribution::TruncatedNormal {
                mean,
                std,
                low,
                high,
            } => {
                if (low..=high).contains(&x) {
                    let mass = normal_mass((low - mean) / std, (high - mean) / std);
                    normal_pdf((x - mean) / std) / (std * mass)
                } else {
                    0.0
                }
            }
            Distribution::MambaDtBias {
                dt_min,
                dt_max,
                floor,
            } => DtBias::new(dt_min, dt_max, floor).pdf(x),
            Distribution::Constant { .. }
            | Distribution::Orthogonal { .. }
            | Distribution::Identity { .. }
            | Distribution::Dirac { .. }
            | Distribution::DeltaOrthogonal { .. }
            | Distribution::Sparse { .. }
            | Distribution::LstmBias { .. }
            | Distribution::S4dRealLog { .. } => return None,
        };
        Some(p)
    }
}

impl Distribution {
    /// The law in words, with its numbers (six significant digits).
    pub fn describe(&self) -> String {
        use crate::text::num;
        match *self {
            Distribution::Constant { value } => format!("every value {}", num(value)),
            Distribution::Uniform { low, high } => {
                format!("uniform [{}, {}]", num(low), num(high))
            }
            Distribution::Normal { mean, std } => {
                format!("normal (mean {}, std {})", num(mean), num(std))
            }
            Distribution::TruncatedNormal {
                mean,
                std,
                low,
                high,
            } => format!(
                "normal (mean {}, std {}) truncated to [{}, {}]",
                num(mean),
                num(std),
                num(low),
                num(high)
            ),
            Distribution::Orthogonal { gain, blocks } if blocks > 1 => format!(
                "{} × a random orthogonal matrix in each of {blocks} blocks",
                num(gain)
            ),
            Distribution::Orthogonal { gain, .. } => {
                format!("{} × a random orthogonal matrix", num(gain))
            }
            Distribution::Identity { gain } => format!("{} × the identity matrix", num(gain)),
            Distribution::DeltaOrthogonal { gain } => format!(
                "{} × a random orthogonal matrix at the kernel centre, 0 elsewhere",
                num(gain)
            ),
            Distribution::Sparse {
                std, zeros, out, ..
            } => format!(
                "normal (mean 0, std {}) with {zeros} of every input's {out} weights 0",
                num(std)
            ),
            Distribution::LstmBias { forget } => format!(
                "{} on the forget gate's quarter (gates i, f, g, o), 0 elsewhere",
                num(forget)
            ),
            Distribution::S4dRealLog { last } => format!(
                "ln(n + 1) at position n = 0 … {} of the last axis (S4D-real A_log)",
                last.saturating_sub(1)
            ),
            Distribution::MambaDtBias {
                dt_min,
                dt_max,
                floor,
            } => format!(
                "ln(e^dt − 1), dt = exp(U(ln {}, ln {})) floored at {} (Mamba dt bias)",
                num(dt_min),
                num(dt_max),
                num(floor)
            ),
            Distribution::Dirac { gain, groups } => format!(
                "{} × a Dirac delta kernel{}",
                num(gain),
                if groups > 1 {
                    format!(" ({groups} groups)")
                } else {
                    String::new()
                }
            ),
        }
    }

    /// The law one entry of `gain ×` a random (semi-)orthogonal `rows × cols` matrix is
    /// close to: N(0, gain²/max(rows, cols)) (Haar measure, large matrices).
    pub fn orthogonal_entries(gain: f64, (rows, cols): (usize, usize)) -> Distribution {
        Distribution::Normal {
            mean: 0.0,
            std: gain / (rows.max(cols).max(1) as f64).sqrt(),
        }
    }
}

/// Φ(x), the standard normal CDF. `libm` keeps it identical on every platform.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// φ(x), the standard normal density.
pub fn normal_pdf(x: f64) -> f64 {
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    INV_SQRT_2PI * libm::exp(-0.5 * x * x)
}

/// P(a < Z < b) for a standard normal Z, accurate far into either tail (it subtracts
/// upper-tail probabilities when both ends are positive, lower-tail ones when both are
/// negative, so a mass of 1e-200 is not lost to cancellation against 1).
pub fn normal_mass(a: f64, b: f64) -> f64 {
    let upper_tail = |x: f64| 0.5 * libm::erfc(x / std::f64::consts::SQRT_2);
    if a >= 0.0 {
        upper_tail(a) - upper_tail(b)
    } else if b <= 0.0 {
        upper_tail(-b) - upper_tail(-a)
    } else {
        1.0 - upper_tail(b) - upper_tail(-a)
    }
}

/// Mean, variance and fourth central moment of a standard normal truncated to [a, b].
pub struct TruncatedMoments {
    pub mass: f64,
    pub mean: f64,
    pub variance: f64,
    pub fourth_central: f64,
}

/// Moments of the standard normal truncated to `[a, b]`, from the recurrence
/// E[Z^k] = (k−1)·E[Z^(k−2)] + (a^(k−1)φ(a) − b^(k−1)φ(b)) / Z
/// (Johnson, Kotz & Balakrishnan, *Continuous Univariate Distributions*, §10.1).
pub fn truncated_standard_moments(a: f64, b: f64) -> TruncatedMoments {
    let mass = normal_mass(a, b);
    let (pa, pb) = (normal_pdf(a), normal_pdf(b));
    let mut raw = [1.0f64; 5];
    for k in 1..5 {
        let below = if k >= 2 { raw[k - 2] } else { 0.0 };
        let km1 = (k - 1) as i32;
        raw[k] = (k as f64 - 1.0) * below + (a.powi(km1) * pa - b.powi(km1) * pb) / mass;
    }
    let m1 = raw[1];
    let variance = raw[2] - m1 * m1;
    let fourth_central = raw[4] - 4.0 * m1 * raw[3] + 6.0 * m1 * m1 * raw[2] - 3.0 * m1.powi(4);
    TruncatedMoments {
        mass,
        mean: m1,
        variance,
        fourth_central,
    }
}

/// Serde's test for a block count that need not be written (one block, the default), so
/// metadata without blocks stays byte for byte what it was.
fn is_one(n: &usize) -> bool {
    *n == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_theory() {
        let t = Distribution::Uniform {
            low: -1.0,
            high: 1.0,
        }
        .theory()
        .unwrap();
        assert_eq!(t.mean, 0.0);
        assert!((t.variance - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn truncated_at_two_sigma_matches_keras_constant() {
        // Keras and JAX divide by 0.87962566103423978, the std of N(0,1) truncated to
        // [-2, 2]; our moments must agree with that published constant.
        let m = truncated_standard_moments(-2.0, 2.0);
        assert!((m.variance.sqrt() - 0.879_625_661_034_239_8).abs() < 1e-12);
        assert!(m.mean.abs() < 1e-15);
        assert!((m.mass - 0.954_499_736_103_641_6).abs() < 1e-12);
    }

    #[test]
    fn truncation_far_in_the_tail_keeps_precision() {
        // N(0,1) restricted to [8, 9]: nearly all mass sits just above 8, mean ≈ 8.12.
        let m = truncated_standard_moments(8.0, 9.0);
        assert!(m.mass > 0.0 && m.mass < 1e-14);
        assert!(m.mean > 8.0 && m.mean < 8.2, "{}", m.mean);
        assert!(m.variance > 0.0 && m.variance < 0.02, "{}", m.variance);
    }

    #[test]
    fn cdf_endpoints() {
        let d = Distribution::TruncatedNormal {
            mean: 1.0,
            std: 2.0,
            low: -1.0,
            high: 5.0,
        };
        assert_eq!(d.cdf(-1.0), Some(0.0));
        assert_eq!(d.cdf(5.0), Some(1.0));
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-16);
    }

    #[test]
    fn pdf_is_the_derivative_of_the_cdf() {
        let laws = [
            Distribution::Uniform {
                low: -0.3,
                high: 0.5,
            },
            Distribution::Normal {
                mean: 0.2,
                std: 0.05,
            },
            Distribution::TruncatedNormal {
                mean: 0.0,
                std: 0.02,
                low: -0.04,
                high: 0.03,
            },
        ];
        for d in laws {
            for k in 1..40 {
                let x = -0.35 + 0.0213 * k as f64;
                let h = 1e-7;
                let numeric = (d.cdf(x + h).unwrap() - d.cdf(x - h).unwrap()) / (2.0 * h);
                let pdf = d.pdf(x).unwrap();
                // Skip the jumps at the support's ends.
                let near_edge = match d {
                    Distribution::Uniform { low, high }
                    | Distribution::TruncatedNormal { low, high, .. } => {
                        (x - low).abs() < 2.0 * h || (x - high).abs() < 2.0 * h
                    }
                    _ => false,
                };
                if !near_edge {
                    assert!(
                        (numeric - pdf).abs() <= 1e-5 * (1.0 + pdf),
                        "{d:?} at {x}: {pdf} vs {numeric}"
                    );
                }
            }
        }
        assert_eq!(Distribution::Constant { value: 1.0 }.pdf(1.0), None);
    }
}
