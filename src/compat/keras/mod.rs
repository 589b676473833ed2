//! `--rng keras`: what a scheme means as a Keras 3 initializer on the JAX backend
//! (`keras.initializers.X(seed=SEED)`), reduced to the `jax.random` call it makes
//! ([`draw_for`]) and its Python text ([`expression`]). The drawing itself is JAX's stream
//! ([`super::jax`]) with the raw key data `[SEED, 0]` Keras hands `jax.random`.

use crate::array::Layout;
use crate::compat::jax::JaxCalls;
use crate::compat::jax::initializers::{Initializer, TRUNCATED_STD};
use crate::compat::jax::mapping::{
    JaxDraw, KerasSampler, Scaling, last_axis_columns, other, variance_scale,
};
use crate::error::{Result, Unreproducible};
use crate::law::Distribution;
use crate::scheme::{FanMode, ParamKey, Resolved, ScalingDistribution, SchemeKind, shortest};
use crate::tensor::TensorSpec;

/// What a scheme means under `--rng keras`: the Keras 3 initializer of that name
/// (keras/src/initializers, Keras 3.15), reduced to its `jax.random` call. Keras'
/// `VarianceScaling` computes `scale / max(1, n)` and its `sqrt` (÷ 0.87962566103423978
/// for the truncated normal) in Python floats, where JAX's computes them in the dtype;
/// its fans are JAX's default ones (in × out, conv kernels k… × in × out).
pub fn draw_for(spec: &TensorSpec, resolved: &Resolved) -> Result<JaxDraw, Unreproducible> {
    let p = &spec.scheme.params;
    let seed = spec.seed;
    if seed > u64::from(u32::MAX) {
        return Err(other(format!(
            "seed {seed} is beyond what Keras takes: its initializers' seeds are 0 to \
             4294967295 (Keras raises OverflowError above)"
        )));
    }
    if spec.dtype != crate::array::DType::F32 {
        return Err(other(format!(
            "--rng keras is reproduced for float32, not {}",
            spec.dtype
        )));
    }
    let keras = |sampler, stddev: Option<f64>, mean: Option<f64>, call: String| JaxDraw::Keras {
        sampler,
        stddev,
        mean,
        call,
    };
    let refuse_params = |keys: &[ParamKey]| match keys.iter().find(|k| p.contains(**k)) {
        Some(k) => Err(other(format!(
            "{k}: Keras' variance-scaling initializers take no {k}; use \
             variance-scaling:scale=S (in × out shapes)"
        ))),
        None => Ok(()),
    };
    refuse_params(&[
        ParamKey::Groups,
        ParamKey::Blocks,
        ParamKey::InAxes,
        ParamKey::OutAxes,
    ])?;
    let py = shortest;
    Ok(match (spec.scheme.kind, resolved.distribution) {
        (SchemeKind::Zeros, _) => JaxDraw::Init(Initializer::Zeros),
        (SchemeKind::Ones, _) => JaxDraw::Init(Initializer::Ones),
        (SchemeKind::Constant, Distribution::Constant { value }) => {
            JaxDraw::Init(Initializer::Constant(value))
        }
        (SchemeKind::Uniform, Distribution::Uniform { low, high }) => keras(
            KerasSampler::Uniform {
                minval: low,
                maxval: high,
            },
            None,
            None,
            format!(
                "RandomUniform(minval={}, maxval={}, seed={seed})",
                py(low),
                py(high)
            ),
        ),
        (SchemeKind::Normal, Distribution::Normal { mean, std }) => keras(
            KerasSampler::Normal,
            Some(std),
            Some(mean),
            format!(
                "RandomNormal(mean={}, stddev={}, seed={seed})",
                py(mean),
                py(std)
            ),
        ),
        (
            SchemeKind::TruncatedNormal,
            Distribution::TruncatedNormal {
                mean,
                std,
                low,
                high,
            },
        ) => {
            if low != mean - 2.0 * std || high != mean + 2.0 * std {
                return Err(other(
                    "Keras' TruncatedNormal cuts at mean ± 2 stddev; give no bounds".into(),
                ));
            }
            keras(
                KerasSampler::TruncatedNormal,
                Some(std),
                Some(mean),
                format!(
                    "TruncatedNormal(mean={}, stddev={}, seed={seed})",
                    py(mean),
                    py(std)
                ),
            )
        }
        (SchemeKind::Orthogonal, Distribution::Orthogonal { gain, blocks: 1 }) => {
            last_axis_columns(spec)?;
            JaxDraw::Orthogonal { scale: gain }
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
            refuse_params(&[
                ParamKey::Gain,
                ParamKey::Nonlinearity,
                ParamKey::NegativeSlope,
            ])?;
            if spec.layout != Layout::Io {
                return Err(other(
                    "Keras reads fans from in × out (k… × in × out) shapes; use --layout io".into(),
                ));
            }
            let Scaling {
                scale: base_scale,
                distribution,
                keras_name: name,
            } = Scaling::of(kind, &spec.scheme);
            let fans = resolved.fans.ok_or_else(|| {
                other("Keras' VarianceScaling needs a 2-D or larger shape".into())
            })?;
            let (fan_in, fan_out) = (fans.fan_in as f64, fans.fan_out as f64);
            let (n, mode) = match resolved.fan_mode {
                Some(FanMode::FanOut) => (fan_out, "fan_out"),
                Some(FanMode::FanAvg) => ((fan_in + fan_out) / 2.0, "fan_avg"),
                Some(FanMode::FanGeoAvg) => {
                    return Err(other(
                        "Keras' VarianceScaling has no fan_geo_avg mode".into(),
                    ));
                }
                _ => (fan_in, "fan_in"),
            };
            let scale = variance_scale(base_scale, resolved);
            let variance = scale / n.max(1.0);
            // Keras' preset classes are fan_in (Glorot: fan_avg) at their own scale;
            // anything else is its VarianceScaling.
            let preset_mode = if name.starts_with("Glorot") {
                "fan_avg"
            } else {
                "fan_in"
            };
            let call = if name == "VarianceScaling" || scale != base_scale || mode != preset_mode {
                let d = match distribution {
                    ScalingDistribution::TruncatedNormal => "truncated_normal",
                    ScalingDistribution::Normal => "untruncated_normal",
                    ScalingDistribution::Uniform => "uniform",
                };
                format!(
                    "VarianceScaling(scale={}, mode='{mode}', distribution='{d}', seed={seed})",
                    py(scale)
                )
            } else {
                format!("{name}(seed={seed})")
            };
            match distribution {
                ScalingDistribution::TruncatedNormal => keras(
                    KerasSampler::TruncatedNormal,
                    Some(variance.sqrt() / TRUNCATED_STD),
                    Some(0.0),
                    call,
                ),
                ScalingDistribution::Normal => {
                    keras(KerasSampler::Normal, Some(variance.sqrt()), Some(0.0), call)
                }
                ScalingDistribution::Uniform => {
                    let limit = (3.0 * variance).sqrt();
                    keras(
                        KerasSampler::Uniform {
                            minval: -limit,
                            maxval: limit,
                        },
                        None,
                        None,
                        call,
                    )
                }
            }
        }
        _ => {
            return Err(other(format!(
                "{} is not one of the Keras initializers --rng keras reproduces (Zeros, Ones, \
                 Constant, RandomUniform, RandomNormal, TruncatedNormal, Glorot/He/Lecun \
                 Uniform and Normal, VarianceScaling, Orthogonal)",
                spec.scheme.name()
            )));
        }
    })
}

