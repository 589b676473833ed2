//! `.safetensors` (Hugging Face's format): an 8-byte little-endian header length, a JSON
//! header giving each tensor's dtype, shape and byte range, then the raw little-endian
//! data of every tensor back to back.
//!
//! Written here, streaming, rather than with the `safetensors` crate, whose writer takes
//! every tensor's bytes in memory at once; the header depends only on names, dtypes and
//! shapes, so it is written first and the data follows tensor by tensor. The tests read
//! the files back with the crate (and, in CI, with the Python package).

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::array::dtype::DType;
use crate::array::{TensorSink, Values};

/// One tensor's entry in the header.
pub struct Entry<'a> {
    pub name: &'a str,
    pub dtype: DType,
    pub shape: &'a [usize],
}

fn dtype_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "F32",
        DType::F64 => "F64",
        DType::F16 => "F16",
        DType::Bf16 => "BF16",
    }
}

/// Writes the length prefix and the JSON header for `entries`, whose data must then be
/// written in the same order. `metadata` becomes `__metadata__` (string values only, as
/// the format requires). The header is padded with spaces to a multiple of 8 bytes, so
/// the data starts aligned.
pub fn write_header<W: Write>(
    w: &mut W,
    entries: &[Entry<'_>],
    metadata: &BTreeMap<String, String>,
) -> io::Result<()> {
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert("__metadata__".into(), serde_json::json!(metadata));
    }
    let mut offset = 0u64;
    for e in entries {
        let bytes = e.shape.iter().product::<usize>() as u64 * e.dtype.size() as u64;
        header.insert(
            e.name.to_string(),
            serde_json::json!({
                "dtype": dtype_name(e.dtype),
                "shape": e.shape,
                "data_offsets": [offset, offset + bytes],
            }),
        );
        offset += bytes;
    }
    let mut text = serde_json::to_vec(&header).map_err(io::Error::other)?;
    while (8 + text.len()) % 8 != 0 {
        text.push(b' ');
    }
    w.write_all(&(text.len() as u64).to_le_bytes())?;
    w.write_all(&text)
}

/// Writes a tensor's values as raw little-endian bytes (the data section).
pub struct RawWriter<W: Write> {
    w: W,
}

impl<W: Write> RawWriter<W> {
    pub fn new(w: W) -> Self {
        RawWriter { w }
    }
}

impl<W: Write> TensorSink for RawWriter<W> {
    fn write_values(&mut self, values: Values<'_>) -> io::Result<()> {
        super::npy::write_le(&mut self.w, values)
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_lists_contiguous_ranges() {
        let mut out = Vec::new();
        let entries = [
            Entry {
                name: "fc0.weight",
                dtype: DType::F32,
                shape: &[3, 2],
            },
            Entry {
                name: "fc0.bias",
                dtype: DType::F64,
                shape: &[2],
            },
        ];
        write_header(&mut out, &entries, &BTreeMap::new()).unwrap();
        let n = u64::from_le_bytes(out[..8].try_into().unwrap()) as usize;
        assert_eq!(out.len(), 8 + n);
        assert_eq!(out.len() % 8, 0);
        let header: serde_json::Value = serde_json::from_slice(&out[8..]).unwrap();
        assert_eq!(
            header["fc0.weight"]["data_offsets"],
            serde_json::json!([0, 24])
        );
        assert_eq!(
            header["fc0.bias"]["data_offsets"],
            serde_json::json!([24, 40])
        );
        assert_eq!(header["fc0.bias"]["dtype"], "F64");
    }
}
