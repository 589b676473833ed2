//! Seeded statistical tests of the samplers and the schemes, through the library API.
//!
//! Every test draws from fixed seeds, so it is deterministic: a pass stays a pass until
//! the output stream changes. The acceptance limits are nevertheless those of honest
//! hypothesis tests, so a sampler that is wrong by more than sampling noise fails:
//!
//! * Kolmogorov–Smirnov against the exact CDF at α = 0.001, with the asymptotic
//!   critical value D_crit = 1.95/√n (P(√n·D > 1.95) = 2·Σ(−1)^(k−1)·e^(−2k²·1.95²)
//!   ≈ 0.0010 under the null).
//! * Means and variances within 4 standard errors of values computed here from the
//!   published formulas (not from the library's `theory()`, which is checked separately).
//!
//! There are about 170 KS tests and 280 four-SE moment tests here, so even for correct
//! samplers there is a ~15% chance that *some* fixed seed lands beyond its limit. If a
//! change of stream makes one case fail narrowly, rerun that case over many seeds (√n·D
//! should follow the Kolmogorov law: mean ≈ 0.87, 5% above 1.36) before calling it a
//! bug; a real defect shows up on every seed. (This happened once while writing these
//! tests: seed 301 gave D = 0.00475, p ≈ 2e-4, for the f64 truncated normal on
//! [−2σ, 2σ] with mean 0.1, std 0.02; 200 seeds gave a null-consistent √n·D law, and the
//! f64 cases now use their own seed range.)
//!
//! The CDFs come from `Distribution::cdf`; `cdf_matches_independent_values` pins that
//! function to values computed independently (Python's `math.erfc`).
//!
//! One binary for every seeded statistical test, because they share one way of
//! measuring (`support`: draws widened to f64, the KS statistic, sample moments) and one
//! acceptance rule (above), and because they are the slow part of the suite: one binary
//! runs them in parallel with each other and apart from the command-line tests. The
//! modules follow the scheme families: the three samplers, the fan-based schemes, the
//! matrix schemes, constants and sparse, and the 16-bit dtypes that round any of them.

#[path = "../common"]
mod common {
    pub mod tensors;
}

mod support;

mod constant_and_sparse;
mod fan_based;
mod half_types;
mod orthogonal_and_identity;
mod recipes;
mod state_space;
mod uniform_normal_truncated;
