//! The Threefry-2x32 block function (Salmon et al., "Parallel random numbers: as easy
//! as 1, 2, 3", SC 2011) with the 20 rounds and key schedule JAX uses
//! (`jax/_src/random/threefry2x32.py`, `_threefry2x32_lowering`): every other part of
//! JAX's stream — keys, splits, bits — is this function applied to counters.

/// Rotation amounts of the two alternating groups of four rounds.
const ROTATIONS: [[u32; 4]; 2] = [[13, 15, 26, 6], [17, 29, 16, 24]];

/// Skein's key-schedule parity constant.
const PARITY: u32 = 0x1BD1_1BDA;

/// `threefry2x32_p(k1, k2, x1, x2)` on one counter pair: 5 groups of 4 rounds, a key
/// injection after each group (`x0 += ks[i+1 mod 3]`, `x1 += ks[i+2 mod 3] + i + 1`).
#[inline(always)]
pub fn threefry2x32(key: [u32; 2], x: [u32; 2]) -> [u32; 2] {
    let ks = [key[0], key[1], key[0] ^ key[1] ^ PARITY];
    let mut x0 = x[0].wrapping_add(ks[0]);
    let mut x1 = x[1].wrapping_add(ks[1]);
    for group in 0..5 {
        for &r in &ROTATIONS[group % 2] {
            x0 = x0.wrapping_add(x1);
            x1 = x1.rotate_left(r) ^ x0;
        }
        x0 = x0.wrapping_add(ks[(group + 1) % 3]);
        x1 = x1
            .wrapping_add(ks[(group + 2) % 3])
            .wrapping_add(group as u32 + 1);
    }
    [x0, x1]
}

/// Lanes hashed together by [`threefry2x32_lanes`]: 16 × u32 is one AVX-512 register
/// (two AVX2 ones).
pub const LANES: usize = 16;

/// One Threefry round on all lanes, its rotation a constant (so that it compiles to a
/// vector rotate or two shifts).
#[inline(always)]
fn round<const R: u32>(a: &mut [u32; LANES], b: &mut [u32; LANES]) {
    for j in 0..LANES {
        a[j] = a[j].wrapping_add(b[j]);
        b[j] = b[j].rotate_left(R) ^ a[j];
    }
}

/// Four rounds of the first (`EVEN`) or second rotation group.
#[inline(always)]
fn four_rounds<const EVEN: bool>(a: &mut [u32; LANES], b: &mut [u32; LANES]) {
    if EVEN {
        round::<13>(a, b);
        round::<15>(a, b);
        round::<26>(a, b);
        round::<6>(a, b);
    } else {
        round::<17>(a, b);
        round::<29>(a, b);
        round::<16>(a, b);
        round::<24>(a, b);
    }
}

#[inline(always)]
fn inject(a: &mut [u32; LANES], b: &mut [u32; LANES], add0: u32, add1: u32) {
    for j in 0..LANES {
        a[j] = a[j].wrapping_add(add0);
        b[j] = b[j].wrapping_add(add1);
    }
}

/// [`threefry2x32`] on [`LANES`] counter pairs at once, unrolled and lane-parallel so
/// that LLVM keeps each state word in vector registers.
#[inline(always)]
pub fn threefry2x32_lanes(
    key: [u32; 2],
    x0: [u32; LANES],
    x1: [u32; LANES],
) -> ([u32; LANES], [u32; LANES]) {
    let ks = [key[0], key[1], key[0] ^ key[1] ^ PARITY];
    let (mut a, mut b) = (x0, x1);
    inject(&mut a, &mut b, ks[0], ks[1]);
    four_rounds::<true>(&mut a, &mut b);
    inject(&mut a, &mut b, ks[1], ks[2].wrapping_add(1));
    four_rounds::<false>(&mut a, &mut b);
    inject(&mut a, &mut b, ks[2], ks[0].wrapping_add(2));
    four_rounds::<true>(&mut a, &mut b);
    inject(&mut a, &mut b, ks[0], ks[1].wrapping_add(3));
    four_rounds::<false>(&mut a, &mut b);
    inject(&mut a, &mut b, ks[1], ks[2].wrapping_add(4));
    four_rounds::<true>(&mut a, &mut b);
    inject(&mut a, &mut b, ks[2], ks[0].wrapping_add(5));
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // The Random123 known-answer vectors for Threefry-2x32-20, which JAX's own tests
        // (tests/random_test.py, testThreefry2x32) check.
        assert_eq!(threefry2x32([0, 0], [0, 0]), [0x6b20_0159, 0x99ba_4efe]);
        assert_eq!(
            threefry2x32([u32::MAX, u32::MAX], [u32::MAX, u32::MAX]),
            [0x1cb9_96fc, 0xbb00_2be7]
        );
        assert_eq!(
            threefry2x32([0x1319_8a2e, 0x0370_7344], [0x243f_6a88, 0x85a3_08d3]),
            [0xc492_3a9c, 0x483d_f7a0]
        );
    }

    #[test]
    fn lanes_match_scalar() {
        let key = [0x1234_5678, 0x9abc_def0];
        let x0: [u32; LANES] = std::array::from_fn(|j| j as u32 * 77);
        let x1: [u32; LANES] = std::array::from_fn(|j| u32::MAX - j as u32);
        let (a, b) = threefry2x32_lanes(key, x0, x1);
        for j in 0..LANES {
            assert_eq!(threefry2x32(key, [x0[j], x1[j]]), [a[j], b[j]]);
        }
    }
}
