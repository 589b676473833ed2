//! `gen --like FILE`: the tensor layout (names, shapes, dtypes) of an existing
//! `.safetensors` or `.npz` file, read from its headers only — never its data — so a
//! fresh initialization can be written with the same layout.
//!
//! The files may come from anywhere, so every size read from them is checked before it
//! is used: a header longer than the format allows or than the file, a shape whose
//! element count overflows, byte ranges that do not match the shape, too many tensors —
//! each gets a one-line error, never an allocation of the claimed size or a panic.

use std::io::{Read, Seek};
use std::path::Path;

use crate::error::{Error, Result};
use crate::sample::DType;

/// The safetensors format's own limit on the JSON header (100 MB, as in the reference
/// implementation).
const MAX_SAFETENSORS_HEADER: u64 = 100_000_000;
/// More tensors than any real model has; a hostile archive could list millions.
const MAX_TENSORS: usize = 1_000_000;
/// An .npy header is a short Python dict; NumPy itself writes at most a few hundred bytes.
const MAX_NPY_HEADER: usize = 1 << 20;

/// One tensor of the source file.
#[derive(Debug, Clone, PartialEq)]
pub struct LikeTensor {
    pub name: String,
    pub shape: Vec<usize>,
    /// The source's dtype as written there (`F32`, `BF16`, `<f4`, `<i8`, ...).
    pub source_dtype: String,
    /// The dtype to write: the source's when weightinit has it (f32, f64, f16, bf16).
    pub dtype: Option<DType>,
    /// Whether the source dtype is a floating-point one (integer tensors are buffers,
    /// not weights).
    pub is_float: bool,
}

/// Reads the layout of `path` (`.safetensors` or `.npz`, by extension).
pub fn read_layout(path: &Path) -> Result<Vec<LikeTensor>> {
    let label = path.display().to_string();
    let bad = |why: String| Error::Usage(format!("--like '{label}': {why}"));
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let mut file = std::fs::File::open(path).map_err(|e| bad(format!("cannot open: {e}")))?;
    let len = file
        .metadata()
        .map_err(|e| bad(format!("cannot read: {e}")))?
        .len();
    let tensors = match ext.as_deref() {
        Some("safetensors") => safetensors_layout(&mut file, len).map_err(bad)?,
        Some("npz") => npz_layout(file).map_err(bad)?,
        _ => {
            return Err(bad(
                "expected a .safetensors or .npz file (its layout is read from the headers)".into(),
            ));
        }
    };
    if tensors.is_empty() {
        return Err(bad("it holds no tensors".into()));
    }
    Ok(tensors)
}

fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

fn safetensors_dtype(name: &str) -> (Option<DType>, bool, Option<usize>) {
    // (weightinit dtype, is float, bytes per element)
    match name {
        "F32" => (Some(DType::F32), true, Some(4)),
        "F64" => (Some(DType::F64), true, Some(8)),
        "F16" => (Some(DType::F16), true, Some(2)),
        "BF16" => (Some(DType::Bf16), true, Some(2)),
        "F8_E4M3" | "F8_E5M2" | "F8_E8M0" => (None, true, Some(1)),
        "I8" | "U8" | "BOOL" => (None, false, Some(1)),
        "I16" | "U16" => (None, false, Some(2)),
        "I32" | "U32" => (None, false, Some(4)),
        "I64" | "U64" => (None, false, Some(8)),
        _ => (None, false, None),
    }
}

