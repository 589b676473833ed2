//! [`Sampler`]: an elementwise [`Distribution`] prepared for drawing, and [`DrawElement`]:
//! each dtype's way of turning keystream words into numbers.
//!
//! [`Sampler::fill`] draws any range of a tensor's elements: it reads exactly the words
//! the contract assigns to those elements (see [`super::keystream`]), so a range equals
//! that slice of the whole tensor.

use half::slice::HalfFloatSliceExt;

use super::keystream::Keystream;
use super::truncated::{self, Window};
use super::{normal, special, uniform};
use crate::array::dtype::Element;
use crate::law::Distribution;

/// Elements drawn per pass through the keystream and the transform: small enough for
/// the words and the values to stay in the L1/L2 cache.
const CHUNK: usize = 2048;

/// An elementwise distribution, ready to draw from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    Constant(f64),
    Uniform {
        low: f64,
        width: f64,
    },
    /// Box–Muller pairs (see [`super::normal`]).
    Normal {
        mean: f64,
        std: f64,
    },
    /// Inverse CDF on the window (see [`super::truncated`]).
    Truncated(Window),
    /// ln(n + 1), n = element index mod `last`: nothing read from the keystream.
    S4dRealLog {
        last: u64,
    },
    /// Mamba's dt bias: one uniform u per element (the words of a `uniform` element),
    /// dt = max(exp(log_min + log_span·u), floor), value ln(e^dt − 1) — in f64 with the
    /// functions of [`super::special`], rounded once to f32 or f64 (16-bit types: the f32
    /// value rounded once more).
    DtBias {
        log_min: f64,
        log_span: f64,
        floor: f64,
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
            } => Sampler::Truncated(Window::truncated(mean, std, low, high)),
            Distribution::S4dRealLog { last } => Sampler::S4dRealLog {
                last: last.max(1) as u64,
            },
            Distribution::MambaDtBias {
                dt_min,
                dt_max,
                floor,
            } => {
                // ln via the native stream's own logarithm, once per tensor.
                let log_min = special::ln_f64(dt_min);
                Sampler::DtBias {
                    log_min,
                    log_span: special::ln_f64(dt_max) - log_min,
                    floor,
                }
            }
            Distribution::Orthogonal { .. }
            | Distribution::Identity { .. }
            | Distribution::Dirac { .. }
            | Distribution::DeltaOrthogonal { .. }
            | Distribution::Sparse { .. }
            | Distribution::LstmBias { .. } => return None,
        })
    }

    /// Fills `out` with elements `first .. first + out.len()` of the tensor whose
    /// keystream is `keystream`.
    pub fn fill<E: DrawElement>(&self, keystream: &Keystream, first: u64, out: &mut [E]) {
        match *self {
            Sampler::Constant(value) => out.fill(E::from_f64(value)),
            Sampler::Normal { mean, std } => fill_pairs(keystream, first, out, |words, pairs| {
                E::normal(words, mean, std, pairs)
            }),
            Sampler::Uniform { low, width } => {
                fill_singles(keystream, first, out, |w, o| E::uniform(w, low, width, o))
            }
            Sampler::Truncated(ref window) => {
                fill_singles(keystream, first, out, |w, o| E::truncated(w, window, o))
            }
            Sampler::S4dRealLog { last } => {
                for (j, x) in out.iter_mut().enumerate() {
                    let n = (first + j as u64) % last;
                    *x = E::from_value(special::ln_f64((n + 1) as f64));
                }
            }
            Sampler::DtBias {
                log_min,
                log_span,
                floor,
            } => fill_singles(keystream, first, out, |words, out| {
                for (j, x) in out.iter_mut().enumerate() {
                    let u = if E::WORDS == 1 {
                        uniform::unit_f32(words[j])
                    } else {
                        uniform::unit_f64(words[2 * j], words[2 * j + 1])
                    };
                    let dt = special::exp_f64(log_min + log_span * u).max(floor);
                    *x = E::from_value(special::inverse_softplus(dt));
                }
            }),
        }
    }
}

