//! [`Sampler`]: a [`Distribution`] prepared for drawing (bounds standardized, method
//! chosen), filling one block of a tensor from its [`BlockStream`] with each dtype's own
//! way of turning keystream words into numbers ([`NativeDraw`]).

use super::normal::{self, NativeDraw};
use super::stream::BlockStream;
use super::truncated::TruncatedStandard;
use crate::law::Distribution;

/// An elementwise distribution, ready to draw from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    Constant(f64),
    Uniform {
        low: f64,
        width: f64,
    },
    Normal {
        mean: f64,
        std: f64,
    },
    Truncated {
        mean: f64,
        std: f64,
        low: f64,
        high: f64,
        standard: TruncatedStandard,
    },
}

impl Sampler {
    /// The sampler for an elementwise distribution; `None` for orthogonal and identity,
    /// which are whole-matrix constructions.
    pub fn new(distribution: &Distribution) -> Option<Sampler> {
        Some(match *distribution {
            Distribution::Constant { value } => Sampler::Constant(value),
            Distribution::Uniform { low, high } => Sampler::Uniform {
                low,
                width: high - low,
            },
            Distribution::Normal { mean, std } => Sampler::Normal { mean, std },
            Distribution::TruncatedNormal {
                mean,
                std,
                low,
                high,
            } => Sampler::Truncated {
                mean,
                std,
                low,
                high,
                standard: TruncatedStandard::new((low - mean) / std, (high - mean) / std),
            },
            Distribution::Orthogonal { .. } | Distribution::Identity { .. } => return None,
        })
    }

    /// Fills `out` with the elements of block `block` of the tensor keyed by `key`.
    pub fn fill<E: NativeDraw>(&self, key: &[u8; 32], block: u64, out: &mut [E]) {
        let mut rng = BlockStream::new(key, block);
        match *self {
            Sampler::Constant(value) => out.fill(E::from_f64(value)),
            Sampler::Uniform { low, width } => E::fill_uniform(&mut rng, low, width, out),
            Sampler::Normal { mean, std } => {
                normal::fill(&mut rng, &normal::Window::normal(mean, std), out);
            }
            Sampler::Truncated {
                mean,
                std,
                low,
                high,
                standard,
            } => {
                // mean + std·z can round a hair past a bound: the stored value is clamped.
                if let Some((z_low, z_high)) = standard.normal_proposal_window() {
                    let window = normal::Window {
                        mean,
                        std,
                        z_low,
                        z_high,
                        low,
                        high,
                    };
                    normal::fill(&mut rng, &window, out);
                } else {
                    let t = normal::tables();
                    for x in out.iter_mut() {
                        let z = standard.sample(&mut rng, |r| E::standard_normal_with(t, r));
                        *x = E::from_f64((mean + std * z).clamp(low, high));
                    }
                }
            }
        }
    }
}
