//! Drawing from a sequential framework generator (NumPy's, PyTorch's, and JAX's blocks in
//! order): one block is drawn while the previous one is written.

use crate::array::TensorSink;
use crate::array::dtype::Element;
use crate::check::Generated;
use crate::check::stats::Stats;
use crate::draw::BLOCK_LEN;
use crate::error::{Error, Result};
use crate::tensor::ResolvedTensor;

/// An elementwise tensor from a sequential framework generator: `fill(block, total,
/// last)` draws the next values in order. One block is drawn while the previous one is
/// written; the generator is sequential, so drawing itself cannot be split.
///
/// Blocks hold [`BLOCK_LEN`] elements (a multiple of 16), except that a remainder of
/// fewer than 16 joins the block before it: PyTorch's `normal_` redraws the last 16
/// values of a tensor whose size is not a multiple of 16, and they must all be in the
/// last block.
pub(crate) fn generate_sequential<E: Element>(
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
    // An embedding's padding row is stored as zeros; the draw itself is unchanged.
    crate::draw::engine::zero_row(tensor, 0, &mut current);
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
        crate::draw::engine::zero_row(tensor, done, &mut current);
        done += next_len;
    }
    sink.finish().map_err(io_err)?;
    Ok(Generated {
        stats,
        orthogonality_error: None,
    })
}
