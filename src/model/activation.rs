//! The activation functions of a dense chain: their values and derivatives (for
//! `probe`'s forward and backward passes) and the weight scheme each one calls for (the
//! default of `gen --layers`).
//!
//! Constants come from the papers that define the functions: SELU's α and λ from
//! Klambauer et al. 2017 ("Self-Normalizing Neural Networks", eq. 14, the values
//! PyTorch and Keras use); GELU is the exact x·Φ(x) of Hendrycks & Gimpel 2016, not the
//! tanh approximation; leaky ReLU's slope is PyTorch's default 0.01.

use crate::names::{Choice, Named};

use crate::law::{normal_cdf, normal_pdf};
use crate::scheme::gain::DEFAULT_NEGATIVE_SLOPE;

/// SELU's α (Klambauer et al. 2017).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_2;
/// SELU's λ (Klambauer et al. 2017).
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;

/// The activation after each hidden layer of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Relu,
    LeakyRelu,
    Gelu,
    Tanh,
    Sigmoid,
    Linear,
    Selu,
}

impl Choice for Activation {
    const TABLE: &'static [Named<Self>] = &[
        Named {
            value: Activation::Relu,
            name: "relu",
            aliases: &[],
            help: "",
        },
        Named {
            value: Activation::LeakyRelu,
            name: "leaky-relu",
            aliases: &[],
            help: "",
        },
        Named {
            value: Activation::Gelu,
            name: "gelu",
            aliases: &[],
            help: "",
        },
        Named {
            value: Activation::Tanh,
            name: "tanh",
            aliases: &[],
            help: "",
        },
        Named {
            value: Activation::Sigmoid,
            name: "sigmoid",
            aliases: &[],
            help: "",
        },
        Named {
            value: Activation::Linear,
            name: "linear",
            aliases: &[],
            help: "",
        },
        Named {
            value: Activation::Selu,
            name: "selu",
            aliases: &[],
            help: "",
        },
    ];
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Activation {
    /// The name as accepted on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky-relu",
            Activation::Gelu => "gelu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Linear => "linear",
            Activation::Selu => "selu",
        }
    }

    /// The weight scheme that keeps the signal's variance for this activation (He et al.
    /// 2015 for the ReLU family, Glorot & Bengio 2010 for tanh/sigmoid/linear, Klambauer
    /// et al. 2017 for SELU). GELU behaves like ReLU for this purpose.
    pub fn weight_scheme(self) -> &'static str {
        match self {
            Activation::Relu | Activation::Gelu => "he-normal",
            Activation::LeakyRelu => "he-normal:nonlinearity=leaky-relu",
            Activation::Tanh | Activation::Sigmoid | Activation::Linear => "xavier-normal",
            Activation::Selu => "lecun-normal",
        }
    }

    /// f(z) and f′(z) together (they share the expensive part).
    #[inline]
    pub fn value_and_slope(self, z: f64) -> (f64, f64) {
        match self {
            Activation::Relu => {
                // f′(0) = 0, as PyTorch's autograd takes it.
                if z > 0.0 { (z, 1.0) } else { (0.0, 0.0) }
            }
            Activation::LeakyRelu => {
                if z > 0.0 {
                    (z, 1.0)
                } else {
                    (DEFAULT_NEGATIVE_SLOPE * z, DEFAULT_NEGATIVE_SLOPE)
                }
            }
            Activation::Gelu => {
                let cdf = normal_cdf(z);
                (z * cdf, cdf + z * normal_pdf(z))
            }
            Activation::Tanh => {
                let t = z.tanh();
                (t, 1.0 - t * t)
            }
            Activation::Sigmoid => {
                // Written so that neither branch overflows exp.
                let s = if z >= 0.0 {
                    1.0 / (1.0 + (-z).exp())
                } else {
                    let e = z.exp();
                    e / (1.0 + e)
                };
                (s, s * (1.0 - s))
            }
            Activation::Linear => (z, 1.0),
            Activation::Selu => {
                if z > 0.0 {
                    (SELU_LAMBDA * z, SELU_LAMBDA)
                } else {
                    let e = z.exp();
                    (
                        SELU_LAMBDA * SELU_ALPHA * (e - 1.0),
                        SELU_LAMBDA * SELU_ALPHA * e,
                    )
                }
            }
        }
    }

    /// The largest |f′| anywhere: what "passes no gradient" is measured against.
    pub fn max_slope(self) -> f64 {
        match self {
            Activation::Relu | Activation::LeakyRelu | Activation::Tanh | Activation::Linear => 1.0,
            Activation::Sigmoid => 0.25,
            // Φ(z) + zφ(z) peaks where (2 − z²)φ(z) = 0, at z = √2 (≈ 1.1289).
            Activation::Gelu => self.value_and_slope(std::f64::consts::SQRT_2).1,
            Activation::Selu => SELU_LAMBDA * SELU_ALPHA,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slopes_match_finite_differences() {
        let all = [
            Activation::Relu,
            Activation::LeakyRelu,
            Activation::Gelu,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Linear,
            Activation::Selu,
        ];
        for a in all {
            for &z in &[-30.0, -3.0, -0.7, -1e-3, 0.4, 1.0, 2.5, 30.0] {
                let h = 1e-6;
                let numeric = (a.value_and_slope(z + h).0 - a.value_and_slope(z - h).0) / (2.0 * h);
                let (_, slope) = a.value_and_slope(z);
                assert!(
                    (numeric - slope).abs() <= 1e-6 * (1.0 + slope.abs()),
                    "{} at {z}: f′ {slope} vs finite difference {numeric}",
                    a.name()
                );
                assert!(
                    slope.abs() <= a.max_slope() * (1.0 + 1e-12),
                    "{} at {z}",
                    a.name()
                );
            }
        }
        // The GELU slope peaks at √2: larger than at its neighbours.
        let peak = Activation::Gelu.max_slope();
        assert!((peak - 1.128_9).abs() < 1e-4);
        for z in [1.3, 1.4, 1.43, 1.5] {
            assert!(Activation::Gelu.value_and_slope(z).1 <= peak);
        }
        // Known values: SELU(-∞) → -λα, sigmoid(0) = 1/2, GELU(1) = Φ(1).
        assert!(
            (Activation::Selu.value_and_slope(-50.0).0 + SELU_LAMBDA * SELU_ALPHA).abs() < 1e-12
        );
        assert_eq!(Activation::Sigmoid.value_and_slope(0.0), (0.5, 0.25));
        assert!((Activation::Gelu.value_and_slope(1.0).0 - 0.841_344_746_068_542_9).abs() < 1e-15);
        // No overflow at the extremes.
        assert_eq!(Activation::Sigmoid.value_and_slope(-1000.0), (0.0, 0.0));
        assert_eq!(Activation::Sigmoid.value_and_slope(1000.0), (1.0, 0.0));
    }
}
