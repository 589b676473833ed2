//! The three samplers against their exact laws: the CDF pinned to independent values,
//! then Kolmogorov–Smirnov for uniform, normal and truncated normal (every kind of
//! window, in σ units too), and the normal's tail frequencies.

use crate::common::tensors::*;
use crate::support::*;
use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::law::Distribution;

// ---------------------------------------------------------------------------------------
// The CDF itself
// ---------------------------------------------------------------------------------------

#[test]
fn cdf_matches_independent_values() {
    // Reference values: Python 3 `math.erfc` (C libm), Q(x) = erfc(x/√2)/2.
    let close = |got: Option<f64>, want: f64, what: &str| {
        let got = got.unwrap();
        assert!(
            (got - want).abs() <= 1e-13 * want.abs().max(1e-300) + 1e-16,
            "{what}: {got} vs {want}"
        );
    };
    let std_normal = Distribution::Normal {
        mean: 0.0,
        std: 1.0,
    };
    close(std_normal.cdf(1.0), 0.841_344_746_068_542_9, "Φ(1)");
    close(std_normal.cdf(-3.0), 0.001_349_898_031_630_095_7, "Φ(−3)");
    close(std_normal.cdf(1.96), 0.975_002_104_851_779_5, "Φ(1.96)");
    let shifted = Distribution::Normal {
        mean: 2.0,
        std: 0.5,
    };
    close(
        shifted.cdf(2.5),
        0.841_344_746_068_542_9,
        "N(2, 0.5²) at 2.5",
    );
    let trunc = |low, high| Distribution::TruncatedNormal {
        mean: 0.0,
        std: 1.0,
        low,
        high,
    };
    close(
        trunc(-2.0, 2.0).cdf(1.0),
        0.857_616_386_005_453,
        "TN[−2,2] at 1",
    );
    close(trunc(-2.0, 2.0).cdf(0.0), 0.5, "TN[−2,2] at 0");
    close(
        trunc(6.0, 6.5).cdf(6.1),
        0.482_071_000_302_676_74,
        "TN[6,6.5] at 6.1",
    );
    close(
        trunc(-10.0, -3.0).cdf(-3.2),
        0.509_029_513_204_106,
        "TN[−10,−3] at −3.2",
    );
    // Scaled: mean 0.5, std 2, bounds [6.5, 20.5] is the standard [3, 10].
    let scaled = Distribution::TruncatedNormal {
        mean: 0.5,
        std: 2.0,
        low: 6.5,
        high: 20.5,
    };
    close(
        scaled.cdf(0.5 + 2.0 * 3.2),
        trunc(3.0, 10.0).cdf(3.2).unwrap(),
        "scaled TN",
    );
    let u = Distribution::Uniform {
        low: -3.0,
        high: 5.0,
    };
    close(u.cdf(-1.0), 0.25, "U(−3,5) at −1");
    close(u.cdf(-4.0), 0.0, "U(−3,5) below");
    close(u.cdf(6.0), 1.0, "U(−3,5) above");
}

// ---------------------------------------------------------------------------------------
// Kolmogorov–Smirnov: uniform, normal, truncated normal
// ---------------------------------------------------------------------------------------

/// Draws `scheme` as a flat tensor of N_KS elements and runs KS against `expected`,
/// which the caller builds from the parameters it asked for. Also checks that the scheme
/// resolved to exactly that distribution and that every value lies in its support.
fn ks_case(scheme: &str, expected: Distribution, dtype: DType, seed: u64) -> Result<(), String> {
    let t = tensor(
        scheme,
        &N_KS.to_string(),
        Layout::Io,
        dtype,
        seed,
        "ks-sample",
    );
    if t.resolved.distribution != expected {
        return Err(format!(
            "{scheme}: resolved to {:?}, expected {expected:?}",
            t.resolved.distribution
        ));
    }
    let (xs, _) = draw(&t);
    // Support, allowing for the final rounding to the stored dtype.
    let support = match expected {
        Distribution::Uniform { low, high } => Some((low, high)),
        Distribution::TruncatedNormal { low, high, .. } => Some((low, high)),
        _ => None,
    };
    if let Some((low, high)) = support {
        let (low, high) = (stored(dtype, low), stored(dtype, high));
        if let Some(bad) = xs.iter().find(|&&x| !(x >= low && x <= high)) {
            return Err(format!(
                "{scheme} {dtype}: value {bad} outside [{low}, {high}]"
            ));
        }
    }
    if let Some(bad) = xs.iter().find(|x| !x.is_finite()) {
        return Err(format!("{scheme} {dtype}: non-finite value {bad}"));
    }
    let d = ks_statistic(&xs, |x| expected.cdf(x).unwrap());
    let crit = ks_critical(N_KS);
    if d > crit {
        return Err(format!(
            "{scheme} {dtype}: KS D = {d:.5} > D_crit = {crit:.5} (α = 0.001, n = {N_KS})"
        ));
    }
    Ok(())
}

