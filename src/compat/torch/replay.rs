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
            let tail_start = if total % 16 == 0 { total } else { total - 16 };
            let first_block = offset / 16 * 16;
            if offset + len > tail_start {
                // Through the end: from a 16-aligned start at or before the last 16.
                let start = first_block.min(tail_start / 16 * 16);
                (start, total - start, true)
            } else {
                (first_block, (offset + len).div_ceil(16) * 16 - first_block, false)
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
            assert_eq!(got, whole[offset..offset + len], "{law:?} {total} [{offset}; {len}]");
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
