//! Bounded, validated parsing of tensor-file headers: the `.safetensors` JSON header and
//! the `.npy` header dict (also inside `.npz` members). Shared by `gen --like`, which
//! needs only the layout, and [`crate::output::load`], which reads the data too.
//!
//! Files may come from anywhere, so every size read from them is checked before it is
//! used: a header longer than the format allows or than the file, a shape whose element
//! count overflows, byte ranges that do not match the shape, too many tensors. Errors
//! are plain one-line strings; the callers add the file name.

use std::io::Read;

use crate::array::dtype::DType;
use crate::text::escape_control as one_line;

/// The safetensors format's own limit on the JSON header (100 MB, as in the reference
/// implementation).
pub const MAX_SAFETENSORS_HEADER: u64 = 100_000_000;
/// More tensors than any real model has; a hostile archive could list millions.
pub const MAX_TENSORS: usize = 1_000_000;
/// An .npy header is a short Python dict; NumPy itself writes at most a few hundred bytes.
pub const MAX_NPY_HEADER: usize = 1 << 20;

/// Element count of a shape, or `None` when it overflows.
pub fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// One entry of a safetensors header, with its byte range checked against the shape,
/// the dtype and the data section.
#[derive(Debug, Clone, PartialEq)]
pub struct SafetensorsEntry {
    pub name: String,
    /// The dtype as written in the header (`F32`, `BF16`, `I64`, ...).
    pub dtype_name: String,
    pub shape: Vec<usize>,
    /// Byte range in the data section (which starts right after the header).
    pub begin: u64,
    pub end: u64,
}

/// What a safetensors dtype name means to us.
pub struct SafetensorsDType {
    /// The float type weightinit reads and writes, if it is one.
    pub dtype: Option<DType>,
    pub is_float: bool,
    pub size: usize,
    /// NumPy-style name for messages (`int64`, `float8_e4m3`).
    pub long_name: &'static str,
}

/// Looks up a safetensors dtype name; `None` for names the format does not define.
pub fn safetensors_dtype(name: &str) -> Option<SafetensorsDType> {
    let (dtype, is_float, size, long_name) = match name {
        "F32" => (Some(DType::F32), true, 4, "float32"),
        "F64" => (Some(DType::F64), true, 8, "float64"),
        "F16" => (Some(DType::F16), true, 2, "float16"),
        "BF16" => (Some(DType::Bf16), true, 2, "bfloat16"),
        "F8_E4M3" => (None, true, 1, "float8_e4m3"),
        "F8_E5M2" => (None, true, 1, "float8_e5m2"),
        "F8_E8M0" => (None, true, 1, "float8_e8m0"),
        "I8" => (None, false, 1, "int8"),
        "U8" => (None, false, 1, "uint8"),
        "BOOL" => (None, false, 1, "bool"),
        "I16" => (None, false, 2, "int16"),
        "U16" => (None, false, 2, "uint16"),
        "I32" => (None, false, 4, "int32"),
        "U32" => (None, false, 4, "uint32"),
        "I64" => (None, false, 8, "int64"),
        "U64" => (None, false, 8, "uint64"),
        _ => return None,
    };
    Some(SafetensorsDType {
        dtype,
        is_float,
        size,
        long_name,
    })
}

