//! The statistics that decide whether values look drawn from their law, shared by
//! `gen`'s report ([`crate::output::report`]) and `verify` ([`crate::inspect::verify`]):
//! mergeable moments ([`stats`]), z-scores of the sample mean and variance from the law's
//! fourth moment, the slack rounding to a dtype allows, and the orthogonality tolerance.

pub mod ks;
pub mod stats;

use crate::law::Theory;
use crate::tensor::dtype::DType;

/// Largest acceptable max |WᵀW/g² − I| for a stored orthogonal matrix.
pub fn orthogonality_tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1e-5,
        DType::F64 => 1e-10,
        // Rounding alone puts Gram entries off by up to about half a unit in the last
        // place (2^-11, 2^-8); measured at 512²: 9.4e-5 (f16), 7.7e-4 (bf16).
        DType::F16 => 2e-3,
        DType::Bf16 => 1.6e-2,
    }
}

/// `x` rounded to `dtype` and widened back (exactly): the value a file of that dtype
/// stores for `x`.
pub fn stored_value(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F32 => f64::from(x as f32),
        DType::F64 => x,
        DType::F16 => half::f16::from_f64(x).to_f64(),
        DType::Bf16 => half::bf16::from_f64(x).to_f64(),
    }
}

/// How far, relative to its size, a bound may be overstepped by rounding to `dtype`: a
/// value can round past a bound that the dtype cannot hold exactly, by up to half a step
/// (2^-24 for f32 ... 2^-9 for bf16, relative), so the allowance is one such half step
/// with a little room.
pub fn rounding_slack(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => 1e-15,
        DType::F32 => 1e-7,
        DType::F16 => 2f64.powi(-11),
        DType::Bf16 => 2f64.powi(-8),
    }
}

/// Sample mean and variance of n values, in standard errors from a law's theory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MomentZ {
    /// (mean − μ) / (σ/√n).
    pub mean: f64,
    /// (variance − σ²) / SE, with Var(s²) = (μ₄ − σ⁴·(n−3)/(n−1))/n.
    pub variance: f64,
    /// That standard error of the sample variance.
    pub variance_se: f64,
}

/// The z-scores of an observed mean and variance of `n` iid values against `theory`
/// (its variance must be positive and n ≥ 2). The standard error of the variance uses
/// the law's exact fourth central moment, so the test is right for uniform and
/// truncated laws too, not only normal ones.
pub fn moment_z_scores(theory: &Theory, n: u64, mean: f64, variance: f64) -> MomentZ {
    let n = n as f64;
    let se_mean = (theory.variance / n).sqrt();
    let var_of_var =
        (theory.fourth_moment - theory.variance * theory.variance * (n - 3.0) / (n - 1.0)) / n;
    let se_var = var_of_var.max(0.0).sqrt();
    MomentZ {
        mean: (mean - theory.mean) / se_mean,
        variance: (variance - theory.variance) / se_var,
        variance_se: se_var,
    }
}
