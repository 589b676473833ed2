//! `--rng numpy`: the values NumPy's `Generator` methods return, bit for bit, drawn from
//! [`Pcg64`] in NumPy's order, and the NumPy expression each tensor equals.
//!
//! * Normal draws use NumPy's 256-layer ziggurat (`random_standard_normal` and, for
//!   float32, `random_standard_normal_f`, which works in single precision on 32-bit
//!   draws) with NumPy's own tables (`numpy_tables`). The wedge test calls `exp` and the
//!   tail `log1p`/`log1pf`, which NumPy takes from the platform's C math library, and so
//!   do we (`c_math.rs`): the C libraries disagree in the last bit on some inputs (glibc
//!   2.36 and the `libm` crate on 9% of `exp`, 0.09% of `log1pf` arguments), and a tail
//!   value inherits its logarithm's last bit, so only the same library gives NumPy's
//!   values. This is the one place weightinit uses the platform's math library.
//! * Uniform tensors are `rng.uniform(low, high, shape)` (float64), rounded to float32
//!   for float32 tensors, as `.astype(np.float32)` does.
//! * Normal float32 tensors are `rng.standard_normal(shape, dtype=np.float32) *
//!   np.float32(std)` (`+ np.float32(mean)` when the mean is not 0); float64 ones are
//!   `rng.normal(mean, std, shape)`.

use super::tables::{
    FI_DOUBLE, FI_FLOAT, KI_DOUBLE, KI_FLOAT, NOR_INV_R, NOR_INV_R_F, NOR_R, NOR_R_F, WI_DOUBLE,
    WI_FLOAT,
};
use crate::array::dtype::{DType, Element};
use crate::compat::c_math;
use crate::compat::numpy::generator::Pcg64;
use crate::law::Distribution;

/// `random_standard_normal`: one float64 standard normal.
#[inline(always)]
pub fn standard_normal_f64(rng: &mut Pcg64) -> f64 {
    let bits = rng.next_u64();
    let layer = (bits & 0xff) as usize;
    let position = (bits >> 9) & 0x000f_ffff_ffff_ffff;
    // NumPy negates x when the sign bit is set: flipping the sign bit is the same,
    // without a branch that would be mispredicted half the time.
    let x =
        f64::from_bits((position as f64 * WI_DOUBLE[layer]).to_bits() ^ ((bits >> 8) & 1) << 63);
    if position < KI_DOUBLE[layer] {
        return x;
    }
    standard_normal_f64_slow(rng, bits)
}

/// The rest of NumPy's float64 ziggurat loop after the first attempt `bits` missed the
/// rectangle: wedge or tail test, then new attempts until one is accepted.
#[cold]
#[inline(never)]
fn standard_normal_f64_slow(rng: &mut Pcg64, mut bits: u64) -> f64 {
    loop {
        let layer = (bits & 0xff) as usize;
        let rest = bits >> 8;
        let negative = rest & 1 == 1;
        let position = (rest >> 1) & 0x000f_ffff_ffff_ffff;
        let mut x = position as f64 * WI_DOUBLE[layer];
        if negative {
            x = -x;
        }
        if position < KI_DOUBLE[layer] {
            return x;
        }
        if layer == 0 {
            // The tail beyond R (Marsaglia's method on 1 − U, so the log never sees 0).
            loop {
                let xx = -NOR_INV_R * c_math::log1p(-rng.next_f64());
                let yy = -c_math::log1p(-rng.next_f64());
                if yy + yy > xx * xx {
                    // NumPy takes the tail's sign from bit 8 of the position.
                    return if (position >> 8) & 1 == 1 {
                        -(NOR_R + xx)
                    } else {
                        NOR_R + xx
                    };
                }
            }
        }
        let height = (FI_DOUBLE[layer - 1] - FI_DOUBLE[layer]) * rng.next_f64() + FI_DOUBLE[layer];
        if height < c_math::exp(-0.5 * x * x) {
            return x;
        }
        bits = rng.next_u64();
    }
}

