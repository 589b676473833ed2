//! PyTorch's CPU generator after `torch.manual_seed(seed)`: the 32-bit Mersenne Twister
//! MT19937 (Matsumoto & Nishimura 1998) seeded with the seed's low 32 bits, read as 32-bit
//! words (`random()`) or as a 64-bit value made of two words, the first one the high
//! half (`random64()`), as in ATen's `CPUGeneratorImpl` (PyTorch 2.x).

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// MT19937 with PyTorch's seeding.
#[derive(Clone)]
pub struct Mt19937 {
    state: Box<[u32; N]>,
    next: usize,
}

impl std::fmt::Debug for Mt19937 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mt19937 {{ next: {} }}", self.next)
    }
}

impl Mt19937 {
    /// The generator of `torch.manual_seed(seed)`: only the low 32 bits of the seed count.
    pub fn new(seed: u64) -> Self {
        let mut state = Box::new([0u32; N]);
        state[0] = seed as u32;
        for j in 1..N {
            let prev = state[j - 1];
            state[j] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(j as u32);
        }
        Mt19937 { state, next: N }
    }

    /// Regenerates the 624 words of state (the "twist"), in the reference code's three
    /// loops so that no index needs a modulo.
    fn twist(&mut self) {
        let s = &mut self.state;
        let mix = |upper: u32, lower: u32| {
            let y = (upper & UPPER_MASK) | (lower & LOWER_MASK);
            (y >> 1) ^ if y & 1 == 1 { MATRIX_A } else { 0 }
        };
        for k in 0..N - M {
            s[k] = s[k + M] ^ mix(s[k], s[k + 1]);
        }
        for k in N - M..N - 1 {
            s[k] = s[k + M - N] ^ mix(s[k], s[k + 1]);
        }
        s[N - 1] = s[M - 1] ^ mix(s[N - 1], s[0]);
        self.next = 0;
    }

    /// `random()`: the next tempered 32-bit output.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.next == N {
            self.twist();
        }
        let y = self.state[self.next];
        self.next += 1;
        temper(y)
    }

    /// The next `dst.len()` outputs, the same as that many [`next_u32`](Self::next_u32)
    /// calls, tempered a state's worth at a time in a loop the compiler vectorizes.
    pub fn fill_u32(&mut self, dst: &mut [u32]) {
        let mut done = 0;
        while done < dst.len() {
            if self.next == N {
                self.twist();
            }
            let take = (N - self.next).min(dst.len() - done);
            let words = &self.state[self.next..self.next + take];
            for (out, &y) in dst[done..done + take].iter_mut().zip(words) {
                *out = temper(y);
            }
            self.next += take;
            done += take;
        }
    }

    /// Advances past the next `count` outputs without computing them: the state is
    /// regenerated (the twist, 624 words at a time) but no word is tempered or stored,
    /// so skipping costs about half of drawing (0.27 ns a word against 0.52 on this
    /// project's 2-core machine, `cargo bench --bench samplers -- mt19937`) and no
    /// memory. MT19937 also admits a jump of any length by multiplying the state by a
    /// power of its transition matrix, as a polynomial over GF(2) of degree 19937
    /// (Haramoto et al. 2008): O(19937²) bit operations, milliseconds to a tenth of a
    /// second a jump. A model's discarded draws are runs of 10³ to 10⁸ words, one per
    /// module, so regenerating is the faster until a run passes ~10⁸ words.
    pub fn skip(&mut self, mut count: u64) {
        while count > 0 {
            if self.next == N {
                self.twist();
            }
            let take = ((N - self.next) as u64).min(count);
            self.next += take as usize;
            count -= take;
        }
    }

    /// `random64()`: two outputs, the first one the high half.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let high = u64::from(self.next_u32());
        let low = u64::from(self.next_u32());
        (high << 32) | low
    }
}

/// MT19937's output tempering.
#[inline(always)]
fn temper(mut y: u32) -> u32 {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^ (y >> 18)
}

