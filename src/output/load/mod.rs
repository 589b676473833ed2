//! Reading tensors back from `.npy`, `.npz` and `.safetensors` files, as `f64` values in
//! row-major order, for `verify`, `hist`, `probe --input`, and their layout alone for
//! `gen --like`.
//!
//! The files may come from anywhere, so there is one checked path that every reader
//! shares. [`read_headers`] reads every header of a file (never its data) and checks,
//! before anything is allocated, that each header's shape × dtype size equals the bytes
//! that hold it:
//!
//! - `.npy`: the file's length minus the header;
//! - `.npz`: the member's uncompressed size from the zip directory minus its `.npy`
//!   header, where that size must itself be possible: a stored member's bytes lie within
//!   the file and equal its size, a deflated member's size is at most 1032 times its
//!   compressed bytes (deflate's largest expansion);
//! - `.safetensors`: the tensor's `data_offsets` span, inside the data section, with no
//!   two tensors overlapping.
//!
//! Any mismatch is a one-line [`Error::Format`] naming the file, the member or tensor,
//! the claimed shape and the actual size. Reading a tensor's values then asks the memory
//! budget ([`crate::budget`]) for what the caller will hold ([`Purpose`]), reads exactly
//! the bytes the header describes and, for an `.npz` member, reads on to the member's
//! end so that the zip reader verifies its CRC-32 and refuses data beyond the size the
//! directory gives (as `np.load` does). `gen --like` reads headers only, so it checks the
//! sizes but not the checksums.
//!
//! Supported: `.npy` format 1.0/2.0/3.0 with `<f2 <f4 <f8`, big-endian `>f2 >f4 >f8`,
//! native `=`, C or Fortran order (converted to C order), 0-d arrays (shape `[]`, one
//! value); `.npz` from `np.savez` (stored) and `np.savez_compressed` (deflated);
//! safetensors `F16 BF16 F32 F64`. Other dtypes are reported, not read.

mod entry;
pub mod header;
mod npz;
mod values;

pub use entry::{MAX_RANK, TensorHeader};
use entry::{Place, check_rank, npy_tensor};

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::array::dtype::DType;
use crate::error::{Error, Result};
use crate::text::{escape_control, list};
use header::NpyFloat;
use npz::{npz_headers, read_member};
use values::{fortran_to_c, read_values};

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

