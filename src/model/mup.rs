//! μP, the Maximal Update Parametrization (Yang, Hu, Babuschkin, Sidor, Liu, Farhi,
//! Ryder, Pachocki, Chen & Gao 2022, "Tensor Programs V: Tuning Large Neural Networks via
//! Zero-Shot Hyperparameter Transfer", arXiv:2203.03466), as Microsoft's `mup` package
//! (1.0.0) initializes a model: given the model and a *base* model of the same tensors
//! with smaller widths, every dimension that differs from the base is "infinite" (a
//! width), with width multiplier `dim / base_dim`; a tensor's role follows from which of
//! its axes are widths, and its init is rescaled by the rule `mup.init` applies for its
//! scheme. The rescaling becomes the scheme's `mult` parameter, so the file's metadata
//! says what was drawn and the run reproduces from it.
//!
//! The rules (from `mup/init.py` and `mup/layer.py`; `fi`/`fo` the input/output axis
//! widths, `wm` their multipliers, `ninf` the number of width axes):
//! - constant-std samplers (`uniform`, `normal`, `truncated-normal`): × `wm_in^-0.5`
//!   when both axes are widths (a hidden matrix), else unchanged; a non-centred law on a
//!   hidden matrix is refused (`mup` asserts).
//! - Glorot/Xavier (and `variance-scaling` `fan-avg`): × `√((fo+fi)/(fo_base+fi_base))`,
//!   then ÷ `√wm_in` for a hidden matrix (`_inf_fan_adjust_xavier`).
//! - He/Kaiming, LeCun, `fan-in-uniform` (and `variance-scaling` `fan-in`/`fan-out`):
//!   with one width axis, × `√wm` of the axis the mode's fan is taken from, if it is the
//!   width; with two, × `√(wm_out/wm_in)` for `fan-out` (`_inf_fan_adjust_kaiming`). For
//!   an output (readout) matrix this is `MuReadout`'s `× √width_mult` of PyTorch's
//!   default init: the readout keeps the base width's scale.
//! - A bias `P.bias` drawn from PyTorch's default `U(±1/√fan_in)` of its weight `P.weight`
//!   (`--layers` with `--bias fan-in-uniform`, presets): × `√wm_in` of the weight, as
//!   `set_base_shapes(..., rescale_params=True)` does (`rescale_linear_bias`).
//! - `zeros` never changes; `ones`, `constant`, `lstm-bias` and `identity` are refused on
//!   a hidden matrix (`mup` asserts `ninf == 1` for them); schemes `mup` has no rule for
//!   (orthogonal, dirac, delta-orthogonal, sparse) are refused on any tensor with a width
//!   axis.
//! - Readout zero init (`MuReadout(readout_zero_init=True)`): the tensors named by the
//!   caller's patterns become zeros.
//!
//! One difference from `mup` in floating point: where `mup` multiplies already drawn
//! values (`MuReadout._rescale_parameters`, `rescale_linear_bias`) we draw from the
//! rescaled law; the laws are equal, the f32 values can differ in the last bit. Where
//! `mup.init.*` draws from a rescaled law, `--rng torch` gives its values bit for bit.

use globset::GlobMatcher;

use crate::array::Fans;
use crate::error::{Error, Result};
use crate::law::Distribution;
use crate::scheme::{FanMode, ParamKey, ParamValue, SchemeKind, SchemeSpec};
use crate::tensor::ResolvedTensor;

/// A tensor's place in the network, from which of its axes are widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// No axis is a width: unchanged by μP.
    Fixed,
    /// A 1-D tensor (bias, norm scale) of a width.
    Vector,
    /// Only the output axis is a width (input layers, embeddings as out × in).
    Input,
    /// Both axes are widths.
    Hidden,
    /// Only the input axis is a width (the readout).
    Output,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Fixed => "fixed",
            Role::Vector => "vector",
            Role::Input => "input",
            Role::Hidden => "hidden",
            Role::Output => "output",
        }
    }
}

