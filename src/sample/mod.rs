//! Samplers: fill one block of a tensor from its [`BlockStream`].
//!
//! [`Sampler`] is a [`Distribution`] prepared for drawing (bounds standardized, method
//! chosen). [`Element`] abstracts the stored float type; each dtype has its own way of
//! turning keystream words into numbers (see `uniform` and `normal`), which is part of
//! the native output contract.

mod c_math;
pub mod normal;
pub mod numpy;
mod numpy_tables;
pub mod orthogonal;
pub mod torch;
pub mod truncated;
pub mod uniform;

use std::fmt;

use serde::Serialize;

use crate::distribution::Distribution;
use crate::rng::BlockStream;
use truncated::TruncatedStandard;

/// A shape as a Python tuple literal: `(784, 128)`, `(128,)`, for the framework code
/// the framework-exact streams print.
pub(crate) fn python_tuple(dims: &[usize]) -> String {
    match dims {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The float type of a stored tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    #[default]
    #[value(alias = "float32")]
    F32,
    #[value(alias = "float64")]
    F64,
    /// IEEE half precision (safetensors F16, NumPy float16).
    #[value(alias = "float16", alias = "half")]
    F16,
    /// bfloat16 (safetensors BF16; NumPy has no such dtype).
    #[value(alias = "bfloat16")]
    Bf16,
}

impl DType {
    /// The largest finite value the type holds (65504 for f16).
    pub fn largest_finite(self) -> f64 {
        match self {
            DType::F32 => f64::from(f32::MAX),
            DType::F64 => f64::MAX,
            DType::F16 => half::f16::MAX.to_f64(),
            DType::Bf16 => half::bf16::MAX.to_f64(),
        }
    }
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
            DType::F16 | DType::Bf16 => 2,
        }
    }

    /// Whether this is a 16-bit type (drawn like f32, rounded once to 16 bits).
    pub fn is_half(self) -> bool {
        matches!(self, DType::F16 | DType::Bf16)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::F16 => "f16",
            DType::Bf16 => "bf16",
        })
    }
}

/// A stored float type and the dtype-specific draws.
pub trait Element: Copy + Send + Sync + Default + 'static {
    const DTYPE: DType;
    /// Rounds a value computed in f64 to this type (round to nearest, ties to even).
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
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

impl Element for f32 {
    const DTYPE: DType = DType::F32;
    #[inline]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
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

impl Element for f64 {
    const DTYPE: DType = DType::F64;
    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
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
    ($t:ty, $dtype:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dtype;
            #[inline]
            fn from_f64(x: f64) -> Self {
                <$t>::from_f64(x)
            }
            #[inline]
            fn to_f64(self) -> f64 {
                <$t>::to_f64(self)
            }
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

half_element!(half::f16, DType::F16);
half_element!(half::bf16, DType::Bf16);

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
    pub fn fill<E: Element>(&self, key: &[u8; 32], block: u64, out: &mut [E]) {
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
