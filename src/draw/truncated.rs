//! Truncated normal draws by the inverse CDF: one uniform per element, no rejection, so
//! element i depends on its own keystream word(s) alone.
//!
//! Element i's word w (f32 path: keystream word i; f64 path: the 64-bit word from words
//! 2i and 2i + 1, low half first) is the uniform u = (w + ½)·2⁻ᴺ in (0, 1), N = 32 or
//! 64. On the standardized window [α, β] the draw is z = Φ⁻¹(Φ(α) + u·(Φ(β) − Φ(α))).
//! Φ⁻¹ is Wichura's algorithm AS 241 ("The percentage points of the normal
//! distribution", Applied Statistics 37, 1988): PPND7 (7 digits) in f32 arithmetic for
//! f32 and 16-bit tensors, PPND16 (16 digits) in f64 arithmetic for f64 tensors. The
//! regions of AS 241 that the window's words can reach ([`Reach`]) are computed for every
//! element and the right one selected, so the loop has no branches and vectorizes.
//!
//! The three quantities AS 241 needs are formed from the integer word so that no
//! cancellation loses what the word says:
//!
//! * lower-tail probability p₋ = Φ(α) + (w + ½)·m·2⁻ᴺ,
//! * upper-tail probability p₊ = Q(β) + (!w + ½)·m·2⁻ᴺ (!w = 2ᴺ − 1 − w, so !w + ½ is the
//!   exact complement of w + ½),
//! * centred offset q = u' − ½ = ((w − K) + e)·m·2⁻ᴺ for w ≥ K and
//!   −((K − 1 − w) + (1 − e))·m·2⁻ᴺ below, where K is the word at or just below the one
//!   where u' = ½ and ½ − e its fractional part (K = 2ᴺ⁻¹, e = ½ for a symmetric window,
//!   whose q is then exactly antisymmetric: q(!w) = −q(w)),
//!
//! with m = Φ(β) − Φ(α) the window's mass and Q(x) = 1 − Φ(x). Those per-tensor
//! constants come from [`super::special`] in f64 and are then rounded to the arithmetic's
//! precision. A window far in a tail is therefore drawn as finely as one at the centre:
//! [8σ, 9σ] in f64 and [5σ, 6σ] in f32 are filled end to end. The value stored is
//! `mean + std·z` computed in f64, clamped to the truncation bounds, and rounded once to
//! the dtype (16-bit types: the f32 value rounded once more).

use super::arith::Arithmetic;
use super::special::{centred_cdf, upper_tail};

/// AS 241's split between the central rational function and the tails: |q| ≤ 0.425,
/// i.e. min(p₋, p₊) ≥ 0.075.
const SPLIT_P: f64 = 0.075;
/// r = 0.180625 − q² in the central region (0.180625 = 0.425²).
const CONST1: f64 = 0.180625;
/// The tail variable s = √(−ln p) is shifted by 1.6 up to s = 5, and by 5 beyond.
const CONST2: f64 = 1.6;
const SPLIT2: f64 = 5.0;

/// AS 241's coefficients, highest degree first (Horner order), as published; each
/// denominator ends with its constant term 1.
#[allow(clippy::excessive_precision)]
mod ppnd7 {
    pub const A: [f32; 4] = [
        5.9109374720E+01,
        1.5929113202E+02,
        5.0434271938E+01,
        3.3871327179E+00,
    ];
    pub const B: [f32; 4] = [6.7187563600E+01, 7.8757757664E+01, 1.7895169469E+01, 1.0];
    pub const C: [f32; 4] = [
        1.7023821103E-01,
        1.3067284816E+00,
        2.7568153900E+00,
        1.4234372777E+00,
    ];
    pub const D: [f32; 3] = [1.2021132975E-01, 7.3700164250E-01, 1.0];
    pub const E: [f32; 4] = [
        1.7337203997E-02,
        4.2868294337E-01,
        3.0812263860E+00,
        6.6579051150E+00,
    ];
    pub const F: [f32; 3] = [1.2258202635E-02, 2.4197894225E-01, 1.0];
}

