//! `--hf-config --rng torch`: a tensor drawn from where transformers' run of draws left
//! PyTorch's generator ([`TorchReplay`], computed by the request layer from the family's
//! draw schedule). The values are those of one draw of the run — the whole draw, or, for
//! a tensor `save_pretrained` cuts from a larger one (an expert of the fused experts),
//! a slice of it — so each tensor starts from its own copy of the generator and the
//! tensors can be written in any order.

use super::generator::CpuGenerator;
use super::kernels;
use crate::array::TensorSink;
use crate::array::dtype::{DType, Element};
use crate::check::Generated;
use crate::check::stats::Stats;
use crate::draw::BLOCK_LEN;
use crate::draw::engine::write_whole;
use crate::error::{Error, Result};
use crate::law::Distribution;
use crate::tensor::ResolvedTensor;
use crate::tensor::rng::TorchReplay;

/// Draws `tensor` as elements `replay.offset ..` of the draw `replay` starts.
pub fn draw<E: Element>(
    tensor: &ResolvedTensor,
    replay: &TorchReplay,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
) -> Result<Generated> {
    let mut rng = CpuGenerator::restore(&replay.start);
    let len = tensor.spec.shape.len();
    if replay.offset == 0 && replay.draw_len == len {
        let parallel = match replay.law {
            Distribution::Uniform { .. } => true,
            Distribution::Normal { .. } => len >= 16,
            _ => false,
        };
        if parallel {
            return draw_in_waves::<E>(tensor, &replay.law, rng, sink, label);
        }
        // The whole draw: the run's own path (streamed in blocks), with the draw's law.
        let mut whole = tensor.clone();
        whole.resolved.distribution = replay.law;
        return super::draw_torch::<E>(&whole, sink, label, &mut rng);
    }
    let values = slice_of_draw::<E>(&mut rng, &replay.law, replay.draw_len, replay.offset, len)
        .ok_or_else(|| {
            Error::Param(format!(
                "{label}: a slice of a {:?} draw is not reproduced under --rng torch",
                replay.law
            ))
        })?;
    let mut values = values;
    crate::draw::engine::zero_row(tensor, 0, &mut values);
    write_whole(values, None, sink, label)
}

/// A whole elementwise draw on every core: cut into blocks of [`BLOCK_LEN`] (a multiple
/// of 16, the last one holding the remainder and at least 16, so `normal_`'s redrawn
/// last 16 fall in it), a wave of blocks at a time. One generator walks the wave,
/// skipping each block's words to leave a copy of itself at the next block's start; the
/// wave's blocks are then drawn in parallel from their copies, each exactly as the
/// sequential draw makes it, and written in order.
fn draw_in_waves<E: Element>(
    tensor: &ResolvedTensor,
    law: &Distribution,
    mut cursor: CpuGenerator,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
) -> Result<Generated> {
    use rayon::prelude::*;
    let total = tensor.spec.shape.len();
    let words_per_value = if E::DTYPE == DType::F64 { 2 } else { 1 };
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < total {
        let rest = total - start;
        let len = if rest < BLOCK_LEN + 16 {
            rest
        } else {
            BLOCK_LEN
        };
        blocks.push((start, len));
        start += len;
    }
    let wave = 2 * rayon::current_num_threads().max(1);
    let io_err = |e| Error::io(label, e);
    let mut stats = Stats::default();
    for chunk in blocks.chunks(wave) {
        let starts: Vec<CpuGenerator> = chunk
            .iter()
            .map(|&(_, len)| {
                let here = cursor.clone();
                cursor.skip((len * words_per_value) as u64);
                here
            })
            .collect();
        let drawn: Vec<Vec<E>> = chunk
            .par_iter()
            .zip(starts)
            .map(|(&(start, len), mut rng)| {
                let mut values = vec![E::default(); len];
                kernels::fill(&mut rng, law, &mut values, total, start + len == total);
                crate::draw::engine::zero_row(tensor, start, &mut values);
                values
            })
            .collect();
        for values in &drawn {
            sink.write_values(E::values(values)).map_err(io_err)?;
            stats.merge(&Stats::of_slice(values));
        }
    }
    sink.finish().map_err(io_err)?;
    Ok(Generated {
        stats,
        orthogonality_error: None,
    })
}

