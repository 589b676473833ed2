//! Drawing one `--rng jax` tensor: its key from the seed and the tensor's
//! [`crate::tensor::rng::JaxStream`] settings ([`key_of`]), then its values block by block, each block split
//! across threads — every element is a pure function of key, shape and index — and
//! handed to the sink in order.

use half::{bf16, f16};
use rayon::prelude::*;

use super::flax;
use super::kernels::{self, Law};
use super::key::JaxKey;
use super::mapping::{JaxDraw, KerasSampler};
use crate::array::TensorSink;
use crate::array::dtype::{DType, Element};
use crate::array::geometry::centre_channels;
use crate::check::Generated;
use crate::draw::engine::write_whole;
use crate::draw::matrix::orthogonal_from;
use crate::error::Result;
use crate::tensor::rng::{JaxKeyPath, JaxKeyStep};
use crate::tensor::{ResolvedTensor, TensorSpec};

/// Elements one thread draws at a time.
const CHUNK: usize = 1 << 16;

/// The key the tensor is drawn with: `jax.random.key(seed)` (as JAX forms it with or
/// without x64) taken down the tensor's key path.
pub fn key_of(spec: &TensorSpec) -> JaxKey {
    let stream = &spec.jax;
    if spec.rng == crate::tensor::rng::RngMode::Keras {
        // Keras' `draw_seed(seed)`: `convert_to_tensor([seed, 0], "uint32")`, the raw key
        // data handed to jax.random as is (the CLI refuses seeds ≥ 2³²).
        return JaxKey([spec.seed as u32, 0]);
    }
    let root = JaxKey::from_seed(spec.seed, super::mapping::x64(spec));
    let split =
        |key: JaxKey, count: usize, index: usize| key.split_one(count, index, stream.partitionable);
    match &stream.key {
        JaxKeyPath::Root => root,
        JaxKeyPath::Split { count, index } => split(root, *count, *index),
        JaxKeyPath::Flax { path, counter } => {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            flax::param_key(root, &path, *counter, false)
        }
        JaxKeyPath::Steps(steps) => steps.iter().fold(root, |key, step| match *step {
            JaxKeyStep::Split { count, index } => split(key, count, index),
            JaxKeyStep::FoldIn(data) => key.fold_in(data),
        }),
    }
}

/// A dtype JAX draws: how `draw` fills elements `start..` of a tensor of `shape`.
pub trait JaxElement: Element {
    fn fill(
        draw: &JaxDraw,
        key: JaxKey,
        shape: &[usize],
        partitionable: bool,
        start: usize,
        out: &mut [Self],
    );
}

macro_rules! jax_element {
    ($t:ty, $init_fill:ident, $kernel_fill:ident, $from_f64:expr) => {
        impl JaxElement for $t {
            fn fill(
                draw: &JaxDraw,
                key: JaxKey,
                shape: &[usize],
                partitionable: bool,
                start: usize,
                out: &mut [$t],
            ) {
                match draw {
                    JaxDraw::Init(init) => init.$init_fill(key, shape, partitionable, start, out),
                    JaxDraw::Keras {
                        sampler,
                        stddev,
                        mean,
                        ..
                    } => {
                        let convert = $from_f64;
                        let law = match *sampler {
                            KerasSampler::Normal => Law::Normal,
                            KerasSampler::TruncatedNormal => Law::TruncatedNormal {
                                lower: convert(-2.0),
                                upper: convert(2.0),
                            },
                            KerasSampler::Uniform { minval, maxval } => Law::Uniform {
                                minval: convert(minval),
                                maxval: convert(maxval),
                            },
                        };
                        kernels::$kernel_fill(key, shape, partitionable, law, start, out);
                        // `sample * stddev + mean`: two eager operations, each rounded.
                        if let Some(s) = stddev {
                            let s = convert(*s);
                            out.iter_mut().for_each(|x| *x *= s);
                        }
                        if let Some(m) = mean {
                            let m = convert(*m);
                            out.iter_mut().for_each(|x| *x += m);
                        }
                    }
                    JaxDraw::Orthogonal { .. } | JaxDraw::DeltaOrthogonal { .. } => {
                        kernels::$kernel_fill(key, shape, partitionable, Law::Normal, start, out)
                    }
                    JaxDraw::Uniform { minval, maxval } => {
                        let convert = $from_f64;
                        let law = Law::Uniform {
                            minval: convert(*minval),
                            maxval: convert(*maxval),
                        };
                        kernels::$kernel_fill(key, shape, partitionable, law, start, out)
                    }
                }
            }
        }
    };
}

