//! Reading whole tensors back from `.npy`, `.npz` and `.safetensors` files, as `f64`
//! values in row-major order, for `verify` (and any other command that inspects data).
//!
//! The files may come from anywhere. Headers are parsed by [`header`] (shared with
//! `gen --like`), and before any data buffer is allocated its size is checked against
//! what the file can actually hold: the bytes after an `.npy` header, a safetensors
//! tensor's byte range, an `.npz` member's stored size (times deflate's largest possible
//! expansion, 1032:1, for compressed members). A short or over-long data section is a
//! one-line error, never a panic or an allocation of a size the file merely claims.
//!
//! Supported: `.npy` format 1.0/2.0/3.0 with `<f2 <f4 <f8`, big-endian `>f2 >f4 >f8`,
//! native `=`, C or Fortran order (converted to C order), 0-d arrays (shape `[]`, one
//! value); `.npz` from `np.savez` (stored) and `np.savez_compressed` (deflated);
//! safetensors `F16 BF16 F32 F64`. Other dtypes are reported, not read.

pub mod header;

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{Error, Result};
use crate::sample::DType;
use header::{NpyFloat, checked_numel};

/// Deflate cannot expand data by more than about 1032:1 (258-byte matches coded in as
/// few as 2 bits), so a compressed member claiming more is lying about its size.
const MAX_DEFLATE_RATIO: u64 = 1032;
/// Bytes read and decoded at a time.
const CHUNK: usize = 1 << 16;

/// One floating-point tensor of a file, with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedTensor {
    /// `.npy`: the file stem; `.npz`: the member name without `.npy`; safetensors: the key.
    pub name: String,
    /// Outermost axis first; empty for a 0-d array (which has one value).
    pub shape: Vec<usize>,
    /// The float type the values are stored as.
    pub dtype: DType,
    /// Row-major (C order) values, widened exactly to f64.
    pub values: Vec<f64>,
}

/// The one float tensor of `path` that `only` names, or the only one there is; with
/// several and no name, an error listing them that points at `option`.
pub fn load_one(path: &Path, only: Option<&str>, option: &str) -> Result<LoadedTensor> {
    let mut tensors = load_tensors(path, only)?;
    if tensors.len() != 1 {
        let names: Vec<&str> = tensors.iter().map(|t| t.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "'{}' holds {} tensors ({}); choose one with {option}",
            path.display(),
            tensors.len(),
            names.join(", ")
        )));
    }
    Ok(tensors.remove(0))
}

impl LoadedTensor {
    /// The shape a scheme is resolved against: the stored one, with a 0-d array (one
    /// value) taken as 1-D of length 1, as far as laws go.
    pub fn law_shape(&self) -> Result<crate::shape::Shape> {
        let dims = if self.shape.is_empty() {
            vec![1]
        } else {
            self.shape.clone()
        };
        crate::shape::Shape::new(dims).map_err(|e| match e {
            Error::Shape { input, reason } => Error::Shape {
                input,
                reason: format!("{reason} (tensor '{}')", self.name),
            },
            other => other,
        })
    }
}

/// A tensor of the file that is not one of the float types read here (an integer
/// buffer, a mask, float8 ...), reported so that callers can say what they skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherTensor {
    pub name: String,
    pub shape: Vec<usize>,
    /// What it holds, by NumPy name: `int64`, `bool`, `float8_e4m3`, ...
    pub holds: String,
}

/// What [`visit_tensors`] hands over for each tensor of the file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Float(LoadedTensor),
    Other(OtherTensor),
}

/// Every floating-point tensor of `path` (`.npy`, `.npz`, `.safetensors`, by extension),
/// or only the one named `only` (an error listing the available names when it is not
/// there, or saying what it holds when it is not a float tensor). Tensors of other
/// dtypes are skipped; use [`visit_tensors`] to hear about them.
pub fn load_tensors(path: &Path, only: Option<&str>) -> Result<Vec<LoadedTensor>> {
    let mut tensors = Vec::new();
    visit_tensors(path, only, |entry| {
        if let Entry::Float(t) = entry {
            tensors.push(t);
        }
        Ok(())
    })?;
    Ok(tensors)
}