/// Elements that read [`DrawElement::WORDS`] words each, chunk by chunk.
fn fill_singles<E: DrawElement>(
    keystream: &Keystream,
    first: u64,
    out: &mut [E],
    mut draw: impl FnMut(&[u32], &mut [E]),
) {
    let mut words = [0u32; 2 * CHUNK];
    let mut element = first;
    for chunk in out.chunks_mut(CHUNK) {
        let words = &mut words[..E::WORDS * chunk.len()];
        keystream.fill(element * E::WORDS as u64, words);
        draw(words, chunk);
        element += chunk.len() as u64;
    }
}

/// Elements drawn in pairs (2j, 2j + 1) from 2·[`DrawElement::WORDS`] words per pair. A
/// range that starts or ends inside a pair draws that whole pair and keeps its half.
fn fill_pairs<E: DrawElement>(
    keystream: &Keystream,
    first: u64,
    out: &mut [E],
    mut draw: impl FnMut(&[u32], &mut [E]),
) {
    let pair_words = 2 * E::WORDS;
    let mut words = [0u32; 2 * CHUNK];
    let mut draw_pairs = |first_pair: u64, out: &mut [E]| {
        let words = &mut words[..pair_words * out.len() / 2];
        keystream.fill(first_pair * pair_words as u64, words);
        draw(words, out);
    };
    let (mut element, mut out) = (first, out);
    if element % 2 == 1 && !out.is_empty() {
        let mut pair = [E::default(); 2];
        draw_pairs(element / 2, &mut pair);
        out[0] = pair[1];
        out = &mut out[1..];
        element += 1;
    }
    for chunk in out.chunks_mut(CHUNK) {
        let even = chunk.len() & !1;
        draw_pairs(element / 2, &mut chunk[..even]);
        if even < chunk.len() {
            let mut pair = [E::default(); 2];
            draw_pairs((element + even as u64) / 2, &mut pair);
            chunk[even] = pair[0];
        }
        element += chunk.len() as u64;
    }
}

/// A stored float type's way of turning keystream words into numbers: part of the
/// native stream's contract.
pub trait DrawElement: Element + bytemuck::Zeroable {
    /// Keystream words per uniform: 2 for f64, 1 for the others.
    const WORDS: usize;
    /// `low + width·u` for each element's words (see [`uniform`]).
    fn uniform(words: &[u32], low: f64, width: f64, out: &mut [Self]);
    /// Normal pairs for each pair's words (see [`normal`]); `out.len()` is even.
    fn normal(words: &[u32], mean: f64, std: f64, out: &mut [Self]);
    /// A truncated normal draw for each element's words (see [`truncated`]).
    fn truncated(words: &[u32], window: &Window, out: &mut [Self]);
    /// A value computed in f64, rounded once to f32 or f64; the 16-bit types round the
    /// f32 value once more, as every 16-bit tensor holds its f32 tensor's values rounded.
    fn from_value(x: f64) -> Self;
}

impl DrawElement for f32 {
    const WORDS: usize = 1;
    fn uniform(words: &[u32], low: f64, width: f64, out: &mut [f32]) {
        uniform::fill_f32(words, low, width, out);
    }
    fn normal(words: &[u32], mean: f64, std: f64, out: &mut [f32]) {
        normal::fill_f32(words, mean, std, out);
    }
    fn truncated(words: &[u32], window: &Window, out: &mut [f32]) {
        truncated::fill_f32(words, window, out);
    }
    fn from_value(x: f64) -> f32 {
        x as f32
    }
}

impl DrawElement for f64 {
    const WORDS: usize = 2;
    fn uniform(words: &[u32], low: f64, width: f64, out: &mut [f64]) {
        uniform::fill_f64(words, low, width, out);
    }
    fn normal(words: &[u32], mean: f64, std: f64, out: &mut [f64]) {
        normal::fill_f64(words, mean, std, out);
    }
    fn truncated(words: &[u32], window: &Window, out: &mut [f64]) {
        truncated::fill_f64(words, window, out);
    }
    fn from_value(x: f64) -> f64 {
        x
    }
}

