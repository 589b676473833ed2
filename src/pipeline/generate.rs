//! One tensor's values from its random stream: the native stream ([`crate::draw`]) or a
//! framework's ([`crate::compat`]), chosen by the tensor's [`RngMode`]; plus the checks
//! every tensor passes whatever its stream (the memory budget before, finite values
//! after) and drawing into memory as an array.

use crate::array::dtype::Element;
use crate::array::{TensorSink, Values};
use crate::check::Generated;
use crate::compat::Generators;
use crate::draw;
use crate::error::{Error, Result};
use crate::law::Distribution;
use crate::tensor::ResolvedTensor;
use crate::tensor::rng::RngMode;

/// What lasts across the tensors of one run: the sequential framework generators (see
/// [`Generators`]), so that a run draws its tensors as the script it mirrors would.
#[derive(Debug, Default)]
pub struct Session {
    generators: Generators,
}

impl Session {
    pub fn new() -> Self {
        Self::default()
    }

    /// Draws `tensor` into `sink` with the tensor's random stream (see [`generate`]).
    pub fn generate(
        &mut self,
        tensor: &ResolvedTensor,
        sink: &mut (dyn TensorSink + Send),
        label: &str,
    ) -> Result<Generated> {
        check_memory(tensor)?;
        let generated = crate::compat::stream(tensor.spec.rng).draw(
            tensor,
            sink,
            label,
            &mut self.generators,
        )?;
        finite_or_refused(tensor, generated)
    }
}

/// Draws `tensor` into `sink` with its own stream, as a fresh [`Session`] would (a
/// framework stream starts its generator from the tensor's seed). I/O errors are reported
/// against `label` (a path or `<stdout>`). Parallelism comes from the current rayon pool.
pub fn generate(
    tensor: &ResolvedTensor,
    sink: &mut (dyn TensorSink + Send),
    label: &str,
) -> Result<Generated> {
    Session::new().generate(tensor, sink, label)
}

/// The last guard against overflow: resolution refuses laws that reach past the dtype
/// ([`crate::compat::resolve::NORMAL_REACH`]), and a draw beyond that reach which still rounds to
/// ±inf fails the tensor here, before its file is committed.
fn finite_or_refused(tensor: &ResolvedTensor, generated: Generated) -> Result<Generated> {
    let s = &generated.stats;
    if s.count == 0 || (s.min.is_finite() && s.max.is_finite()) {
        return Ok(generated);
    }
    Err(beyond_finite(tensor, s.min, s.max))
}

/// The refusal of a tensor that drew a value its dtype cannot hold (f16 overflows first).
fn beyond_finite(tensor: &ResolvedTensor, min: f64, max: f64) -> Error {
    Error::Param(format!(
        "tensor '{}' drew a value beyond the largest finite {} (min {}, max {}); use a \
         wider dtype or a smaller scale",
        crate::text::bound_to(&crate::text::escape_control(&tensor.spec.name), 60),
        tensor.spec.dtype,
        min,
        max
    ))
}

/// Draws a native-stream, elementwise tensor straight into `out` on all cores (each block
/// of the stream written where it belongs: no sink, no copy, no statistics), or returns
/// `None` for a tensor that needs [`Session::draw_into`]: a framework stream, or a law
/// built as a whole matrix. The values are those of every other path, bit for bit.
pub fn draw_native_in_place<E: crate::draw::DrawElement>(
    tensor: &ResolvedTensor,
    out: &mut [E],
) -> Option<Result<()>> {
    if tensor.spec.rng != RngMode::Native || out.len() != tensor.spec.shape.len() {
        return None;
    }
    draw::engine::draw_range(tensor, 0, out)?;
    Some(all_finite(tensor, out))
}

