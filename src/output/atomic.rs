//! Files that appear whole or not at all.
//!
//! Data goes to a hidden temporary file in the target's directory (same file system),
//! which is renamed over the final name only after the last byte is written. That is
//! atomic against our own failures and crashes; with [`FileOptions::fsync`] the data is
//! also flushed to the device before the rename, which makes it durable against power
//! loss too, at the cost of waiting for the disk (about 0.5 s per GiB here) — off by
//! default, as for `dd`, `np.save` and `torch.save`.
//! Without `force` the rename refuses to replace an existing file, even one that appeared
//! while we were writing. A failure or a crash leaves the final name untouched; the
//! temporary file is removed on error (and, being hidden, is harmless after a crash).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Size of the write buffer in front of the file. Smaller than one block of tensor data
/// (256 KiB of f32), so whole blocks bypass it and reach `write(2)` without a copy,
/// while JSON's many small pieces are still batched.
pub const BUFFER: usize = 64 << 10;

/// How output files are committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileOptions {
    /// Replace an existing file.
    pub force: bool,
    /// fsync the data before the rename.
    pub fsync: bool,
}

/// A file being written under a temporary name.
pub struct AtomicFile {
    writer: BufWriter<tempfile::NamedTempFile>,
    target: PathBuf,
    options: FileOptions,
}

/// Checks, before any work, that `target` can be written: its directory exists and
/// the file does not (unless `force`).
pub fn check_target(target: &Path, force: bool) -> Result<()> {
    let dir = parent_dir(target);
    if !dir.is_dir() {
        return Err(Error::MissingDir(dir.to_path_buf()));
    }
    if target.is_dir() {
        return Err(Error::Usage(format!(
            "'{}' is a directory; to write into it, end the path with '/'",
            target.display()
        )));
    }
    if !force && target.symlink_metadata().is_ok() {
        return Err(Error::Exists(target.to_path_buf()));
    }
    Ok(())
}

fn parent_dir(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl AtomicFile {
    /// Opens a temporary file beside `target`.
    pub fn create(target: &Path, options: FileOptions) -> Result<Self> {
        check_target(target, options.force)?;
        let dir = parent_dir(target);
        let stem = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{stem}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            // NamedTempFile defaults to 0600; ordinary output files get 0666 minus umask.
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let file = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
        Ok(AtomicFile {
            writer: BufWriter::with_capacity(BUFFER, file),
            target: target.to_path_buf(),
            options,
        })
    }

    /// Where the data goes while it is written.
    pub fn writer(&mut self) -> &mut BufWriter<tempfile::NamedTempFile> {
        &mut self.writer
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes (and with `fsync`, syncs) the file and renames it into place.
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        if self.options.fsync {
            file.as_file()
                .sync_all()
                .map_err(|e| Error::io(&target, e))?;
        }
        let persisted = if self.options.force {
            file.persist(&target).map(drop)
        } else {
            file.persist_noclobber(&target).map(drop)
        };
        persisted.map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Exists(target.clone())
            } else {
                Error::io(&target, e.error)
            }
        })
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

/// Writes `bytes` to `target` atomically.
pub fn write_file(target: &Path, bytes: &[u8], options: FileOptions) -> Result<()> {
    let mut file = AtomicFile::create(target, options)?;
    file.writer()
        .write_all(bytes)
        .map_err(|e| Error::io(target, e))?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_replace_without_force_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.npy");
        let keep = FileOptions::default();
        let replace = FileOptions {
            force: true,
            fsync: true,
        };
        write_file(&path, b"first", keep).unwrap();
        let err = write_file(&path, b"second", keep).unwrap_err();
        assert!(matches!(err, Error::Exists(_)), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        write_file(&path, b"third", replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"third");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn dropped_file_never_appears() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.npy");
        {
            let mut f = AtomicFile::create(&path, FileOptions::default()).unwrap();
            f.writer().write_all(b"half").unwrap();
            // dropped without commit, as on an error mid-write
        }
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn missing_directory_is_named() {
        let err = check_target(Path::new("/nonexistent-dir-xyz/w.npy"), false).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir-xyz"), "{err}");
    }
}
