//! What an output path is before anything is written to it, and what the file system
//! under it can hold.
//!
//! Only regular files are ever replaced, and only with `force`. A path that exists and
//! is not a regular file is never removed or renamed over: a character device or a FIFO
//! (`/dev/null`, a named pipe, `/dev/stdout` through its link) is written through in
//! place, as `dd` and `np.save` do; a block device is written through only with `force`
//! (it overwrites what the device holds); a directory or a socket is refused.
//!
//! A symbolic link is followed: the file it points to is what is checked, and, with
//! `force`, what is replaced (the new file is written beside it and renamed over it), so
//! the link itself survives. A link whose target does not exist is refused.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};

/// What writing to a path will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// Nothing is there: a new file is written beside it and renamed into place.
    New,
    /// A regular file (`force` given) at `resolved` (the path after following links) is
    /// replaced by renaming a new file over it.
    Replace { resolved: PathBuf },
    /// A character device, FIFO or (with `force`) block device, written in place.
    WriteThrough { what: &'static str },
}

impl TargetKind {
    /// Whether the bytes land in a file of their own on a file system (and so need room).
    pub fn uses_disk_space(&self) -> bool {
        !matches!(self, TargetKind::WriteThrough { .. })
    }

    /// Whether the target can be seeked (a .npz archive seeks back to fill in sizes).
    pub fn is_seekable(&self) -> bool {
        !matches!(self, TargetKind::WriteThrough { what } if *what != "block device")
    }
}

/// Decides what writing to `target` means, refusing what must not be written: a missing
/// directory, a directory, a socket, a dangling link, an existing file without `force`.
pub fn classify(target: &Path, force: bool) -> Result<TargetKind> {
    let dir = parent_dir(target);
    let link = fs::symlink_metadata(target);
    let meta = match fs::metadata(target) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if link.is_ok_and(|m| m.file_type().is_symlink()) {
                let points_to = fs::read_link(target).unwrap_or_default();
                return Err(Error::Usage(format!(
                    "'{}' is a symbolic link to '{}', which does not exist; remove the link \
                     or point it at a file",
                    crate::text::path(target),
                    crate::text::path(&points_to)
                )));
            }
            if !dir.is_dir() {
                return Err(Error::MissingDir(dir.to_path_buf()));
            }
            return Ok(TargetKind::New);
        }
        Err(e) => return Err(Error::io(target, e)),
    };
    let file_type = meta.file_type();
    if file_type.is_dir() {
        return Err(Error::Usage(format!(
            "'{}' is a directory; to write into it, end the path with '/'",
            crate::text::path(target)
        )));
    }
    if file_type.is_file() {
        if !force {
            return Err(Error::Exists(target.to_path_buf()));
        }
        let resolved = if link.is_ok_and(|m| m.file_type().is_symlink()) {
            fs::canonicalize(target).map_err(|e| Error::io(target, e))?
        } else {
            target.to_path_buf()
        };
        return Ok(TargetKind::Replace { resolved });
    }
    special_kind(target, &file_type, force)
}

#[cfg(unix)]
fn special_kind(target: &Path, file_type: &fs::FileType, force: bool) -> Result<TargetKind> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_char_device() {
        Ok(TargetKind::WriteThrough {
            what: "character device",
        })
    } else if file_type.is_fifo() {
        Ok(TargetKind::WriteThrough { what: "FIFO" })
    } else if file_type.is_block_device() {
        if force {
            Ok(TargetKind::WriteThrough {
                what: "block device",
            })
        } else {
            Err(Error::BlockDevice(target.to_path_buf()))
        }
    } else {
        Err(Error::Usage(format!(
            "'{}' is a socket (or another special file); weightinit writes regular files, \
             character devices and FIFOs",
            crate::text::path(target)
        )))
    }
}

#[cfg(not(unix))]
fn special_kind(target: &Path, _: &fs::FileType, _: bool) -> Result<TargetKind> {
    Err(Error::Usage(format!(
        "'{}' is not a regular file; weightinit replaces only regular files",
        crate::text::path(target)
    )))
}

/// The directory a file is created in ("." for a bare file name).
pub fn parent_dir(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The name prefix of `target`'s temporary files: `.NAME.`; the full pattern is
/// `.NAME.XXXXXX.tmp` with six random letters and digits.
pub fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.")
}

