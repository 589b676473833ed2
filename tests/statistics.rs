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

mod common;
use common::*;

use weightinit::array::fan::Layout;
use weightinit::check::Generated;
use weightinit::law::Distribution;
use weightinit::pipeline::generate::draw_array;

use weightinit::array::dtype::DType;
use weightinit::tensor::ResolvedTensor;

/// Sample size of each KS test.
const N_KS: usize = 200_000;

/// Asymptotic KS critical value at α = 0.001.
fn ks_critical(n: usize) -> f64 {
    1.95 / (n as f64).sqrt()
}

/// Standard deviation of N(0, 1) truncated to [−2, 2], as published in Keras' and JAX's
/// `variance_scaling` source (0.87962566103423978).
const KERAS_TRUNCATION_STD: f64 = 0.879_625_661_034_239_8;

/// Draws a tensor in its own dtype and widens the stored values to f64 (exactly).
fn draw(t: &ResolvedTensor) -> (Vec<f64>, Generated) {
    match t.spec.dtype {
        DType::F32 => {
            let (a, g) = draw_array::<f32>(t).expect("draw f32");
            (a.iter().map(|&x| f64::from(x)).collect(), g)
        }
        DType::F64 => {
            let (a, g) = draw_array::<f64>(t).expect("draw f64");
            (a.iter().copied().collect(), g)
        }
        DType::F16 => {
            let (a, g) = draw_array::<half::f16>(t).expect("draw f16");
            (a.iter().map(|x| x.to_f64()).collect(), g)
        }
        DType::Bf16 => {
            let (a, g) = draw_array::<half::bf16>(t).expect("draw bf16");
            (a.iter().map(|x| x.to_f64()).collect(), g)
        }
    }
}

/// `x` rounded to `dtype`, widened back (exact).
fn stored(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F32 => f64::from(x as f32),
        DType::F64 => x,
        DType::F16 => half::f16::from_f64(x).to_f64(),
        DType::Bf16 => half::bf16::from_f64(x).to_f64(),
    }
}

/// Sup-distance between the empirical CDF of `xs` and `cdf`.
///
/// Computed on u = F(x), which has the same order as x: D = maxᵢ max(u₍ᵢ₎ − i/n,
/// (i+1)/n − u₍ᵢ₎) over the sorted u. Ties (from rounding to f32) are handled correctly:
/// within a run of equal values the two terms reduce to the left limit and the value of
/// the empirical CDF there. The sort is a bucket sort on u (n buckets, then a tiny sort
/// inside each), because a comparison sort of 200k values is slow in debug builds.
fn ks_statistic(xs: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = xs.len();
    let u: Vec<f64> = xs.iter().map(|&x| cdf(x)).collect();
    let bucket = |p: f64| ((p * n as f64) as usize).min(n - 1);
    let mut start = vec![0usize; n + 1];
    for &p in &u {
        start[bucket(p) + 1] += 1;
    }
    for k in 0..n {
        start[k + 1] += start[k];
    }
    let mut next = start.clone();
    let mut sorted = vec![0.0; n];
    for &p in &u {
        let b = bucket(p);
        sorted[next[b]] = p;
        next[b] += 1;
    }
    for k in 0..n {
        let run = &mut sorted[start[k]..start[k + 1]];
        if run.len() > 1 {
            run.sort_by(f64::total_cmp);
        }
    }
    let nf = n as f64;
    let mut d = 0.0f64;
    for (i, &p) in sorted.iter().enumerate() {
        d = d.max(p - i as f64 / nf).max((i + 1) as f64 / nf - p);
    }
    d
}

