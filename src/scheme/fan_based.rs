//! Laws scaled by a tensor's fans: Glorot (Xavier), He (Kaiming), LeCun, the fan-in
//! uniform and variance scaling. Each sets the gain, fan mode and fan it used in the
//! [`Resolved`] it reports.

use super::build::{
    Request, Resolved, TRUNCATED_NORMAL_STD_CORRECTION, fan_for, positive, symmetric_uniform,
};
use super::params::{FanMode, ParamKey, ScalingDistribution};
use super::table::SchemeKind;
use crate::error::{Error, Result};
use crate::law::Distribution;
use crate::scheme::gain::Nonlinearity;

/// Glorot & Bengio 2010, "Understanding the difficulty of training deep
/// feedforward neural networks", AISTATS, eq. 16: Var(W) = 2/(fan_in + fan_out),
/// i.e. U(±√(6/(fan_in+fan_out))); times gain² as PyTorch's xavier_* do.
pub(super) fn xavier(r: &Request, resolved: &mut Resolved) -> Result<Distribution> {
    let f = r.need_fans()?;
    let gain = r.spec.gain(Nonlinearity::Linear)?;
    let fan = (f.fan_in + f.fan_out) as f64 / 2.0;
    resolved.gain = Some(gain);
    resolved.fan_mode = Some(FanMode::FanAvg);
    resolved.fan = Some(fan);
    let std = gain / fan.sqrt() / r.depth * r.mult;
    Ok(if r.spec.kind == SchemeKind::XavierUniform {
        symmetric_uniform(std * 3f64.sqrt())
    } else {
        Distribution::Normal { mean: 0.0, std }
    })
}

/// He et al. 2015, "Delving Deep into Rectifiers", ICCV, eq. 10: Var(W) =
/// 2/fan_in for ReLU (gain √2; leaky ReLU √(2/(1+a²))), fan_out for the backward
/// pass (eq. 14). LeCun et al. 1998, "Efficient BackProp", §4.6: Var(W) =
/// 1/fan_in, which Klambauer et al. 2017 ("Self-Normalizing Neural Networks")
/// prescribe for SELU.
pub(super) fn he_or_lecun(r: &Request, resolved: &mut Resolved) -> Result<Distribution> {
    let f = r.need_fans()?;
    let is_he = matches!(r.spec.kind, SchemeKind::HeUniform | SchemeKind::HeNormal);
    let default = if is_he {
        Nonlinearity::Relu
    } else {
        Nonlinearity::Linear
    };
    let gain = r.spec.gain(default)?;
    let mode = r.spec.params.mode().unwrap_or(FanMode::FanIn);
    if matches!(mode, FanMode::FanAvg | FanMode::FanGeoAvg) {
        return Err(Error::Param(format!(
            "scheme '{}' takes mode fan-in or fan-out; for {mode} use \
             variance-scaling:mode={mode}",
            r.spec.name(),
            mode = mode.name()
        )));
    }
    let fan = fan_for(f, mode);
    resolved.gain = Some(gain);
    resolved.fan_mode = Some(mode);
    resolved.fan = Some(fan);
    let std = gain / fan.sqrt() / r.depth * r.mult;
    Ok(
        if matches!(
            r.spec.kind,
            SchemeKind::HeUniform | SchemeKind::LecunUniform
        ) {
            symmetric_uniform(std * 3f64.sqrt())
        } else {
            Distribution::Normal { mean: 0.0, std }
        },
    )
}

/// `fan-in-uniform`: U(±1/√fan_in), PyTorch's `nn.Linear`/`nn.Conv*` default
/// (`reset_parameters`: `kaiming_uniform_(a=√5)` for the weight, which is this bound, and
/// `bound = 1 / math.sqrt(fan_in)` for the bias).
pub(super) fn fan_in_uniform(r: &Request, resolved: &mut Resolved) -> Result<Distribution> {
    let f = r.need_fans()?;
    let fan = f.fan_in as f64;
    resolved.fan_mode = Some(FanMode::FanIn);
    resolved.fan = Some(fan);
    Ok(symmetric_uniform(1.0 / fan.sqrt() * r.mult))
}

/// `variance-scaling`: std = √(scale / fan) over fan_in, fan_out, their mean or their
/// geometric mean, drawn truncated (÷ [`TRUNCATED_NORMAL_STD_CORRECTION`]), normal or
/// uniform: Keras' `VarianceScaling` and JAX's `variance_scaling`, of which Glorot, He
/// and LeCun are special cases.
pub(super) fn variance_scaling(r: &Request, resolved: &mut Resolved) -> Result<Distribution> {
    let f = r.need_fans()?;
    let scale = positive(ParamKey::Scale, r.num(ParamKey::Scale, 1.0))?;
    let mode = r.spec.params.mode().unwrap_or(FanMode::FanIn);
    let fan = fan_for(f, mode);
    resolved.fan_mode = Some(mode);
    resolved.fan = Some(fan);
    let std = (scale / fan).sqrt() / r.depth * r.mult;
    Ok(
        match r
            .spec
            .params
            .scaling_distribution()
            .unwrap_or(ScalingDistribution::TruncatedNormal)
        {
            ScalingDistribution::TruncatedNormal => {
                let parent = std / TRUNCATED_NORMAL_STD_CORRECTION;
                Distribution::TruncatedNormal {
                    mean: 0.0,
                    std: parent,
                    low: -2.0 * parent,
                    high: 2.0 * parent,
                }
            }
            ScalingDistribution::Normal => Distribution::Normal { mean: 0.0, std },
            ScalingDistribution::Uniform => symmetric_uniform(std * 3f64.sqrt()),
        },
    )
}
