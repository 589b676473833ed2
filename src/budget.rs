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
//!
//! Whatever the budget, the process's own limits (`RLIMIT_AS`, `ulimit -v`, and
//! `RLIMIT_DATA`, `ulimit -d`, which HPC login nodes and batch systems set) cap it: see
//! [`ceiling`]. And the allocations that hold input-sized data go through [`try_vec`] or
//! [`try_zeroed`], so an allocation the system refuses anyway is an
//! [`Error::OutOfMemory`], not an abort.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Cap, Error, Result};

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

/// The budget in bytes now in force: the one set (or the default), capped by the
/// process's own limits ([`ceiling`]).
pub fn limit() -> u64 {
    limit_and_cap(0).0
}

/// The budget now in force and what set it, with `reserved` bytes of address space
/// set aside from what the process's limits leave.
fn limit_and_cap(reserved: u64) -> (u64, Cap) {
    let chosen = match LIMIT.load(Ordering::Relaxed) {
        0 => default_limit(),
        set => set,
    };
    match ceiling_reserving(reserved) {
        Some((bytes, cap)) if bytes < chosen => (bytes, cap),
        _ => (chosen, Cap::Budget),
    }
}

/// The budget the process's own limits leave, and which limit sets it: the smaller of
/// what `RLIMIT_AS` and `RLIMIT_DATA` leave free; `None` where neither is set.
///
/// Both limits count what the process has already mapped, not what it will newly ask
/// for: `RLIMIT_AS` every mapping (the binary, libraries, thread stacks, the allocator's
/// arenas; `VmSize` in /proc/self/status), `RLIMIT_DATA` the private writable ones
/// (`VmData`). So what is left is the limit minus that use, read now, at each check.
/// Of what is left the budget takes [`DEFAULT_FRACTION`], as it does of physical
/// memory: a check counts a job's main buffers, while the thread pool's stacks, glibc's
/// per-thread arenas (64 MiB of address space each) and short-lived copies take address
/// space too, and under these limits running out means a refused allocation.
pub fn ceiling() -> Option<(u64, Cap)> {
    ceiling_reserving(0)
}

/// [`ceiling`] with `reserved` bytes already spoken for.
fn ceiling_reserving(reserved: u64) -> Option<(u64, Cap)> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Resource, getrlimit};
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let room = |resource: Resource, field: &str, cap: fn(u64) -> Cap| {
            let limit = getrlimit(resource).current?;
            let used = status_kib(&status, field)
                .unwrap_or(0)
                .saturating_add(reserved);
            let left = (limit.saturating_sub(used) as f64 * DEFAULT_FRACTION) as u64;
            Some((left, cap(limit)))
        };
        [
            room(Resource::As, "VmSize:", Cap::AddressSpace),
            room(Resource::Data, "VmData:", Cap::Data),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|&(left, _)| left)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = reserved;
        None
    }
}

/// Where the L3 cache's size cannot be read, [`products_reserve`] assumes this much.
const FALLBACK_L3: u64 = 64 << 20;

/// Address space that faer's matrix products (QR, Gram matrices, a probe's layers) take
/// beyond their matrices: its x86 kernels (private-gemm-x86) give each thread that runs
/// a product a packing buffer of twice the L3 cache, allocated whole on the thread's
/// first product and kept, and mostly never touched. It costs address space, not memory
/// (480 MiB of L3 on a virtual machine means 960 MiB a thread), so it matters only under
/// `RLIMIT_AS`/`RLIMIT_DATA`, where running out aborts inside faer: counted for the
/// pool's threads and the caller's.
pub fn products_reserve() -> u64 {
    let l3 = std::fs::read_to_string("/sys/devices/system/cpu/cpu0/cache/index3/size")
        .ok()
        .and_then(|text| byte_count(text.trim()))
        .unwrap_or(FALLBACK_L3);
    let threads = rayon::current_num_threads() as u64 + 1;
    l3.saturating_mul(2).saturating_mul(threads)
}

/// A `field:  N kB` line of /proc/self/status, in bytes.
#[cfg(target_os = "linux")]
fn status_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// [`DEFAULT_FRACTION`] of [`physical_memory`].
pub fn default_limit() -> u64 {
    (physical_memory() as f64 * DEFAULT_FRACTION) as u64
}

/// Refuses `needed` bytes for `what` (e.g. "orthogonal 100000x100000 in f64") when they
/// exceed the budget. `None` stands for a size that overflowed 64 bits.
pub fn check(needed: Option<u64>, what: &str) -> Result<()> {
    check_reserving(needed, what, 0)
}

