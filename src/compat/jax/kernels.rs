//! `jax.random.uniform`, `normal` and `truncated_normal` for float32, float64, float16
//! and bfloat16 on CPU, bit for bit, elementwise from the words of [`super::bits`].
//!
//! Every sampler is `uniform` followed (for the normals) by `√2 · erf_inv`:
//!
//! - **Words.** float64 takes 64-bit words, float32 32-bit, float16 16-bit, and
//!   bfloat16 *8-bit* words (`_uniform` draws the dtype's width in bits, except 8 bits
//!   for types with fewer than 8 mantissa bits: bfloat16 has 7); the 8 bits are widened
//!   to 16 and shifted right by 1, so only their top 7 are used.
//! - **uniform(minval, maxval)** (`_uniform`): the bounds are converted to the dtype;
//!   `f = bitcast((word >> (bits − nmant)) | bits(1.0)) − 1` in [0, 1); then
//!   `max(minval, f · (maxval − minval) + minval)` with XLA's NaN-propagating `max`.
//!   In f32 and f64 the multiply-add is one FMA (see [`super::xla_math`]); in f16 and
//!   bf16 each operation is done in f32 and rounded to the dtype.
//! - **normal** (`_normal_real`): `uniform(nextafter(−1, 0), 1)` (the width 1 − lo
//!   rounds to exactly 2), then `erf_inv(u) · √2` with √2 rounded to the dtype. f16 and
//!   bf16 evaluate `erf_inv` in f32 ([`xla_erf_inv_f32`]) and round its result, then
//!   multiply in the dtype.
//! - **truncated_normal(lower, upper)** (`_truncated_normal`, bounds passed at run time
//!   as in an eager call): a = erf(lower · (1/√2)), b = erf(upper · (1/√2)) — XLA turns
//!   the division by √2 into a multiplication by the dtype's 1/√2 (bfloat16: by the f32
//!   reciprocal of bf16 √2) —, u = uniform(a, b), x = √2 · erf_inv(u), then
//!   `min(nextafter(upper, −∞), max(nextafter(lower, +∞), x))`.

use half::{bf16, f16};

use super::bits::{fill_bits8, fill_bits16, fill_bits32, fill_bits64};
use super::key::JaxKey;
use super::xla_math::{
    maximum_f32, maximum_f64, minimum_f32, minimum_f64, nextafter_f32, nextafter_f64, round_bf16,
    round_f16, xla_erf_f32, xla_erf_f64, xla_erf_inv_f32, xla_erf_inv_f64,
};

/// A sampler and its parameters, already in the dtype (JAX converts Python floats to
/// the dtype before anything else).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Law<T> {
    /// `jax.random.uniform(key, shape, dtype, minval, maxval)`.
    Uniform { minval: T, maxval: T },
    /// `jax.random.normal(key, shape, dtype)`.
    Normal,
    /// `jax.random.truncated_normal(key, lower, upper, shape, dtype)`.
    TruncatedNormal { lower: T, upper: T },
}

/// Elements drawn per batch by the `fill_*` functions (words are drawn into a buffer of
/// this size on the stack, then transformed).
const BATCH: usize = 4096;

/// √2 as `np.array(np.sqrt(2), float32)`.
const SQRT2_F32: f32 = std::f32::consts::SQRT_2;
/// √2 in bfloat16 and float16 (both 1.4140625).
const SQRT2_HALF: f32 = 1.414_062_5;

/// The f32 sampler, ready to map 32-bit words to values.
#[derive(Debug, Clone, Copy)]
pub struct PreparedF32 {
    lo: f32,
    width: f32,
    inverse: bool,
    clamp_lo: f32,
    clamp_hi: f32,
}

