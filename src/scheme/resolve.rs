//! Resolution: scheme + shape + layout ─► fans, gain ─► a plain [`Distribution`].
//!
//! This file prepares what every scheme reads — the fans after `in-axes`/`out-axes`,
//! `groups` and `blocks`, the `depth` and `mult` factors — and hands it to the scheme's
//! family, one function per scheme with its formula and citation: [`super::direct`]
//! (laws given by their parameters), [`super::fan_based`] (Glorot, He, LeCun, variance
//! scaling) and [`super::structured`] (orthogonal, identity, Dirac, delta-orthogonal,
//! LSTM bias, sparse) and [`super::state_space`] (Mamba's A_log and dt bias). All parameter validation that depends on more than one value
//! (low < high, gain vs. nonlinearity, truncation bounds that leave some mass) happens
//! there, so a spec that resolves can always be sampled.

use super::build::{Request, Resolved, positive, whole_number};
use super::params::ParamKey;
use super::spec::SchemeSpec;
use super::table::SchemeKind;
use super::{direct, fan_based, state_space, structured};
use crate::array::fan::{Fans, Layout};
use crate::array::shape::Shape;
use crate::error::{Error, Result};
use crate::law::Distribution;

impl SchemeSpec {
    /// Resolves the scheme for a tensor of `shape` stored in `layout`.
    pub fn resolve(&self, shape: &Shape, layout: Layout) -> Result<Resolved> {
        let blocks = match self.params.number(ParamKey::Blocks) {
            Some(k) => whole_number(ParamKey::Blocks, k)?,
            None => 1,
        };
        let fans = grouped(
            self.stored_fans(shape, layout)?,
            self.params.number(ParamKey::Groups),
            shape,
        )?;
        let fans = in_blocks(fans, blocks, shape)?;
        let depth = depth_divisor(self.params.number(ParamKey::Depth))?;
        let mult = multiplier(self.params.number(ParamKey::Mult))?;
        let mut resolved = Resolved {
            distribution: Distribution::Constant { value: 0.0 },
            fans,
            gain: None,
            fan_mode: None,
            fan: None,
            depth_divisor: depth,
            mult,
        };
        let request = Request {
            spec: self,
            shape,
            fans,
            blocks,
            depth,
            mult,
        };
        resolved.distribution = match self.kind {
            SchemeKind::Zeros => Distribution::Constant { value: 0.0 },
            SchemeKind::Ones => Distribution::Constant { value: 1.0 },
            SchemeKind::Constant => direct::constant(&request)?,
            SchemeKind::Uniform => direct::uniform_law(&request)?,
            SchemeKind::Normal => direct::normal(&request)?,
            SchemeKind::TruncatedNormal => direct::truncated_normal(&request)?,
            SchemeKind::XavierUniform | SchemeKind::XavierNormal => {
                fan_based::xavier(&request, &mut resolved)?
            }
            SchemeKind::HeUniform
            | SchemeKind::HeNormal
            | SchemeKind::LecunUniform
            | SchemeKind::LecunNormal => fan_based::he_or_lecun(&request, &mut resolved)?,
            SchemeKind::FanInUniform => fan_based::fan_in_uniform(&request, &mut resolved)?,
            SchemeKind::VarianceScaling => fan_based::variance_scaling(&request, &mut resolved)?,
            SchemeKind::Orthogonal => structured::orthogonal(&request, &mut resolved)?,
            SchemeKind::Identity => structured::identity(&request, &mut resolved)?,
            SchemeKind::Dirac => structured::dirac(&request, &mut resolved)?,
            SchemeKind::DeltaOrthogonal => structured::delta_orthogonal(&request, &mut resolved)?,
            SchemeKind::LstmBias => structured::lstm_bias(&request)?,
            SchemeKind::Sparse => structured::sparse(&request)?,
            SchemeKind::S4dRealLog => state_space::s4d_real_log(&request)?,
            SchemeKind::MambaDtBias => state_space::mamba_dt_bias(&request)?,
        };
        Ok(resolved)
    }

    /// The fans of `shape` as stored, before `groups` and `blocks` divide them: from
    /// `in-axes`/`out-axes` when given, else from the layout.
    pub(crate) fn stored_fans(&self, shape: &Shape, layout: Layout) -> Result<Option<Fans>> {
        Ok(named_axes(&self.params, shape)?.or_else(|| Fans::of(shape, layout)))
    }
}

