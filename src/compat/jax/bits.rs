//! `jax.random.bits` / `_random_bits` for threefry2x32: the words every sampler starts
//! from, for any sub-range of a tensor's flattened (row-major) elements, so blocks can
//! be drawn independently and in parallel.
//!
//! Only the element count matters, never the shape's split into axes: the
//! partitionable counter is the row-major flat index (`iota_2x32_shape` is a reshaped
//! 64-bit iota), and the original layout is built on `iota(count)` and reshaped.
//!
//! **Partitionable** (`jax_threefry_partitionable=True`, JAX 0.10's default): element i
//! is hashed on the counter pair (i >> 32, i & 0xFFFFFFFF) giving (y0, y1); a 64-bit
//! word is `y0 << 32 | y1`, a 32-bit word `y0 ^ y1`, and 16- and 8-bit words are the low
//! bits of `y0 ^ y1`.
//!
//! **Original** (`False`): a stream of n = ⌈bits·count/32⌉ 32-bit words, laid out by
//! [`original_words`] (which depends on n, e.g. on its parity). 32-bit words are the
//! stream; a 64-bit word i is `stream[i] << 32 | stream[i + count]` (the stream's two
//! halves); 16-bit word i is half i mod 2 (low half first) of stream word i/2, and 8-bit
//! word i is byte i mod 4 (lowest first) of word i/4. From n ≥ 2³² − 1 words on, JAX
//! hashes in blocks of 2³² − 1 words, block b with key b of `split(key, blocks + 1)` and
//! the last (partial) block with the last key; that is implemented the same way but,
//! needing 16 GiB tensors, not tested against JAX.

use super::key::{JaxKey, original_words};
use super::threefry::{LANES, threefry2x32, threefry2x32_lanes};

/// Words per block of the original layout: `np.iinfo(np.uint32).max`.
const BLOCK: u64 = u32::MAX as u64;

/// Element count of a shape (1 for a scalar).
pub fn element_count(shape: &[usize]) -> u64 {
    shape.iter().map(|&d| d as u64).product()
}

/// Words `start..start + out.len()` of the original mode's 32-bit stream of `n` words.
pub fn original_stream(key: JaxKey, n: u64, start: u64, out: &mut [u32]) {
    let blocks = n / BLOCK;
    if blocks == 0 {
        return original_words(key, n, start, out);
    }
    let rest = n % BLOCK;
    let mut done = 0;
    while done < out.len() {
        let w = start + done as u64;
        let block = w / BLOCK;
        let local = w % BLOCK;
        let block_len = if block < blocks { BLOCK } else { rest };
        let block_key = key.split_one(blocks as usize + 1, block as usize, false);
        let take = (out.len() - done).min((block_len - local) as usize);
        original_words(block_key, block_len, local, &mut out[done..done + take]);
        done += take;
    }
}

/// Partitionable mode: `emit(k, y0, y1)` for the hash of flat element `start + k`.
#[inline(always)]
fn partitionable_pairs(key: JaxKey, start: u64, len: usize, mut emit: impl FnMut(usize, u32, u32)) {
    let whole = len - len % LANES;
    let mut k = 0;
    while k < whole {
        let i0 = start + k as u64;
        let x0: [u32; LANES] = std::array::from_fn(|j| ((i0 + j as u64) >> 32) as u32);
        let x1: [u32; LANES] = std::array::from_fn(|j| (i0 + j as u64) as u32);
        let (y0, y1) = threefry2x32_lanes(key.0, x0, x1);
        for j in 0..LANES {
            emit(k + j, y0[j], y1[j]);
        }
        k += LANES;
    }
    for k in whole..len {
        let i = start + k as u64;
        let [y0, y1] = threefry2x32(key.0, [(i >> 32) as u32, i as u32]);
        emit(k, y0, y1);
    }
}

crate::simd::dispatched! {
    /// Partitionable 32-bit words `y0 ^ y1` (compiled per vector level: the hash is
    /// most of a sampler's time).
    fn partitionable32(key: JaxKey, start: u64, out: &mut [u32]) = partitionable32_body;
}

#[inline(always)]
fn partitionable32_body(key: JaxKey, start: u64, out: &mut [u32]) {
    partitionable_pairs(key, start, out.len(), |k, y0, y1| out[k] = y0 ^ y1);
}

crate::simd::dispatched! {
    /// Partitionable 64-bit words `y0 << 32 | y1`.
    fn partitionable64(key: JaxKey, start: u64, out: &mut [u64]) = partitionable64_body;
}

#[inline(always)]
fn partitionable64_body(key: JaxKey, start: u64, out: &mut [u64]) {
    partitionable_pairs(key, start, out.len(), |k, y0, y1| {
        out[k] = (u64::from(y0) << 32) | u64::from(y1)
    });
}

crate::simd::dispatched! {
    /// Original-mode 64-bit words of a one-block stream: word i is the two outputs of
    /// block (i, i + count).
    fn original64(key: JaxKey, count: u64, start: u64, out: &mut [u64]) = original64_body;
}