#[test]
fn uniform_passes_ks() {
    let mut failures = Vec::new();
    for dtype in DTYPES {
        let cases = [
            ("uniform", 0.0, 1.0),
            ("uniform:low=-3,high=5", -3.0, 5.0),
            ("uniform:low=-0.05,high=0.05", -0.05, 0.05),
        ];
        for (i, (scheme, low, high)) in cases.into_iter().enumerate() {
            let d = Distribution::Uniform { low, high };
            if let Err(e) = ks_case(scheme, d, dtype, 100 + i as u64) {
                failures.push(e);
            }
        }
    }
    check_all(failures);
}

#[test]
fn normal_passes_ks() {
    let mut failures = Vec::new();
    for dtype in DTYPES {
        let cases = [
            ("normal", 0.0, 1.0),
            ("normal:mean=-0.3,std=0.02", -0.3, 0.02),
            ("normal:mean=5,std=3", 5.0, 3.0),
        ];
        for (i, (scheme, mean, std)) in cases.into_iter().enumerate() {
            let d = Distribution::Normal { mean, std };
            if let Err(e) = ks_case(scheme, d, dtype, 200 + i as u64) {
                failures.push(e);
            }
        }
    }
    check_all(failures);
}

/// KS for the truncated normal on windows that exercise every part of the inverse CDF
/// (src/draw/truncated.rs): AS 241's central region alone, its tail branches on either
/// side, the far-tail branch (s > 5), one-sided windows whose offset from the median is
/// clamped, and narrow windows where the per-tensor constants must not cancel.
/// `seed_base` keeps the f32 and f64 draws on different streams.
fn truncated_normal_ks(dtype: DType, seed_base: u64) {
    // (standardized interval [a, b], mean, std)
    let far = if dtype == DType::F64 {
        (8.0, 9.0)
    } else {
        (5.0, 6.0)
    };
    let cases: [(f64, f64, f64, f64); 12] = [
        (-2.0, 2.0, 0.0, 1.0),
        (-2.0, 2.0, 0.1, 0.02),
        (-1.0, 1.0, 0.0, 1.0),
        (3.0, 10.0, 0.0, 1.0),
        (-10.0, -3.0, 0.0, 1.0),
        (3.0, 10.0, 0.5, 2.0),
        (6.0, 6.5, 0.0, 1.0),
        (0.1, 0.3, 0.0, 1.0),
        (2.0, 2.2, 0.0, 1.0),
        (-2.2, -2.0, 0.0, 1.0),
        (-0.2, 0.1, 0.0, 1.0),
        (far.0, far.1, 0.0, 1.0),
    ];
    let mut failures = Vec::new();
    for (i, &(a, b, mean, std)) in cases.iter().enumerate() {
        let (low, high) = (mean + std * a, mean + std * b);
        let scheme = format!(
            "truncated-normal:mean={},std={},low={},high={}",
            fmt_num(mean),
            fmt_num(std),
            fmt_num(low),
            fmt_num(high)
        );
        let expected = Distribution::TruncatedNormal {
            mean,
            std,
            low,
            high,
        };
        if let Err(e) = ks_case(&scheme, expected, dtype, seed_base + i as u64) {
            failures.push(format!("[{a}σ, {b}σ]: {e}"));
        }
    }
    check_all(failures);
}

#[test]
fn truncated_normal_passes_ks_on_every_kind_of_window_f32() {
    truncated_normal_ks(DType::F32, 300);
}

#[test]
fn truncated_normal_passes_ks_on_every_kind_of_window_f64() {
    truncated_normal_ks(DType::F64, 400);
}