/// Fans of a grouped convolution's weight (`groups=G`): each output channel sees only
/// its group's inputs, which the stored in-axis already counts (PyTorch stores
/// out × in/G × k…, Keras and JAX k… × in/G × out), but each input reaches only the
/// out/G outputs of its group, so fan_out is divided by G. PyTorch's
/// `_calculate_fan_in_and_fan_out` leaves fan_out at out·k (pytorch issue #23854); for
/// a depthwise convolution (G = in = out) it is G times too large.
fn grouped(fans: Option<Fans>, groups: Option<f64>, shape: &Shape) -> Result<Option<Fans>> {
    let Some(g) = groups else {
        return Ok(fans);
    };
    let g = whole_number(ParamKey::Groups, g)?;
    let Some(f) = fans else {
        return Err(Error::Param(format!(
            "groups applies to weights of 2 or more dimensions, not shape {shape}"
        )));
    };
    let outputs = f.fan_out / f.receptive_field.max(1);
    if outputs % g != 0 {
        return Err(Error::Param(format!(
            "groups={g} does not divide the {outputs} output channels of shape {shape}"
        )));
    }
    Ok(Some(Fans {
        fan_out: f.fan_out / g,
        ..f
    }))
}

/// Fans of one block when a weight is `blocks` equal blocks along its output side, each
/// initialized as a weight of its own (the K gates of an LSTM's `4·hidden × in` weight:
/// PyTorch's `for w in weight.chunk(4, 0): init_(w)`): fan_out / K. For orthogonal, the
/// blocks are drawn one by one (see `draw::matrix::OutputBlocks`).
fn in_blocks(fans: Option<Fans>, blocks: usize, shape: &Shape) -> Result<Option<Fans>> {
    if blocks == 1 {
        return Ok(fans);
    }
    let Some(f) = fans else {
        return Err(Error::Param(format!(
            "blocks applies to weights of 2 or more dimensions, not shape {shape}"
        )));
    };
    let output_side = f.fan_out / f.receptive_field.max(1);
    if !output_side.is_multiple_of(blocks) {
        return Err(Error::Param(format!(
            "blocks={blocks} does not divide the {output_side} outputs of shape {shape}"
        )));
    }
    Ok(Some(Fans {
        fan_out: f.fan_out / blocks,
        ..f
    }))
}

/// The fans from `in-axes` and `out-axes` when both are given (see [`Fans::of_axes`]),
/// `None` when neither is; one alone, an axis out of range or in both is an error.
fn named_axes(p: &super::params::Params, shape: &Shape) -> Result<Option<Fans>> {
    let rank = shape.rank();
    let axes = |key: ParamKey| -> Result<Option<Vec<usize>>> {
        p.axes(key)
            .map(|a| {
                a.resolve(rank).ok_or_else(|| {
                    Error::Param(format!(
                        "{key}={a} names an axis that shape {shape} ({rank} dimensions) does not have"
                    ))
                })
            })
            .transpose()
    };
    match (axes(ParamKey::InAxes)?, axes(ParamKey::OutAxes)?) {
        (None, None) => Ok(None),
        (Some(inputs), Some(outputs)) => {
            for (key, list) in [(ParamKey::InAxes, &inputs), (ParamKey::OutAxes, &outputs)] {
                let repeated = (0..list.len()).find(|&i| list[..i].contains(&list[i]));
                if let Some(i) = repeated {
                    return Err(Error::Param(format!(
                        "{key} names axis {} of shape {shape} twice",
                        list[i]
                    )));
                }
            }
            if let Some(a) = inputs.iter().find(|a| outputs.contains(a)) {
                return Err(Error::Param(format!(
                    "axis {a} of shape {shape} is given as both an input and an output axis"
                )));
            }
            Ok(Some(Fans::of_axes(shape, &inputs, &outputs)))
        }
        _ => Err(Error::Param(
            "give in-axes and out-axes together (e.g. in-axes=0,out-axes=1 for PyTorch's \
             transposed convolutions)"
                .into(),
        )),
    }
}

/// What `depth=L` divides a standard deviation by: √(2L) (1 without it), for the residual
/// projections of a network of L blocks, each adding two branches to the residual
/// stream (Radford et al. 2019, GPT-2, §2.3: "scale the weights of residual layers at
/// initialization by a factor of 1/√N where N is the number of residual layers";
/// transformers' GPT-2 `_init_weights` computes `initializer_range / math.sqrt(2 *
/// n_layer)` for `c_proj`, the same operations in the same order as here).
fn depth_divisor(depth: Option<f64>) -> Result<f64> {
    match depth {
        None => Ok(1.0),
        Some(l) => Ok((2.0 * whole_number(ParamKey::Depth, l)? as f64).sqrt()),
    }
}

