//! `weightinit._weightinit`, the Python extension module: the library's entry points with
//! NumPy arrays in and out. The documented API is the Python package around it
//! (`python/weightinit/__init__.py`), which normalizes arguments (shapes, dtypes, torch
//! tensors) before calling here; this module converts, releases the GIL while drawing and
//! turns the library's errors into the package's exceptions (`weightinit.errors`) with the
//! same one-line messages.

mod shards;
mod write_options;

use numpy::{PyArray, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

use weightinit::inspect::verify as checks;
use weightinit::names::Choice;
use weightinit::output::atomic::{self, CancelToken};
use weightinit::output::load::LoadedTensor;
use weightinit::{DType, Error, Init, Layout, RngMode};

/// An exception of the package's hierarchy (`weightinit/errors.py`, where the classes
/// live because each has two bases: `InvalidArgument` is a `WeightinitError` and a
/// `ValueError`, ...), by class name, with `message`.
fn package_error(class: &str, message: String) -> PyErr {
    Python::attach(|py| {
        let found = py
            .import("weightinit.errors")
            .and_then(|m| m.getattr(class))
            .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
        match found {
            Ok(class) => PyErr::from_type(class, message),
            Err(e) => e,
        }
    })
}

/// Bad input: `weightinit.InvalidArgument`, a `ValueError`.
pub(crate) fn invalid(message: impl Into<String>) -> PyErr {
    package_error("InvalidArgument", message.into())
}

/// The library's error as a Python exception: files are `FileError` (an `OSError`;
/// `OutputExists`, a `FileExistsError`, for a file that `force` would replace), the memory
/// budget `MemoryBudgetExceeded` (a `MemoryError`), failures of the arithmetic
/// `NumericalError` (a `RuntimeError`), and bad input `InvalidArgument` (a `ValueError`);
/// the message is the command line's, with `force=True` for `--force`.
pub(crate) fn to_py(e: Error) -> PyErr {
    let text = weightinit::text::bounded_line(&e.to_string());
    let class = match e {
        Error::Exists(_) => {
            return package_error(
                "OutputExists",
                format!("{text}; pass force=True to replace it"),
            );
        }
        Error::Io { .. } | Error::NoSpace { .. } | Error::MissingDir(_) | Error::BlockDevice(_) => {
            "FileError"
        }
        Error::InSource { ref source, .. } if !source.is_usage() => "FileError",
        Error::MemoryBudget { .. } | Error::OutOfMemory { .. } => "MemoryBudgetExceeded",
        Error::Numerical(_) | Error::Chart(_) => "NumericalError",
        _ => "InvalidArgument",
    };
    package_error(class, text)
}

/// Parses one of the library's names (with its aliases: `float32`, `oi`, `torch` …) into
/// `T`, or says what is accepted.
pub(crate) fn parse_choice<T: Choice>(what: &str, text: &str) -> PyResult<T> {
    T::from_name(text).ok_or_else(|| {
        invalid(format!(
            "invalid {what} '{text}': use one of {}",
            T::accepted()
        ))
    })
}

/// The [`Init`] the keyword arguments describe.
pub(crate) fn init_from(
    scheme: &str,
    shape: Vec<usize>,
    seed: Option<u64>,
    name: &str,
    layout: &str,
    rng: &str,
) -> PyResult<Init> {
    let mut init = Init::new(scheme, shape)
        .map_err(to_py)?
        .name(name)
        .layout(parse_choice::<Layout>("layout", layout)?)
        .rng(parse_choice::<RngMode>("rng", rng)?);
    if let Some(seed) = seed {
        init = init.seed(seed);
    }
    Ok(init)
}

/// bf16 arrays need a NumPy dtype named `bfloat16`, which the ml_dtypes package
/// registers when imported; without it, one line instead of rust-numpy's panic.
fn require_bfloat16(py: Python<'_>) -> PyResult<()> {
    py.import("ml_dtypes").map(|_| ()).map_err(|_| {
        invalid(
            "dtype bfloat16 needs the ml_dtypes package (NumPy has no bfloat16 of its own): \
             pip install ml_dtypes, or use float32, float64 or float16",
        )
    })
}

/// Draws the array with the GIL released (the library draws on all cores) and hands it
/// to NumPy without a copy.
fn draw_owned<'py, E: weightinit::draw::DrawElement + numpy::Element>(
    py: Python<'py>,
    init: &Init,
) -> PyResult<Bound<'py, PyAny>> {
    let array = py.detach(|| init.draw::<E>()).map_err(to_py)?;
    Ok(PyArray::from_owned_array(py, array).into_any())
}

// Python keyword functions: one Rust argument per keyword of the Python signature.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (scheme, shape, seed=None, name="w0", layout="io", rng="native", dtype="float32"))]
fn generate<'py>(
    py: Python<'py>,
    scheme: &str,
    shape: Vec<usize>,
    seed: Option<u64>,
    name: &str,
    layout: &str,
    rng: &str,
    dtype: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let init = init_from(scheme, shape, seed, name, layout, rng)?;
    match parse_choice::<DType>("dtype", dtype)? {
        DType::F32 => draw_owned::<f32>(py, &init),
        DType::F64 => draw_owned::<f64>(py, &init),
        DType::F16 => draw_owned::<half::f16>(py, &init),
        DType::Bf16 => {
            require_bfloat16(py)?;
            draw_owned::<half::bf16>(py, &init)
        }
    }
}

