//! Raw tensor bytes to f64 values: little- or big-endian f2/f4/f8 (and safetensors' bf16),
//! read in bounded chunks, and Fortran order turned into C order.

use std::io::Read;

use super::entry::CHUNK;
use super::header::NpyFloat;
use crate::array::dtype::DType;

/// Reads exactly `bytes` bytes of `float` elements (a whole number of them, checked by
/// the caller) and widens them to f64. The buffer is reserved once, for a size the
/// caller has checked against the file and the memory budget.
pub(super) fn read_values<R: Read>(
    r: &mut R,
    float: NpyFloat,
    bytes: u64,
) -> Result<Vec<f64>, String> {
    let size = float.dtype.size();
    let count = usize::try_from(bytes / size as u64)
        .map_err(|_| format!("{bytes} bytes of data do not fit in memory"))?;
    let mut values = Vec::new();
    values
        .try_reserve_exact(count)
        .map_err(|_| format!("{count} values do not fit in memory"))?;
    let mut buf = vec![0u8; CHUNK];
    let mut left = bytes;
    while left > 0 {
        let take = CHUNK.min(usize::try_from(left).unwrap_or(CHUNK));
        let chunk = &mut buf[..take];
        r.read_exact(chunk).map_err(|e| {
            format!(
                "the data ends after {} of {bytes} bytes ({e})",
                bytes - left
            )
        })?;
        decode(chunk, float, &mut values);
        left -= take as u64;
    }
    Ok(values)
}

/// Appends the elements of `bytes` (a multiple of the element size) to `out`.
pub(super) fn decode(bytes: &[u8], float: NpyFloat, out: &mut Vec<f64>) {
    fn words<const N: usize>(bytes: &[u8], big: bool) -> impl Iterator<Item = [u8; N]> + '_ {
        bytes.chunks_exact(N).map(move |c| {
            let mut w: [u8; N] = c.try_into().expect("chunks_exact gives N bytes");
            if big {
                w.reverse();
            }
            w
        })
    }
    let big = float.big_endian;
    match float.dtype {
        DType::F64 => out.extend(words::<8>(bytes, big).map(f64::from_le_bytes)),
        DType::F32 => out.extend(words::<4>(bytes, big).map(|w| f64::from(f32::from_le_bytes(w)))),
        DType::F16 => out.extend(
            words::<2>(bytes, big).map(|w| half::f16::from_bits(u16::from_le_bytes(w)).to_f64()),
        ),
        DType::Bf16 => out.extend(
            words::<2>(bytes, big).map(|w| half::bf16::from_bits(u16::from_le_bytes(w)).to_f64()),
        ),
    }
}

/// Reorders column-major values (first axis fastest) of `shape` into row-major order.
pub(super) fn fortran_to_c(values: Vec<f64>, shape: &[usize]) -> Result<Vec<f64>, String> {
    // Nothing to reorder; and with no values, an empty axis may sit beside axes whose
    // product overflows (`(0, 2^32, 2^32)`), which the strides below would compute.
    if shape.len() < 2 || values.is_empty() {
        return Ok(values);
    }
    // Row-major strides (partial products of a shape holding `values.len()` elements, so
    // none overflows); walk the column-major order with an odometer over the indices.
    let mut strides = vec![1usize; shape.len()];
    for k in (0..shape.len() - 1).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    let mut out = Vec::new();
    out.try_reserve_exact(values.len()).map_err(|_| {
        format!(
            "{} values in Fortran order do not fit in memory twice",
            values.len()
        )
    })?;
    out.resize(values.len(), 0.0);
    let mut index = vec![0usize; shape.len()];
    let mut offset = 0usize;
    for &v in &values {
        out[offset] = v;
        for k in 0..shape.len() {
            index[k] += 1;
            offset += strides[k];
            if index[k] < shape[k] {
                break;
            }
            offset -= shape[k] * strides[k];
            index[k] = 0;
        }
    }
    Ok(out)
}