/// What μP did to one tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaled {
    pub name: String,
    pub role: Role,
    /// The factor on the law's scale: 1 when unchanged, 0 when zeroed as the readout.
    pub factor: f64,
}

/// One axis (or group of axes) of the model against the base.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Width {
    dim: f64,
    base: f64,
}

impl Width {
    fn new(dim: usize, base: usize) -> Width {
        Width {
            dim: dim as f64,
            base: base as f64,
        }
    }
    fn is_width(self) -> bool {
        self.dim != self.base
    }
    /// `mup`'s `InfDim.width_mult`: `dim / base_dim` for a width, else 1.
    fn mult(self) -> f64 {
        if self.is_width() {
            self.dim / self.base
        } else {
            1.0
        }
    }
}

/// A tensor's widths: its input and output axes (for tensors with fans) and how many
/// axes differ from the base.
#[derive(Debug, Clone, Copy)]
struct Widths {
    fan_in: Option<Width>,
    fan_out: Option<Width>,
    count: usize,
}

impl Widths {
    fn role(self) -> Role {
        match (self.fan_in, self.fan_out) {
            (Some(i), Some(o)) => match (i.is_width(), o.is_width()) {
                (false, false) => Role::Fixed,
                (false, true) => Role::Input,
                (true, true) => Role::Hidden,
                (true, false) => Role::Output,
            },
            _ if self.count == 0 => Role::Fixed,
            _ => Role::Vector,
        }
    }
    fn wm_in(self) -> f64 {
        self.fan_in.map_or(1.0, Width::mult)
    }
    fn wm_out(self) -> f64 {
        self.fan_out.map_or(1.0, Width::mult)
    }
}

/// Rescales `model`'s tensors for μP against `base` (same names, smaller widths; `label`
/// names the base in messages). Tensors whose names match `zero_readout` become zeros.
/// Returns the tensors, re-resolved, and what happened to each.
pub fn apply(
    model: Vec<ResolvedTensor>,
    base: &[ResolvedTensor],
    label: &str,
    zero_readout: &[(String, GlobMatcher)],
) -> Result<(Vec<ResolvedTensor>, Vec<Scaled>)> {
    for b in base {
        if !model.iter().any(|t| t.spec.name == b.spec.name) {
            return Err(Error::Usage(format!(
                "--mup-base '{label}' has tensor '{}', which the model has not; μP's base \
                 model has the same tensors with smaller widths",
                b.spec.name
            )));
        }
    }
    for (pattern, matcher) in zero_readout {
        if !model.iter().any(|t| matcher.is_match(&t.spec.name)) {
            return Err(Error::Usage(format!(
                "--mup-zero-readout '{pattern}' matches no tensor of the model"
            )));
        }
    }
    let widths = model
        .iter()
        .map(|t| {
            let b = base
                .iter()
                .find(|b| b.spec.name == t.spec.name)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "tensor '{}' is not in --mup-base '{label}'; μP's base model has the \
                         same tensors with smaller widths",
                        t.spec.name
                    ))
                })?;
            widths_of(t, b)
        })
        .collect::<Result<Vec<Widths>>>()?;
    let mut notes = Vec::with_capacity(model.len());
    let mut out = Vec::with_capacity(model.len());
    for (i, tensor) in model.iter().enumerate() {
        let w = widths[i];
        let zeroed = zero_readout
            .iter()
            .any(|(_, m)| m.is_match(&tensor.spec.name));
        let factor = if zeroed {
            0.0
        } else {
            match default_bias_weight(tensor, &model) {
                Some(j) => widths[j].wm_in().powf(0.5),
                None => factor_for(tensor, w)?,
            }
        };
        notes.push(Scaled {
            name: tensor.spec.name.clone(),
            role: w.role(),
            factor,
        });
        out.push(rescaled(tensor, factor)?);
    }
    Ok((out, notes))
}

