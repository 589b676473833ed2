//! A tensor's key and its keystream: the part of the file-format contract that makes
//! every output byte a pure function of (seed, tensor name, scheme, shape, layout, dtype).
//!
//! * **Key**: `SHA-256("weightinit-native-v2" ‖ 0x00 ‖ seed as 8 bytes little-endian ‖
//!   tensor name as UTF-8)`, 32 bytes.
//! * **Keystream**: ChaCha8 with that key and nonce (stream id) 0, in the original
//!   Bernstein layout (64-bit block counter in state words 12–13, 64-bit nonce in 14–15),
//!   read as little-endian `u32` words: word k is word k mod 16 of block k / 16.
//! * **Words of an element**: element i (row-major) of an f32, f16 or bf16 tensor reads
//!   word i; of an f64 tensor, words 2i (low half) and 2i + 1 (high half).
//!
//! Nothing else is consumed, so any range of elements can be drawn alone — on any thread,
//! in any order, on any machine — and equals that slice of the whole tensor.

use sha2::{Digest, Sha256};

use super::chacha::{BATCH_BLOCKS, BATCH_WORDS, BLOCK_WORDS, ChaCha8};

/// Domain-separation prefix of the key derivation (versioned with the contract).
const KEY_DOMAIN: &[u8] = b"weightinit-native-v2";

/// The 32-byte ChaCha8 key for one tensor.
pub fn derive_key(seed: u64, name: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(KEY_DOMAIN);
    hasher.update([0u8]);
    hasher.update(seed.to_le_bytes());
    hasher.update(name.as_bytes());
    hasher.finalize().into()
}

/// A tensor's keystream, addressable by word position.
#[derive(Clone, Debug)]
pub struct Keystream {
    chacha: ChaCha8,
}

impl Keystream {
    pub fn new(key: &[u8; 32]) -> Self {
        Keystream::with_stream(key, 0)
    }

    /// Stream `stream` of the same key (ChaCha8's stream id): another sequence of words,
    /// for a scheme that needs randomness beyond its values (`sparse`'s zero positions
    /// read stream 1). Stream 0 is the values' keystream.
    pub fn with_stream(key: &[u8; 32], stream: u64) -> Self {
        Keystream {
            chacha: ChaCha8::new(key, stream),
        }
    }

    /// Fills `dst` with words `first .. first + dst.len()`.
    pub fn fill(&self, first: u64, dst: &mut [u32]) {
        let mut counter = first / BLOCK_WORDS as u64;
        let mut skip = (first % BLOCK_WORDS as u64) as usize;
        let mut rest = dst;
        let mut scratch = [0u32; BATCH_WORDS];
        while !rest.is_empty() {
            if skip == 0 && rest.len() >= BATCH_WORDS {
                // Whole batches go straight to the destination.
                let (batch, after) = rest.split_at_mut(BATCH_WORDS);
                let batch: &mut [u32; BATCH_WORDS] = batch.try_into().expect("batch length");
                self.chacha.blocks(counter, batch);
                rest = after;
            } else {
                self.chacha.blocks(counter, &mut scratch);
                let take = (BATCH_WORDS - skip).min(rest.len());
                let (part, after) = rest.split_at_mut(take);
                part.copy_from_slice(&scratch[skip..skip + take]);
                rest = after;
                skip = 0;
            }
            counter = counter.wrapping_add(BATCH_BLOCKS as u64);
        }
    }
}

/// The key of a tensor's native stream: [`derive_key`] of its seed and name.
pub fn key_of(tensor: &crate::tensor::ResolvedTensor) -> [u8; 32] {
    derive_key(tensor.spec.seed, &tensor.spec.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ChaCha8 with an all-zero key and nonce: the first keystream block as published in
    /// the ChaCha test vectors (draft-strombergson-chacha-test-vectors, TC1, 8 rounds).
    #[test]
    fn chacha8_matches_published_test_vector() {
        let mut words = [0u32; 8];
        Keystream::new(&[0u8; 32]).fill(0, &mut words);
        let hex: String = words
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "3e00ef2f895f40d67f5bb8e81f09a5a12c840ec3ce9a7f3b181be188ef711a1e"
        );
    }

    #[test]
    fn any_range_equals_that_slice_of_the_whole() {
        let stream = Keystream::new(&derive_key(3, "w"));
        let mut whole = vec![0u32; 3000];
        stream.fill(0, &mut whole);
        for (start, len) in [
            (0, 1),
            (1, 15),
            (15, 2),
            (17, 256),
            (255, 1000),
            (1999, 1001),
        ] {
            let mut part = vec![0u32; len];
            stream.fill(start as u64, &mut part);
            assert_eq!(part, whole[start..start + len], "{start}+{len}");
        }
    }

    #[test]
    fn names_and_seeds_give_different_streams() {
        let first = |seed, name| {
            let mut w = [0u32; 2];
            Keystream::new(&derive_key(seed, name)).fill(0, &mut w);
            w
        };
        assert_ne!(first(7, "w0"), first(7, "w1"));
        assert_ne!(first(7, "w0"), first(8, "w0"));
        assert_eq!(first(7, "w0"), first(7, "w0"));
    }
}