/// Reads the 8-byte length and the JSON header of a safetensors file of `file_len`
/// bytes, positioned at its start. Returns the entries in data order and the length of
/// the header (the data section starts at `8 + header_len`).
pub fn read_safetensors_header<R: Read>(
    r: &mut R,
    file_len: u64,
) -> Result<(Vec<SafetensorsEntry>, u64), String> {
    let mut prefix = [0u8; 8];
    r.read_exact(&mut prefix)
        .map_err(|_| "not a safetensors file: shorter than its 8-byte header length".to_string())?;
    let n = u64::from_le_bytes(prefix);
    if n > MAX_SAFETENSORS_HEADER {
        return Err(format!(
            "header length {n} exceeds the format's limit of {MAX_SAFETENSORS_HEADER} bytes"
        ));
    }
    if n > file_len.saturating_sub(8) {
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
    let mut entries = Vec::new();
    for (name, entry) in object {
        if name == "__metadata__" {
            continue;
        }
        // Names come from the file: escape control characters, errors are one line.
        entries.push(safetensors_entry(name, entry, data_len).map_err(|e| one_line(&e))?);
    }
    // Keep the source's order (by position in the data), not the JSON's key order.
    entries.sort_by(|a, b| (a.begin, &a.name).cmp(&(b.begin, &b.name)));
    // Two tensors may not share bytes (empty ranges share none).
    for pair in entries.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.begin < a.end && b.begin < b.end {
            return Err(format!(
                "tensors '{}' [{}, {}] and '{}' [{}, {}] overlap in the data",
                crate::text::escape_control(&a.name),
                a.begin,
                a.end,
                crate::text::escape_control(&b.name),
                b.begin,
                b.end
            ));
        }
    }
    Ok((entries, n))
}

fn safetensors_entry(
    name: &str,
    entry: &serde_json::Value,
    data_len: u64,
) -> Result<SafetensorsEntry, String> {
    let shown = crate::text::escape_control(name);
    let name_text = name;
    let name = shown.as_str();
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
    let (begin, end) = field("data_offsets")?
        .as_array()
        .filter(|a| a.len() == 2)
        .and_then(|a| Some((a[0].as_u64()?, a[1].as_u64()?)))
        .ok_or(format!("tensor '{name}': data_offsets is not [begin, end]"))?;
    let size = safetensors_dtype(dtype_name)
        .ok_or_else(|| {
            format!(
                "tensor '{name}': unknown dtype '{}'",
                crate::text::escape_control(dtype_name)
            )
        })?
        .size;
    let bytes = (numel as u64).checked_mul(size as u64);
    if begin > end || end > data_len || Some(end - begin) != bytes {
        return Err(format!(
            "tensor '{name}': data_offsets [{begin}, {end}] do not match shape {shape:?} of \
             {dtype_name} in {data_len} bytes of data"
        ));
    }
    Ok(SafetensorsEntry {
        name: name_text.to_string(),
        dtype_name: dtype_name.to_string(),
        shape,
        begin,
        end,
    })
}

/// The fields of an .npy header that say how to read its data.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    /// NumPy's dtype string, e.g. `<f4`, `>f8`, `|b1`.
    pub descr: String,
    /// True when the data is stored column-major (first axis fastest).
    pub fortran_order: bool,
    /// Outermost axis first; empty for a 0-d (scalar) array.
    pub shape: Vec<usize>,
    /// Bytes from the start of the file to the first data byte.
    pub header_len: u64,
}

/// Reads an .npy header (format 1.0, 2.0 or 3.0). Only the header is read, however
/// large the array.
pub fn read_npy_header<R: Read>(r: &mut R) -> Result<NpyHeader, String> {
    let mut start = [0u8; 8];
    r.read_exact(&mut start)
        .map_err(|_| "too short for an .npy header")?;
    if &start[..6] != b"\x93NUMPY" {
        return Err("not an .npy file (bad magic)".into());
    }
    let (len, prefix) = match start[6] {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).map_err(|_| "truncated .npy header")?;
            (u16::from_le_bytes(b) as usize, 10)
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b).map_err(|_| "truncated .npy header")?;
            (u32::from_le_bytes(b) as usize, 12)
        }
        v => {
            return Err(format!(
                ".npy format version {v} is unknown (1, 2 and 3 are)"
            ));
        }
    };
    if len > MAX_NPY_HEADER {
        return Err(format!(
            "header of {len} bytes is longer than {MAX_NPY_HEADER}"
        ));
    }
    let mut text = vec![0u8; len];
    r.read_exact(&mut text)
        .map_err(|_| "truncated .npy header")?;
    // Version 3 allows UTF-8 in the header; 1 and 2 are Latin-1, whose dicts NumPy only
    // ever writes in ASCII.
    let text = String::from_utf8(text).map_err(|_| "the .npy header is not text")?;
    let (descr, fortran_order, shape) = parse_npy_dict(&text)?;
    Ok(NpyHeader {
        descr,
        fortran_order,
        shape,
        header_len: (prefix + len) as u64,
    })
}