fn mean_and_variance(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Standard error of the unbiased sample variance of n iid values with variance `var`
/// and fourth central moment `mu4`: Var(s²) = (μ4 − σ⁴(n−3)/(n−1))/n.
fn variance_se(var: f64, mu4: f64, n: usize) -> f64 {
    let n = n as f64;
    ((mu4 - var * var * (n - 3.0) / (n - 1.0)) / n).sqrt()
}

const DTYPES: [DType; 2] = [DType::F32, DType::F64];

fn fmt_num(x: f64) -> String {
    // Rust's Display for f64 is the shortest text that parses back to the same value.
    format!("{x}")
}

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

fn check_all(failures: Vec<String>) {
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
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

// ---------------------------------------------------------------------------------------
// Fan-based schemes: moments and law against the published formulas
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Family {
    Uniform,
    Normal,
    /// Normal truncated at ±2 of its own (pre-truncation) std, rescaled so the variance
    /// is the target (Keras / JAX variance_scaling).
    Truncated2,
}

/// Mean, variance and fourth central moment of N(0, 1) truncated to [−2, 2], by
/// composite Simpson integration (independent of the library's recurrence).
fn truncated2_standard_moments() -> (f64, f64) {
    let pdf = |x: f64| (-0.5 * x * x).exp();
    let steps = 20_000;
    let h = 4.0 / steps as f64;
    let mut m = [0.0f64; 3]; // ∫φ, ∫x²φ, ∫x⁴φ (unnormalized)
    for i in 0..=steps {
        let x = -2.0 + i as f64 * h;
        let w = if i == 0 || i == steps {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let f = pdf(x);
        m[0] += w * f;
        m[1] += w * x * x * f;
        m[2] += w * x.powi(4) * f;
    }
    (m[1] / m[0], m[2] / m[0])
}

#[test]
fn keras_truncation_constant_is_consistent_with_independent_integration() {
    let (var, _) = truncated2_standard_moments();
    assert!(
        (var.sqrt() - KERAS_TRUNCATION_STD).abs() < 1e-12,
        "{} vs {KERAS_TRUNCATION_STD}",
        var.sqrt()
    );
}

/// Variance and fourth central moment of a zero-mean element of `family` with variance
/// `var`, and the law itself.
fn law(family: Family, var: f64) -> (f64, Distribution) {
    let sd = var.sqrt();
    match family {
        Family::Uniform => {
            let a = (3.0 * var).sqrt();
            (
                9.0 / 5.0 * var * var,
                Distribution::Uniform { low: -a, high: a },
            )
        }
        Family::Normal => (3.0 * var * var, Distribution::Normal { mean: 0.0, std: sd }),
        Family::Truncated2 => {
            let (v2, m4) = truncated2_standard_moments();
            let parent = sd / KERAS_TRUNCATION_STD;
            // The standardized truncated law has variance v2 (= c²); scale it to `var`.
            let mu4 = m4 / (v2 * v2) * var * var;
            (
                mu4,
                Distribution::TruncatedNormal {
                    mean: 0.0,
                    std: parent,
                    low: -2.0 * parent,
                    high: 2.0 * parent,
                },
            )
        }
    }
}

/// One fan-based scheme: its spec, its family, and its variance as a function of
/// (fan_in, fan_out), written from the papers / framework docs.
type VarianceFormula = fn(f64, f64) -> f64;

fn fan_schemes() -> Vec<(&'static str, Family, VarianceFormula)> {
    use Family::*;
    vec![
        // Glorot & Bengio 2010: Var = 2/(fan_in + fan_out).
        ("xavier-uniform", Uniform, |fi, fo| 2.0 / (fi + fo)),
        ("xavier-normal", Normal, |fi, fo| 2.0 / (fi + fo)),
        ("xavier-uniform:nonlinearity=tanh", Uniform, |fi, fo| {
            (5.0f64 / 3.0).powi(2) * 2.0 / (fi + fo)
        }),
        ("xavier-normal:gain=0.5", Normal, |fi, fo| {
            0.25 * 2.0 / (fi + fo)
        }),
        // He et al. 2015: Var = 2/fan_in (relu gain √2), or 2/fan_out.
        ("he-uniform", Uniform, |fi, _| 2.0 / fi),
        ("he-normal", Normal, |fi, _| 2.0 / fi),
        ("he-uniform:mode=fan-out", Uniform, |_, fo| 2.0 / fo),
        ("he-normal:mode=fan-out", Normal, |_, fo| 2.0 / fo),
        // Leaky ReLU gain² = 2/(1 + s²); PyTorch's default slope is 0.01.
        ("he-normal:nonlinearity=leaky-relu", Normal, |fi, _| {
            2.0 / (1.0 + 0.01 * 0.01) / fi
        }),
        (
            "he-uniform:nonlinearity=leaky-relu,negative-slope=0.2",
            Uniform,
            |fi, _| 2.0 / (1.0 + 0.2 * 0.2) / fi,
        ),
        (
            "he-normal:nonlinearity=leaky-relu,mode=fan-out",
            Normal,
            |_, fo| 2.0 / (1.0 + 0.01 * 0.01) / fo,
        ),
        // LeCun 1998 / Klambauer et al. 2017: Var = 1/fan_in.
        ("lecun-uniform", Uniform, |fi, _| 1.0 / fi),
        ("lecun-normal", Normal, |fi, _| 1.0 / fi),
        // PyTorch's nn.Linear default: U(±1/√fan_in), Var = 1/(3·fan_in).
        ("fan-in-uniform", Uniform, |fi, _| 1.0 / (3.0 * fi)),
        // Keras VarianceScaling: Var = scale/n, n = fan_in, fan_out or their mean.
        ("variance-scaling", Truncated2, |fi, _| 1.0 / fi),
        ("variance-scaling:mode=fan-out", Truncated2, |_, fo| {
            1.0 / fo
        }),
        (
            "variance-scaling:scale=2,mode=fan-avg",
            Truncated2,
            |fi, fo| 2.0 / ((fi + fo) / 2.0),
        ),
        ("variance-scaling:distribution=normal", Normal, |fi, _| {
            1.0 / fi
        }),
        (
            "variance-scaling:distribution=normal,mode=fan-out,scale=0.5",
            Normal,
            |_, fo| 0.5 / fo,
        ),
        (
            "variance-scaling:distribution=normal,mode=fan-avg",
            Normal,
            |fi, fo| 1.0 / ((fi + fo) / 2.0),
        ),
        ("variance-scaling:distribution=uniform", Uniform, |fi, _| {
            1.0 / fi
        }),
        (
            "variance-scaling:distribution=uniform,mode=fan-out",
            Uniform,
            |_, fo| 1.0 / fo,
        ),
        (
            "variance-scaling:distribution=uniform,mode=fan-avg,scale=3",
            Uniform,
            |fi, fo| 3.0 / ((fi + fo) / 2.0),
        ),
    ]
}

/// A shape with its layout and its fans, computed by hand from the layout conventions
/// (io: k… x in x out; oi: out x in x k…; fan = channels × receptive field).
type FanShape = (&'static str, Layout, f64, f64);

const DENSE_IO: FanShape = ("784x128", Layout::Io, 784.0, 128.0);
/// A dense PyTorch weight: out x in, so fan_in is the second axis.
const DENSE_OI: FanShape = ("256x128", Layout::Oi, 128.0, 256.0);
const CONV_IO: FanShape = ("3x3x64x128", Layout::Io, 64.0 * 9.0, 128.0 * 9.0);
const CONV_OI: FanShape = ("128x64x3x3", Layout::Oi, 64.0 * 9.0, 128.0 * 9.0);

fn check_fan_scheme(
    scheme: &str,
    family: Family,
    formula: VarianceFormula,
    dtype: DType,
    seed: u64,
    shapes: &[FanShape],
) -> Vec<String> {
    let mut failures = Vec::new();
    for (k, &(shape, layout, fan_in, fan_out)) in shapes.iter().enumerate() {
        let what = format!("{scheme} {shape} {layout} {dtype}");
        let t = tensor(
            scheme,
            shape,
            layout,
            dtype,
            seed * 10 + k as u64,
            "fan-test",
        );
        let var = formula(fan_in, fan_out);
        let (mu4, expected_law) = law(family, var);

        // The library's own theory must agree with the formula.
        let theory = t.resolved.distribution.theory().expect("elementwise");
        if (theory.variance - var).abs() > 1e-12 * var || theory.mean != 0.0 {
            failures.push(format!(
                "{what}: theory() says mean {} var {}, formula says 0 and {var}",
                theory.mean, theory.variance
            ));
        }
        if (theory.fourth_moment - mu4).abs() > 1e-9 * mu4 {
            failures.push(format!(
                "{what}: theory() fourth moment {} vs {mu4}",
                theory.fourth_moment
            ));
        }
        if let Some(fans) = t.resolved.fans
            && (fans.fan_in as f64, fans.fan_out as f64) != (fan_in, fan_out)
        {
            failures.push(format!(
                "{what}: fans {}/{} vs expected {fan_in}/{fan_out}",
                fans.fan_in, fans.fan_out
            ));
        }

        let (xs, generated) = draw(&t);
        let n = xs.len();
        let (mean, s2) = mean_and_variance(&xs);
        let mean_se = (var / n as f64).sqrt();
        if mean.abs() > 4.0 * mean_se {
            failures.push(format!(
                "{what}: mean {mean:.3e} is more than 4 SE ({mean_se:.3e}) from 0"
            ));
        }
        let se = variance_se(var, mu4, n);
        if (s2 - var).abs() > 4.0 * se {
            failures.push(format!(
                "{what}: variance {s2:.6e} vs formula {var:.6e}: {:.1} SE (SE {se:.2e})",
                (s2 - var) / se
            ));
        }
        // The report's accumulator must agree with a direct computation.
        let stats = generated.stats;
        if stats.count != n as u64
            || (stats.mean - mean).abs() > 1e-9 * var.sqrt()
            || (stats.m2 / (n as f64 - 1.0) - s2).abs() > 1e-9 * s2
        {
            failures.push(format!(
                "{what}: Stats {{count {}, mean {}, m2/(n−1) {}}} vs direct {n}, {mean}, {s2}",
                stats.count,
                stats.mean,
                stats.m2 / (n as f64 - 1.0)
            ));
        }
        // Right family, not only right variance.
        let d = ks_statistic(&xs, |x| expected_law.cdf(x).unwrap());
        if d > ks_critical(n) {
            failures.push(format!(
                "{what}: KS D = {d:.5} > {:.5} against {expected_law:?}",
                ks_critical(n)
            ));
        }
    }
    failures
}

/// Every scheme on every shape in f32 (the dtype users ask for), and on the two conv
/// layouts in f64. The dtype-specific sampling paths are covered by the KS tests above;
/// here the point is the parameters each scheme resolves to.
#[test]
fn fan_based_schemes_match_their_formulas_f32() {
    let mut failures = Vec::new();
    for (i, (scheme, family, formula)) in fan_schemes().into_iter().enumerate() {
        failures.extend(check_fan_scheme(
            scheme,
            family,
            formula,
            DType::F32,
            1000 + i as u64,
            &[DENSE_IO, DENSE_OI, CONV_IO, CONV_OI],
        ));
    }
    check_all(failures);
}

#[test]
fn fan_based_schemes_match_their_formulas_f64() {
    let mut failures = Vec::new();
    for (i, (scheme, family, formula)) in fan_schemes().into_iter().enumerate() {
        failures.extend(check_fan_scheme(
            scheme,
            family,
            formula,
            DType::F64,
            2000 + i as u64,
            &[CONV_IO, CONV_OI],
        ));
    }
    check_all(failures);
}

// ---------------------------------------------------------------------------------------
// Orthogonal and identity
// ---------------------------------------------------------------------------------------

/// The 2-D view a matrix scheme works on, from the layout conventions: PyTorch (oi)
/// flattens everything after the first axis, Keras (io) everything before the last.
fn matrix_dims(shape: &str, layout: Layout) -> (usize, usize) {
    let dims: Vec<usize> = shape.split('x').map(|d| d.parse().unwrap()).collect();
    let n: usize = dims.iter().product();
    match layout {
        Layout::Oi => (dims[0], n / dims[0]),
        Layout::Io => {
            let last = *dims.last().unwrap();
            (n / last, last)
        }
    }
}

/// max |G/g² − I| with G = WᵀW (tall or square) or WWᵀ (wide), computed here in f64.
fn gram_error(w: &[f64], rows: usize, cols: usize, gain: f64) -> f64 {
    let g2 = gain * gain;
    let mut worst = 0.0f64;
    if rows >= cols {
        for a in 0..cols {
            for b in a..cols {
                let dot: f64 = (0..rows).map(|i| w[i * cols + a] * w[i * cols + b]).sum();
                let target = if a == b { 1.0 } else { 0.0 };
                worst = worst.max((dot / g2 - target).abs());
            }
        }
    } else {
        for a in 0..rows {
            for b in a..rows {
                let (ra, rb) = (&w[a * cols..(a + 1) * cols], &w[b * cols..(b + 1) * cols]);
                let dot: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
                let target = if a == b { 1.0 } else { 0.0 };
                worst = worst.max((dot / g2 - target).abs());
            }
        }
    }
    worst
}

const ORTHO_SHAPES: [(&str, Layout); 7] = [
    ("300x100", Layout::Io),    // tall
    ("100x300", Layout::Io),    // wide
    ("128x128", Layout::Io),    // square
    ("3x3x16x32", Layout::Io),  // conv, io: 144 x 32 (tall)
    ("32x16x3x3", Layout::Oi),  // conv, oi: 32 x 144 (wide)
    ("3x3x64x128", Layout::Io), // conv, io: 576 x 128
    ("128x64x3x3", Layout::Oi), // conv, oi: 128 x 576
];

fn tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1e-5,
        DType::F64 => 1e-12,
        DType::F16 => 2e-3,
        DType::Bf16 => 1.6e-2,
    }
}

#[test]
fn orthogonal_is_orthogonal() {
    let mut failures = Vec::new();
    for dtype in DTYPES {
        for (k, &(shape, layout)) in ORTHO_SHAPES.iter().enumerate() {
            let (rows, cols) = matrix_dims(shape, layout);
            let t = tensor("orthogonal", shape, layout, dtype, 50 + k as u64, "q");
            let (w, generated) = draw(&t);
            let err = gram_error(&w, rows, cols, 1.0);
            if err > tolerance(dtype) {
                failures.push(format!(
                    "{shape} {layout} {dtype} ({rows}x{cols}): max |Gram − I| = {err:e}"
                ));
            }
            // The engine measures the same quantity on the stored values.
            match generated.orthogonality_error {
                Some(e) if (e - err).abs() <= 1e-12 => {}
                other => failures.push(format!(
                    "{shape} {layout} {dtype}: engine reports orthogonality error {other:?}, \
                     measured {err:e}"
                )),
            }
        }
    }
    check_all(failures);
}

#[test]
fn orthogonal_gain_scales_the_same_matrix() {
    let mut failures = Vec::new();
    for dtype in DTYPES {
        // Relative rounding of one stored value, with room for the scaling.
        let eps = match dtype {
            DType::F32 => 2f64.powi(-23),
            DType::F64 => 2f64.powi(-51),
            DType::F16 => 2f64.powi(-10),
            DType::Bf16 => 2f64.powi(-7),
        };
        for &(shape, layout) in &[("300x100", Layout::Io), ("32x16x3x3", Layout::Oi)] {
            let (rows, cols) = matrix_dims(shape, layout);
            let base = draw(&tensor("orthogonal", shape, layout, dtype, 5, "g")).0;
            for (scheme, gain) in [
                ("orthogonal:gain=2.5", 2.5),
                ("orthogonal:nonlinearity=tanh", 5.0 / 3.0),
                ("orthogonal:nonlinearity=relu", std::f64::consts::SQRT_2),
            ] {
                let t = tensor(scheme, shape, layout, dtype, 5, "g");
                let (w, _) = draw(&t);
                let err = gram_error(&w, rows, cols, gain);
                if err > tolerance(dtype) {
                    failures.push(format!(
                        "{scheme} {shape} {dtype}: max |Gram/g² − I| = {err:e}"
                    ));
                }
                let worst = w
                    .iter()
                    .zip(&base)
                    .map(|(x, b)| (x - gain * b).abs() / (gain * b.abs()).max(1e-30))
                    .fold(0.0, f64::max);
                if worst > 2.0 * eps {
                    failures.push(format!(
                        "{scheme} {shape} {dtype}: not gain × the gain-1 matrix \
                         (worst relative difference {worst:e})"
                    ));
                }
            }
        }
    }
    check_all(failures);
}

#[test]
fn orthogonal_depends_on_seed_and_name() {
    for dtype in DTYPES {
        let a = draw(&tensor("orthogonal", "64x64", Layout::Io, dtype, 1, "q")).0;
        let b = draw(&tensor("orthogonal", "64x64", Layout::Io, dtype, 2, "q")).0;
        let c = draw(&tensor("orthogonal", "64x64", Layout::Io, dtype, 1, "r")).0;
        for (other, what) in [(&b, "seed"), (&c, "name")] {
            // Compare magnitudes, so a mere column sign flip would also count as "same".
            let same = a
                .iter()
                .zip(other)
                .filter(|(x, y)| x.abs() == y.abs())
                .count();
            assert!(
                same < a.len() / 100,
                "{dtype}: changing the {what} left {same} of {} entries unchanged",
                a.len()
            );
        }
    }
}

/// Haar measure (Mezzadri 2007) needs the Q·sign(diag R) correction. Without it a
/// Householder QR fixes the sign of Q's diagonal (LAPACK-style R has R₀₀ of sign opposite
/// to A₀₀, so Q₀₀ ≤ 0 always); with it each diagonal entry is positive half the time.
#[test]
fn orthogonal_diagonal_signs_are_balanced() {
    const SEEDS: u64 = 200;
    const DIM: usize = 4;
    let mut positive = [0u32; DIM];
    for seed in 0..SEEDS {
        let w = draw(&tensor(
            "orthogonal",
            "4x4",
            Layout::Io,
            DType::F64,
            seed,
            "haar",
        ))
        .0;
        for (i, count) in positive.iter_mut().enumerate() {
            if w[i * DIM + i] > 0.0 {
                *count += 1;
            }
        }
    }
    // Binomial(200, 1/2): mean 100, sd √50 ≈ 7.07; allow 4 sd.
    for (i, &count) in positive.iter().enumerate() {
        assert!(
            (f64::from(count) - 100.0).abs() <= 4.0 * 50f64.sqrt(),
            "diagonal entry {i} positive in {count} of {SEEDS} matrices"
        );
    }
}

#[test]
fn identity_is_gain_on_the_diagonal_and_exact_zeros_elsewhere() {
    for dtype in DTYPES {
        for shape in ["4x4", "3x5", "5x3", "1x7"] {
            let (rows, cols) = matrix_dims(shape, Layout::Io);
            for (scheme, gain) in [
                ("identity", 1.0),
                ("identity:gain=2", 2.0),
                ("identity:nonlinearity=tanh", 5.0 / 3.0),
            ] {
                for layout in [Layout::Io, Layout::Oi] {
                    let t = tensor(scheme, shape, layout, dtype, 3, "eye");
                    let (w, _) = draw(&t);
                    let diag = stored(dtype, gain);
                    for i in 0..rows {
                        for j in 0..cols {
                            let want = if i == j { diag } else { 0.0 };
                            let got = w[i * cols + j];
                            assert!(
                                got.to_bits() == want.to_bits(),
                                "{scheme} {shape} {layout} {dtype}: [{i},{j}] = {got}, want {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn constant_schemes_fill_every_element() {
    // 70000 x 2 spans three 65536-element blocks.
    for dtype in DTYPES {
        for (scheme, value) in [
            ("zeros", 0.0),
            ("ones", 1.0),
            ("constant:value=0.1", 0.1),
            ("constant:value=-3.75", -3.75),
        ] {
            let t = tensor(scheme, "70000x2", Layout::Io, dtype, 9, "c");
            let (xs, generated) = draw(&t);
            let want = stored(dtype, value);
            assert_eq!(xs.len(), 140_000);
            if let Some((i, x)) = xs
                .iter()
                .enumerate()
                .find(|(_, x)| x.to_bits() != want.to_bits())
            {
                panic!("{scheme} {dtype}: element {i} is {x:e}, want {want:e} (bitwise)");
            }
            assert_eq!(
                (generated.stats.min, generated.stats.max),
                (want, want),
                "{scheme} {dtype}"
            );
        }
    }
}

/// f16 and bf16 tensors are the f32 tensors' draws rounded once to 16 bits from the f64
/// value (README "Reproducibility"): each value is within one 16-bit step of the f32
/// value rounded to 16 bits, almost always equal (they differ only when rounding through
/// f32 first would round twice), and the engine's report finds them consistent with the
/// law. Orthogonal matrices stay orthogonal to 16-bit precision.
#[test]
fn half_types_are_the_f32_draws_rounded_once() {
    let mut failures = Vec::new();
    for dtype in [DType::F16, DType::Bf16] {
        let step = match dtype {
            DType::F16 => 2f64.powi(-10),
            _ => 2f64.powi(-7),
        };
        for scheme in [
            "he-normal",
            "xavier-uniform",
            "truncated-normal:std=0.02",
            "normal:mean=3",
        ] {
            let t16 = tensor(scheme, "400x300", Layout::Io, dtype, 11, "h");
            let t32 = tensor(scheme, "400x300", Layout::Io, DType::F32, 11, "h");
            let (a16, generated) = draw(&t16);
            let (a32, _) = draw(&t32);
            let mut equal = 0usize;
            for (i, (&x16, &x32)) in a16.iter().zip(&a32).enumerate() {
                let rounded = stored(dtype, x32);
                if x16 == rounded {
                    equal += 1;
                } else if (x16 - rounded).abs() > step * x32.abs().max(f64::MIN_POSITIVE) {
                    failures.push(format!("{scheme} {dtype} [{i}]: {x16} vs f32 {x32}"));
                    break;
                }
            }
            if equal * 1000 < a16.len() * 999 {
                failures.push(format!(
                    "{scheme} {dtype}: only {equal} of {} equal",
                    a16.len()
                ));
            }
            let report = weightinit::check::report::TensorReport::new(&t16, &generated, "-".into());
            if !report.consistent {
                failures.push(format!(
                    "{scheme} {dtype}: report says inconsistent: {:?}",
                    report.notes
                ));
            }
        }
        for &(shape, layout) in ORTHO_SHAPES.iter() {
            let (rows, cols) = matrix_dims(shape, layout);
            let t = tensor("orthogonal", shape, layout, dtype, 7, "q");
            let (w, _) = draw(&t);
            let err = gram_error(&w, rows, cols, 1.0);
            if err > tolerance(dtype) {
                failures.push(format!(
                    "orthogonal {shape} {dtype}: max |Gram − I| = {err:e}"
                ));
            }
        }
    }
    check_all(failures);
}

/// Grouped convolutions (`groups=G`): each input reaches only the out/G outputs of its
/// group, so fan_out = out/G × k (PyTorch's own fans leave it at out × k: pytorch issue
/// #23854), while the stored in-axis already holds in/G. `blocks=K` (gates): each block
/// is a weight of out/K outputs. `depth=L` divides the variance
/// of a normal-family scheme by 2L (GPT-2's residual scaling, std/√(2L)). Fans written
/// by hand from the shapes; variances from the papers' formulas.
#[test]
fn groups_and_depth_follow_their_formulas() {
    use Family::*;
    // A depthwise 3x3 convolution over 64 channels (G = 64): PyTorch stores 64x1x3x3,
    // Keras/JAX 3x3x1x64; fan_in = 1·9, fan_out = 64/64·9.
    const DEPTHWISE_OI: FanShape = ("64x1x3x3", Layout::Oi, 9.0, 9.0);
    const DEPTHWISE_IO: FanShape = ("3x3x1x64", Layout::Io, 9.0, 9.0);
    // 64 → 128 channels in 4 groups: stored 128x16x3x3; fan_in 16·9, fan_out 32·9.
    const GROUPED_OI: FanShape = ("128x16x3x3", Layout::Oi, 144.0, 288.0);
    const GROUPED_IO: FanShape = ("3x3x16x128", Layout::Io, 144.0, 288.0);
    // hidden 256, input 128: PyTorch stores 1024x128, Keras 128x1024; per gate fan_out 256.
    const LSTM_OI: FanShape = ("1024x128", Layout::Oi, 128.0, 256.0);
    const LSTM_IO: FanShape = ("128x1024", Layout::Io, 128.0, 256.0);
    // Axes named: the layout argument is ignored for fans.
    const TRANSPOSED: FanShape = ("64x128x3x3", Layout::Oi, 64.0 * 9.0, 128.0 * 9.0);
    const EINSUM: FanShape = ("8x64x512", Layout::Io, 512.0, 512.0);
    let cases: Vec<(&str, Family, VarianceFormula, &[FanShape])> = vec![
        (
            "he-normal:mode=fan-out,groups=64",
            Normal,
            |_, fo| 2.0 / fo,
            &[DEPTHWISE_OI, DEPTHWISE_IO],
        ),
        (
            "xavier-uniform:groups=64",
            Uniform,
            |fi, fo| 2.0 / (fi + fo),
            &[DEPTHWISE_OI],
        ),
        (
            "xavier-normal:groups=4",
            Normal,
            |fi, fo| 2.0 / (fi + fo),
            &[GROUPED_OI, GROUPED_IO],
        ),
        (
            "he-uniform:mode=fan-out,groups=4",
            Uniform,
            |_, fo| 2.0 / fo,
            &[GROUPED_OI],
        ),
        (
            "variance-scaling:mode=fan-avg,groups=4",
            Truncated2,
            |fi, fo| 2.0 / (fi + fo),
            &[GROUPED_IO],
        ),
        (
            "he-normal:groups=4",
            Normal,
            |fi, _| 2.0 / fi,
            &[GROUPED_OI],
        ),
        (
            "he-normal:depth=6",
            Normal,
            |fi, _| 2.0 / fi / 12.0,
            &[DENSE_IO, CONV_OI],
        ),
        (
            "xavier-normal:depth=3,groups=4",
            Normal,
            |fi, fo| 2.0 / (fi + fo) / 6.0,
            &[GROUPED_OI],
        ),
        (
            "lecun-normal:depth=1",
            Normal,
            |fi, _| 1.0 / fi / 2.0,
            &[DENSE_OI],
        ),
        (
            "variance-scaling:depth=2",
            Truncated2,
            |fi, _| 1.0 / fi / 4.0,
            &[DENSE_IO],
        ),
        (
            "variance-scaling:depth=5,distribution=normal",
            Normal,
            |fi, _| 1.0 / fi / 10.0,
            &[CONV_IO],
        ),
        // An LSTM's weight_ih (4·hidden × in, PyTorch) as 4 gate blocks: fan_out = hidden.
        (
            "xavier-uniform:blocks=4",
            Uniform,
            |fi, fo| 2.0 / (fi + fo),
            &[LSTM_OI, LSTM_IO],
        ),
        (
            "he-normal:mode=fan-out,blocks=4",
            Normal,
            |_, fo| 2.0 / fo,
            &[LSTM_OI],
        ),
        // PyTorch's ConvTranspose2d(64, 128, 3) stores in × out × k: 64x128x3x3.
        (
            "he-normal:in-axes=0,out-axes=1",
            Normal,
            |fi, _| 2.0 / fi,
            &[TRANSPOSED],
        ),
        (
            "xavier-normal:in-axes=0,out-axes=1",
            Normal,
            |fi, fo| 2.0 / (fi + fo),
            &[TRANSPOSED],
        ),
        // A Flax DenseGeneral attention output projection: heads × head_dim × embed.
        (
            "lecun-normal:in-axes=0+1,out-axes=-1",
            Normal,
            |fi, _| 1.0 / fi,
            &[EINSUM],
        ),
        (
            "variance-scaling:mode=fan-avg,in-axes=0+1,out-axes=2",
            Truncated2,
            |fi, fo| 2.0 / (fi + fo),
            &[EINSUM],
        ),
        // GPT-2's c_proj: N(0, (0.02/√(2·12))²) in a 12-layer model.
        (
            "normal:std=0.02,depth=12",
            Normal,
            |_, _| 0.02f64.powi(2) / 24.0,
            &[DENSE_IO],
        ),
    ];
    let mut failures = Vec::new();
    for (i, (scheme, family, formula, shapes)) in cases.into_iter().enumerate() {
        failures.extend(check_fan_scheme(
            scheme,
            family,
            formula,
            DType::F32,
            3000 + i as u64,
            shapes,
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

/// Native `sparse`: every input unit has exactly ⌈sparsity·out⌉ zeros, which fall on its
/// weights uniformly (each of the out places is zero in a fraction zeros/out of the units,
/// within 5 binomial standard errors), and the kept weights are N(0, std²) (KS), in both
/// layouts.
#[test]
fn sparse_zeros_are_uniform_and_kept_weights_normal() {
    let (out, inputs, sparsity, std) = (20usize, 4000usize, 0.3, 0.05);
    let zeros = (sparsity * out as f64).ceil() as usize; // 6
    let mut failures = Vec::new();
    for (layout, shape) in [
        (Layout::Oi, format!("{out}x{inputs}")),
        (Layout::Io, format!("{inputs}x{out}")),
    ] {
        let scheme = format!("sparse:sparsity={sparsity},std={std}");
        let t = tensor(&scheme, &shape, layout, DType::F64, 21, "sparse");
        let (xs, _) = draw(&t);
        let at = |j: usize, k: usize| match layout {
            Layout::Oi => xs[k * inputs + j],
            Layout::Io => xs[j * out + k],
        };
        let mut per_place = vec![0usize; out];
        for j in 0..inputs {
            let z = (0..out).filter(|&k| at(j, k) == 0.0).count();
            if z != zeros {
                failures.push(format!("{layout}: unit {j} has {z} zeros, not {zeros}"));
                break;
            }
            for (k, count) in per_place.iter_mut().enumerate() {
                *count += usize::from(at(j, k) == 0.0);
            }
        }
        let p = zeros as f64 / out as f64;
        let se = (inputs as f64 * p * (1.0 - p)).sqrt();
        for (k, &c) in per_place.iter().enumerate() {
            let z = (c as f64 - inputs as f64 * p) / se;
            if z.abs() > 5.0 {
                failures.push(format!(
                    "{layout}: place {k} is zero in {c} units, z = {z:.1}"
                ));
            }
        }
        let kept: Vec<f64> = xs.iter().copied().filter(|&x| x != 0.0).collect();
        let law = Distribution::Normal { mean: 0.0, std };
        let d = ks_statistic(&kept, |x| law.cdf(x).unwrap());
        if d > ks_critical(kept.len()) {
            failures.push(format!("{layout}: kept weights KS D = {d:.5}"));
        }
    }
    check_all(failures);
}
