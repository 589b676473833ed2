//! Output formats and the atomic-file helper.
//!
//! Each format writes to any `impl Write` (so tests never touch the disk) and receives
//! the tensor as a stream of [`Values`](crate::array::Values) slices in row-major order, so no format needs
//! the whole tensor in memory.

pub mod atomic;
pub mod json;
pub mod load;
pub mod manifest;
pub mod npy;
pub mod npz;
pub mod safetensors;
pub mod target;

use std::fmt;
use std::io;
use std::path::Path;

use serde::Serialize;

use crate::names::{Choice, Named};

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// NumPy .npy (format version 1.0), loads with `np.load`.
    Npy,
    /// One JSON document: metadata plus `data` as nested arrays.
    Json,
    /// NumPy .npz: every tensor of the run in one zip archive, loads with `np.load`.
    Npz,
    /// Hugging Face .safetensors: every tensor of the run in one file.
    Safetensors,
}

impl Choice for Format {
    const TABLE: &'static [Named<Self>] = &[
        Named {
            value: Format::Npy,
            name: "npy",
            aliases: &[],
            help: "NumPy .npy (format version 1.0), loads with `np.load`",
        },
        Named {
            value: Format::Json,
            name: "json",
            aliases: &[],
            help: "One JSON document: metadata plus `data` as nested arrays",
        },
        Named {
            value: Format::Npz,
            name: "npz",
            aliases: &[],
            help: "NumPy .npz: every tensor of the run in one zip archive, loads with `np.load`",
        },
        Named {
            value: Format::Safetensors,
            name: "safetensors",
            aliases: &[],
            help: "Hugging Face .safetensors: every tensor of the run in one file",
        },
    ];
}

impl Format {
    /// The format a file name asks for, from its extension.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "npy" => Some(Format::Npy),
            "json" => Some(Format::Json),
            "npz" => Some(Format::Npz),
            "safetensors" => Some(Format::Safetensors),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Npy => "npy",
            Format::Json => "json",
            Format::Npz => "npz",
            Format::Safetensors => "safetensors",
        }
    }

    /// Whether one file of this format holds all the tensors of a run.
    pub fn is_container(self) -> bool {
        matches!(self, Format::Npz | Format::Safetensors)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A writer that hashes (SHA-256) and counts what passes through it, for manifests.
pub struct HashingWriter<W> {
    inner: W,
    hasher: sha2::Sha256,
    bytes: u64,
}

impl<W: io::Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        use sha2::Digest;
        HashingWriter {
            inner,
            hasher: sha2::Sha256::new(),
            bytes: 0,
        }
    }

    /// The hex digest and byte count of everything written so far.
    pub fn digest(&self) -> (String, u64) {
        use sha2::Digest;
        let hash = self.hasher.clone().finalize();
        let hex = hash.iter().map(|b| format!("{b:02x}")).collect();
        (hex, self.bytes)
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

impl<W: io::Write> io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