/// Random letters in a temporary name (the `tempfile` crate's default).
pub const TEMP_RANDOM_LEN: usize = 6;

/// Whether `file_name` is one of `target`'s temporary names.
fn is_temp_name_of(file_name: &str, prefix: &str) -> bool {
    file_name
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(".tmp"))
        .is_some_and(|random| {
            random.len() == TEMP_RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Removes the temporary files an earlier run writing `target` left behind (it was
/// killed with SIGKILL, or the machine went down): regular files named `.NAME.XXXXXX.tmp`
/// beside `target` last modified before `started`. A run still writing the same name
/// modifies its file continuously, so it is not touched. Returns the paths removed.
pub fn remove_stale_temporaries(target: &Path, started: SystemTime) -> Vec<PathBuf> {
    let dir = parent_dir(target);
    let prefix = temp_prefix(target);
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !is_temp_name_of(name, &prefix) {
            continue;
        }
        // symlink_metadata: a link named like a temporary file is not ours to remove.
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        let stale = meta.is_file() && meta.modified().is_ok_and(|m| m < started);
        if stale && fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// Bytes available to this user on the file system holding `dir` (`statvfs`: free blocks
/// for unprivileged users × fragment size).
#[cfg(unix)]
pub fn available_space(dir: &Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(dir).map_err(std::io::Error::from)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(not(unix))]
pub fn available_space(_dir: &Path) -> std::io::Result<u64> {
    Ok(u64::MAX)
}

/// Refuses a job of `needed` bytes (a lower bound of what it writes) into `dir` when the
/// file system has less room, naming both numbers.
pub fn check_space(dir: &Path, needed: u64) -> Result<()> {
    let available = available_space(dir).map_err(|e| Error::io(dir, e))?;
    if needed > available {
        return Err(Error::NoSpace {
            dir: dir.to_path_buf(),
            needed,
            available,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_match_only_the_pattern() {
        let prefix = temp_prefix(Path::new("out/w.npy"));
        assert_eq!(prefix, ".w.npy.");
        assert!(is_temp_name_of(".w.npy.a1B2c3.tmp", &prefix));
        assert!(!is_temp_name_of(".w.npy.a1B2c.tmp", &prefix));
        assert!(!is_temp_name_of(".w.npy.a1B2c3.tmpx", &prefix));
        assert!(!is_temp_name_of(".w.npy.a-B2c3.tmp", &prefix));
        assert!(!is_temp_name_of(".x.npy.a1B2c3.tmp", &prefix));
    }

    #[test]
    fn stale_temporaries_older_than_the_run_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("w.npy");
        let stale = dir.path().join(".w.npy.abc123.tmp");
        let other = dir.path().join(".v.npy.abc123.tmp");
        fs::write(&stale, b"x").unwrap();
        fs::write(&other, b"x").unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        assert_eq!(
            remove_stale_temporaries(&target, later),
            vec![stale.clone()]
        );
        assert!(!stale.exists() && other.exists());
        // A temporary newer than the run (another run's, being written) stays.
        fs::write(&stale, b"x").unwrap();
        let earlier = SystemTime::now() - std::time::Duration::from_secs(60);
        assert!(remove_stale_temporaries(&target, earlier).is_empty());
        assert!(stale.exists());
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_written_through_and_links_followed() {
        assert_eq!(
            classify(Path::new("/dev/null"), false).unwrap(),
            TargetKind::WriteThrough {
                what: "character device"
            }
        );
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.npy");
        fs::write(&real, b"x").unwrap();
        let link = dir.path().join("link.npy");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(classify(&link, false), Err(Error::Exists(_))));
        match classify(&link, true).unwrap() {
            TargetKind::Replace { resolved } => {
                assert_eq!(resolved, fs::canonicalize(&real).unwrap())
            }
            other => panic!("{other:?}"),
        }
        let dangling = dir.path().join("dangling.npy");
        std::os::unix::fs::symlink(dir.path().join("gone"), &dangling).unwrap();
        let err = classify(&dangling, true).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
        let err = classify(dir.path(), true).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
    }

    #[test]
    fn space_is_checked_with_both_numbers() {
        let dir = tempfile::tempdir().unwrap();
        check_space(dir.path(), 1).unwrap();
        let err = check_space(dir.path(), u64::MAX).unwrap_err().to_string();
        assert!(err.contains("free"), "{err}");
    }
}
