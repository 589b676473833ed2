//! One tensor to make: everything its bytes depend on ([`TensorSpec`]), its resolved law
//! ([`ResolvedTensor`]), and the metadata written with it; with the pieces of a tensor:
//! its [`Shape`], its [`Layout`] and fans (the one place axis conventions live) and its
//! [`DType`].

pub mod dtype;
pub mod fan;
pub mod shape;

pub use dtype::{DType, Element};
pub use fan::{Fans, Layout};
pub use shape::Shape;

use serde::Serialize;

use crate::draw::derive_key;
use crate::error::{Result, Unreproducible};
use crate::rng::RngMode;
use crate::scheme::{Resolved, SchemeSpec};

/// Identifies the native stream's contract version in every file's metadata.
pub const STREAM_CONTRACT: &str = "weightinit-native-v2";

/// The `stream` of `--rng numpy` tensors in their metadata.
pub const NUMPY_STREAM: &str = "numpy default_rng: SeedSequence -> PCG64, NumPy 2.x samplers";

/// The `stream` of `--rng torch` tensors in their metadata.
pub const TORCH_STREAM: &str = "torch.manual_seed: mt19937, PyTorch 2.x CPU kernels";

/// The `stream` of `--rng jax` tensors in their metadata (and with
/// `jax_threefry_partitionable` off).
pub const JAX_STREAM: &str =
    "jax.random.key: threefry2x32, jax_threefry_partitionable=True, JAX 0.10 CPU samplers";
pub const JAX_STREAM_ORIGINAL: &str =
    "jax.random.key: threefry2x32, jax_threefry_partitionable=False, JAX 0.10 CPU samplers";

/// The `stream` of `--rng keras` tensors in their metadata (and with
/// `jax_threefry_partitionable` off).
pub const KERAS_STREAM: &str = "keras.initializers(seed=SEED) on JAX: key data [SEED, 0], \
     threefry2x32, jax_threefry_partitionable=True, Keras 3.15 formulas";
