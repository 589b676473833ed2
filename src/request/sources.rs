//! Where a request's tensors come from besides plain shapes: a preset, a dense chain,
//! another file's layout (`like`), a spec file or a Hugging Face config, then μP
//! rescaling and JAX keys. The builders live in `crate::model` and take plain values;
//! this file hands them the request's and adds the options' wording to errors.

use std::path::Path;

use crate::model::preset::Preset;

use super::GenRequest;
use crate::array::Shape;
use crate::error::{Error, Result};
use crate::model::activation::Activation;
use crate::model::layers::{self, Bias};
use crate::model::rules::NameRules;
use crate::model::{Common, like, preset};
use crate::scheme::SchemeSpec;
use crate::tensor::ResolvedTensor;

impl GenRequest {
    /// What every tensor of the run shares: seed, layout, dtype, stream.
    pub(crate) fn common(&self) -> Result<Common> {
        Ok(Common {
            seed: self.seed()?,
            layout: self.layout,
            dtype: self.dtype.unwrap_or_default(),
            rng: self.rng,
        })
    }

    /// `--hf-config FILE`: the family's tensors for that config (the template from
    /// `--spec` when given), the config's dtype unless `--dtype` (a tensor the template
    /// keeps in float32, as transformers' `_keep_in_fp32_modules_strict` does, stays in it
    /// unless `--dtype`: the flag sets every tensor's), PyTorch's layout (out × in),
    /// schemes by name from `--rule` before `--recipe`'s before the template's; and the
    /// config's bytes. With `--rng torch`, the template's draw schedule gives each tensor
    /// its place in transformers' own run of draws ([`super::torch_replay`]); the flags
    /// that would change what transformers draws are refused.
    pub(crate) fn hf_specs(&self, config: &Path) -> Result<(Vec<ResolvedTensor>, Vec<u8>)> {
        use crate::tensor::rng::RngMode;
        let replay = self.rng == RngMode::Torch;
        if self.rng != RngMode::Native && !replay {
            return Err(Error::Usage(format!(
                "--hf-config takes --rng native or torch (transformers' own draws): \
                 transformers initializes a model module by module in its own order, which \
                 --rng {} does not follow",
                self.rng
            )));
        }
        let mut model = crate::model::hf::load(
            config,
            self.spec.as_deref(),
            self.hf_experts.unwrap_or_default(),
        )?;
        let schedule = match model.torch_schedule.take() {
            Some(schedule) if replay => Some(schedule),
            None if replay => {
                let why = model
                    .torch_refusal
                    .as_deref()
                    .unwrap_or("its template has no [[torch]] draw schedule");
                return Err(Error::Usage(format!(
                    "--hf-config --rng torch: what transformers draws for the {} family is \
                     not reproduced yet ({why}); use --rng native",
                    model.family
                )));
            }
            _ => None,
        };
        if replay {
            let changed = [
                (self.recipe.is_some(), "--recipe"),
                (!self.rules.is_empty(), "--rule"),
                (self.dtype.is_some(), "--dtype"),
                (self.mup_base.is_some(), "--mup-base"),
            ];
            if let Some((_, flag)) = changed.iter().find(|(given, _)| *given) {
                return Err(Error::Usage(format!(
                    "--hf-config --rng torch replays what transformers draws for the config \
                     as it is; {flag} would change it (use --rng native with {flag})"
                )));
            }
        }
        if let Some(name) = &self.recipe {
            crate::model::hf::recipe::apply(&mut model, &crate::model::hf::recipe::find(name)?)?;
        }
        let (rules, default) = self.name_rules()?;
        if default.is_some() {
            return Err(Error::Usage(
                "--default has no use with --hf-config: the family gives every tensor a \
                 scheme; --rule PATTERN=SCHEME overrides it by name"
                    .into(),
            ));
        }
        let common = Common {
            seed: self.seed()?,
            layout: crate::array::Layout::Oi,
            dtype: self.dtype.or(model.dtype).unwrap_or_default(),
            rng: self.rng,
        };
        let planned = if replay {
            model.tensors.clone()
        } else {
            Vec::new()
        };
        let mut tensors = model
            .tensors
            .into_iter()
            .map(|planned| {
                crate::tensor::validate_name(&planned.name)?;
                let scheme = match rules.scheme_for(&planned.name) {
                    Some(rule) => rule.clone(),
                    None => planned.scheme.parse::<SchemeSpec>()?,
                };
                let shape = Shape::new(planned.shape)?;
                // A tensor transformers keeps in float32 keeps it, unless --dtype.
                let common = match (self.dtype, planned.dtype) {
                    (None, Some(dtype)) => Common { dtype, ..common },
                    _ => common,
                };
                let mut tensor = common.tensor(planned.name, shape, scheme)?;
                tensor.zero_row = planned.zero_row;
                Ok(tensor)
            })
            .collect::<Result<Vec<_>>>()?;
        if let Some(schedule) = schedule {
            super::torch_replay::attach(
                &mut tensors,
                &planned,
                &schedule,
                common.seed,
                common.dtype,
                &model.family,
            )?;
        }
        Ok((tensors, model.config_bytes))
    }