#[allow(clippy::excessive_precision)]
#[rustfmt::skip]
mod ppnd16 {
    pub const A: [f64; 8] = [
        2.5090809287301226727E+03, 3.3430575583588128105E+04, 6.7265770927008700853E+04,
        4.5921953931549871457E+04, 1.3731693765509461125E+04, 1.9715909503065514427E+03,
        1.3314166789178437745E+02, 3.3871328727963666080E+00,
    ];
    pub const B: [f64; 8] = [
        5.2264952788528545610E+03, 2.8729085735721942674E+04, 3.9307895800092710610E+04,
        2.1213794301586595867E+04, 5.3941960214247511077E+03, 6.8718700749205790830E+02,
        4.2313330701600911252E+01, 1.0,
    ];
    pub const C: [f64; 8] = [
        7.74545014278341407640E-04, 2.27238449892691845833E-02, 2.41780725177450611770E-01,
        1.27045825245236838258E+00, 3.64784832476320460504E+00, 5.76949722146069140550E+00,
        4.63033784615654529590E+00, 1.42343711074968357734E+00,
    ];
    pub const D: [f64; 8] = [
        1.05075007164441684324E-09, 5.47593808499534494600E-04, 1.51986665636164571966E-02,
        1.48103976427480074590E-01, 6.89767334985100004550E-01, 1.67638483018380384940E+00,
        2.05319162663775882187E+00, 1.0,
    ];
    pub const E: [f64; 8] = [
        2.01033439929228813265E-07, 2.71155556874348757815E-05, 1.24266094738807843860E-03,
        2.65321895265761230930E-02, 2.96560571828504891230E-01, 1.78482653991729133580E+00,
        5.46378491116411436990E+00, 6.65790464350110377720E+00,
    ];
    pub const F: [f64; 8] = [
        2.04426310338993978564E-15, 1.42151175831644588870E-07, 1.84631831751005468180E-05,
        7.86869131145613259100E-04, 1.48753612908506148525E-02, 1.36929880922735805310E-01,
        5.99832206555887937690E-01, 1.0,
    ];
}

/// The smallest window mass each path accepts: below it m·2⁻ᴺ and the tail
/// probabilities would leave the normal range of the arithmetic (f32: 2⁻¹²⁶).
pub const MIN_MASS_F32: f64 = 1.0 / (1u128 << 90) as f64;
/// For the f64 path (normal range down to 2⁻¹⁰²²).
pub const MIN_MASS_F64: f64 = MIN_MASS_F32 * MIN_MASS_F32 * MIN_MASS_F32 * MIN_MASS_F32; // 2⁻³⁶⁰

/// AS 241's coefficients in each arithmetic: PPND7 for f32, PPND16 for f64.
pub trait As241: Arithmetic {
    const A: &'static [Self];
    const B: &'static [Self];
    const C: &'static [Self];
    const D: &'static [Self];
    const E: &'static [Self];
    const F: &'static [Self];
}

impl As241 for f32 {
    const A: &'static [f32] = &ppnd7::A;
    const B: &'static [f32] = &ppnd7::B;
    const C: &'static [f32] = &ppnd7::C;
    const D: &'static [f32] = &ppnd7::D;
    const E: &'static [f32] = &ppnd7::E;
    const F: &'static [f32] = &ppnd7::F;
}

impl As241 for f64 {
    const A: &'static [f64] = &ppnd16::A;
    const B: &'static [f64] = &ppnd16::B;
    const C: &'static [f64] = &ppnd16::C;
    const D: &'static [f64] = &ppnd16::D;
    const E: &'static [f64] = &ppnd16::E;
    const F: &'static [f64] = &ppnd16::F;
}

/// A polynomial by Horner's rule, coefficients highest degree first.
#[inline(always)]
fn horner<F: Arithmetic>(x: F, coefficients: &[F]) -> F {
    let mut y = coefficients[0];
    for &c in &coefficients[1..] {
        y = y * x + c;
    }
    y
}

/// The per-tensor constants of the transform in one arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constants<F: Arithmetic> {
    /// Φ(α), added to the lower-tail probability.
    lower: F,
    /// Q(β), added to the upper-tail probability.
    upper: F,
    /// m·2⁻ᴺ: one word step in probability.
    scale: F,
    /// K: the word at (or just below) the window's median.
    origin: F::Word,
    /// e: ½ minus the fractional part of the median's word position, added above K.
    offset: F,
    /// 1 − e, added below K.
    offset_below: F,
    /// Which of AS 241's regions some word of this window can reach (a proof, with
    /// margin, from the window's smallest tail probabilities): the kernels skip the
    /// others. Skipping never changes a value, only which unused branches are computed.
    pub reach: Reach,
}

/// The regions of AS 241 a window's words can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every p ≥ 0.075: the central rational function only (no logarithm).
    Central,
    /// Some p < 0.075 but every s = √(−ln p) ≤ 5: central and near tail.
    NearTail,
    /// Any region.
    All,
}

