//! `--rng torch`: the values PyTorch's CPU `Tensor.uniform_` returns after
//! `torch.manual_seed(seed)`, bit for bit, and the PyTorch code each tensor equals.
//!
//! `uniform_(a, b)` (ATen's `uniform_kernel` and `uniform_real`, PyTorch 2.x): the bounds
//! are cast to the tensor's dtype; float32 takes 24 bits of one 32-bit draw, float64 53
//! bits of one 64-bit draw; the value is `fma(x, b − a, a)` at that precision (PyTorch's
//! kernels are compiled with FMA contraction; measured against PyTorch 2.15), and a value
//! that rounds to `b` becomes `a`, so the range stays half-open.
//!
//! Every `torch.nn.init` function built on `uniform_` — `kaiming_uniform_`,
//! `xavier_uniform_`, the `nn.Linear`/`nn.Conv2d` defaults — reduces to it once its bound
//! is computed the way PyTorch computes it ([`torch_law`]). `normal_`, `trunc_normal_`
//! and `orthogonal_` are not reproduced yet and are refused.

use crate::distribution::Distribution;
use crate::rng::torch::Mt19937;
use crate::sample::{DType, Element};
use crate::scheme::{Resolved, SchemeKind};

/// Whether `--rng torch` can draw `distribution`, and if not, why (one line).
pub fn supports(distribution: &Distribution) -> Result<(), String> {
    match distribution {
        Distribution::Normal { .. }
        | Distribution::TruncatedNormal { .. }
        | Distribution::Orthogonal { .. } => Err(
            "only uniform_-based initializers (uniform, kaiming/he-uniform, xavier-uniform, \
             lecun-uniform, fan-in-uniform, the torch-linear/torch-conv2d presets) and \
             zeros/ones/constant/identity are reproduced so far; normal_, trunc_normal_ and \
             orthogonal_ are not yet"
                .into(),
        ),
        _ => Ok(()),
    }
}

/// The law PyTorch's own formula gives where it rounds differently from weightinit's:
/// `xavier_uniform_` computes `a = sqrt(3) · gain · sqrt(2 / (fan_in + fan_out))`, which can
/// differ in the last bit from `sqrt(3) · gain / sqrt((fan_in + fan_out) / 2)`. The other
/// uniform schemes already use PyTorch's formulas (`gain / sqrt(fan)` then `sqrt(3) ·`).
pub fn torch_law(kind: SchemeKind, resolved: &Resolved) -> Distribution {
    match (kind, resolved.fans, resolved.gain) {
        (SchemeKind::XavierUniform, Some(fans), Some(gain)) => {
            let std = gain * (2.0 / (fans.fan_in + fans.fan_out) as f64).sqrt();
            let bound = 3f64.sqrt() * std;
            Distribution::Uniform {
                low: -bound,
                high: bound,
            }
        }
        _ => resolved.distribution,
    }
}

/// Fills `out` with the next `out.len()` values of `distribution`, in PyTorch's order,
/// continuing `rng`.
pub fn fill<E: Element>(rng: &mut Mt19937, distribution: &Distribution, out: &mut [E]) {
    match *distribution {
        Distribution::Constant { value } => out.fill(E::from_f64(value)),
        Distribution::Uniform { low, high } => match E::DTYPE {
            DType::F32 => {
                let (from, to) = (low as f32, high as f32);
                let width = to - from;
                for x in out.iter_mut() {
                    let unit = (rng.next_u32() & 0x00ff_ffff) as f32 * (1.0 / 16_777_216.0);
                    let value = unit.mul_add(width, from);
                    *x = E::from_f64(f64::from(if value == to { from } else { value }));
                }
            }
            DType::F64 => {
                let width = high - low;
                for x in out.iter_mut() {
                    let unit =
                        (rng.next_u64() & ((1 << 53) - 1)) as f64 * (1.0 / 9_007_199_254_740_992.0);
                    let value = unit.mul_add(width, low);
                    *x = E::from_f64(if value == high { low } else { value });
                }
            }
        },
        _ => unreachable!("not drawn under --rng torch: {distribution:?}"),
    }
}

/// The PyTorch statements that compute such a tensor as `w` right after the run's earlier
/// tensors were drawn from the generator seeded by `torch.manual_seed(seed)`.
pub fn expression(distribution: &Distribution, dtype: DType, shape: &[usize]) -> String {
    let dims = match shape {
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let torch_dtype = match dtype {
        DType::F32 => "torch.float32",
        DType::F64 => "torch.float64",
    };
    let empty = format!("torch.empty({dims}, dtype={torch_dtype})");
    let py = |x: f64| ryu::Buffer::new().format(x).to_string();
    match *distribution {
        Distribution::Constant { value } => {
            format!("w = torch.full({dims}, {}, dtype={torch_dtype})", py(value))
        }
        Distribution::Uniform { low, high } => {
            format!("w = {empty}.uniform_({}, {})", py(low), py(high))
        }
        Distribution::Identity { gain } => {
            format!("w = torch.nn.init.eye_({empty}) * {}", py(gain))
        }
        _ => "# not reproduced under --rng torch".into(),
    }
}
