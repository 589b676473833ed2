//! What a scheme means under `--rng jax`: the `jax.nn.initializers` call (or, for a
//! uniform law not starting at 0, the `jax.random.uniform` call) that draws it
//! ([`draw_for`]), the law that call really draws ([`law`]) and its Python text
//! ([`expression`]). Scheme names mean JAX's initializers here: JAX's `he_normal`,
//! `lecun_normal` and `glorot_normal` are truncated normals (variance_scaling with
//! `"truncated_normal"`), not the plain normals of the native schemes of the same name.

use super::initializers::{self, Axes, Initializer, Mode, TRUNCATED_STD};
use crate::array::Layout;
use crate::error::Unreproducible;
use crate::law::Distribution;
use crate::scheme::{
    FanMode, ParamKey, ParamValue, Resolved, ScalingDistribution, SchemeKind, SchemeSpec, shortest,
};
use crate::tensor::TensorSpec;
use crate::tensor::rng::JaxStream;

/// The JAX call that draws a tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum JaxDraw {
    /// One of `jax.nn.initializers`, called as `init(key, shape, dtype)`.
    Init(Initializer),
    /// `jax.random.uniform(key, shape, dtype, minval, maxval)`.
    Uniform { minval: f64, maxval: f64 },
    /// `jax.nn.initializers.orthogonal(scale)` (columns along the last axis): the QR of
    /// JAX's normals, reproduced up to the QR's rounding.
    Orthogonal { scale: f64 },
    /// `jax.nn.initializers.delta_orthogonal(scale)`: `orthogonal(scale)` of the last two
    /// axes at the kernel's centre, zeros elsewhere.
    DeltaOrthogonal { scale: f64 },
    /// A Keras 3 initializer on the JAX backend: `sampler(key, shape, dtype)`, then
    /// `* stddev` and `+ mean` as separate operations in the dtype (Python floats rounded
    /// to it once), as `keras.src.backend.jax.random` computes them.
    Keras {
        sampler: KerasSampler,
        stddev: Option<f64>,
        mean: Option<f64>,
        /// The Keras expression, e.g. `HeNormal(seed=7)`.
        call: String,
    },
}

/// The `jax.random` sampler a Keras initializer calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KerasSampler {
    Normal,
    /// `truncated_normal(key, -2.0, 2.0, ...)`.
    TruncatedNormal,
    Uniform {
        minval: f64,
        maxval: f64,
    },
}

pub(crate) fn other(why: String) -> Unreproducible {
    Unreproducible::Other(why)
}

