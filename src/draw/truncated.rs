//! Truncated normal draws by rejection (no inverse-CDF, whose tails lose precision).
//!
//! Given the standardized bounds α = (low − μ)/σ and β = (high − μ)/σ, one of three exact
//! rejection samplers is chosen once per tensor:
//!
//! * **Normal proposal** when the interval holds at least 25% of the mass: draw N(0,1)
//!   until it lands in [α, β].
//! * **Exponential proposal** (Robert, "Simulation of truncated normal variables",
//!   Statistics and Computing 5, 1995) for a wide interval in one tail: propose
//!   α + Exp(λ), λ = (α + √(α²+4))/2, accept with probability exp(−(z−λ)²/2).
//! * **Uniform proposal** (same paper) for a narrow interval: propose z ~ U(α, β),
//!   accept with probability exp((m² − z²)/2), m the point of [α, β] closest to 0.
//!
//! Each is exact; the choice only affects speed. The lower tail mirrors the upper one.

use super::stream::BlockStream;
use crate::law::normal_mass;

/// A truncated standard normal on [alpha, beta], with its sampling method fixed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruncatedStandard {
    alpha: f64,
    beta: f64,
    method: Method,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    NormalProposal,
    /// Upper tail; `mirrored` draws from [−β, −α] and negates.
    Exponential {
        lambda: f64,
        mirrored: bool,
    },
    Uniform {
        closest_to_zero: f64,
    },
}

impl TruncatedStandard {
    /// Chooses the method for [alpha, beta]; `alpha < beta` and the mass must be positive
    /// (checked when the scheme is resolved).
    pub fn new(alpha: f64, beta: f64) -> Self {
        let method = if normal_mass(alpha, beta) >= 0.25 {
            Method::NormalProposal
        } else if alpha >= 0.0 || beta <= 0.0 {
            let mirrored = beta <= 0.0;
            let (a, b) = if mirrored {
                (-beta, -alpha)
            } else {
                (alpha, beta)
            };
            // Uniform proposals win on intervals narrower than about 1/a.
            if a == 0.0 || (b - a) * a < 1.0 {
                Method::Uniform {
                    closest_to_zero: if mirrored { -a } else { a },
                }
            } else {
                Method::Exponential {
                    lambda: 0.5 * (a + (a * a + 4.0).sqrt()),
                    mirrored,
                }
            }
        } else {
            Method::Uniform {
                closest_to_zero: 0.0,
            }
        };
        TruncatedStandard {
            alpha,
            beta,
            method,
        }
    }

    /// `Some([alpha, beta])` when draws are standard normals kept if they land there (the
    /// normal-proposal method), which [`super::normal::fill`] can batch.
    pub fn normal_proposal_window(&self) -> Option<(f64, f64)> {
        (self.method == Method::NormalProposal).then_some((self.alpha, self.beta))
    }

    /// One draw in [alpha, beta]. `normal` is the dtype's standard normal sampler
    /// (generic, so the hot loop inlines it).
    #[inline]
    pub fn sample(
        &self,
        rng: &mut BlockStream,
        mut normal: impl FnMut(&mut BlockStream) -> f64,
    ) -> f64 {
        match self.method {
            Method::NormalProposal => loop {
                let z = normal(rng);
                if z >= self.alpha && z <= self.beta {
                    return z;
                }
            },
            Method::Exponential { lambda, mirrored } => {
                let (a, b) = if mirrored {
                    (-self.beta, -self.alpha)
                } else {
                    (self.alpha, self.beta)
                };
                loop {
                    let z = a - libm::log(rng.next_f64_nonzero()) / lambda;
                    let accept = libm::exp(-0.5 * (z - lambda) * (z - lambda));
                    if z <= b && rng.next_f64() < accept {
                        return if mirrored { -z } else { z };
                    }
                }
            }
            Method::Uniform { closest_to_zero: m } => loop {
                let z = self.alpha + (self.beta - self.alpha) * rng.next_f64();
                let accept = libm::exp(0.5 * (m * m - z * z));
                if rng.next_f64() < accept {
                    return z;
                }
            },
        }
    }
}