/// Fills a writable, C-contiguous array stored as `T` in place, its memory seen as the
/// element type `E` by `as_elements` (itself, or bfloat16 over uint16 bits).
fn fill_as<T: numpy::Element, E: weightinit::draw::DrawElement>(
    py: Python<'_>,
    out: &Bound<'_, PyArrayDyn<T>>,
    init: &Init,
    as_elements: impl FnOnce(&mut [T]) -> &mut [E],
) -> PyResult<()> {
    let mut view = out
        .try_readwrite()
        .map_err(|e| invalid(format!("cannot write into the array: {e}")))?;
    let slice = view
        .as_slice_mut()
        .map_err(|_| invalid("the array is not contiguous in C order; pass a contiguous one"))?;
    let slice = as_elements(slice);
    py.detach(|| init.draw_into(slice)).map_err(to_py)
}

/// Fills `out` in place with the values `generate` would return for its shape. `out` is
/// float32, float64 or float16, or uint16 holding bfloat16 bits when `bfloat16` is set
/// (a torch bfloat16 tensor viewed as int16, an ml_dtypes array viewed as uint16).
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (out, scheme, seed=None, name="w0", layout="io", rng="native", bfloat16=false))]
fn fill(
    py: Python<'_>,
    out: &Bound<'_, PyUntypedArray>,
    scheme: &str,
    seed: Option<u64>,
    name: &str,
    layout: &str,
    rng: &str,
    bfloat16: bool,
) -> PyResult<()> {
    let shape = out.shape().to_vec();
    let init = init_from(scheme, shape, seed, name, layout, rng)?;
    if bfloat16 {
        let bits = out
            .cast::<PyArrayDyn<u16>>()
            .map_err(|_| invalid("bfloat16 bits must come as a uint16 array"))?;
        return fill_as(py, bits, &init, |s| {
            bytemuck::cast_slice_mut::<u16, half::bf16>(s)
        });
    }
    if let Ok(a) = out.cast::<PyArrayDyn<f32>>() {
        fill_as(py, a, &init, |s| s)
    } else if let Ok(a) = out.cast::<PyArrayDyn<f64>>() {
        fill_as(py, a, &init, |s| s)
    } else if let Ok(a) = out.cast::<PyArrayDyn<half::f16>>() {
        fill_as(py, a, &init, |s| s)
    } else {
        Err(invalid(format!(
            "cannot fill an array of {}: use float32, float64, float16 or bfloat16",
            out.dtype()
        )))
    }
}

/// The tensor's metadata as JSON: the resolved law with its fans, gain, std and bound.
#[pyfunction]
#[pyo3(signature = (scheme, shape, seed=None, name="w0", layout="io", rng="native", dtype="float32"))]
fn resolve(
    scheme: &str,
    shape: Vec<usize>,
    seed: Option<u64>,
    name: &str,
    layout: &str,
    rng: &str,
    dtype: &str,
) -> PyResult<String> {
    let init = init_from(scheme, shape, seed, name, layout, rng)?
        .dtype(parse_choice::<DType>("dtype", dtype)?);
    let tensor = init.resolve().map_err(to_py)?;
    serde_json::to_string(&tensor.meta())
        .map_err(|e| PyRuntimeError::new_err(format!("cannot encode the metadata: {e}")))
}

/// The scheme table as JSON.
#[pyfunction]
fn schemes() -> String {
    weightinit::scheme::table_json()
}

/// The values of a float array widened to f64, with their dtype.
fn widened(values: &Bound<'_, PyUntypedArray>, bfloat16: bool) -> PyResult<(Vec<f64>, DType)> {
    fn widen<E: weightinit::draw::DrawElement + numpy::Element>(
        a: &Bound<'_, PyArrayDyn<E>>,
    ) -> PyResult<Vec<f64>> {
        let view = a.readonly();
        Ok(view.as_array().iter().map(|x| x.to_f64()).collect())
    }
    if bfloat16 {
        let bits = values
            .cast::<PyArrayDyn<u16>>()
            .map_err(|_| invalid("bfloat16 bits must come as a uint16 array"))?;
        let view = bits.readonly();
        let widened = view
            .as_array()
            .iter()
            .map(|&b| half::bf16::from_bits(b).to_f64())
            .collect();
        return Ok((widened, DType::Bf16));
    }
    if let Ok(a) = values.cast::<PyArrayDyn<f32>>() {
        Ok((widen(a)?, DType::F32))
    } else if let Ok(a) = values.cast::<PyArrayDyn<f64>>() {
        Ok((widen(a)?, DType::F64))
    } else if let Ok(a) = values.cast::<PyArrayDyn<half::f16>>() {
        Ok((widen(a)?, DType::F16))
    } else {
        Err(invalid(format!(
            "cannot verify an array of {}: use float32, float64, float16 or bfloat16",
            values.dtype()
        )))
    }
}

