//! One shard of a tensor: the elements a [`Region`] holds, equal bit for bit to the
//! whole tensor's at the same positions, whatever the stream and the law. How it is made
//! decides what it costs, and [`Drawn`] says which way it went:
//!
//! - a native-stream elementwise law draws only the region's elements (time and memory
//!   proportional to the shard, nothing else held);
//! - a law that exists only as a whole matrix (orthogonal, identity, dirac,
//!   delta-orthogonal, sparse, LSTM bias) or a framework stream (sequential: element i
//!   depends on every element before it) is built whole within the memory budget
//!   ([`crate::budget`]), and the region taken from it.

use crate::array::Region;
use crate::array::shape::dims_text;
use crate::draw::DrawElement;
use crate::error::{Error, Result};
use crate::tensor::ResolvedTensor;
use crate::tensor::rng::RngMode;

/// How a region was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawn {
    /// Only the region's elements were drawn.
    Alone,
    /// The whole tensor was built, holding this many bytes at its peak, and the region
    /// copied out of it.
    FromWhole { bytes: u64 },
}

/// Fills `out` (the region's local array, row-major, exactly `region.len()` elements)
/// with `tensor`'s elements at the region's positions. `E` must be the tensor's dtype.
pub fn draw_region_into<E: DrawElement>(
    tensor: &ResolvedTensor,
    region: &Region,
    out: &mut [E],
) -> Result<Drawn> {
    let dims = tensor.spec.shape.dims();
    if region.global_dims() != dims {
        return Err(Error::Usage(format!(
            "the region is of a {} tensor, but tensor '{}' is {}",
            dims_text(region.global_dims()),
            tensor.spec.name,
            tensor.spec.shape
        )));
    }
    if E::DTYPE != tensor.spec.dtype {
        return Err(Error::Usage(format!(
            "tensor '{}' is {}, but a buffer of {} was given",
            tensor.spec.name,
            tensor.spec.dtype,
            E::DTYPE
        )));
    }
    if out.len() != region.len() {
        return Err(Error::Usage(format!(
            "the region of tensor '{}' holds {} elements ({}), but the buffer holds {}",
            tensor.spec.name,
            region.len(),
            dims_text(&region.local_dims()),
            out.len()
        )));
    }
    if region.is_whole() {
        return draw_whole_into(tensor, out);
    }
    if tensor.spec.rng == RngMode::Native
        && crate::draw::region::draw_region(tensor, region, out).is_some()
    {
        super::generate::all_finite(tensor, out)?;
        return Ok(Drawn::Alone);
    }
    // Built whole: the budget is checked for the tensor and what its construction holds
    // before anything is allocated.
    let bytes = whole_cost(tensor).unwrap_or(u64::MAX);
    let what = || {
        format!(
            "the whole of tensor '{}' ({} {}), to take one shard of it ({})",
            crate::text::bound_to(&crate::text::escape_control(&tensor.spec.name), 60),
            tensor.spec.shape,
            tensor.spec.dtype,
            why_whole(tensor)
        )
    };
    crate::budget::check(Some(bytes), &what())?;
    let mut whole = crate::budget::try_zeroed::<E>(tensor.spec.shape.len(), what)?;
    super::generate::draw_into(tensor, &mut whole)?;
    region.gather(&whole, out);
    Ok(Drawn::FromWhole { bytes })
}

/// Fills `out` with the whole of `tensor` (row-major, its element count): what a
/// region of every index gives, without building the index lists (a 1-D tensor of 10⁸
/// elements would need 800 MB of them).
pub fn draw_whole_into<E: DrawElement>(tensor: &ResolvedTensor, out: &mut [E]) -> Result<Drawn> {
    if let Some(drawn) = super::generate::draw_native_in_place(tensor, out) {
        drawn?;
        return Ok(Drawn::Alone);
    }
    // `draw_into` checks the dtype and the size; nothing is held beside `out` but what
    // the law's construction needs.
    super::generate::draw_into(tensor, out)?;
    Ok(Drawn::Alone)
}

/// Bytes held at the peak when `tensor` is built whole in memory: the tensor plus what
/// its construction holds ([`super::generate::memory_needed`]); `None` on overflow.
pub fn whole_cost(tensor: &ResolvedTensor) -> Option<u64> {
    let values = (tensor.spec.shape.len() as u64).checked_mul(tensor.spec.dtype.size() as u64)?;
    values.checked_add(super::generate::memory_needed(tensor)?)
}

/// Why a shard of `tensor` needs the whole tensor, for messages.
fn why_whole(tensor: &ResolvedTensor) -> String {
    if tensor.spec.rng != RngMode::Native {
        format!(
            "--rng {} draws a tensor in sequence; the native stream draws any part alone",
            tensor.spec.rng
        )
    } else {
        format!("'{}' is built as a whole matrix", tensor.spec.scheme)
    }
}
