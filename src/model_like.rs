//! `gen --like FILE`: the tensor layout (names, shapes, dtypes) of an existing
//! `.safetensors` or `.npz` file, read from its headers only — never its data — so a
//! fresh initialization can be written with the same layout.
//!
//! The files may come from anywhere, so every size read from them is checked before it
//! is used: a header longer than the format allows or than the file, a shape whose
//! element count overflows, byte ranges that do not match the shape, too many tensors —
//! each gets a one-line error, never an allocation of the claimed size or a panic.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::load::header::{self, MAX_TENSORS};
use crate::sample::DType;

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
    // Names in the message come from the file: escape control characters (one line).
    let bad = |why: String| {
        Error::Usage(format!(
            "--like '{label}': {}",
            crate::error::one_line(&why)
        ))
    };
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

fn safetensors_layout<R: Read>(
    r: &mut R,
    file_len: u64,
) -> std::result::Result<Vec<LikeTensor>, String> {
    let (entries, _) = header::read_safetensors_header(r, file_len)?;
    Ok(entries
        .into_iter()
        .map(|e| {
            // The header reader has already refused dtype names the format lacks.
            let kind = header::safetensors_dtype(&e.dtype_name);
            LikeTensor {
                name: e.name,
                shape: e.shape,
                dtype: kind.as_ref().and_then(|k| k.dtype),
                is_float: kind.is_some_and(|k| k.is_float),
                source_dtype: e.dtype_name,
            }
        })
        .collect())
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
        // Only the layout matters here, so Fortran-order members are as good as C-order.
        let header::NpyHeader { descr, shape, .. } =
            header::read_npy_header(&mut member).map_err(|e| format!("{member_name}: {e}"))?;
        header::checked_numel(&shape).ok_or(format!("{member_name}: shape {shape:?} overflows"))?;
        let kind = descr.trim_start_matches(['<', '>', '|', '=']);
        let dtype = header::npy_float(&descr).ok().map(|f| f.dtype);
        let is_float = kind.starts_with('f');
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
}
