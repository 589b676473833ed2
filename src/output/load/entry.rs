//! What the checked reader knows of one tensor before reading its data: its header
//! (name, shape, dtype, where its bytes are), checked against the bytes that hold it.

use super::header::{self, checked_numel};
use crate::array::dtype::DType;

/// One tensor of a file as its header describes it, already checked against the bytes
/// that hold it ([`super::read_headers`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TensorHeader {
    /// `.npy`: the file stem; `.npz`: the member name without `.npy`; safetensors: the key.
    /// Unescaped: pass it through [`crate::text::escape_control`] before printing it.
    pub name: String,
    /// Outermost axis first; empty for a 0-d array.
    pub shape: Vec<usize>,
    /// The dtype as the file writes it: `<f4`, `>f8`, `|b1` (.npy), `F32`, `I64`
    /// (safetensors).
    pub source_dtype: String,
    /// What it holds, by NumPy name: `float32`, `int64`, `float8_e4m3`, ...
    pub holds: String,
    /// The float type weightinit reads (and writes), when it is one.
    pub dtype: Option<DType>,
    /// Whether it is a floating-point type of any width (float8 and float128 included).
    pub is_float: bool,
    /// The bytes of its data: shape × item size, equal to what the file has for it.
    pub data_bytes: u64,
    pub(super) fortran_order: bool,
    pub(super) big_endian: bool,
    pub(super) place: Place,
}

impl TensorHeader {
    /// Number of values (1 for a 0-d array); checked when the header was read.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Where a tensor's data starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Place {
    /// At this offset of the file (`.npy`, `.safetensors`).
    File { offset: u64 },
    /// In archive member `index`, after its `.npy` header.
    Member { index: usize, member: String },
}

/// The tensor an `.npy` header describes, checked against the `available` bytes that
/// follow the header; `has(needed)` says what the file has, for the message.
pub(super) fn npy_tensor(
    name: String,
    h: header::NpyHeader,
    available: u64,
    place: Place,
    has: impl Fn(u64) -> String,
) -> Result<TensorHeader, String> {
    check_rank(&h.shape)?;
    let kind = h.descr.trim_start_matches(['<', '>', '|', '=']);
    let is_float = kind.starts_with('f');
    let (dtype, big_endian, holds) = match header::npy_float(&h.descr) {
        Ok(f) => (Some(f.dtype), f.big_endian, numpy_name(f.dtype).to_string()),
        Err(holds) => (None, false, holds),
    };
    let numel = checked_numel(&h.shape).ok_or_else(|| format!("shape {:?} overflows", h.shape))?;
    // Python objects are pickled, so their size cannot be known from the header; they are
    // never read, only reported.
    let data_bytes = match npy_itemsize(&h.descr) {
        Some(size) => {
            let needed = (numel as u64)
                .checked_mul(size)
                .ok_or_else(|| format!("shape {:?} of {holds} overflows", h.shape))?;
            if needed != available {
                return Err(format!(
                    "shape {:?} of {holds} needs {needed} bytes of data, but {}",
                    h.shape,
                    has(needed)
                ));
            }
            needed
        }
        None => available,
    };
    Ok(TensorHeader {
        name,
        shape: h.shape,
        source_dtype: h.descr,
        holds,
        dtype,
        is_float,
        data_bytes,
        fortran_order: h.fortran_order,
        big_endian,
        place,
    })
}

pub(super) fn check_rank(shape: &[usize]) -> Result<(), String> {
    if shape.len() > MAX_RANK {
        return Err(format!(
            "a shape of {} axes is more than {MAX_RANK}",
            shape.len()
        ));
    }
    Ok(())
}

/// NumPy's name for a float type weightinit reads.
pub(super) fn numpy_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F16 => "float16",
        DType::Bf16 => "bfloat16",
        DType::F32 => "float32",
        DType::F64 => "float64",
    }
}

/// Bytes per element of an `.npy` `descr` (`<f4` → 4, `<U3` → 12, `|b1` → 1), or `None`
/// when the header cannot say (Python objects, which are pickled; unknown kinds).
pub(super) fn npy_itemsize(descr: &str) -> Option<u64> {
    let kind = descr.trim_start_matches(['<', '>', '|', '=']);
    let mut chars = kind.chars();
    let letter = chars.next()?;
    let digits: String = chars.take_while(char::is_ascii_digit).collect();
    let count = digits.parse::<u64>().ok();
    match letter {
        '?' => Some(1),
        'U' => count?.checked_mul(4),
        'b' | 'i' | 'u' | 'f' | 'c' | 'S' | 'a' | 'V' | 'M' | 'm' => count,
        _ => None,
    }
}

/// Deflate cannot expand data by more than about 1032:1 (258-byte matches coded in as
/// few as 2 bits), so a compressed member claiming more is lying about its size.
pub(super) const MAX_DEFLATE_RATIO: u64 = 1032;

/// Bytes read and decoded at a time.
pub(super) const CHUNK: usize = 1 << 16;

/// Most axes a stored tensor may have (NumPy 2's own limit).
pub const MAX_RANK: usize = 64;