/// What `mult=M` multiplies a law's scale by (1 without it): any factor > 0. `--mup-base`
/// sets it to the μP factor of each tensor (see `crate::model::mup`).
fn multiplier(mult: Option<f64>) -> Result<f64> {
    match mult {
        None => Ok(1.0),
        Some(m) => positive(ParamKey::Mult, m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::FanMode;

    fn resolve(spec: &str, shape: &str, layout: Layout) -> Result<Resolved> {
        spec.parse::<SchemeSpec>()?.resolve(&shape.parse()?, layout)
    }

    fn std_of(spec: &str, shape: &str) -> f64 {
        resolve(spec, shape, Layout::Io)
            .unwrap()
            .distribution
            .theory()
            .unwrap()
            .std
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
    }

    #[test]
    fn fan_based_stds_follow_the_formulas() {
        let (fi, fo) = (784.0f64, 128.0f64);
        let table = [
            ("xavier-uniform", (2.0 / (fi + fo)).sqrt()),
            ("xavier-normal", (2.0 / (fi + fo)).sqrt()),
            ("xavier-normal:gain=2", 2.0 * (2.0 / (fi + fo)).sqrt()),
            (
                "xavier-normal:nonlinearity=tanh",
                5.0 / 3.0 * (2.0 / (fi + fo)).sqrt(),
            ),
            ("he-normal", (2.0 / fi).sqrt()),
            ("he-uniform", (2.0 / fi).sqrt()),
            ("he-normal:mode=fan-out", (2.0 / fo).sqrt()),
            ("he-normal:nonlinearity=selu", 0.75 / fi.sqrt()),
            ("he-normal:negative-slope=0.2", (2.0 / (1.04 * fi)).sqrt()),
            ("lecun-normal", (1.0 / fi).sqrt()),
            ("lecun-uniform", (1.0 / fi).sqrt()),
            ("fan-in-uniform", (1.0 / (3.0 * fi)).sqrt()),
            ("variance-scaling", (1.0 / fi).sqrt()),
            (
                "variance-scaling:scale=2,mode=fan-avg,distribution=uniform",
                (4.0 / (fi + fo)).sqrt(),
            ),
            (
                "variance-scaling:mode=fan-geo-avg",
                (1.0 / (fi * fo).sqrt()).sqrt(),
            ),
            (
                "variance-scaling:mode=fan-out,distribution=normal",
                (1.0 / fo).sqrt(),
            ),
        ];
        for (spec, want) in table {
            let got = std_of(spec, "784x128");
            assert!((got - want).abs() < 1e-12 * want, "{spec}: {got} vs {want}");
        }
    }

    #[test]
    fn uniform_bounds_match_the_issue_formulas() {
        let d = resolve("xavier-uniform", "784x128", Layout::Io)
            .unwrap()
            .distribution;
        let a = (6.0f64 / (784.0 + 128.0)).sqrt();
        assert_eq!(d, Distribution::Uniform { low: -a, high: a });
        let d = resolve("he-uniform", "784x128", Layout::Io)
            .unwrap()
            .distribution;
        let a = 2f64.sqrt() * (3.0f64 / 784.0).sqrt();
        assert!(matches!(d, Distribution::Uniform { high, .. } if close(high, a)));
        let d = resolve("fan-in-uniform", "3x784", Layout::Io)
            .unwrap()
            .distribution;
        assert!(matches!(d, Distribution::Uniform { high, .. } if close(high, 1.0 / 3f64.sqrt())));
    }

    #[test]
    fn layout_changes_which_axis_is_fan_in() {
        let io = resolve("lecun-normal", "3x3x64x128", Layout::Io).unwrap();
        assert_eq!(io.fan, Some(576.0));
        let oi = resolve("lecun-normal", "128x64x3x3", Layout::Oi).unwrap();
        assert_eq!(oi.fan, Some(576.0));
        let swapped = resolve("lecun-normal", "784x128", Layout::Oi).unwrap();
        assert_eq!(swapped.fan, Some(128.0));
    }

    #[test]
    fn variance_scaling_truncated_normal_has_the_intended_variance() {
        let d = resolve("variance-scaling:scale=2", "784x128", Layout::Io)
            .unwrap()
            .distribution;
        let t = d.theory().unwrap();
        assert!(
            (t.variance - 2.0 / 784.0).abs() < 1e-12 * t.variance,
            "{}",
            t.variance
        );
    }

    #[test]
    fn defaults_and_gains() {
        let r = resolve("he-normal", "10x10", Layout::Io).unwrap();
        assert_eq!(r.gain, Some(2f64.sqrt()));
        assert_eq!(r.fan_mode, Some(FanMode::FanIn));
        let r = resolve("orthogonal:gain=0.5", "10x20", Layout::Io).unwrap();
        assert_eq!(
            r.distribution,
            Distribution::Orthogonal {
                gain: 0.5,
                blocks: 1
            }
        );
        let r = resolve("truncated-normal:std=0.02", "10", Layout::Io).unwrap();
        assert_eq!(
            r.distribution,
            Distribution::TruncatedNormal {
                mean: 0.0,
                std: 0.02,
                low: -0.04,
                high: 0.04
            }
        );
    }

    #[test]
    fn refusals_say_why() {
        let table = [
            ("he-normal", "128", "1-D shape has no fan-in"),
            ("xavier-uniform", "128", "1-D shape"),
            (
                "identity",
                "3x3x3",
                "needs a 2-D shape, this one has 3 dimensions",
            ),
            ("orthogonal", "7", "at least 2 dimensions"),
            ("normal:std=0", "3x3", "std must be greater than 0, got 0"),
            ("normal:std=-1", "3x3", "greater than 0"),
            ("uniform:low=1,high=1", "3x3", "low < high"),
            ("uniform:low=2,high=1", "3x3", "low < high"),
            ("uniform:low=-1e308,high=1e308", "3x3", "too wide"),
            (
                "truncated-normal:low=50,high=60",
                "3x3",
                "exclude all the mass",
            ),
            ("truncated-normal:low=1,high=-1", "3x3", "low < high"),
            (
                "he-normal:gain=2,nonlinearity=relu",
                "3x3",
                "either gain or nonlinearity",
            ),
            (
                "he-normal:nonlinearity=tanh,negative-slope=0.1",
                "3x3",
                "only applies to nonlinearity leaky-relu",
            ),
            ("he-normal:mode=fan-avg", "3x3", "variance-scaling"),
            ("xavier-normal:gain=0", "3x3", "gain must be greater than 0"),
            (
                "variance-scaling:scale=-2",
                "3x3",
                "scale must be greater than 0",
            ),
            ("constant", "3x3", "needs a value"),
        ];
        for (spec, shape, needle) in table {
            let err = resolve(spec, shape, Layout::Io)
                .expect_err(spec)
                .to_string();
            assert!(err.contains(needle), "{spec} {shape}: {err}");
        }
    }

    #[test]
    fn groups_depth_and_sigma_bounds_refuse_what_makes_no_sense() {
        let table = [
            (
                "he-normal:groups=3",
                "128x16x3x3",
                "does not divide the 128 output channels",
            ),
            (
                "he-normal:groups=0",
                "128x16x3x3",
                "whole number of at least 1, got 0",
            ),
            ("he-normal:groups=2.5", "128x16x3x3", "got 2.5"),
            (
                "he-normal:depth=-1",
                "128x16",
                "depth must be a whole number",
            ),
            ("normal:depth=0.5", "128", "got 0.5"),
            ("truncated-normal:low=-1,sigma-low=-2", "10", "give low"),
            (
                "truncated-normal:sigma-low=1,sigma-high=-1",
                "10",
                "low < high",
            ),
        ];
        for (spec, shape, fragment) in table {
            let err = resolve(spec, shape, Layout::Oi).unwrap_err().to_string();
            assert!(err.contains(fragment), "{spec} {shape}: {err}");
        }
        // Not a parameter of these schemes at all.
        assert!("orthogonal:groups=2".parse::<SchemeSpec>().is_err());
        assert!("he-uniform:depth=2".parse::<SchemeSpec>().is_err());
        assert!("normal:sigma-low=-2".parse::<SchemeSpec>().is_err());
        // depth=1 still scales (1/√2); absent, nothing changes bit for bit.
        assert_eq!(std_of("normal:std=1,depth=1", "3"), 1.0 / 2f64.sqrt());
        assert_eq!(
            std_of("he-normal", "784x128"),
            (2.0f64).sqrt() / 784f64.sqrt()
        );
        // The residual-layers and n-layer spellings.
        assert_eq!(std_of("normal:residual-layers=2", "3"), 0.5);
        assert_eq!(std_of("normal:n_layer=2", "3"), 0.5);
    }
}