    /// `--spec FILE` alone (not as --hf-config's template): the file's tensors, with the
    /// command line's seed, stream, dtype, layout and rules as defaults.
    pub(crate) fn spec_specs(&self, path: &Path) -> Result<Vec<ResolvedTensor>> {
        let (rules, scheme) = self.name_rules()?;
        let defaults = crate::model::spec::Defaults {
            seed: self.seed.as_ref().map(|_| self.seed()).transpose()?,
            fresh_seed: self.fresh_seed(),
            rng: self.rng,
            dtype: self.dtype.unwrap_or_default(),
            layout: self.layout,
            rules,
            scheme,
        };
        crate::model::spec::load(path, defaults)
    }

    /// `--mup-base BASE`: the base model built the way the model was (same source kind,
    /// same rules), then every tensor rescaled by `mup`'s rule ([`crate::model::mup`]);
    /// a one-line summary of the roles goes to stderr. Without --mup-base, `tensors`.
    pub(crate) fn mup_rescaled(&self, tensors: Vec<ResolvedTensor>) -> Result<Vec<ResolvedTensor>> {
        let Some(base_text) = self.mup_base.as_deref() else {
            return Ok(tensors);
        };
        let base = if self.hf_config.is_some() {
            self.hf_specs(Path::new(base_text))?.0
        } else if self.spec.is_some() {
            self.spec_specs(Path::new(base_text))?
        } else if self.layers.is_some() {
            self.layer_specs(base_text)?
        } else {
            return Err(Error::Usage(
                "--mup-base needs --spec, --hf-config or --layers: the base model is built the \
                 same way as the model, with smaller widths"
                    .into(),
            ));
        };
        let zero_readout = self
            .mup_zero_readout
            .iter()
            .map(|pattern| {
                crate::model::rules::name_matcher(pattern)
                    .map(|m| (pattern.clone(), m))
                    .map_err(|why| {
                        Error::Usage(format!("invalid --mup-zero-readout pattern: {why}"))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let (tensors, scaled) = crate::model::mup::apply(tensors, &base, base_text, &zero_readout)?;
        eprintln!(
            "weightinit: note: μP against '{}': {}",
            crate::text::escape_control(base_text),
            crate::model::mup::summary(&scaled)
        );
        Ok(tensors)
    }

    /// `--rng jax`: every tensor's JAX settings — the partitionable flag, x64 (given,
    /// or implied by float64) and its key path from `--jax-key` (default: the root key
    /// for one tensor, `split(n)[i]` for several). The --jax-* flags need --rng jax.
    pub(crate) fn jax_keyed(
        &self,
        mut tensors: Vec<ResolvedTensor>,
    ) -> Result<Vec<ResolvedTensor>> {
        use crate::tensor::rng::{JaxKeyPath, JaxStream, RngMode};
        let jax_flags = self.jax_key.is_some() || self.jax_x64 || !self.jax_partitionable;
        let keras = tensors.iter().any(|t| t.spec.rng == RngMode::Keras);
        if keras && (self.jax_key.is_some() || self.jax_x64) {
            return Err(Error::Usage(
                "--jax-key and --jax-x64 do not apply to --rng keras: Keras hands JAX the \
                 key [SEED, 0] of each initializer's own seed"
                    .into(),
            ));
        }
        if !keras && !tensors.iter().any(|t| t.spec.rng == RngMode::Jax) {
            if jax_flags {
                return Err(Error::Usage(
                    "--jax-key, --jax-x64 and --jax-partitionable need --rng jax (or keras)".into(),
                ));
            }
            return Ok(tensors);
        }
        let count = tensors.len();
        let mut counters: std::collections::HashMap<String, u64> = Default::default();
        let explicit = match self.jax_key.as_deref().map(str::trim) {
            None | Some("root" | "split" | "flax") => None,
            Some(steps) => Some(JaxKeyPath::parse_steps(steps)?),
        };
        if explicit.is_some() && count > 1 {
            return Err(Error::Usage(format!(
                "--jax-key '{}' names one key, and this run has {count} tensors; use split \
                 or flax to give each its own",
                crate::text::value(self.jax_key.as_deref().unwrap_or_default())
            )));
        }
        for (index, tensor) in tensors.iter_mut().enumerate() {
            let key = match (self.jax_key.as_deref().map(str::trim), &explicit) {
                (_, Some(path)) => path.clone(),
                (Some("root"), _) => JaxKeyPath::Root,
                (Some("flax"), _) => {
                    // A parameter `params/Outer/Dense_0/kernel`: module path
                    // Outer/Dense_0, and the module's n-th parameter in the run's order.
                    let name = tensor
                        .spec
                        .name
                        .strip_prefix("params/")
                        .unwrap_or(&tensor.spec.name);
                    let path: Vec<String> = match name.rsplit_once('/') {
                        Some((module, _)) => module.split('/').map(String::from).collect(),
                        None => Vec::new(),
                    };
                    let counter = counters.entry(path.join("/")).or_insert(0);
                    *counter += 1;
                    JaxKeyPath::Flax {
                        path,
                        counter: *counter,
                    }
                }
                (Some("split"), _) => JaxKeyPath::Split { count, index },
                _ if count == 1 => JaxKeyPath::Root,
                _ => JaxKeyPath::Split { count, index },
            };
            let key = if tensor.spec.rng == RngMode::Keras {
                JaxKeyPath::Root
            } else {
                key
            };
            tensor.spec.jax = JaxStream {
                partitionable: self.jax_partitionable,
                x64: self.jax_x64,
                key,
            };
        }
        Ok(tensors)
    }

    /// `--rule PATTERN=SCHEME` (in order) and `--default SCHEME`, for --like and --spec.
    pub(crate) fn name_rules(&self) -> Result<(NameRules, Option<SchemeSpec>)> {
        let mut rules = NameRules::default();
        for rule in &self.rules {
            let (pattern, scheme) = NameRules::split_rule(rule).map_err(|e| match e {
                Error::Usage(_) => Error::Usage(format!(
                    "invalid --rule '{}': write PATTERN=SCHEME, e.g. '*.bias=zeros'",
                    crate::text::value(rule)
                )),
                other => other,
            })?;
            rules
                .push(pattern, scheme)
                .map_err(|why| Error::Usage(format!("invalid --rule pattern: {why}")))?;
        }
        let default = self
            .default_scheme
            .as_deref()
            .map(str::parse::<SchemeSpec>)
            .transpose()?;
        Ok((rules, default))
    }

    /// `--like FILE`: the source's layout with schemes from `--rule`/`--default`; the
    /// notes about left-out or converted tensors go to stderr.
    pub(crate) fn like_specs(&self, path: &Path) -> Result<Vec<ResolvedTensor>> {
        let (rules, default) = self.name_rules()?;
        let (tensors, notes) = like::tensors(path, &rules, default.as_ref(), &self.common()?)?;
        for note in notes {
            eprintln!("weightinit: note: --like '{}': {note}", path.display());
        }
        Ok(tensors)
    }

    /// A `--layers` chain: the weight scheme from --scheme, else from --activation.
    pub(crate) fn layer_specs(&self, text: &str) -> Result<Vec<ResolvedTensor>> {
        let widths = layers::parse_widths(text)?;
        let weight: SchemeSpec = match &self.scheme {
            Some(_) => self.scheme_spec()?,
            None => self
                .activation
                .unwrap_or(Activation::Relu)
                .weight_scheme()
                .parse()?,
        };
        let bias: Bias = self.bias.as_deref().unwrap_or("zeros").parse()?;
        layers::chain(&widths, &weight, &bias, &self.common()?)
    }

    /// A preset's tensors: for every --shape its weight (layout oi) and bias, named
    /// NAME.weight and NAME.bias (NAME from --name, else l0, l1, ...; bare `weight` and
    /// `bias` for a single shape).
    pub(crate) fn preset_specs(&self, chosen: Preset) -> Result<Vec<ResolvedTensor>> {
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
        let modules: Vec<(Shape, String)> = shapes.into_iter().zip(prefixes).collect();
        preset::tensors(chosen, &modules, &self.common()?)
    }
}
