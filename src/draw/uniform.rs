//! Uniform draws on [low, high).
//!
//! f32 tensors take the top 24 bits of one word, `u = (w >> 8) · 2⁻²⁴`; f64 tensors the
//! top 53 bits of two words (low half first), `u = (w64 >> 11) · 2⁻⁵³`. The value is
//! `low + (high − low) · u`, computed in f64 with no fused multiply-add, then rounded
//! once to the tensor's dtype. (Rounding to f32 can land on `high` itself when `high` is
//! not an f32; the report's bounds allow for that.)
//!
//! The words are taken from the stream in bulk, so the mapping loops vectorize (compiled
//! per vector level, see [`crate::simd`]).

use super::stream::BlockStream;

/// Words drawn per batch.
const BATCH_WORDS: usize = 4096;

/// The f32-resolution unit value of one word.
#[inline(always)]
pub fn unit_f32(word: u32) -> f64 {
    (word >> 8) as f64 * (1.0 / (1u32 << 24) as f64)
}

/// The f64-resolution unit value of two words, the first being the low half.
#[inline(always)]
pub fn unit_f64(low_word: u32, high_word: u32) -> f64 {
    let bits = u64::from(low_word) | (u64::from(high_word) << 32);
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Fills `out` with uniforms on [low, low + width) at f32 resolution, one word each.
pub fn fill_uniform_f32(rng: &mut BlockStream, low: f64, width: f64, out: &mut [f32]) {
    let mut words = [0u32; BATCH_WORDS];
    for chunk in out.chunks_mut(BATCH_WORDS) {
        let words = &mut words[..chunk.len()];
        rng.fill_u32(words);
        map_f32(words, low, width, chunk);
    }
}

crate::simd::dispatched! {
    fn map_f32(words: &[u32], low: f64, width: f64, out: &mut [f32]) = map_f32_body;
}

#[inline(always)]
fn map_f32_body(words: &[u32], low: f64, width: f64, out: &mut [f32]) {
    for (x, &w) in out.iter_mut().zip(words.iter()) {
        *x = (low + width * unit_f32(w)) as f32;
    }
}

/// Fills `out` with uniforms on [low, low + width) at f64 resolution, two words each.
pub fn fill_uniform_f64(rng: &mut BlockStream, low: f64, width: f64, out: &mut [f64]) {
    let mut words = [0u32; BATCH_WORDS];
    for chunk in out.chunks_mut(BATCH_WORDS / 2) {
        let words = &mut words[..2 * chunk.len()];
        rng.fill_u32(words);
        map_f64(words, low, width, chunk);
    }
}

crate::simd::dispatched! {
    fn map_f64(words: &[u32], low: f64, width: f64, out: &mut [f64]) = map_f64_body;
}

#[inline(always)]
fn map_f64_body(words: &[u32], low: f64, width: f64, out: &mut [f64]) {
    for (x, pair) in out.iter_mut().zip(words.chunks_exact(2)) {
        *x = low + width * unit_f64(pair[0], pair[1]);
    }
}
