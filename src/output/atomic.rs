//! Files that appear whole or not at all, and the run's record of what to remove if it
//! is interrupted.
//!
//! Data goes to a hidden temporary file `.NAME.XXXXXX.tmp` in the target's directory
//! (same file system), which is renamed over the final name only after the last byte is
//! written. That is atomic against our own failures and crashes; with
//! [`FileOptions::fsync`] the data is also flushed to the device before the rename, which
//! makes it durable against power loss too, at the cost of waiting for the disk (about
//! 0.5 s per GiB here) — off by default, as for `dd`, `np.save` and `torch.save`.
//! Without `force` the rename refuses to replace an existing file, even one that appeared
//! while we were writing. An error removes the temporary file; so does an interrupt (the
//! binary's signal handler calls [`interrupt`]). Only SIGKILL or a power cut can leave
//! one behind, and the next run writing the same name removes it
//! ([`super::target::remove_stale_temporaries`]).
//!
//! Targets that are not regular files are handled by [`super::target::classify`]: a
//! character device or FIFO is written through in place, never renamed over.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::target::{self, TargetKind};
use crate::error::{Error, Result};

/// Size of the write buffer in front of the file. Smaller than one block of tensor data
/// (256 KiB of f32), so whole blocks bypass it and reach `write(2)` without a copy,
/// while JSON's many small pieces are still batched.
pub const BUFFER: usize = 64 << 10;

/// How output files are committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileOptions {
    /// Replace an existing regular file.
    pub force: bool,
    /// fsync the data before the rename.
    pub fsync: bool,
}

/// Checks, before any work, that `target` can be written (see [`target::classify`]).
pub fn check_target(target: &Path, force: bool) -> Result<TargetKind> {
    target::classify(target, force)
}

/// What the run has on disk that is not finished: temporary files being written and
/// directories it created. An interrupt removes them.
#[derive(Debug, Default)]
struct Pending {
    temporaries: Vec<PathBuf>,
    created_dirs: Vec<PathBuf>,
}

static PENDING: Mutex<Pending> = Mutex::new(Pending {
    temporaries: Vec::new(),
    created_dirs: Vec::new(),
});

/// The registry, also after a panic elsewhere poisoned it (its data stays consistent:
/// every update is one push or retain).
fn pending() -> MutexGuard<'static, Pending> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records a directory this run created, so an interrupt or a failed run can remove it
/// again if nothing finished landed in it.
pub fn record_created_dir(dir: &Path) {
    pending().created_dirs.push(dir.to_path_buf());
}

/// Removes the directories this run created that are still empty (a failed run leaves
/// the disk as it found it) and forgets them. Returns the ones removed.
pub fn remove_empty_created_dirs() -> Vec<PathBuf> {
    let mut state = pending();
    remove_dirs(&mut state)
}

/// Forgets the directories this run created: the run finished and they are its output.
pub fn keep_created_dirs() {
    pending().created_dirs.clear();
}

fn remove_dirs(state: &mut Pending) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    // Newest first, so a directory created inside another goes before its parent.
    while let Some(dir) = state.created_dirs.pop() {
        // remove_dir fails on a non-empty directory: completed files stay, with it.
        if std::fs::remove_dir(&dir).is_ok() {
            removed.push(dir);
        }
    }
    removed
}

/// What [`interrupt`] removed.
#[derive(Debug, Default)]
pub struct Cleanup {
    pub temporaries: Vec<PathBuf>,
    pub dirs: Vec<PathBuf>,
}

/// For a signal handler: removes every temporary file of the run and every directory it
/// created that is left empty, calls `report` with what was removed, and ends the process
/// with `code` *while still holding the registry*, so no file can be committed or created
/// between the cleanup and the exit. Files already committed stay: each is whole.
pub fn interrupt(report: impl FnOnce(&Cleanup), code: i32) -> ! {
    let mut state = pending();
    let mut cleanup = Cleanup::default();
    for path in state.temporaries.drain(..) {
        if std::fs::remove_file(&path).is_ok() {
            cleanup.temporaries.push(path);
        }
    }
    cleanup.dirs = remove_dirs(&mut state);
    report(&cleanup);
    std::process::exit(code)
}

/// Where the bytes go: a temporary file to be renamed, or a special file written in place.
pub enum Backing {
    Temp(tempfile::NamedTempFile),
    Through(File),
}

impl Backing {
    /// The open file. Writes go to it directly: `NamedTempFile`'s own `Write` appends the
    /// temporary path to every error, and the user should see the target's name only.
    fn file(&mut self) -> &mut File {
        match self {
            Backing::Temp(f) => f.as_file_mut(),
            Backing::Through(f) => f,
        }
    }
}

/// Set by [`cancel_writes`]: every write to an [`AtomicFile`] fails from then on, so a
/// run stops at its next write and its temporaries go as after any failed write.
static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Makes the writes of every run in this process fail from now on, until
/// [`allow_writes`]: how a library caller stops a run it started on another thread (the
/// Python package on Ctrl-C), where the command line's signal handler would end the
/// whole process instead.
pub fn cancel_writes() {
    CANCELLED.store(true, Ordering::SeqCst);
}

/// Lets writes proceed again after [`cancel_writes`].
pub fn allow_writes() {
    CANCELLED.store(false, Ordering::SeqCst);
}

fn cancelled() -> io::Result<()> {
    if CANCELLED.load(Ordering::Relaxed) {
        return Err(io::Error::other("cancelled"));
    }
    Ok(())
}