impl LoadedTensor {
    /// The shape a scheme is resolved against: the stored one, with a 0-d array (one
    /// value) taken as 1-D of length 1, as far as laws go.
    pub fn law_shape(&self) -> Result<crate::array::shape::Shape> {
        let dims = if self.shape.is_empty() {
            vec![1]
        } else {
            self.shape.clone()
        };
        crate::array::shape::Shape::new(dims).map_err(|e| match e {
            Error::Shape { input, reason } => Error::Shape {
                input,
                reason: format!("{reason} (tensor '{}')", escape_control(&self.name)),
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

/// What a caller does with the tensor it loads: who reads it (for messages), and how
/// much memory it holds per value at its peak, for the memory budget.
#[derive(Debug, Clone, Copy)]
pub struct Purpose<'a> {
    /// The reader, as messages name it: `hist`, `verify`, `probe`.
    pub reader: &'a str,
    /// Bytes held per value at the caller's peak, the loaded f64 values (8) included.
    pub bytes_per_value: u64,
}

impl Purpose<'static> {
    /// Loading alone: the f64 values.
    pub const LOAD: Purpose<'static> = Purpose {
        reader: "weightinit",
        bytes_per_value: 8,
    };
}

/// Every tensor header of `path` (`.npy`, `.npz`, `.safetensors`, by extension), in file
/// order, each checked against the bytes that hold it; nothing of the data is read. An
/// `.npz` member that is not an `.npy` file is passed over, as `np.load` does.
pub fn read_headers(path: &Path) -> Result<Vec<TensorHeader>> {
    Ok(open(path)?.headers)
}

/// The one float tensor of `path` that `only` names, or the only one there is; with
/// several and no name, an error listing them that points at `option`.
pub fn load_one(path: &Path, only: Option<&str>, option: &str) -> Result<LoadedTensor> {
    load_one_for(path, only, option, Purpose::LOAD)
}

/// [`load_one`] for a caller that holds `purpose.bytes_per_value` per value: the budget
/// is asked for that much before the tensor is read, and messages name the reader.
pub fn load_one_for(
    path: &Path,
    only: Option<&str>,
    option: &str,
    purpose: Purpose<'_>,
) -> Result<LoadedTensor> {
    let mut opened = open(path)?;
    let index = match only {
        Some(name) => opened.find_float(name)?,
        None => {
            let floats: Vec<usize> = opened.readable().collect();
            match floats[..] {
                [one] => one,
                [] => return Err(opened.nothing_readable(purpose)),
                _ => {
                    return Err(Error::Usage(format!(
                        "'{}' holds {} float tensors ({}); choose one with {option}",
                        path.display(),
                        floats.len(),
                        list(floats.iter().map(|&i| &opened.headers[i].name))
                    )));
                }
            }
        }
    };
    opened.check_budget(&[index], purpose)?;
    opened.load(index)
}

/// Every floating-point tensor of `path` (`.npy`, `.npz`, `.safetensors`, by extension),
/// or only the one named `only` (an error listing the available names when it is not
/// there, or saying what it holds when it is not a float tensor). Tensors of other
/// dtypes are skipped; use [`visit_tensors`] to hear about them. The budget is asked for
/// all of them together, since they are all held at once.
pub fn load_tensors(path: &Path, only: Option<&str>) -> Result<Vec<LoadedTensor>> {
    let mut opened = open(path)?;
    let indices: Vec<usize> = match only {
        Some(name) => vec![opened.find_float(name)?],
        None => opened.readable().collect(),
    };
    if indices.is_empty() {
        return Err(opened.nothing_readable(Purpose::LOAD));
    }
    opened.check_budget(&indices, Purpose::LOAD)?;
    indices.into_iter().map(|i| opened.load(i)).collect()
}

/// [`load_tensors`] one tensor at a time, so that memory holds only the tensor being
/// looked at; `visit` also receives the tensors that are not read ([`Entry::Other`]).
/// An error from `visit` stops the walk and is returned as is. A file with no float
/// tensor to read is an error.
pub fn visit_tensors(
    path: &Path,
    only: Option<&str>,
    visit: impl FnMut(Entry) -> Result<()>,
) -> Result<()> {
    visit_tensors_for(path, only, Purpose::LOAD, visit)
}

/// [`visit_tensors`] on a file's bytes held in memory, as `STEM.FORMAT` (`format`:
/// `npy`, `npz` or `safetensors`): for fuzzing and tests. The bytes go through a
/// temporary file, so they take exactly the path a file on disk takes.
pub fn visit_bytes(
    bytes: &[u8],
    format: &str,
    stem: &str,
    only: Option<&str>,
    visit: impl FnMut(Entry) -> Result<()>,
) -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let path = dir.path().join(format!("{stem}.{format}"));
    std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
    visit_tensors(&path, only, visit)
}

/// [`visit_tensors`] for a caller that holds `purpose.bytes_per_value` per value of the
/// tensor it is given: the budget is asked before each tensor is read.
pub fn visit_tensors_for(
    path: &Path,
    only: Option<&str>,
    purpose: Purpose<'_>,
    mut visit: impl FnMut(Entry) -> Result<()>,
) -> Result<()> {
    let mut opened = open(path)?;
    let indices: Vec<usize> = match only {
        Some(name) => vec![opened.find_float(name)?],
        None => {
            if opened.readable().next().is_none() {
                return Err(opened.nothing_readable(purpose));
            }
            (0..opened.headers.len()).collect()
        }
    };
    for i in indices {
        let h = &opened.headers[i];
        if h.dtype.is_none() {
            visit(Entry::Other(OtherTensor {
                name: h.name.clone(),
                shape: h.shape.clone(),
                holds: h.holds.clone(),
            }))?;
            continue;
        }
        opened.check_budget(&[i], purpose)?;
        let tensor = opened.load(i)?;
        visit(Entry::Float(tensor))?;
    }
    Ok(())
}

/// An open tensor file whose headers have been read and checked.
struct Opened {
    path: PathBuf,
    source: Source,
    headers: Vec<TensorHeader>,
}

enum Source {
    File(File),
    Zip(Box<zip::ZipArchive<BufReader<File>>>),
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Npy,
    Npz,
    Safetensors,
}

/// Opens `path`, reads every header and checks each against the bytes that hold it.
fn open(path: &Path) -> Result<Opened> {
    let shown = crate::text::path(path);
    if path.is_dir() {
        return Err(Error::Usage(format!("'{shown}' is a directory")));
    }
    let usage = |why: String| Error::Usage(format!("'{shown}': {why}"));
    let corrupt = |reason: String| Error::Format {
        path: path.to_path_buf(),
        reason,
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let kind = match ext.as_deref() {
        Some("npy") => Kind::Npy,
        Some("npz") => Kind::Npz,
        Some("safetensors") => Kind::Safetensors,
        _ => {
            return Err(usage(
                "expected a .npy, .npz or .safetensors file (the extension says which)".into(),
            ));
        }
    };
    let file = File::open(path).map_err(|e| usage(format!("cannot open: {e}")))?;
    let metadata = file
        .metadata()
        .map_err(|e| usage(format!("cannot read: {e}")))?;
    if !metadata.is_file() {
        return Err(usage("not a regular file".into()));
    }
    let file_len = metadata.len();
    let (source, headers) = match kind {
        Kind::Npy => {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let h = header::read_npy_header(&mut BufReader::new(&file)).map_err(corrupt)?;
            let available = file_len.saturating_sub(h.header_len);
            let place = Place::File {
                offset: h.header_len,
            };
            let tensor = npy_tensor(stem, h, available, place, |needed| {
                format!(
                    "the file has {available} after its header{}",
                    if available < needed {
                        " (truncated?)"
                    } else {
                        ""
                    }
                )
            })
            .map_err(corrupt)?;
            (Source::File(file), vec![tensor])
        }
        Kind::Npz => {
            let mut archive = zip::ZipArchive::new(BufReader::new(file))
                .map_err(|e| corrupt(format!("not a readable .npz (zip) file: {e}")))?;
            let headers = npz_headers(&mut archive, file_len).map_err(corrupt)?;
            (Source::Zip(Box::new(archive)), headers)
        }
        Kind::Safetensors => {
            let headers = safetensors_headers(&file, file_len).map_err(corrupt)?;
            (Source::File(file), headers)
        }
    };
    Ok(Opened {
        path: path.to_path_buf(),
        source,
        headers,
    })
}

/// The tensors of a safetensors header; the header reader has checked every byte range
/// against its shape, the data section and the other ranges.
fn safetensors_headers(file: &File, file_len: u64) -> Result<Vec<TensorHeader>, String> {
    let (entries, header_len) =
        header::read_safetensors_header(&mut BufReader::new(file), file_len)?;
    entries
        .into_iter()
        .map(|e| {
            check_rank(&e.shape)
                .map_err(|why| format!("tensor '{}': {why}", escape_control(&e.name)))?;
            // The header reader has refused dtype names the format lacks.
            let kind = header::safetensors_dtype(&e.dtype_name);
            let holds = kind
                .as_ref()
                .map_or(e.dtype_name.clone(), |k| k.long_name.to_string());
            Ok(TensorHeader {
                dtype: kind.as_ref().and_then(|k| k.dtype),
                is_float: kind.is_some_and(|k| k.is_float),
                holds,
                data_bytes: e.end - e.begin,
                fortran_order: false,
                big_endian: false,
                place: Place::File {
                    offset: 8 + header_len + e.begin,
                },
                name: e.name,
                shape: e.shape,
                source_dtype: e.dtype_name,
            })
        })
        .collect()
}

impl Opened {
    fn bad(&self, reason: String) -> Error {
        Error::Format {
            path: self.path.clone(),
            reason,
        }
    }

    fn usage(&self, why: String) -> Error {
        Error::Usage(format!("'{}': {why}", crate::text::path(&self.path)))
    }

    /// Indices of the tensors weightinit reads (f16, bf16, f32, f64).
    fn readable(&self) -> impl Iterator<Item = usize> + '_ {
        self.headers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.dtype.is_some())
            .map(|(i, _)| i)
    }