/// A KS test on the whole distribution barely sees the tails, where Box–Muller's radius
/// comes from the smallest uniforms and the logarithm's exponent path: check the tail
/// probabilities directly, and the law of the draws beyond R (any threshold far out;
/// 3.654 is kept from the stream's first version).
#[test]
fn normal_tail_frequencies_are_right() {
    const CHUNK: usize = 2_000_000;
    const R: f64 = 3.654_152_885_361_009;
    // P(|Z| > t), from Python's math.erfc(t/√2).
    let tails = [
        (3.0, 0.002_699_796_063_260_191_3),
        (R, 0.000_258_032_487_653_901_3),
        (4.0, 6.334_248_366_623_993e-5),
    ];
    let mut failures = Vec::new();
    // Draws beyond R from both dtypes: the same transform in two precisions, one law.
    let mut beyond = Vec::new();
    let mut negative = 0usize;
    // f32 draws are cheap: take more of them, for more points in the tail.
    for (dtype, chunks) in [(DType::F32, 3), (DType::F64, 1)] {
        let mut counts = [0usize; 3];
        for c in 0..chunks {
            let name = format!("tail-{c}");
            let t = tensor("normal", &CHUNK.to_string(), Layout::Io, dtype, 900, &name);
            let (xs, _) = draw(&t);
            for (count, (threshold, _)) in counts.iter_mut().zip(tails) {
                *count += xs.iter().filter(|x| x.abs() > threshold).count();
            }
            beyond.extend(xs.iter().map(|x| x.abs()).filter(|&x| x > R));
            negative += xs.iter().filter(|&&x| x < -R).count();
        }
        let n = (chunks * CHUNK) as f64;
        for (&count, (threshold, p)) in counts.iter().zip(tails) {
            let expected = p * n;
            let se = (n * p * (1.0 - p)).sqrt();
            if (count as f64 - expected).abs() > 4.0 * se {
                failures.push(format!(
                    "{dtype}: #{{|z| > {threshold}}} = {count} of {n}, \
                     expected {expected:.1} ± 4·{se:.1}"
                ));
            }
        }
    }
    // About 2000 draws land beyond R. Given |Z| > R, |Z| has CDF 1 − Q(x)/Q(R), mean
    // λ = φ(R)/Q(R) and second moment 1 + R·λ (truncated-normal moments).
    let m = beyond.len();
    let q = |x: f64| 0.5 * libm::erfc(x / std::f64::consts::SQRT_2);
    let d = ks_statistic(&beyond, |x| 1.0 - q(x) / q(R));
    let crit = ks_critical(m);
    if d > crit {
        failures.push(format!(
            "tail beyond R: KS D = {d:.4} > {crit:.4} (n = {m})"
        ));
    }
    let phi = (-0.5 * R * R).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let lambda = phi / q(R);
    let tail_var = 1.0 + R * lambda - lambda * lambda;
    let tail_mean = beyond.iter().sum::<f64>() / m as f64;
    let se = (tail_var / m as f64).sqrt();
    if (tail_mean - lambda).abs() > 4.0 * se {
        failures.push(format!(
            "tail beyond R: mean |z| = {tail_mean:.5}, expected {lambda:.5} ± 4·{se:.5} (n = {m})"
        ));
    }
    // Both signs of the tail are used.
    let total = m as f64;
    if (negative as f64 - total / 2.0).abs() > 4.0 * (total / 4.0).sqrt() {
        failures.push(format!(
            "tail signs unbalanced: {negative} of {m} draws beyond R are negative"
        ));
    }
    check_all(failures);
}

/// Truncation bounds in standard deviations (`sigma-low`, `sigma-high`: JAX's
/// `truncated_normal(stddev, lower, upper)`) are the absolute bounds mean + k·std, and
/// `depth` scales them with the std; the draws follow that law (KS).
#[test]
fn truncation_bounds_in_sigmas_are_relative_to_the_scaled_std() {
    let cases = [
        (
            "truncated-normal:std=0.02,sigma-low=-3,sigma-high=1",
            0.0,
            0.02,
            -0.06,
            0.02,
        ),
        (
            "truncated-normal:mean=1,std=2,sigma-low=0.5",
            1.0,
            2.0,
            2.0,
            5.0,
        ),
        ("truncated-normal:std=0.02,depth=2", 0.0, 0.01, -0.02, 0.02),
        (
            "truncated-normal:std=0.02,depth=2,low=-0.5",
            0.0,
            0.01,
            -0.5,
            0.02,
        ),
    ];
    let mut failures = Vec::new();
    for (k, (scheme, mean, std, low, high)) in cases.into_iter().enumerate() {
        let t = tensor(
            scheme,
            "400x500",
            Layout::Io,
            DType::F64,
            77 + k as u64,
            "sigma",
        );
        let expected = Distribution::TruncatedNormal {
            mean,
            std,
            low,
            high,
        };
        let got = t.resolved.distribution;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs().max(1.0);
        match got {
            Distribution::TruncatedNormal {
                mean: m,
                std: s,
                low: l,
                high: h,
            } if close(m, mean) && close(s, std) && close(l, low) && close(h, high) => {}
            _ => failures.push(format!(
                "{scheme}: resolved to {got:?}, expected {expected:?}"
            )),
        }
        let (xs, _) = draw(&t);
        if xs.iter().any(|&x| x < low || x > high) {
            failures.push(format!("{scheme}: a value outside [{low}, {high}]"));
        }
        let d = ks_statistic(&xs, |x| expected.cdf(x).unwrap());
        if d > ks_critical(xs.len()) {
            failures.push(format!(
                "{scheme}: KS D = {d:.5} > {:.5}",
                ks_critical(xs.len())
            ));
        }
    }
    check_all(failures);
}
