//! `--rng numpy`: `np.random.default_rng(seed)` — SeedSequence and PCG64
//! ([`generator`]) and NumPy 2.x's samplers ([`kernels`], ziggurat `tables`).

pub mod generator;
pub mod kernels;
pub mod mapping;
mod tables;

use generator::Pcg64;

use crate::array::TensorSink;
use crate::array::dtype::{DType, Element};
use crate::check::Generated;
use crate::compat::sequential::generate_sequential;
use crate::compat::stream::{Generators, Stream, half_refused, refuse_half};
use crate::draw::engine::write_whole;
use crate::draw::matrix::{matrix_without_randomness, orthogonal_from, tall_orientation};
use crate::error::{Result, Unreproducible};
use crate::law::Distribution;
use crate::scheme::Resolved;
use crate::tensor::ResolvedTensor;
use crate::tensor::TensorSpec;

/// `--rng numpy`: the tensor drawn from NumPy's generator in NumPy's order. Elementwise
/// laws stream (one block drawn while the previous one is written; the generator is
/// sequential, so drawing itself cannot be split); orthogonal follows NumPy's QR recipe.
pub fn draw_numpy<E: Element>(
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
    let (rows, cols) = tensor.matrix_view();
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

/// The `stream` of `--rng numpy` tensors in their metadata.
pub const LABEL: &str = "numpy default_rng: SeedSequence -> PCG64, NumPy 2.x samplers";

/// `--rng numpy`: `np.random.default_rng(seed)`, one generator for the run's tensors.
pub struct Numpy;

impl Stream for Numpy {
    fn label(&self, _: &TensorSpec) -> &'static str {
        LABEL
    }

    fn adapt(&self, spec: &TensorSpec, resolved: &mut Resolved) -> Result<(), Unreproducible> {
        refuse_half(spec)?;
        mapping::supports(&resolved.distribution)
    }

    fn equivalent(&self, tensor: &ResolvedTensor) -> Option<String> {
        let spec = &tensor.spec;
        Some(mapping::expression(
            &tensor.resolved.distribution,
            spec.dtype,
            spec.shape.dims(),
            crate::array::fan::matrix_view(spec.shape.dims(), spec.layout),
            spec.layout,
        ))
    }

    fn draw(
        &self,
        tensor: &ResolvedTensor,
        sink: &mut (dyn TensorSink + Send),
        label: &str,
        generators: &mut Generators,
    ) -> Result<Generated> {
        let rng = generators.numpy(tensor.spec.seed);
        match tensor.spec.dtype {
            DType::F32 => draw_numpy::<f32>(tensor, sink, label, rng),
            DType::F64 => draw_numpy::<f64>(tensor, sink, label, rng),
            DType::F16 | DType::Bf16 => Err(half_refused(&tensor.spec)),
        }
    }
}
