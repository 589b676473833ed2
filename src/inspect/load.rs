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

pub mod header;

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::tensor::dtype::DType;
use crate::text::{escape_control, list};
use header::{NpyFloat, checked_numel};

/// Deflate cannot expand data by more than about 1032:1 (258-byte matches coded in as
/// few as 2 bits), so a compressed member claiming more is lying about its size.
const MAX_DEFLATE_RATIO: u64 = 1032;
/// Bytes read and decoded at a time.
const CHUNK: usize = 1 << 16;
/// Most axes a stored tensor may have (NumPy 2's own limit).
pub const MAX_RANK: usize = 64;

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
    pub fn law_shape(&self) -> Result<crate::tensor::shape::Shape> {
        let dims = if self.shape.is_empty() {
            vec![1]
        } else {
            self.shape.clone()
        };
        crate::tensor::shape::Shape::new(dims).map_err(|e| match e {
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

/// One tensor of a file as its header describes it, already checked against the bytes
/// that hold it ([`read_headers`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TensorHeader {
    /// `.npy`: the file stem; `.npz`: the member name without `.npy`; safetensors: the key.
    /// Unescaped: pass it through [`escape_control`] before printing it.
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
    fortran_order: bool,
    big_endian: bool,
    place: Place,
}

impl TensorHeader {
    /// Number of values (1 for a 0-d array); checked when the header was read.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Where a tensor's data starts.
#[derive(Debug, Clone, PartialEq)]
enum Place {
    /// At this offset of the file (`.npy`, `.safetensors`).
    File { offset: u64 },
    /// In archive member `index`, after its `.npy` header.
    Member { index: usize, member: String },
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
    let shown = path.display();
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

/// The tensor an `.npy` header describes, checked against the `available` bytes that
/// follow the header; `has(needed)` says what the file has, for the message.
fn npy_tensor(
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

fn check_rank(shape: &[usize]) -> Result<(), String> {
    if shape.len() > MAX_RANK {
        return Err(format!(
            "a shape of {} axes is more than {MAX_RANK}",
            shape.len()
        ));
    }
    Ok(())
}

/// NumPy's name for a float type weightinit reads.
fn numpy_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F16 => "float16",
        DType::Bf16 => "bfloat16",
        DType::F32 => "float32",
        DType::F64 => "float64",
    }
}

/// Bytes per element of an `.npy` `descr` (`<f4` → 4, `<U3` → 12, `|b1` → 1), or `None`
/// when the header cannot say (Python objects, which are pickled; unknown kinds).
fn npy_itemsize(descr: &str) -> Option<u64> {
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

/// The `.npy` members of an archive, each checked against the sizes the zip directory
/// gives, and those sizes against the file.
fn npz_headers(
    archive: &mut zip::ZipArchive<BufReader<File>>,
    file_len: u64,
) -> Result<Vec<TensorHeader>, String> {
    if archive.len() > header::MAX_TENSORS {
        return Err(format!(
            "{} members is more than {} tensors",
            archive.len(),
            header::MAX_TENSORS
        ));
    }
    // Members sharing bytes with each other or with the zip directory: a cut or spliced
    // archive, or a zip bomb's trick of many entries over the same compressed data.
    if archive
        .has_overlapping_files()
        .map_err(|e| format!("cannot read the zip directory: {e}"))?
    {
        return Err(
            "its members overlap each other or the zip directory (a cut or forged archive)".into(),
        );
    }
    // The zip reader keeps one of several members of a name; which one np.load would
    // return is not for us to guess.
    if archive.has_duplicate_names() {
        return Err("two of its members have the same name".into());
    }
    let mut headers = Vec::new();
    for index in 0..archive.len() {
        let mut member = archive
            .by_index(index)
            .map_err(|e| format!("member {index}: {e}"))?;
        let member_name = member
            .name()
            .map_err(|e| format!("member {index}: {e}"))?
            .to_string();
        let Some(name) = member_name.strip_suffix(".npy").map(str::to_string) else {
            continue; // np.load ignores other members too
        };
        let shown = escape_control(&member_name);
        if member.is_dir() {
            continue;
        }
        // The directory's sizes are claims: bound them by the file before trusting them.
        let size = member.size();
        let stored = member.compressed_size();
        let start = member.data_start().unwrap_or(0);
        if start.checked_add(stored).is_none_or(|end| end > file_len) {
            return Err(format!(
                "member '{shown}': its {stored} stored bytes from offset {start} run past the \
                 end of the file ({file_len} bytes)"
            ));
        }
        match member.compression() {
            zip::CompressionMethod::Stored if size != stored => {
                return Err(format!(
                    "member '{shown}' is stored uncompressed, but the zip directory gives it \
                     {size} bytes in {stored} stored bytes"
                ));
            }
            _ if size > stored.saturating_mul(MAX_DEFLATE_RATIO) => {
                return Err(format!(
                    "member '{shown}': the zip directory gives it {size} bytes, more than its \
                     {stored} compressed bytes can hold (deflate expands at most \
                     {MAX_DEFLATE_RATIO}:1)"
                ));
            }
            _ => {}
        }
        let h =
            header::read_npy_header(&mut member).map_err(|e| format!("member '{shown}': {e}"))?;
        let Some(available) = size.checked_sub(h.header_len) else {
            return Err(format!(
                "member '{shown}': its .npy header of {} bytes is longer than the member ({size} \
                 bytes in the zip directory)",
                h.header_len
            ));
        };
        let place = Place::Member {
            index,
            member: member_name.clone(),
        };
        let tensor = npy_tensor(name, h, available, place, |_| {
            format!(
                "the member has {available} after its header ({size} bytes in the zip directory)"
            )
        })
        .map_err(|e| format!("member '{shown}': {e}"))?;
        headers.push(tensor);
    }
    Ok(headers)
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
        Error::Usage(format!("'{}': {why}", self.path.display()))
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
            fortran_to_c(&values, &h.shape)
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

/// The data of archive member `index` after its `.npy` header, and then the rest of the
/// member, which must be nothing: reading to the end is what makes the zip reader check
/// the CRC-32 and refuse bytes beyond the size the directory gives.
fn read_member(
    archive: &mut zip::ZipArchive<BufReader<File>>,
    index: usize,
    float: NpyFloat,
    bytes: u64,
) -> Result<Vec<f64>, String> {
    let mut member = archive.by_index(index).map_err(|e| e.to_string())?;
    let size = member.size();
    // The zip reader's own words for the two lies it catches, said plainly.
    let plain = |e: std::io::Error| {
        let text = e.to_string();
        if text.contains("checksum") {
            "its data does not match the CRC-32 in the zip directory (the file is corrupt)"
                .to_string()
        } else if text.contains("larger than its declared") {
            format!(
                "it holds more than the {size} bytes the zip directory gives it (the file is \
                 corrupt)"
            )
        } else {
            text
        }
    };
    header::read_npy_header(&mut member)?;
    let values = read_values(&mut member, float, bytes)?;
    let mut rest = [0u8; 1];
    match member.read(&mut rest) {
        Ok(0) => Ok(values),
        Ok(_) => Err(format!(
            "it holds more than the {size} bytes the zip directory gives it"
        )),
        Err(e) => Err(plain(e)),
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

/// Reads exactly `bytes` bytes of `float` elements (a whole number of them, checked by
/// the caller) and widens them to f64. The buffer is reserved once, for a size the
/// caller has checked against the file and the memory budget.
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
    if shape.len() < 2 {
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
                "shape [2, 2] of float32 needs 16 bytes of data, but the file has 12 after its header (truncated?)",
            ),
            (
                "long.npy",
                npy_bytes("<f4", false, "(1,)", &f32_le(&[1.0, 2.0])),
                "shape [1] of float32 needs 4 bytes of data, but the file has 8 after its header",
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
                "it holds only int64 tensors (int); weightinit reads f16, bf16, f32, f64",
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
        let err = error(&path, None);
        assert!(
            err.contains(
                "member 'w.npy': shape [3] of float32 needs 12 bytes of data, but the member has 4 \
                 after its header"
            ),
            "{err}"
        );
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
