//! Drawing a tensor on the native stream: blocks of [`BLOCK_LEN`] elements, made in
//! parallel with rayon and handed to the sink in order, with statistics merged in the
//! same order.
//!
//! Memory stays bounded for elementwise schemes: at most one batch of blocks (two per
//! worker thread) is alive at a time, whatever the tensor's size. Orthogonal and identity
//! matrices are built whole (QR needs the matrix) and then streamed the same way.

use rayon::prelude::*;

use super::block::BLOCK_LEN;
use super::keystream::{Keystream, key_of};
use super::matrix::{matrix_without_randomness, orthogonal_from};
use super::sampler::{DrawElement, Sampler};
use crate::array::TensorSink;
use crate::array::dtype::Element;
use crate::array::geometry::{OutputBlocks, centre_channels};
use crate::check::Generated;
use crate::check::stats::Stats;
use crate::error::{Error, Result};
use crate::law::Distribution;
use crate::tensor::ResolvedTensor;

/// Blocks drawn per worker thread between two writes: enough to keep every thread busy
/// while the writer works, few enough that memory stays small (2 batches × 4 blocks ×
/// 256 KiB per thread for f32).
const BLOCKS_PER_THREAD: usize = 4;

/// Cap on one batch, so many-core machines stay within the memory bound too
/// (two batches alive: at most 32 MiB).
const MAX_BATCH_BYTES: usize = 16 << 20;

/// Draws `tensor` into `sink` from the native stream as `E` (which must be its dtype).
/// I/O errors are reported against `label`. Parallelism comes from the current rayon pool.
pub fn draw_native<E: DrawElement>(
    tensor: &ResolvedTensor,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
) -> Result<Generated> {
    let io_err = |e| Error::io(label, e);
    let n = tensor.spec.shape.len();
    let keystream = Keystream::new(&key_of(tensor));
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
                    sampler.fill(&keystream, (b * BLOCK_LEN) as u64, &mut buf);
                    zero_row(tensor, b * BLOCK_LEN, &mut buf);
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
        let (mut values, check) = whole_matrix::<E>(tensor)?;
        zero_row(tensor, 0, &mut values);
        return write_whole(values, check, sink, label);
    }
    sink.finish().map_err(io_err)?;
    Ok(generated)
}

/// Zeros the part of `tensor`'s zero row (if any) that falls in `values`, which hold
/// elements `first ..` of the tensor.
pub(crate) fn zero_row<E: Element>(tensor: &ResolvedTensor, first: usize, values: &mut [E]) {
    let Some(row) = tensor.zero_row else { return };
    let dims = tensor.spec.shape.dims();
    let row_len: usize = dims[1..].iter().product();
    let (start, end) = (row * row_len, (row + 1) * row_len);
    let (lo, hi) = (start.max(first), end.min(first + values.len()));
    if lo < hi {
        values[lo - first..hi - first].fill(E::default());
    }
}

/// Builds an orthogonal or identity matrix whole from the native stream; returns it with
/// the orthogonality error measured on the stored (rounded) values.
fn whole_matrix<E: DrawElement>(tensor: &ResolvedTensor) -> Result<(Vec<E>, Option<f64>)> {
    let (rows, cols) = tensor.matrix_view();
    let (tall, narrow) = (rows.max(cols), rows.min(cols));
    match tensor.resolved.distribution {
        Distribution::Orthogonal { gain, blocks: 1 } => {
            let gaussian = gaussian_matrix(&Keystream::new(&key_of(tensor)), 0, tall * narrow)?;
            orthogonal_from(&gaussian, rows, cols, gain, E::DTYPE)
        }
        // Block b's Gaussian matrix is the b-th run of block-sized elements of the
        // keystream, so one block alone is drawn as a tensor of its shape would be.
        Distribution::Orthogonal { gain, blocks } => {
            let split = OutputBlocks::new((rows, cols), blocks, tensor.spec.layout);
            let (block_rows, block_cols) = split.block_dims();
            let m = block_rows * block_cols;
            let keystream = Keystream::new(&key_of(tensor));
            let mut w = crate::budget::try_zeroed::<E>(rows * cols, || {
                format!("an orthogonal {rows}x{cols} matrix of {}", E::DTYPE)
            })?;
            let mut worst: Option<f64> = None;
            for b in 0..blocks {
                let gaussian = gaussian_matrix(&keystream, (b * m) as u64, m)?;
                let (q, error) =
                    orthogonal_from::<E>(&gaussian, block_rows, block_cols, gain, E::DTYPE)?;
                split.put(&mut w, b, &q);
                worst = match (worst, error) {
                    (Some(a), Some(e)) => Some(a.max(e)),
                    (a, e) => a.or(e),
                };
            }
            Ok((w, worst))
        }
        Distribution::Sparse { std, zeros, .. } => {
            Ok((super::sparse::draw(tensor, std, zeros)?, None))
        }
        // Xiao et al. 2018 (delta-orthogonal): the centre tap's channel matrix is drawn
        // as `orthogonal` draws a matrix of its size, every other tap is zero.
        Distribution::DeltaOrthogonal { gain } => {
            let dims = tensor.spec.shape.dims();
            let ((rows, cols), taps) = centre_channels(dims, tensor.spec.layout);
            let gaussian = gaussian_matrix(
                &Keystream::new(&key_of(tensor)),
                0,
                rows.max(cols) * rows.min(cols),
            )?;
            let (centre, error) = orthogonal_from::<E>(&gaussian, rows, cols, gain, E::DTYPE)?;
            let mut w = crate::budget::try_zeroed::<E>(dims.iter().product(), || {
                format!(
                    "a delta-orthogonal {} tensor of {}",
                    tensor.spec.shape,
                    E::DTYPE
                )
            })?;
            for (&position, value) in taps.iter().zip(centre) {
                w[position] = value;
            }
            Ok((w, error))
        }
        _ => matrix_without_randomness(tensor),
    }
}

/// Streams a matrix built whole to `sink`, with its statistics.
pub fn write_whole<E: Element>(
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

/// `len` standard normals: the values an f64 `normal` tensor of that size and key holds,
/// whatever the orthogonal tensor's dtype (so an f32 orthogonal matrix is the f64 one
/// rounded).
fn gaussian_matrix(keystream: &Keystream, first: u64, len: usize) -> Result<Vec<f64>> {
    let mut out =
        crate::budget::try_zeroed::<f64>(len, || format!("a Gaussian matrix of {len} f64 values"))?;
    let sampler = Sampler::Normal {
        mean: 0.0,
        std: 1.0,
    };
    out.par_chunks_mut(BLOCK_LEN)
        .enumerate()
        .for_each(|(b, chunk)| sampler.fill(keystream, first + (b * BLOCK_LEN) as u64, chunk));
    Ok(out)
}

/// Elements `first .. first + out.len()` of an elementwise tensor (random access): the
/// same values, bit for bit, as that slice of the whole tensor. `None` for orthogonal and
/// identity tensors, which only exist whole.
pub fn draw_range<E: DrawElement>(
    tensor: &ResolvedTensor,
    first: u64,
    out: &mut [E],
) -> Option<()> {
    let sampler = Sampler::new(&tensor.resolved.distribution)?;
    let keystream = Keystream::new(&key_of(tensor));
    out.par_chunks_mut(BLOCK_LEN)
        .enumerate()
        .for_each(|(b, chunk)| {
            let start = first + (b * BLOCK_LEN) as u64;
            sampler.fill(&keystream, start, chunk);
            zero_row(tensor, start as usize, chunk);
        });
    Some(())
}
