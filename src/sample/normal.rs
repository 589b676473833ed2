//! Standard normal draws: a 256-layer ziggurat (Marsaglia & Tsang, "The Ziggurat Method
//! for Generating Random Variables", J. Stat. Softw. 5(8), 2000).
//!
//! Tables are computed once from the published constants `R` and `V` with the pure-Rust
//! `libm`, so they are bit-identical on every platform; no platform libm is used.
//!
//! * f64 path: one 64-bit draw; 8 bits choose the layer, 1 bit the sign, 52 bits the
//!   position within the layer.
//! * f32 path: one 32-bit draw; 8 bits layer, 1 bit sign, 23 bits position (enough for a
//!   24-bit float mantissa, and half the keystream of the f64 path).
//!
//! About 99% of draws are accepted by the first comparison; the rest go through the
//! wedge test (one `exp`) or, for layer 0, Marsaglia's exact tail method (two `log`s).

use std::sync::LazyLock;

use crate::rng::BlockStream;

/// Layers in the ziggurat.
const LAYERS: usize = 256;
/// Right edge of the base layer for 256 layers, 3.6541528853610087963… (Marsaglia &
/// Tsang 2000), rounded to the nearest double.
const R: f64 = 3.654_152_885_361_009;
/// Area of each layer, for 256 layers (same source).
const V: f64 = 0.004_928_673_233_99;

/// The ziggurat's layer edges and the density at each.
pub struct Tables {
    /// x[i]: right edge of layer i (x[0] is the base's virtual width V / f(R)); x[256] = 0.
    x: [f64; LAYERS + 1],
    /// f(x[i]) = exp(-x[i]²/2).
    f: [f64; LAYERS + 1],
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let density = |x: f64| libm::exp(-0.5 * x * x);
    let mut x = [0.0; LAYERS + 1];
    x[0] = V / density(R);
    x[1] = R;
    for i in 1..LAYERS - 1 {
        x[i + 1] = libm::sqrt(-2.0 * libm::log(V / x[i] + density(x[i])));
    }
    x[LAYERS] = 0.0;
    let mut f = [0.0; LAYERS + 1];
    for i in 0..=LAYERS {
        f[i] = density(x[i]);
    }
    Tables { x, f }
});

/// The ziggurat tables, computed on first use. Hot loops fetch them once and pass the
/// reference down, rather than touching the lazy static per draw.
pub fn tables() -> &'static Tables {
    &TABLES
}

/// One standard normal draw for a double-precision tensor.
#[inline]
pub fn standard_normal_f64(rng: &mut BlockStream) -> f64 {
    standard_normal_f64_with(tables(), rng)
}

/// One standard normal draw for a single-precision tensor (computed in f64, so the
/// caller's scale and shift add no extra rounding before the final conversion).
#[inline]
pub fn standard_normal_f32(rng: &mut BlockStream) -> f64 {
    standard_normal_f32_with(tables(), rng)
}

/// [`standard_normal_f64`] with the tables passed in.
#[inline(always)]
pub fn standard_normal_f64_with(t: &Tables, rng: &mut BlockStream) -> f64 {
    let bits = rng.next_u64();
    let layer = (bits & 0xff) as usize;
    let z = ((bits >> 12) as f64 * (1.0 / (1u64 << 52) as f64)) * t.x[layer];
    // Fast path (about 99% of draws): inside the rectangle wholly under the curve.
    if z < t.x[layer + 1] {
        return with_sign(z, bits & 0x100 != 0);
    }
    slow_f64(t, rng, bits)
}

/// [`standard_normal_f32`] with the tables passed in.
#[inline(always)]
pub fn standard_normal_f32_with(t: &Tables, rng: &mut BlockStream) -> f64 {
    let bits = rng.next_u32();
    let layer = (bits & 0xff) as usize;
    let z = ((bits >> 9) as f64 * (1.0 / (1u32 << 23) as f64)) * t.x[layer];
    if z < t.x[layer + 1] {
        return with_sign(z, bits & 0x100 != 0);
    }
    slow_f32(t, rng, bits)
}

/// `-z` when `negative`, else `z`, without a branch: the sign bit is random, so a
/// branch on it would be mispredicted half the time.
#[inline(always)]
fn with_sign(z: f64, negative: bool) -> f64 {
    f64::from_bits(z.to_bits() ^ (u64::from(negative) << 63))
}

/// Finishes an f64 attempt that missed the rectangle, then keeps drawing until accepted.
#[cold]
#[inline(never)]
fn slow_f64(t: &Tables, rng: &mut BlockStream, mut bits: u64) -> f64 {
    loop {
        let layer = (bits & 0xff) as usize;
        let u = (bits >> 12) as f64 * (1.0 / (1u64 << 52) as f64);
        if let Some(z) = accept(t, rng, layer, u) {
            return if bits & 0x100 != 0 { -z } else { z };
        }
        bits = rng.next_u64();
    }
}

/// Finishes an f32 attempt that missed the rectangle, then keeps drawing until accepted.
#[cold]
#[inline(never)]
fn slow_f32(t: &Tables, rng: &mut BlockStream, mut bits: u32) -> f64 {
    loop {
        let layer = (bits & 0xff) as usize;
        let u = (bits >> 9) as f64 * (1.0 / (1u32 << 23) as f64);
        if let Some(z) = accept(t, rng, layer, u) {
            return if bits & 0x100 != 0 { -z } else { z };
        }
        bits = rng.next_u32();
    }
}

/// The ziggurat's accept step for a point at fraction `u` of layer `layer`'s width.
fn accept(t: &Tables, rng: &mut BlockStream, layer: usize, u: f64) -> Option<f64> {
    let z = u * t.x[layer];
    if z < t.x[layer + 1] {
        return Some(z); // inside the rectangle that lies wholly under the curve
    }
    if layer == 0 {
        return Some(tail(rng));
    }
    // Wedge: accept if a uniform height under the layer falls below the density.
    let y = t.f[layer] + rng.next_f64() * (t.f[layer + 1] - t.f[layer]);
    (y < libm::exp(-0.5 * z * z)).then_some(z)
}

/// A draw from the normal tail beyond `R` (Marsaglia 1964).
#[cold]
fn tail(rng: &mut BlockStream) -> f64 {
    loop {
        let a = -libm::log(rng.next_f64_nonzero()) / R;
        let b = -libm::log(rng.next_f64_nonzero());
        if 2.0 * b > a * a {
            return R + a;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_close_the_ziggurat() {
        let t = &*TABLES;
        // Layers 1..=254 have area V by construction; the top layer's area is not, and
        // comes out right only if the published R and V belong together.
        let top = t.x[LAYERS - 1] * (1.0 - t.f[LAYERS - 1]);
        assert!(
            (top - V).abs() < 1e-9 * V.max(1.0),
            "top layer area {top} vs {V}"
        );
        // The base: rectangle x[1]·f(R) plus the tail mass beyond R equals V.
        let tail_mass = (std::f64::consts::PI / 2.0).sqrt() * libm::erfc(R / 2f64.sqrt());
        let base = R * t.f[1] + tail_mass;
        assert!((base - V).abs() < 1e-9, "base area {base} vs {V}");
        assert!(t.x.windows(2).skip(1).all(|w| w[0] > w[1]));
    }
}
