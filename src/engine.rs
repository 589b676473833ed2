//! Drawing a tensor: blocks of [`BLOCK_LEN`] elements, made in parallel with rayon and
//! handed to the sink in order, with statistics merged in the same order.
//!
//! Memory stays bounded for elementwise schemes: at most one batch of blocks (two per
//! worker thread) is alive at a time, whatever the tensor's size. Orthogonal and identity
//! matrices are built whole (QR needs the matrix) and then streamed the same way.

use rayon::prelude::*;

use crate::distribution::Distribution;
use crate::error::{Error, Result};
use crate::output::{TensorSink, Values};
use crate::rng::numpy::Pcg64;
use crate::rng::torch::CpuGenerator;
use crate::rng::{BLOCK_LEN, BlockStream, RngMode};
use crate::sample::{self, DType, Element, Sampler, orthogonal};
use crate::stats::Stats;
use crate::tensor::ResolvedTensor;

/// Blocks drawn per worker thread between two writes: enough to keep every thread busy
/// while the writer works, few enough that memory stays small (2 batches × 4 blocks ×
/// 256 KiB per thread for f32).
const BLOCKS_PER_THREAD: usize = 4;

/// Cap on one batch, so many-core machines stay within the memory bound too
/// (two batches alive: at most 32 MiB).
const MAX_BATCH_BYTES: usize = 16 << 20;

/// What drawing a tensor measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Generated {
    pub stats: Stats,
    /// max |WᵀW/gain² − I| of the stored values, for orthogonal tensors.
    pub orthogonality_error: Option<f64>,
}

/// What lasts across the tensors of one run: the framework generators. Like the script
/// it mirrors, `--rng numpy` creates `np.random.default_rng(seed)` once (and `--rng
/// torch` calls `torch.manual_seed(seed)` once) and draws every tensor from it in order;
/// a tensor with a different seed starts a new generator.
#[derive(Debug, Default)]
pub struct Session {
    numpy: Option<(u64, Pcg64)>,
    torch: Option<(u64, CpuGenerator)>,
}

impl Session {
    pub fn new() -> Self {
        Self::default()
    }

    /// Draws `tensor` into `sink` with the tensor's random stream (see [`generate`]).
    pub fn generate(
        &mut self,
        tensor: &ResolvedTensor,
        sink: &mut (dyn TensorSink + Send),
        label: &str,
    ) -> Result<Generated> {
        check_memory(tensor)?;
        let generated = match tensor.spec.rng {
            RngMode::Native => generate(tensor, sink, label),
            RngMode::Numpy => {
                let rng = seeded(&mut self.numpy, tensor.spec.seed, Pcg64::new);
                match tensor.spec.dtype {
                    DType::F32 => generate_numpy::<f32>(tensor, sink, label, rng),
                    DType::F64 => generate_numpy::<f64>(tensor, sink, label, rng),
                    DType::F16 | DType::Bf16 => Err(half_refused(tensor)),
                }
            }
            RngMode::Torch => {
                let rng = seeded(&mut self.torch, tensor.spec.seed, CpuGenerator::new);
                match tensor.spec.dtype {
                    DType::F32 => generate_torch::<f32>(tensor, sink, label, rng),
                    DType::F64 => generate_torch::<f64>(tensor, sink, label, rng),
                    DType::F16 | DType::Bf16 => Err(half_refused(tensor)),
                }
            }
        }?;
        finite_or_refused(tensor, generated)
    }
}

/// The run's generator in `slot`, created from `seed` unless it already was.
fn seeded<G>(slot: &mut Option<(u64, G)>, seed: u64, new: impl FnOnce(u64) -> G) -> &mut G {
    if slot.as_ref().is_none_or(|(s, _)| *s != seed) {
        *slot = Some((seed, new(seed)));
    }
    &mut slot.as_mut().expect("generator just set").1
}

