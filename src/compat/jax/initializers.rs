//! `jax.nn.initializers` (jax/_src/nn/initializers.py, JAX 0.10.2) as called eagerly —
//! `init(key, shape, dtype)`, which is how Flax's `model.init` runs them unless the
//! caller wraps it in `jax.jit` — reduced to a sampler of [`super::kernels`] and one
//! multiplication in the dtype:
//!
//! | initializer | values |
//! |---|---|
//! | `zeros`, `ones`, `constant(v)` | `jnp.full(shape, v, dtype)` |
//! | `uniform(scale)` | `uniform(key, shape, dtype) * dtype(scale)` |
//! | `normal(stddev)` | `normal(key, shape, dtype) * dtype(stddev)` |
//! | `truncated_normal(stddev, lower, upper)` | `truncated_normal(key, lower, upper, shape, dtype) * dtype(stddev)` |
//! | `variance_scaling`, `"truncated_normal"` | `truncated_normal(key, -2, 2, …) * (sqrt(v) / dtype(0.87962566103423978))` |
//! | `variance_scaling`, `"normal"` | `normal(key, …) * sqrt(v)` |
//! | `variance_scaling`, `"uniform"` | `uniform(key, …, -1, 1) * sqrt(3 * v)` |
//!
//! with `v = dtype(scale / n)`: `scale / n` in Python floats (f64), n = fan_in, fan_out,
//! (fan_in + fan_out) / 2 or (fan_in · fan_out) ** 0.5, each fan from
//! [`compute_fans`]; `sqrt`, `/` and `3 * v` are single operations in the dtype
//! (float16 and bfloat16: in f32, rounded). `glorot_*` is scale 1 / `fan_avg`,
//! `lecun_*` 1 / `fan_in`, `he_*` 2 / `fan_in`; their `_normal` variants use the
//! `"truncated_normal"` distribution. A Python float becomes float16 directly and
//! bfloat16 through float32 (NumPy's and ml_dtypes' conversions).

use half::{bf16, f16};

use super::kernels::{Law, fill_bf16, fill_f16, fill_f32, fill_f64};
use super::key::JaxKey;
use super::xla_math::{round_bf16, round_f16};

/// The standard deviation of a standard normal truncated to (−2, 2), as JAX writes it
/// (`.87962566103423978`).
#[allow(clippy::excessive_precision)]
pub const TRUNCATED_STD: f64 = 0.879_625_661_034_239_78;

/// Which fan `variance_scaling` divides by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    FanIn,
    FanOut,
    FanAvg,
    FanGeoAvg,
}

/// `variance_scaling`'s `distribution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    TruncatedNormal,
    Normal,
    Uniform,
}

/// `in_axis`, `out_axis`, `batch_axis` (negative counts from the end). The default is
/// JAX's: in −2, out −1, no batch axis — a dense `(in, out)` kernel, a convolution's
/// `HWIO` kernel (receptive field H·W).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axes {
    pub in_axis: Vec<isize>,
    pub out_axis: Vec<isize>,
    pub batch_axis: Vec<isize>,
}

impl Default for Axes {
    fn default() -> Axes {
        Axes {
            in_axis: vec![-2],
            out_axis: vec![-1],
            batch_axis: vec![],
        }
    }
}

/// `_compute_fans`: receptive field = `prod(shape) / in_size / out_size / batch_size`
/// (true divisions in f64, in that order), fan_in = in_size · field, fan_out =
/// out_size · field.
pub fn compute_fans(shape: &[usize], axes: &Axes) -> (f64, f64) {
    let size = |axes: &[isize]| -> f64 {
        axes.iter()
            .map(|&a| {
                let index = if a < 0 { shape.len() as isize + a } else { a };
                shape[index as usize] as f64
            })
            .product()
    };
    let (in_size, out_size, batch_size) = (
        size(&axes.in_axis),
        size(&axes.out_axis),
        size(&axes.batch_axis),
    );
    let total: f64 = shape.iter().map(|&d| d as f64).product();
    let field = total / in_size / out_size / batch_size;
    (in_size * field, out_size * field)
}

