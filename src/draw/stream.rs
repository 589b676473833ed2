//! The native random stream: the part of the file-format contract that makes every
//! output byte a pure function of (seed, tensor name, scheme, shape, layout, dtype).
//!
//! * **Key**: `SHA-256("weightinit-native-v1" ‖ 0x00 ‖ seed as 8 bytes little-endian ‖
//!   tensor name as UTF-8)`, 32 bytes.
//! * **Blocks**: element `i` of the tensor (row-major order) belongs to block
//!   `i / BLOCK_LEN`. Block `b` draws from the ChaCha8 keystream with that key, 64-bit
//!   nonce (stream id) `b`, and 64-bit block counter starting at 0 — the original
//!   Bernstein layout, as `rand_chacha::ChaCha8Rng` with `set_stream(b)` implements it
//!   (computed by [`super::chacha`]).
//! * **Words**: the keystream is read as little-endian `u32` words in order; a `u64` is
//!   two consecutive words, the first one the low half.
//!
//! Because a block's values depend on nothing but its index, blocks can be drawn on any
//! thread, in any order, on any machine.

use sha2::{Digest, Sha256};

use super::chacha::{BATCH_BLOCKS, BATCH_WORDS, ChaCha8};

/// Elements per block. Part of the output contract: changing it changes every file.
pub const BLOCK_LEN: usize = 1 << 16;

/// Domain-separation prefix of the key derivation (versioned with the contract).
const KEY_DOMAIN: &[u8] = b"weightinit-native-v1";

/// The 32-byte ChaCha8 key for one tensor.
pub fn derive_key(seed: u64, name: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(KEY_DOMAIN);
    hasher.update([0u8]);
    hasher.update(seed.to_le_bytes());
    hasher.update(name.as_bytes());
    hasher.finalize().into()
}

/// The stream of words that block `block` of a tensor draws from.
#[derive(Clone, Debug)]
pub struct BlockStream {
    chacha: ChaCha8,
    /// The ChaCha block counter of the first block not yet computed.
    counter: u64,
    /// Keystream words computed but not all handed out yet: `buffer[next..]`.
    buffer: [u32; BATCH_WORDS],
    next: usize,
}

impl BlockStream {
    /// The stream for block number `block` of the tensor keyed by `key`.
    pub fn new(key: &[u8; 32], block: u64) -> Self {
        BlockStream {
            chacha: ChaCha8::new(key, block),
            counter: 0,
            buffer: [0; BATCH_WORDS],
            next: BATCH_WORDS,
        }
    }

    /// Computes the next batch of keystream into the buffer.
    #[cold]
    fn refill(&mut self) {
        self.chacha.blocks(self.counter, &mut self.buffer);
        self.counter += BATCH_BLOCKS as u64;
        self.next = 0;
    }

    /// The next 32-bit word.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.next == BATCH_WORDS {
            self.refill();
        }
        let word = self.buffer[self.next];
        self.next += 1;
        word
    }

    /// The next two words as one 64-bit value, low half first.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let low = u64::from(self.next_u32());
        let high = u64::from(self.next_u32());
        low | (high << 32)
    }

    /// Fills `dst` with the next `dst.len()` words: the same words, in the same order,
    /// as that many calls of [`next_u32`](Self::next_u32), produced in bulk.
    pub fn fill_u32(&mut self, dst: &mut [u32]) {
        let buffered = (BATCH_WORDS - self.next).min(dst.len());
        let (head, mut rest) = dst.split_at_mut(buffered);
        head.copy_from_slice(&self.buffer[self.next..self.next + buffered]);
        self.next += buffered;
        // Whole batches go straight to the destination.
        while rest.len() >= BATCH_WORDS {
            let (batch, after) = rest.split_at_mut(BATCH_WORDS);
            let batch: &mut [u32; BATCH_WORDS] = batch.try_into().expect("batch length");
            self.chacha.blocks(self.counter, batch);
            self.counter += BATCH_BLOCKS as u64;
            rest = after;
        }
        for w in rest {
            *w = self.next_u32();
        }
    }

    /// The computed keystream batch and the position of the next unused word in it
    /// (computing a new batch first if this one is used up). With [`skip`](Self::skip),
    /// lets a sampler precompute from many words at once and then take exactly the
    /// words a word-by-word draw would have taken.
    pub fn window(&mut self) -> (&[u32; BATCH_WORDS], usize) {
        if self.next == BATCH_WORDS {
            self.refill();
        }
        (&self.buffer, self.next)
    }

    /// Marks the next `words` words of the current batch as used.
    #[inline]
    pub fn skip(&mut self, words: usize) {
        debug_assert!(self.next + words <= BATCH_WORDS);
        self.next += words;
    }

    /// How many batches have been computed so far: changes exactly when the words
    /// returned by [`window`](Self::window) are replaced.
    #[inline]
    pub fn batches(&self) -> u64 {
        self.counter / BATCH_BLOCKS as u64
    }

    /// A double in [0, 1) with 53 random bits (two words).
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A double in (0, 1] with 53 random bits, safe to take the logarithm of.
    #[inline]
    pub fn next_f64_nonzero(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ChaCha8 with an all-zero key and nonce: the first keystream block as published in
    /// the ChaCha test vectors (draft-strombergson-chacha-test-vectors, TC1, 8 rounds).
    #[test]
    fn chacha8_matches_published_test_vector() {
        let mut s = BlockStream::new(&[0u8; 32], 0);
        let mut bytes = Vec::new();
        for _ in 0..8 {
            bytes.extend_from_slice(&s.next_u32().to_le_bytes());
        }
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "3e00ef2f895f40d67f5bb8e81f09a5a12c840ec3ce9a7f3b181be188ef711a1e"
        );
    }

    #[test]
    fn blocks_and_names_give_different_streams() {
        let key = derive_key(7, "w0");
        let a = BlockStream::new(&key, 0).next_u64();
        let b = BlockStream::new(&key, 1).next_u64();
        let c = BlockStream::new(&derive_key(7, "w1"), 0).next_u64();
        let d = BlockStream::new(&derive_key(8, "w0"), 0).next_u64();
        assert!(a != b && a != c && a != d && b != c);
        assert_eq!(a, BlockStream::new(&key, 0).next_u64());
    }

    #[test]
    fn bulk_words_equal_single_words() {
        let key = derive_key(3, "bulk");
        let mut one = BlockStream::new(&key, 5);
        let mut bulk = BlockStream::new(&key, 5);
        let _ = (one.next_u32(), bulk.next_u32()); // start unaligned to the 64-word buffer
        let mut words = vec![0u32; 1000];
        bulk.fill_u32(&mut words);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(*w, one.next_u32(), "word {i}");
        }
        assert_eq!(bulk.next_u32(), one.next_u32());
    }

    #[test]
    fn unit_interval_ends() {
        // The largest 53-bit value maps just below 1; the nonzero variant never gives 0.
        let max = ((u64::MAX >> 11) as f64) * (1.0 / (1u64 << 53) as f64);
        assert!(max < 1.0);
        let mut s = BlockStream::new(&[1u8; 32], 3);
        for _ in 0..1000 {
            let x = s.next_f64_nonzero();
            assert!(x > 0.0 && x <= 1.0);
        }
    }
}