/// `weightinit verify`'s report, as JSON, for an array in memory.
#[pyfunction]
#[pyo3(signature = (values, scheme, layout="io", name="array", bfloat16=false))]
fn verify(
    py: Python<'_>,
    values: &Bound<'_, PyUntypedArray>,
    scheme: &str,
    layout: &str,
    name: &str,
    bfloat16: bool,
) -> PyResult<String> {
    let scheme: weightinit::SchemeSpec = scheme.parse().map_err(to_py)?;
    let layout = parse_choice::<Layout>("layout", layout)?;
    let shape = values.shape().to_vec();
    let count = values.len() as u64;
    weightinit::budget::check(
        count.checked_mul(checks::BYTES_PER_VALUE),
        &format!("verifying an array of {count} values"),
    )
    .map_err(to_py)?;
    let (widened, dtype) = widened(values, bfloat16)?;
    let tensor = LoadedTensor {
        name: name.to_string(),
        shape,
        dtype,
        values: widened,
    };
    let report = py
        .detach(|| checks::verify_values(&tensor, &scheme, layout, name))
        .map_err(to_py)?;
    serde_json::to_string(&report)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot encode the report: {e}")))
}

/// The cancel handle of one `write()` (the library's [`CancelToken`]): made before its
/// worker thread starts, so a Ctrl-C at any moment after the call began counts.
#[pyclass(frozen, name = "CancelToken", module = "weightinit._weightinit")]
struct PyCancelToken(CancelToken);

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> Self {
        PyCancelToken(CancelToken::new())
    }

    /// Cancels the run: none of its files will appear. Returns False, changing nothing,
    /// when it came too late: every file of the run is already in place, whole.
    fn cancel(&self, py: Python<'_>) -> bool {
        // Waits for a commit in progress on the worker (it holds the registry's lock).
        py.detach(|| self.0.cancel())
    }

    /// Whether the run reached its final commit (too late to cancel).
    #[getter]
    fn committed(&self) -> bool {
        self.0.is_committed()
    }
}

/// `write()`: the request its keyword arguments describe ([`write_options::request_from`]), run
/// in this process on the caller's worker thread, so that Ctrl-C reaches Python, which
/// cancels `token`. The run's files are put in place together at its end, unless `token`
/// was cancelled before ([`atomic::run_cancellable`]). Prints what `report` asks for, as
/// gen does.
#[pyfunction]
fn write(
    py: Python<'_>,
    output: String,
    options: &Bound<'_, PyDict>,
    token: &Bound<'_, PyCancelToken>,
) -> PyResult<()> {
    let call = write_options::request_from(output, options)?;
    let token = token.get().0.clone();
    py.detach(|| atomic::run_cancellable(&token, || run_write(&call)))
        .map_err(to_py)
}

/// Runs a `write()` call: the memory budget, the request, then the report it asks for.
fn run_write(call: &write_options::WriteCall) -> weightinit::Result<()> {
    use std::io::Write as _;
    use weightinit::check::report::{render_human, render_json};
    use weightinit::request::Outcome;
    if let Some(size) = &call.max_memory {
        let bytes = weightinit::budget::parse_size(size)
            .map_err(|e| Error::Usage(format!("--max-memory: {e}")))?;
        weightinit::budget::set_limit(bytes);
    }
    let outcome =
        weightinit::request::run(&call.request, &mut weightinit::pipeline::write::Silent)?;
    let (text, to_stdout) = match (outcome, call.report.as_str()) {
        (Outcome::Planned(plan), report) => {
            let mode = if report == "json" {
                weightinit::cli::gen_cmd::ReportMode::Json
            } else {
                weightinit::cli::gen_cmd::ReportMode::Human
            };
            return weightinit::cli::dry_run::print(&plan, mode);
        }
        (Outcome::Written { .. }, "none") => return Ok(()),
        (Outcome::Written { reports, .. }, "human") => (render_human(&reports), false),
        (
            Outcome::Written {
                reports,
                data_on_stdout,
            },
            _,
        ) => (render_json(&reports), !data_on_stdout),
    };
    let written = if to_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    } else {
        std::io::stderr().lock().write_all(text.as_bytes())
    };
    written.map_err(|e| Error::io("<report>", e))
}

/// The `weightinit` command (the wheel's console script and `python -m weightinit`):
/// runs it with `args` and returns the exit status.
#[pyfunction]
fn main(py: Python<'_>, args: Vec<String>) -> u8 {
    py.detach(|| weightinit::cli::exit_status(args))
}

#[pymodule]
fn _weightinit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(generate, m)?)?;
    m.add_function(wrap_pyfunction!(fill, m)?)?;
    m.add_function(wrap_pyfunction!(shards::fill_region, m)?)?;
    m.add_class::<shards::Tensors>()?;
    m.add_function(wrap_pyfunction!(resolve, m)?)?;
    m.add_function(wrap_pyfunction!(schemes, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(write, m)?)?;
    m.add_class::<PyCancelToken>()?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    Ok(())
}