impl PreparedF32 {
    pub fn new(law: Law<f32>) -> PreparedF32 {
        match law {
            Law::Uniform { minval, maxval } => PreparedF32 {
                lo: minval,
                width: maxval - minval,
                inverse: false,
                clamp_lo: f32::NEG_INFINITY,
                clamp_hi: f32::INFINITY,
            },
            Law::Normal => {
                let lo = nextafter_f32(-1.0, 0.0);
                PreparedF32 {
                    lo,
                    width: 1.0 - lo,
                    inverse: true,
                    clamp_lo: f32::NEG_INFINITY,
                    clamp_hi: f32::INFINITY,
                }
            }
            Law::TruncatedNormal { lower, upper } => {
                let inv_sqrt2 = 1.0 / SQRT2_F32;
                let a = xla_erf_f32(lower * inv_sqrt2);
                let b = xla_erf_f32(upper * inv_sqrt2);
                PreparedF32 {
                    lo: a,
                    width: b - a,
                    inverse: true,
                    clamp_lo: nextafter_f32(lower, f32::INFINITY),
                    clamp_hi: nextafter_f32(upper, f32::NEG_INFINITY),
                }
            }
        }
    }

    /// The values of `words` (one word per element).
    pub fn apply(&self, words: &[u32], out: &mut [f32]) {
        assert_eq!(words.len(), out.len());
        if self.inverse {
            apply_inverse_f32(self, words, out);
        } else {
            for (x, &w) in out.iter_mut().zip(words) {
                *x = uniform_f32(w, self.lo, self.width);
            }
        }
    }
}

/// `max(lo, (f − 1) · width + lo)` with f = 1.mantissa from the top 23 bits.
#[inline(always)]
pub fn uniform_f32(word: u32, lo: f32, width: f32) -> f32 {
    let f = f32::from_bits((word >> 9) | 0x3F80_0000) - 1.0;
    maximum_f32(lo, f.mul_add(width, lo))
}

crate::simd::dispatched! {
    fn apply_inverse_f32(prepared: &PreparedF32, words: &[u32], out: &mut [f32]) = apply_inverse_f32_body;
}

#[inline(always)]
fn apply_inverse_f32_body(p: &PreparedF32, words: &[u32], out: &mut [f32]) {
    for (x, &w) in out.iter_mut().zip(words) {
        let u = uniform_f32(w, p.lo, p.width);
        let v = xla_erf_inv_f32(u) * SQRT2_F32;
        *x = minimum_f32(p.clamp_hi, maximum_f32(p.clamp_lo, v));
    }
}

/// The f64 sampler (64-bit words).
#[derive(Debug, Clone, Copy)]
pub struct PreparedF64 {
    lo: f64,
    width: f64,
    inverse: bool,
    clamp_lo: f64,
    clamp_hi: f64,
}

impl PreparedF64 {
    pub fn new(law: Law<f64>) -> PreparedF64 {
        match law {
            Law::Uniform { minval, maxval } => PreparedF64 {
                lo: minval,
                width: maxval - minval,
                inverse: false,
                clamp_lo: f64::NEG_INFINITY,
                clamp_hi: f64::INFINITY,
            },
            Law::Normal => {
                let lo = nextafter_f64(-1.0, 0.0);
                PreparedF64 {
                    lo,
                    width: 1.0 - lo,
                    inverse: true,
                    clamp_lo: f64::NEG_INFINITY,
                    clamp_hi: f64::INFINITY,
                }
            }
            Law::TruncatedNormal { lower, upper } => {
                let inv_sqrt2 = 1.0 / std::f64::consts::SQRT_2;
                let a = xla_erf_f64(lower * inv_sqrt2);
                let b = xla_erf_f64(upper * inv_sqrt2);
                PreparedF64 {
                    lo: a,
                    width: b - a,
                    inverse: true,
                    clamp_lo: nextafter_f64(lower, f64::INFINITY),
                    clamp_hi: nextafter_f64(upper, f64::NEG_INFINITY),
                }
            }
        }
    }

    pub fn apply(&self, words: &[u64], out: &mut [f64]) {
        assert_eq!(words.len(), out.len());
        apply_f64(self, words, out);
    }
}

crate::simd::dispatched! {
    fn apply_f64(prepared: &PreparedF64, words: &[u64], out: &mut [f64]) = apply_f64_body;
}