impl Write for Backing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        cancelled()?;
        self.file().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file().flush()
    }
}

impl Seek for Backing {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file().seek(pos)
    }
}

/// A file being written under a temporary name (or, for a device or FIFO, in place).
pub struct AtomicFile {
    writer: BufWriter<Backing>,
    target: PathBuf,
    /// Where the finished file goes: `target`, or the file a symbolic link points to.
    destination: PathBuf,
    options: FileOptions,
    /// Forgets the temporary file's name when it is dropped uncommitted.
    _registered: Option<Registered>,
}

/// A temporary file's entry in the registry, removed when the file is dropped (an error
/// mid-write: `NamedTempFile` deletes the file itself) so an interrupt later does not look
/// for it.
struct Registered(PathBuf);

impl Drop for Registered {
    fn drop(&mut self) {
        pending().temporaries.retain(|p| *p != self.0);
    }
}

impl AtomicFile {
    /// Opens a temporary file beside `target` (beside the file it links to, for a link),
    /// or opens a character device or FIFO for writing in place.
    pub fn create(target: &Path, options: FileOptions) -> Result<Self> {
        let kind = check_target(target, options.force)?;
        let destination = match kind {
            TargetKind::New => target.to_path_buf(),
            TargetKind::Replace { resolved } => resolved,
            TargetKind::WriteThrough { .. } => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(target)
                    .map_err(|e| Error::io(target, e))?;
                return Ok(AtomicFile {
                    writer: BufWriter::with_capacity(BUFFER, Backing::Through(file)),
                    target: target.to_path_buf(),
                    destination: target.to_path_buf(),
                    options,
                    _registered: None,
                });
            }
        };
        let dir = target::parent_dir(&destination).to_path_buf();
        let file = create_registered_temp(&destination, &dir)?;
        let registered = Registered(file.path().to_path_buf());
        Ok(AtomicFile {
            writer: BufWriter::with_capacity(BUFFER, Backing::Temp(file)),
            target: target.to_path_buf(),
            destination,
            options,
            _registered: Some(registered),
        })
    }

    /// Where the data goes while it is written.
    pub fn writer(&mut self) -> &mut BufWriter<Backing> {
        &mut self.writer
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes (and with `fsync`, syncs) the file and renames it into place.
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        cancelled().map_err(|e| Error::io(&target, e))?;
        let backing = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        let file = match backing {
            Backing::Through(mut file) => {
                return file.flush().map_err(|e| Error::io(&target, e));
            }
            Backing::Temp(file) => file,
        };
        if self.options.fsync {
            file.as_file()
                .sync_all()
                .map_err(|e| Error::io(&target, e))?;
        }
        // Hold the registry across the rename and the unregistering: an interrupt then
        // sees the file either as a temporary (and removes it) or as finished.
        let mut state = pending();
        let temp_path = file.path().to_path_buf();
        let persisted = if self.options.force {
            file.persist(&self.destination).map(drop)
        } else {
            file.persist_noclobber(&self.destination).map(drop)
        };
        state.temporaries.retain(|p| *p != temp_path);
        drop(state);
        persisted.map_err(|e| {
            if e.error.kind() == io::ErrorKind::AlreadyExists {
                Error::Exists(target.clone())
            } else {
                Error::io(&target, e.error)
            }
        })
    }
}

/// Creates `.NAME.XXXXXX.tmp` in `dir`, recording its path *before* the file exists, so
/// an interrupt at any moment finds every temporary file of the run.
fn create_registered_temp(destination: &Path, dir: &Path) -> Result<tempfile::NamedTempFile> {
    let prefix = target::temp_prefix(destination);
    let mut builder = tempfile::Builder::new();
    builder
        .prefix(&prefix)
        .suffix(".tmp")
        .rand_bytes(target::TEMP_RANDOM_LEN);
    builder
        .make_in(dir, |path| {
            pending().temporaries.push(path.to_path_buf());
            let mut options = std::fs::OpenOptions::new();
            options.read(true).write(true).create_new(true);
            #[cfg(unix)]
            {
                // Ordinary output files get 0666 minus umask, as `touch` would make them.
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o666);
            }
            let opened = options.open(path);
            if opened.is_err() {
                pending().temporaries.retain(|p| p != path);
            }
            opened
        })
        .map_err(|e| Error::io(dir, e))
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
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
    fn dropped_file_never_appears_and_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.npy");
        let temp;
        {
            let mut f = AtomicFile::create(&path, FileOptions::default()).unwrap();
            f.writer().write_all(b"half").unwrap();
            temp = match f.writer().get_ref() {
                Backing::Temp(t) => t.path().to_path_buf(),
                Backing::Through(_) => unreachable!(),
            };
            assert!(pending().temporaries.contains(&temp));
            // dropped without commit, as on an error mid-write
        }
        assert!(!path.exists());
        assert!(!pending().temporaries.contains(&temp));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn missing_directory_is_named() {
        let err = check_target(Path::new("/nonexistent-dir-xyz/w.npy"), false).unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir-xyz"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_kept_and_its_file_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.npy");
        let link = dir.path().join("link.npy");
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let force = FileOptions {
            force: true,
            fsync: false,
        };
        write_file(&link, b"new", force).unwrap();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn a_character_device_is_written_through() {
        write_file(Path::new("/dev/null"), b"bytes", FileOptions::default()).unwrap();
        assert!(
            std::fs::metadata("/dev/null")
                .map(|m| !m.is_file())
                .unwrap()
        );
    }
}