fn safetensors_layout<R: Read + Seek>(
    r: &mut R,
    file_len: u64,
) -> std::result::Result<Vec<LikeTensor>, String> {
    let mut prefix = [0u8; 8];
    r.read_exact(&mut prefix)
        .map_err(|_| "not a safetensors file: shorter than its 8-byte header length".to_string())?;
    let n = u64::from_le_bytes(prefix);
    if n > MAX_SAFETENSORS_HEADER {
        return Err(format!(
            "header length {n} exceeds the format's limit of {MAX_SAFETENSORS_HEADER} bytes"
        ));
    }
    if n > file_len - 8 {
        return Err(format!(
            "header length {n} is longer than the file ({file_len} bytes)"
        ));
    }
    let mut header = vec![0u8; n as usize];
    r.read_exact(&mut header)
        .map_err(|e| format!("cannot read the header: {e}"))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| format!("the JSON header is invalid: {e}"))?;
    let object = doc.as_object().ok_or("the header is not a JSON object")?;
    if object.len() > MAX_TENSORS + 1 {
        return Err(format!(
            "{} entries is more than {MAX_TENSORS} tensors",
            object.len()
        ));
    }
    let data_len = file_len - 8 - n;
    let mut tensors = Vec::new();
    for (name, entry) in object {
        if name == "__metadata__" {
            continue;
        }
        let field = |k: &str| entry.get(k).ok_or(format!("tensor '{name}' has no '{k}'"));
        let dtype_name = field("dtype")?
            .as_str()
            .ok_or(format!("tensor '{name}': dtype is not a string"))?;
        let shape: Vec<usize> = field("shape")?
            .as_array()
            .ok_or(format!("tensor '{name}': shape is not a list"))?
            .iter()
            .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
            .collect::<Option<_>>()
            .ok_or(format!(
                "tensor '{name}': shape holds a value that is not a size"
            ))?;
        let numel =
            checked_numel(&shape).ok_or(format!("tensor '{name}': shape {shape:?} overflows"))?;
        let offsets = field("data_offsets")?
            .as_array()
            .filter(|a| a.len() == 2)
            .and_then(|a| Some((a[0].as_u64()?, a[1].as_u64()?)))
            .ok_or(format!("tensor '{name}': data_offsets is not [begin, end]"))?;
        let (dtype, is_float, size) = safetensors_dtype(dtype_name);
        let size = size.ok_or(format!("tensor '{name}': unknown dtype '{dtype_name}'"))?;
        let bytes = (numel as u64).checked_mul(size as u64);
        if offsets.0 > offsets.1 || offsets.1 > data_len || Some(offsets.1 - offsets.0) != bytes {
            return Err(format!(
                "tensor '{name}': data_offsets [{}, {}] do not match shape {shape:?} of {dtype_name} \
                 in {data_len} bytes of data",
                offsets.0, offsets.1
            ));
        }
        tensors.push(LikeTensor {
            name: name.clone(),
            shape,
            source_dtype: dtype_name.to_string(),
            dtype,
            is_float,
        });
    }
    // Keep the source's order (by position in the data), not the JSON's key order.
    let position = |t: &LikeTensor| object[&t.name]["data_offsets"][0].as_u64().unwrap_or(0);
    tensors.sort_by_key(|t| (position(t), t.name.clone()));
    Ok(tensors)
}

fn npz_layout(file: std::fs::File) -> std::result::Result<Vec<LikeTensor>, String> {
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| format!("not a readable .npz (zip) file: {e}"))?;
    if archive.len() > MAX_TENSORS {
        return Err(format!(
            "{} members is more than {MAX_TENSORS} tensors",
            archive.len()
        ));
    }
    let mut tensors = Vec::new();
    for i in 0..archive.len() {
        let mut member = archive
            .by_index(i)
            .map_err(|e| format!("member {i}: {e}"))?;
        let member_name = member
            .name()
            .map_err(|e| format!("member {i}: {e}"))?
            .to_string();
        let Some(name) = member_name.strip_suffix(".npy") else {
            continue; // np.load ignores other members too
        };
        let (descr, shape) =
            read_npy_header(&mut member).map_err(|e| format!("{member_name}: {e}"))?;
        checked_numel(&shape).ok_or(format!("{member_name}: shape {shape:?} overflows"))?;
        let kind = descr.trim_start_matches(['<', '>', '|', '=']);
        let (dtype, is_float) = match kind {
            "f4" => (Some(DType::F32), true),
            "f8" => (Some(DType::F64), true),
            "f2" => (Some(DType::F16), true),
            k if k.starts_with('f') => (None, true),
            _ => (None, false),
        };
        tensors.push(LikeTensor {
            name: name.to_string(),
            shape,
            source_dtype: descr,
            dtype,
            is_float,
        });
    }
    Ok(tensors)
}