#[inline(always)]
fn apply_f64_body(p: &PreparedF64, words: &[u64], out: &mut [f64]) {
    for (x, &w) in out.iter_mut().zip(words) {
        let f = f64::from_bits((w >> 12) | 0x3FF0_0000_0000_0000) - 1.0;
        let u = maximum_f64(p.lo, f.mul_add(p.width, p.lo));
        *x = if p.inverse {
            let v = xla_erf_inv_f64(u) * std::f64::consts::SQRT_2;
            minimum_f64(p.clamp_hi, maximum_f64(p.clamp_lo, v))
        } else {
            u
        };
    }
}

/// A 16-bit float type: how its operations round, its `nextafter`, and its uniform's
/// first value from a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    F16,
    Bf16,
}

impl Half {
    #[inline(always)]
    fn round(self, x: f32) -> f32 {
        match self {
            Half::F16 => round_f16(x),
            Half::Bf16 => round_bf16(x),
        }
    }

    fn bits(self, x: f32) -> u16 {
        match self {
            Half::F16 => f16::from_f32(x).to_bits(),
            Half::Bf16 => bf16::from_f32(x).to_bits(),
        }
    }

    fn value_of_bits(self, b: u16) -> f32 {
        match self {
            Half::F16 => f16::from_bits(b).to_f32(),
            Half::Bf16 => bf16::from_bits(b).to_f32(),
        }
    }

    /// `nextafter` in the dtype (x and the result representable in it).
    fn nextafter(self, x: f32, toward: f32) -> f32 {
        if x.is_nan() || toward.is_nan() {
            return f32::NAN;
        }
        if x == toward {
            return toward;
        }
        if x == 0.0 {
            let tiny = self.value_of_bits(1);
            return if toward > 0.0 { tiny } else { -tiny };
        }
        let bits = self.bits(x);
        let away_from_zero = (toward > x) == (x > 0.0);
        self.value_of_bits(if away_from_zero { bits + 1 } else { bits - 1 })
    }

    /// The dtype's 1/√2 as XLA folds `x / √2` into a multiplication: float16 rounds the
    /// reciprocal to float16 (0.70703125), bfloat16 keeps it in f32 (its arithmetic is
    /// already widened to f32 when the division is rewritten).
    fn inv_sqrt2(self) -> f32 {
        match self {
            Half::F16 => round_f16(1.0 / SQRT2_HALF),
            Half::Bf16 => 1.0 / SQRT2_HALF,
        }
    }
}

/// The float16 or bfloat16 sampler; values are carried as f32 holding dtype values.
#[derive(Debug, Clone, Copy)]
struct PreparedHalf {
    kind: Half,
    lo: f32,
    width: f32,
    inverse: bool,
    clamp_lo: f32,
    clamp_hi: f32,
}

impl PreparedHalf {
    fn new(kind: Half, law: Law<f32>) -> PreparedHalf {
        let r = |x: f32| kind.round(x);
        match law {
            Law::Uniform { minval, maxval } => PreparedHalf {
                kind,
                lo: minval,
                width: r(maxval - minval),
                inverse: false,
                clamp_lo: f32::NEG_INFINITY,
                clamp_hi: f32::INFINITY,
            },
            Law::Normal => {
                let lo = kind.nextafter(-1.0, 0.0);
                PreparedHalf {
                    kind,
                    lo,
                    width: r(1.0 - lo),
                    inverse: true,
                    clamp_lo: f32::NEG_INFINITY,
                    clamp_hi: f32::INFINITY,
                }
            }
            Law::TruncatedNormal { lower, upper } => {
                let inv_sqrt2 = kind.inv_sqrt2();
                let a = r(xla_erf_f32(r(lower * inv_sqrt2)));
                let b = r(xla_erf_f32(r(upper * inv_sqrt2)));
                PreparedHalf {
                    kind,
                    lo: a,
                    width: r(b - a),
                    inverse: true,
                    clamp_lo: kind.nextafter(lower, f32::INFINITY),
                    clamp_hi: kind.nextafter(upper, f32::NEG_INFINITY),
                }
            }
        }
    }

    /// One value from its uniform's [1, 2) value `one_plus`.
    #[inline(always)]
    fn value(&self, one_plus: f32) -> f32 {
        let r = |x: f32| self.kind.round(x);
        let f = r(one_plus - 1.0);
        let u = maximum_f32(self.lo, r(r(f * self.width) + self.lo));
        if !self.inverse {
            return u;
        }
        let v = r(r(xla_erf_inv_f32(u)) * SQRT2_HALF);
        minimum_f32(self.clamp_hi, maximum_f32(self.clamp_lo, v))
    }
}

