//! NumPy's default generator, `np.random.default_rng(seed)`, bit for bit: a
//! `SeedSequence` turns the seed into a 128-bit state and increment for `PCG64`, whose
//! 64-bit outputs NumPy's samplers consume.
//!
//! Written from NumPy's documented design and its source (numpy/random/bit_generator.pyx,
//! numpy/random/src/pcg64/) as of NumPy 2.4; the constants below are NumPy's. The tests
//! compare with values NumPy itself produced (tests/fixtures/make_fixtures.py).

/// SeedSequence's pool, in 32-bit words (NumPy's `DEFAULT_POOL_SIZE`).
const POOL_SIZE: usize = 4;
// SeedSequence's hash constants (numpy/random/bit_generator.pyx).
const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;

/// PCG64's LCG multiplier (PCG's default 128-bit multiplier).
const PCG_MULTIPLIER: u128 = (2_549_297_995_355_413_924u128 << 64) | 4_865_540_595_714_422_341;

/// `np.random.SeedSequence(entropy)` for an integer entropy, without spawn keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSequence {
    pool: [u32; POOL_SIZE],
}

impl SeedSequence {
    pub fn new(entropy: u64) -> Self {
        // An integer becomes its 32-bit words, lowest first; zero is one zero word.
        let words: Vec<u32> = if entropy == 0 {
            vec![0]
        } else {
            let mut rest = entropy;
            let mut words = Vec::new();
            while rest > 0 {
                words.push(rest as u32);
                rest >>= 32;
            }
            words
        };
        let mut hash_const = INIT_A;
        let mut pool = [0u32; POOL_SIZE];
        for (i, slot) in pool.iter_mut().enumerate() {
            *slot = hashmix(words.get(i).copied().unwrap_or(0), &mut hash_const);
        }
        for src in 0..POOL_SIZE {
            for dst in 0..POOL_SIZE {
                if src != dst {
                    pool[dst] = mix(pool[dst], hashmix(pool[src], &mut hash_const));
                }
            }
        }
        // (Entropy longer than the pool would be mixed in here; a u64 never is.)
        SeedSequence { pool }
    }

    /// `generate_state(n_words, np.uint32)`.
    pub fn generate_state_u32(&self, n_words: usize) -> Vec<u32> {
        let mut hash_const = INIT_B;
        (0..n_words)
            .map(|i| {
                let mut value = self.pool[i % POOL_SIZE] ^ hash_const;
                hash_const = hash_const.wrapping_mul(MULT_B);
                value = value.wrapping_mul(hash_const);
                value ^ (value >> XSHIFT)
            })
            .collect()
    }

    /// `generate_state(n_words, np.uint64)`: pairs of 32-bit words, low word first.
    pub fn generate_state_u64(&self, n_words: usize) -> Vec<u64> {
        self.generate_state_u32(2 * n_words)
            .chunks_exact(2)
            .map(|pair| u64::from(pair[0]) | (u64::from(pair[1]) << 32))
            .collect()
    }
}

fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut value = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    value = value.wrapping_mul(*hash_const);
    value ^ (value >> XSHIFT)
}

fn mix(x: u32, y: u32) -> u32 {
    let result = MIX_MULT_L
        .wrapping_mul(x)
        .wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    result ^ (result >> XSHIFT)
}

/// NumPy's `PCG64` bit generator: a 128-bit LCG with the XSL-RR output function, and
/// NumPy's convention for 32-bit draws (the low half of a 64-bit output, then the high
/// half).
#[derive(Debug, Clone)]
pub struct Pcg64 {
    state: u128,
    increment: u128,
    /// The high half of the last 64-bit output, when a 32-bit draw left it unused.
    spare_u32: Option<u32>,
}

impl Pcg64 {
    /// The generator of `np.random.default_rng(seed)`.
    pub fn new(seed: u64) -> Self {
        let words = SeedSequence::new(seed).generate_state_u64(4);
        let initial_state = (u128::from(words[0]) << 64) | u128::from(words[1]);
        let sequence = (u128::from(words[2]) << 64) | u128::from(words[3]);
        // pcg_setseq_128_srandom_r: odd increment from the sequence, then two steps
        // around adding the initial state.
        let mut rng = Pcg64 {
            state: 0,
            increment: (sequence << 1) | 1,
            spare_u32: None,
        };
        rng.step();
        rng.state = rng.state.wrapping_add(initial_state);
        rng.step();
        rng
    }

    #[inline(always)]
    fn step(&mut self) {
        self.state = self
            .state
            .wrapping_mul(PCG_MULTIPLIER)
            .wrapping_add(self.increment);
    }

    /// The next 64-bit output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.step();
        let high = (self.state >> 64) as u64;
        let low = self.state as u64;
        (high ^ low).rotate_right((high >> 58) as u32)
    }

    /// The next 32-bit output: the low half of a fresh 64-bit output, or the high half
    /// left over from the previous call.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if let Some(high) = self.spare_u32.take() {
            return high;
        }
        let next = self.next_u64();
        self.spare_u32 = Some((next >> 32) as u32);
        next as u32
    }

    /// NumPy's `next_float`: 24 bits, in [0, 1), computed in single precision.
    #[inline]
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// NumPy's `next_double`: 53 bits, in [0, 1).
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The docstring example of NumPy's `_coerce_to_uint32_array` fixes the word split;
    /// the state and outputs are checked against NumPy-made fixtures in
    /// tests/streams/numpy_mode.rs. Here: the properties the code relies on.
    #[test]
    fn seeds_split_into_words_lowest_first() {
        // 2^32 + 5 has two words; 5 one. Different pools, deterministic.
        let a = SeedSequence::new((1 << 32) + 5);
        let b = SeedSequence::new(5);
        assert_ne!(a, b);
        assert_eq!(a, SeedSequence::new((1 << 32) + 5));
        assert_eq!(SeedSequence::new(0).generate_state_u32(3).len(), 3);
    }

    #[test]
    fn u32_draws_are_halves_of_u64_draws() {
        let mut a = Pcg64::new(7);
        let mut b = Pcg64::new(7);
        let x = a.next_u64();
        assert_eq!(b.next_u32(), x as u32);
        assert_eq!(b.next_u32(), (x >> 32) as u32);
        assert_eq!(b.next_u64(), a.next_u64());
    }
}