/// The JAX call for `spec` (resolved as `resolved` by the scheme table), or why there
/// is none.
pub fn draw_for(spec: &TensorSpec, resolved: &Resolved) -> Result<JaxDraw, Unreproducible> {
    let p = &spec.scheme.params;
    let name = spec.scheme.name();
    let refuse_params = |keys: &[ParamKey], why: &str| -> Result<(), Unreproducible> {
        match keys.iter().find(|k| p.contains(**k)) {
            Some(k) => Err(other(format!("{k}: {why}"))),
            None => Ok(()),
        }
    };
    let draw = match (spec.scheme.kind, resolved.distribution) {
        (SchemeKind::Zeros, _) => JaxDraw::Init(Initializer::Zeros),
        (SchemeKind::Ones, _) => JaxDraw::Init(Initializer::Ones),
        (SchemeKind::Constant, Distribution::Constant { value }) => {
            JaxDraw::Init(Initializer::Constant(value))
        }
        // jax.nn.initializers.uniform(scale) draws U[0, scale); other windows are
        // jax.random.uniform's minval/maxval.
        (SchemeKind::Uniform, Distribution::Uniform { low, high }) => {
            if low == 0.0 {
                JaxDraw::Init(Initializer::Uniform { scale: high })
            } else {
                JaxDraw::Uniform {
                    minval: low,
                    maxval: high,
                }
            }
        }
        (SchemeKind::Normal, Distribution::Normal { mean, std }) => {
            if mean != 0.0 {
                return Err(other(
                    "JAX's normal initializer has mean 0; give mean=0 or use --rng native".into(),
                ));
            }
            JaxDraw::Init(Initializer::Normal { stddev: std })
        }
        // JAX's truncated_normal(stddev, lower, upper) takes its bounds in σ units.
        (
            SchemeKind::TruncatedNormal,
            Distribution::TruncatedNormal {
                mean,
                std,
                low,
                high,
            },
        ) => {
            if mean != 0.0 {
                return Err(other(
                    "JAX's truncated_normal initializer has mean 0; give mean=0 or use --rng \
                     native"
                        .into(),
                ));
            }
            let sigmas = |in_sigmas: ParamKey, absolute: ParamKey, bound: f64, default: f64| match (
                p.number(in_sigmas),
                p.number(absolute),
            ) {
                (Some(s), _) => s,
                (None, Some(_)) => bound / std,
                (None, None) => default,
            };
            JaxDraw::Init(Initializer::TruncatedNormal {
                stddev: std,
                lower: sigmas(ParamKey::SigmaLow, ParamKey::Low, low, -2.0),
                upper: sigmas(ParamKey::SigmaHigh, ParamKey::High, high, 2.0),
            })
        }
        (
            kind @ (SchemeKind::XavierUniform
            | SchemeKind::XavierNormal
            | SchemeKind::HeUniform
            | SchemeKind::HeNormal
            | SchemeKind::LecunUniform
            | SchemeKind::LecunNormal
            | SchemeKind::VarianceScaling),
            _,
        ) => {
            refuse_params(
                &[
                    ParamKey::Gain,
                    ParamKey::Nonlinearity,
                    ParamKey::NegativeSlope,
                ],
                "JAX's glorot/he/lecun initializers take no gain; use variance-scaling:scale=S \
                 (variance S/fan)",
            )?;
            refuse_params(
                &[ParamKey::Groups, ParamKey::Blocks],
                "jax.nn.initializers has no groups or blocks; give in-axes/out-axes instead",
            )?;
            let preset = Scaling::of(kind, &spec.scheme);
            let distribution = match preset.distribution {
                ScalingDistribution::TruncatedNormal => initializers::Distribution::TruncatedNormal,
                ScalingDistribution::Normal => initializers::Distribution::Normal,
                ScalingDistribution::Uniform => initializers::Distribution::Uniform,
            };
            let mode = match resolved.fan_mode {
                Some(FanMode::FanIn) | None => Mode::FanIn,
                Some(FanMode::FanOut) => Mode::FanOut,
                Some(FanMode::FanAvg) => Mode::FanAvg,
                Some(FanMode::FanGeoAvg) => Mode::FanGeoAvg,
            };
            let scale = variance_scale(preset.scale, resolved);
            JaxDraw::Init(Initializer::VarianceScaling {
                scale,
                mode,
                distribution,
                axes: axes(spec)?,
            })
        }
        (SchemeKind::Orthogonal, Distribution::Orthogonal { gain, blocks }) => {
            if blocks > 1 {
                return Err(other(
                    "jax.nn.initializers.orthogonal has no blocks; draw each block as its \
                     own tensor"
                        .into(),
                ));
            }
            last_axis_columns(spec)?;
            JaxDraw::Orthogonal { scale: gain }
        }
        (SchemeKind::DeltaOrthogonal, Distribution::DeltaOrthogonal { gain }) => {
            last_axis_columns(spec)?;
            if !(3..=5).contains(&spec.shape.rank()) {
                return Err(other(
                    "JAX's delta_orthogonal takes 3-D, 4-D or 5-D kernels".into(),
                ));
            }
            JaxDraw::DeltaOrthogonal { scale: gain }
        }
        _ => {
            return Err(other(format!(
                "{name} is not one of the jax.nn.initializers --rng jax reproduces (zeros, \
                 ones, constant, uniform, normal, truncated_normal, variance_scaling, \
                 glorot/he/lecun uniform and normal, orthogonal, delta_orthogonal)"
            )));
        }
    };
    Ok(draw)
}

/// A fan-based scheme as the `variance_scaling` JAX and Keras both reduce it to (before
/// `depth` and `mult`): Glorot scale 1 over fan_avg, He 2, LeCun 1 (their modes come from
/// the resolution), truncated normal for the `*-normal` ones; and Keras' class name.
pub(crate) struct Scaling {
    pub(crate) scale: f64,
    pub(crate) distribution: ScalingDistribution,
    pub(crate) keras_name: &'static str,
}

