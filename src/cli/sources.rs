//! Where a run's tensors come from besides `--shape`: `--preset` (a module's parameters),
//! `--layers` (a dense chain), `--like` (another file's layout). `--spec` files are in
//! `crate::model_spec`. Each turns the arguments into resolved tensor specs, checked
//! before anything is drawn.

use std::path::Path;

use clap::ValueEnum;

pub use crate::activation::Activation;

use super::gen_cmd::GenArgs;
use crate::error::{Error, Result};
use crate::fan::Layout;
use crate::scheme::{SchemeSpec, shortest};
use crate::shape::Shape;
use crate::tensor::{ResolvedTensor, TensorSpec};

/// Name patterns with their schemes, first match wins.
pub(crate) type NameRules = Vec<(globset::GlobMatcher, SchemeSpec)>;

/// A module's default parameters, as its framework initializes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// torch.nn.Linear(IN, OUT): --shape INxOUT gives weight OUTxIN, kaiming_uniform_
    /// with a=√5, then bias OUT, U(±1/√IN).
    TorchLinear,
    /// torch.nn.Conv2d(IN, OUT, (KH, KW)): --shape INxOUTxKHxKW gives weight OUTxINxKHxKW,
    /// kaiming_uniform_ with a=√5, then bias OUT, U(±1/√(IN·KH·KW)).
    TorchConv2d,
}

impl Preset {
    pub(super) fn name(self) -> &'static str {
        match self {
            Preset::TorchLinear => "torch-linear",
            Preset::TorchConv2d => "torch-conv2d",
        }
    }

    /// The weight and bias specs (shape, scheme) for one `--shape` in constructor order.
    fn tensors(self, args: &Shape) -> Result<[(Shape, SchemeSpec); 2]> {
        let dims = args.dims();
        let (inputs, outputs, kernel): (usize, usize, &[usize]) = match (self, dims) {
            (Preset::TorchLinear, [i, o]) => (*i, *o, &[]),
            (Preset::TorchConv2d, [i, o, kernel @ ..]) if kernel.len() == 2 => (*i, *o, kernel),
            _ => {
                let wanted = match self {
                    Preset::TorchLinear => "INxOUT, as in nn.Linear(IN, OUT)",
                    Preset::TorchConv2d => "INxOUTxKHxKW, as in nn.Conv2d(IN, OUT, (KH, KW))",
                };
                return Err(Error::Usage(format!(
                    "preset {} takes --shape {wanted}, not '{args}'",
                    self.name()
                )));
            }
        };
        let mut weight_dims = vec![outputs, inputs];
        weight_dims.extend_from_slice(kernel);
        let join = |d: &[usize]| {
            d.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("x")
        };
        let weight_shape: Shape = join(&weight_dims).parse()?;
        let bias_shape: Shape = outputs.to_string().parse()?;
        // PyTorch: kaiming_uniform_(weight, a=math.sqrt(5)); weightinit's leaky-relu gain
        // is sqrt(2 / (1 + a·a)), the same double as PyTorch's sqrt(2 / (1 + a**2)).
        let a = shortest(5f64.sqrt());
        let weight: SchemeSpec =
            format!("he-uniform:nonlinearity=leaky-relu,negative-slope={a}").parse()?;
        // bias: bound = 1 / math.sqrt(fan_in), fan_in = IN·KH·KW.
        let fan_in: usize = inputs * kernel.iter().product::<usize>();
        let bound = 1.0 / (fan_in as f64).sqrt();
        let bias: SchemeSpec =
            format!("uniform:low={},high={}", shortest(-bound), shortest(bound)).parse()?;
        Ok([(weight_shape, weight), (bias_shape, bias)])
    }
}

impl GenArgs {
    /// `--rule PATTERN=SCHEME` (in order) and `--default SCHEME`, for --like and --spec.
    pub(super) fn name_rules(&self) -> Result<(NameRules, Option<SchemeSpec>)> {
        let mut rules = Vec::new();
        for rule in &self.rules {
            let (pattern, scheme) = rule.split_once('=').ok_or_else(|| {
                Error::Usage(format!(
                    "invalid --rule '{rule}': write PATTERN=SCHEME, e.g. '*.bias=zeros'"
                ))
            })?;
            let matcher = crate::model_spec::name_matcher(pattern.trim())
                .map_err(|why| Error::Usage(format!("invalid --rule pattern: {why}")))?;
            rules.push((matcher, scheme.trim().parse::<SchemeSpec>()?));
        }
        let default = self
            .default_scheme
            .as_deref()
            .map(str::parse::<SchemeSpec>)
            .transpose()?;
        Ok((rules, default))
    }

