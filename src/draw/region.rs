//! Part of a tensor drawn alone: the elements of a [`Region`] (one rank's shard), bit for
//! bit those of the whole tensor at the same positions, at a cost proportional to the
//! part, never the whole. This is what makes the native stream the same at any
//! parallelism: each element's keystream words are found from its global index alone.

use rayon::prelude::*;

use super::block::BLOCK_LEN;
use super::engine::zero_row;
use super::keystream::{Keystream, key_of};
use super::sampler::{DrawElement, Sampler};
use crate::array::Region;
use crate::tensor::ResolvedTensor;

/// Fills `out` (the region's local array, row-major) with the elements of the
/// elementwise tensor `tensor` that `region` holds, on all cores. `None` for the laws
/// that exist only as a whole matrix (orthogonal, identity, sparse, dirac …), which the
/// caller builds whole and gathers from.
///
/// `out.len()` must be `region.len()`.
pub fn draw_region<E: DrawElement>(
    tensor: &ResolvedTensor,
    region: &Region,
    out: &mut [E],
) -> Option<()> {
    assert_eq!(
        out.len(),
        region.len(),
        "the local array is the region's size"
    );
    let sampler = Sampler::new(&tensor.resolved.distribution)?;
    let keystream = Keystream::new(&key_of(tensor));
    // Pieces of the local array in parallel; each draws the runs of consecutive global
    // elements it holds (a column shard is a run per row, a row shard one long run).
    out.par_chunks_mut(BLOCK_LEN)
        .enumerate()
        .for_each(|(p, piece)| {
            let start = p * BLOCK_LEN;
            region.for_each_run(start..start + piece.len(), |global, local, len| {
                let part = &mut piece[local - start..local - start + len];
                sampler.fill(&keystream, global, part);
                zero_row(tensor, global as usize, part);
            });
        });
    Some(())
}
