//! `sparse` on the native stream (Martens 2010, "Deep learning via Hessian-free
//! optimization", §5: sparse initialization; PyTorch's `sparse_`): N(0, std²) values
//! with exactly ⌈sparsity·out⌉ of each input unit's `out` weights set to 0.
//!
//! The contract, beside the keystream's (see [`super::keystream`]):
//!
//! * the values are those `normal:std=…` draws for the same tensor (stream 0 of its key);
//! * the zeros of input unit j are its ⌈sparsity·out⌉ weights k (k < out) whose 64-bit
//!   numbers `word(2u) | word(2u + 1) << 32`, u = j·out + k, in **stream 1** of the same
//!   key are smallest (ties, which need two equal 64-bit numbers, go to the smaller k).
//!   That is a uniformly random subset, chosen independently for every unit.
//!
//! An input unit's weights are a column of PyTorch's `out × in` matrix (`--layout oi`),
//! a row of Keras' `in × out` one (`io`); numbering them by (unit, k) rather than by
//! position makes both layouts zero the same connections.

use rayon::prelude::*;

use super::block::BLOCK_LEN;
use super::keystream::{Keystream, key_of};
use super::sampler::{DrawElement, Sampler};
use crate::array::fan::Layout;
use crate::law::Distribution;
use crate::tensor::ResolvedTensor;

/// How an input unit's weights sit in a row-major 2-D tensor: `(out, inputs, step)`,
/// where unit j's k-th weight is at `j * unit_stride + k * step`.
#[derive(Debug, Clone, Copy)]
pub struct Units {
    pub out: usize,
    pub inputs: usize,
    unit_stride: usize,
    step: usize,
}

impl Units {
    pub fn of(dims: &[usize], layout: Layout) -> Units {
        match layout {
            // out × in: unit j is column j.
            Layout::Oi => Units {
                out: dims[0],
                inputs: dims[1],
                unit_stride: 1,
                step: dims[1],
            },
            // in × out: unit j is row j.
            Layout::Io => Units {
                out: dims[1],
                inputs: dims[0],
                unit_stride: dims[1],
                step: 1,
            },
        }
    }

    /// The position of unit `j`'s `k`-th weight.
    pub fn position(&self, j: usize, k: usize) -> usize {
        j * self.unit_stride + k * self.step
    }
}

/// The tensor drawn whole: normal values, then each unit's zeros.
pub fn draw<E: DrawElement>(
    tensor: &ResolvedTensor,
    std: f64,
    zeros: usize,
) -> crate::error::Result<Vec<E>> {
    let dims = tensor.spec.shape.dims();
    let n: usize = dims.iter().product();
    let key = key_of(tensor);
    let normal = Sampler::new(&Distribution::Normal { mean: 0.0, std })
        .expect("a normal law is elementwise");
    let values_stream = Keystream::new(&key);
    let mut w = crate::budget::try_zeroed::<E>(n, || {
        format!("a sparse {} tensor of {}", tensor.spec.shape, E::DTYPE)
    })?;
    w.par_chunks_mut(BLOCK_LEN)
        .enumerate()
        .for_each(|(b, chunk)| normal.fill(&values_stream, (b * BLOCK_LEN) as u64, chunk));
    for p in zero_positions(&key, dims, tensor.spec.layout, zeros) {
        w[p] = E::default();
    }
    Ok(w)
}

/// Every position the contract sets to zero, unit by unit.
pub fn zero_positions(key: &[u8; 32], dims: &[usize], layout: Layout, zeros: usize) -> Vec<usize> {
    let units = Units::of(dims, layout);
    if zeros == 0 || units.out == 0 {
        return Vec::new();
    }
    let stream = Keystream::with_stream(key, 1);
    let zeros = zeros.min(units.out);
    (0..units.inputs)
        .into_par_iter()
        .flat_map_iter(|j| {
            // Unit j's numbers: words 2·j·out .. 2·(j + 1)·out of stream 1.
            let mut words = vec![0u32; 2 * units.out];
            stream.fill(2 * (j * units.out) as u64, &mut words);
            let mut keyed: Vec<(u64, usize)> = words
                .chunks_exact(2)
                .enumerate()
                .map(|(k, pair)| (u64::from(pair[0]) | (u64::from(pair[1]) << 32), k))
                .collect();
            if zeros < keyed.len() {
                keyed.select_nth_unstable(zeros - 1);
            }
            keyed.truncate(zeros);
            keyed.into_iter().map(move |(_, k)| units.position(j, k))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each unit gets exactly the asked number of zeros, on its own weights, in both
    /// layouts, and the io positions are the oi ones transposed (same connections).
    #[test]
    fn every_unit_gets_its_zeros_and_layouts_agree() {
        let key = [7u8; 32];
        let (out, inputs, zeros) = (50usize, 30usize, 13usize);
        let oi = zero_positions(&key, &[out, inputs], Layout::Oi, zeros);
        assert_eq!(oi.len(), inputs * zeros);
        let mut per_unit = vec![0usize; inputs];
        for &p in &oi {
            per_unit[p % inputs] += 1;
        }
        assert!(per_unit.iter().all(|&c| c == zeros));
        // Unit j's k-th weight is (k, j) in oi and (j, k) in io: the same connections.
        let mut io = zero_positions(&key, &[inputs, out], Layout::Io, zeros);
        let mut oi_transposed: Vec<usize> = oi
            .iter()
            .map(|&p| (p % inputs) * out + p / inputs)
            .collect();
        io.sort_unstable();
        oi_transposed.sort_unstable();
        assert_eq!(io, oi_transposed);
    }
}