/// The 16-bit types hold the f32 tensor's values rounded once more (to nearest, ties to
/// even): they draw through f32 and convert in bulk.
macro_rules! half_element {
    ($t:ty, $convert:path) => {
        impl DrawElement for $t {
            const WORDS: usize = 1;
            fn uniform(words: &[u32], low: f64, width: f64, out: &mut [Self]) {
                let draw = |single: &mut [f32]| uniform::fill_f32(words, low, width, single);
                through_f32(out, draw, $convert);
            }
            fn normal(words: &[u32], mean: f64, std: f64, out: &mut [Self]) {
                through_f32(
                    out,
                    |single| normal::fill_f32(words, mean, std, single),
                    $convert,
                );
            }
            fn truncated(words: &[u32], window: &Window, out: &mut [Self]) {
                through_f32(
                    out,
                    |single| truncated::fill_f32(words, window, single),
                    $convert,
                );
            }
            fn from_value(x: f64) -> Self {
                <$t>::from_f32(x as f32)
            }
        }
    };
}

/// Draws `out.len()` f32 values with `draw` and rounds them into `out` with `convert`.
fn through_f32<H>(out: &mut [H], draw: impl FnOnce(&mut [f32]), convert: fn(&mut [H], &[f32])) {
    let mut single = [0f32; CHUNK];
    let single = &mut single[..out.len()];
    draw(single);
    convert(out, single);
}

/// f32 → f16 with half's slice conversion (F16C's `vcvtps2ph` when the CPU has it).
fn to_f16(out: &mut [half::f16], single: &[f32]) {
    out.convert_from_f32_slice(single);
}

crate::simd::dispatched! {
    /// f32 → bf16, round to nearest, ties to even — `half::bf16::from_f32` written as
    /// branch-free integer operations so that it vectorizes (the NaN case, which the
    /// samplers never produce, still gives a quiet NaN).
    fn to_bf16(out: &mut [half::bf16], single: &[f32]) = to_bf16_body;
}

#[inline(always)]
fn to_bf16_body(out: &mut [half::bf16], single: &[f32]) {
    for (h, &x) in out.iter_mut().zip(single) {
        let bits = x.to_bits();
        let rounded = bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) >> 16;
        let nan = (bits & 0x7fff_ffff) > 0x7f80_0000;
        let bits16 = if nan { (bits >> 16) | 0x40 } else { rounded };
        *h = half::bf16::from_bits(bits16 as u16);
    }
}

half_element!(half::f16, to_f16);
half_element!(half::bf16, to_bf16);

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectorized bf16 rounding is half's, on every kind of f32: ties both ways,
    /// subnormals, the largest finite values, infinities, and NaN (a NaN either way).
    #[test]
    fn bf16_rounding_equals_half() {
        let mut xs: Vec<f32> = vec![0.0, -0.0, f32::MAX, -f32::MAX, f32::INFINITY, 1e-40, -3e-39];
        xs.extend((0..200_000u32).map(|i| f32::from_bits(i.wrapping_mul(2_654_435_761))));
        xs.extend((0..1000u32).map(|i| f32::from_bits(0x3f80_8000 + (i << 16)))); // exact ties
        let mut ours = vec![half::bf16::ZERO; xs.len()];
        for (o, x) in ours.chunks_mut(CHUNK).zip(xs.chunks(CHUNK)) {
            to_bf16(o, x);
        }
        for (x, h) in xs.iter().zip(&ours) {
            let want = half::bf16::from_f32(*x);
            if x.is_nan() {
                assert!(h.is_nan(), "{x}");
            } else {
                assert_eq!(h.to_bits(), want.to_bits(), "{x:e}");
            }
        }
    }
}