impl Scaling {
    pub(crate) fn of(kind: SchemeKind, scheme: &SchemeSpec) -> Scaling {
        use ScalingDistribution::{TruncatedNormal, Uniform};
        let (scale, distribution, keras_name) = match kind {
            SchemeKind::XavierUniform => (1.0, Uniform, "GlorotUniform"),
            SchemeKind::XavierNormal => (1.0, TruncatedNormal, "GlorotNormal"),
            SchemeKind::HeUniform => (2.0, Uniform, "HeUniform"),
            SchemeKind::HeNormal => (2.0, TruncatedNormal, "HeNormal"),
            SchemeKind::LecunUniform => (1.0, Uniform, "LecunUniform"),
            SchemeKind::LecunNormal => (1.0, TruncatedNormal, "LecunNormal"),
            _ => (
                scheme.params.number(ParamKey::Scale).unwrap_or(1.0),
                scheme
                    .params
                    .scaling_distribution()
                    .unwrap_or(TruncatedNormal),
                "VarianceScaling",
            ),
        };
        Scaling {
            scale,
            distribution,
            keras_name,
        }
    }
}

/// A variance-scaling `scale` with the scheme's `depth` and `mult` in it: they divide and
/// multiply the std, so the scale takes their squares (left exactly as given when both
/// are 1).
pub(crate) fn variance_scale(scale: f64, resolved: &Resolved) -> f64 {
    if resolved.depth_divisor == 1.0 && resolved.mult == 1.0 {
        scale
    } else {
        scale * resolved.mult * resolved.mult / (resolved.depth_divisor * resolved.depth_divisor)
    }
}

/// JAX's orthogonal initializers make the last axis's columns orthogonal
/// (`column_axis=-1`), which is the io layout's view.
pub(crate) fn last_axis_columns(spec: &TensorSpec) -> Result<(), Unreproducible> {
    if spec.layout == Layout::Io {
        Ok(())
    } else {
        Err(other(
            "JAX's orthogonal initializers take the columns along the last axis \
             (column_axis=-1); use --layout io with JAX's shapes"
                .into(),
        ))
    }
}

/// The native scheme whose law is what `scheme` means under `--rng jax`, for `verify`:
/// JAX's `he_normal`, `lecun_normal` and `glorot_normal` are `variance_scaling` with a
/// truncated normal (scale 2 or 1; `mode` and the other parameters carried over); every
/// other scheme already means the same law.
pub fn native_equivalent(scheme: &SchemeSpec) -> SchemeSpec {
    if !matches!(
        scheme.kind,
        SchemeKind::HeNormal | SchemeKind::LecunNormal | SchemeKind::XavierNormal
    ) {
        return scheme.clone();
    }
    let scale = Scaling::of(scheme.kind, scheme).scale;
    let gain_given = [
        ParamKey::Gain,
        ParamKey::Nonlinearity,
        ParamKey::NegativeSlope,
    ]
    .iter()
    .any(|k| scheme.params.contains(*k));
    if gain_given {
        return scheme.clone();
    }
    let mut equivalent = SchemeSpec::new(SchemeKind::VarianceScaling);
    equivalent.params = scheme.params.clone();
    let set = |s: &mut SchemeSpec, key, value| s.params.set(key, value).expect("a valid value");
    set(&mut equivalent, ParamKey::Scale, ParamValue::Number(scale));
    if scheme.kind == SchemeKind::XavierNormal {
        set(
            &mut equivalent,
            ParamKey::Mode,
            ParamValue::Mode(FanMode::FanAvg),
        );
    }
    equivalent
}

/// `in_axis`/`out_axis` for the tensor: from `in-axes`/`out-axes`, else JAX's default
/// (−2, −1) for the io layout and (1, 0) for oi.
pub(crate) fn axes(spec: &TensorSpec) -> Result<Axes, Unreproducible> {
    let p = &spec.scheme.params;
    let rank = spec.shape.rank();
    let list = |key: ParamKey| {
        p.axes(key)
            .and_then(|a| a.resolve(rank))
            .map(|v| v.into_iter().map(|a| a as isize).collect::<Vec<_>>())
    };
    Ok(match (list(ParamKey::InAxes), list(ParamKey::OutAxes)) {
        (Some(in_axis), Some(out_axis)) => Axes {
            in_axis,
            out_axis,
            batch_axis: vec![],
        },
        _ => match spec.layout {
            Layout::Io => Axes::default(),
            Layout::Oi => Axes {
                in_axis: vec![1],
                out_axis: vec![0],
                batch_axis: vec![],
            },
        },
    })
}

