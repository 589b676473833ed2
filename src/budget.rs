//! The memory budget: every path that must hold a whole tensor, matrix or network in
//! memory asks [`check`] before it allocates, so an oversized request is refused with a
//! one-line error naming the size instead of aborting in the allocator.
//!
//! Elementwise generation streams and never asks: its memory is flat whatever the size.
//! What does ask: `orthogonal` (the Gaussian matrix and its QR), `--rng torch` truncated
//! normal (PyTorch draws the whole tensor first), `hist`, `probe` and `verify` (they load
//! a tensor), and anything else that calls [`check`].
//!
//! The budget is process-wide, like the thread pool: a command-line run sets it once from
//! `--max-memory` ([`set_limit`]); a library user may do the same. The default is
//! [`DEFAULT_FRACTION`] of the physical memory, or of the cgroup's limit where that is
//! lower (a Slurm job or a Kubernetes pod sees its own limit, not the node's).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// The share of physical memory the default budget allows: enough for the largest
/// in-memory jobs, with a quarter left to the system and other processes.
pub const DEFAULT_FRACTION: f64 = 0.75;

/// Where physical memory cannot be read (not Linux), the budget assumes this much.
const FALLBACK_PHYSICAL: u64 = 8 << 30;

/// 0 means "not set": use the default.
static LIMIT: AtomicU64 = AtomicU64::new(0);

/// Sets the budget in bytes for the rest of the process.
pub fn set_limit(bytes: u64) {
    LIMIT.store(bytes.max(1), Ordering::Relaxed);
}

/// The budget in bytes now in force.
pub fn limit() -> u64 {
    match LIMIT.load(Ordering::Relaxed) {
        0 => default_limit(),
        set => set,
    }
}

/// [`DEFAULT_FRACTION`] of [`physical_memory`].
pub fn default_limit() -> u64 {
    (physical_memory() as f64 * DEFAULT_FRACTION) as u64
}

/// Refuses `needed` bytes for `what` (e.g. "orthogonal 100000x100000 in f64") when they
/// exceed the budget. `None` stands for a size that overflowed 64 bits.
pub fn check(needed: Option<u64>, what: &str) -> Result<()> {
    let budget = limit();
    match needed {
        Some(bytes) if bytes <= budget => Ok(()),
        _ => Err(Error::MemoryBudget {
            what: what.to_string(),
            needed,
            budget,
        }),
    }
}

/// `count` elements of `bytes_each`, as [`check`] takes them (None on overflow).
pub fn elements(count: usize, bytes_each: usize) -> Option<u64> {
    (count as u64).checked_mul(bytes_each as u64)
}

/// The machine's memory, or the cgroup's limit where that is lower.
pub fn physical_memory() -> u64 {
    let total = meminfo_total().unwrap_or(FALLBACK_PHYSICAL);
    match cgroup_limit() {
        Some(limit) if limit < total => limit,
        _ => total,
    }
}

/// `MemTotal` from /proc/meminfo, in bytes.
fn meminfo_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The memory limit of this process's cgroup (v2 `memory.max`, v1 `memory.limit_in_bytes`).
fn cgroup_limit() -> Option<u64> {
    [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|path| std::fs::read_to_string(path).ok())
    .find_map(|text| text.trim().parse::<u64>().ok())
}

/// Parses a size such as `8GiB`, `512MB`, `1.5G`, `1000000` (bytes) or `50%` (of
/// physical memory). Decimal units (kB, MB, GB, TB) are powers of 1000; binary units
/// (KiB, MiB, GiB, TiB) and the bare letters K, M, G, T are powers of 1024.
pub fn parse_size(text: &str) -> Result<u64> {
    let bad = || {
        Error::Param(format!(
            "memory size '{}' is not a size; give bytes with a unit, e.g. 8GiB, 512MB, 2G, or a \
             share of physical memory such as 50%",
            crate::text::bound_to(&crate::text::escape_control(text), 40)
        ))
    };
    let trimmed = text.trim();
    if let Some(percent) = trimmed.strip_suffix('%') {
        let p: f64 = percent.trim().parse().map_err(|_| bad())?;
        if !(p > 0.0 && p <= 100.0) {
            return Err(bad());
        }
        return Ok((physical_memory() as f64 * p / 100.0) as u64);
    }
    byte_count(trimmed).ok_or_else(bad)
}

/// Parses a byte count with an optional unit, as [`parse_size`] without the percentage
/// (`5GB` = 5·10⁹ bytes as Hugging Face writes shard sizes, `5GiB` = 5·2³⁰);
/// `what` names the value in the error (e.g. "--max-shard-size").
pub fn parse_byte_count(text: &str, what: &str) -> Result<u64> {
    byte_count(text.trim()).ok_or_else(|| {
        Error::Param(format!(
            "{what} '{}' is not a size; give bytes with a unit, e.g. 5GB, 500MB, 2GiB",
            crate::text::bound_to(&crate::text::escape_control(text), 40)
        ))
    })
}

fn byte_count(trimmed: &str) -> Option<u64> {
    let split = trimmed
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number.trim().parse().ok()?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        _ => return None,
    };
    let bytes = value * scale;
    (bytes.is_finite() && bytes >= 1.0 && bytes < 2f64.powi(64)).then_some(bytes as u64)
}

/// Asks Linux to back a large fresh buffer with 2 MiB pages (`MADV_HUGEPAGE`) before
/// anything touches it: where transparent huge pages are "madvise" (a common default),
/// first-touch faults of a GiB-sized array otherwise cost as much as drawing it. Only a
/// hint: contents are unchanged, and a refusal (no THP, another OS) changes nothing.
pub fn advise_huge_pages<T>(buffer: &mut [T]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = buffer.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(buffer);
        let first = start.next_multiple_of(HUGE);
        let last = end / HUGE * HUGE;
        if last > first {
            // SAFETY: the range lies inside `buffer`, which we borrow mutably; the advice
            // changes how pages are backed, never what they hold.
            let _ = unsafe {
                rustix::mm::madvise(
                    first as *mut std::ffi::c_void,
                    last - first,
                    rustix::mm::Advice::LinuxHugepage,
                )
            };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("2KiB").unwrap(), 2048);
        assert_eq!(parse_size("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse_size("512MB").unwrap(), 512_000_000);
        assert_eq!(parse_size(" 8 gib ").unwrap(), 8 << 30);
        assert!(parse_size("50%").unwrap() > 0);
        for bad in ["", "x", "-1G", "0", "1e30TB", "10 parsecs", "150%", "nan"] {
            let err = parse_size(bad).unwrap_err().to_string();
            assert!(err.contains("is not a size"), "{bad}: {err}");
        }
    }

    #[test]
    fn physical_memory_is_read() {
        assert!(physical_memory() >= 64 << 20);
        assert!(default_limit() < physical_memory());
    }

    #[test]
    fn check_names_the_size_and_the_budget() {
        let err = check(Some(u64::MAX / 2), "orthogonal 1x1").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("orthogonal 1x1 needs"), "{text}");
        assert!(text.contains("memory budget"), "{text}");
        assert!(check(None, "x").is_err());
        assert!(check(Some(1024), "x").is_ok());
    }
}
