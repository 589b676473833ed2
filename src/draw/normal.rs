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

use super::chacha::BATCH_WORDS;
use super::stream::BlockStream;
use super::uniform;
use crate::tensor::dtype::Element;

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

/// Absolute slack added to the wedge's squeeze bounds. It covers the rounding of the
/// bounds themselves (a few ulp of values ≤ 1, ~1e-15) and of `libm::exp(-0.5·z·z)`
/// (< 1 ulp of exp, plus ~1e-15 relative from rounding the argument), with three orders
/// of magnitude to spare; the wedges are 1e-3 or more tall, so it costs nothing.
const SQUEEZE_SLACK: f64 = 1e-12;

/// Decides the wedge test `y < exp(−z²/2)` for `z` in layer `layer`'s wedge
/// `[x[layer+1], x[layer])`, without calling `exp` when straight lines settle it.
///
/// The density is convex for |z| ≥ 1 and concave for |z| ≤ 1. On a convex stretch the
/// chord through the wedge's corners lies above the curve and the tangent at `x[layer]`
/// below it; on a concave stretch the other way round. A `y` below the lower line (minus
/// the slack) is below the density whatever the rounding, one above the upper line (plus
/// the slack) is not, so the answer equals the `exp` comparison's exactly; only `y`
/// between the lines — and the one layer that straddles |z| = 1 — reach `exp`.
#[inline]
fn wedge_accepts(t: &Tables, layer: usize, z: f64, y: f64) -> bool {
    let (x_out, f_out) = (t.x[layer], t.f[layer]); // outer corner: wider, lower
    let (x_in, f_in) = (t.x[layer + 1], t.f[layer + 1]); // inner corner
    let chord = f_out + (f_in - f_out) * ((x_out - z) / (x_out - x_in));
    // Tangent at the outer corner: f'(x) = −x·f(x).
    let tangent = f_out + x_out * f_out * (x_out - z);
    let (lower, upper) = if x_in >= 1.0 {
        (tangent, chord)
    } else if x_out <= 1.0 {
        (chord, tangent)
    } else {
        return y < libm::exp(-0.5 * z * z);
    };
    if y < lower - SQUEEZE_SLACK {
        true
    } else if y > upper + SQUEEZE_SLACK {
        false
    } else {
        y < libm::exp(-0.5 * z * z)
    }
}

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

/// Which standard normal draws a batched fill keeps, and what it stores for them.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub mean: f64,
    pub std: f64,
    /// Draws `z` outside `[z_low, z_high]` are rejected (truncation); infinite for a plain
    /// normal.
    pub z_low: f64,
    pub z_high: f64,
    /// The stored value is `(mean + std·z)` clamped to `[low, high]`.
    pub low: f64,
    pub high: f64,
}

impl Window {
    /// A plain normal: every draw kept, nothing clamped.
    pub fn normal(mean: f64, std: f64) -> Self {
        Window {
            mean,
            std,
            z_low: f64::NEG_INFINITY,
            z_high: f64::INFINITY,
            low: f64::NEG_INFINITY,
            high: f64::INFINITY,
        }
    }

    /// Whether a draw `z` is kept (the truncated sampler's acceptance test).
    #[inline(always)]
    pub fn keeps(&self, z: f64) -> bool {
        z >= self.z_low && z <= self.z_high
    }

    #[inline(always)]
    fn store<E: NativeDraw>(&self, z: f64) -> E {
        E::from_f64((self.mean + self.std * z).clamp(self.low, self.high))
    }
}

/// What the fast path says about one ziggurat attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
enum Outcome {
    /// Inside the rectangle and the window: store the precomputed value.
    #[default]
    Keep,
    /// Inside the rectangle but outside the window: the words are used, nothing stored.
    Drop,
    /// Missed the rectangle: the slow path decides, drawing more words.
    Slow,
}

