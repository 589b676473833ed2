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
        ChaCha8 { key: words, stream }
    }

    /// Writes keystream blocks `counter .. counter + BATCH_BLOCKS` to `out`, in order,
    /// each as its 16 little-endian words.
    pub fn blocks(&self, counter: u64, out: &mut [u32; BATCH_WORDS]) {
        #[cfg(target_arch = "x86_64")]
        if crate::simd::level() == crate::simd::Level::Avx512 {
            // SAFETY: the CPU has AVX-512F, the only feature the function enables.
            unsafe { avx512::batch(&self.key, self.stream, counter, out) };
            return;
        }
        batch(&self.key, self.stream, counter, out);
    }
}

crate::simd::dispatched! {
    /// The portable version: plain arrays the compiler vectorizes (well for the rounds,
    /// with scattered stores for the final transpose).
    fn batch(key: &[u32; 8], stream: u64, counter: u64, out: &mut [u32; BATCH_WORDS]) = batch_body;
}

#[inline(always)]
fn batch_body(key: &[u32; 8], stream: u64, counter: u64, out: &mut [u32; BATCH_WORDS]) {
    // One variable per state word (not an array of them) so that every word stays in a
    // vector register through the rounds; lane `l` is block `counter + l`.
    let splat = |w: u32| -> Lanes { [w; BATCH_BLOCKS] };
    let blocks: [u64; BATCH_BLOCKS] = std::array::from_fn(|l| counter.wrapping_add(l as u64));
    let input: [Lanes; BLOCK_WORDS] = [
        splat(SIGMA[0]),
        splat(SIGMA[1]),
        splat(SIGMA[2]),
        splat(SIGMA[3]),
        splat(key[0]),
        splat(key[1]),
        splat(key[2]),
        splat(key[3]),
        splat(key[4]),
        splat(key[5]),
        splat(key[6]),
        splat(key[7]),
        blocks.map(|b| b as u32),
        blocks.map(|b| (b >> 32) as u32),
        splat(stream as u32),
        splat((stream >> 32) as u32),
    ];
    let [
        mut x0,
        mut x1,
        mut x2,
        mut x3,
        mut x4,
        mut x5,
        mut x6,
        mut x7,
        mut x8,
        mut x9,
        mut x10,
        mut x11,
        mut x12,
        mut x13,
        mut x14,
        mut x15,
    ] = input;
    for _ in 0..DOUBLE_ROUNDS {
        // Column round, then diagonal round.
        quarter_round(&mut x0, &mut x4, &mut x8, &mut x12);
        quarter_round(&mut x1, &mut x5, &mut x9, &mut x13);
        quarter_round(&mut x2, &mut x6, &mut x10, &mut x14);
        quarter_round(&mut x3, &mut x7, &mut x11, &mut x15);
        quarter_round(&mut x0, &mut x5, &mut x10, &mut x15);
        quarter_round(&mut x1, &mut x6, &mut x11, &mut x12);
        quarter_round(&mut x2, &mut x7, &mut x8, &mut x13);
        quarter_round(&mut x3, &mut x4, &mut x9, &mut x14);
    }
    let state = [
        x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
    ];
    for lane in 0..BATCH_BLOCKS {
        let block = &mut out[lane * BLOCK_WORDS..(lane + 1) * BLOCK_WORDS];
        for (w, word) in block.iter_mut().enumerate() {
            *word = state[w][lane].wrapping_add(input[w][lane]);
        }
    }
}

#[inline(always)]
fn quarter_round(a: &mut Lanes, b: &mut Lanes, c: &mut Lanes, d: &mut Lanes) {
    for l in 0..BATCH_BLOCKS {
        a[l] = a[l].wrapping_add(b[l]);
        d[l] = (d[l] ^ a[l]).rotate_left(16);
        c[l] = c[l].wrapping_add(d[l]);
        b[l] = (b[l] ^ c[l]).rotate_left(12);
        a[l] = a[l].wrapping_add(b[l]);
        d[l] = (d[l] ^ a[l]).rotate_left(8);
        c[l] = c[l].wrapping_add(d[l]);
        b[l] = (b[l] ^ c[l]).rotate_left(7);
    }
}

