//! [`Sampler`]: a [`Distribution`] prepared for drawing (bounds standardized, method
//! chosen), filling one block of a tensor from its [`BlockStream`]; and [`NativeDraw`],
//! each dtype's own way of turning keystream words into numbers (see `uniform` and
//! `normal`), which is part of the native output contract.

use super::stream::BlockStream;
use super::truncated::TruncatedStandard;
use super::{normal, uniform};
use crate::law::Distribution;
use crate::tensor::dtype::Element;

/// A stored float type's way of turning keystream words into numbers: part of the
/// native stream's contract (f64 takes two words per uniform or ziggurat attempt, f32 and
/// the 16-bit types one).
pub trait NativeDraw: Element {
    /// A standard normal draw, using as many stream bits as this dtype needs.
    fn standard_normal(rng: &mut BlockStream) -> f64;
    /// The same draw with the ziggurat tables passed in (for hot loops).
    fn standard_normal_with(t: &normal::Tables, rng: &mut BlockStream) -> f64;
    /// Fills `out` with `low + width · u`, `u` uniform on [0, 1) at this dtype's
    /// resolution (see [`uniform`]).
    fn fill_uniform(rng: &mut BlockStream, low: f64, width: f64, out: &mut [Self]);
    /// Keystream words one ziggurat attempt takes at this dtype.
    const NORMAL_WORDS: usize;
    /// The ziggurat's rectangle test on the words of one attempt: the signed candidate
    /// and whether it is accepted.
    fn normal_fast_path(t: &normal::Tables, words: &[u32]) -> (f64, bool);
}

impl NativeDraw for f32 {
    #[inline]
    fn standard_normal(rng: &mut BlockStream) -> f64 {
        normal::standard_normal_f32(rng)
    }
    #[inline(always)]
    fn standard_normal_with(t: &normal::Tables, rng: &mut BlockStream) -> f64 {
        normal::standard_normal_f32_with(t, rng)
    }
    fn fill_uniform(rng: &mut BlockStream, low: f64, width: f64, out: &mut [f32]) {
        uniform::fill_uniform_f32(rng, low, width, out)
    }
    const NORMAL_WORDS: usize = 1;
    #[inline(always)]
    fn normal_fast_path(t: &normal::Tables, words: &[u32]) -> (f64, bool) {
        normal::fast_path_f32(t, words[0])
    }
}

impl NativeDraw for f64 {
    #[inline]
    fn standard_normal(rng: &mut BlockStream) -> f64 {
        normal::standard_normal_f64(rng)
    }
    #[inline(always)]
    fn standard_normal_with(t: &normal::Tables, rng: &mut BlockStream) -> f64 {
        normal::standard_normal_f64_with(t, rng)
    }
    fn fill_uniform(rng: &mut BlockStream, low: f64, width: f64, out: &mut [f64]) {
        uniform::fill_uniform_f64(rng, low, width, out)
    }
    const NORMAL_WORDS: usize = 2;
    #[inline(always)]
    fn normal_fast_path(t: &normal::Tables, words: &[u32]) -> (f64, bool) {
        normal::fast_path_f64(t, u64::from(words[0]) | (u64::from(words[1]) << 32))
    }
}

/// The 16-bit types draw exactly as f32 does (one keystream word per uniform or
/// ziggurat attempt) and round the f64 value once to 16 bits.
macro_rules! half_element {
    ($t:ty) => {
        impl NativeDraw for $t {
            #[inline]
            fn standard_normal(rng: &mut BlockStream) -> f64 {
                normal::standard_normal_f32(rng)
            }
            #[inline(always)]
            fn standard_normal_with(t: &normal::Tables, rng: &mut BlockStream) -> f64 {
                normal::standard_normal_f32_with(t, rng)
            }
            fn fill_uniform(rng: &mut BlockStream, low: f64, width: f64, out: &mut [Self]) {
                let mut words = [0u32; 1024];
                for chunk in out.chunks_mut(words.len()) {
                    let words = &mut words[..chunk.len()];
                    rng.fill_u32(words);
                    for (x, &w) in chunk.iter_mut().zip(words.iter()) {
                        *x = <$t>::from_f64(low + width * uniform::unit_f32(w));
                    }
                }
            }
            const NORMAL_WORDS: usize = 1;
            #[inline(always)]
            fn normal_fast_path(t: &normal::Tables, words: &[u32]) -> (f64, bool) {
                normal::fast_path_f32(t, words[0])
            }
        }
    };
}

half_element!(half::f16);
half_element!(half::bf16);

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