    /// `--like FILE`: the source's float tensors, in its order, with schemes from
    /// `--rule`/`--default`. Integer tensors (buffers such as position ids), scalars and
    /// empty tensors are left out, and dtypes weightinit cannot write yet become
    /// `--dtype`; each case is said on stderr.
    pub(super) fn like_specs(&self, path: &Path) -> Result<Vec<ResolvedTensor>> {
        let layout = crate::model_like::read_layout(path)?;
        let (rules, default) = self.name_rules()?;
        let seed = self.seed()?;
        let label = path.display();
        let mut specs = Vec::new();
        // Said only once everything resolved, so that an error stays the only line.
        let mut notes = Vec::new();
        for t in layout {
            if !t.is_float || t.shape.is_empty() || t.shape.contains(&0) {
                notes.push(format!(
                    "weightinit: note: --like '{label}': '{}' ({} {:?}) is left out: only \
                     non-empty floating-point tensors are initialized",
                    t.name, t.source_dtype, t.shape
                ));
                continue;
            }
            let dtype = t.dtype.unwrap_or_else(|| {
                notes.push(format!(
                    "weightinit: note: --like '{label}': '{}' is {} in the source; written as {} \
                     (weightinit writes f32, f64, f16 and bf16)",
                    t.name, t.source_dtype, self.dtype
                ));
                self.dtype
            });
            let scheme = match rules.iter().find(|(m, _)| m.is_match(&t.name)) {
                Some((_, s)) => s.clone(),
                None => default.clone().ok_or_else(|| {
                    Error::Usage(format!(
                        "--like '{label}': tensor '{}' matches no --rule and there is no \
                         --default scheme",
                        t.name
                    ))
                })?,
            };
            crate::tensor::validate_name(&t.name)?;
            let shape = Shape::new(t.shape.clone())?;
            let spec = TensorSpec {
                name: t.name.clone(),
                shape,
                layout: self.layout,
                scheme,
                dtype,
                seed,
                rng: self.rng,
            };
            specs.push(spec.resolve().map_err(|e| {
                Error::Usage(format!("--like '{label}': tensor '{}': {e}", t.name))
            })?);
        }
        if specs.is_empty() {
            return Err(Error::Usage(format!(
                "--like '{label}': no floating-point tensors to initialize"
            )));
        }
        for note in notes {
            eprintln!("{note}");
        }
        Ok(specs)
    }

    /// A `--layers` chain: fcI.weight (in x out, or out x in with --layout oi) and
    /// fcI.bias for every consecutive pair of widths.
    pub(super) fn layer_specs(&self, layers: &str) -> Result<Vec<ResolvedTensor>> {
        let widths = crate::layers::parse_widths(layers)?;
        let weight_scheme: SchemeSpec = match &self.scheme {
            Some(_) => self.scheme_spec()?,
            None => self.activation.weight_scheme().parse()?,
        };
        let seed = self.seed()?;
        let mut specs = Vec::new();
        for (i, pair) in widths.windows(2).enumerate() {
            let (inputs, outputs) = (pair[0], pair[1]);
            let weight_shape = crate::layers::weight_shape(inputs, outputs, self.layout);
            let mut tensors = vec![(
                crate::layers::weight_name(i),
                weight_shape,
                weight_scheme.clone(),
            )];
            match self.bias.trim() {
                "none" => {}
                "fan-in-uniform" => {
                    // PyTorch's bias default: U(±1/√fan_in).
                    let bound = 1.0 / (inputs as f64).sqrt();
                    let scheme =
                        format!("uniform:low={},high={}", shortest(-bound), shortest(bound));
                    tensors.push((
                        crate::layers::bias_name(i),
                        outputs.to_string(),
                        scheme.parse()?,
                    ));
                }
                other => tensors.push((
                    crate::layers::bias_name(i),
                    outputs.to_string(),
                    other.parse()?,
                )),
            }
            for (name, shape, scheme) in tensors {
                specs.push(
                    TensorSpec {
                        name,
                        shape: shape.parse()?,
                        layout: self.layout,
                        scheme,
                        dtype: self.dtype,
                        seed,
                        rng: self.rng,
                    }
                    .resolve()?,
                );
            }
        }
        Ok(specs)
    }

    /// A preset's tensors: for every --shape its weight (layout oi) and bias, named
    /// NAME.weight and NAME.bias (NAME from --name, else l0, l1, ...; bare `weight` and
    /// `bias` for a single shape).
    pub(super) fn preset_specs(&self, preset: Preset) -> Result<Vec<ResolvedTensor>> {
        let shapes = self
            .shape
            .iter()
            .map(|s| s.parse::<Shape>())
            .collect::<Result<Vec<_>>>()?;
        let prefixes: Vec<String> = if self.name.is_empty() && shapes.len() == 1 {
            vec![String::new()]
        } else if self.name.is_empty() {
            (0..shapes.len()).map(|i| format!("l{i}.")).collect()
        } else {
            self.names(shapes.len())?
                .into_iter()
                .map(|n| format!("{n}."))
                .collect()
        };
        let seed = self.seed()?;
        let mut specs = Vec::new();
        for (shape, prefix) in shapes.iter().zip(prefixes) {
            for ((tensor_shape, scheme), part) in
                preset.tensors(shape)?.into_iter().zip(["weight", "bias"])
            {
                specs.push(
                    TensorSpec {
                        name: format!("{prefix}{part}"),
                        shape: tensor_shape,
                        layout: Layout::Oi,
                        scheme,
                        dtype: self.dtype,
                        seed,
                        rng: self.rng,
                    }
                    .resolve()?,
                );
            }
        }
        Ok(specs)
    }
}