/// `random_standard_normal_f`: one float32 standard normal, computed in single precision
/// except for the wedge's `exp`, which C evaluates in double.
#[inline(always)]
pub fn standard_normal_f32(rng: &mut Pcg64) -> f32 {
    let bits = rng.next_u32();
    let layer = (bits & 0xff) as usize;
    let position = (bits >> 9) & 0x007f_ffff;
    let x = f32::from_bits((position as f32 * WI_FLOAT[layer]).to_bits() ^ ((bits >> 8) & 1) << 31);
    if position < KI_FLOAT[layer] {
        return x;
    }
    standard_normal_f32_slow(rng, bits)
}

/// The float32 counterpart of [`standard_normal_f64_slow`].
#[cold]
#[inline(never)]
fn standard_normal_f32_slow(rng: &mut Pcg64, mut bits: u32) -> f32 {
    loop {
        let layer = (bits & 0xff) as usize;
        let negative = (bits >> 8) & 1 == 1;
        let position = (bits >> 9) & 0x007f_ffff;
        let mut x = position as f32 * WI_FLOAT[layer];
        if negative {
            x = -x;
        }
        if position < KI_FLOAT[layer] {
            return x;
        }
        if layer == 0 {
            loop {
                let xx = -NOR_INV_R_F * c_math::log1pf(-rng.next_f32());
                let yy = -c_math::log1pf(-rng.next_f32());
                if yy + yy > xx * xx {
                    return if (position >> 8) & 1 == 1 {
                        -(NOR_R_F + xx)
                    } else {
                        NOR_R_F + xx
                    };
                }
            }
        }
        let height = (FI_FLOAT[layer - 1] - FI_FLOAT[layer]) * rng.next_f32() + FI_FLOAT[layer];
        let x64 = f64::from(x);
        if f64::from(height) < c_math::exp(-0.5 * x64 * x64) {
            return x;
        }
        bits = rng.next_u32();
    }
}

/// Fills `out` with the next `out.len()` values of an elementwise `distribution`, in
/// NumPy's order (row-major), continuing `rng`.
pub fn fill<E: Element>(rng: &mut Pcg64, distribution: &Distribution, out: &mut [E]) {
    match *distribution {
        Distribution::Constant { value } => out.fill(E::from_f64(value)),
        Distribution::Uniform { low, high } => {
            // Generator.uniform: low + (high − low)·next_double, in float64.
            let range = high - low;
            for x in out.iter_mut() {
                *x = E::from_f64(low + range * rng.next_f64());
            }
        }
        Distribution::Normal { mean, std } => match E::DTYPE {
            DType::F32 => {
                let (std32, mean32) = (std as f32, mean as f32);
                for x in out.iter_mut() {
                    let scaled = standard_normal_f32(rng) * std32;
                    let value = if mean == 0.0 { scaled } else { scaled + mean32 };
                    *x = E::from_f64(f64::from(value));
                }
            }
            DType::F64 => {
                for x in out.iter_mut() {
                    *x = E::from_f64(mean + std * standard_normal_f64(rng));
                }
            }
            DType::F16 | DType::Bf16 => unreachable!("16-bit types are refused with --rng numpy"),
        },
        Distribution::TruncatedNormal { .. }
        | Distribution::Orthogonal { .. }
        | Distribution::Identity { .. }
        | Distribution::Dirac { .. }
        | Distribution::DeltaOrthogonal { .. }
        | Distribution::Sparse { .. }
        | Distribution::LstmBias { .. }
        | Distribution::S4dRealLog { .. }
        | Distribution::MambaDtBias { .. } => {
            unreachable!("not elementwise under --rng numpy: {distribution:?}")
        }
    }
}

/// `len` float64 standard normals, as `rng.standard_normal(len)` draws them.
pub fn standard_normals_f64(rng: &mut Pcg64, len: usize) -> Vec<f64> {
    (0..len).map(|_| standard_normal_f64(rng)).collect()
}
