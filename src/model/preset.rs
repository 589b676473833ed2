//! Presets: a framework module's parameters as that framework initializes them, e.g.
//! `torch.nn.Linear(IN, OUT)`'s weight and bias.

use crate::names::{Choice, Named};

use super::{Common, symmetric_uniform};
use crate::array::Shape;
use crate::error::{Error, Result};
use crate::scheme::{ParamKey, ParamValue, SchemeKind, SchemeSpec};
use crate::tensor::ResolvedTensor;

/// A module's default parameters, as its framework initializes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// torch.nn.Linear(IN, OUT): --shape INxOUT gives weight OUTxIN, kaiming_uniform_
    /// with a=√5, then bias OUT, U(±1/√IN).
    TorchLinear,
    /// torch.nn.Conv2d(IN, OUT, (KH, KW)): --shape INxOUTxKHxKW gives weight OUTxINxKHxKW,
    /// kaiming_uniform_ with a=√5, then bias OUT, U(±1/√(IN·KH·KW)).
    TorchConv2d,
}

impl Choice for Preset {
    const TABLE: &'static [Named<Self>] = &[
        Named {
            value: Preset::TorchLinear,
            name: "torch-linear",
            aliases: &[],
            help: "torch.nn.Linear(IN, OUT): --shape INxOUT gives weight OUTxIN, \
                   kaiming_uniform_ with a=√5, then bias OUT, U(±1/√IN)",
        },
        Named {
            value: Preset::TorchConv2d,
            name: "torch-conv2d",
            aliases: &[],
            help: "torch.nn.Conv2d(IN, OUT, (KH, KW)): --shape INxOUTxKHxKW gives weight \
                   OUTxINxKHxKW, kaiming_uniform_ with a=√5, then bias OUT, U(±1/√(IN·KH·KW))",
        },
    ];
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::TorchLinear => "torch-linear",
            Preset::TorchConv2d => "torch-conv2d",
        }
    }

    /// The weight and bias specs (shape, scheme) for one module, its constructor's
    /// arguments given as a shape (`INxOUT`), in constructor order.
    pub fn tensors(self, args: &Shape) -> Result<[(Shape, SchemeSpec); 2]> {
        let dims = args.dims();
        let (inputs, outputs, kernel): (usize, usize, &[usize]) = match (self, dims) {
            (Preset::TorchLinear, [i, o]) => (*i, *o, &[]),
            (Preset::TorchConv2d, [i, o, kernel @ ..]) if kernel.len() == 2 => (*i, *o, kernel),
            _ => {
                let wanted = match self {
                    Preset::TorchLinear => "INxOUT, as in nn.Linear(IN, OUT)",
                    Preset::TorchConv2d => "INxOUTxKHxKW, as in nn.Conv2d(IN, OUT, (KH, KW))",
                };
                return Err(Error::PresetShape {
                    preset: self.name(),
                    wanted,
                    got: args.to_string(),
                });
            }
        };
        let mut weight_dims = vec![outputs, inputs];
        weight_dims.extend_from_slice(kernel);
        let weight_shape = Shape::new(weight_dims)?;
        let bias_shape = Shape::new(vec![outputs])?;
        // PyTorch: kaiming_uniform_(weight, a=math.sqrt(5)); weightinit's leaky-relu gain
        // is sqrt(2 / (1 + a·a)), the same double as PyTorch's sqrt(2 / (1 + a**2)).
        let mut weight = SchemeSpec::new(SchemeKind::HeUniform);
        weight.params.set(
            ParamKey::Nonlinearity,
            ParamValue::parse(ParamKey::Nonlinearity, "leaky-relu")?,
        )?;
        weight
            .params
            .set(ParamKey::NegativeSlope, ParamValue::Number(5f64.sqrt()))?;
        // bias: bound = 1 / math.sqrt(fan_in), fan_in = IN·KH·KW.
        let fan_in: usize = inputs * kernel.iter().product::<usize>();
        let bias = symmetric_uniform(1.0 / (fan_in as f64).sqrt())?;
        Ok([(weight_shape, weight), (bias_shape, bias)])
    }
}

/// Every module's weight and bias, in order: `PREFIX` `weight` and `PREFIX` `bias` for
/// each constructor shape and its name prefix (`""`, `"l0."`, `"fc1."`).
pub fn tensors(
    preset: Preset,
    modules: &[(Shape, String)],
    common: &Common,
) -> Result<Vec<ResolvedTensor>> {
    let mut out = Vec::with_capacity(2 * modules.len());
    for (shape, prefix) in modules {
        let [(weight_shape, weight), (bias_shape, bias)] = preset.tensors(shape)?;
        // PyTorch stores weights out x in: the fans follow that layout.
        let torch = Common {
            layout: crate::array::Layout::Oi,
            ..*common
        };
        out.push(torch.tensor(format!("{prefix}weight"), weight_shape, weight)?);
        out.push(torch.tensor(format!("{prefix}bias"), bias_shape, bias)?);
    }
    Ok(out)
}
