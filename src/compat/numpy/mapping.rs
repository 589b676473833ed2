//! What the numpy stream can reproduce, and the NumPy code that computes a tensor's values
//! (printed by the report): facts about laws, with no generator involved, so a tensor's
//! resolution can consult them.

use crate::array::dtype::DType;
use crate::array::fan::Layout;
use crate::error::Unreproducible;
use crate::law::Distribution;
use crate::scheme::shortest;
use crate::text::python_tuple;

/// Whether the numpy stream can draw `distribution`, and if not, why (one line).
pub fn supports(distribution: &Distribution) -> Result<(), Unreproducible> {
    match distribution {
        Distribution::TruncatedNormal { .. } => Err(Unreproducible::NumpyTruncatedNormal),
        Distribution::Orthogonal { blocks, .. } if *blocks > 1 => Err(Unreproducible::Other(
            "orthogonal blocks are not reproduced for NumPy; use --rng native or --rng torch \
             (orthogonal_ on each weight.chunk)"
                .into(),
        )),
        Distribution::DeltaOrthogonal { .. } => Err(no_delta_orthogonal("NumPy")),
        Distribution::S4dRealLog { .. } | Distribution::MambaDtBias { .. } => {
            Err(no_state_space("NumPy", distribution))
        }
        Distribution::Sparse { .. } => Err(Unreproducible::Other(
            "NumPy has no sparse initializer to reproduce; use --rng native or --rng torch \
             (torch.nn.init.sparse_)"
                .into(),
        )),
        _ => Ok(()),
    }
}

/// The NumPy statements that compute a tensor of `distribution` drawn with `--rng numpy`
/// as `w`, given `rng = np.random.default_rng(seed)` from which every earlier tensor of the
/// run has been drawn. `shape` is the tensor's shape, `matrix` its 2-D view (for
/// orthogonal), `layout` where a Dirac kernel's channel axes are.
pub fn expression(
    distribution: &Distribution,
    dtype: DType,
    shape: &[usize],
    matrix: (usize, usize),
    layout: Layout,
) -> String {
    let dims = shape;
    let shape = python_tuple(shape);
    // Any text Python parses back to the same double.
    let py = shortest;
    let np_dtype = match dtype {
        DType::F32 => "np.float32",
        DType::F64 => "np.float64",
        DType::F16 | DType::Bf16 => return "# not reproduced for 16-bit types".into(),
    };
    let value = match *distribution {
        Distribution::Constant { value } => {
            format!("np.full({shape}, {}, dtype={np_dtype})", py(value))
        }
        Distribution::Uniform { low, high } => {
            let cast = match dtype {
                DType::F64 => "",
                _ => ".astype(np.float32)",
            };
            format!("rng.uniform({}, {}, {shape}){cast}", py(low), py(high))
        }
        Distribution::Normal { mean, std } => match dtype {
            DType::F32 => {
                let shift = if mean == 0.0 {
                    String::new()
                } else {
                    format!(" + np.float32({})", py(mean))
                };
                format!(
                    "rng.standard_normal({shape}, dtype=np.float32) * np.float32({}){shift}",
                    py(std)
                )
            }
            _ => format!("rng.normal({}, {}, {shape})", py(mean), py(std)),
        },
        Distribution::Orthogonal { gain, .. } => {
            let (rows, cols) = matrix;
            let transpose = if rows < cols { ".T" } else { "" };
            return format!(
                "a = rng.standard_normal(({rows}, {cols})){transpose}; q, r = np.linalg.qr(a); \
                 q = q * np.sign(np.diag(r)); w = ({} * q{transpose}).astype({np_dtype}).reshape({shape})",
                py(gain)
            );
        }
        Distribution::Identity { gain } => {
            let (rows, cols) = matrix;
            format!(
                "({} * np.eye({rows}, {cols})).astype({np_dtype}).reshape({shape})",
                py(gain)
            )
        }
        Distribution::LstmBias { forget } => {
            let quarter = dims[0] / 4;
            return format!(
                "w = np.zeros({shape}, dtype={np_dtype}); w[{quarter}:{}] = {}",
                2 * quarter,
                py(forget)
            );
        }
        Distribution::Dirac { gain, groups } => {
            let (outputs, inputs, spatial, channels_last) = match layout {
                Layout::Oi => (dims[0], dims[1], &dims[2..], false),
                Layout::Io => (
                    dims[dims.len() - 1],
                    dims[dims.len() - 2],
                    &dims[..dims.len() - 2],
                    true,
                ),
            };
            let per_group = outputs / groups.max(1);
            let m = per_group.min(inputs);
            let centre: Vec<String> = spatial.iter().map(|k| (k / 2).to_string()).collect();
            let index = if channels_last {
                format!("{}, i, o", centre.join(", "))
            } else {
                format!("o, i, {}", centre.join(", "))
            };
            return format!(
                "w = np.zeros({shape}, dtype={np_dtype}); o = (np.arange({groups})[:, None] * \
                 {per_group} + np.arange({m})).ravel(); i = np.tile(np.arange({m}), {groups}); \
                 w[{index}] = {}",
                py(gain)
            );
        }
        Distribution::TruncatedNormal { .. }
        | Distribution::DeltaOrthogonal { .. }
        | Distribution::Sparse { .. }
        | Distribution::S4dRealLog { .. }
        | Distribution::MambaDtBias { .. } => {
            return "# no NumPy equivalent".into();
        }
    };
    format!("w = {value}")
}

/// The state-space laws (`s4d-real-log`, `mamba-dt-bias`) are transformers' code, not a
/// framework initializer whose draws could be reproduced: native stream only.
pub(crate) fn no_state_space(framework: &str, distribution: &Distribution) -> Unreproducible {
    let name = match distribution {
        Distribution::S4dRealLog { .. } => "s4d-real-log",
        _ => "mamba-dt-bias",
    };
    Unreproducible::Other(format!(
        "{framework} has no {name} initializer to reproduce (it is transformers' Mamba init \
         code, not a framework draw); use --rng native"
    ))
}

/// Neither NumPy nor PyTorch has a delta-orthogonal initializer whose draws could be
/// reproduced (JAX's `delta_orthogonal` is; see the JAX stream).
pub(crate) fn no_delta_orthogonal(framework: &str) -> Unreproducible {
    Unreproducible::Other(format!(
        "{framework} has no delta-orthogonal initializer to reproduce; use --rng native"
    ))
}
