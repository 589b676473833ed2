//! Filling memory the caller owns, whole or one shard of it: `fill_region` for one
//! tensor (`weightinit.init_` on a DTensor or a JAX device block) and `Tensors`, a
//! model's resolved tensors (`weightinit.torch.init_module`), each fillable by region.
//! A region is the global indices held along each axis ([`Region`]); the values are the
//! whole tensor's at those positions, bit for bit.

use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use weightinit::array::{DType, Region, Shape};
use weightinit::draw::DrawElement;
use weightinit::model::Common;
use weightinit::model::rules::NameRules;
use weightinit::pipeline::region::{Drawn, draw_region_into, draw_whole_into};
use weightinit::tensor::ResolvedTensor;
use weightinit::{Layout, RngMode, SchemeSpec};

use crate::{invalid, parse_choice, to_py};

/// The dtype `out` holds (bfloat16 as uint16 bits when `bfloat16`).
fn dtype_of(out: &Bound<'_, PyUntypedArray>, bfloat16: bool) -> PyResult<DType> {
    if bfloat16 {
        return if out.cast::<PyArrayDyn<u16>>().is_ok() {
            Ok(DType::Bf16)
        } else {
            Err(invalid("bfloat16 bits must come as a uint16 array"))
        };
    }
    if out.cast::<PyArrayDyn<f32>>().is_ok() {
        Ok(DType::F32)
    } else if out.cast::<PyArrayDyn<f64>>().is_ok() {
        Ok(DType::F64)
    } else if out.cast::<PyArrayDyn<half::f16>>().is_ok() {
        Ok(DType::F16)
    } else {
        Err(invalid(format!(
            "cannot fill an array of {}: use float32, float64, float16 or bfloat16",
            out.dtype()
        )))
    }
}

/// Fills the writable, C-contiguous `out` with `tensor`'s elements at `region`, the GIL
/// released; `tensor` is of `out`'s dtype.
fn fill_typed<T: numpy::Element, E: DrawElement>(
    py: Python<'_>,
    out: &Bound<'_, PyUntypedArray>,
    tensor: &ResolvedTensor,
    region: Option<&Region>,
    as_elements: impl FnOnce(&mut [T]) -> &mut [E],
) -> PyResult<Drawn> {
    let array = out
        .cast::<PyArrayDyn<T>>()
        .map_err(|_| invalid("the array's dtype changed while it was filled"))?;
    let mut view = array
        .try_readwrite()
        .map_err(|e| invalid(format!("cannot write into the array: {e}")))?;
    let slice = view
        .as_slice_mut()
        .map_err(|_| invalid("the array is not contiguous in C order; pass a contiguous one"))?;
    let slice = as_elements(slice);
    py.detach(|| match region {
        Some(region) => draw_region_into(tensor, region, slice),
        None => draw_whole_into(tensor, slice),
    })
    .map_err(to_py)
}

/// Fills `out` (the region's local array) with `tensor` drawn as `out`'s dtype; returns
/// how it was made: `"alone"`, or `"whole:BYTES"` when the tensor was built whole.
fn fill_out(
    py: Python<'_>,
    tensor: &ResolvedTensor,
    out: &Bound<'_, PyUntypedArray>,
    axes: Option<Vec<Vec<usize>>>,
    bfloat16: bool,
) -> PyResult<String> {
    let dims = tensor.spec.shape.dims();
    // No axes: the whole tensor, without index lists (see `draw_whole_into`).
    let region = axes
        .map(|axes| Region::new(dims, axes).map_err(invalid))
        .transpose()?;
    let local = region.as_ref().map_or(dims.to_vec(), Region::local_dims);
    if out.shape() != local.as_slice() {
        return Err(invalid(format!(
            "the array is {:?}, but the part of '{}' it receives is {local:?}",
            out.shape(),
            tensor.spec.name,
        )));
    }
    let dtype = dtype_of(out, bfloat16)?;
    let tensor = if dtype == tensor.spec.dtype {
        tensor.clone()
    } else {
        let mut spec = tensor.spec.clone();
        spec.dtype = dtype;
        let mut retyped = spec.resolve().map_err(to_py)?;
        retyped.zero_row = tensor.zero_row;
        retyped
    };
    let region = region.as_ref();
    let drawn = match dtype {
        DType::F32 => fill_typed::<f32, f32>(py, out, &tensor, region, |s| s),
        DType::F64 => fill_typed::<f64, f64>(py, out, &tensor, region, |s| s),
        DType::F16 => fill_typed::<half::f16, half::f16>(py, out, &tensor, region, |s| s),
        DType::Bf16 => fill_typed::<u16, half::bf16>(py, out, &tensor, region, |s| {
            bytemuck::cast_slice_mut::<u16, half::bf16>(s)
        }),
    }?;
    Ok(match drawn {
        Drawn::Alone => "alone".into(),
        Drawn::FromWhole { bytes } => format!("whole:{bytes}"),
    })
}