/// float16: `jax.random.uniform`/`normal`/`truncated_normal` from 16-bit words (the top
/// 10 bits are the mantissa).
pub fn apply_f16(law: Law<f16>, words: &[u16], out: &mut [f16]) {
    assert_eq!(words.len(), out.len());
    let p = PreparedHalf::new(Half::F16, law_to_f32(law, f16::to_f32));
    for (x, &w) in out.iter_mut().zip(words) {
        let one_plus = f16::from_bits((w >> 6) | 0x3C00).to_f32();
        *x = f16::from_f32(p.value(one_plus));
    }
}

/// bfloat16: the same from 8-bit words (the top 7 bits are the mantissa).
pub fn apply_bf16(law: Law<bf16>, words: &[u8], out: &mut [bf16]) {
    assert_eq!(words.len(), out.len());
    let p = PreparedHalf::new(Half::Bf16, law_to_f32(law, bf16::to_f32));
    for (x, &w) in out.iter_mut().zip(words) {
        let one_plus = bf16::from_bits((u16::from(w) >> 1) | 0x3F80).to_f32();
        *x = bf16::from_f32(p.value(one_plus));
    }
}

fn law_to_f32<T: Copy>(law: Law<T>, to: impl Fn(T) -> f32) -> Law<f32> {
    match law {
        Law::Uniform { minval, maxval } => Law::Uniform {
            minval: to(minval),
            maxval: to(maxval),
        },
        Law::Normal => Law::Normal,
        Law::TruncatedNormal { lower, upper } => Law::TruncatedNormal {
            lower: to(lower),
            upper: to(upper),
        },
    }
}

/// Flat elements `start..start + out.len()` of the float32 tensor of `shape` that
/// `law` draws from `key`.
pub fn fill_f32(
    key: JaxKey,
    shape: &[usize],
    partitionable: bool,
    law: Law<f32>,
    start: usize,
    out: &mut [f32],
) {
    let prepared = PreparedF32::new(law);
    let mut words = [0u32; BATCH];
    for (b, chunk) in out.chunks_mut(BATCH).enumerate() {
        let words = &mut words[..chunk.len()];
        fill_bits32(key, shape, partitionable, start + b * BATCH, words);
        prepared.apply(words, chunk);
    }
}

/// [`fill_f32`] for float64 (needs `jax_enable_x64` in JAX).
pub fn fill_f64(
    key: JaxKey,
    shape: &[usize],
    partitionable: bool,
    law: Law<f64>,
    start: usize,
    out: &mut [f64],
) {
    let prepared = PreparedF64::new(law);
    let mut words = [0u64; BATCH];
    for (b, chunk) in out.chunks_mut(BATCH).enumerate() {
        let words = &mut words[..chunk.len()];
        fill_bits64(key, shape, partitionable, start + b * BATCH, words);
        prepared.apply(words, chunk);
    }
}

/// [`fill_f32`] for float16.
pub fn fill_f16(
    key: JaxKey,
    shape: &[usize],
    partitionable: bool,
    law: Law<f16>,
    start: usize,
    out: &mut [f16],
) {
    let mut words = [0u16; BATCH];
    for (b, chunk) in out.chunks_mut(BATCH).enumerate() {
        let words = &mut words[..chunk.len()];
        fill_bits16(key, shape, partitionable, start + b * BATCH, words);
        apply_f16(law, words, chunk);
    }
}

/// [`fill_f32`] for bfloat16.
pub fn fill_bf16(
    key: JaxKey,
    shape: &[usize],
    partitionable: bool,
    law: Law<bf16>,
    start: usize,
    out: &mut [bf16],
) {
    let mut words = [0u8; BATCH];
    for (b, chunk) in out.chunks_mut(BATCH).enumerate() {
        let words = &mut words[..chunk.len()];
        fill_bits8(key, shape, partitionable, start + b * BATCH, words);
        apply_bf16(law, words, chunk);
    }
}
