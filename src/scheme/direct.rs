//! Laws given by their parameters: constants, uniform, normal and truncated normal.
//! `mult` scales every constant of the law, as `mup`'s constant-std samplers do:
//! `uniform_(a·scale, b·scale)`, `normal_(mean·scale, std·scale)`,
//! `trunc_normal_(mean·scale, std·scale, a·scale, b·scale)`.

use super::build::{Request, bound, positive, truncated, uniform};
use super::params::ParamKey;
use crate::error::{Error, Result};
use crate::law::Distribution;

/// `constant`: every value `value` (which has no default).
pub(super) fn constant(r: &Request) -> Result<Distribution> {
    Ok(Distribution::Constant {
        value: r
            .spec
            .params
            .number(ParamKey::Value)
            .ok_or(Error::ConstantNeedsValue)?,
    })
}

/// `uniform`: U(low, high), default U(0, 1).
pub(super) fn uniform_law(r: &Request) -> Result<Distribution> {
    uniform(
        r.num(ParamKey::Low, 0.0) * r.mult,
        r.num(ParamKey::High, 1.0) * r.mult,
    )
}

/// `normal`: N(mean, std²), default N(0, 1); `depth` divides the std.
pub(super) fn normal(r: &Request) -> Result<Distribution> {
    Ok(Distribution::Normal {
        mean: r.num(ParamKey::Mean, 0.0) * r.mult,
        std: positive(ParamKey::Std, r.num(ParamKey::Std, 1.0))? / r.depth * r.mult,
    })
}

/// `truncated-normal`: N(mean, std²) restricted to [low, high] (absolute) or to
/// [mean + sigma-low·std, mean + sigma-high·std]; ±2 std by default.
pub(super) fn truncated_normal(r: &Request) -> Result<Distribution> {
    let mean = r.num(ParamKey::Mean, 0.0) * r.mult;
    let std = positive(ParamKey::Std, r.num(ParamKey::Std, 1.0))? / r.depth * r.mult;
    let low = bound(
        &r.spec.params,
        ParamKey::Low,
        ParamKey::SigmaLow,
        (mean, std, r.mult),
        -2.0,
    )?;
    let high = bound(
        &r.spec.params,
        ParamKey::High,
        ParamKey::SigmaHigh,
        (mean, std, r.mult),
        2.0,
    )?;
    truncated(mean, std, low, high)
}