    /// The float tensor `name`, or an error saying what the file holds instead.
    fn find_float(&self, name: &str) -> Result<usize> {
        let Some(i) = self.headers.iter().position(|h| h.name == name) else {
            return Err(self.usage(missing_tensor(
                name,
                self.headers.iter().map(|h| h.name.as_str()),
                self.headers.len(),
                self.kind_is_npy(),
            )));
        };
        match self.headers[i].dtype {
            Some(_) => Ok(i),
            None => Err(self.usage(not_float(name, &self.headers[i].holds))),
        }
    }

    fn kind_is_npy(&self) -> bool {
        self.path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    }

    /// "holds no tensors", or "holds only int32 tensors (ids); hist reads ...".
    fn nothing_readable(&self, purpose: Purpose<'_>) -> Error {
        if self.headers.is_empty() {
            return self.usage("it holds no tensors".into());
        }
        let mut kinds: Vec<&str> = Vec::new();
        for h in &self.headers {
            if !kinds.contains(&h.holds.as_str()) {
                kinds.push(&h.holds);
            }
        }
        self.usage(format!(
            "it holds only {} tensors ({}); {} reads f16, bf16, f32, f64",
            list(&kinds),
            list(self.headers.iter().map(|h| &h.name)),
            purpose.reader
        ))
    }

