//! The state-space laws of Mamba and Mamba-2: `s4d-real-log` (A_log) against ln(n + 1)
//! exactly, and `mamba-dt-bias` against its exact CDF (pinned to values worked out by
//! hand), by Kolmogorov–Smirnov in f32, f64 and bf16, with and without an atom at the
//! floor, and its mean and variance within 4 standard errors of moments computed here by
//! an independent quadrature (midpoint rule in the uniform u, with libm).

use crate::common::tensors::*;
use crate::support::*;
use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::check::ks::{distinct_counts, ks_rounded};
use weightinit::law::Distribution;

/// ln(eˣ − 1) with libm (the reference here; the sampler has its own).
fn inverse_softplus(x: f64) -> f64 {
    x + libm::log(-libm::expm1(-x))
}

fn dt_law(dt_min: f64, dt_max: f64, floor: f64) -> Distribution {
    Distribution::MambaDtBias {
        dt_min,
        dt_max,
        floor,
    }
}

#[test]
fn dt_bias_cdf_at_values_worked_out_by_hand() {
    // dt log-uniform on [0.001, 0.1]: dt = 0.01 is the median (ln 0.01 is halfway), and
    // dt = 10^-2.5 the quartile; the bias is ln(e^dt − 1) of those.
    let law = dt_law(0.001, 0.1, 1e-4);
    let at = |dt: f64| law.cdf(inverse_softplus(dt)).unwrap();
    assert!((at(0.01) - 0.5).abs() < 1e-12, "{}", at(0.01));
    assert!((at(10f64.powf(-2.5)) - 0.25).abs() < 1e-12);
    assert_eq!(law.cdf(inverse_softplus(0.001) - 1e-9), Some(0.0));
    assert_eq!(law.cdf(inverse_softplus(0.1) + 1e-9), Some(1.0));
    // A floor above dt_min: an atom of mass ln(0.005/0.001)/ln(100) = ln 5/ln 100 at
    // g(0.005), nothing below it.
    let floored = dt_law(0.001, 0.1, 0.005);
    let g = inverse_softplus(0.005);
    let mass = 5f64.ln() / 100f64.ln();
    assert_eq!(floored.cdf(g - 1e-6), Some(0.0));
    assert!((floored.cdf(g).unwrap() - mass).abs() < 1e-12);
    assert!((floored.cdf(inverse_softplus(0.01)).unwrap() - 0.5).abs() < 1e-12);
    let t = floored.theory().unwrap();
    assert!((t.low.unwrap() - g).abs() < 1e-15);
}

/// Mean, variance and fourth central moment of the bias by the midpoint rule on u.
fn moments_by_midpoints(dt_min: f64, dt_max: f64, floor: f64) -> (f64, f64, f64) {
    let m = 1 << 18;
    let (a, b) = (dt_min.ln(), dt_max.ln());
    let ys: Vec<f64> = (0..m)
        .map(|i| {
            let u = (i as f64 + 0.5) / m as f64;
            inverse_softplus((a + u * (b - a)).exp().max(floor))
        })
        .collect();
    let mean = ys.iter().sum::<f64>() / m as f64;
    let central = |k: i32| ys.iter().map(|y| (y - mean).powi(k)).sum::<f64>() / m as f64;
    (mean, central(2), central(4))
}

#[test]
fn dt_bias_theory_agrees_with_an_independent_quadrature() {
    for (dt_min, dt_max, floor) in [(0.001, 0.1, 1e-4), (0.002, 0.2, 0.005), (0.01, 5.0, 0.0)] {
        let t = dt_law(dt_min, dt_max, floor).theory().unwrap();
        let (mean, var, mu4) = moments_by_midpoints(dt_min, dt_max, floor);
        assert!(
            (t.mean - mean).abs() < 1e-6,
            "{dt_min} {dt_max} {floor}: mean"
        );
        assert!((t.variance - var).abs() < 1e-5 * var, "variance");
        assert!((t.fourth_moment - mu4).abs() < 1e-4 * mu4, "fourth moment");
    }
}