/// [`load_tensors`] one tensor at a time, so that memory holds only the tensor being
/// looked at; `visit` also receives the tensors that are not read ([`Entry::Other`]).
/// An error from `visit` stops the walk and is returned as is.
pub fn visit_tensors(
    path: &Path,
    only: Option<&str>,
    visit: impl FnMut(Entry) -> Result<()>,
) -> Result<()> {
    let label = path.display().to_string();
    let bad = |why: String| Error::Usage(format!("'{label}': {why}"));
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let format = match ext.as_deref() {
        Some(e @ ("npy" | "npz" | "safetensors")) => e,
        _ => {
            return Err(bad(
                "expected a .npy, .npz or .safetensors file (the extension says which)".into(),
            ));
        }
    };
    let file = File::open(path).map_err(|e| bad(format!("cannot open: {e}")))?;
    let file_len = file
        .metadata()
        .map_err(|e| bad(format!("cannot read: {e}")))?
        .len();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    visit_source(file, file_len, format, &label, &stem, only, visit)
}

/// [`visit_tensors`] on an open `file` of `file_len` bytes, in `format` (`npy`, `npz` or
/// `safetensors`): a `File`, or bytes in memory (`std::io::Cursor`) for tests and the
/// fuzzer. `label` names the source in errors; an `.npy`'s one tensor is named `stem`.
pub fn visit_source<R: Read + Seek>(
    file: R,
    file_len: u64,
    format: &str,
    label: &str,
    stem: &str,
    only: Option<&str>,
    mut visit: impl FnMut(Entry) -> Result<()>,
) -> Result<()> {
    // Names in the message come from the file: escape control characters (one line).
    let bad = |why: String| Error::Usage(format!("'{label}': {}", crate::error::one_line(&why)));
    let mut seen = 0usize;
    let mut counted = |entry: Entry| {
        seen += 1;
        visit(entry)
    };
    match format {
        "npy" => {
            let stem = stem.to_string();
            if let Some(name) = only
                && name != stem
            {
                return Err(bad(format!(
                    "no tensor '{name}': an .npy file holds one tensor, named '{stem}' after the file"
                )));
            }
            let tensor = read_npy_file(file, file_len, stem).map_err(bad)?;
            counted(Entry::Float(tensor))?;
        }
        "npz" => visit_npz(file, file_len, only, &bad, &mut counted)?,
        "safetensors" => visit_safetensors(file, file_len, only, &bad, &mut counted)?,
        _ => return Err(bad(format!("unknown tensor file format '{format}'"))),
    }
    if seen == 0 {
        return Err(bad("it holds no tensors".into()));
    }
    Ok(())
}

/// A whole `.npy` file: header, then exactly the data the header describes.
fn read_npy_file<R: Read>(file: R, file_len: u64, name: String) -> Result<LoadedTensor, String> {
    let mut r = BufReader::new(file);
    let header = header::read_npy_header(&mut r)?;
    let float = header::npy_float(&header.descr).map_err(|holds| not_float(&name, &holds))?;
    let data_len = file_len.saturating_sub(header.header_len);
    read_npy_data(&mut r, header, float, data_len, name)
}

/// The data of an .npy stream after its header, given how many bytes follow the header
/// (`available`): anything but exactly shape × itemsize is an error.
fn read_npy_data<R: Read>(
    r: &mut R,
    header: header::NpyHeader,
    float: NpyFloat,
    available: u64,
    name: String,
) -> Result<LoadedTensor, String> {
    let needed = data_bytes(&header.shape, float.dtype)?;
    if available != needed {
        return Err(format!(
            "'{name}' holds {available} bytes of data, but shape {:?} of {} needs {needed}{}",
            header.shape,
            float.dtype,
            if available < needed {
                " (truncated?)"
            } else {
                ""
            }
        ));
    }
    let mut values = read_values(r, float, needed)?;
    if header.fortran_order {
        values = fortran_to_c(&values, &header.shape);
    }
    Ok(LoadedTensor {
        name,
        shape: header.shape,
        dtype: float.dtype,
        values,
    })
}

