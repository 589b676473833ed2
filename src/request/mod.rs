//! The library's request for files of initial weights: everything `weightinit gen` can be
//! asked, as plain values ([`GenRequest`]), turned into a checked plan and run
//! ([`run()`]). The command line parses its flags into a `GenRequest`; the Python
//! package's `write()` builds one from its keyword arguments. Sources of tensors
//! (`sources.rs`), where each goes ([`plan`]) and the run itself ([`run()`]) live here,
//! so neither front end holds model logic.

pub mod plan;
pub mod run;
mod sources;
mod torch_replay;

pub use run::{Outcome, run};

use std::path::PathBuf;

use crate::array::{DType, Layout, Shape};
use crate::error::{Error, Result};
use crate::model::activation::Activation;
use crate::model::preset::Preset;
use crate::output::Format;
use crate::scheme::{ParamKey, SchemeSpec};
use crate::tensor::rng::RngMode;
use crate::tensor::{ResolvedTensor, TensorSpec};

/// What to generate and where: one source of tensors (shapes with a scheme, a preset,
/// a dense chain, a spec file, another file's layout or a Hugging Face config), what the
/// tensors share, and where they go. Option names follow the command line's flags
/// (`hf_config` is `--hf-config`), and so do the messages that name them.
#[derive(Debug, Clone)]
pub struct GenRequest {
    /// A scheme with optional inline parameters (`normal:std=0.02`).
    pub scheme: Option<String>,
    /// Scheme parameters given apart from the scheme (`--std 0.02`).
    pub params: Vec<(ParamKey, String)>,
    pub preset: Option<Preset>,
    /// Shapes as the command line writes them (`784x128`), one per tensor.
    pub shape: Vec<String>,
    pub like: Option<PathBuf>,
    pub hf_config: Option<PathBuf>,
    /// An init recipe by name (`--recipe torchtitan`), for --hf-config's weights.
    pub recipe: Option<String>,
    /// With --hf-config: a mixture of experts' routed experts per expert as on the Hub
    /// (save_pretrained's default), or fused as transformers 5 holds them.
    pub hf_experts: Option<crate::model::hf::HfExperts>,
    pub rules: Vec<String>,
    pub shard: Option<String>,
    /// `5GB`, `500MB`: save_pretrained's `max_shard_size`.
    pub max_shard_size: Option<String>,
    pub default_scheme: Option<String>,
    pub spec: Option<PathBuf>,
    /// Dense-chain widths, `784-256-10`.
    pub layers: Option<String>,
    /// The chain's activation (relu unless given).
    pub activation: Option<Activation>,
    /// The chain's bias scheme (zeros unless given; `none` for no biases).
    pub bias: Option<String>,
    pub name: Vec<String>,
    pub mup_base: Option<String>,
    pub mup_zero_readout: Vec<String>,
    pub layout: Layout,
    pub dtype: Option<DType>,
    /// 0 to 2⁶⁴−1 as text; a fresh seed is drawn without it.
    pub seed: Option<String>,
    pub rng: RngMode,
    pub jax_key: Option<String>,
    pub jax_partitionable: bool,
    pub jax_x64: bool,
    /// A file, a directory (ending in `/`), or `-` for stdout; the default file name
    /// in the current directory without it.
    pub output: Option<PathBuf>,
    pub format: Option<Format>,
    pub force: bool,
    pub dry_run: bool,
    pub fsync: bool,
    pub threads: Option<usize>,
}

impl Default for GenRequest {
    fn default() -> Self {
        GenRequest {
            scheme: None,
            params: Vec::new(),
            preset: None,
            shape: Vec::new(),
            like: None,
            hf_config: None,
            recipe: None,
            hf_experts: None,
            rules: Vec::new(),
            shard: None,
            max_shard_size: None,
            default_scheme: None,
            spec: None,
            layers: None,
            activation: None,
            bias: None,
            name: Vec::new(),
            mup_base: None,
            mup_zero_readout: Vec::new(),
            layout: Layout::default(),
            dtype: None,
            seed: None,
            rng: RngMode::default(),
            jax_key: None,
            jax_partitionable: true,
            jax_x64: false,
            output: None,
            format: None,
            force: false,
            dry_run: false,
            fsync: false,
            threads: None,
        }
    }
}

