//! Normal draws by the Box–Muller transform (G. E. P. Box & M. E. Muller, "A note on the
//! generation of random normal deviates", Ann. Math. Statist. 29, 1958): one pair of
//! uniforms gives one pair of independent standard normals, with no rejection, so a pair
//! of elements depends on its own keystream words alone.
//!
//! Elements 2j and 2j + 1 (row-major) share words a and b — for f32, f16 and bf16
//! tensors keystream words 2j and 2j + 1; for f64 tensors the 64-bit words
//! (4j, 4j + 1) and (4j + 2, 4j + 3), low half first. With N the word width,
//! u₁ = (a + ½)·2⁻ᴺ and u₂ = (b + ½)·2⁻ᴺ, both in (0, 1):
//!
//!   z₂ⱼ = √(−2 ln u₁)·cos(2π u₂),   z₂ⱼ₊₁ = √(−2 ln u₁)·sin(2π u₂).
//!
//! Computed without losing what the words say ([`pair`]): ln u₁ for u₁ > √½ as
//! ln(1 − v) with v = (!a + ½)·2⁻ᴺ exact, so values near 0 keep their relative
//! precision; the angle reduced exactly with integer bits — the top three bits of b pick
//! the octant, the rest the position inside it — so sin and cos are only ever evaluated
//! on [0, π/4]. f32 arithmetic (Cephes logf, sinf, cosf) for 32-bit words, f64
//! arithmetic (fdlibm log, sin, cos) for 64-bit words; see [`super::special`]. The value
//! stored is `mean + std·z` in f64, rounded once to the dtype (16-bit types: the f32
//! value rounded once more).
//!
//! Why not the inverse CDF here, as for the truncated normal: measured on this project's
//! machine, Box–Muller costs a third of AS 241 per value (no division, one logarithm per
//! two values, no three-way region select), and its tails reach further (6.77σ from
//! 32-bit words against 6.34σ). The truncated normal needs the inverse CDF to map the
//! uniform into its window; see [`super::truncated`].

use super::arith::Arithmetic;

/// The pair of standard normals for words a and b.
#[inline(always)]
pub fn pair<F: Arithmetic>(a: F::Word, b: F::Word) -> (F, F) {
    let half = F::of(0.5);
    // ln u₁: from u₁'s exponent and mantissa, or from v = 1 − u₁ when u₁ > √½.
    let near_one = a >= F::RADIUS_SPLIT;
    let (f_from_v, e_from_v) = (-((F::word(!a) + half) * F::UNIT), F::of(0.0));
    let (f_from_u, e_from_u) = ((F::word(a) + half) * F::UNIT).ln_parts();
    let (f, e) = if near_one {
        (f_from_v, e_from_v)
    } else {
        (f_from_u, e_from_u)
    };
    let radius = (F::ln_core(f, e) * F::of(-2.0)).sqrt();
    // 2π u₂ = (octant + position)·π/4; odd octants measure the position from the far end.
    let octant = F::octant(b);
    let inside = b & F::OCTANT_MASK;
    let odd = octant & 1 == 1;
    let position = if odd {
        F::distance(F::OCTANT_MASK, inside)
    } else {
        inside
    };
    let x = (F::word(position) + half) * F::ANGLE_STEP;
    let (sin, cos) = x.sin_cos();
    // Octants 1, 2, 5, 6 swap sine and cosine; 2–5 negate the cosine, 4–7 the sine.
    let swap = ((octant + 1) >> 1) & 1 == 1;
    let (c, s) = if swap { (sin, cos) } else { (cos, sin) };
    let c = if (2..=5).contains(&octant) { -c } else { c };
    let s = if octant >= 4 { -s } else { s };
    (radius * c, radius * s)
}

crate::simd::dispatched! {
    /// Pairs of f32 values from pairs of words; `out.len()` = `words.len()`, even.
    pub fn fill_f32(words: &[u32], mean: f64, std: f64, out: &mut [f32]) = fill_f32_body;
}

#[inline(always)]
fn fill_f32_body(words: &[u32], mean: f64, std: f64, out: &mut [f32]) {
    for (x, w) in out.chunks_exact_mut(2).zip(words.chunks_exact(2)) {
        let (z0, z1) = pair::<f32>(w[0], w[1]);
        x[0] = (mean + std * f64::from(z0)) as f32;
        x[1] = (mean + std * f64::from(z1)) as f32;
    }
}

crate::simd::dispatched! {
    /// Pairs of f64 values from quadruples of words; `words.len()` = 2·`out.len()`.
    pub fn fill_f64(words: &[u32], mean: f64, std: f64, out: &mut [f64]) = fill_f64_body;
}

#[inline(always)]
fn fill_f64_body(words: &[u32], mean: f64, std: f64, out: &mut [f64]) {
    for (x, w) in out.chunks_exact_mut(2).zip(words.chunks_exact(4)) {
        let a = u64::from(w[0]) | (u64::from(w[1]) << 32);
        let b = u64::from(w[2]) | (u64::from(w[3]) << 32);
        let (z0, z1) = pair::<f64>(a, b);
        x[0] = mean + std * z0;
        x[1] = mean + std * z1;
    }
}

/// The largest |z| the f32 path can produce (a = 0: √(2·33 ln 2) = 6.764…), rounded up,
/// for the check that a normal fits its dtype.
pub const REACH_F32: f64 = 6.77;
/// The same for the f64 path (√(2·65 ln 2) = 9.492…).
pub const REACH_F64: f64 = 9.50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_and_angle_of_known_words() {
        // a = 0: the largest radius; b at the start of octant 0: angle ≈ 0.
        let (z0, z1) = pair::<f32>(0, 0);
        let r = (2.0 * 33.0 * std::f64::consts::LN_2).sqrt();
        assert!(
            (f64::from(z0) - r).abs() < 1e-5 && f64::from(z1).abs() < 1e-6,
            "{z0} {z1}"
        );
        assert!(r < REACH_F32);
        let (z0, _) = pair::<f64>(0, 0);
        let r = (2.0 * 65.0 * std::f64::consts::LN_2).sqrt();
        assert!((z0 - r).abs() < 1e-12 && r < REACH_F64);
        // u₁ just below 1: a tiny radius, with full relative precision.
        let (z0, _) = pair::<f64>(u64::MAX, 0);
        let r = (2.0 * 0.5 / 18_446_744_073_709_551_616.0f64).sqrt();
        assert!((z0 - r).abs() < 1e-15 * r, "{z0} vs {r}");
    }

    #[test]
    fn octants_turn_the_pair() {
        // The same position in each octant: the angle advances by π/4 each time.
        let a = 1u32 << 31; // u₁ = ½ + 2⁻³³: radius √(2 ln 2)
        let r = (2.0 * std::f64::consts::LN_2).sqrt();
        for octant in 0..8u32 {
            let b = (octant << 29) | (1 << 27); // an eighth of the way into the octant
            let angle = (f64::from(b) + 0.5) / 4_294_967_296.0 * std::f64::consts::TAU;
            let (z0, z1) = pair::<f32>(a, b);
            assert!(
                (f64::from(z0) - r * angle.cos()).abs() < 1e-6,
                "octant {octant}"
            );
            assert!(
                (f64::from(z1) - r * angle.sin()).abs() < 1e-6,
                "octant {octant}"
            );
        }
    }
}
