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
//!
//! A library caller that runs a command on another thread and may stop it (the Python
//! package's `write()` on Ctrl-C) uses [`run_cancellable`] with a [`CancelToken`]: the
//! run's files are put in place together at its end, under the lock [`CancelToken::cancel`]
//! takes, so a cancel either lands first and none of them appears, or finds them all in
//! place and says so.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

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
#[derive(Default)]
struct Pending {
    temporaries: Vec<PathBuf>,
    created_dirs: Vec<PathBuf>,
    /// The cancellable run in progress, if any ([`run_cancellable`]).
    scope: Option<Scope>,
}

static PENDING: Mutex<Pending> = Mutex::new(Pending {
    temporaries: Vec::new(),
    created_dirs: Vec::new(),
    scope: None,
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
/// the disk as it found it) and forgets them. Returns the ones removed. Inside
/// [`run_cancellable`] this waits for the run's end, which settles them.
pub fn remove_empty_created_dirs() -> Vec<PathBuf> {
    let mut state = pending();
    if state.scope.is_some() {
        return Vec::new();
    }
    remove_dirs(&mut state)
}

/// Forgets the directories this run created: the run finished and they are its output.
/// Inside [`run_cancellable`] this waits for the run's end: its files are not in place yet.
pub fn keep_created_dirs() {
    let mut state = pending();
    if state.scope.is_none() {
        state.created_dirs.clear();
    }
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

/// Set when the token of the cancellable run in progress is cancelled: every write to an
/// [`AtomicFile`] of that run fails from then on, so it stops at its next write and its
/// temporaries go as after any failed write. An atomic beside the registry so that every
/// write can check it without taking the lock.
static SCOPE_CANCELLED: AtomicBool = AtomicBool::new(false);

fn cancelled() -> io::Result<()> {
    if SCOPE_CANCELLED.load(Ordering::SeqCst) {
        return Err(io::Error::other("cancelled"));
    }
    Ok(())
}

/// Stops one [`run_cancellable`] run from another thread. Create it before the run starts
/// (so a cancel can never come too early to count) and hand a clone to the run.
///
/// Its two flags only change under the registry's lock, the one the run's final commit
/// holds: a cancel either comes before the commit (the run fails, none of its files
/// appears) or after it (every file is in place; [`CancelToken::cancel`] returns false).
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<TokenState>);

#[derive(Debug, Default)]
struct TokenState {
    cancelled: AtomicBool,
    committed: AtomicBool,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels the run: its next write fails, and its files are never put in place.
    /// Returns false, changing nothing, when it came too late: the run had already put
    /// its files in place.
    pub fn cancel(&self) -> bool {
        let state = pending();
        if self.0.committed.load(Ordering::SeqCst) {
            return false;
        }
        self.0.cancelled.store(true, Ordering::SeqCst);
        if state.scope.as_ref().is_some_and(|s| s.token.same(self)) {
            SCOPE_CANCELLED.store(true, Ordering::SeqCst);
        }
        true
    }

    /// Whether [`CancelToken::cancel`] came in time.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Whether the run reached its final commit (its files are in place, unless a rename
    /// failed and the run returned that error): too late to cancel.
    pub fn is_committed(&self) -> bool {
        self.0.committed.load(Ordering::SeqCst)
    }

    fn same(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The cancellable run in progress: its token, and its finished files waiting to be
/// renamed into place at its end.
struct Scope {
    token: CancelToken,
    staged: Vec<Staged>,
}

/// A finished temporary file waiting for its rename.
struct Staged {
    temp: tempfile::TempPath,
    destination: PathBuf,
    target: PathBuf,
    force: bool,
    /// Keeps the temporary registered until it is renamed or removed.
    _registered: Option<Registered>,
}

impl Staged {
    /// Renames the file into place. Returns its registration with the result, to be
    /// dropped once the caller has released the registry (dropping it takes the lock).
    fn persist(self) -> (Result<()>, Option<Registered>) {
        let Staged {
            temp,
            destination,
            target,
            force,
            _registered: registered,
        } = self;
        let persisted = if force {
            temp.persist(&destination)
        } else {
            temp.persist_noclobber(&destination)
        };
        // A failed rename gives the temporary back; dropping it removes the file.
        (
            persisted.map_err(|e| persist_error(&target, e.error)),
            registered,
        )
    }
}

/// One cancellable run at a time per process: the registry has one scope.
static CANCELLABLE_RUN: Mutex<()> = Mutex::new(());

/// The error of a run stopped by a cancel.
fn cancelled_run() -> Error {
    Error::io("write", io::Error::other("cancelled"))
}

/// Runs `run` (a command that writes files through [`AtomicFile`]) so that `token` can
/// stop it from another thread, with these guarantees:
///
/// - Every file the run commits is held back as a finished temporary and renamed into
///   place only when `run` has returned successfully, all together, under the lock
///   [`CancelToken::cancel`] takes.
/// - A cancel before that point (including before this function is called) fails the
///   run: its temporaries are removed, the directories it created are removed, and none
///   of its files appears. The run's error is returned (an I/O error "cancelled" when
///   the cancel stopped it).
/// - A cancel after that point changes nothing and returns false.
///
/// Cancellable runs in one process take turns; while one runs, every [`AtomicFile`]
/// committed in the process belongs to it. Without a cancel, the files and their bytes
/// are those the run writes on its own; only the moment they appear differs.
pub fn run_cancellable<T>(token: &CancelToken, run: impl FnOnce() -> Result<T>) -> Result<T> {
    let _turn = CANCELLABLE_RUN.lock().unwrap_or_else(|e| e.into_inner());
    {
        let mut state = pending();
        if token.is_cancelled() {
            return Err(cancelled_run());
        }
        SCOPE_CANCELLED.store(false, Ordering::SeqCst);
        state.scope = Some(Scope {
            token: token.clone(),
            staged: Vec::new(),
        });
    }
    // Uninstalls the scope even if `run` panics, removing what it staged.
    let mut guard = ScopeGuard(true);
    let result = run();
    guard.0 = false;
    finish_scope(result)
}

/// Uninstalls the scope of a run that panicked.
struct ScopeGuard(bool);

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        if self.0 {
            let _ = finish_scope::<()>(Err(cancelled_run()));
        }
    }
}

/// Ends the scope of a cancellable run: commits its staged files, or removes them.
fn finish_scope<T>(result: Result<T>) -> Result<T> {
    let mut state = pending();
    let Some(scope) = state.scope.take() else {
        return result;
    };
    SCOPE_CANCELLED.store(false, Ordering::SeqCst);
    let proceed = result.is_ok() && !scope.token.is_cancelled();
    if !proceed {
        drop(state);
        // Dropped outside the lock: a staged file's registration takes it on drop.
        drop(scope.staged);
        remove_empty_created_dirs();
        return match result {
            Ok(_) => Err(cancelled_run()),
            Err(e) => Err(e),
        };
    }
    // The point of no return: from here a cancel finds the token committed.
    scope.token.0.committed.store(true, Ordering::SeqCst);
    let mut outcome = Ok(());
    // Dropped after the lock is released, as registrations must be.
    let mut released = Vec::new();
    let mut unrenamed = Vec::new();
    for staged in scope.staged {
        if outcome.is_ok() {
            let (persisted, registered) = staged.persist();
            outcome = persisted;
            released.push(registered);
        } else {
            unrenamed.push(staged);
        }
    }
    // A rename that failed (a file appeared at a target meanwhile) fails the run as a
    // failed commit does outside a scope: the files renamed before it stay, whole.
    let dirs_settled = if outcome.is_ok() {
        state.created_dirs.clear();
        true
    } else {
        false
    };
    drop(state);
    drop(released);
    drop(unrenamed);
    if !dirs_settled {
        remove_empty_created_dirs();
    }
    outcome.and(result)
}

fn persist_error(target: &Path, error: io::Error) -> Error {
    if error.kind() == io::ErrorKind::AlreadyExists {
        Error::Exists(target.to_path_buf())
    } else {
        Error::io(target, error)
    }
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

    /// Flushes (and with `fsync`, syncs) the file and renames it into place. Inside
    /// [`run_cancellable`] the finished file is handed to the run instead, which renames
    /// it at its end.
    pub fn commit(self) -> Result<()> {
        let AtomicFile {
            writer,
            target,
            destination,
            options,
            _registered: registered,
        } = self;
        cancelled().map_err(|e| Error::io(&target, e))?;
        let backing = writer
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        let file = match backing {
            Backing::Through(mut file) => {
                return file.flush().map_err(|e| Error::io(&target, e));
            }
            Backing::Temp(file) => file,
        };
        if options.fsync {
            file.as_file()
                .sync_all()
                .map_err(|e| Error::io(&target, e))?;
        }
        // Hold the registry from the check for a cancel to the rename and the
        // unregistering: a cancel (which takes it) then lands before the check and the
        // file never appears, or after the rename; an interrupt sees the file either as a
        // temporary (and removes it) or as finished.
        let mut state = pending();
        if let Err(e) = cancelled() {
            drop(state);
            // `file` and `registered` go here, outside the lock: the temporary is removed.
            return Err(Error::io(&target, e));
        }
        if let Some(scope) = state.scope.as_mut() {
            scope.staged.push(Staged {
                temp: file.into_temp_path(),
                destination,
                target,
                force: options.force,
                _registered: registered,
            });
            return Ok(());
        }
        let temp_path = file.path().to_path_buf();
        let persisted = if options.force {
            file.persist(&destination).map(drop)
        } else {
            file.persist_noclobber(&destination).map(drop)
        };
        state.temporaries.retain(|p| *p != temp_path);
        drop(state);
        drop(registered);
        persisted.map_err(|e| persist_error(&target, e.error))
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
    fn a_run_cancelled_before_it_starts_never_runs() {
        // (Runs that install a scope are tested from Python, python/tests/test_resources.py,
        // in processes of their own: a scope takes every commit in the process, and unit
        // tests share one.)
        let token = CancelToken::new();
        assert!(token.cancel());
        let mut ran = false;
        let result = run_cancellable(&token, || {
            ran = true;
            Ok(())
        });
        assert!(!ran);
        assert!(result.unwrap_err().to_string().contains("cancelled"));
        assert!(token.is_cancelled() && !token.is_committed());
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