/// AVX-512 version: the 16 blocks in the 16 lanes of 16 registers, and the transpose to
/// block order done in registers (64 shuffles) instead of with scattered stores, which
/// is what the compiler makes of the portable version.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{BATCH_WORDS, BLOCK_WORDS, DOUBLE_ROUNDS, SIGMA};

    macro_rules! quarter_round {
        ($x:ident, $a:expr, $b:expr, $c:expr, $d:expr) => {
            $x[$a] = _mm512_add_epi32($x[$a], $x[$b]);
            $x[$d] = _mm512_rol_epi32::<16>(_mm512_xor_si512($x[$d], $x[$a]));
            $x[$c] = _mm512_add_epi32($x[$c], $x[$d]);
            $x[$b] = _mm512_rol_epi32::<12>(_mm512_xor_si512($x[$b], $x[$c]));
            $x[$a] = _mm512_add_epi32($x[$a], $x[$b]);
            $x[$d] = _mm512_rol_epi32::<8>(_mm512_xor_si512($x[$d], $x[$a]));
            $x[$c] = _mm512_add_epi32($x[$c], $x[$d]);
            $x[$b] = _mm512_rol_epi32::<7>(_mm512_xor_si512($x[$b], $x[$c]));
        };
    }

    #[target_feature(enable = "avx512f")]
    pub fn batch(key: &[u32; 8], stream: u64, counter: u64, out: &mut [u32; BATCH_WORDS]) {
        let splat = |w: u32| _mm512_set1_epi32(w as i32);
        // Block counters counter + 0..16 as 64-bit values split in two words, with the
        // carry from the low word into the high one.
        let (counter_low, counter_high) = (counter as u32, (counter >> 32) as u32);
        let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let low = _mm512_add_epi32(splat(counter_low), lanes);
        let carried = _mm512_cmplt_epu32_mask(low, splat(counter_low));
        let high =
            _mm512_mask_add_epi32(splat(counter_high), carried, splat(counter_high), splat(1));
        let input = [
            splat(SIGMA[0]),
            splat(SIGMA[1]),
            splat(SIGMA[2]),
            splat(SIGMA[3]),
            splat(key[0]),
            splat(key[1]),
            splat(key[2]),
            splat(key[3]),
            splat(key[4]),
            splat(key[5]),
            splat(key[6]),
            splat(key[7]),
            low,
            high,
            splat(stream as u32),
            splat((stream >> 32) as u32),
        ];
        let mut x = input;
        for _ in 0..DOUBLE_ROUNDS {
            quarter_round!(x, 0, 4, 8, 12);
            quarter_round!(x, 1, 5, 9, 13);
            quarter_round!(x, 2, 6, 10, 14);
            quarter_round!(x, 3, 7, 11, 15);
            quarter_round!(x, 0, 5, 10, 15);
            quarter_round!(x, 1, 6, 11, 12);
            quarter_round!(x, 2, 7, 8, 13);
            quarter_round!(x, 3, 4, 9, 14);
        }
        for (w, start) in x.iter_mut().zip(input) {
            *w = _mm512_add_epi32(*w, start);
        }
        // Transpose: x[w] holds word w of blocks 0..16; rows of the result hold block e.
        // 32-bit then 64-bit interleaves leave, in 128-bit lane k of u[4i + j], words
        // 4i..4i+4 of block 4k + j; two rounds of 128-bit shuffles gather them.
        let mut t = [_mm512_setzero_si512(); BLOCK_WORDS];
        for i in 0..8 {
            t[2 * i] = _mm512_unpacklo_epi32(x[2 * i], x[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_epi32(x[2 * i], x[2 * i + 1]);
        }
        let mut u = [_mm512_setzero_si512(); BLOCK_WORDS];
        for i in 0..4 {
            u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
            u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
            u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
            u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
        }
        for j in 0..4 {
            let v0 = _mm512_shuffle_i32x4::<0x44>(u[j], u[4 + j]);
            let v1 = _mm512_shuffle_i32x4::<0xee>(u[j], u[4 + j]);
            let v2 = _mm512_shuffle_i32x4::<0x44>(u[8 + j], u[12 + j]);
            let v3 = _mm512_shuffle_i32x4::<0xee>(u[8 + j], u[12 + j]);
            let rows = [
                _mm512_shuffle_i32x4::<0x88>(v0, v2),
                _mm512_shuffle_i32x4::<0xdd>(v0, v2),
                _mm512_shuffle_i32x4::<0x88>(v1, v3),
                _mm512_shuffle_i32x4::<0xdd>(v1, v3),
            ];
            for (k, row) in rows.into_iter().enumerate() {
                let block = 4 * k + j;
                let dst = &mut out[block * BLOCK_WORDS..(block + 1) * BLOCK_WORDS];
                // SAFETY: `dst` is 16 u32 = 64 bytes; storeu has no alignment requirement.
                unsafe { _mm512_storeu_si512(dst.as_mut_ptr().cast(), row) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    /// The portable and the AVX-512 versions agree (the other test covers whichever one
    /// this machine dispatches to).
    #[test]
    fn portable_equals_avx512() {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") {
            let key: [u32; 8] = std::array::from_fn(|i| 0x0101_0101 * i as u32 + 7);
            for counter in [0u64, 48, (1 << 32) - 5, u64::MAX - 20] {
                let (mut a, mut b) = ([0u32; BATCH_WORDS], [0u32; BATCH_WORDS]);
                batch(&key, 99, counter, &mut a);
                // SAFETY: AVX-512F checked above.
                unsafe { avx512::batch(&key, 99, counter, &mut b) };
                assert_eq!(a, b, "counter {counter}");
            }
            return;
        }
        eprintln!("no AVX-512 on this CPU: only the portable ChaCha8 was tested");
    }

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
                    assert_eq!(
                        w,
                        theirs.next_u32(),
                        "stream {stream} counter {counter} word {i}"
                    );
                }
            }
        }
    }
}
