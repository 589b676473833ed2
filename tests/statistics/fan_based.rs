//! The fan-based schemes (Xavier/Glorot, He/Kaiming, LeCun, variance scaling): moments
//! and law against the published formulas, for dense and convolution shapes in both
//! layouts, and with `groups`, `blocks` and `depth`.

use crate::common::tensors::*;
use crate::support::*;
use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::law::Distribution;

/// Standard deviation of N(0, 1) truncated to [−2, 2], as published in Keras' and JAX's
/// `variance_scaling` source (0.87962566103423978).
const KERAS_TRUNCATION_STD: f64 = 0.879_625_661_034_239_8;

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
