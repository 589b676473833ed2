//! The ChaCha8 keystream (D. J. Bernstein, "ChaCha, a variant of Salsa20", 2008), in the
//! original layout: 256-bit key, 64-bit block counter in state words 12–13, 64-bit nonce
//! (stream id) in words 14–15 — the layout `rand_chacha::ChaCha8Rng::set_stream` uses.
//!
//! Written here rather than taken from rand_chacha because the keystream is most of the
//! cost of a uniform tensor: this version computes [`BATCH_BLOCKS`] consecutive blocks at
//! once, one block per vector lane, and is compiled for AVX-512, AVX2 and the baseline
//! with the choice made at run time. Only integer additions, xors and rotations are
//! involved, so every version gives the same words; the tests compare them with
//! rand_chacha and with the published test vector.

/// ChaCha blocks computed together, one per vector lane.
pub const BATCH_BLOCKS: usize = 16;
/// 32-bit words per ChaCha block.
pub const BLOCK_WORDS: usize = 16;
/// Words produced per batch.
pub const BATCH_WORDS: usize = BATCH_BLOCKS * BLOCK_WORDS;

/// "expand 32-byte k", the ChaCha constant words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// Double rounds in ChaCha8 (eight rounds).
const DOUBLE_ROUNDS: usize = 4;

/// State word `w` of the [`BATCH_BLOCKS`] blocks, one per lane.
type Lanes = [u32; BATCH_BLOCKS];

/// A ChaCha8 key and stream id, ready to produce keystream blocks.
#[derive(Clone, Debug)]
pub struct ChaCha8 {
    key: [u32; 8],
    stream: u64,
}

impl ChaCha8 {
    pub fn new(key: &[u8; 32], stream: u64) -> Self {
        let mut words = [0u32; 8];
        for (w, bytes) in words.iter_mut().zip(key.chunks_exact(4)) {
            *w = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        ChaCha8 {
            key: words,
            stream,
        }
    }

    /// Writes keystream blocks `counter .. counter + BATCH_BLOCKS` to `out`, in order,
    /// each as its 16 little-endian words.
    pub fn blocks(&self, counter: u64, out: &mut [u32; BATCH_WORDS]) {
        batch(&self.key, self.stream, counter, out);
    }
}

#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl",
    "x86_64+avx2+avx+sse4.2"
))]
fn batch(key: &[u32; 8], stream: u64, counter: u64, out: &mut [u32; BATCH_WORDS]) {
    let mut x = [[0u32; BATCH_BLOCKS]; BLOCK_WORDS];
    for (w, &c) in SIGMA.iter().enumerate() {
        x[w] = [c; BATCH_BLOCKS];
    }
    for (w, &k) in key.iter().enumerate() {
        x[4 + w] = [k; BATCH_BLOCKS];
    }
    for lane in 0..BATCH_BLOCKS {
        let block = counter.wrapping_add(lane as u64);
        x[12][lane] = block as u32;
        x[13][lane] = (block >> 32) as u32;
    }
    x[14] = [stream as u32; BATCH_BLOCKS];
    x[15] = [(stream >> 32) as u32; BATCH_BLOCKS];
    let input = x;
    for _ in 0..DOUBLE_ROUNDS {
        // Column round, then diagonal round.
        quarter_round(&mut x, 0, 4, 8, 12);
        quarter_round(&mut x, 1, 5, 9, 13);
        quarter_round(&mut x, 2, 6, 10, 14);
        quarter_round(&mut x, 3, 7, 11, 15);
        quarter_round(&mut x, 0, 5, 10, 15);
        quarter_round(&mut x, 1, 6, 11, 12);
        quarter_round(&mut x, 2, 7, 8, 13);
        quarter_round(&mut x, 3, 4, 9, 14);
    }
    for (w, (words, start)) in x.iter().zip(input.iter()).enumerate() {
        for lane in 0..BATCH_BLOCKS {
            out[lane * BLOCK_WORDS + w] = words[lane].wrapping_add(start[lane]);
        }
    }
}

#[inline(always)]
fn quarter_round(x: &mut [Lanes; BLOCK_WORDS], a: usize, b: usize, c: usize, d: usize) {
    step(x, a, b, d, 16);
    step(x, c, d, b, 12);
    step(x, a, b, d, 8);
    step(x, c, d, b, 7);
}

/// `x[p] += x[q]; x[r] ^= x[p]; x[r] <<<= bits`, lane by lane.
#[inline(always)]
fn step(x: &mut [Lanes; BLOCK_WORDS], p: usize, q: usize, r: usize, bits: u32) {
    let (sum, other) = (x[p], x[q]);
    let mut mixed = x[r];
    let mut added = sum;
    for lane in 0..BATCH_BLOCKS {
        added[lane] = sum[lane].wrapping_add(other[lane]);
        mixed[lane] = (mixed[lane] ^ added[lane]).rotate_left(bits);
    }
    x[p] = added;
    x[r] = mixed;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    /// Our batches against rand_chacha, an independent implementation of the same layout,
    /// including a counter that crosses the 32-bit boundary.
    #[test]
    fn matches_rand_chacha() {
        let key: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
        for stream in [0u64, 1, 0xdead_beef_0123_4567] {
            let ours = ChaCha8::new(&key, stream);
            let mut theirs = ChaCha8Rng::from_seed(key);
            theirs.set_stream(stream);
            let mut out = [0u32; BATCH_WORDS];
            for counter in [0u64, BATCH_BLOCKS as u64, (1 << 32) - 3] {
                theirs.set_word_pos(u128::from(counter) * BLOCK_WORDS as u128);
                ours.blocks(counter, &mut out);
                for (i, &w) in out.iter().enumerate() {
                    assert_eq!(w, theirs.next_u32(), "stream {stream} counter {counter} word {i}");
                }
            }
        }
    }
}
