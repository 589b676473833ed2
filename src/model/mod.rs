//! Where lists of tensors come from: dense layer chains ([`layers`], with the
//! [`activation`] that picks their scheme), spec files ([`spec`]), another file's layout
//! ([`like`]), and how a model is split into shards ([`shard`]). Nothing here knows the
//! command line: builders take plain values.

pub mod activation;
pub mod hf;
pub mod layers;
pub mod like;
pub mod mup;
pub mod preset;
pub mod rules;
pub mod shard;
pub mod spec;

use crate::array::{DType, Layout, Shape};
use crate::error::Result;
use crate::scheme::SchemeSpec;
use crate::tensor::rng::RngMode;
use crate::tensor::{ResolvedTensor, TensorSpec};

/// What the tensors of one run share unless their source says otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Common {
    pub seed: u64,
    pub layout: Layout,
    pub dtype: DType,
    pub rng: RngMode,
}

impl Common {
    /// The tensor `name` of `shape` by `scheme`, with these settings, resolved.
    pub fn tensor(&self, name: String, shape: Shape, scheme: SchemeSpec) -> Result<ResolvedTensor> {
        TensorSpec {
            name,
            shape,
            layout: self.layout,
            scheme,
            dtype: self.dtype,
            seed: self.seed,
            rng: self.rng,
            jax: Default::default(),
        }
        .resolve()
    }
}

/// `uniform:low=-bound,high=bound`: PyTorch's bias default U(±1/√fan_in) and its kin.
pub fn symmetric_uniform(bound: f64) -> Result<SchemeSpec> {
    use crate::scheme::{ParamKey, ParamValue, SchemeKind};
    let mut scheme = SchemeSpec::new(SchemeKind::Uniform);
    scheme
        .params
        .set(ParamKey::Low, ParamValue::Number(-bound))?;
    scheme
        .params
        .set(ParamKey::High, ParamValue::Number(bound))?;
    Ok(scheme)
}