/// The window's probabilities in f64: Φ(α), Q(β), the mass Φ(β) − Φ(α) and the centre
/// ½ − Φ(α), each formed without cancelling against ½ or 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probabilities {
    pub lower: f64,
    pub upper: f64,
    pub mass: f64,
    pub centre: f64,
}

impl Probabilities {
    /// For the standardized window [alpha, beta], alpha < beta (either may be infinite).
    pub fn of_window(alpha: f64, beta: f64) -> Probabilities {
        let lower = if alpha <= 0.0 {
            upper_tail(-alpha)
        } else {
            0.5 + centred_cdf(alpha)
        };
        let upper = if beta >= 0.0 {
            upper_tail(beta)
        } else {
            0.5 + centred_cdf(-beta)
        };
        // Within one half: differences of centred CDFs near the centre, of tails beyond.
        let one_side = |a: f64, b: f64| {
            if a < 1.5 {
                centred_cdf(b) - centred_cdf(a)
            } else {
                upper_tail(a) - upper_tail(b)
            }
        };
        let mass = if alpha >= 0.0 {
            one_side(alpha, beta)
        } else if beta <= 0.0 {
            one_side(-beta, -alpha)
        } else {
            centred_cdf(-alpha) + centred_cdf(beta)
        };
        let centre = if alpha <= 0.0 {
            centred_cdf(-alpha)
        } else {
            -centred_cdf(alpha)
        };
        Probabilities {
            lower,
            upper,
            mass,
            centre,
        }
    }

    /// Which regions words of a window with these probabilities can reach, with a factor
    /// of 2 to spare for the rounding of the per-element probabilities (p = Φ(α) or Q(β)
    /// plus at least half a word step; 0.075 and e⁻²⁵ are AS 241's region limits).
    fn reach(&self, span: f64) -> Reach {
        let smallest = self.lower.min(self.upper) + 0.5 * self.mass / span;
        if self.lower.min(self.upper) >= 2.0 * SPLIT_P {
            Reach::Central
        } else if smallest >= 2.0 * (-25f64).exp() {
            Reach::NearTail
        } else {
            Reach::All
        }
    }

    /// The constants for arithmetic `F`.
    pub fn constants<F: Arithmetic>(&self) -> Constants<F> {
        let span = 2f64.powi(F::BITS as i32);
        // The word position where u' = ½, split into K and e (K clamped to the words).
        let median = self.centre / self.mass * span;
        let (origin, offset) = if median <= 0.0 {
            (F::word_from_f64(0.0), 0.5 - median)
        } else if median >= span {
            (F::largest_word(), (0.5 - (median - span)) - 1.0)
        } else {
            let k = median.floor();
            (F::word_from_f64(k), 0.5 - (median - k))
        };
        Constants {
            lower: F::of(self.lower),
            upper: F::of(self.upper),
            scale: F::of(self.mass / span),
            origin,
            offset: F::of(offset),
            offset_below: F::of(1.0 - offset),
            reach: self.reach(span),
        }
    }
}

/// z for word `w`: the inverse CDF of the window at u = (w + ½)·2⁻ᴺ.
#[inline(always)]
pub fn standard<F: As241>(w: F::Word, c: &Constants<F>) -> F {
    match c.reach {
        Reach::Central => standard_reaching::<F, false, false>(w, c),
        Reach::NearTail => standard_reaching::<F, true, false>(w, c),
        Reach::All => standard_reaching::<F, true, true>(w, c),
    }
}