/// Refuses values drawn without a sink (which would have checked them) that overflowed
/// the tensor's dtype; cheap when the law cannot reach the dtype's largest value.
pub(crate) fn all_finite<E: crate::draw::DrawElement>(
    tensor: &ResolvedTensor,
    out: &[E],
) -> Result<()> {
    use rayon::prelude::*;
    let dtype_max = tensor.spec.dtype.largest_finite();
    // A normal value is mean + std·z with Box–Muller's |z| ≤ √(−2 ln u), and u is a
    // positive f64, so |z| < √(2·745) < 40 whatever the uniform's resolution. Rounding
    // to the dtype moves a value by less than 1% (bf16: 2^-8 relative).
    let reach = tensor.resolved.distribution.reach(40.0);
    if reach * 1.01 < dtype_max || out.par_iter().all(|x| x.to_f64().is_finite()) {
        return Ok(());
    }
    let (min, max) = out
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x.to_f64()), hi.max(x.to_f64()))
        });
    Err(beyond_finite(tensor, min, max))
}

/// Bytes that generating `tensor` holds in memory at once beyond the fixed block buffers
/// of streaming (None if the count overflows): 0 for elementwise laws, which stream;
/// the whole tensor for laws built as one matrix; PyTorch's truncated normal keeps the
/// tensor, a redraw of it and the indices still outside the window.
///
/// Orthogonal's figure counts the Gaussian matrix, faer's QR copy and factor, Q, the
/// stored values and the f64 copy and Gram input of the orthogonality check.
pub fn memory_needed(tensor: &ResolvedTensor) -> Option<u64> {
    let elements = tensor.spec.shape.len() as u64;
    let element = tensor.spec.dtype.size() as u64;
    let per_element = match (tensor.resolved.distribution, tensor.spec.rng) {
        // Delta-orthogonal builds only the centre's channel matrix; counting the whole
        // tensor as orthogonal overestimates by the kernel size, on the safe side.
        (Distribution::Orthogonal { .. } | Distribution::DeltaOrthogonal { .. }, _) => {
            6 * 8 + element
        }
        (Distribution::Identity { .. } | Distribution::Dirac { .. }, _) => element,
        // The values, and PyTorch's int64 permutation of one column at a time (native:
        // one unit's numbers), which is small beside them.
        (Distribution::Sparse { .. } | Distribution::LstmBias { .. }, _) => element,
        (Distribution::TruncatedNormal { .. }, RngMode::Torch) => 2 * element + 8,
        _ => return Some(0),
    };
    elements.checked_mul(per_element)
}

/// Refuses, before anything is allocated, a tensor whose generation would hold more in
/// memory than the budget ([`crate::budget`]) allows.
pub fn check_memory(tensor: &ResolvedTensor) -> Result<()> {
    let needed = memory_needed(tensor);
    if needed == Some(0) {
        return Ok(());
    }
    let what = format!(
        "tensor '{}' ({} {} {}, built whole in memory)",
        crate::text::bound_to(&crate::text::escape_control(&tensor.spec.name), 60),
        tensor.spec.scheme.name(),
        crate::text::bound_to(&tensor.spec.shape.to_string(), 60),
        tensor.spec.dtype
    );
    check_budget(tensor, needed, &what)
}

/// [`crate::budget::check`], or its variant for jobs that run matrix products (the QR of
/// `orthogonal` and `delta-orthogonal`).
fn check_budget(tensor: &ResolvedTensor, needed: Option<u64>, what: &str) -> Result<()> {
    match tensor.resolved.distribution {
        Distribution::Orthogonal { .. } | Distribution::DeltaOrthogonal { .. } => {
            crate::budget::check_products(needed, what)
        }
        _ => crate::budget::check(needed, what),
    }
}

/// A sink that keeps the values in memory, for library users and tests.
struct VecSink<E> {
    values: Vec<E>,
}

