//! The statistics that decide whether values look drawn from their law, shared by
//! `gen`'s report ([`crate::check::report`]) and `verify` ([`crate::inspect::verify`]):
//! mergeable moments ([`stats`]), z-scores of the sample mean and variance from the law's
//! fourth moment, the slack rounding to a dtype allows, and the orthogonality tolerance.

pub mod ks;
pub mod report;
pub mod stats;

use crate::array::dtype::DType;
use crate::law::Theory;

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

/// How many standard errors a moment drawn by `gen` may stray before its report flags it.
/// Two moments per tensor at 4σ: a false alarm about once in 8,000 tensors.
pub const REPORT_Z_LIMIT: f64 = 4.0;

/// `verify`: the largest |z| of the sample mean or variance a consistent tensor may show
/// (two-sided probability 5.7e-7 per moment under the law).
///
/// Looser than [`REPORT_Z_LIMIT`]: gen knows its values came from the law and only
/// reports, while verify's "no" is an exit code that scripts act on, so a correct file
/// must fail it very rarely.
pub const VERIFY_Z_LIMIT: f64 = 5.0;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::Distribution;

    #[test]
    fn z_scores_from_the_law_s_fourth_moment() {
        // N(0, 4): SE(mean) = 2/√n; μ₄ = 3σ⁴, so Var(s²) = (3 − (n−3)/(n−1))·σ⁴/n.
        let theory = Distribution::Normal {
            mean: 0.0,
            std: 2.0,
        }
        .theory()
        .unwrap();
        let n = 100u64;
        let z = moment_z_scores(&theory, n, 0.4, 4.0);
        assert!((z.mean - 2.0).abs() < 1e-12, "{z:?}");
        assert_eq!(z.variance, 0.0);
        let se = ((3.0 - 97.0 / 99.0) * 16.0 / 100.0f64).sqrt();
        assert!((z.variance_se - se).abs() < 1e-12, "{z:?}");
        // U(±1): σ² = 1/3, μ₄ = 1/5, a lighter tail than the normal's 3σ⁴ = 1/3.
        let uniform = Distribution::Uniform {
            low: -1.0,
            high: 1.0,
        }
        .theory()
        .unwrap();
        let z = moment_z_scores(&uniform, n, 0.0, 1.0 / 3.0 + 0.01);
        let se = ((0.2 - (97.0 / 99.0) / 9.0) / 100.0f64).sqrt();
        assert!((z.variance - 0.01 / se).abs() < 1e-9, "{z:?}");
    }

    #[test]
    fn rounding_and_tolerances_by_dtype() {
        assert_eq!(stored_value(DType::F16, 0.1), 0.0999755859375);
        assert_eq!(stored_value(DType::F64, 0.1), 0.1);
        assert!(stored_value(DType::F16, 70000.0).is_infinite());
        assert!(rounding_slack(DType::Bf16) > rounding_slack(DType::F16));
        assert!(orthogonality_tolerance(DType::F64) < orthogonality_tolerance(DType::F32));
    }
}

/// What drawing a tensor measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Generated {
    pub stats: stats::Stats,
    /// max |WᵀW/gain² − I| of the stored values, for orthogonal tensors.
    pub orthogonality_error: Option<f64>,
}