/// Elements `offset .. offset + len` of the draw `fill` makes of a tensor of `total`
/// elements from `law`, drawing only the 16-blocks they fall in (and the last 16, which
/// `normal_` recomputes when `total` is not a multiple of 16). `None` for a law whose
/// slices are not worked out (anything but constants, uniforms and normals).
pub fn slice_of_draw<E: Element>(
    rng: &mut CpuGenerator,
    law: &Distribution,
    total: usize,
    offset: usize,
    len: usize,
) -> Option<Vec<E>> {
    assert!(offset + len <= total, "a slice inside the draw");
    let words_per_value = if E::DTYPE == DType::F64 { 2 } else { 1 };
    let (start, buffer_len, last) = match *law {
        Distribution::Constant { .. } => (offset, len, false),
        Distribution::Uniform { .. } => (offset, len, false),
        Distribution::Normal { .. } if total < 16 => (0, total, true),
        Distribution::Normal { .. } => {
            let tail_start = if total.is_multiple_of(16) {
                total
            } else {
                total - 16
            };
            let first_block = offset / 16 * 16;
            if offset + len > tail_start {
                // Through the end: from a 16-aligned start at or before the last 16.
                let start = first_block.min(tail_start / 16 * 16);
                (start, total - start, true)
            } else {
                (
                    first_block,
                    (offset + len).div_ceil(16) * 16 - first_block,
                    false,
                )
            }
        }
        _ => return None,
    };
    rng.skip((start * words_per_value) as u64);
    let mut buffer = vec![E::default(); buffer_len];
    kernels::fill(rng, law, &mut buffer, total, last);
    Some(buffer[offset - start..offset - start + len].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slice drawn on its own equals the same elements of the whole draw.
    fn check<E: Element + PartialEq + std::fmt::Debug>(law: Distribution, total: usize) {
        let mut whole = vec![E::default(); total];
        kernels::fill(&mut CpuGenerator::new(5), &law, &mut whole, total, true);
        for (offset, len) in [
            (0, total),
            (0, 1),
            (total - 1, 1),
            (total / 3, total / 3),
            (total.saturating_sub(17), 17.min(total)),
        ] {
            let got =
                slice_of_draw::<E>(&mut CpuGenerator::new(5), &law, total, offset, len).unwrap();
            assert_eq!(
                got,
                whole[offset..offset + len],
                "{law:?} {total} [{offset}; {len}]"
            );
        }
    }

    /// The values a sink is given, as f64.
    #[derive(Default)]
    struct Collect(Vec<f64>);

    impl TensorSink for Collect {
        fn write_values(&mut self, values: crate::array::dtype::Values<'_>) -> std::io::Result<()> {
            for i in 0..values.len() {
                self.0.push(values.get_f64(i));
            }
            Ok(())
        }
        fn finish(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Blocks drawn in parallel from the walked generator equal the sequential draw
    /// (sizes around the block length and its 16s).
    #[test]
    fn waves_equal_the_sequential_draw() {
        use crate::array::Shape;
        use crate::scheme::SchemeSpec;
        for (scheme, total) in [
            ("normal:std=0.02", 3 * BLOCK_LEN + 5),
            ("normal:std=0.02", BLOCK_LEN + 15),
            ("uniform:low=-1,high=1", 2 * BLOCK_LEN + 1),
        ] {
            let tensor = crate::tensor::TensorSpec {
                name: "w".into(),
                shape: Shape::new(vec![total]).unwrap(),
                layout: crate::array::Layout::Oi,
                scheme: scheme.parse::<SchemeSpec>().unwrap(),
                dtype: DType::F32,
                seed: 3,
                rng: crate::tensor::rng::RngMode::Torch,
                jax: Default::default(),
            }
            .resolve()
            .unwrap();
            let law = tensor.resolved.distribution;
            let mut sequential = Collect::default();
            let mut rng = CpuGenerator::new(3);
            super::super::draw_torch::<f32>(&tensor, &mut sequential, "w", &mut rng).unwrap();
            let mut waves = Collect::default();
            draw_in_waves::<f32>(&tensor, &law, CpuGenerator::new(3), &mut waves, "w").unwrap();
            assert_eq!(waves.0, sequential.0, "{scheme} {total}");
        }
    }

    #[test]
    fn slices_equal_the_whole_draw() {
        let normal = Distribution::Normal {
            mean: 0.0,
            std: 0.02,
        };
        let uniform = Distribution::Uniform {
            low: -0.5,
            high: 0.5,
        };
        for total in [5, 16, 17, 31, 48, 100, 1001] {
            check::<f32>(normal, total);
            check::<f64>(normal, total);
            check::<half::bf16>(normal, total);
            check::<f32>(uniform, total);
            check::<f64>(uniform, total);
        }
    }
}
