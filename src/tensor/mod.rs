//! One tensor to make: everything its bytes depend on ([`TensorSpec`]), its resolved law
//! ([`ResolvedTensor`]), and the metadata written with it; with the pieces of a tensor:
//! its [`Shape`], its [`Layout`] and fans (the one place axis conventions live) and its
//! [`DType`].

pub mod rng;

use crate::array::{DType, Layout, Shape};

use serde::Serialize;

use crate::error::Result;
use crate::scheme::{Resolved, SchemeSpec};
use crate::tensor::rng::RngMode;

/// Names become archive members, stream keys and (in a directory of one file per tensor)
/// file names: keep them portable and unambiguous. Checkpoints converted from TensorFlow
/// or Flax name tensors like paths (`bert/encoder/layer_0/attention/self/query/kernel`),
/// so `/` separates non-empty segments other than `.` and `..`; a directory of one file
/// per tensor refuses such names ([`names_a_file`]).
pub fn validate_name(name: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/');
    let ok_segments = name
        .split('/')
        .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    if name.is_empty()
        || name.len() > 200
        || name.starts_with('.')
        || !name.chars().all(ok_char)
        || !ok_segments
    {
        return Err(crate::error::Error::Usage(format!(
            "invalid tensor name '{}': use 1-200 letters, digits, '_', '-', '.' or '/' \
             between non-empty path segments, not starting with '.'",
            crate::text::bound_to(&crate::text::escape_control(name), 60)
        )));
    }
    Ok(())
}

/// Whether `name` can be a file name by itself (no `/`), as a directory of one file per
/// tensor needs.
pub fn names_a_file(name: &str) -> bool {
    !name.contains('/')
}

/// What the user asked for, for one tensor. The output bytes are a pure function of
/// these fields.
#[derive(Debug, Clone)]
pub struct TensorSpec {
    /// Enters the key derivation: two tensors with the same seed and name get the same
    /// stream.
    pub name: String,
    pub shape: Shape,
    pub layout: Layout,
    pub scheme: SchemeSpec,
    pub dtype: DType,
    pub seed: u64,
    pub rng: RngMode,
    /// With `--rng jax`: JAX's flags and the tensor's key (unused by other streams).
    pub jax: crate::tensor::rng::JaxStream,
}

/// A spec whose scheme has been resolved against its shape.
#[derive(Debug, Clone)]
pub struct ResolvedTensor {
    pub spec: TensorSpec,
    pub resolved: Resolved,
    /// A row (first-axis index) stored as zeros whatever the law draws there: an
    /// embedding's padding row, as PyTorch's `nn.Embedding(padding_idx=…)` and
    /// transformers' `_init_weights` leave it. Every other value is the law's draw,
    /// unchanged (the stream does not skip the row).
    pub zero_row: Option<usize>,
    /// `--hf-config --rng torch`: where the values start in transformers' run of
    /// draws, when they are not the run generator's next ones.
    pub torch_replay: Option<std::sync::Arc<crate::tensor::rng::TorchReplay>>,
}

impl ResolvedTensor {
    /// The 2-D view (rows, cols) matrix schemes work on; see
    /// [`crate::array::fan::matrix_view`].
    pub fn matrix_view(&self) -> (usize, usize) {
        crate::array::fan::matrix_view(self.spec.shape.dims(), self.spec.layout)
    }

    /// Bytes of the raw data (without any file header).
    pub fn data_bytes(&self) -> u64 {
        self.spec.shape.len() as u64 * self.spec.dtype.size() as u64
    }
}

/// Metadata of one generated tensor, serialized in this field order.
#[derive(Debug, Clone, Serialize)]
pub struct TensorMeta {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub layout: Layout,
    /// Canonical spec, e.g. `he-normal:mode=fan-out`; parses back to the same scheme.
    pub scheme: String,
    pub scheme_name: &'static str,
    pub params: serde_json::Value,
    pub fan_in: Option<usize>,
    pub fan_out: Option<usize>,
    pub receptive_field: Option<usize>,
    pub gain: Option<f64>,
    pub fan_mode: Option<&'static str>,
    pub fan: Option<f64>,
    /// The resolved law, with every number filled in.
    pub distribution: crate::law::Distribution,
    /// Standard deviation of one element, for elementwise schemes.
    pub std: Option<f64>,
    /// Half-width of a symmetric uniform law.
    pub bound: Option<f64>,
    pub seed: u64,
    pub rng: RngMode,
    pub stream: &'static str,
    /// For framework streams: the code computing the values as `w` from the run's
    /// generator `rng` (see [`ResolvedTensor::equivalent`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equivalent: Option<String>,
    pub generator: &'static str,
}
