//! Resolution: scheme + shape + layout ─► fans, gain ─► a plain [`Distribution`].
//!
//! All parameter validation that depends on more than one value (low < high, gain vs.
//! nonlinearity, truncation bounds that leave some mass) lives here, so a spec that
//! resolves can always be sampled.

use serde::Serialize;

use super::params::{FanMode, ParamKey, ScalingDistribution};
use super::spec::SchemeSpec;
use super::table::SchemeKind;
use crate::array::fan::{Fans, Layout};
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
        let p = &self.params;
        let num = |key: ParamKey, default: f64| p.number(key).unwrap_or(default);
        let not_applicable = |reason: &str| Error::NotApplicable {
            scheme: self.name().to_string(),
            shape: shape.to_string(),
            reason: reason.to_string(),
        };
        // Fan-based schemes need an input and an output axis.
        let need_fans = || {
            fans.ok_or_else(|| {
                not_applicable(
                    "a 1-D shape has no fan-in/fan-out (it is a bias or a scale); \
                     use zeros, ones, constant, uniform or normal",
                )
            })
        };

        resolved.distribution = match self.kind {
            SchemeKind::Zeros => Distribution::Constant { value: 0.0 },
            SchemeKind::Ones => Distribution::Constant { value: 1.0 },
            SchemeKind::Constant => Distribution::Constant {
                value: p.number(ParamKey::Value).ok_or(Error::ConstantNeedsValue)?,
            },
            // `mult` scales every constant of the law, as `mup`'s constant-std samplers
            // do: `uniform_(a·scale, b·scale)`, `normal_(mean·scale, std·scale)`,
            // `trunc_normal_(mean·scale, std·scale, a·scale, b·scale)`.
            SchemeKind::Uniform => uniform(
                num(ParamKey::Low, 0.0) * mult,
                num(ParamKey::High, 1.0) * mult,
            )?,
            SchemeKind::Normal => Distribution::Normal {
                mean: num(ParamKey::Mean, 0.0) * mult,
                std: positive(ParamKey::Std, num(ParamKey::Std, 1.0))? / depth * mult,
            },
            SchemeKind::TruncatedNormal => {
                let mean = num(ParamKey::Mean, 0.0) * mult;
                let std = positive(ParamKey::Std, num(ParamKey::Std, 1.0))? / depth * mult;
                let low = bound(
                    p,
                    ParamKey::Low,
                    ParamKey::SigmaLow,
                    (mean, std, mult),
                    -2.0,
                )?;
                let high = bound(
                    p,
                    ParamKey::High,
                    ParamKey::SigmaHigh,
                    (mean, std, mult),
                    2.0,
                )?;
                truncated(mean, std, low, high)?
            }
            // Glorot & Bengio 2010, "Understanding the difficulty of training deep
            // feedforward neural networks", AISTATS, eq. 16: Var(W) = 2/(fan_in + fan_out),
            // i.e. U(±√(6/(fan_in+fan_out))); times gain² as PyTorch's xavier_* do.
            SchemeKind::XavierUniform | SchemeKind::XavierNormal => {
                let f = need_fans()?;
                let gain = self.gain(Nonlinearity::Linear)?;
                let fan = (f.fan_in + f.fan_out) as f64 / 2.0;
                resolved.gain = Some(gain);
                resolved.fan_mode = Some(FanMode::FanAvg);
                resolved.fan = Some(fan);
                let std = gain / fan.sqrt() / depth * mult;
                if self.kind == SchemeKind::XavierUniform {
                    symmetric_uniform(std * 3f64.sqrt())
                } else {
                    Distribution::Normal { mean: 0.0, std }
                }
            }
            // He et al. 2015, "Delving Deep into Rectifiers", ICCV, eq. 10: Var(W) =
            // 2/fan_in for ReLU (gain √2; leaky ReLU √(2/(1+a²))), fan_out for the backward
            // pass (eq. 14). LeCun et al. 1998, "Efficient BackProp", §4.6: Var(W) =
            // 1/fan_in, which Klambauer et al. 2017 ("Self-Normalizing Neural Networks")
            // prescribe for SELU.
            SchemeKind::HeUniform
            | SchemeKind::HeNormal
            | SchemeKind::LecunUniform
            | SchemeKind::LecunNormal => {
                let f = need_fans()?;
                let is_he = matches!(self.kind, SchemeKind::HeUniform | SchemeKind::HeNormal);
                let default = if is_he {
                    Nonlinearity::Relu
                } else {
                    Nonlinearity::Linear
                };
                let gain = self.gain(default)?;
                let mode = p.mode().unwrap_or(FanMode::FanIn);
                if matches!(mode, FanMode::FanAvg | FanMode::FanGeoAvg) {
                    return Err(Error::Param(format!(
                        "scheme '{}' takes mode fan-in or fan-out; for {mode} use \
                         variance-scaling:mode={mode}",
                        self.name(),
                        mode = mode.name()
                    )));
                }
                let fan = fan_for(f, mode);
                resolved.gain = Some(gain);
                resolved.fan_mode = Some(mode);
                resolved.fan = Some(fan);
                let std = gain / fan.sqrt() / depth * mult;
                if matches!(self.kind, SchemeKind::HeUniform | SchemeKind::LecunUniform) {
                    symmetric_uniform(std * 3f64.sqrt())
                } else {
                    Distribution::Normal { mean: 0.0, std }
                }
            }
            SchemeKind::FanInUniform => {
                let f = need_fans()?;
                let fan = f.fan_in as f64;
                resolved.fan_mode = Some(FanMode::FanIn);
                resolved.fan = Some(fan);
                symmetric_uniform(1.0 / fan.sqrt() * mult)
            }
            SchemeKind::VarianceScaling => {
                let f = need_fans()?;
                let scale = positive(ParamKey::Scale, num(ParamKey::Scale, 1.0))?;
                let mode = p.mode().unwrap_or(FanMode::FanIn);
                let fan = fan_for(f, mode);
                resolved.fan_mode = Some(mode);
                resolved.fan = Some(fan);
                let std = (scale / fan).sqrt() / depth * mult;
                match p
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
                }
            }
            // Saxe, McClelland & Ganguli 2014, "Exact solutions to the nonlinear dynamics
            // of learning in deep linear neural networks", ICLR: orthogonal weights keep
            // every singular value at gain; drawn as in draw::orthogonal (Mezzadri 2007).
            SchemeKind::Orthogonal => {
                need_fans().map_err(|_| {
                    not_applicable("orthogonal needs at least 2 dimensions (rows and columns)")
                })?;
                let gain = self.gain(Nonlinearity::Linear)?;
                resolved.gain = Some(gain);
                Distribution::Orthogonal { gain, blocks }
            }
            SchemeKind::Identity => {
                if shape.rank() != 2 {
                    return Err(not_applicable(&format!(
                        "identity needs a 2-D shape, this one has {} dimension{}",
                        shape.rank(),
                        if shape.rank() == 1 { "" } else { "s" }
                    )));
                }
                let gain = self.gain(Nonlinearity::Linear)?;
                resolved.gain = Some(gain);
                Distribution::Identity { gain }
            }
            // PyTorch's `dirac_(tensor, groups)`: a convolution that passes each input
            // channel through unchanged (Zagoruyko & Komodakis 2017, "DiracNets"),
            // times gain. `grouped` above checked that groups divides the output channels.
            SchemeKind::Dirac => {
                if shape.rank() < 3 {
                    return Err(not_applicable(&format!(
                        "dirac needs a convolution kernel (3 or more dimensions: channels and \
                         kernel axes), this shape has {}",
                        shape.rank()
                    )));
                }
                let gain = self.gain(Nonlinearity::Linear)?;
                resolved.gain = Some(gain);
                let groups = match p.number(ParamKey::Groups) {
                    Some(g) => whole_number(ParamKey::Groups, g)?,
                    None => 1,
                };
                Distribution::Dirac { gain, groups }
            }
            // Xiao, Bahri, Sohl-Dickstein, Schoenholz & Pennington 2018, "Dynamical
            // Isometry and a Mean Field Theory of CNNs", ICML, Algorithm 2: an orthogonal
            // c_in × c_out matrix at the spatial centre, zeros elsewhere, which needs
            // c_in ≤ c_out (as JAX's `delta_orthogonal` requires).
            SchemeKind::DeltaOrthogonal => {
                let f = need_fans()?;
                if shape.rank() < 3 {
                    return Err(not_applicable(&format!(
                        "delta-orthogonal needs a convolution kernel (3 or more dimensions), \
                         this shape has {}",
                        shape.rank()
                    )));
                }
                let (inputs, outputs) = (
                    f.fan_in / f.receptive_field.max(1),
                    f.fan_out / f.receptive_field.max(1),
                );
                if inputs > outputs {
                    return Err(not_applicable(&format!(
                        "delta-orthogonal needs in channels ≤ out channels (an orthogonal \
                         in x out matrix keeps every input's norm), this kernel has {inputs} in \
                         and {outputs} out"
                    )));
                }
                let gain = self.gain(Nonlinearity::Linear)?;
                resolved.gain = Some(gain);
                Distribution::DeltaOrthogonal { gain }
            }
            // Gers, Schmidhuber & Cummins 2000 and Jozefowicz, Zaremba & Sutskever 2015
            // ("An Empirical Exploration of Recurrent Network Architectures", §2.2): a
            // forget-gate bias of 1 lets gradients through from the start. Both PyTorch
            // (i, f, g, o) and Keras (i, f, c, o; `unit_forget_bias`) put the forget gate
            // second of four, so one layout serves both.
            SchemeKind::LstmBias => {
                if shape.rank() != 1 || !shape.dims()[0].is_multiple_of(4) {
                    return Err(not_applicable(
                        "lstm-bias needs a 1-D bias of 4·hidden values (the four gates)",
                    ));
                }
                Distribution::LstmBias {
                    forget: num(ParamKey::Forget, 1.0),
                }
            }
            // Martens 2010, "Deep learning via Hessian-free optimization", §5, as
            // PyTorch's `sparse_(w, sparsity, std=0.01)` implements it: normal values,
            // then ⌈sparsity·rows⌉ zeros in every column of its out × in matrix, i.e.
            // for every input unit.
            SchemeKind::Sparse => {
                if shape.rank() != 2 {
                    return Err(not_applicable(&format!(
                        "sparse needs a 2-D weight (out x in or in x out), this shape has {} \
                         dimension{}",
                        shape.rank(),
                        if shape.rank() == 1 { "" } else { "s" }
                    )));
                }
                let sparsity = p.number(ParamKey::Sparsity).ok_or_else(|| {
                    Error::Param(
                        "sparse needs sparsity, the fraction of each input's weights set to \
                         0 (for example sparse:sparsity=0.9)"
                            .into(),
                    )
                })?;
                if !(0.0..=1.0).contains(&sparsity) {
                    return Err(Error::Param(format!(
                        "sparsity must be between 0 and 1, got {sparsity}"
                    )));
                }
                let std = positive(ParamKey::Std, num(ParamKey::Std, 0.01))?;
                let out = fans.map_or(1, |f| f.fan_out);
                // Python's math.ceil(sparsity * rows), the same f64 product.
                let zeros = (sparsity * out as f64).ceil() as usize;
                Distribution::Sparse {
                    std,
                    sparsity,
                    zeros: zeros.min(out),
                    out,
                }
            }
        };
        Ok(resolved)
    }

    /// The fans of `shape` as stored, before `groups` and `blocks` divide them: from
    /// `in-axes`/`out-axes` when given, else from the layout.
    pub(crate) fn stored_fans(&self, shape: &Shape, layout: Layout) -> Result<Option<Fans>> {
        Ok(named_axes(&self.params, shape)?.or_else(|| Fans::of(shape, layout)))
    }

    /// The gain from `gain=`, or from `nonlinearity=` (and `negative-slope=`), or the
    /// scheme's default nonlinearity.
    fn gain(&self, default: Nonlinearity) -> Result<f64> {
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

/// A parameter that counts something: a whole number ≥ 1.
fn whole_number(key: ParamKey, value: f64) -> Result<usize> {
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
fn bound(
    p: &super::params::Params,
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

fn fan_for(f: Fans, mode: FanMode) -> f64 {
    match mode {
        FanMode::FanIn => f.fan_in as f64,
        FanMode::FanOut => f.fan_out as f64,
        FanMode::FanAvg => (f.fan_in + f.fan_out) as f64 / 2.0,
        // JAX: `(fan_in * fan_out) ** 0.5` on Python floats.
        FanMode::FanGeoAvg => (f.fan_in as f64 * f.fan_out as f64).powf(0.5),
    }
}

fn positive(key: ParamKey, value: f64) -> Result<f64> {
    if value > 0.0 {
        Ok(value)
    } else {
        Err(Error::Param(format!(
            "{key} must be greater than 0, got {value}"
        )))
    }
}

fn symmetric_uniform(bound: f64) -> Distribution {
    Distribution::Uniform {
        low: -bound,
        high: bound,
    }
}

fn uniform(low: f64, high: f64) -> Result<Distribution> {
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

fn truncated(mean: f64, std: f64, low: f64, high: f64) -> Result<Distribution> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