/// `variance_scaling`'s n for `mode`: fan_in, fan_out, `(fan_in + fan_out) / 2` or
/// `(fan_in * fan_out) ** 0.5`, in f64 as Python computes them.
pub fn denominator(mode: Mode, shape: &[usize], axes: &Axes) -> f64 {
    let (fan_in, fan_out) = compute_fans(shape, axes);
    match mode {
        Mode::FanIn => fan_in,
        Mode::FanOut => fan_out,
        Mode::FanAvg => (fan_in + fan_out) / 2.0,
        Mode::FanGeoAvg => (fan_in * fan_out).powf(0.5),
    }
}

/// One of `jax.nn.initializers`.
#[derive(Debug, Clone, PartialEq)]
pub enum Initializer {
    Zeros,
    Ones,
    Constant(f64),
    Uniform {
        scale: f64,
    },
    Normal {
        stddev: f64,
    },
    TruncatedNormal {
        stddev: f64,
        lower: f64,
        upper: f64,
    },
    VarianceScaling {
        scale: f64,
        mode: Mode,
        distribution: Distribution,
        axes: Axes,
    },
}

impl Initializer {
    fn scaling(scale: f64, mode: Mode, distribution: Distribution) -> Initializer {
        Initializer::VarianceScaling {
            scale,
            mode,
            distribution,
            axes: Axes::default(),
        }
    }
    pub fn glorot_uniform() -> Initializer {
        Self::scaling(1.0, Mode::FanAvg, Distribution::Uniform)
    }
    pub fn glorot_normal() -> Initializer {
        Self::scaling(1.0, Mode::FanAvg, Distribution::TruncatedNormal)
    }
    pub fn lecun_uniform() -> Initializer {
        Self::scaling(1.0, Mode::FanIn, Distribution::Uniform)
    }
    pub fn lecun_normal() -> Initializer {
        Self::scaling(1.0, Mode::FanIn, Distribution::TruncatedNormal)
    }
    pub fn he_uniform() -> Initializer {
        Self::scaling(2.0, Mode::FanIn, Distribution::Uniform)
    }
    pub fn he_normal() -> Initializer {
        Self::scaling(2.0, Mode::FanIn, Distribution::TruncatedNormal)
    }

    /// The plan in a dtype whose operations are `arith`.
    fn plan(&self, shape: &[usize], arith: &Arith) -> Plan {
        let d = |x: f64| (arith.from_f64)(x);
        match self {
            Initializer::Zeros => Plan::Constant(0.0),
            Initializer::Ones => Plan::Constant(1.0),
            Initializer::Constant(v) => Plan::Constant(*v),
            Initializer::Uniform { scale } => Plan::drawn(
                Law::Uniform {
                    minval: 0.0,
                    maxval: 1.0,
                },
                d(*scale),
            ),
            Initializer::Normal { stddev } => Plan::drawn(Law::Normal, d(*stddev)),
            Initializer::TruncatedNormal {
                stddev,
                lower,
                upper,
            } => Plan::drawn(
                Law::TruncatedNormal {
                    lower: d(*lower),
                    upper: d(*upper),
                },
                d(*stddev),
            ),
            Initializer::VarianceScaling {
                scale,
                mode,
                distribution,
                axes,
            } => {
                let variance = d(scale / denominator(*mode, shape, axes));
                match distribution {
                    Distribution::TruncatedNormal => Plan::drawn(
                        Law::TruncatedNormal {
                            lower: -2.0,
                            upper: 2.0,
                        },
                        (arith.div)((arith.sqrt)(variance), d(TRUNCATED_STD)),
                    ),
                    Distribution::Normal => Plan::drawn(Law::Normal, (arith.sqrt)(variance)),
                    Distribution::Uniform => Plan::drawn(
                        Law::Uniform {
                            minval: -1.0,
                            maxval: 1.0,
                        },
                        (arith.sqrt)((arith.mul)(3.0, variance)),
                    ),
                }
            }
        }
    }

    /// Flat elements `start..start + out.len()` of `init(key, shape, jnp.float32)`.
    pub fn fill_f32(
        &self,
        key: JaxKey,
        shape: &[usize],
        partitionable: bool,
        start: usize,
        out: &mut [f32],
    ) {
        match self.plan(shape, &F32) {
            Plan::Constant(v) => out.fill(v as f32),
            Plan::Drawn { law, multiplier } => {
                fill_f32(
                    key,
                    shape,
                    partitionable,
                    law_as(law, |x| x as f32),
                    start,
                    out,
                );
                let m = multiplier as f32;
                out.iter_mut().for_each(|x| *x *= m);
            }
        }
    }