/// One tensor of global shape `shape`, its elements at `axes` (the global indices held
/// along each axis; `None`: all) written into `out`, the local array.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (out, scheme, shape, axes=None, seed=None, name="w0", layout="io", rng="native", bfloat16=false))]
pub(crate) fn fill_region(
    py: Python<'_>,
    out: &Bound<'_, PyUntypedArray>,
    scheme: &str,
    shape: Vec<usize>,
    axes: Option<Vec<Vec<usize>>>,
    seed: Option<u64>,
    name: &str,
    layout: &str,
    rng: &str,
    bfloat16: bool,
) -> PyResult<String> {
    let init = crate::init_from(scheme, shape, seed, name, layout, rng)?;
    let tensor = init
        .dtype(dtype_of(out, bfloat16)?)
        .resolve()
        .map_err(to_py)?;
    fill_out(py, &tensor, out, axes, bfloat16)
}

/// One tensor as `Tensors.entries` lists it: name, global shape, dtype, metadata JSON.
type Entry = (String, Vec<usize>, String, String);

/// A model's tensors, resolved as `gen` resolves them, each fillable whole or by region.
#[pyclass(frozen, name = "Tensors", module = "weightinit._weightinit")]
pub(crate) struct Tensors {
    tensors: Vec<ResolvedTensor>,
    /// Names no rule matched (`from_rules` only).
    unmatched: Vec<String>,
}

#[pymethods]
impl Tensors {
    /// The tensors `write(**options)` would write (`hf_config=`, `spec=`, with `seed=`,
    /// `rule=`, `dtype=` …), without writing anything.
    #[staticmethod]
    fn from_options(options: &Bound<'_, PyDict>) -> PyResult<Tensors> {
        let call = crate::write_options::request_from(String::new(), options)?;
        let tensors = call.request.tensors().map_err(to_py)?;
        Ok(Tensors {
            tensors,
            unmatched: Vec::new(),
        })
    }

    /// The tensors named in `tensors` (name, global shape, dtype), each by the first of
    /// `rules` (pattern, scheme) its name matches; names no rule matches are left out
    /// and listed by `unmatched`.
    #[staticmethod]
    #[pyo3(signature = (rules, tensors, seed, layout="oi", rng="native"))]
    fn from_rules(
        rules: Vec<(String, String)>,
        tensors: Vec<(String, Vec<usize>, String)>,
        seed: u64,
        layout: &str,
        rng: &str,
    ) -> PyResult<Tensors> {
        let mut matcher = NameRules::default();
        for (pattern, scheme) in &rules {
            let scheme: SchemeSpec = scheme.parse().map_err(to_py)?;
            matcher
                .push(pattern, scheme)
                .map_err(|why| invalid(format!("invalid rule pattern '{pattern}': {why}")))?;
        }
        let (layout, rng) = (
            parse_choice::<Layout>("layout", layout)?,
            parse_choice::<RngMode>("rng", rng)?,
        );
        let common = |dtype: DType| Common {
            seed,
            layout,
            dtype,
            rng,
        };
        let mut resolved = Vec::new();
        let mut unmatched = Vec::new();
        for (name, shape, dtype) in tensors {
            let Some(scheme) = matcher.scheme_for(&name) else {
                unmatched.push(name);
                continue;
            };
            let dtype = parse_choice::<DType>("dtype", &dtype)?;
            let shape = Shape::new(shape).map_err(to_py)?;
            let tensor = common(dtype)
                .tensor(name.clone(), shape, scheme.clone())
                .map_err(|e| invalid(format!("tensor '{name}': {e}")))?;
            resolved.push(tensor);
        }
        Ok(Tensors {
            tensors: resolved,
            unmatched,
        })
    }

    fn __len__(&self) -> usize {
        self.tensors.len()
    }

    /// Names no rule matched.
    fn unmatched(&self) -> Vec<String> {
        self.unmatched.clone()
    }

    /// Each tensor's name, global shape, dtype and metadata (JSON: the resolved law).
    fn entries(&self) -> PyResult<Vec<Entry>> {
        self.tensors
            .iter()
            .map(|t| {
                let meta = serde_json::to_string(&t.meta()).map_err(|e| {
                    PyRuntimeError::new_err(format!("cannot encode the metadata: {e}"))
                })?;
                Ok((
                    t.spec.name.clone(),
                    t.spec.shape.dims().to_vec(),
                    t.spec.dtype.name().to_string(),
                    meta,
                ))
            })
            .collect()
    }

    /// Fills `out` with tensor `index` (drawn as `out`'s dtype) at `axes` (`None`: all);
    /// returns `"alone"` or `"whole:BYTES"` as `fill_region` does.
    #[pyo3(signature = (index, out, axes=None, bfloat16=false))]
    fn fill(
        &self,
        py: Python<'_>,
        index: usize,
        out: &Bound<'_, PyUntypedArray>,
        axes: Option<Vec<Vec<usize>>>,
        bfloat16: bool,
    ) -> PyResult<String> {
        let tensor = self.tensors.get(index).ok_or_else(|| {
            invalid(format!(
                "no tensor {index}: there are {}",
                self.tensors.len()
            ))
        })?;
        fill_out(py, tensor, out, axes, bfloat16)
    }
}