/// The `descr`, `fortran_order` and `shape` of an .npy header dict such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (784, 128), }`.
pub fn parse_npy_dict(text: &str) -> Result<(String, bool, Vec<usize>), String> {
    let value_after = |key: &str| -> Result<&str, String> {
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
    let fortran = value_after("fortran_order")?;
    let fortran_order = if fortran.starts_with("True") {
        true
    } else if fortran.starts_with("False") {
        false
    } else {
        return Err("'fortran_order' is neither True nor False".into());
    };
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
            d.parse::<usize>().map_err(|_| {
                format!(
                    "shape entry '{}' is not a size",
                    crate::text::escape_control(d)
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((descr, fortran_order, dims))
}

/// How the elements of an .npy `descr` are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpyFloat {
    pub dtype: DType,
    pub big_endian: bool,
}

/// The float type of an .npy `descr` (`<f4`, `>f8`, `=f2`, ...), or the NumPy name of
/// what it holds instead (`int64`, `complex128`, `float128`, ...) for the error message.
pub fn npy_float(descr: &str) -> Result<NpyFloat, String> {
    let (order, kind) = match descr.chars().next() {
        Some(c @ ('<' | '>' | '=' | '|')) => (c, &descr[1..]),
        _ => ('=', descr),
    };
    let dtype = match kind {
        "f2" => Some(DType::F16),
        "f4" => Some(DType::F32),
        "f8" => Some(DType::F64),
        _ => None,
    };
    match (dtype, order) {
        (Some(dtype), '<') => Ok(NpyFloat {
            dtype,
            big_endian: false,
        }),
        (Some(dtype), '>') => Ok(NpyFloat {
            dtype,
            big_endian: true,
        }),
        (Some(dtype), '=') => Ok(NpyFloat {
            dtype,
            big_endian: cfg!(target_endian = "big"),
        }),
        (Some(_), _) => Err(format!(
            "dtype '{}' has no byte order ('|' is for 1-byte types)",
            crate::text::escape_control(descr)
        )),
        (None, _) => Err(npy_kind_name(kind)),
    }
}

/// NumPy's name for a dtype kind + size such as `i8` → `int64`, `c16` → `complex128`.
pub fn npy_kind_name(kind: &str) -> String {
    // Both from the file: a size may overflow, the first character may be multi-byte.
    let bits = |s: &str| s.parse::<usize>().ok().and_then(|b| b.checked_mul(8));
    let (letter, size) = kind.split_at(kind.chars().next().map_or(0, char::len_utf8));
    match (letter, bits(size)) {
        ("f", Some(b)) => format!("float{b}"),
        ("i", Some(b)) => format!("int{b}"),
        ("u", Some(b)) => format!("uint{b}"),
        ("c", Some(b)) => format!("complex{b}"),
        ("b", _) | ("?", _) => "bool".into(),
        ("O", _) => "Python object".into(),
        ("U", _) | ("S", _) | ("a", _) => "string".into(),
        ("M", _) | ("m", _) => "datetime".into(),
        _ => format!("'{}'", crate::text::escape_control(kind)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_npy_header_dicts() {
        let (d, f, s) =
            parse_npy_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (784, 128), }")
                .unwrap();
        assert_eq!((d.as_str(), f, s), ("<f4", false, vec![784, 128]));
        let (_, _, s) =
            parse_npy_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }").unwrap();
        assert_eq!(s, vec![5]);
        let (_, _, s) =
            parse_npy_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (), }").unwrap();
        assert!(s.is_empty());
        let (_, f, _) =
            parse_npy_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }").unwrap();
        assert!(f);
        assert!(
            parse_npy_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }").is_err()
        );
        assert!(
            parse_npy_dict("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }").is_err()
        );
        assert!(parse_npy_dict("{'descr': [('a', '<f4')], 'shape': (2,), }").is_err());
    }

    #[test]
    fn npy_descr_table() {
        let ok = [
            ("<f4", DType::F32, false),
            (">f4", DType::F32, true),
            ("<f8", DType::F64, false),
            (">f8", DType::F64, true),
            ("<f2", DType::F16, false),
            (">f2", DType::F16, true),
            ("=f4", DType::F32, cfg!(target_endian = "big")),
        ];
        for (descr, dtype, big_endian) in ok {
            assert_eq!(
                npy_float(descr),
                Ok(NpyFloat { dtype, big_endian }),
                "{descr}"
            );
        }
        let refused = [
            ("<i8", "int64"),
            ("|u1", "uint8"),
            ("|b1", "bool"),
            ("<c16", "complex128"),
            ("<f16", "float128"),
            ("|O", "Python object"),
            ("<U3", "string"),
            ("|f4", "no byte order"),
        ];
        for (descr, needle) in refused {
            let err = npy_float(descr).unwrap_err();
            assert!(err.contains(needle), "{descr}: {err}");
        }
    }

    /// Fuzzer findings: a dtype whose first character is multi-byte (a slice inside it
    /// panicked), control characters in messages; and, seen while fixing the first, a
    /// size whose bit count overflowed.
    #[test]
    fn npy_dtype_names_from_hostile_headers() {
        assert_eq!(npy_kind_name("¹4"), "'¹4'");
        assert_eq!(npy_kind_name("é"), "'é'");
        assert_eq!(npy_kind_name(""), "''");
        assert_eq!(
            npy_kind_name("f4000000000000000000"),
            "'f4000000000000000000'"
        );
        assert_eq!(npy_kind_name("i\n8"), "'i\\n8'");
        assert_eq!(npy_float("<¹4").unwrap_err(), "'¹4'");
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3\n\x1b), }";
        let err = parse_npy_dict(dict).unwrap_err();
        assert_eq!(err, "shape entry '3\\n\\u{1b}' is not a size");
    }

    #[test]
    fn npy_header_lengths_and_versions() {
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n";
        let mut v1 = b"\x93NUMPY\x01\x00".to_vec();
        v1.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        v1.extend_from_slice(dict.as_bytes());
        let h = read_npy_header(&mut v1.as_slice()).unwrap();
        assert_eq!(h.header_len, 10 + dict.len() as u64);
        let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
        v2.extend_from_slice(&(dict.len() as u32).to_le_bytes());
        v2.extend_from_slice(dict.as_bytes());
        assert_eq!(
            read_npy_header(&mut v2.as_slice()).unwrap().header_len,
            12 + dict.len() as u64
        );
        // Hostile: a claimed 4 GB header, a short one, an unknown version, no magic.
        let mut huge = b"\x93NUMPY\x02\x00".to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            read_npy_header(&mut huge.as_slice())
                .unwrap_err()
                .contains("longer than")
        );
        assert!(
            read_npy_header(&mut &v1[..20])
                .unwrap_err()
                .contains("truncated")
        );
        let mut v9 = v1.clone();
        v9[6] = 9;
        assert!(
            read_npy_header(&mut v9.as_slice())
                .unwrap_err()
                .contains("version 9")
        );
        assert!(
            read_npy_header(&mut &b"PK\x03\x04abcdefgh"[..])
                .unwrap_err()
                .contains("magic")
        );
        assert!(
            read_npy_header(&mut &b"\x93NU"[..])
                .unwrap_err()
                .contains("too short")
        );
    }
}
