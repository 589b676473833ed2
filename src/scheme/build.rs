//! What every scheme family's resolution reads ([`Request`]) and writes ([`Resolved`]),
//! and the checked constructors of the laws they share.

use serde::Serialize;

use super::params::{FanMode, ParamKey, Params};
use super::spec::SchemeSpec;
use crate::array::fan::Fans;
use crate::array::shape::Shape;
use crate::error::{Error, Result};
use crate::law::{Distribution, normal_mass};
use crate::scheme::gain::{DEFAULT_NEGATIVE_SLOPE, Nonlinearity};

/// Standard deviation of N(0, 1) truncated to [-2, 2]. Keras' `VarianceScaling` and JAX's
/// `variance_scaling` divide by it so the *truncated* draws have the intended variance
/// (constant as published in both libraries' source).
pub const TRUNCATED_NORMAL_STD_CORRECTION: f64 = 0.879_625_661_034_239_8;

/// A scheme resolved against one tensor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    pub distribution: Distribution,
    /// Fans of the shape, when it has them (rank ≥ 2).
    pub fans: Option<Fans>,
    /// The gain that was applied, for schemes that take one.
    pub gain: Option<f64>,
    /// The fan the variance was scaled by, for fan-based schemes.
    pub fan_mode: Option<FanMode>,
    pub fan: Option<f64>,
    /// What the scale was divided by after the formula (`depth=L`: √(2L)) and then
    /// multiplied by (`mult`), both 1 when not given: a framework stream that recomputes
    /// the formula its own way ([`crate::compat::torch::mapping::torch_law`]) applies them
    /// the same way.
    pub depth_divisor: f64,
    pub mult: f64,
}

/// One scheme to resolve for one tensor: the scheme, the shape, its fans after
/// `in-axes`/`out-axes`, `groups` and `blocks`, and the `depth` divisor and `mult` factor.
pub(super) struct Request<'a> {
    pub spec: &'a SchemeSpec,
    pub shape: &'a Shape,
    pub fans: Option<Fans>,
    pub blocks: usize,
    pub depth: f64,
    pub mult: f64,
}

impl Request<'_> {
    /// A parameter's number, or `default`.
    pub fn num(&self, key: ParamKey, default: f64) -> f64 {
        self.spec.params.number(key).unwrap_or(default)
    }

    /// The refusal of a scheme that does not fit the shape.
    pub fn not_applicable(&self, reason: &str) -> Error {
        Error::NotApplicable {
            scheme: self.spec.name().to_string(),
            shape: self.shape.to_string(),
            reason: reason.to_string(),
        }
    }

    /// The fans, which fan-based schemes need: an input and an output axis.
    pub fn need_fans(&self) -> Result<Fans> {
        self.fans.ok_or_else(|| {
            self.not_applicable(
                "a 1-D shape has no fan-in/fan-out (it is a bias or a scale); \
                 use zeros, ones, constant, uniform or normal",
            )
        })
    }
}

impl SchemeSpec {
    /// The gain from `gain=`, or from `nonlinearity=` (and `negative-slope=`), or the
    /// scheme's default nonlinearity.
    pub(super) fn gain(&self, default: Nonlinearity) -> Result<f64> {
        let p = &self.params;
        let slope = p.number(ParamKey::NegativeSlope);
        let nonlinearity = match (p.nonlinearity(), slope) {
            (Some(n), Some(_)) if n != Nonlinearity::LeakyRelu => {
                return Err(Error::Param(format!(
                    "negative-slope only applies to nonlinearity leaky-relu, not {n}"
                )));
            }
            (None, Some(_)) => Some(Nonlinearity::LeakyRelu),
            (n, _) => n,
        };
        match (p.number(ParamKey::Gain), nonlinearity) {
            (Some(_), Some(_)) => Err(Error::Param(
                "give either gain or nonlinearity (which sets the gain), not both".into(),
            )),
            (Some(gain), None) => positive(ParamKey::Gain, gain),
            (None, n) => Ok(n
                .unwrap_or(default)
                .gain(slope.unwrap_or(DEFAULT_NEGATIVE_SLOPE))),
        }
    }
}

/// A parameter that counts something: a whole number ≥ 1.
pub(super) fn whole_number(key: ParamKey, value: f64) -> Result<usize> {
    if value >= 1.0 && value.fract() == 0.0 && value <= u32::MAX as f64 {
        Ok(value as usize)
    } else {
        Err(Error::Param(format!(
            "{key} must be a whole number of at least 1, got {}",
            super::params::shortest(value)
        )))
    }
}

/// A truncation bound: absolute (`low`/`high`) or in standard deviations from the mean
/// (`sigma-low`/`sigma-high`, JAX's `truncated_normal(lower, upper)` semantics), not
/// both; `default_sigmas` when neither is given. `mean` and `std` are already multiplied
/// by `mult`; an absolute bound is multiplied here.
pub(super) fn bound(
    p: &Params,
    absolute: ParamKey,
    in_sigmas: ParamKey,
    (mean, std, mult): (f64, f64, f64),
    default_sigmas: f64,
) -> Result<f64> {
    match (p.number(absolute), p.number(in_sigmas)) {
        (Some(_), Some(_)) => Err(Error::Param(format!(
            "give {absolute} (an absolute bound) or {in_sigmas} (in standard deviations), not both"
        ))),
        (Some(x), None) => Ok(x * mult),
        (None, sigmas) => Ok(mean + sigmas.unwrap_or(default_sigmas) * std),
    }
}

pub(super) fn fan_for(f: Fans, mode: FanMode) -> f64 {
    match mode {
        FanMode::FanIn => f.fan_in as f64,
        FanMode::FanOut => f.fan_out as f64,
        FanMode::FanAvg => (f.fan_in + f.fan_out) as f64 / 2.0,
        // JAX: `(fan_in * fan_out) ** 0.5` on Python floats.
        FanMode::FanGeoAvg => (f.fan_in as f64 * f.fan_out as f64).powf(0.5),
    }
}

pub(super) fn positive(key: ParamKey, value: f64) -> Result<f64> {
    if value > 0.0 {
        Ok(value)
    } else {
        Err(Error::Param(format!(
            "{key} must be greater than 0, got {value}"
        )))
    }
}

pub(super) fn symmetric_uniform(bound: f64) -> Distribution {
    Distribution::Uniform {
        low: -bound,
        high: bound,
    }
}

pub(super) fn uniform(low: f64, high: f64) -> Result<Distribution> {
    if low >= high {
        return Err(Error::Param(format!(
            "uniform needs low < high, got low={low} high={high}"
        )));
    }
    if !(high - low).is_finite() {
        return Err(Error::Param(format!(
            "uniform range [{low}, {high}] is too wide to represent"
        )));
    }
    Ok(Distribution::Uniform { low, high })
}

pub(super) fn truncated(mean: f64, std: f64, low: f64, high: f64) -> Result<Distribution> {
    if low >= high {
        return Err(Error::Param(format!(
            "truncated-normal needs low < high, got low={low} high={high}"
        )));
    }
    let mass = normal_mass((low - mean) / std, (high - mean) / std);
    // `mass` is NaN-free here (finite bounds, std > 0); zero means all mass is excluded.
    if mass <= 0.0 || mass.is_nan() {
        return Err(Error::Param(format!(
            "truncation bounds [{low}, {high}] exclude all the mass of N({mean}, {std}²); \
             low and high are absolute values (for multiples of std use sigma-low and sigma-high)"
        )));
    }
    Ok(Distribution::TruncatedNormal {
        mean,
        std,
        low,
        high,
    })
}