/// Fills `out` with `window.store(z)` for the standard normal draws `z` that fall in the
/// window, skipping those that do not: the same values, from the same words, as a loop
/// of one-at-a-time draws (`E::standard_normal_with`, redrawn while outside the window),
/// only faster.
///
/// For each batch of keystream words, the fast path (the rectangle test that settles
/// about 99% of attempts, and the window test) is evaluated for every attempt that could
/// start there, in one loop the compiler vectorizes. Then the attempts are taken in
/// stream order: runs of kept ones are copied, dropped ones skipped, and at a rectangle
/// miss the one-at-a-time draw takes over word by word, exactly as it would have.
pub fn fill<E: NativeDraw>(rng: &mut BlockStream, window: &Window, out: &mut [E]) {
    let t = tables();
    let attempts = BATCH_WORDS / E::NORMAL_WORDS;
    let mut value = [E::default(); BATCH_WORDS];
    let mut outcome = [Outcome::Keep; BATCH_WORDS];
    let mut kept = [0u64; BATCH_WORDS / 64];
    let mut slow = [0u64; BATCH_WORDS / 64];
    let mut done = 0;
    while done < out.len() {
        let (words, start) = rng.window();
        debug_assert_eq!(start % E::NORMAL_WORDS, 0);
        let mut attempt = start / E::NORMAL_WORDS;
        fast_paths(
            t,
            window,
            words,
            &mut value,
            &mut outcome,
            &mut kept,
            &mut slow,
        );
        let batch = rng.batches();
        while done < out.len() && attempt < attempts && rng.batches() == batch {
            let slow_at = next_set(&slow, attempt).min(attempts);
            // A leading run of kept attempts is copied in one go ...
            let limit = slow_at.min(attempt + (out.len() - done));
            let run = kept_run(&kept, attempt, limit);
            out[done..done + run].copy_from_slice(&value[attempt..attempt + run]);
            done += run;
            let mut next = attempt + run;
            // ... then kept and dropped ones (truncation) up to the next slow one are
            // compacted without branches: each value is written at `done`, which only
            // moves past it if the attempt was kept.
            while next < slow_at && done < out.len() {
                out[done] = value[next];
                done += usize::from(outcome[next] == Outcome::Keep);
                next += 1;
            }
            rng.skip((next - attempt) * E::NORMAL_WORDS);
            attempt = next;
            if done < out.len() && attempt == slow_at && attempt < attempts {
                // Missed the rectangle: redo this attempt word by word.
                let z = E::standard_normal_with(t, rng);
                if window.keeps(z) {
                    out[done] = window.store(z);
                    done += 1;
                }
                attempt = rng.window().1 / E::NORMAL_WORDS;
            }
        }
    }
}

/// The first set bit of `bits` at or after `from` (`bits.len()·64` if none).
#[inline]
fn next_set(bits: &[u64; BATCH_WORDS / 64], from: usize) -> usize {
    let mut at = from;
    while at < BATCH_WORDS {
        let rest = bits[at / 64] >> (at % 64);
        if rest != 0 {
            return at + rest.trailing_zeros() as usize;
        }
        at = (at / 64 + 1) * 64;
    }
    BATCH_WORDS
}

/// How many attempts from `from` (up to `end`) are kept: the run of set bits in `kept`.
#[inline]
fn kept_run(kept: &[u64; BATCH_WORDS / 64], from: usize, end: usize) -> usize {
    let mut at = from;
    while at < end {
        let shift = at % 64;
        let ones = (!(kept[at / 64] >> shift)).trailing_zeros() as usize;
        let available = 64 - shift;
        at += ones.min(available);
        if ones < available {
            break;
        }
    }
    at.min(end) - from
}

crate::simd::dispatched! {
    /// The fast-path outcome of every attempt in the batch `words`: `value[a]` is what
    /// attempt `a` stores if `outcome[a]` is [`Outcome::Keep`]; bit `a` of `kept` and of
    /// `slow` says whether the outcome is `Keep`, respectively `Slow`. (All attempts,
    /// even those before the stream's position: a fixed trip count is what lets the
    /// loop vectorize.)
    fn fast_paths<E: NativeDraw>(
        t: &Tables,
        window: &Window,
        words: &[u32; BATCH_WORDS],
        value: &mut [E; BATCH_WORDS],
        outcome: &mut [Outcome; BATCH_WORDS],
        kept: &mut [u64; BATCH_WORDS / 64],
        slow: &mut [u64; BATCH_WORDS / 64],
    ) = fast_paths_body;
}

#[inline(always)]
fn fast_paths_body<E: NativeDraw>(
    t: &Tables,
    window: &Window,
    words: &[u32; BATCH_WORDS],
    value: &mut [E; BATCH_WORDS],
    outcome: &mut [Outcome; BATCH_WORDS],
    kept: &mut [u64; BATCH_WORDS / 64],
    slow: &mut [u64; BATCH_WORDS / 64],
) {
    for a in 0..BATCH_WORDS / E::NORMAL_WORDS {
        let (z, inside) = E::normal_fast_path(t, &words[a * E::NORMAL_WORDS..]);
        value[a] = window.store(z);
        outcome[a] = if !inside {
            Outcome::Slow
        } else if window.keeps(z) {
            Outcome::Keep
        } else {
            Outcome::Drop
        };
    }
    let mask_of = |chunk: &[Outcome], of: Outcome| {
        chunk
            .iter()
            .enumerate()
            .fold(0, |m, (i, &o)| m | (u64::from(o == of) << i))
    };
    for ((k, s), chunk) in kept
        .iter_mut()
        .zip(slow.iter_mut())
        .zip(outcome.chunks_exact(64))
    {
        *k = mask_of(chunk, Outcome::Keep);
        *s = mask_of(chunk, Outcome::Slow);
    }
}

