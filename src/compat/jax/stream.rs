//! Drawing one `--rng jax` tensor: its key from the seed and the tensor's
//! [`JaxStream`] settings ([`key_of`]), then its values block by block, each block split
//! across threads — every element is a pure function of key, shape and index — and
//! handed to the sink in order.

use half::{bf16, f16};
use rayon::prelude::*;

use super::flax;
use super::kernels::{self, Law};
use super::key::JaxKey;
use super::law::{JaxDraw, draw_for};
use crate::draw::Generated;
use crate::error::{Error, Result};
use crate::output::TensorSink;
use crate::rng::{JaxKeyPath, JaxKeyStep};
use crate::tensor::dtype::Element;
use crate::tensor::{ResolvedTensor, TensorSpec};

/// Elements one thread draws at a time.
const CHUNK: usize = 1 << 16;

/// The key the tensor is drawn with: `jax.random.key(seed)` (as JAX forms it with or
/// without x64) taken down the tensor's key path.
pub fn key_of(spec: &TensorSpec) -> JaxKey {
    let stream = &spec.jax;
    let root = JaxKey::from_seed(spec.seed, super::law::x64(spec));
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

/// Draws `tensor` into `sink` (I/O errors against `label`).
pub(crate) fn generate<E: JaxElement>(
    tensor: &ResolvedTensor,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
) -> Result<Generated> {
    let draw = draw_for(&tensor.spec, &tensor.resolved).map_err(|why| Error::Unreproducible {
        scheme: tensor.spec.scheme.to_string(),
        rng: tensor.spec.rng,
        why,
    })?;
    let key = key_of(&tensor.spec);
    let shape = tensor.spec.shape.dims().to_vec();
    let partitionable = tensor.spec.jax.partitionable;
    let mut offset = 0usize;
    super::super::generate_sequential::<E>(tensor, sink, label, |block: &mut [E], _, _| {
        let start = offset;
        block
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(i, chunk)| {
                E::fill(&draw, key, &shape, partitionable, start + i * CHUNK, chunk)
            });
        offset += block.len();
    })
}