/// [`check`] for a job that runs faer's matrix products: under a process memory limit,
/// the address space they reserve ([`products_reserve`]) is set aside first.
pub fn check_products(needed: Option<u64>, what: &str) -> Result<()> {
    let reserved = if ceiling().is_some() {
        products_reserve()
    } else {
        0
    };
    check_reserving(needed, what, reserved)
}

fn check_reserving(needed: Option<u64>, what: &str, reserved: u64) -> Result<()> {
    let (budget, cap) = limit_and_cap(reserved);
    match needed {
        Some(bytes) if bytes <= budget => Ok(()),
        _ => Err(Error::MemoryBudget {
            what: what.to_string(),
            needed,
            budget,
            cap,
        }),
    }
}

/// A vector of `len` copies of `fill`, or [`Error::OutOfMemory`] naming `what()` (e.g.
/// "a 50000x50000 matrix of f32") when the system refuses the memory: for buffers whose
/// size comes from input, so that no input aborts the process in the allocator.
pub fn try_vec<T: Clone>(len: usize, fill: T, what: impl FnOnce() -> String) -> Result<Vec<T>> {
    let mut out = Vec::new();
    try_reserve(&mut out, len, what)?;
    out.resize(len, fill);
    Ok(out)
}

/// Reserves room for `additional` more elements in `vec` (exactly), or
/// [`Error::OutOfMemory`] naming `what()` when the system refuses it.
pub fn try_reserve<T>(
    vec: &mut Vec<T>,
    additional: usize,
    what: impl FnOnce() -> String,
) -> Result<()> {
    vec.try_reserve_exact(additional)
        .map_err(|_| Error::OutOfMemory {
            what: what(),
            needed: elements(
                vec.len().saturating_add(additional),
                std::mem::size_of::<T>(),
            ),
        })
}

/// [`try_vec`] of zeros, taken zeroed from the allocator (calloc): the pages of a large
/// buffer come from the OS untouched, so the thread that first writes a page backs it,
/// and no pass of memset precedes the draw.
pub fn try_zeroed<T: bytemuck::Zeroable>(
    len: usize,
    what: impl FnOnce() -> String,
) -> Result<Vec<T>> {
    let refused = |what: String| Error::OutOfMemory {
        what,
        needed: elements(len, std::mem::size_of::<T>()),
    };
    let layout = match std::alloc::Layout::array::<T>(len) {
        Ok(layout) => layout,
        Err(_) => return Err(refused(what())),
    };
    if layout.size() == 0 {
        let mut out = Vec::new();
        out.resize_with(len, T::zeroed);
        return Ok(out);
    }
    // SAFETY: the layout has a non-zero size. The memory is zeroed, which is a valid
    // `T` (`Zeroable`), and it comes from the global allocator with the layout of `len`
    // elements of `T`, as `Vec::from_raw_parts` requires for length and capacity `len`.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout);
        if ptr.is_null() {
            return Err(refused(what()));
        }
        Ok(Vec::from_raw_parts(ptr.cast::<T>(), len, len))
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

    #[test]
    fn refused_allocations_are_errors() {
        let err = try_vec::<u64>(usize::MAX / 16, 0, || "a huge buffer".into()).unwrap_err();
        assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
        assert!(err.to_string().starts_with("a huge buffer needs "), "{err}");
        let err = try_zeroed::<f64>(usize::MAX / 4, || "a huge array".into()).unwrap_err();
        assert!(err.to_string().contains("the system refused"), "{err}");
        // A petabyte is beyond any x86-64 or arm64 user address space: the allocator
        // itself refuses, whatever the overcommit setting.
        let err = try_vec::<u8>(1 << 50, 0, || "a petabyte".into()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a petabyte needs 1.0 PiB of memory, and the system refused to allocate it"
        );
        assert!(try_zeroed::<u8>(1 << 50, String::new).is_err());
        assert_eq!(try_vec(3, 1.5f32, String::new).unwrap(), vec![1.5; 3]);
        assert_eq!(try_zeroed::<f32>(4, String::new).unwrap(), vec![0.0; 4]);
        assert!(try_zeroed::<f32>(0, String::new).unwrap().is_empty());
    }

    #[test]
    fn limits_name_themselves() {
        assert_eq!(Cap::Budget.naming(), "");
        assert_eq!(
            Cap::AddressSpace(4 << 30).naming(),
            " left by the process's address-space limit (ulimit -v) of 4.0 GiB"
        );
        assert!(
            Cap::Data(1 << 30)
                .naming()
                .contains("(ulimit -d) of 1.0 GiB")
        );
        // The budget never exceeds what the process's own limits leave.
        if let Some((left, _)) = ceiling() {
            assert!(limit() <= left);
        }
    }
}