    /// The same for `jnp.float64` (JAX with `jax_enable_x64`).
    pub fn fill_f64(
        &self,
        key: JaxKey,
        shape: &[usize],
        partitionable: bool,
        start: usize,
        out: &mut [f64],
    ) {
        match self.plan(shape, &F64) {
            Plan::Constant(v) => out.fill(v),
            Plan::Drawn { law, multiplier } => {
                fill_f64(key, shape, partitionable, law, start, out);
                out.iter_mut().for_each(|x| *x *= multiplier);
            }
        }
    }

    /// The same for `jnp.float16`.
    pub fn fill_f16(
        &self,
        key: JaxKey,
        shape: &[usize],
        partitionable: bool,
        start: usize,
        out: &mut [f16],
    ) {
        match self.plan(shape, &F16) {
            Plan::Constant(v) => out.fill(f16::from_f64(v)),
            Plan::Drawn { law, multiplier } => {
                fill_f16(
                    key,
                    shape,
                    partitionable,
                    law_as(law, f16::from_f64),
                    start,
                    out,
                );
                let m = multiplier as f32;
                out.iter_mut()
                    .for_each(|x| *x = f16::from_f32(x.to_f32() * m));
            }
        }
    }

    /// The same for `jnp.bfloat16`.
    pub fn fill_bf16(
        &self,
        key: JaxKey,
        shape: &[usize],
        partitionable: bool,
        start: usize,
        out: &mut [bf16],
    ) {
        match self.plan(shape, &BF16) {
            Plan::Constant(v) => out.fill(bf16::from_f32(v as f32)),
            Plan::Drawn { law, multiplier } => {
                fill_bf16(
                    key,
                    shape,
                    partitionable,
                    law_as(law, |x| bf16::from_f32(x as f32)),
                    start,
                    out,
                );
                let m = multiplier as f32;
                out.iter_mut()
                    .for_each(|x| *x = bf16::from_f32(x.to_f32() * m));
            }
        }
    }
}

/// What an initializer draws: a constant, or a sampler times a multiplier (both already
/// values of the dtype, held in f64).
#[derive(Debug, Clone, Copy)]
enum Plan {
    Constant(f64),
    Drawn { law: Law<f64>, multiplier: f64 },
}

impl Plan {
    fn drawn(law: Law<f64>, multiplier: f64) -> Plan {
        Plan::Drawn { law, multiplier }
    }
}

fn law_as<T>(law: Law<f64>, to: impl Fn(f64) -> T) -> Law<T> {
    match law {
        Law::Uniform { minval, maxval } => Law::Uniform {
            minval: to(minval),
            maxval: to(maxval),
        },
        Law::Normal => Law::Normal,
        Law::TruncatedNormal { lower, upper } => Law::TruncatedNormal {
            lower: to(lower),
            upper: to(upper),
        },
    }
}

/// A dtype's arithmetic on values held in f64: conversion of a Python float, and the
/// correctly rounded `sqrt`, `*`, `/`.
struct Arith {
    from_f64: fn(f64) -> f64,
    sqrt: fn(f64) -> f64,
    mul: fn(f64, f64) -> f64,
    div: fn(f64, f64) -> f64,
}

const F32: Arith = Arith {
    from_f64: |x| f64::from(x as f32),
    sqrt: |x| f64::from((x as f32).sqrt()),
    mul: |a, b| f64::from(a as f32 * b as f32),
    div: |a, b| f64::from(a as f32 / b as f32),
};

const F64: Arith = Arith {
    from_f64: |x| x,
    sqrt: f64::sqrt,
    mul: |a, b| a * b,
    div: |a, b| a / b,
};

const F16: Arith = Arith {
    from_f64: |x| f16::from_f64(x).to_f64(),
    sqrt: |x| f64::from(round_f16((x as f32).sqrt())),
    mul: |a, b| f64::from(round_f16(a as f32 * b as f32)),
    div: |a, b| f64::from(round_f16(a as f32 / b as f32)),
};

const BF16: Arith = Arith {
    from_f64: |x| f64::from(round_bf16(x as f32)),
    sqrt: |x| f64::from(round_bf16((x as f32).sqrt())),
    mul: |a, b| f64::from(round_bf16(a as f32 * b as f32)),
    div: |a, b| f64::from(round_bf16(a as f32 / b as f32)),
};