/// [`standard`] with the regions no word can reach left out at compile time: `TAILS`
/// (any p < 0.075) and `FAR` (any s > 5). The regions computed are selected exactly as
/// in the full transform, so the value is the same.
#[inline(always)]
fn standard_reaching<F: As241, const TAILS: bool, const FAR: bool>(
    w: F::Word,
    c: &Constants<F>,
) -> F {
    let q = if w < c.origin {
        -((F::word(F::distance(F::distance(c.origin, w), F::ONE)) + c.offset_below) * c.scale)
    } else {
        (F::word(F::distance(w, c.origin)) + c.offset) * c.scale
    };
    // Central region: q·A(r)/B(r), r = 0.180625 − q².
    let r = F::of(CONST1) - q * q;
    let central_num = q * horner(r, F::A);
    let central_den = horner(r, F::B);
    if !TAILS {
        return central_num / central_den;
    }
    let half = F::of(0.5);
    let lower = c.lower + (F::word(w) + half) * c.scale;
    let upper = c.upper + (F::word(!w) + half) * c.scale;
    let upper_side = upper < lower;
    let p = if upper_side { upper } else { lower };
    let central = p >= F::of(SPLIT_P);
    // Tails: s = √(−ln p); C/D up to s = 5, E/F beyond.
    let s = (-p.ln()).sqrt();
    let near = s - F::of(CONST2);
    let (tail_num, tail_den) = if FAR {
        let far = s - F::of(SPLIT2);
        let is_far = s > F::of(SPLIT2);
        let num = if is_far {
            horner(far, F::E)
        } else {
            horner(near, F::C)
        };
        let den = if is_far {
            horner(far, F::F)
        } else {
            horner(near, F::D)
        };
        (num, den)
    } else {
        (horner(near, F::C), horner(near, F::D))
    };
    let tail_num = if upper_side { tail_num } else { -tail_num };
    let (num, den) = if central {
        (central_num, central_den)
    } else {
        (tail_num, tail_den)
    };
    num / den
}

/// A truncated normal law with its constants for both arithmetics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub mean: f64,
    pub std: f64,
    /// The truncation bounds: stored values are clamped to them, since mean + std·z can
    /// round a hair past a bound.
    pub low: f64,
    pub high: f64,
    pub single: Constants<f32>,
    pub double: Constants<f64>,
}

impl Window {
    /// N(mean, std²) itself, as the window (−∞, ∞): the contract draws plain normals by
    /// Box–Muller, but the limit case of the inverse CDF is a useful check.
    pub fn normal(mean: f64, std: f64) -> Window {
        Window::truncated(mean, std, f64::NEG_INFINITY, f64::INFINITY)
    }

    /// N(mean, std²) truncated to [low, high].
    pub fn truncated(mean: f64, std: f64, low: f64, high: f64) -> Window {
        let p = Probabilities::of_window((low - mean) / std, (high - mean) / std);
        Window {
            mean,
            std,
            low,
            high,
            single: p.constants(),
            double: p.constants(),
        }
    }

    /// The stored value for a standard draw `z`, before the final rounding.
    #[inline(always)]
    pub fn value(&self, z: f64) -> f64 {
        (self.mean + self.std * z).max(self.low).min(self.high)
    }
}

crate::simd::dispatched! {
    /// f32 values from one word each (PPND7 in f32 arithmetic).
    pub fn fill_f32(words: &[u32], window: &Window, out: &mut [f32]) = fill_f32_body;
}

#[inline(always)]
fn fill_f32_body(words: &[u32], window: &Window, out: &mut [f32]) {
    // The region choice is made once per call, outside the loop, so each loop is
    // compiled without the regions it cannot reach.
    match window.single.reach {
        Reach::Central => fill_f32_reaching::<false, false>(words, window, out),
        Reach::NearTail => fill_f32_reaching::<true, false>(words, window, out),
        Reach::All => fill_f32_reaching::<true, true>(words, window, out),
    }
}

#[inline(always)]
fn fill_f32_reaching<const TAILS: bool, const FAR: bool>(
    words: &[u32],
    window: &Window,
    out: &mut [f32],
) {
    let c = window.single;
    for (x, &w) in out.iter_mut().zip(words) {
        let z = standard_reaching::<f32, TAILS, FAR>(w, &c);
        *x = window.value(f64::from(z)) as f32;
    }
}

crate::simd::dispatched! {
    /// f64 values from two words each, the first the low half (PPND16 in f64).
    pub fn fill_f64(words: &[u32], window: &Window, out: &mut [f64]) = fill_f64_body;
}

#[inline(always)]
fn fill_f64_body(words: &[u32], window: &Window, out: &mut [f64]) {
    match window.double.reach {
        Reach::Central => fill_f64_reaching::<false, false>(words, window, out),
        Reach::NearTail => fill_f64_reaching::<true, false>(words, window, out),
        Reach::All => fill_f64_reaching::<true, true>(words, window, out),
    }
}