/// Draws `tensor` into `sink` from the native stream. I/O errors are reported against
/// `label` (a path or `<stdout>`). Parallelism comes from the current rayon pool.
pub fn generate(
    tensor: &ResolvedTensor,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
) -> Result<Generated> {
    check_memory(tensor)?;
    let generated = match tensor.spec.dtype {
        DType::F32 => generate_typed::<f32>(tensor, sink, label),
        DType::F64 => generate_typed::<f64>(tensor, sink, label),
        DType::F16 => generate_typed::<half::f16>(tensor, sink, label),
        DType::Bf16 => generate_typed::<half::bf16>(tensor, sink, label),
    }?;
    finite_or_refused(tensor, generated)
}

/// The last guard against overflow: resolution refuses laws that reach past the dtype
/// ([`crate::tensor::NORMAL_REACH`]), and a draw beyond that reach which still rounds to
/// ±inf fails the tensor here, before its file is committed.
fn finite_or_refused(tensor: &ResolvedTensor, generated: Generated) -> Result<Generated> {
    let s = &generated.stats;
    if s.count == 0 || (s.min.is_finite() && s.max.is_finite()) {
        return Ok(generated);
    }
    Err(Error::Param(format!(
        "tensor '{}' drew a value beyond the largest finite {} (min {}, max {}); use a \
         wider dtype or a smaller scale",
        crate::text::bound_to(&crate::text::escape_control(&tensor.spec.name), 60),
        tensor.spec.dtype,
        s.min,
        s.max
    )))
}

/// Bytes that generating `tensor` holds in memory at once beyond the fixed block buffers
/// of streaming (None if the count overflows): 0 for elementwise laws, which stream;
/// the whole tensor for laws built as one matrix; PyTorch's truncated normal keeps the
/// tensor, a redraw of it and the indices still outside the window.
///
/// Orthogonal's figure counts the Gaussian matrix, faer's QR copy and factor, Q, the
/// stored values and the f64 copy and Gram input of the orthogonality check.
pub fn memory_needed(tensor: &ResolvedTensor) -> Option<u64> {
    let elements = tensor.spec.shape.len() as u64;
    let element = tensor.spec.dtype.size() as u64;
    let per_element = match (tensor.resolved.distribution, tensor.spec.rng) {
        (Distribution::Orthogonal { .. }, _) => 6 * 8 + element,
        (Distribution::Identity { .. }, _) => element,
        (Distribution::TruncatedNormal { .. }, RngMode::Torch) => 2 * element + 8,
        _ => return Some(0),
    };
    elements.checked_mul(per_element)
}

/// Refuses, before anything is allocated, a tensor whose generation would hold more in
/// memory than the budget ([`crate::budget`]) allows.
pub fn check_memory(tensor: &ResolvedTensor) -> Result<()> {
    let needed = memory_needed(tensor);
    if needed == Some(0) {
        return Ok(());
    }
    let what = format!(
        "tensor '{}' ({} {} {}, built whole in memory)",
        crate::text::bound_to(&crate::text::escape_control(&tensor.spec.name), 60),
        tensor.spec.scheme.name(),
        crate::text::bound_to(&tensor.spec.shape.to_string(), 60),
        tensor.spec.dtype
    );
    crate::budget::check(needed, &what)
}

/// Framework streams are reproduced for f32 and f64 only (resolution refuses the rest
/// first; this is the engine's own guard).
fn half_refused(tensor: &ResolvedTensor) -> Error {
    Error::Usage(format!(
        "--rng {} is reproduced for f32 and f64, not {}",
        tensor.spec.rng, tensor.spec.dtype
    ))
}

/// Wraps the element slice for the sink.
trait AsValues: Element {
    fn values(xs: &[Self]) -> Values<'_>;
}
impl AsValues for f32 {
    fn values(xs: &[f32]) -> Values<'_> {
        Values::F32(xs)
    }
}
impl AsValues for f64 {
    fn values(xs: &[f64]) -> Values<'_> {
        Values::F64(xs)
    }
}
impl AsValues for half::f16 {
    fn values(xs: &[half::f16]) -> Values<'_> {
        Values::F16(xs)
    }
}
impl AsValues for half::bf16 {
    fn values(xs: &[half::bf16]) -> Values<'_> {
        Values::Bf16(xs)
    }
}

