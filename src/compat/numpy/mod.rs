//! `--rng numpy`: `np.random.default_rng(seed)` — SeedSequence and PCG64
//! ([`generator`]) and NumPy 2.x's samplers ([`kernels`], ziggurat `tables`).

pub mod generator;
pub mod kernels;
pub mod law;
mod tables;

use generator::Pcg64;

use super::generate_sequential;
use crate::draw::Generated;
use crate::draw::engine::write_whole;
use crate::draw::matrix::{
    matrix_view, matrix_without_randomness, orthogonal_from, tall_orientation,
};
use crate::error::Result;
use crate::law::Distribution;
use crate::output::TensorSink;
use crate::tensor::ResolvedTensor;
use crate::tensor::dtype::{DType, Element};

/// `--rng numpy`: the tensor drawn from NumPy's generator in NumPy's order. Elementwise
/// laws stream (one block drawn while the previous one is written; the generator is
/// sequential, so drawing itself cannot be split); orthogonal follows NumPy's QR recipe.
pub fn generate<E: Element>(
    tensor: &ResolvedTensor,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
    rng: &mut Pcg64,
) -> Result<Generated> {
    let distribution = tensor.resolved.distribution;
    if distribution.is_elementwise() {
        return generate_sequential::<E>(tensor, sink, label, |out, _, _| {
            kernels::fill(rng, &distribution, out)
        });
    }
    let (rows, cols) = matrix_view(tensor);
    let (values, check) = match distribution {
        Distribution::Orthogonal { gain, .. } => {
            // a = rng.standard_normal((rows, cols)), transposed when wide.
            let drawn = kernels::standard_normals_f64(rng, rows * cols);
            let tall = tall_orientation(drawn, rows, cols);
            orthogonal_from::<E>(&tall, rows, cols, gain, DType::F64)?
        }
        _ => matrix_without_randomness(tensor)?,
    };
    write_whole(values, check, sink, label)
}
