//! Uniform draws on [low, high).
//!
//! f32, f16 and bf16 tensors take the top 24 bits of their word, `u = (w >> 8)·2⁻²⁴`;
//! f64 tensors the top 53 bits of their 64-bit word, `u = (w64 >> 11)·2⁻⁵³`. The value is
//! `low + (high − low)·u`, computed in f64 with no fused multiply-add, then rounded once
//! to f32 or f64 (16-bit types: the f32 value rounded once more). Rounding to f32 can
//! land on `high` itself when `high` is not an f32; the report's bounds allow for that.

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

crate::simd::dispatched! {
    /// f32 uniforms on [low, low + width), one word each.
    pub fn fill_f32(words: &[u32], low: f64, width: f64, out: &mut [f32]) = fill_f32_body;
}

#[inline(always)]
fn fill_f32_body(words: &[u32], low: f64, width: f64, out: &mut [f32]) {
    for (x, &w) in out.iter_mut().zip(words.iter()) {
        *x = (low + width * unit_f32(w)) as f32;
    }
}

crate::simd::dispatched! {
    /// f64 uniforms on [low, low + width), two words each.
    pub fn fill_f64(words: &[u32], low: f64, width: f64, out: &mut [f64]) = fill_f64_body;
}

#[inline(always)]
fn fill_f64_body(words: &[u32], low: f64, width: f64, out: &mut [f64]) {
    for (x, pair) in out.iter_mut().zip(words.chunks_exact(2)) {
        *x = low + width * unit_f64(pair[0], pair[1]);
    }
}
