//! `gen --like FILE`: the tensor layout (names, shapes, dtypes) of an existing
//! `.safetensors` or `.npz` file, read from its headers only — never its data — so a
//! fresh initialization can be written with the same layout.
//!
//! The headers are read by [`crate::output::load::read_headers`], the same checked path `verify`,
//! `hist` and `probe --input` use: every header's shape × dtype size must equal the bytes
//! that hold it (an `.npz` member's size in the zip directory, a safetensors tensor's
//! byte range), checked before anything is allocated, so a small file cannot make
//! `gen` write a tensor its data could never have held. The data itself is not read, so
//! an `.npz` member's CRC-32 is not checked here.

use std::path::Path;

use super::Common;
use super::rules::NameRules;
use crate::array::Shape;
use crate::error::{Error, Result};
use crate::output::load::TensorHeader;
use crate::scheme::SchemeSpec;
use crate::tensor::ResolvedTensor;

/// Reads the layout of `path` (`.safetensors` or `.npz`, by extension): every tensor's
/// checked header, in the file's order.
pub fn read_layout(path: &Path) -> Result<Vec<TensorHeader>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    if !path.is_dir() && !matches!(ext.as_deref(), Some("safetensors" | "npz")) {
        return Err(Error::Usage(format!(
            "'{}': expected a .safetensors or .npz file (its layout is read from the headers)",
            path.display()
        )));
    }
    let headers = crate::output::load::read_headers(path)?;
    if headers.is_empty() {
        return Err(Error::Usage(format!(
            "'{}': it holds no tensors",
            path.display()
        )));
    }
    Ok(headers)
}

/// `gen --like FILE`'s tensors: the source's float tensors, in its order, with schemes
/// from `rules` (else `default`). Integer tensors (buffers such as position ids), scalars
/// and empty tensors are left out, and dtypes weightinit cannot write become
/// `common.dtype`; each such case is returned as a note line, to be said once everything
/// resolved (so that an error stays the only line).
pub fn tensors(
    path: &Path,
    rules: &NameRules,
    default: Option<&SchemeSpec>,
    common: &Common,
) -> Result<(Vec<ResolvedTensor>, Vec<String>)> {
    let layout = read_layout(path)?;
    let in_source = |source: Error| Error::InSource {
        path: path.to_path_buf(),
        source: Box::new(source),
    };
    let esc = crate::text::escape_control;
    let mut specs = Vec::new();
    // Said only once everything resolved, so that an error stays the only line.
    let mut notes = Vec::new();
    for t in &layout {
        if !t.is_float || t.shape.is_empty() || t.shape.contains(&0) {
            notes.push(format!(
                "'{}' ({} {:?}) is left out: only \
                 non-empty floating-point tensors are initialized",
                esc(&t.name),
                esc(&t.source_dtype),
                t.shape
            ));
            continue;
        }
        let dtype = t.dtype.unwrap_or_else(|| {
            notes.push(format!(
                "'{}' is {} in the source; written as {} \
                 (weightinit writes f32, f64, f16 and bf16)",
                esc(&t.name),
                esc(&t.source_dtype),
                common.dtype
            ));
            common.dtype
        });
        let scheme = match rules.scheme_for(&t.name) {
            Some(s) => s.clone(),
            None => default.cloned().ok_or_else(|| {
                in_source(Error::NoScheme {
                    tensor: esc(&t.name),
                })
            })?,
        };
        crate::tensor::validate_name(&t.name)?;
        let shape = Shape::new(t.shape.clone())?;
        let tensor = Common { dtype, ..*common }.tensor(t.name.clone(), shape, scheme);
        specs.push(
            tensor
                .map_err(|e| in_source(Error::Usage(format!("tensor '{}': {e}", esc(&t.name)))))?,
        );
    }
    if specs.is_empty() {
        let why = if layout.iter().all(|t| !t.is_float) {
            let mut kinds: Vec<&str> = Vec::new();
            for t in &layout {
                if !kinds.contains(&t.holds.as_str()) {
                    kinds.push(&t.holds);
                }
            }
            format!(
                ": it holds only {} tensors ({})",
                crate::text::list(&kinds),
                crate::text::list(layout.iter().map(|t| &t.name))
            )
        } else {
            String::new()
        };
        return Err(in_source(Error::Usage(format!(
            "no floating-point tensors to initialize{why}"
        ))));
    }
    Ok((specs, notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::DType;

    fn safetensors_bytes(header: &str, data: usize) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend(std::iter::repeat_n(0u8, data));
        v
    }

    fn layout(bytes: &[u8]) -> std::result::Result<Vec<TensorHeader>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        std::fs::write(&path, bytes).unwrap();
        read_layout(&path).map_err(|e| e.to_string())
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