#[test]
fn dt_bias_draws_follow_the_exact_cdf() {
    let mut failures = Vec::new();
    let cases = [
        ("mamba-dt-bias", (0.001, 0.1, 1e-4)),
        (
            "mamba-dt-bias:dt-min=0.002,dt-max=0.2,dt-floor=0.005",
            (0.002, 0.2, 0.005),
        ),
        (
            "mamba-dt-bias:dt-min=0.01,dt-max=5,dt-floor=0",
            (0.01, 5.0, 0.0),
        ),
    ];
    for (k, (scheme, (dt_min, dt_max, floor))) in cases.into_iter().enumerate() {
        let (mean, var, mu4) = moments_by_midpoints(dt_min, dt_max, floor);
        for dtype in [DType::F32, DType::F64, DType::Bf16] {
            let t = tensor(
                scheme,
                &N_KS.to_string(),
                Layout::Io,
                dtype,
                7100 + k as u64,
                "dt",
            );
            let law = t.resolved.distribution;
            let (xs, _) = draw(&t);
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            // KS against the law rounded to the dtype (the floor's atom is one stored value).
            let (d, p) = ks_rounded(&distinct_counts(&sorted, dtype), xs.len(), &law, dtype);
            if d > ks_critical(xs.len()) {
                failures.push(format!("{scheme} {dtype}: KS D = {d} (p = {p})"));
            }
            // The continuous case in f32 and f64 also by the plain statistic.
            if floor <= dt_min && dtype != DType::Bf16 {
                let d = ks_statistic(&xs, |x| law.cdf(x).unwrap());
                if d > ks_critical(xs.len()) {
                    failures.push(format!("{scheme} {dtype}: plain KS D = {d}"));
                }
            }
            if dtype == DType::Bf16 {
                continue; // bf16 rounding moves the moments by more than sampling noise
            }
            let (m, v) = mean_and_variance(&xs);
            let n = xs.len() as f64;
            if (m - mean).abs() > 4.0 * (var / n).sqrt() {
                failures.push(format!("{scheme} {dtype}: mean {m} vs {mean}"));
            }
            if (v - var).abs() > 4.0 * variance_se(var, mu4, xs.len()) {
                failures.push(format!("{scheme} {dtype}: variance {v} vs {var}"));
            }
            let (lo, hi) = (
                inverse_softplus(dt_min.max(floor)),
                inverse_softplus(dt_max),
            );
            let slack = 1e-6 * hi.abs().max(lo.abs());
            if sorted[0] < lo - slack || sorted[sorted.len() - 1] > hi + slack {
                failures.push(format!(
                    "{scheme} {dtype}: [{}, {}] outside [{lo}, {hi}]",
                    sorted[0],
                    sorted[sorted.len() - 1]
                ));
            }
        }
    }
    check_all(failures);
}

#[test]
fn s4d_real_log_is_ln_of_the_position_on_the_last_axis() {
    for dtype in [DType::F32, DType::F64, DType::Bf16] {
        for shape in ["96x16", "37", "3x5x7"] {
            let t = tensor("s4d-real-log", shape, Layout::Io, dtype, 1, "A_log");
            let (xs, _) = draw(&t);
            let last: usize = shape.rsplit('x').next().unwrap().parse().unwrap();
            for (i, &x) in xs.iter().enumerate() {
                let want = libm::log((i % last + 1) as f64);
                // Rounded once to the dtype (bf16: through f32, as the native stream does).
                let want = match dtype {
                    DType::F64 => want,
                    DType::F32 => f64::from(want as f32),
                    _ => f64::from(half::bf16::from_f32(want as f32)),
                };
                let ulp = if dtype == DType::F64 {
                    2.0 * f64::EPSILON * want
                } else {
                    0.0
                };
                assert!(
                    (x - want).abs() <= ulp,
                    "{dtype} {shape} element {i}: {x} vs ln({}) = {want}",
                    i % last + 1
                );
            }
        }
    }
}