/// The tensor with its law multiplied by `factor` (zeros for 0; itself for 1).
fn rescaled(tensor: &ResolvedTensor, factor: f64) -> Result<ResolvedTensor> {
    if factor == 1.0 {
        return Ok(tensor.clone());
    }
    let mut spec = tensor.spec.clone();
    if factor == 0.0 {
        spec.scheme = SchemeSpec::new(SchemeKind::Zeros);
    } else {
        let mult = spec.scheme.params.number(ParamKey::Mult).unwrap_or(1.0) * factor;
        spec.scheme
            .params
            .set(ParamKey::Mult, ParamValue::Number(mult))?;
    }
    let mut resolved = spec.resolve()?;
    resolved.zero_row = tensor.zero_row;
    Ok(resolved)
}

fn widths_of(tensor: &ResolvedTensor, base: &ResolvedTensor) -> Result<Widths> {
    let name = &tensor.spec.name;
    let (dims, base_dims) = (tensor.spec.shape.dims(), base.spec.shape.dims());
    if dims.len() != base_dims.len() {
        return Err(Error::Usage(format!(
            "tensor '{name}' has shape {} here and {} in --mup-base; μP needs the same \
             number of dimensions",
            tensor.spec.shape, base.spec.shape
        )));
    }
    let count = dims.iter().zip(base_dims).filter(|(d, b)| d != b).count();
    let scheme = &tensor.spec.scheme;
    let layout = tensor.spec.layout;
    let fans = (
        scheme.stored_fans(&tensor.spec.shape, layout)?,
        scheme.stored_fans(&base.spec.shape, layout)?,
    );
    let (fans, base_fans): (Fans, Fans) = match fans {
        (Some(f), Some(b)) => (f, b),
        _ => {
            return Ok(Widths {
                fan_in: None,
                fan_out: None,
                count,
            });
        }
    };
    if fans.receptive_field != base_fans.receptive_field {
        return Err(Error::Usage(format!(
            "tensor '{name}' has a kernel of {} here and {} in --mup-base; μP widths are \
             channels, the kernel must stay the same",
            fans.receptive_field, base_fans.receptive_field
        )));
    }
    let r = fans.receptive_field.max(1);
    let fan_in = Width::new(fans.fan_in / r, base_fans.fan_in / r);
    let fan_out = Width::new(fans.fan_out / r, base_fans.fan_out / r);
    if count > usize::from(fan_in.is_width()) + usize::from(fan_out.is_width()) {
        return Err(Error::Usage(format!(
            "tensor '{name}' ({} here, {} in --mup-base) differs from the base in an axis \
             besides one input and one output axis; mup handles at most those two widths",
            tensor.spec.shape, base.spec.shape
        )));
    }
    Ok(Widths {
        fan_in: Some(fan_in),
        fan_out: Some(fan_out),
        count,
    })
}

/// For a bias `P.bias` drawn from PyTorch's default `U(±1/√fan_in)` of its weight
/// `P.weight`, the weight's index in `model`.
fn default_bias_weight(bias: &ResolvedTensor, model: &[ResolvedTensor]) -> Option<usize> {
    let prefix = bias.spec.name.strip_suffix("bias")?;
    let weight_name = format!("{prefix}weight");
    let j = model.iter().position(|t| t.spec.name == weight_name)?;
    let weight = &model[j];
    let fan_in = weight
        .spec
        .scheme
        .stored_fans(&weight.spec.shape, weight.spec.layout)
        .ok()??
        .fan_in;
    // The same expression `--layers`' and the presets' biases are built with.
    let bound = 1.0 / (fan_in as f64).sqrt();
    let is_default = bias.spec.shape.rank() == 1
        && bias.spec.scheme.kind == SchemeKind::Uniform
        && bias.resolved.distribution
            == (Distribution::Uniform {
                low: -bound,
                high: bound,
            });
    is_default.then_some(j)
}