/// The Keras statement for a `--rng keras` tensor.
pub fn expression(draw: &JaxDraw, spec: &TensorSpec) -> String {
    let dims = crate::text::python_tuple(spec.shape.dims());
    let seed = spec.seed;
    let call = match draw {
        JaxDraw::Keras { call, .. } => call.clone(),
        JaxDraw::Orthogonal { scale } => {
            format!("Orthogonal(gain={}, seed={seed})", shortest(*scale))
        }
        JaxDraw::Init(Initializer::Zeros) => "Zeros()".into(),
        JaxDraw::Init(Initializer::Ones) => "Ones()".into(),
        JaxDraw::Init(Initializer::Constant(v)) => format!("Constant({})", shortest(*v)),
        other => format!("{other:?}"),
    };
    let config = if spec.jax.partitionable {
        ""
    } else {
        "jax.config.update('jax_threefry_partitionable', False); "
    };
    format!("{config}w = keras.initializers.{call}({dims}, dtype=\"float32\")")
}

/// The `stream` of `--rng keras` tensors in their metadata (and with
/// `jax_threefry_partitionable` off).
pub const LABEL: &str = "keras.initializers(seed=SEED) on JAX: key data [SEED, 0], \
     threefry2x32, jax_threefry_partitionable=True, Keras 3.15 formulas";
pub const LABEL_ORIGINAL: &str = "keras.initializers(seed=SEED) on JAX: key data \
     [SEED, 0], threefry2x32, jax_threefry_partitionable=False, Keras 3.15 formulas";

/// `--rng keras`: Keras 3's initializers on the JAX backend.
pub static KERAS: JaxCalls = JaxCalls {
    draw_for,
    expression,
    labels: [LABEL, LABEL_ORIGINAL],
};
