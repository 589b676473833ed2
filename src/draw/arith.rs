//! The two arithmetics of the native stream's transforms, as one trait so that each
//! transform is written once: f32 arithmetic on 32-bit words (f32, f16 and bf16 tensors)
//! and f64 arithmetic on 64-bit words (f64 tensors).

use super::special::{
    ln_core_f32, ln_core_f64, ln_f32, ln_f64, ln_parts_f32, ln_parts_f64, sin_cos_f32, sin_cos_f64,
};

/// f32 or f64, with its word type and the stream's elementary functions.
pub trait Arithmetic:
    'static
    + Copy
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
{
    /// The uniform's word: u32 or u64.
    type Word: Copy
        + Ord
        + std::ops::Not<Output = Self::Word>
        + std::ops::BitAnd<Output = Self::Word>
        + std::ops::Shr<u32, Output = Self::Word>;
    /// Bits in a word: N.
    const BITS: u32;
    /// The word 1.
    const ONE: Self::Word;
    /// 2⁻ᴺ: one word step on the unit interval.
    const UNIT: Self;
    /// Box–Muller: words at or above this one have u = (w + ½)·2⁻ᴺ > √½.
    const RADIUS_SPLIT: Self::Word;
    /// Box–Muller: the low N − 3 bits of a word (the position within an octant).
    const OCTANT_MASK: Self::Word;
    /// Box–Muller: (π/4)·2⁻⁽ᴺ⁻³⁾, one step of the position within an octant, in radians.
    const ANGLE_STEP: Self;
    fn of(x: f64) -> Self;
    /// The word as a float, rounded to nearest (even).
    fn word(w: Self::Word) -> Self;
    fn word_from_f64(x: f64) -> Self::Word;
    fn largest_word() -> Self::Word;
    /// a − b for a ≥ b.
    fn distance(a: Self::Word, b: Self::Word) -> Self::Word;
    /// The top three bits of a word.
    fn octant(w: Self::Word) -> u32;
    fn ln(self) -> Self;
    fn ln_parts(self) -> (Self, Self);
    fn ln_core(f: Self, e: Self) -> Self;
    fn sin_cos(self) -> (Self, Self);
    fn sqrt(self) -> Self;
}

impl Arithmetic for f32 {
    type Word = u32;
    const BITS: u32 = 32;
    const ONE: u32 = 1;
    const UNIT: f32 = 1.0 / 4_294_967_296.0;
    // ⌈√½·2³² − ½⌉: 3037000499.976… − ½.
    const RADIUS_SPLIT: u32 = 3_037_000_500;
    const OCTANT_MASK: u32 = (1 << 29) - 1;
    const ANGLE_STEP: f32 = std::f32::consts::FRAC_PI_4 / (1u32 << 29) as f32;
    #[inline(always)]
    fn of(x: f64) -> f32 {
        x as f32
    }
    #[inline(always)]
    fn word(w: u32) -> f32 {
        w as f32
    }
    fn word_from_f64(x: f64) -> u32 {
        x as u32
    }
    fn largest_word() -> u32 {
        u32::MAX
    }
    #[inline(always)]
    fn distance(a: u32, b: u32) -> u32 {
        a.wrapping_sub(b)
    }
    #[inline(always)]
    fn octant(w: u32) -> u32 {
        w >> 29
    }
    #[inline(always)]
    fn ln(self) -> f32 {
        ln_f32(self)
    }
    #[inline(always)]
    fn ln_parts(self) -> (f32, f32) {
        ln_parts_f32(self)
    }
    #[inline(always)]
    fn ln_core(f: f32, e: f32) -> f32 {
        ln_core_f32(f, e)
    }
    #[inline(always)]
    fn sin_cos(self) -> (f32, f32) {
        sin_cos_f32(self)
    }
    #[inline(always)]
    fn sqrt(self) -> f32 {
        f32::sqrt(self)
    }
}

impl Arithmetic for f64 {
    type Word = u64;
    const BITS: u32 = 64;
    const ONE: u64 = 1;
    const UNIT: f64 = 1.0 / 18_446_744_073_709_551_616.0;
    // ⌈√½·2⁶⁴ − ½⌉: 13043817825332782212.349… − ½.
    const RADIUS_SPLIT: u64 = 13_043_817_825_332_782_212;
    const OCTANT_MASK: u64 = (1 << 61) - 1;
    const ANGLE_STEP: f64 = std::f64::consts::FRAC_PI_4 / (1u64 << 61) as f64;
    #[inline(always)]
    fn of(x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn word(w: u64) -> f64 {
        w as f64
    }
    fn word_from_f64(x: f64) -> u64 {
        x as u64
    }
    fn largest_word() -> u64 {
        u64::MAX
    }
    #[inline(always)]
    fn distance(a: u64, b: u64) -> u64 {
        a.wrapping_sub(b)
    }
    #[inline(always)]
    fn octant(w: u64) -> u32 {
        (w >> 61) as u32
    }
    #[inline(always)]
    fn ln(self) -> f64 {
        ln_f64(self)
    }
    #[inline(always)]
    fn ln_parts(self) -> (f64, f64) {
        ln_parts_f64(self)
    }
    #[inline(always)]
    fn ln_core(f: f64, k: f64) -> f64 {
        ln_core_f64(f, k)
    }
    #[inline(always)]
    fn sin_cos(self) -> (f64, f64) {
        sin_cos_f64(self)
    }
    #[inline(always)]
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
}