/// PyTorch's `CPUGeneratorImpl`: the engine plus the second Box–Muller value that
/// `normal_` on a small tensor keeps for the next call (cleared by `torch.manual_seed`).
#[derive(Debug, Clone)]
pub struct CpuGenerator {
    engine: Mt19937,
    next_double_normal: Option<f64>,
}

impl CpuGenerator {
    /// The state right after `torch.manual_seed(seed)`.
    pub fn new(seed: u64) -> Self {
        CpuGenerator {
            engine: Mt19937::new(seed),
            next_double_normal: None,
        }
    }

    /// `random()`.
    #[inline]
    pub fn random(&mut self) -> u32 {
        self.engine.next_u32()
    }

    /// `random64()`.
    #[inline]
    pub fn random64(&mut self) -> u64 {
        self.engine.next_u64()
    }

    /// `dst.len()` calls of `random()`, in bulk.
    pub fn fill_random(&mut self, dst: &mut [u32]) {
        self.engine.fill_u32(dst)
    }

    /// Advances past the next `count` 32-bit draws ([`Mt19937::skip`]).
    pub fn skip(&mut self, count: u64) {
        self.engine.skip(count)
    }

    /// The generator as plain data: state words, position, cached normal.
    pub fn snapshot(&self) -> crate::tensor::rng::TorchState {
        crate::tensor::rng::TorchState {
            words: self.engine.state.to_vec(),
            position: self.engine.next,
            cached_normal: self.next_double_normal,
        }
    }

    /// The generator a [`snapshot`](Self::snapshot) was taken of.
    pub fn restore(state: &crate::tensor::rng::TorchState) -> Self {
        let mut words = Box::new([0u32; N]);
        words.copy_from_slice(&state.words);
        CpuGenerator {
            engine: Mt19937 {
                state: words,
                next: state.position.min(N),
            },
            next_double_normal: state.cached_normal,
        }
    }

    /// Takes the cached normal value, if any.
    pub fn take_double_normal(&mut self) -> Option<f64> {
        self.next_double_normal.take()
    }

    /// Caches a normal value for the next small `normal_` draw.
    pub fn set_double_normal(&mut self, value: f64) {
        self.next_double_normal = Some(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference output of mt19937ar.c's `init_genrand(5489)`, the C++ standard's
    /// check value: the 10000th output of `std::mt19937` default-seeded is 4123659995.
    #[test]
    fn matches_the_cpp_standard_check_value() {
        let mut mt = Mt19937::new(5489);
        let mut last = 0;
        for _ in 0..10_000 {
            last = mt.next_u32();
        }
        assert_eq!(last, 4_123_659_995);
    }

    #[test]
    fn bulk_outputs_equal_single_outputs() {
        let mut one = Mt19937::new(11);
        let mut bulk = Mt19937::new(11);
        let _ = (one.next_u32(), bulk.next_u32()); // start mid-state
        let mut words = vec![0u32; 2000];
        bulk.fill_u32(&mut words);
        for (i, &w) in words.iter().enumerate() {
            assert_eq!(w, one.next_u32(), "word {i}");
        }
        assert_eq!(bulk.next_u32(), one.next_u32());
    }

    #[test]
    fn skipping_equals_drawing() {
        for count in [0u64, 1, 623, 624, 625, 5000, 100_003] {
            let mut drawn = Mt19937::new(3);
            let mut skipped = Mt19937::new(3);
            let _ = (drawn.next_u32(), skipped.next_u32());
            for _ in 0..count {
                drawn.next_u32();
            }
            skipped.skip(count);
            assert_eq!(drawn.next_u64(), skipped.next_u64(), "after {count}");
        }
    }

    #[test]
    fn a_snapshot_restores_the_generator() {
        let mut rng = CpuGenerator::new(9);
        rng.skip(1000);
        rng.set_double_normal(0.25);
        let mut copy = CpuGenerator::restore(&rng.snapshot());
        assert_eq!(copy.take_double_normal(), rng.take_double_normal());
        assert_eq!(copy.random64(), rng.random64());
    }

    #[test]
    fn only_the_low_32_bits_of_the_seed_count() {
        let mut a = Mt19937::new(7);
        let mut b = Mt19937::new((1 << 32) | 7);
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