// Python floats become the dtype as JAX converts them: float16 directly, bfloat16
// through float32.
jax_element!(f32, fill_f32, fill_f32, |x: f64| x as f32);
jax_element!(f64, fill_f64, fill_f64, |x: f64| x);
jax_element!(f16, fill_f16, fill_f16, f16::from_f64);
jax_element!(bf16, fill_bf16, fill_bf16, |x: f64| bf16::from_f32(
    x as f32
));

/// Draws `tensor` with `draw` (JAX's call, or Keras' on JAX) in the tensor's dtype.
pub(crate) fn draw_jax_in_dtype(
    tensor: &ResolvedTensor,
    draw: &JaxDraw,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
) -> Result<Generated> {
    match tensor.spec.dtype {
        DType::F32 => draw_jax::<f32>(tensor, draw, sink, label),
        DType::F64 => draw_jax::<f64>(tensor, draw, sink, label),
        DType::F16 => draw_jax::<f16>(tensor, draw, sink, label),
        DType::Bf16 => draw_jax::<bf16>(tensor, draw, sink, label),
    }
}

/// Draws `tensor` into `sink` (I/O errors against `label`).
pub(crate) fn draw_jax<E: JaxElement>(
    tensor: &ResolvedTensor,
    draw: &JaxDraw,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
) -> Result<Generated> {
    let draw = draw.clone();
    let key = key_of(&tensor.spec);
    let shape = tensor.spec.shape.dims().to_vec();
    let partitionable = tensor.spec.jax.partitionable;
    if let JaxDraw::Orthogonal { scale } | JaxDraw::DeltaOrthogonal { scale } = draw {
        let (values, check) = orthogonal::<E>(tensor, &draw, scale, key, partitionable)?;
        return write_whole(values, check, sink, label);
    }
    let mut offset = 0usize;
    crate::compat::sequential::generate_sequential::<E>(
        tensor,
        sink,
        label,
        |block: &mut [E], _, _| {
            let start = offset;
            block
                .par_chunks_mut(CHUNK)
                .enumerate()
                .for_each(|(i, chunk)| {
                    E::fill(&draw, key, &shape, partitionable, start + i * CHUNK, chunk)
                });
            offset += block.len();
        },
    )
}

/// `jax.random.orthogonal` as `jax.nn.initializers.orthogonal` calls it: the rows × cols
/// view with the columns along the last axis (for delta-orthogonal: the last two axes'
/// in × out matrix), JAX's normals of the tall orientation `(max, min)` drawn with the
/// tensor's key, then Q·sign(diag R) of their QR (ours: faer's, at the tensor's
/// precision, so the values agree to the QR's rounding), transposed when wide, × scale;
/// delta-orthogonal places it at the kernel's centre.
fn orthogonal<E: JaxElement>(
    tensor: &ResolvedTensor,
    draw: &JaxDraw,
    scale: f64,
    key: JaxKey,
    partitionable: bool,
) -> Result<(Vec<E>, Option<f64>)> {
    let dims = tensor.spec.shape.dims();
    let n: usize = dims.iter().product();
    let delta = matches!(draw, JaxDraw::DeltaOrthogonal { .. });
    let (rows, cols) = if delta {
        (dims[dims.len() - 2], dims[dims.len() - 1])
    } else {
        let cols = dims[dims.len() - 1];
        (n / cols.max(1), cols)
    };
    let (tall, narrow) = (rows.max(cols), rows.min(cols));
    let mut z = vec![E::default(); tall * narrow];
    E::fill(draw, key, &[tall, narrow], partitionable, 0, &mut z);
    let gaussian: Vec<f64> = z.iter().map(|x| x.to_f64()).collect();
    // The QR in f64, as for --rng torch: the exact factor of the drawn normals, from
    // which JAX's float32 LAPACK result differs by its own rounding only.
    let (q, check) = orthogonal_from::<E>(&gaussian, rows, cols, scale, DType::F64)?;
    if !delta {
        return Ok((q, check));
    }
    let (_, positions) = centre_channels(dims, tensor.spec.layout);
    let mut w = vec![E::default(); n];
    for (&at, value) in positions.iter().zip(q) {
        w[at] = value;
    }
    Ok((w, check))
}
