//! Uniform draws on [low, high).
//!
//! f32 tensors take the top 24 bits of one word, `u = (w >> 8) · 2⁻²⁴`; f64 tensors the
//! top 53 bits of two words, `u = (w64 >> 11) · 2⁻⁵³`. The value is
//! `low + (high − low) · u`, computed in f64 with no fused multiply-add, then rounded
//! once to the tensor's dtype. (Rounding to f32 can land on `high` itself when `high` is
//! not an f32; the report's bounds allow for that.)

use crate::rng::BlockStream;

/// A uniform draw for an f32 tensor, before the final rounding.
#[inline]
pub fn uniform_f32(rng: &mut BlockStream, low: f64, width: f64) -> f64 {
    let u = (rng.next_u32() >> 8) as f64 * (1.0 / (1u32 << 24) as f64);
    low + width * u
}

/// A uniform draw for an f64 tensor.
#[inline]
pub fn uniform_f64(rng: &mut BlockStream, low: f64, width: f64) -> f64 {
    low + width * rng.next_f64()
}