/// The law `draw` samples for a tensor of `shape` (before rounding to the dtype).
pub fn law(draw: &JaxDraw, shape: &[usize]) -> Distribution {
    match draw {
        JaxDraw::Uniform { minval, maxval } => Distribution::Uniform {
            low: *minval,
            high: *maxval,
        },
        JaxDraw::Orthogonal { scale } => Distribution::Orthogonal {
            gain: *scale,
            blocks: 1,
        },
        JaxDraw::Keras {
            sampler,
            stddev,
            mean,
            ..
        } => {
            let (s, m) = (stddev.unwrap_or(1.0), mean.unwrap_or(0.0));
            match *sampler {
                KerasSampler::Normal => Distribution::Normal { mean: m, std: s },
                KerasSampler::TruncatedNormal => Distribution::TruncatedNormal {
                    mean: m,
                    std: s,
                    low: m - 2.0 * s,
                    high: m + 2.0 * s,
                },
                KerasSampler::Uniform { minval, maxval } => Distribution::Uniform {
                    low: minval,
                    high: maxval,
                },
            }
        }
        JaxDraw::DeltaOrthogonal { scale } => Distribution::DeltaOrthogonal { gain: *scale },
        JaxDraw::Init(init) => match init {
            Initializer::Zeros => Distribution::Constant { value: 0.0 },
            Initializer::Ones => Distribution::Constant { value: 1.0 },
            Initializer::Constant(value) => Distribution::Constant { value: *value },
            Initializer::Uniform { scale } => Distribution::Uniform {
                low: 0.0,
                high: *scale,
            },
            Initializer::Normal { stddev } => Distribution::Normal {
                mean: 0.0,
                std: *stddev,
            },
            Initializer::TruncatedNormal {
                stddev,
                lower,
                upper,
            } => Distribution::TruncatedNormal {
                mean: 0.0,
                std: *stddev,
                low: lower * stddev,
                high: upper * stddev,
            },
            Initializer::VarianceScaling {
                scale,
                mode,
                distribution,
                axes,
            } => {
                let n = initializers::denominator(*mode, shape, axes);
                let std = (scale / n).sqrt();
                match distribution {
                    initializers::Distribution::TruncatedNormal => {
                        let parent = std / TRUNCATED_STD;
                        Distribution::TruncatedNormal {
                            mean: 0.0,
                            std: parent,
                            low: -2.0 * parent,
                            high: 2.0 * parent,
                        }
                    }
                    initializers::Distribution::Normal => Distribution::Normal { mean: 0.0, std },
                    initializers::Distribution::Uniform => {
                        let bound = (3.0 * scale / n).sqrt();
                        Distribution::Uniform {
                            low: -bound,
                            high: bound,
                        }
                    }
                }
            }
        },
    }
}

/// Whether the tensor is drawn as under `jax_enable_x64`: when asked, and always for
/// float64, which JAX draws only with x64 on.
pub fn x64(spec: &TensorSpec) -> bool {
    spec.jax.x64 || spec.dtype == crate::array::DType::F64
}

/// `jax.random.key(seed)` as JAX needs it written: a seed of 2⁶³ or more only as
/// `np.uint64(seed)` (with x64); without x64 JAX keeps the low 32 bits.
pub fn root_key_expression(seed: u64, x64: bool) -> String {
    if x64 && seed >= 1 << 63 {
        format!("jax.random.key(np.uint64({seed}))")
    } else {
        format!("jax.random.key({seed})")
    }
}

