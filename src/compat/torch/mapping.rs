//! What `--rng torch` can reproduce, the law PyTorch's `torch.nn.init` function really
//! draws for a scheme, and the PyTorch code that computes a tensor's values (printed by
//! the report): facts about laws, with no generator involved, so a tensor's resolution
//! can consult them.

use crate::array::dtype::DType;
use crate::compat::c_math;
use crate::error::Unreproducible;
use crate::law::Distribution;
use crate::scheme::{Resolved, SchemeKind};
use crate::text::python_tuple;

/// Whether the torch stream can draw `distribution`, and if not, why (one line).
pub fn supports(distribution: &Distribution) -> Result<(), Unreproducible> {
    match distribution {
        Distribution::TruncatedNormal {
            mean,
            std,
            low,
            high,
        } if !trunc_normal_redraws(*mean, *std, *low, *high) => {
            Err(Unreproducible::Other(format!(
                "the window [{low}, {high}] holds 30% or less of N({mean}, {std}²); PyTorch's \
             trunc_normal_ then uses a uniform-proposal method that is not reproduced yet \
             (wider windows are)"
            )))
        }
        Distribution::DeltaOrthogonal { .. } => Err(
            crate::compat::numpy::mapping::no_delta_orthogonal("PyTorch"),
        ),
        Distribution::S4dRealLog { .. } | Distribution::MambaDtBias { .. } => Err(
            crate::compat::numpy::mapping::no_state_space("PyTorch", distribution),
        ),
        _ => Ok(()),
    }
}

/// Whether PyTorch 2.15's `trunc_normal_` takes its redraw path for this window: when
/// `Φ((b − mean)/std) − Φ((a − mean)/std) > 0.3`, computed as it does with `math.erf`.
pub fn trunc_normal_redraws(mean: f64, std: f64, a: f64, b: f64) -> bool {
    let norm_cdf = |x: f64| (1.0 + c_math::erf(x / 2f64.sqrt())) / 2.0;
    norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std) > 0.3
}

/// The law PyTorch's own formula gives where it rounds differently from weightinit's:
/// `xavier_uniform_`/`xavier_normal_` compute `std = gain · sqrt(2 / (fan_in + fan_out))`,
/// which can differ in the last bit from `gain / sqrt((fan_in + fan_out) / 2)`. The other
/// schemes already use PyTorch's formulas (`gain / sqrt(fan)`, then `sqrt(3) ·` for a
/// uniform bound). `depth` and `mult` then apply as in [`crate::scheme`]'s resolution.
pub fn torch_law(kind: SchemeKind, resolved: &Resolved) -> Distribution {
    let xavier_std = |fans: crate::array::Fans, gain: f64| {
        gain * (2.0 / (fans.fan_in + fans.fan_out) as f64).sqrt() / resolved.depth_divisor
            * resolved.mult
    };
    match (kind, resolved.fans, resolved.gain) {
        (SchemeKind::XavierUniform, Some(fans), Some(gain)) => {
            let std = xavier_std(fans, gain);
            let bound = 3f64.sqrt() * std;
            Distribution::Uniform {
                low: -bound,
                high: bound,
            }
        }
        (SchemeKind::XavierNormal, Some(fans), Some(gain)) => Distribution::Normal {
            mean: 0.0,
            std: xavier_std(fans, gain),
        },
        _ => resolved.distribution,
    }
}

/// The PyTorch statements that compute such a tensor as `w` right after the run's earlier
/// tensors were drawn from the generator seeded by `torch.manual_seed(seed)`.
pub fn expression(distribution: &Distribution, dtype: DType, shape: &[usize]) -> String {
    let dims = python_tuple(shape);
    let torch_dtype = match dtype {
        DType::F32 => "torch.float32",
        DType::F64 => "torch.float64",
        DType::Bf16 => "torch.bfloat16",
        DType::F16 => return "# not reproduced for float16".into(),
    };
    let empty = format!("torch.empty({dims}, dtype={torch_dtype})");
    let py = crate::scheme::shortest;
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
        Distribution::Dirac { gain, groups } => {
            format!(
                "w = torch.nn.init.dirac_({empty}, groups={groups}) * {}",
                py(gain)
            )
        }
        Distribution::DeltaOrthogonal { .. }
        | Distribution::S4dRealLog { .. }
        | Distribution::MambaDtBias { .. } => "# no PyTorch equivalent".into(),
        Distribution::LstmBias { forget } => {
            let quarter = shape[0] / 4;
            format!(
                "w = torch.zeros({dims}, dtype={torch_dtype}); w[{quarter}:{}] = {}",
                2 * quarter,
                py(forget)
            )
        }
        Distribution::Sparse { std, sparsity, .. } => format!(
            "w = torch.nn.init.sparse_({empty}, sparsity={}, std={})",
            py(sparsity),
            py(std)
        ),
        Distribution::Orthogonal { gain, blocks: 1 } => {
            format!("w = torch.nn.init.orthogonal_({empty}, gain={})", py(gain))
        }
        Distribution::Orthogonal { gain, blocks } => format!(
            "w = {empty}; [torch.nn.init.orthogonal_(b, gain={}) for b in w.chunk({blocks}, 0)]",
            py(gain)
        ),
        Distribution::TruncatedNormal {
            mean,
            std,
            low,
            high,
        } => format!(
            "w = torch.nn.init.trunc_normal_({empty}, mean={}, std={}, a={}, b={})",
            py(mean),
            py(std),
            py(low),
            py(high)
        ),
        Distribution::Normal { mean, std } => {
            format!("w = {empty}.normal_({}, {})", py(mean), py(std))
        }
    }
}