/// The f32 path's rectangle test on one word: the signed candidate and whether it is
/// accepted (see [`standard_normal_f32_with`]).
#[inline(always)]
pub fn fast_path_f32(t: &Tables, bits: u32) -> (f64, bool) {
    let layer = (bits & 0xff) as usize;
    let z = ((bits >> 9) as f64 * (1.0 / (1u32 << 23) as f64)) * t.x[layer];
    (with_sign(z, bits & 0x100 != 0), z < t.x[layer + 1])
}

/// The f64 path's rectangle test on one 64-bit draw (see [`standard_normal_f64_with`]).
#[inline(always)]
pub fn fast_path_f64(t: &Tables, bits: u64) -> (f64, bool) {
    let layer = (bits & 0xff) as usize;
    let z = ((bits >> 12) as f64 * (1.0 / (1u64 << 52) as f64)) * t.x[layer];
    (with_sign(z, bits & 0x100 != 0), z < t.x[layer + 1])
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
    wedge_accepts(t, layer, z, y).then_some(z)
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

// ---------------------------------------------------------------------------------------
// Each dtype's draws. The trait lives beside the ziggurat because the two call each other:
// the batched fill is generic over it, and its impls pick the ziggurat's f32 or f64 path.

/// A stored float type's way of turning keystream words into numbers: part of the
/// native stream's contract (f64 takes two words per uniform or ziggurat attempt, f32 and
/// the 16-bit types one).
pub trait NativeDraw: Element {
    /// A standard normal draw, using as many stream bits as this dtype needs.
    fn standard_normal(rng: &mut BlockStream) -> f64;
    /// The same draw with the ziggurat tables passed in (for hot loops).
    fn standard_normal_with(t: &Tables, rng: &mut BlockStream) -> f64;
    /// Fills `out` with `low + width · u`, `u` uniform on [0, 1) at this dtype's
    /// resolution (see [`uniform`]).
    fn fill_uniform(rng: &mut BlockStream, low: f64, width: f64, out: &mut [Self]);
    /// Keystream words one ziggurat attempt takes at this dtype.
    const NORMAL_WORDS: usize;
    /// The ziggurat's rectangle test on the words of one attempt: the signed candidate
    /// and whether it is accepted.
    fn normal_fast_path(t: &Tables, words: &[u32]) -> (f64, bool);
}

impl NativeDraw for f32 {
    #[inline]
    fn standard_normal(rng: &mut BlockStream) -> f64 {
        standard_normal_f32(rng)
    }
    #[inline(always)]
    fn standard_normal_with(t: &Tables, rng: &mut BlockStream) -> f64 {
        standard_normal_f32_with(t, rng)
    }
    fn fill_uniform(rng: &mut BlockStream, low: f64, width: f64, out: &mut [f32]) {
        uniform::fill_uniform_f32(rng, low, width, out)
    }
    const NORMAL_WORDS: usize = 1;
    #[inline(always)]
    fn normal_fast_path(t: &Tables, words: &[u32]) -> (f64, bool) {
        fast_path_f32(t, words[0])
    }
}

impl NativeDraw for f64 {
    #[inline]
    fn standard_normal(rng: &mut BlockStream) -> f64 {
        standard_normal_f64(rng)
    }
    #[inline(always)]
    fn standard_normal_with(t: &Tables, rng: &mut BlockStream) -> f64 {
        standard_normal_f64_with(t, rng)
    }
    fn fill_uniform(rng: &mut BlockStream, low: f64, width: f64, out: &mut [f64]) {
        uniform::fill_uniform_f64(rng, low, width, out)
    }
    const NORMAL_WORDS: usize = 2;
    #[inline(always)]
    fn normal_fast_path(t: &Tables, words: &[u32]) -> (f64, bool) {
        fast_path_f64(t, u64::from(words[0]) | (u64::from(words[1]) << 32))
    }
}

/// The 16-bit types draw exactly as f32 does (one keystream word per uniform or
/// ziggurat attempt) and round the f64 value once to 16 bits.
macro_rules! half_element {
    ($t:ty) => {
        impl NativeDraw for $t {
            #[inline]
            fn standard_normal(rng: &mut BlockStream) -> f64 {
                standard_normal_f32(rng)
            }
            #[inline(always)]
            fn standard_normal_with(t: &Tables, rng: &mut BlockStream) -> f64 {
                standard_normal_f32_with(t, rng)
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
            fn normal_fast_path(t: &Tables, words: &[u32]) -> (f64, bool) {
                fast_path_f32(t, words[0])
            }
        }
    };
}

half_element!(half::f16);
half_element!(half::bf16);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw::derive_key;
    use crate::draw::truncated::TruncatedStandard;

    /// The batched fill must store exactly what one draw per element stores, word for
    /// word: it is an optimization, not a different sampler. Checked for both dtypes,
    /// plain and truncated windows (a narrow one rejects a third of the draws), and
    /// lengths around the batch size.
    fn batched_equals_one_at_a_time<E: NativeDraw + PartialEq + std::fmt::Debug>() {
        let t = tables();
        let lengths = [1, 7, 255, 256, 257, 1000, 5000, 65536];
        let truncated = TruncatedStandard::new(-0.5, 1.0);
        let (z_low, z_high) = truncated.normal_proposal_window().expect("normal proposal");
        let windows = [
            (Window::normal(0.25, 3.0), None),
            (
                Window {
                    mean: 1.0,
                    std: 2.0,
                    z_low,
                    z_high,
                    low: 0.0,
                    high: 3.0,
                },
                Some(truncated),
            ),
        ];
        for (stream, &len) in lengths.iter().enumerate() {
            let key = derive_key(stream as u64, "batched");
            for (window, truncated) in &windows {
                let draw = |r: &mut BlockStream| match truncated {
                    Some(tr) => tr.sample(r, |r| E::standard_normal_with(t, r)),
                    None => E::standard_normal_with(t, r),
                };
                let mut one = BlockStream::new(&key, 9);
                let expected: Vec<E> = (0..len).map(|_| window.store(draw(&mut one))).collect();
                let mut batched = BlockStream::new(&key, 9);
                let mut got = vec![E::default(); len];
                fill(&mut batched, window, &mut got);
                assert_eq!(got, expected, "{:?} len {len} window {window:?}", E::DTYPE);
                // And the stream is left at the same word.
                assert_eq!(batched.next_u32(), one.next_u32());
            }
        }
    }

    /// The squeeze must give the `exp` comparison's answer for every point of every
    /// wedge: a grid over each wedge plus points packed around the curve itself, where
    /// the two are closest to disagreeing.
    #[test]
    fn squeeze_agrees_with_exp_everywhere() {
        let t = tables();
        let mut checked = 0u64;
        let mut settled = 0u64;
        for layer in 1..LAYERS {
            let (x_out, x_in) = (t.x[layer], t.x[layer + 1]);
            for i in 0..=200 {
                let z = x_in + (x_out - x_in) * (i as f64 / 200.0);
                let density = libm::exp(-0.5 * z * z);
                let mut heights: Vec<f64> = (0..=100)
                    .map(|j| t.f[layer] + (t.f[layer + 1] - t.f[layer]) * (j as f64 / 100.0))
                    .collect();
                // Around the curve: the density itself and its neighbours up to 64 ulp away.
                let mut above = density;
                let mut below = density;
                for _ in 0..64 {
                    above = f64::from_bits(above.to_bits() + 1);
                    below = f64::from_bits(below.to_bits() - 1);
                    heights.extend([above, below]);
                }
                heights.push(density);
                for (k, y) in heights.into_iter().enumerate() {
                    let expected = y < density;
                    assert_eq!(
                        wedge_accepts(t, layer, z, y),
                        expected,
                        "layer {layer} z {z} y {y}"
                    );
                    if k > 100 {
                        continue; // near-curve points are not part of the speed count
                    }
                    checked += 1;
                    let line = |lo: f64, hi: f64| y < lo - SQUEEZE_SLACK || y > hi + SQUEEZE_SLACK;
                    let chord =
                        t.f[layer] + (t.f[layer + 1] - t.f[layer]) * ((x_out - z) / (x_out - x_in));
                    let tangent = t.f[layer] + x_out * t.f[layer] * (x_out - z);
                    if line(chord.min(tangent), chord.max(tangent)) {
                        settled += 1;
                    }
                }
            }
        }
        assert!(checked > 5_000_000, "{checked} grid points");
        // Most grid points are settled without exp (the speed-up the squeeze is for).
        assert!(
            settled * 2 > checked,
            "{settled} of {checked} settled by the squeeze"
        );
    }

    #[test]
    fn batched_fill_equals_one_at_a_time_f32() {
        batched_equals_one_at_a_time::<f32>();
    }

    #[test]
    fn batched_fill_equals_one_at_a_time_f64() {
        batched_equals_one_at_a_time::<f64>();
    }

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