fn generate_typed<E: AsValues>(
    tensor: &ResolvedTensor,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
) -> Result<Generated> {
    let io_err = |e| Error::io(label, e);
    let n = tensor.spec.shape.len();
    let key = tensor.key();
    let mut generated = Generated {
        stats: Stats::default(),
        orthogonality_error: None,
    };
    if let Some(sampler) = Sampler::new(&tensor.resolved.distribution) {
        let blocks = n.div_ceil(BLOCK_LEN);
        let block_bytes = BLOCK_LEN * std::mem::size_of::<E>();
        let batch = (BLOCKS_PER_THREAD * rayon::current_num_threads().max(1))
            .min(MAX_BATCH_BYTES / block_bytes)
            .max(1);
        // Block buffers are recycled: fresh 256 KiB allocations would cost a page fault
        // per page and a memset each time.
        let spare: std::sync::Mutex<Vec<Vec<E>>> = std::sync::Mutex::new(Vec::new());
        let draw_batch = |first: usize| -> Vec<(Vec<E>, Stats)> {
            let last = (first + batch).min(blocks);
            (first..last)
                .into_par_iter()
                .map(|b| {
                    let len = BLOCK_LEN.min(n - b * BLOCK_LEN);
                    let recycled = spare.lock().map(|mut s| s.pop()).unwrap_or(None);
                    let mut buf = recycled.unwrap_or_default();
                    buf.resize(len, E::default());
                    sampler.fill(&key, b as u64, &mut buf);
                    let stats = Stats::of_slice(&buf);
                    (buf, stats)
                })
                .collect()
        };
        // Pipeline: while this thread writes batch k (in order), the pool draws batch
        // k+1. At most two batches are alive, so memory does not grow with the tensor.
        let mut ready = draw_batch(0);
        let mut next_first = batch;
        loop {
            let more = next_first < blocks;
            let totals = &mut generated.stats;
            let (written, upcoming) = rayon::join(
                || -> std::io::Result<()> {
                    for (buf, block_stats) in &ready {
                        sink.write_values(E::values(buf))?;
                        // Block by block, in order: the same floating-point sums for
                        // every batch size, so the report does not depend on --threads.
                        totals.merge(block_stats);
                    }
                    Ok(())
                },
                || more.then(|| draw_batch(next_first)),
            );
            written.map_err(io_err)?;
            let Some(batch_made) = upcoming else { break };
            let done = std::mem::replace(&mut ready, batch_made);
            if let Ok(mut spare) = spare.lock() {
                spare.extend(done.into_iter().map(|(buf, _)| buf));
            }
            next_first += batch;
        }
    } else {
        let (values, check) = whole_matrix::<E>(tensor)?;
        return write_whole(values, check, sink, label);
    }
    sink.finish().map_err(io_err)?;
    Ok(generated)
}

/// The 2-D view (rows, cols) of a weight tensor for matrix schemes; see
/// [`crate::fan::matrix_view`].
pub fn matrix_view(tensor: &ResolvedTensor) -> (usize, usize) {
    crate::fan::matrix_view(tensor.spec.shape.dims(), tensor.spec.layout)
}

/// Builds an orthogonal or identity matrix whole from the native stream; returns it with
/// the orthogonality error measured on the stored (rounded) values.
fn whole_matrix<E: Element>(tensor: &ResolvedTensor) -> Result<(Vec<E>, Option<f64>)> {
    let (rows, cols) = matrix_view(tensor);
    let (tall, narrow) = (rows.max(cols), rows.min(cols));
    match tensor.resolved.distribution {
        Distribution::Orthogonal { gain } => {
            let gaussian = gaussian_matrix::<E>(&tensor.key(), tall * narrow);
            orthogonal_from(&gaussian, rows, cols, gain, E::DTYPE)
        }
        other => matrix_without_randomness(&other, rows, cols),
    }
}