    /// Asks the memory budget for the tensors at `indices` held together, at
    /// `purpose.bytes_per_value` per value. Reordering a Fortran-order tensor holds two
    /// copies of its values for a moment (16 bytes per value), before the caller's own
    /// working memory exists.
    fn check_budget(&self, indices: &[usize], purpose: Purpose<'_>) -> Result<()> {
        let per_value = purpose.bytes_per_value.max(8);
        let mut total = Some(0u64);
        let mut reorder = 0u64;
        for &i in indices {
            let h = &self.headers[i];
            let n = h.numel() as u64;
            total = total.and_then(|t| t.checked_add(n.checked_mul(per_value)?));
            if h.fortran_order && h.shape.len() >= 2 {
                reorder = reorder.max(n.saturating_mul(16_u64.saturating_sub(per_value)));
            }
        }
        let needed = total.and_then(|t| t.checked_add(reorder));
        let what = match indices {
            [i] => {
                let h = &self.headers[*i];
                format!(
                    "{} on tensor '{}' ({:?} {}, {} values)",
                    purpose.reader,
                    escape_control(&h.name),
                    h.shape,
                    h.holds,
                    h.numel()
                )
            }
            _ => format!(
                "{} on {} tensors of '{}'",
                purpose.reader,
                indices.len(),
                self.path.display()
            ),
        };
        crate::budget::check(needed, &what)
    }

    /// Reads the values of float tensor `index`: exactly the bytes its header describes,
    /// then, for an archive member, on to the member's end so its CRC-32 is checked.
    fn load(&mut self, index: usize) -> Result<LoadedTensor> {
        let h = self.headers[index].clone();
        let dtype = h.dtype.expect("only float tensors are loaded");
        let float = NpyFloat {
            dtype,
            big_endian: h.big_endian,
        };
        let shown = escape_control(&h.name);
        let values = match (&mut self.source, &h.place) {
            (Source::File(file), Place::File { offset }) => file
                .seek(SeekFrom::Start(*offset))
                .map_err(|e| format!("cannot seek to tensor '{shown}': {e}"))
                .and_then(|_| read_values(file, float, h.data_bytes))
                .map_err(|e| format!("tensor '{shown}': {e}")),
            (Source::Zip(archive), Place::Member { index, member }) => {
                read_member(archive, *index, float, h.data_bytes)
                    .map_err(|e| format!("member '{}': {e}", escape_control(member)))
            }
            _ => unreachable!("a tensor's place matches its file's kind"),
        }
        .map_err(|e| self.bad(e))?;
        let values = if h.fortran_order {
            fortran_to_c(values, &h.shape)
                .map_err(|e| self.bad(format!("tensor '{shown}': {e}")))?
        } else {
            values
        };
        Ok(LoadedTensor {
            name: h.name,
            shape: h.shape,
            dtype,
            values,
        })
    }
}

fn not_float(name: &str, holds: &str) -> String {
    format!(
        "'{}' holds {holds} values; only float16, bfloat16, float32 and float64 tensors can be read",
        escape_control(name)
    )
}

/// "no tensor 'x' (did you mean 'y'?); the file holds: a, b, c … and N more".
fn missing_tensor<'a>(
    name: &str,
    names: impl Iterator<Item = &'a str> + Clone,
    total: usize,
    npy: bool,
) -> String {
    let shown = escape_control(name);
    if total == 0 {
        return format!("no tensor '{shown}'; the file holds no tensors");
    }
    if npy && let Some(stem) = names.clone().next() {
        return format!(
            "no tensor '{shown}': an .npy file holds one tensor, named '{}' after the file",
            escape_control(stem)
        );
    }
    let close = names
        .clone()
        .map(|n| (strsim::jaro_winkler(name, n), n))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.8)
        .map(|(_, n)| format!(" (did you mean '{}'?)", escape_control(n)))
        .unwrap_or_default();
    format!(
        "no tensor '{shown}'{close}; the file holds: {}",
        list(names)
    )
}

#[cfg(test)]
mod tests;