/// shape × itemsize in bytes, checked.
fn data_bytes(shape: &[usize], dtype: DType) -> Result<u64, String> {
    checked_numel(shape)
        .and_then(|n| (n as u64).checked_mul(dtype.size() as u64))
        .ok_or(format!("shape {shape:?} overflows"))
}

fn not_float(name: &str, holds: &str) -> String {
    format!(
        "'{name}' holds {holds} values; only float16, bfloat16, float32 and float64 tensors can be read"
    )
}

fn visit_npz<R: Read + Seek>(
    file: R,
    file_len: u64,
    only: Option<&str>,
    bad: &dyn Fn(String) -> Error,
    visit: &mut dyn FnMut(Entry) -> Result<()>,
) -> Result<()> {
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| bad(format!("not a readable .npz (zip) file: {e}")))?;
    if archive.len() > header::MAX_TENSORS {
        return Err(bad(format!(
            "{} members is more than {} tensors",
            archive.len(),
            header::MAX_TENSORS
        )));
    }
    let indices: Vec<usize> = match only {
        None => (0..archive.len()).collect(),
        Some(name) => match archive.index_for_name(&format!("{name}.npy")) {
            Some(i) => vec![i],
            None => {
                let names: Vec<String> = archive
                    .file_names()
                    .filter_map(|n| n.ok()?.strip_suffix(".npy").map(str::to_string))
                    .collect();
                return Err(bad(missing_tensor(name, names)));
            }
        },
    };
    for i in indices {
        let mut member = archive
            .by_index(i)
            .map_err(|e| bad(format!("member {i}: {e}")))?;
        let member_name = member
            .name()
            .map_err(|e| bad(format!("member {i}: {e}")))?
            .to_string();
        let Some(name) = member_name.strip_suffix(".npy").map(str::to_string) else {
            continue; // np.load ignores other members too
        };
        // The central directory's sizes are claims; bound them by the file before
        // trusting them for an allocation (the reader stops at the claimed size).
        let size = member.size();
        let stored = member.compressed_size();
        let limit = match member.compression() {
            zip::CompressionMethod::Stored => stored,
            _ => stored.saturating_mul(MAX_DEFLATE_RATIO),
        };
        if stored > file_len || size > limit {
            return Err(bad(format!(
                "{member_name}: claims {size} bytes from {stored} stored bytes in a file of {file_len}"
            )));
        }
        let in_member = |why: String| bad(format!("{member_name}: {why}"));
        let header = header::read_npy_header(&mut member).map_err(in_member)?;
        let float = match header::npy_float(&header.descr) {
            Ok(float) => float,
            Err(holds) if only.is_none() => {
                visit(Entry::Other(OtherTensor {
                    name,
                    shape: header.shape,
                    holds,
                }))?;
                continue;
            }
            Err(holds) => return Err(bad(not_float(&name, &holds))),
        };
        let available = size.saturating_sub(header.header_len);
        let tensor =
            read_npy_data(&mut member, header, float, available, name).map_err(in_member)?;
        visit(Entry::Float(tensor))?;
    }
    Ok(())
}

fn visit_safetensors<R: Read + Seek>(
    mut file: R,
    file_len: u64,
    only: Option<&str>,
    bad: &dyn Fn(String) -> Error,
    visit: &mut dyn FnMut(Entry) -> Result<()>,
) -> Result<()> {
    let (entries, header_len) =
        header::read_safetensors_header(&mut BufReader::new(&mut file), file_len).map_err(bad)?;
    if let Some(name) = only
        && !entries.iter().any(|e| e.name == name)
    {
        return Err(bad(missing_tensor(
            name,
            entries.into_iter().map(|e| e.name).collect(),
        )));
    }
    for entry in entries {
        if only.is_some_and(|name| name != entry.name) {
            continue;
        }
        // The header reader refused unknown dtype names and checked the byte range.
        let kind = header::safetensors_dtype(&entry.dtype_name);
        let Some(dtype) = kind.as_ref().and_then(|k| k.dtype) else {
            let holds = kind.map_or(entry.dtype_name.clone(), |k| k.long_name.to_string());
            if only.is_some() {
                return Err(bad(not_float(&entry.name, &holds)));
            }
            visit(Entry::Other(OtherTensor {
                name: entry.name,
                shape: entry.shape,
                holds,
            }))?;
            continue;
        };
        file.seek(SeekFrom::Start(8 + header_len + entry.begin))
            .map_err(|e| bad(format!("cannot seek to tensor '{}': {e}", entry.name)))?;
        let float = NpyFloat {
            dtype,
            big_endian: false,
        };
        let values = read_values(&mut file, float, entry.end - entry.begin)
            .map_err(|e| bad(format!("tensor '{}': {e}", entry.name)))?;
        visit(Entry::Float(LoadedTensor {
            name: entry.name,
            shape: entry.shape,
            dtype,
            values,
        }))?;
    }
    Ok(())
}

