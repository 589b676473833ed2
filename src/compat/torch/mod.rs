//! `--rng torch`: `torch.manual_seed(seed)` — MT19937 ([`generator`]) and PyTorch 2.x's
//! CPU kernels for `torch.nn.init` ([`kernels`]).

pub mod generator;
pub mod kernels;
pub mod mapping;
pub mod replay;

use generator::CpuGenerator;

use crate::array::Layout;
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

/// `--rng torch`: the tensor as `torch.nn.init` fills it after the run's earlier tensors.
pub fn draw_torch<E: Element>(
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
        kernels::fill(rng, &normal, &mut values, n, true);
        let mut pending: Vec<usize> = (0..n).filter(|&i| outside(values[i])).collect();
        let mut fresh = Vec::new();
        while !pending.is_empty() {
            fresh.resize(n, E::default());
            kernels::fill(rng, &normal, &mut fresh, n, true);
            pending.retain(|&i| {
                values[i] = fresh[i];
                outside(values[i])
            });
        }
        return write_whole(values, None, sink, label);
    }
    if distribution.is_elementwise() {
        return generate_sequential::<E>(tensor, sink, label, |out, total, last| {
            kernels::fill(rng, &distribution, out, total, last)
        });
    }
    let (rows, cols) = tensor.matrix_view();
    let (values, check) = match distribution {
        Distribution::Orthogonal { gain, blocks } => {
            // orthogonal_: flattened = new_empty((rows, cols)).normal_(0, 1), transposed
            // when wide, then QR. PyTorch's is LAPACK's at the tensor's precision; ours
            // runs in f64, which lands closer to PyTorch's float32 result than an f32 QR
            // (measured at 512²: 1.0e-6 vs 1.3e-6), the gap being PyTorch's own rounding.
            // With blocks: `for w in weight.chunk(K, 0): orthogonal_(w)`, block after
            // block from the one generator (the layout is oi: a block is whole rows).
            let block_rows = rows / blocks.max(1);
            let n = block_rows * cols;
            let standard = Distribution::Normal {
                mean: 0.0,
                std: 1.0,
            };
            let mut values = Vec::with_capacity(rows * cols);
            let mut worst: Option<f64> = None;
            for _ in 0..blocks.max(1) {
                let mut drawn = vec![E::default(); n];
                kernels::fill(rng, &standard, &mut drawn, n, true);
                let drawn: Vec<f64> = drawn.iter().map(|x| x.to_f64()).collect();
                let tall = tall_orientation(drawn, block_rows, cols);
                let (q, error) = orthogonal_from::<E>(&tall, block_rows, cols, gain, DType::F64)?;
                values.extend(q);
                worst = match (worst, error) {
                    (Some(a), Some(e)) => Some(a.max(e)),
                    (a, e) => a.or(e),
                };
            }
            (values, worst)
        }
        Distribution::Sparse { std, zeros, .. } => {
            // sparse_: tensor.normal_(0, std), then for each column
            // row_indices = torch.randperm(rows) and the first num_zeros rows of it set
            // to 0, all from the one generator.
            let n = rows * cols;
            let normal = Distribution::Normal { mean: 0.0, std };
            let mut values = vec![E::default(); n];
            kernels::fill(rng, &normal, &mut values, n, true);
            for col in 0..cols {
                let permutation = kernels::randperm(rng, rows);
                for &row in &permutation[..zeros.min(rows)] {
                    values[row * cols + col] = E::default();
                }
            }
            (values, None)
        }
        _ => matrix_without_randomness(tensor)?,
    };
    write_whole(values, check, sink, label)
}

/// The `stream` of `--rng torch` tensors in their metadata.
pub const LABEL: &str = "torch.manual_seed: mt19937, PyTorch 2.x CPU kernels";

/// `--rng torch`: PyTorch's CPU generator after `torch.manual_seed(seed)`, one generator
/// for the run's tensors.
pub struct Torch;

impl Stream for Torch {
    fn label(&self, _: &TensorSpec) -> &'static str {
        LABEL
    }

    fn adapt(&self, spec: &TensorSpec, resolved: &mut Resolved) -> Result<(), Unreproducible> {
        // bfloat16 `normal_` (and constants) are reproduced; its uniform_ and the rest
        // are not yet, nor float16.
        let bf16_normal = spec.dtype == DType::Bf16
            && matches!(
                resolved.distribution,
                Distribution::Normal { .. } | Distribution::Constant { .. }
            );
        if !bf16_normal {
            refuse_half(spec)?;
        }
        mapping::supports(&resolved.distribution)?;
        // Fans and the 2-D view of orthogonal/identity follow the layout.
        let uses_layout = resolved.fan.is_some()
            || matches!(
                resolved.distribution,
                Distribution::Orthogonal { .. }
                    | Distribution::Identity { .. }
                    | Distribution::Dirac { .. }
                    | Distribution::Sparse { .. }
            );
        if uses_layout && spec.shape.dims().len() >= 2 && spec.layout != Layout::Oi {
            return Err(Unreproducible::NotOiLayout);
        }
        resolved.distribution = mapping::torch_law(spec.scheme.kind, resolved);
        Ok(())
    }

    fn equivalent(&self, tensor: &ResolvedTensor) -> Option<String> {
        if tensor.torch_replay.is_some() {
            return Some(format!(
                "# transformers' own draw: torch.manual_seed({}); \
                 AutoModelFor...LM.from_config(config) (transformers 5.25, torch 2.15)",
                tensor.spec.seed
            ));
        }
        Some(mapping::expression(
            &tensor.resolved.distribution,
            tensor.spec.dtype,
            tensor.spec.shape.dims(),
        ))
    }

    fn draw(
        &self,
        tensor: &ResolvedTensor,
        sink: &mut (dyn TensorSink + Send),
        label: &str,
        generators: &mut Generators,
    ) -> Result<Generated> {
        if let Some(replay) = &tensor.torch_replay {
            return match tensor.spec.dtype {
                DType::F32 => replay::draw::<f32>(tensor, replay, sink, label),
                DType::F64 => replay::draw::<f64>(tensor, replay, sink, label),
                DType::Bf16 => replay::draw::<half::bf16>(tensor, replay, sink, label),
                DType::F16 => Err(half_refused(&tensor.spec)),
            };
        }
        let rng = generators.torch(tensor.spec.seed);
        match tensor.spec.dtype {
            DType::F32 => draw_torch::<f32>(tensor, sink, label, rng),
            DType::F64 => draw_torch::<f64>(tensor, sink, label, rng),
            DType::Bf16 => draw_torch::<half::bf16>(tensor, sink, label, rng),
            DType::F16 => Err(half_refused(&tensor.spec)),
        }
    }
}