/// The Python statement computing such a tensor as `w`, with the configuration it needs.
pub fn expression(draw: &JaxDraw, spec: &TensorSpec) -> String {
    let stream: &JaxStream = &spec.jax;
    let key = stream
        .key
        .expression(&root_key_expression(spec.seed, x64(spec)));
    let dims = crate::text::python_tuple(spec.shape.dims());
    let dtype = match spec.dtype {
        crate::array::DType::F32 => "jnp.float32",
        crate::array::DType::F64 => "jnp.float64",
        crate::array::DType::F16 => "jnp.float16",
        crate::array::DType::Bf16 => "jnp.bfloat16",
    };
    let py = shortest;
    let call = match draw {
        JaxDraw::Uniform { minval, maxval } => format!(
            "jax.random.uniform({key}, {dims}, {dtype}, minval={}, maxval={})",
            py(*minval),
            py(*maxval)
        ),
        JaxDraw::Init(init) => format!("{}({key}, {dims}, {dtype})", initializer_text(init)),
        JaxDraw::Orthogonal { scale } => format!(
            "jax.nn.initializers.orthogonal({})({key}, {dims}, {dtype})",
            py(*scale)
        ),
        JaxDraw::DeltaOrthogonal { scale } => format!(
            "jax.nn.initializers.delta_orthogonal({})({key}, {dims}, {dtype})",
            py(*scale)
        ),
        JaxDraw::Keras { .. } => unreachable!("a Keras draw has keras::expression"),
    };
    let mut config = Vec::new();
    if x64(spec) {
        config.push("jax.config.update('jax_enable_x64', True)");
    }
    if !stream.partitionable {
        config.push("jax.config.update('jax_threefry_partitionable', False)");
    }
    config.push("");
    format!("{}w = {call}", config.join("; "))
}

/// `jax.nn.initializers.NAME(args)`, by the name JAX gives it where it has one.
pub(crate) fn initializer_text(init: &Initializer) -> String {
    let py = shortest;
    let i = "jax.nn.initializers.";
    match init {
        Initializer::Zeros => format!("{i}zeros"),
        Initializer::Ones => format!("{i}ones"),
        Initializer::Constant(v) => format!("{i}constant({})", py(*v)),
        Initializer::Uniform { scale } => format!("{i}uniform({})", py(*scale)),
        Initializer::Normal { stddev } => format!("{i}normal({})", py(*stddev)),
        Initializer::TruncatedNormal {
            stddev,
            lower,
            upper,
        } => format!(
            "{i}truncated_normal({}, lower={}, upper={})",
            py(*stddev),
            py(*lower),
            py(*upper)
        ),
        Initializer::VarianceScaling {
            scale,
            mode,
            distribution,
            axes,
        } => {
            use initializers::Distribution as D;
            let default_axes = *axes == Axes::default();
            let presets = [
                (1.0, Mode::FanAvg, D::Uniform, "glorot_uniform"),
                (1.0, Mode::FanAvg, D::TruncatedNormal, "glorot_normal"),
                (1.0, Mode::FanIn, D::Uniform, "lecun_uniform"),
                (1.0, Mode::FanIn, D::TruncatedNormal, "lecun_normal"),
                (2.0, Mode::FanIn, D::Uniform, "he_uniform"),
                (2.0, Mode::FanIn, D::TruncatedNormal, "he_normal"),
            ];
            let named = presets
                .iter()
                .find(|(s, m, d, _)| default_axes && s == scale && m == mode && d == distribution)
                .map(|p| p.3);
            if let Some(name) = named {
                return format!("{i}{name}()");
            }
            let mode = match mode {
                Mode::FanIn => "fan_in",
                Mode::FanOut => "fan_out",
                Mode::FanAvg => "fan_avg",
                Mode::FanGeoAvg => "fan_geo_avg",
            };
            let distribution = match distribution {
                D::TruncatedNormal => "truncated_normal",
                D::Normal => "normal",
                D::Uniform => "uniform",
            };
            let axes_text = if default_axes {
                String::new()
            } else {
                let tuple = |a: &[isize]| {
                    let items: Vec<String> = a.iter().map(|x| x.to_string()).collect();
                    format!("({},)", items.join(", "))
                };
                format!(
                    ", in_axis={}, out_axis={}",
                    tuple(&axes.in_axis),
                    tuple(&axes.out_axis)
                )
            };
            format!(
                "{i}variance_scaling({}, '{mode}', '{distribution}'{axes_text})",
                py(*scale)
            )
        }
    }
}