#[inline(always)]
fn original64_body(key: JaxKey, count: u64, start: u64, out: &mut [u64]) {
    let join = |hi: u32, lo: u32| (u64::from(hi) << 32) | u64::from(lo);
    let whole = out.len() - out.len() % LANES;
    let mut k = 0;
    while k < whole {
        let i0 = start + k as u64;
        let x0: [u32; LANES] = std::array::from_fn(|j| (i0 + j as u64) as u32);
        let x1: [u32; LANES] = std::array::from_fn(|j| (i0 + j as u64 + count) as u32);
        let (y0, y1) = threefry2x32_lanes(key.0, x0, x1);
        for j in 0..LANES {
            out[k + j] = join(y0[j], y1[j]);
        }
        k += LANES;
    }
    for (k, slot) in out.iter_mut().enumerate().skip(whole) {
        let i = start + k as u64;
        let [y0, y1] = threefry2x32(key.0, [i as u32, (i + count) as u32]);
        *slot = join(y0, y1);
    }
}

/// Runs `fill` on batches of at most this many 32-bit words for the 8- and 16-bit
/// words, which are cut from them.
const NARROW_BATCH: usize = 1024;

fn check_range(count: u64, start: usize, len: usize) {
    assert!(
        start as u64 + len as u64 <= count,
        "elements {start}..{} out of range for {count}",
        start + len
    );
}

/// `random_bits(key, 32, shape)`, flat elements `start..start + out.len()`.
pub fn fill_bits32(
    key: JaxKey,
    shape: &[usize],
    partitionable: bool,
    start: usize,
    out: &mut [u32],
) {
    let count = element_count(shape);
    check_range(count, start, out.len());
    if partitionable {
        partitionable32(key, start as u64, out);
    } else {
        original_stream(key, count, start as u64, out);
    }
}

/// `random_bits(key, 64, shape)`, flat elements `start..start + out.len()`.
pub fn fill_bits64(
    key: JaxKey,
    shape: &[usize],
    partitionable: bool,
    start: usize,
    out: &mut [u64],
) {
    let count = element_count(shape);
    check_range(count, start, out.len());
    let join = |hi: u32, lo: u32| (u64::from(hi) << 32) | u64::from(lo);
    if partitionable {
        partitionable64(key, start as u64, out);
    } else if 2 * count < BLOCK {
        // One block: word i and word i + count are the two outputs of block (i, i + count).
        original64(key, count, start as u64, out);
    } else {
        let mut high = vec![0u32; out.len()];
        let mut low = vec![0u32; out.len()];
        original_stream(key, 2 * count, start as u64, &mut high);
        original_stream(key, 2 * count, start as u64 + count, &mut low);
        for (slot, (h, l)) in out.iter_mut().zip(high.into_iter().zip(low)) {
            *slot = join(h, l);
        }
    }
}

/// Original mode's 8- and 16-bit words: `per_word` sub-words of the 32-bit stream.
fn original_narrow(
    key: JaxKey,
    count: u64,
    per_word: u64,
    start: usize,
    len: usize,
    mut emit: impl FnMut(usize, u32),
) {
    if len == 0 {
        return;
    }
    let n = count.div_ceil(per_word);
    let first = start as u64 / per_word;
    let last = (start as u64 + len as u64 - 1) / per_word;
    let mut words = vec![0u32; (last - first + 1) as usize];
    original_stream(key, n, first, &mut words);
    let shift = 32 / per_word;
    for k in 0..len {
        let i = start as u64 + k as u64;
        let word = words[(i / per_word - first) as usize];
        emit(k, word >> (shift * (i % per_word)));
    }
}

/// `random_bits(key, 16, shape)` (float16's words), flat elements `start..`.
pub fn fill_bits16(
    key: JaxKey,
    shape: &[usize],
    partitionable: bool,
    start: usize,
    out: &mut [u16],
) {
    let count = element_count(shape);
    check_range(count, start, out.len());
    if partitionable {
        let mut words = [0u32; NARROW_BATCH];
        for (b, chunk) in out.chunks_mut(NARROW_BATCH).enumerate() {
            let words = &mut words[..chunk.len()];
            partitionable32(key, (start + b * NARROW_BATCH) as u64, words);
            chunk
                .iter_mut()
                .zip(words.iter())
                .for_each(|(x, &w)| *x = w as u16);
        }
    } else {
        original_narrow(key, count, 2, start, out.len(), |k, w| out[k] = w as u16);
    }
}

/// `random_bits(key, 8, shape)` (bfloat16's words: `uniform` draws 8 bits for types
/// with fewer than 8 mantissa bits), flat elements `start..`.
pub fn fill_bits8(key: JaxKey, shape: &[usize], partitionable: bool, start: usize, out: &mut [u8]) {
    let count = element_count(shape);
    check_range(count, start, out.len());
    if partitionable {
        let mut words = [0u32; NARROW_BATCH];
        for (b, chunk) in out.chunks_mut(NARROW_BATCH).enumerate() {
            let words = &mut words[..chunk.len()];
            partitionable32(key, (start + b * NARROW_BATCH) as u64, words);
            chunk
                .iter_mut()
                .zip(words.iter())
                .for_each(|(x, &w)| *x = w as u8);
        }
    } else {
        original_narrow(key, count, 4, start, out.len(), |k, w| out[k] = w as u8);
    }
}
