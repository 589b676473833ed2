//! The laws of state-space models' own parameters (Mamba, Mamba-2): the S4D-real
//! `A_log`, which is a fixed table, and the time step's bias, a transformed uniform.
//! Both as transformers 5.25.0's `MambaMixer.init_mamba_weights` and
//! `Mamba2Mixer.init_mamba2_weights` compute them.

use super::build::Request;
use super::params::ParamKey;
use crate::error::{Error, Result};
use crate::law::{Distribution, DtBias};

/// Gu, Gupta, Goel & Ré 2022, "On the Parameterization and Initialization of Diagonal
/// State Space Models" (S4D), §4: S4D-Real sets the diagonal state matrix to
/// A_n = −(n + 1). Mamba (Gu & Dao 2023) stores A_log = ln(−A) and repeats the row for
/// every channel (`arange(1, N+1)` expanded over `intermediate_size x N`); Mamba-2 has
/// one value per head (`arange(1, heads+1)`). Both are ln(n + 1) at position n of the
/// last axis.
pub(super) fn s4d_real_log(r: &Request) -> Result<Distribution> {
    let dims = r.shape.dims();
    let last = *dims.last().unwrap_or(&1);
    Ok(Distribution::S4dRealLog { last })
}

/// The defaults of `mamba_ssm`'s `dt_min`, `dt_max`, `dt_init_floor`, which are
/// transformers' `time_step_min`, `time_step_max`, `time_step_floor`.
const DT_MIN: f64 = 0.001;
const DT_MAX: f64 = 0.1;
const DT_FLOOR: f64 = 1e-4;

/// The largest dt-max accepted: exp(ln dt-max) must stay well inside f64 (and the
/// native stream's own exp).
const DT_LIMIT: f64 = 1e300;

/// Gu & Dao 2023, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
/// §3.6 and the reference implementation's `dt_proj` init: dt log-uniform on
/// [dt_min, dt_max], floored, stored as its inverse softplus so that softplus(bias)
/// is dt at the start of training.
pub(super) fn mamba_dt_bias(r: &Request) -> Result<Distribution> {
    let dt_min = r.num(ParamKey::DtMin, DT_MIN);
    let dt_max = r.num(ParamKey::DtMax, DT_MAX);
    let floor = r.num(ParamKey::DtFloor, DT_FLOOR);
    let check = |key: ParamKey, value: f64| -> Result<()> {
        if value > 0.0 && value.is_normal() && value <= DT_LIMIT {
            Ok(())
        } else {
            Err(Error::Param(format!(
                "{key} must be a time step greater than 0 (and at most 1e300), got {}",
                super::params::shortest(value)
            )))
        }
    };
    check(ParamKey::DtMin, dt_min)?;
    check(ParamKey::DtMax, dt_max)?;
    if dt_min >= dt_max {
        return Err(Error::Param(format!(
            "mamba-dt-bias needs dt-min < dt-max, got dt-min={} dt-max={}",
            super::params::shortest(dt_min),
            super::params::shortest(dt_max)
        )));
    }
    if !(0.0..dt_max).contains(&floor) {
        return Err(Error::Param(format!(
            "dt-floor must be at least 0 and below dt-max={} (a floor at or above it makes \
             every value the same; use constant), got {}",
            super::params::shortest(dt_max),
            super::params::shortest(floor)
        )));
    }
    let law = DtBias::new(dt_min, dt_max, floor);
    debug_assert!(law.low().is_finite() && law.high().is_finite());
    Ok(Distribution::MambaDtBias {
        dt_min,
        dt_max,
        floor,
    })
}

#[cfg(test)]
mod tests {
    use crate::array::fan::Layout;
    use crate::law::Distribution;
    use crate::scheme::SchemeSpec;

    fn resolve(spec: &str, shape: &str) -> crate::Result<Distribution> {
        Ok(spec
            .parse::<SchemeSpec>()?
            .resolve(&shape.parse()?, Layout::Oi)?
            .distribution)
    }

    #[test]
    fn defaults_aliases_and_the_last_axis() {
        assert_eq!(
            resolve("mamba-dt-bias", "16").unwrap(),
            Distribution::MambaDtBias {
                dt_min: 0.001,
                dt_max: 0.1,
                floor: 1e-4
            }
        );
        assert_eq!(
            resolve("dt-bias:min=0.01,max=1,floor=0", "16").unwrap(),
            Distribution::MambaDtBias {
                dt_min: 0.01,
                dt_max: 1.0,
                floor: 0.0
            }
        );
        assert_eq!(
            resolve("mamba-a-log", "256x16").unwrap(),
            Distribution::S4dRealLog { last: 16 }
        );
        assert_eq!(
            resolve("s4d-real", "24").unwrap(),
            Distribution::S4dRealLog { last: 24 }
        );
        let spec: SchemeSpec = "mamba-dt-bias:time_step_floor=0.001".parse().unwrap();
        assert_eq!(spec.to_string(), "mamba-dt-bias:dt-floor=0.001");
    }

    #[test]
    fn bad_time_steps_are_refused_with_the_value() {
        for (spec, needle) in [
            (
                "mamba-dt-bias:dt-min=0",
                "dt-min must be a time step greater than 0 (and at most 1e300), got 0",
            ),
            (
                "mamba-dt-bias:dt-max=-1",
                "dt-max must be a time step greater than 0",
            ),
            ("mamba-dt-bias:dt-max=1e301", "got 1e301"),
            (
                "mamba-dt-bias:dt-min=0.1,dt-max=0.01",
                "dt-min < dt-max, got dt-min=0.1 dt-max=0.01",
            ),
            ("mamba-dt-bias:dt-min=0.1,dt-max=0.1", "dt-min < dt-max"),
            (
                "mamba-dt-bias:dt-floor=-0.5",
                "dt-floor must be at least 0 and below dt-max=0.1",
            ),
            ("mamba-dt-bias:dt-floor=0.1", "got 0.1"),
        ] {
            let err = resolve(spec, "8").expect_err(spec).to_string();
            assert!(err.contains(needle), "{spec}: {err}");
            assert!(!err.contains('\n'), "{spec}: one line");
        }
        assert!("s4d-real-log:gain=2".parse::<SchemeSpec>().is_err());
        assert!("mamba-dt-bias:std=1".parse::<SchemeSpec>().is_err());
    }
}