/// The factor `mup.init` applies for the tensor's scheme, or why there is none.
fn factor_for(tensor: &ResolvedTensor, w: Widths) -> Result<f64> {
    let name = &tensor.spec.name;
    let scheme = &tensor.spec.scheme;
    let hidden = w.role() == Role::Hidden;
    let refuse = |why: &str| {
        Err(Error::Usage(format!(
            "μP: tensor '{name}' ({} role) uses scheme '{}', {why}; give it a scheme mup \
             rescales (normal, uniform, truncated-normal, xavier-*, he-*, lecun-*, \
             fan-in-uniform, variance-scaling) with --rule, or zeros",
            w.role().name(),
            scheme.name()
        )))
    };
    let constant_std = || {
        if !hidden {
            return Ok(1.0);
        }
        let centred = match tensor.resolved.distribution {
            Distribution::Uniform { low, high } => low == -high,
            Distribution::Normal { mean, .. } => mean == 0.0,
            Distribution::TruncatedNormal {
                mean, low, high, ..
            } => mean == 0.0 && low == -high,
            _ => true,
        };
        if !centred {
            return refuse(
                "which is not centred on 0 (mup's samplers for a hidden matrix must be)",
            );
        }
        Ok(w.wm_in().powf(-0.5))
    };
    let xavier = || {
        // Fan-based schemes resolve only for tensors with fans; without them, no factor.
        let (Some(fi), Some(fo)) = (w.fan_in, w.fan_out) else {
            return 1.0;
        };
        let mut factor = ((fo.dim + fi.dim) / (fo.base + fi.base)).sqrt();
        if hidden {
            factor /= w.wm_in().sqrt();
        }
        factor
    };
    let kaiming = |mode: FanMode| match (w.role(), mode) {
        (Role::Output, FanMode::FanIn) => w.wm_in().powf(0.5),
        (Role::Input, FanMode::FanOut) => w.wm_out().powf(0.5),
        (Role::Hidden, FanMode::FanOut) => (w.wm_out() / w.wm_in()).sqrt(),
        _ => 1.0,
    };
    match scheme.kind {
        SchemeKind::Zeros => Ok(1.0),
        SchemeKind::Uniform | SchemeKind::Normal | SchemeKind::TruncatedNormal => constant_std(),
        SchemeKind::XavierUniform | SchemeKind::XavierNormal => Ok(xavier()),
        SchemeKind::HeUniform
        | SchemeKind::HeNormal
        | SchemeKind::LecunUniform
        | SchemeKind::LecunNormal
        | SchemeKind::FanInUniform
        | SchemeKind::VarianceScaling => match tensor.resolved.fan_mode {
            Some(FanMode::FanAvg) => Ok(xavier()),
            Some(FanMode::FanGeoAvg) => refuse("whose mode fan-geo-avg mup has no width rule for"),
            Some(mode) => Ok(kaiming(mode)),
            None => Ok(1.0),
        },
        SchemeKind::Ones
        | SchemeKind::Constant
        | SchemeKind::LstmBias
        | SchemeKind::Identity
        | SchemeKind::S4dRealLog
        | SchemeKind::MambaDtBias => {
            if hidden {
                refuse("which mup only allows on tensors with one width axis")
            } else {
                Ok(1.0)
            }
        }
        SchemeKind::Orthogonal
        | SchemeKind::Dirac
        | SchemeKind::DeltaOrthogonal
        | SchemeKind::Sparse => {
            if w.count == 0 {
                Ok(1.0)
            } else {
                refuse("for which mup has no width rule")
            }
        }
    }
}

/// One line on what μP did: tensors per role, how many were rescaled or zeroed.
pub fn summary(scaled: &[Scaled]) -> String {
    let roles = [
        Role::Input,
        Role::Hidden,
        Role::Output,
        Role::Vector,
        Role::Fixed,
    ];
    let counts: Vec<String> = roles
        .iter()
        .filter_map(|&role| {
            let n = scaled.iter().filter(|s| s.role == role).count();
            (n > 0).then(|| format!("{n} {}", role.name()))
        })
        .collect();
    let rescaled = scaled
        .iter()
        .filter(|s| s.factor != 1.0 && s.factor != 0.0)
        .count();
    let zeroed = scaled.iter().filter(|s| s.factor == 0.0).count();
    format!(
        "{} tensor{} ({}); {rescaled} rescaled, {zeroed} zeroed as readout",
        scaled.len(),
        if scaled.len() == 1 { "" } else { "s" },
        counts.join(", ")
    )
}