impl GenRequest {
    /// Refuses combinations the command line's parser refuses before a request exists
    /// (a library or Python caller has no parser in front): one source of tensors, and
    /// the options that belong to one source only with it.
    pub fn check_options(&self) -> Result<()> {
        let given = |option: &str| -> bool {
            match option {
                "scheme" => self.scheme.is_some(),
                "preset" => self.preset.is_some(),
                "shape" => !self.shape.is_empty(),
                "like" => self.like.is_some(),
                "hf-config" => self.hf_config.is_some(),
                "recipe" => self.recipe.is_some(),
                "hf-experts" => self.hf_experts.is_some(),
                "spec" => self.spec.is_some(),
                "layers" => self.layers.is_some(),
                "name" => !self.name.is_empty(),
                "activation" => self.activation.is_some(),
                "bias" => self.bias.is_some(),
                "mup-base" => self.mup_base.is_some(),
                "mup-zero-readout" => !self.mup_zero_readout.is_empty(),
                _ => false,
            }
        };
        let conflicts: [(&str, &[&str]); 5] = [
            (
                "like",
                &["shape", "preset", "layers", "spec", "name", "scheme"],
            ),
            (
                "hf-config",
                &["shape", "preset", "layers", "like", "name", "scheme"],
            ),
            ("spec", &["shape", "preset", "layers", "name", "scheme"]),
            ("layers", &["shape", "preset", "name"]),
            ("preset", &["scheme"]),
        ];
        for (option, excluded) in conflicts {
            if let Some(other) = excluded.iter().find(|o| given(option) && given(o)) {
                return Err(Error::Usage(format!(
                    "--{option} cannot be used with --{other}"
                )));
            }
        }
        for (option, needs) in [
            ("activation", "layers"),
            ("bias", "layers"),
            ("mup-zero-readout", "mup-base"),
            ("recipe", "hf-config"),
            ("hf-experts", "hf-config"),
        ] {
            if given(option) && !given(needs) {
                return Err(Error::Usage(format!("--{option} needs --{needs}")));
            }
        }
        let sources = ["preset", "layers", "spec", "like", "hf-config"];
        if !given("scheme") && !sources.iter().any(|s| given(s)) {
            return Err(Error::Usage(
                "no scheme: give --scheme (or a source that carries its schemes: --preset, \
                 --layers, --spec, --like, --hf-config)"
                    .into(),
            ));
        }
        if !given("shape") && !sources[1..].iter().any(|s| given(s)) {
            return Err(Error::Usage(
                "no tensors: give --shape (or --layers, --spec, --like, --hf-config)".into(),
            ));
        }
        Ok(())
    }
}

impl GenRequest {
    /// The scheme with inline and flag parameters merged.
    pub(crate) fn scheme_spec(&self) -> Result<SchemeSpec> {
        let text = self.scheme.as_deref().unwrap_or_default();
        let mut spec: SchemeSpec = text.parse()?;
        for (key, text) in &self.params {
            spec.set_param(*key, text)?;
        }
        Ok(spec)
    }

    pub(crate) fn seed(&self) -> Result<u64> {
        match self.seed.as_deref() {
            None => Ok(self.fresh_seed()),
            given => crate::tensor::rng::parse_seed(given),
        }
    }

    /// A fresh seed for this run's stream: Keras takes seeds below 2³² only.
    pub(crate) fn fresh_seed(&self) -> u64 {
        let seed = crate::tensor::rng::fresh_seed();
        if self.rng == RngMode::Keras {
            seed & u64::from(u32::MAX)
        } else {
            seed
        }
    }