#[inline(always)]
fn fill_f64_reaching<const TAILS: bool, const FAR: bool>(
    words: &[u32],
    window: &Window,
    out: &mut [f64],
) {
    let c = window.double;
    for (x, pair) in out.iter_mut().zip(words.chunks_exact(2)) {
        let w = u64::from(pair[0]) | (u64::from(pair[1]) << 32);
        *x = window.value(standard_reaching::<f64, TAILS, FAR>(w, &c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn z32(w: u32) -> f32 {
        standard(w, &Window::normal(0.0, 1.0).single)
    }
    fn z64(w: u64) -> f64 {
        standard(w, &Window::normal(0.0, 1.0).double)
    }

    #[test]
    fn plain_normal_constants_are_exact() {
        let w = Window::normal(0.0, 1.0);
        assert_eq!(w.single.origin, 1 << 31);
        assert_eq!(w.single.offset, 0.5);
        assert_eq!(w.single.scale, 2f32.powi(-32));
        assert_eq!((w.single.lower, w.single.upper), (0.0, 0.0));
        assert_eq!(w.double.origin, 1 << 63);
        assert_eq!(w.double.scale, 2f64.powi(-64));
    }

    #[test]
    fn symmetric_and_monotone() {
        for w in [0u32, 1, 7, 1 << 20, 0x3000_0000, 0x7fff_fffe, 0x7fff_ffff] {
            assert_eq!(z32(w), -z32(!w), "{w}");
            assert!(z32(w) <= z32(w + 1), "{w}");
        }
        for w in [0u64, 1, 1 << 40, 0x7fff_ffff_ffff_ffff] {
            assert_eq!(z64(w), -z64(!w), "{w}");
        }
        let mut previous = f32::NEG_INFINITY;
        for i in 0..=4096u64 {
            let w = (i * ((1u64 << 32) - 1) / 4096) as u32;
            let z = z32(w);
            assert!(z >= previous, "{w}: {z} after {previous}");
            previous = z;
        }
    }

    #[test]
    fn reach() {
        // The untruncated window's extreme words reach 6.3σ in f32 and 9σ in f64.
        assert!(-z32(0) > 6.3 && -z64(0) > 9.0);
    }

    /// Leaving out unreachable regions changes no value: each window's kernel against
    /// the full transform, on words spread over the whole range and the extremes.
    #[test]
    fn skipping_unreachable_regions_changes_nothing() {
        let windows = [
            (-1.0, 1.0),
            (-0.5, 0.2),
            (-2.0, 2.0),
            (-3.0, 3.0),
            (5.0, 6.0),
            (8.0, 9.0),
        ];
        let mut seen = Vec::new();
        for (alpha, beta) in windows {
            let w = Window::truncated(0.0, 1.0, alpha, beta);
            seen.push((w.single.reach, w.double.reach));
            for i in 0..=20_000u64 {
                let w32 = (i * (u64::from(u32::MAX) / 20_000)) as u32;
                let w64 = i.wrapping_mul(u64::MAX / 20_000);
                for (a, b) in [(w32, w64), (!w32, !w64)] {
                    let full32 = standard_reaching::<f32, true, true>(a, &w.single);
                    assert_eq!(
                        standard(a, &w.single).to_bits(),
                        full32.to_bits(),
                        "[{alpha}, {beta}] {a:#x}"
                    );
                    let full64 = standard_reaching::<f64, true, true>(b, &w.double);
                    assert_eq!(
                        standard(b, &w.double).to_bits(),
                        full64.to_bits(),
                        "[{alpha}, {beta}] {b:#x}"
                    );
                }
            }
        }
        // Every kind of kernel was exercised.
        assert!(seen.contains(&(Reach::Central, Reach::Central)));
        assert!(seen.contains(&(Reach::NearTail, Reach::NearTail)));
        assert!(seen.iter().any(|r| r.1 == Reach::All));
    }

    #[test]
    fn far_tail_windows_are_filled() {
        // [8σ, 9σ] in f64 and [5σ, 6σ] in f32: every word lands inside, spread over it.
        let w = Window::truncated(0.0, 1.0, 8.0, 9.0);
        let (lo, hi) = (standard(0u64, &w.double), standard(u64::MAX, &w.double));
        // (within a few ulps: the stored value is clamped to the bounds)
        assert!(
            (lo - 8.0).abs() < 1e-14 && (9.0 - hi).abs() < 1e-14,
            "{lo} {hi}"
        );
        let w = Window::truncated(0.0, 1.0, 5.0, 6.0);
        let (lo, hi) = (standard(0u32, &w.single), standard(u32::MAX, &w.single));
        assert!(
            (lo - 5.0).abs() < 1e-5 && (6.0 - hi).abs() < 1e-4,
            "{lo} {hi}"
        );
        let mid = standard(1u32 << 31, &w.single);
        assert!(mid > 5.1 && mid < 5.3, "{mid}");
    }
}