/// The identity matrix (no randomness), or an error for any other law.
fn matrix_without_randomness<E: Element>(
    distribution: &Distribution,
    rows: usize,
    cols: usize,
) -> Result<(Vec<E>, Option<f64>)> {
    match *distribution {
        Distribution::Identity { gain } => {
            let mut w = vec![E::default(); rows * cols];
            for i in 0..rows.min(cols) {
                w[i * cols + i] = E::from_f64(gain);
            }
            Ok((w, None))
        }
        other => Err(Error::Numerical(format!(
            "{other:?} is not a matrix construction without randomness"
        ))),
    }
}

/// `gain ·` the orthonormal factor of `gaussian` (the tall orientation, `max(rows, cols)
/// x min(rows, cols)` row-major), transposed back for a wide matrix; the QR runs at
/// `precision`. Returns the stored values and their orthogonality error.
fn orthogonal_from<E: Element>(
    gaussian: &[f64],
    rows: usize,
    cols: usize,
    gain: f64,
    precision: DType,
) -> Result<(Vec<E>, Option<f64>)> {
    let (tall, narrow) = (rows.max(cols), rows.min(cols));
    let q = orthogonal::orthonormal_columns(gaussian, tall, narrow, precision)?;
    let mut w = vec![E::default(); rows * cols];
    if rows >= cols {
        for (out, &x) in w.iter_mut().zip(&q) {
            *out = E::from_f64(gain * x);
        }
    } else {
        // Wide matrix: the transpose of a tall orthonormal-column matrix.
        for i in 0..rows {
            for j in 0..cols {
                w[i * cols + j] = E::from_f64(gain * q[j * narrow + i]);
            }
        }
    }
    let stored: Vec<f64> = w.iter().map(|x| x.to_f64()).collect();
    let error = orthogonal::orthogonality_error(&stored, rows, cols, gain);
    Ok((w, Some(error)))
}

/// An elementwise tensor from a sequential framework generator: `fill(block, total,
/// last)` draws the next values in order. One block is drawn while the previous one is
/// written; the generator is sequential, so drawing itself cannot be split.
///
/// Blocks hold [`BLOCK_LEN`] elements (a multiple of 16), except that a remainder of
/// fewer than 16 joins the block before it: PyTorch's `normal_` redraws the last 16
/// values of a tensor whose size is not a multiple of 16, and they must all be in the
/// last block.
fn generate_sequential<E: AsValues>(
    tensor: &ResolvedTensor,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
    mut fill: impl FnMut(&mut [E], usize, bool) + Send,
) -> Result<Generated> {
    let io_err = |e| Error::io(label, e);
    let mut stats = Stats::default();
    let n = tensor.spec.shape.len();
    let block_after = |done: usize| {
        let rest = n - done;
        if rest < BLOCK_LEN + 16 {
            rest
        } else {
            BLOCK_LEN
        }
    };
    let first = block_after(0);
    let mut current = vec![E::default(); first];
    fill(&mut current, n, first == n);
    let mut done = current.len();
    let mut next = Vec::with_capacity(current.len());
    loop {
        let next_len = block_after(done);
        next.resize(next_len, E::default());
        let last = done + next_len == n;
        let (written, ()) = rayon::join(
            || -> std::io::Result<()> {
                sink.write_values(E::values(&current))?;
                stats.merge(&Stats::of_slice(&current));
                Ok(())
            },
            || {
                if next_len > 0 {
                    fill(&mut next, n, last)
                }
            },
        );
        written.map_err(io_err)?;
        if next_len == 0 {
            break;
        }
        std::mem::swap(&mut current, &mut next);
        done += next_len;
    }
    sink.finish().map_err(io_err)?;
    Ok(Generated {
        stats,
        orthogonality_error: None,
    })
}

