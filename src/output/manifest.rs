//! `manifest.json`: the index of a directory of tensors.

use serde::Serialize;

use crate::tensor::TensorMeta;

/// Version tag of the manifest layout.
pub const MANIFEST_FORMAT: &str = "weightinit-manifest-v1";

/// One tensor file in the directory.
#[derive(Debug, Clone, Serialize)]
pub struct ManifestEntry {
    /// File name relative to the manifest.
    pub file: String,
    pub format: super::Format,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
    pub bytes: u64,
    #[serde(flatten)]
    pub meta: TensorMeta,
}

/// The whole manifest.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub generator: &'static str,
    pub tensors: Vec<ManifestEntry>,
}

impl Manifest {
    pub fn new(tensors: Vec<ManifestEntry>) -> Self {
        Manifest {
            format: MANIFEST_FORMAT,
            generator: concat!("weightinit ", env!("CARGO_PKG_VERSION")),
            tensors,
        }
    }

    /// Pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("manifest serializes");
        bytes.push(b'\n');
        bytes
    }
}
