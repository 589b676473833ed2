//! JAX's keys with the default `threefry2x32` implementation: `jax.random.key(seed)` /
//! `PRNGKey(seed)`, `split` and `fold_in` (`jax/_src/random/threefry2x32.py`), in both
//! settings of `jax_threefry_partitionable` (default `True` since JAX 0.5).

use super::threefry::{LANES, threefry2x32, threefry2x32_lanes};

/// A threefry2x32 key: `jax.random.key_data(key)` (or the old `uint32[2]` `PRNGKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JaxKey(pub [u32; 2]);

impl JaxKey {
    /// `jax.random.key(seed)`: `[seed >> 32, seed & 0xFFFFFFFF]` of the seed as JAX
    /// holds it. Without `jax_enable_x64` a Python int becomes int64 and then int32, so
    /// the key is `[0, seed mod 2³²]`; with x64 it is the seed's 64 bits (a negative
    /// Python int as two's complement: pass `seed as u64`; seeds ≥ 2⁶³ as `np.uint64`).
    /// A seed given as a 32-bit NumPy integer gives `[0, seed mod 2³²]` in both modes.
    pub fn from_seed(seed: u64, x64: bool) -> JaxKey {
        let high = if x64 { (seed >> 32) as u32 } else { 0 };
        JaxKey([high, seed as u32])
    }

    /// `jax.random.fold_in(key, data)`: `threefry2x32(key, [0, data])` — one block on the
    /// counter pair (0, data), the same in both partitionable modes. `data` is the
    /// integer taken modulo 2³² (JAX converts it to uint32).
    pub fn fold_in(self, data: u32) -> JaxKey {
        JaxKey(threefry2x32(self.0, [0, data]))
    }

    /// `jax.random.split(key, n)`, all `n` keys.
    ///
    /// Partitionable: key `i` is `threefry2x32(key, [i >> 32, i & 0xFFFFFFFF])` (the
    /// same as `fold_in(key, i)` for i < 2³²). Original: the 2n words of
    /// [`original_words`] on `iota(2n)`, key `i` being words 2i and 2i + 1.
    pub fn split(self, n: usize, partitionable: bool) -> Vec<JaxKey> {
        (0..n)
            .map(|i| self.split_one(n, i, partitionable))
            .collect()
    }

    /// Key `index` of `jax.random.split(key, n)`, without computing the others.
    pub fn split_one(self, n: usize, index: usize, partitionable: bool) -> JaxKey {
        assert!(index < n, "split index {index} out of range for {n} keys");
        if partitionable {
            let i = index as u64;
            JaxKey(threefry2x32(self.0, [(i >> 32) as u32, i as u32]))
        } else {
            let total = 2 * n as u64;
            let mut pair = [0u32; 2];
            original_words(self, total, 2 * index as u64, &mut pair);
            JaxKey(pair)
        }
    }
}

/// Words `start..start + out.len()` of `threefry_2x32(key, iota(n))` (JAX's
/// `threefry_2x32` on a count array, the non-partitionable layout): the counts are padded
/// with one 0 to even length 2h (h = ⌈n/2⌉), hashed as pairs (c\[j\], c\[j + h\]), and the
/// outputs concatenated: word j < h is the first output of block (j, j + h) and word
/// j ≥ h the second output of block (j − h, j); the padding's output is dropped, so for
/// odd n the block (h − 1, 0) gives only word h − 1. Needs n ≤ 2³² − 1 (JAX itself splits
/// bigger counts into blocks: [`super::bits`]).
pub fn original_words(key: JaxKey, n: u64, start: u64, out: &mut [u32]) {
    original_words_dispatched(key, n, start, out);
}

crate::simd::dispatched! {
    fn original_words_dispatched(key: JaxKey, n: u64, start: u64, out: &mut [u32]) = original_words_body;
}

#[inline(always)]
fn original_words_body(key: JaxKey, n: u64, start: u64, out: &mut [u32]) {
    assert!(
        n <= u64::from(u32::MAX),
        "count of {n} words needs JAX's blocked layout"
    );
    assert!(start + out.len() as u64 <= n, "words out of range");
    let h = n.div_ceil(2);
    let counter = |w: u64| -> (u32, u32, bool) {
        if w < h {
            let second = w + h;
            (w as u32, if second < n { second as u32 } else { 0 }, true)
        } else {
            ((w - h) as u32, w as u32, false)
        }
    };
    let mut chunks = out.chunks_exact_mut(LANES);
    let mut w = start;
    for chunk in &mut chunks {
        let mut x0 = [0u32; LANES];
        let mut x1 = [0u32; LANES];
        let mut first = [false; LANES];
        for j in 0..LANES {
            (x0[j], x1[j], first[j]) = counter(w + j as u64);
        }
        let (y0, y1) = threefry2x32_lanes(key.0, x0, x1);
        for j in 0..LANES {
            chunk[j] = if first[j] { y0[j] } else { y1[j] };
        }
        w += LANES as u64;
    }
    for slot in chunks.into_remainder() {
        let (x0, x1, first) = counter(w);
        let [y0, y1] = threefry2x32(key.0, [x0, x1]);
        *slot = if first { y0 } else { y1 };
        w += 1;
    }
}