/// `--rng torch`: the tensor as `torch.nn.init` fills it after the run's earlier tensors.
fn generate_torch<E: AsValues>(
    tensor: &ResolvedTensor,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
    rng: &mut CpuGenerator,
) -> Result<Generated> {
    let distribution = tensor.resolved.distribution;
    if let Distribution::TruncatedNormal {
        mean,
        std,
        low,
        high,
    } = distribution
    {
        // trunc_normal_ (PyTorch 2.15, window holding > 30%): normal_ on the whole
        // tensor; while values lie outside [a, b] (bounds rounded to the dtype), a whole
        // new normal_ tensor replaces them. Needs the tensor in memory, as PyTorch does.
        let n = tensor.spec.shape.len();
        let normal = Distribution::Normal { mean, std };
        let (lo, hi) = (E::from_f64(low).to_f64(), E::from_f64(high).to_f64());
        let outside = |x: E| x.to_f64() < lo || x.to_f64() > hi;
        let mut values = vec![E::default(); n];
        sample::torch::fill(rng, &normal, &mut values, n, true);
        let mut pending: Vec<usize> = (0..n).filter(|&i| outside(values[i])).collect();
        let mut fresh = Vec::new();
        while !pending.is_empty() {
            fresh.resize(n, E::default());
            sample::torch::fill(rng, &normal, &mut fresh, n, true);
            pending.retain(|&i| {
                values[i] = fresh[i];
                outside(values[i])
            });
        }
        return write_whole(values, None, sink, label);
    }
    if distribution.is_elementwise() {
        return generate_sequential::<E>(tensor, sink, label, |out, total, last| {
            sample::torch::fill(rng, &distribution, out, total, last)
        });
    }
    let (rows, cols) = matrix_view(tensor);
    let (values, check) = match distribution {
        Distribution::Orthogonal { gain } => {
            // orthogonal_: flattened = new_empty((rows, cols)).normal_(0, 1), transposed
            // when wide, then QR. PyTorch's is LAPACK's at the tensor's precision; ours
            // runs in f64, which lands closer to PyTorch's float32 result than an f32 QR
            // (measured at 512²: 1.0e-6 vs 1.3e-6), the gap being PyTorch's own rounding.
            let n = rows * cols;
            let standard = Distribution::Normal {
                mean: 0.0,
                std: 1.0,
            };
            let mut drawn = vec![E::default(); n];
            sample::torch::fill(rng, &standard, &mut drawn, n, true);
            let drawn: Vec<f64> = drawn.iter().map(|x| x.to_f64()).collect();
            let tall = tall_orientation(drawn, rows, cols);
            orthogonal_from::<E>(&tall, rows, cols, gain, DType::F64)?
        }
        other => matrix_without_randomness(&other, rows, cols)?,
    };
    write_whole(values, check, sink, label)
}

/// Streams a matrix built whole to `sink`, with its statistics.
fn write_whole<E: AsValues>(
    values: Vec<E>,
    orthogonality_error: Option<f64>,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
) -> Result<Generated> {
    let io_err = |e| Error::io(label, e);
    let mut stats = Stats::default();
    for chunk in values.chunks(BLOCK_LEN) {
        sink.write_values(E::values(chunk)).map_err(io_err)?;
        stats.merge(&Stats::of_slice(chunk));
    }
    sink.finish().map_err(io_err)?;
    Ok(Generated {
        stats,
        orthogonality_error,
    })
}