    pub(crate) fn names(&self, count: usize) -> Result<Vec<String>> {
        if self.name.is_empty() {
            return Ok((0..count).map(|i| format!("w{i}")).collect());
        }
        if self.name.len() != count {
            return Err(Error::Usage(format!(
                "{} --name given for {count} --shape; give one name per shape or none",
                self.name.len()
            )));
        }
        for (i, name) in self.name.iter().enumerate() {
            crate::tensor::validate_name(name)?;
            if self.name[..i].contains(name) {
                return Err(Error::Usage(format!(
                    "tensor name '{name}' is given twice; names must be unique"
                )));
            }
        }
        Ok(self.name.clone())
    }
}

impl GenRequest {
    /// One resolved spec per --shape (two for a preset: weight, then bias).
    pub(crate) fn tensor_specs(&self) -> Result<Vec<ResolvedTensor>> {
        if self.like.is_none()
            && self.spec.is_none()
            && (!self.rules.is_empty() || self.default_scheme.is_some())
        {
            return Err(Error::Usage(
                "--rule and --default choose schemes by tensor name for --like and --spec; \
                 with --shape, --layers or --preset give --scheme"
                    .into(),
            ));
        }
        if let Some(preset) = self.preset {
            return self.preset_specs(preset);
        }
        if let Some(layers) = &self.layers {
            return self.layer_specs(layers);
        }
        if let Some(path) = &self.like {
            return self.like_specs(path);
        }
        if let Some(path) = &self.spec {
            return self.spec_specs(path);
        }
        let scheme = self.scheme_spec()?;
        let shapes = self
            .shape
            .iter()
            .map(|s| s.parse::<Shape>())
            .collect::<Result<Vec<_>>>()?;
        let names = self.names(shapes.len())?;
        let seed = self.seed()?;
        shapes
            .into_iter()
            .zip(names)
            .map(|(shape, name)| {
                TensorSpec {
                    name,
                    shape,
                    layout: self.layout,
                    scheme: scheme.clone(),
                    dtype: self.dtype.unwrap_or_default(),
                    seed,
                    rng: self.rng,
                    jax: Default::default(),
                }
                .resolve()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(request: GenRequest) -> String {
        request.check_options().unwrap_err().to_string()
    }

    #[test]
    fn one_source_of_tensors_and_options_only_with_theirs() {
        let shapes = GenRequest {
            scheme: Some("he-normal".into()),
            shape: vec!["3x3".into()],
            ..GenRequest::default()
        };
        assert!(shapes.check_options().is_ok());
        let chain_and_shapes = GenRequest {
            layers: Some("3-2".into()),
            ..shapes.clone()
        };
        assert_eq!(
            refusal(chain_and_shapes),
            "--layers cannot be used with --shape"
        );
        let activation_alone = GenRequest {
            activation: Some(Activation::Tanh),
            ..shapes.clone()
        };
        assert_eq!(refusal(activation_alone), "--activation needs --layers");
        let readout_alone = GenRequest {
            mup_zero_readout: vec!["fc2.*".into()],
            ..shapes.clone()
        };
        assert_eq!(
            refusal(readout_alone),
            "--mup-zero-readout needs --mup-base"
        );
        let like_and_scheme = GenRequest {
            like: Some("w.npz".into()),
            shape: Vec::new(),
            ..shapes.clone()
        };
        assert_eq!(
            refusal(like_and_scheme),
            "--like cannot be used with --scheme"
        );
    }

    #[test]
    fn a_request_without_scheme_or_tensors_says_what_to_give() {
        let empty = GenRequest::default();
        assert!(refusal(empty).starts_with("no scheme: give --scheme"));
        let no_shape = GenRequest {
            scheme: Some("zeros".into()),
            ..GenRequest::default()
        };
        assert!(refusal(no_shape).starts_with("no tensors: give --shape"));
        let chain = GenRequest {
            layers: Some("4-3-2".into()),
            ..GenRequest::default()
        };
        assert!(chain.check_options().is_ok());
    }
}