/// Reads an .npy header (format 1.0, 2.0 or 3.0) and returns (descr, shape). Only the
/// header is read, however large the array.
fn read_npy_header<R: Read>(r: &mut R) -> std::result::Result<(String, Vec<usize>), String> {
    let mut start = [0u8; 8];
    r.read_exact(&mut start)
        .map_err(|_| "too short for an .npy header")?;
    if &start[..6] != b"\x93NUMPY" {
        return Err("not an .npy file (bad magic)".into());
    }
    let len = match start[6] {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).map_err(|_| "truncated .npy header")?;
            u16::from_le_bytes(b) as usize
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b).map_err(|_| "truncated .npy header")?;
            u32::from_le_bytes(b) as usize
        }
        v => return Err(format!(".npy format version {v} is unknown")),
    };
    if len > MAX_NPY_HEADER {
        return Err(format!(
            "header of {len} bytes is longer than {MAX_NPY_HEADER}"
        ));
    }
    let mut text = vec![0u8; len];
    r.read_exact(&mut text)
        .map_err(|_| "truncated .npy header")?;
    let text = String::from_utf8(text).map_err(|_| "the .npy header is not text")?;
    parse_npy_dict(&text)
}

/// The `descr` and `shape` of an .npy header dict such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (784, 128), }`.
fn parse_npy_dict(text: &str) -> std::result::Result<(String, Vec<usize>), String> {
    let value_after = |key: &str| -> std::result::Result<&str, String> {
        let at = text
            .find(&format!("'{key}'"))
            .ok_or(format!("the header has no '{key}'"))?;
        let rest = &text[at + key.len() + 2..];
        let colon = rest.find(':').ok_or(format!("no value for '{key}'"))?;
        Ok(rest[colon + 1..].trim_start())
    };
    let descr = value_after("descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split_once('\''))
        .map(|(d, _)| d.to_string())
        .ok_or("'descr' is not a quoted string (structured dtypes are not weights)")?;
    if value_after("fortran_order")?.starts_with("True") {
        return Err("Fortran-order arrays are not supported".into());
    }
    let shape = value_after("shape")?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|s| s.split_once(')'))
        .map(|(s, _)| s)
        .ok_or("'shape' is not a tuple")?;
    let dims = inner
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<usize>()
                .map_err(|_| format!("shape entry '{d}' is not a size"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((descr, dims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn safetensors_bytes(header: &str, data: usize) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend(std::iter::repeat_n(0u8, data));
        v
    }

    fn layout(bytes: &[u8]) -> std::result::Result<Vec<LikeTensor>, String> {
        safetensors_layout(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    #[test]
    fn reads_names_shapes_and_dtypes_in_data_order() {
        let header = r#"{"__metadata__":{"format":"pt"},
            "b":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},
            "a":{"dtype":"BF16","shape":[3,4],"data_offsets":[0,24]}}"#;
        let t = layout(&safetensors_bytes(header, 32)).unwrap();
        assert_eq!(t[0].name, "a");
        assert_eq!(t[0].shape, vec![3, 4]);
        assert_eq!(t[0].dtype, Some(DType::Bf16));
        assert!(t[0].is_float);
        assert_eq!(t[1].dtype, Some(DType::F32));
    }

    /// Hostile or broken headers get an error, not a huge allocation or a panic.
    #[test]
    fn refuses_hostile_headers() {
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        assert!(layout(&huge).unwrap_err().contains("limit"));
        let mut long = 1000u64.to_le_bytes().to_vec();
        long.extend_from_slice(b"{}");
        assert!(layout(&long).unwrap_err().contains("longer than the file"));
        let overflow =
            r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}"#;
        assert!(
            layout(&safetensors_bytes(overflow, 4))
                .unwrap_err()
                .contains("overflows")
        );
        let mismatch = r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}"#;
        assert!(
            layout(&safetensors_bytes(mismatch, 8))
                .unwrap_err()
                .contains("do not match")
        );
        let past_end = r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#;
        assert!(
            layout(&safetensors_bytes(past_end, 8))
                .unwrap_err()
                .contains("do not match")
        );
        assert!(
            layout(&safetensors_bytes("[1,2]", 0))
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(
            layout(&safetensors_bytes("{\"a\":", 0))
                .unwrap_err()
                .contains("invalid")
        );
        assert!(layout(b"abc").unwrap_err().contains("shorter"));
    }

    #[test]
    fn parses_npy_header_dicts() {
        let (d, s) =
            parse_npy_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (784, 128), }")
                .unwrap();
        assert_eq!((d.as_str(), s), ("<f4", vec![784, 128]));
        let (_, s) =
            parse_npy_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }").unwrap();
        assert_eq!(s, vec![5]);
        let (_, s) =
            parse_npy_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (), }").unwrap();
        assert!(s.is_empty());
        assert!(
            parse_npy_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }").is_err()
        );
        assert!(
            parse_npy_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }").is_err()
        );
    }
}