/// `--rng numpy`: the tensor drawn from NumPy's generator in NumPy's order. Elementwise
/// laws stream (one block drawn while the previous one is written; the generator is
/// sequential, so drawing itself cannot be split); orthogonal follows NumPy's QR recipe.
fn generate_numpy<E: AsValues>(
    tensor: &ResolvedTensor,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
    rng: &mut Pcg64,
) -> Result<Generated> {
    let distribution = tensor.resolved.distribution;
    if distribution.is_elementwise() {
        return generate_sequential::<E>(tensor, sink, label, |out, _, _| {
            sample::numpy::fill(rng, &distribution, out)
        });
    }
    let (rows, cols) = matrix_view(tensor);
    let (values, check) = match distribution {
        Distribution::Orthogonal { gain } => {
            // a = rng.standard_normal((rows, cols)), transposed when wide.
            let drawn = sample::numpy::standard_normals_f64(rng, rows * cols);
            let tall = tall_orientation(drawn, rows, cols);
            orthogonal_from::<E>(&tall, rows, cols, gain, DType::F64)?
        }
        other => matrix_without_randomness(&other, rows, cols)?,
    };
    write_whole(values, check, sink, label)
}

/// A row-major `rows x cols` matrix in its tall orientation (transposed when wide), as
/// the frameworks' orthogonal recipes factor it.
fn tall_orientation(drawn: Vec<f64>, rows: usize, cols: usize) -> Vec<f64> {
    if rows >= cols {
        return drawn;
    }
    let mut t = vec![0.0; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            t[j * rows + i] = drawn[i * cols + j];
        }
    }
    t
}

/// `len` standard normals in the native block layout (the same stream an elementwise
/// `normal` tensor of that size would use).
fn gaussian_matrix<E: Element>(key: &[u8; 32], len: usize) -> Vec<f64> {
    let mut out = vec![0.0; len];
    out.par_chunks_mut(BLOCK_LEN)
        .enumerate()
        .for_each(|(b, chunk)| {
            let mut rng = BlockStream::new(key, b as u64);
            for x in chunk.iter_mut() {
                *x = E::standard_normal(&mut rng);
            }
        });
    out
}

/// A sink that keeps the values in memory, for library users and tests.
struct VecSink<E> {
    values: Vec<E>,
}

impl<E: Element> TensorSink for VecSink<E> {
    fn write_values(&mut self, values: Values<'_>) -> std::io::Result<()> {
        self.values
            .extend((0..values.len()).map(|i| E::from_f64(values.get_f64(i))));
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Draws `tensor` into memory as an n-dimensional array in its shape (a fresh
/// [`Session`]: a `--rng numpy` tensor starts its own generator).
///
/// `E` must match the tensor's dtype (`f32` for [`DType::F32`], `f64` for
/// [`DType::F64`]), so the values are exactly those a file would hold.
pub fn draw_array<E: Element>(tensor: &ResolvedTensor) -> Result<(ndarray::ArrayD<E>, Generated)> {
    Session::new().draw_array(tensor)
}

impl Session {
    /// [`draw_array`] within this session: framework generators continue from the
    /// tensors drawn before.
    pub fn draw_array<E: Element>(
        &mut self,
        tensor: &ResolvedTensor,
    ) -> Result<(ndarray::ArrayD<E>, Generated)> {
        if E::DTYPE != tensor.spec.dtype {
            return Err(Error::Usage(format!(
                "tensor '{}' is {}, but an array of {} was requested",
                tensor.spec.name,
                tensor.spec.dtype,
                E::DTYPE
            )));
        }
        let n = tensor.spec.shape.len();
        let whole = crate::budget::elements(n, std::mem::size_of::<E>())
            .and_then(|b| b.checked_add(memory_needed(tensor)?));
        crate::budget::check(
            whole,
            &format!(
                "an array of tensor '{}' ({} {})",
                crate::text::bound_to(&crate::text::escape_control(&tensor.spec.name), 60),
                tensor.spec.shape,
                tensor.spec.dtype
            ),
        )?;
        let mut sink = VecSink {
            values: Vec::with_capacity(n),
        };
        let generated = self.generate(tensor, &mut sink, "<memory>")?;
        let array = ndarray::ArrayD::from_shape_vec(tensor.spec.shape.dims(), sink.values)
            .map_err(|e| Error::Numerical(format!("array shape: {e}")))?;
        Ok((array, generated))
    }
}