/// "no tensor 'x'; the file holds: a, b, c" (at most 20 names, so it stays one line).
fn missing_tensor(name: &str, mut names: Vec<String>) -> String {
    const SHOWN: usize = 20;
    let total = names.len();
    if total == 0 {
        return format!("no tensor '{name}'; the file holds no tensors");
    }
    names.truncate(SHOWN);
    let more = if total > SHOWN {
        format!(" and {} more", total - SHOWN)
    } else {
        String::new()
    };
    let close = names
        .iter()
        .map(|n| (strsim::jaro_winkler(name, n), n))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.8)
        .map(|(_, n)| format!(" (did you mean '{n}'?)"))
        .unwrap_or_default();
    format!(
        "no tensor '{name}'{close}; the file holds: {}{more}",
        names.join(", ")
    )
}

/// Reads exactly `bytes` bytes of `float` elements (a whole number of them, checked by
/// the caller) and widens them to f64. Memory grows with the data actually read, never
/// ahead of it beyond what the caller has already bounded by the file's size.
fn read_values<R: Read>(r: &mut R, float: NpyFloat, bytes: u64) -> Result<Vec<f64>, String> {
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
fn decode(bytes: &[u8], float: NpyFloat, out: &mut Vec<f64>) {
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
fn fortran_to_c(values: &[f64], shape: &[usize]) -> Vec<f64> {
    // No values: nothing to reorder, and with a zero-length axis the other axes are
    // unchecked (their product is 0), so the strides below could overflow.
    if shape.len() < 2 || values.is_empty() {
        return values.to_vec();
    }
    // Row-major strides; walk the column-major order with an odometer over the indices.
    let mut strides = vec![1usize; shape.len()];
    for k in (0..shape.len() - 1).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    let mut out = vec![0.0; values.len()];
    let mut index = vec![0usize; shape.len()];
    let mut offset = 0usize;
    for &v in values {
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let dict = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}\n",
            if fortran { "True" } else { "False" }
        );
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        v.extend_from_slice(dict.as_bytes());
        v.extend_from_slice(data);
        v
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(bytes))
            .unwrap();
        path
    }

    fn f32_le(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn error(path: &Path, only: Option<&str>) -> String {
        load_tensors(path, only).unwrap_err().to_string()
    }

    #[test]
    fn fortran_order_becomes_c_order() {
        // A 2x3 matrix [[0,1,2],[3,4,5]] stored column-major is 0,3,1,4,2,5.
        let c = fortran_to_c(&[0.0, 3.0, 1.0, 4.0, 2.0, 5.0], &[2, 3]);
        assert_eq!(c, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        // 2x3x2: element (i,j,k) = 6i + 2j + k; column-major offset i + 2j + 6k.
        let mut f = vec![0.0; 12];
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..2 {
                    f[i + 2 * j + 6 * k] = (6 * i + 2 * j + k) as f64;
                }
            }
        }
        let want: Vec<f64> = (0..12).map(f64::from).collect();
        assert_eq!(fortran_to_c(&f, &[2, 3, 2]), want);
    }

    #[test]
    fn reads_npy_in_every_float_dtype_and_byte_order() {
        let dir = tempfile::tempdir().unwrap();
        let xs = [1.5f32, -0.25, 3.0, 1e-3];
        let cases: Vec<(&str, Vec<u8>, DType)> = vec![
            ("<f4", f32_le(&xs), DType::F32),
            (
                ">f4",
                xs.iter().flat_map(|v| v.to_be_bytes()).collect(),
                DType::F32,
            ),
            (
                "<f8",
                xs.iter()
                    .flat_map(|&v| f64::from(v).to_le_bytes())
                    .collect(),
                DType::F64,
            ),
            (
                ">f8",
                xs.iter()
                    .flat_map(|&v| f64::from(v).to_be_bytes())
                    .collect(),
                DType::F64,
            ),
            (
                "<f2",
                xs.iter()
                    .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                    .collect(),
                DType::F16,
            ),
            (
                ">f2",
                xs.iter()
                    .flat_map(|&v| half::f16::from_f32(v).to_be_bytes())
                    .collect(),
                DType::F16,
            ),
        ];
        for (descr, data, dtype) in cases {
            let path = write(
                dir.path(),
                "w.npy",
                &npy_bytes(descr, false, "(2, 2)", &data),
            );
            let t = load_tensors(&path, None).unwrap().remove(0);
            assert_eq!(t.name, "w");
            assert_eq!(t.shape, vec![2, 2]);
            assert_eq!(t.dtype, dtype, "{descr}");
            let want: Vec<f64> = xs
                .iter()
                .map(|&v| match dtype {
                    DType::F16 => half::f16::from_f32(v).to_f64(),
                    _ => f64::from(v),
                })
                .collect();
            assert_eq!(t.values, want, "{descr}");
        }
    }

    #[test]
    fn reads_a_scalar_npy() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "s.npy",
            &npy_bytes("<f8", false, "()", &2.5f64.to_le_bytes()),
        );
        let t = load_tensors(&path, None).unwrap().remove(0);
        assert_eq!((t.shape, t.values), (vec![], vec![2.5]));
    }

    /// Truncated, over-long, hostile or non-float .npy files get one-line errors.
    #[test]
    fn refuses_bad_npy_files() {
        let dir = tempfile::tempdir().unwrap();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "short.npy",
                npy_bytes("<f4", false, "(2, 2)", &f32_le(&[1.0, 2.0, 3.0])),
                "holds 12 bytes of data, but shape [2, 2] of f32 needs 16 (truncated?)",
            ),
            (
                "long.npy",
                npy_bytes("<f4", false, "(1,)", &f32_le(&[1.0, 2.0])),
                "holds 8 bytes of data, but shape [1] of f32 needs 4",
            ),
            (
                "huge.npy",
                npy_bytes("<f8", false, "(1000000000, 1000000)", &[0; 8]),
                "needs 8000000000000000",
            ),
            (
                "overflow.npy",
                npy_bytes("<f8", false, "(4294967296, 4294967296, 16)", &[0; 8]),
                "overflows",
            ),
            (
                "int.npy",
                npy_bytes("<i8", false, "(1,)", &[0; 8]),
                "'int' holds int64 values; only float16, bfloat16, float32 and float64",
            ),
            (
                "c.npy",
                npy_bytes("<c16", false, "(1,)", &[0; 16]),
                "complex128",
            ),
            ("text.npy", b"hello world, not numpy".to_vec(), "bad magic"),
            ("empty.npy", Vec::new(), "too short"),
        ];
        for (name, bytes, needle) in cases {
            let path = write(dir.path(), name, &bytes);
            let err = error(&path, None);
            assert!(err.contains(needle), "{name}: {err}");
            assert!(!err.contains('\n'), "{name}: {err}");
        }
        let ok = write(
            dir.path(),
            "w.npy",
            &npy_bytes("<f4", false, "(1,)", &f32_le(&[1.0])),
        );
        assert!(error(&ok, Some("v")).contains("named 'w'"));
        assert!(error(Path::new("/nonexistent/w.npy"), None).contains("cannot open"));
        assert!(error(&dir.path().join("w.txt"), None).contains("expected a .npy, .npz"));
    }

    fn safetensors_bytes(header: &str, data: &[u8]) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_safetensors_floats_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let header = r#"{"__metadata__":{"format":"pt"},
            "w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},
            "idx":{"dtype":"I64","shape":[1],"data_offsets":[4,12]},
            "b":{"dtype":"F64","shape":[1],"data_offsets":[12,20]}}"#;
        let mut data = Vec::new();
        data.extend(half::bf16::from_f32(0.5).to_le_bytes());
        data.extend(half::bf16::from_f32(-3.0).to_le_bytes());
        data.extend(7i64.to_le_bytes());
        data.extend(0.1f64.to_le_bytes());
        let path = write(
            dir.path(),
            "m.safetensors",
            &safetensors_bytes(header, &data),
        );
        let mut seen = Vec::new();
        visit_tensors(&path, None, |e| {
            seen.push(e);
            Ok(())
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![
                Entry::Float(LoadedTensor {
                    name: "w".into(),
                    shape: vec![2],
                    dtype: DType::Bf16,
                    values: vec![0.5, -3.0]
                }),
                Entry::Other(OtherTensor {
                    name: "idx".into(),
                    shape: vec![1],
                    holds: "int64".into()
                }),
                Entry::Float(LoadedTensor {
                    name: "b".into(),
                    shape: vec![1],
                    dtype: DType::F64,
                    values: vec![0.1]
                }),
            ]
        );
        let only = load_tensors(&path, Some("b")).unwrap();
        assert_eq!(only.len(), 1);
        assert!(error(&path, Some("idx")).contains("'idx' holds int64 values"));
        let err = error(&path, Some("ww"));
        assert!(
            err.contains("no tensor 'ww' (did you mean 'w'?); the file holds: w, idx, b"),
            "{err}"
        );
        // Offsets past the data: refused from the header, before reading anything.
        let lying =
            r#"{"w":{"dtype":"F32","shape":[1000000000000],"data_offsets":[0,4000000000000]}}"#;
        let path = write(
            dir.path(),
            "l.safetensors",
            &safetensors_bytes(lying, &[0; 4]),
        );
        assert!(error(&path, None).contains("do not match"));
        let path = write(dir.path(), "e.safetensors", &safetensors_bytes("{}", &[]));
        assert!(error(&path, None).contains("holds no tensors"));
    }

    /// A stored (uncompressed) archive: the crate's zip build reads deflate but does not
    /// write it; tests/fixtures/load has compressed archives written by NumPy.
    fn npz(dir: &Path, name: &str, members: &[(&str, Vec<u8>)]) -> std::path::PathBuf {
        let path = dir.join(name);
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (member, bytes) in members {
            zip.start_file(*member, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    #[test]
    fn reads_npz_members_and_reports_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let members = [
            (
                "w.npy",
                npy_bytes("<f4", false, "(2,)", &f32_le(&[1.0, 2.0])),
            ),
            ("idx.npy", npy_bytes("<i4", false, "(1,)", &[1, 0, 0, 0])),
            ("notes.txt", b"not a tensor".to_vec()),
            (
                "f.npy",
                npy_bytes(
                    ">f8",
                    true,
                    "(2, 2)",
                    &[1.0f64, 3.0, 2.0, 4.0]
                        .iter()
                        .flat_map(|v| v.to_be_bytes())
                        .collect::<Vec<_>>(),
                ),
            ),
        ];
        let path = npz(dir.path(), "m.npz", &members);
        let all = load_tensors(&path, None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].values, vec![1.0, 2.0]);
        assert_eq!(all[1].name, "f");
        assert_eq!(all[1].values, vec![1.0, 2.0, 3.0, 4.0]);
        assert!(error(&path, Some("idx")).contains("holds int32 values"));
        assert!(error(&path, Some("x")).contains("the file holds: w, idx, f"));

        let short = [("w.npy", npy_bytes("<f4", false, "(3,)", &f32_le(&[1.0])))];
        let path = npz(dir.path(), "short.npz", &short);
        assert!(error(&path, None).contains("w.npy: 'w' holds 4 bytes of data, but shape [3]"));
        let huge = [(
            "w.npy",
            npy_bytes("<f4", false, "(1000000000000000,)", &[0; 4]),
        )];
        let path = npz(dir.path(), "huge.npz", &huge);
        assert!(error(&path, None).contains("needs 4000000000000000"));
        let path = write(dir.path(), "bad.npz", b"PK\x03\x04 not really");
        assert!(error(&path, None).contains("not a readable .npz"));
    }

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/load")
            .join(name)
    }

    fn ramp(n: usize, scale: f64, shift: f64) -> Vec<f64> {
        (0..n).map(|k| (k as f64 - shift) / scale).collect()
    }

    /// Files written by NumPy and safetensors (tests/fixtures/load/make_load_fixtures.py
    /// says what each holds): big-endian, Fortran order, format 2.0, 0-d, float16,
    /// np.savez_compressed and safetensors.numpy.
    #[test]
    fn reads_files_written_by_numpy_and_safetensors() {
        let one = |name: &str| {
            let mut all = load_tensors(&fixture(name), None).unwrap();
            assert_eq!(all.len(), 1, "{name}");
            all.remove(0)
        };
        let t = one("be_f4.npy");
        assert_eq!((t.shape, t.dtype), (vec![2, 3], DType::F32));
        assert_eq!(t.values, ramp(6, 4.0, 0.0));
        let t = one("fortran_f8.npy");
        assert_eq!((t.shape, t.dtype), (vec![3, 4], DType::F64));
        assert_eq!(t.values, ramp(12, 8.0, 0.0));
        let t = one("half.npy");
        assert_eq!((t.shape, t.dtype), (vec![2, 4], DType::F16));
        assert_eq!(t.values, ramp(8, 8.0, 4.0));
        let t = one("v2_f4.npy");
        assert_eq!(t.values, ramp(5, 2.0, 0.0));
        let t = one("scalar.npy");
        assert_eq!((t.shape, t.values), (vec![], vec![0.5]));

        let mut seen = Vec::new();
        visit_tensors(&fixture("compressed.npz"), None, |e| {
            seen.push(e);
            Ok(())
        })
        .unwrap();
        let floats: Vec<&LoadedTensor> = seen
            .iter()
            .filter_map(|e| match e {
                Entry::Float(t) => Some(t),
                Entry::Other(_) => None,
            })
            .collect();
        assert_eq!(floats.len(), 3);
        assert_eq!(
            (floats[0].name.as_str(), &floats[0].shape),
            ("w", &vec![4, 5])
        );
        assert_eq!(floats[0].values, ramp(20, 16.0, 0.0));
        assert_eq!(
            (floats[1].name.as_str(), floats[1].dtype),
            ("h", DType::F16)
        );
        assert_eq!(floats[1].values, ramp(5, 4.0, 0.0));
        assert_eq!(
            (floats[2].name.as_str(), &floats[2].shape),
            ("fw", &vec![2, 3])
        );
        assert_eq!(floats[2].values, ramp(6, 2.0, 0.0));
        assert!(seen.contains(&Entry::Other(OtherTensor {
            name: "idx".into(),
            shape: vec![3],
            holds: "int64".into()
        })));

        let all = load_tensors(&fixture("mixed.safetensors"), None).unwrap();
        let by_name = |n: &str| all.iter().find(|t| t.name == n).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(by_name("w").values, ramp(6, 2.0, 0.0));
        assert_eq!(by_name("w").shape, vec![2, 3]);
        assert_eq!(by_name("h").dtype, DType::F16);
        assert_eq!(by_name("h").values, ramp(4, 8.0, 0.0));
        assert_eq!(by_name("d").values, ramp(2, 4.0, 0.0));
    }

    /// A compressed member cut short: the inflater runs out of input, which must be an
    /// error naming the member, not a panic or a short tensor.
    #[test]
    fn refuses_a_truncated_compressed_npz() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(fixture("compressed.npz")).unwrap();
        for cut in [bytes.len() / 2, bytes.len() - 30, 40] {
            let path = write(dir.path(), "cut.npz", &bytes[..cut]);
            let err = error(&path, None);
            assert!(!err.contains('\n'), "{cut}: {err}");
            assert!(
                err.starts_with(&format!("'{}'", path.display())),
                "{cut}: {err}"
            );
        }
    }
}