impl<E: Element> TensorSink for VecSink<E> {
    fn write_values(&mut self, values: Values<'_>) -> std::io::Result<()> {
        // The values arrive in the tensor's dtype, which draw_array checked is E's.
        match E::same_type(values) {
            Some(same) => self.values.extend_from_slice(same),
            None => self
                .values
                .extend((0..values.len()).map(|i| E::from_f64(values.get_f64(i)))),
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sink that fills memory someone else owns (a NumPy array, a torch tensor), in order.
struct SliceSink<'a, E> {
    out: &'a mut [E],
    filled: usize,
}

impl<E: Element> TensorSink for SliceSink<'_, E> {
    fn write_values(&mut self, values: Values<'_>) -> std::io::Result<()> {
        let end = self.filled + values.len();
        let Some(dest) = self.out.get_mut(self.filled..end) else {
            return Err(std::io::Error::other("more values than the buffer holds"));
        };
        match E::same_type(values) {
            Some(same) => dest.copy_from_slice(same),
            None => {
                for (i, d) in dest.iter_mut().enumerate() {
                    *d = E::from_f64(values.get_f64(i));
                }
            }
        }
        self.filled = end;
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Draws `tensor` into memory as an n-dimensional array in its shape (a fresh
/// [`Session`]: a `--rng numpy` tensor starts its own generator).
///
/// `E` must match the tensor's dtype (`f32` for [`DType::F32`](crate::array::DType::F32),
/// `f64` for [`DType::F64`](crate::array::DType::F64)), so the values are exactly those a file would hold.
pub fn draw_array<E: Element>(tensor: &ResolvedTensor) -> Result<(ndarray::ArrayD<E>, Generated)> {
    Session::new().draw_array(tensor)
}

impl Session {
    /// [`draw_array`] within this session: framework generators continue from the
    /// tensors drawn before.
    pub fn draw_array<E: Element>(
        &mut self,
        tensor: &ResolvedTensor,
    ) -> Result<(ndarray::ArrayD<E>, Generated)> {
        if E::DTYPE != tensor.spec.dtype {
            return Err(Error::Usage(format!(
                "tensor '{}' is {}, but an array of {} was requested",
                tensor.spec.name,
                tensor.spec.dtype,
                E::DTYPE
            )));
        }
        let n = tensor.spec.shape.len();
        let whole = crate::budget::elements(n, std::mem::size_of::<E>())
            .and_then(|b| b.checked_add(memory_needed(tensor)?));
        check_budget(
            tensor,
            whole,
            &format!(
                "an array of tensor '{}' ({} {})",
                crate::text::bound_to(&crate::text::escape_control(&tensor.spec.name), 60),
                tensor.spec.shape,
                tensor.spec.dtype
            ),
        )?;
        let mut sink = VecSink { values: Vec::new() };
        crate::budget::try_reserve(&mut sink.values, n, || {
            format!(
                "an array of tensor '{}' ({} {})",
                crate::text::bound_to(&crate::text::escape_control(&tensor.spec.name), 60),
                tensor.spec.shape,
                tensor.spec.dtype
            )
        })?;
        let generated = self.generate(tensor, &mut sink, "<memory>")?;
        let array = ndarray::ArrayD::from_shape_vec(tensor.spec.shape.dims(), sink.values)
            .map_err(|e| Error::Numerical(format!("array shape: {e}")))?;
        Ok((array, generated))
    }

    /// Draws `tensor` into `out`, which holds exactly its elements in row-major order:
    /// the values [`Session::draw_array`] returns, written into memory the caller owns.
    pub fn draw_into<E: Element>(
        &mut self,
        tensor: &ResolvedTensor,
        out: &mut [E],
    ) -> Result<Generated> {
        if E::DTYPE != tensor.spec.dtype {
            return Err(Error::Usage(format!(
                "tensor '{}' is {}, but a buffer of {} was given",
                tensor.spec.name,
                tensor.spec.dtype,
                E::DTYPE
            )));
        }
        let n = tensor.spec.shape.len();
        if out.len() != n {
            return Err(Error::Usage(format!(
                "tensor '{}' of shape {} has {n} elements, but the buffer holds {}",
                tensor.spec.name,
                tensor.spec.shape,
                out.len()
            )));
        }
        let mut sink = SliceSink { out, filled: 0 };
        let generated = self.generate(tensor, &mut sink, "<memory>")?;
        debug_assert_eq!(sink.filled, n);
        Ok(generated)
    }
}

/// Draws `tensor` into `out` (see [`Session::draw_into`]) with a fresh [`Session`].
pub fn draw_into<E: Element>(tensor: &ResolvedTensor, out: &mut [E]) -> Result<Generated> {
    Session::new().draw_into(tensor, out)
}