pub const KERAS_STREAM_ORIGINAL: &str = "keras.initializers(seed=SEED) on JAX: key data \
     [SEED, 0], threefry2x32, jax_threefry_partitionable=False, Keras 3.15 formulas";

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
        return Err(crate::Error::Usage(format!(
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
    pub jax: crate::rng::JaxStream,
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
}

impl TensorSpec {
    /// Resolves the scheme; fails with a one-line reason when it does not apply.
    pub fn resolve(self) -> Result<ResolvedTensor> {
        let mut resolved = self.scheme.resolve(&self.shape, self.layout)?;
        check_representable(&self.scheme, &resolved.distribution, self.dtype)?;
        let refuse = |why: Unreproducible| crate::Error::Unreproducible {
            scheme: self.scheme.to_string(),
            rng: self.rng,
            why,
        };
        if matches!(self.rng, RngMode::Numpy | RngMode::Torch) && self.dtype.is_half() {
            return Err(refuse(Unreproducible::HalfPrecision(self.dtype)));
        }
        match self.rng {
            RngMode::Native => {}
            RngMode::Numpy => {
                crate::compat::numpy::law::supports(&resolved.distribution).map_err(refuse)?
            }
            RngMode::Torch => {
                crate::compat::torch::law::supports(&resolved.distribution).map_err(refuse)?;
                // Fans and the 2-D view of orthogonal/identity follow the layout.
                let uses_layout = resolved.fan.is_some()
                    || matches!(
                        resolved.distribution,
                        crate::law::Distribution::Orthogonal { .. }
                            | crate::law::Distribution::Identity { .. }
                            | crate::law::Distribution::Dirac { .. }
                            | crate::law::Distribution::Sparse { .. }
                    );
                if uses_layout
                    && self.shape.dims().len() >= 2
                    && self.layout != crate::tensor::fan::Layout::Oi
                {
                    return Err(refuse(Unreproducible::NotOiLayout));
                }
                resolved.distribution =
                    crate::compat::torch::law::torch_law(self.scheme.kind, &resolved);
            }
            RngMode::Jax | RngMode::Keras => {
                let draw = crate::compat::jax::law::draw_for(&self, &resolved).map_err(refuse)?;
                resolved.distribution = crate::compat::jax::law::law(&draw, self.shape.dims());
                check_representable(&self.scheme, &resolved.distribution, self.dtype)?;
            }
        }
        Ok(ResolvedTensor {
            spec: self,
            resolved,
            zero_row: None,
        })
    }
}

/// How far from the mean, in standard deviations, a normal's values are taken to reach
/// when checking that they fit the dtype: one value in 10⁹ lies beyond 6σ. (The native
/// stream's f32 path cannot go past 6.77σ, its f64 path past 9.50σ; the framework streams
/// have no hard limit.) A draw beyond it that still overflows is caught after drawing
/// ([`crate::generate`] refuses to commit a tensor holding ±inf).
pub const NORMAL_REACH: f64 = 6.0;

/// Refuses a law whose values cannot be stored in `dtype`: a constant, bound or gain
/// beyond the dtype's largest finite value, or a normal whose mean ± [`NORMAL_REACH`]σ
/// is. Without this, f16's 65504 limit turns `constant:value=70000` into a file of inf.
fn check_representable(
    scheme: &SchemeSpec,
    distribution: &crate::law::Distribution,
    dtype: DType,
) -> Result<()> {
    use crate::law::Distribution as D;
    if let D::TruncatedNormal {
        mean,
        std,
        low,
        high,
    } = *distribution
    {
        check_window_mass(scheme, (low - mean) / std, (high - mean) / std, dtype)?;
    }
    let reach = distribution.reach(NORMAL_REACH);
    let largest = crate::scheme::shortest(dtype.largest_finite());
    if crate::check::stored_value(dtype, reach).is_finite() {
        return Ok(());
    }
    let reach_text = if reach.is_finite() {
        crate::scheme::shortest(reach)
    } else {
        "beyond even f64's range".to_string()
    };
    let what = match distribution {
        D::Normal { .. } => format!(
            "its values reach {NORMAL_REACH} standard deviations from the mean, ±{reach_text}"
        ),
        _ => format!("its values reach {reach_text}"),
    };
    Err(crate::Error::Param(format!(
        "scheme '{scheme}' cannot be stored as {dtype}: {what}, beyond the largest finite \
         {dtype}, {largest}; use a wider dtype or smaller values"
    )))
}

/// Refuses a truncation window too far out for the dtype's arithmetic: the inverse CDF
/// works with the window's mass divided by 2³² (f32 path) or 2⁶⁴ (f64 path), which must
/// stay a normal number (see [`crate::draw::truncated`]).
fn check_window_mass(scheme: &SchemeSpec, alpha: f64, beta: f64, dtype: DType) -> Result<()> {
    use crate::draw::truncated::{MIN_MASS_F32, MIN_MASS_F64, Probabilities};
    let mass = Probabilities::of_window(alpha, beta).mass;
    let (least, least_text) = if dtype == DType::F64 {
        (MIN_MASS_F64, "2^-360")
    } else {
        (MIN_MASS_F32, "2^-90")
    };
    if mass >= least {
        return Ok(());
    }
    Err(crate::Error::Param(format!(
        "scheme '{scheme}' truncates to a window holding {} of the normal's mass; {dtype} \
         draws need at least {least_text} ({}); move the bounds toward the mean{}",
        crate::text::num(mass),
        crate::text::num(least),
        if dtype == DType::F64 {
            ""
        } else {
            " or use --dtype f64"
        }
    )))
}

impl ResolvedTensor {
    /// For a framework stream, the framework code that computes this tensor's values as
    /// `w` (for `--rng numpy`: given `rng = np.random.default_rng(seed)`, from which the
    /// run's earlier tensors were drawn first).
    pub fn equivalent(&self) -> Option<String> {
        match self.spec.rng {
            RngMode::Native => None,
            RngMode::Numpy => Some(crate::compat::numpy::law::expression(
                &self.resolved.distribution,
                self.spec.dtype,
                self.spec.shape.dims(),
                fan::matrix_view(self.spec.shape.dims(), self.spec.layout),
                self.spec.layout,
            )),
            RngMode::Torch => Some(crate::compat::torch::law::expression(
                &self.resolved.distribution,
                self.spec.dtype,
                self.spec.shape.dims(),
            )),
            RngMode::Jax | RngMode::Keras => {
                crate::compat::jax::law::draw_for(&self.spec, &self.resolved)
                    .ok()
                    .map(|draw| crate::compat::jax::law::expression(&draw, &self.spec))
            }
        }
    }

    /// The ChaCha8 key of this tensor's native stream.
    pub fn key(&self) -> [u8; 32] {
        derive_key(self.spec.seed, &self.spec.name)
    }

    /// Bytes of the raw data (without any file header).
    pub fn data_bytes(&self) -> u64 {
        self.spec.shape.len() as u64 * self.spec.dtype.size() as u64
    }

    /// The metadata recorded in JSON output, manifests and reports.
    pub fn meta(&self) -> TensorMeta {
        let s = &self.spec;
        let r = &self.resolved;
        let theory = r.distribution.theory();
        TensorMeta {
            name: s.name.clone(),
            shape: s.shape.dims().to_vec(),
            dtype: s.dtype,
            layout: s.layout,
            scheme: s.scheme.to_string(),
            scheme_name: s.scheme.name(),
            params: s.scheme.params.to_json(),
            fan_in: r.fans.map(|f| f.fan_in),
            fan_out: r.fans.map(|f| f.fan_out),
            receptive_field: r.fans.map(|f| f.receptive_field),
            gain: r.gain,
            fan_mode: r.fan_mode.map(|m| m.name()),
            fan: r.fan,
            distribution: r.distribution,
            std: theory.map(|t| t.std),
            bound: match r.distribution {
                crate::law::Distribution::Uniform { low, high } if low == -high => Some(high),
                _ => None,
            },
            seed: s.seed,
            rng: s.rng,
            stream: match s.rng {
                RngMode::Native => STREAM_CONTRACT,
                RngMode::Numpy => NUMPY_STREAM,
                RngMode::Torch => TORCH_STREAM,
                RngMode::Jax if s.jax.partitionable => JAX_STREAM,
                RngMode::Jax => JAX_STREAM_ORIGINAL,
                RngMode::Keras if s.jax.partitionable => KERAS_STREAM,
                RngMode::Keras => KERAS_STREAM_ORIGINAL,
            },
            equivalent: self.equivalent(),
            generator: concat!("weightinit ", env!("CARGO_PKG_VERSION")),
        }
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
