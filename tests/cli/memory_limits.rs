//! Runs under a process memory limit (`ulimit -v`, `ulimit -d`, as HPC login nodes and
//! batch systems set them): a job too big for the limit is refused with one line naming
//! the limit, before anything is allocated or written, and never aborts in the allocator
//! (`memory allocation of N bytes failed`, SIGABRT) or panics.
//!
//! Each run goes through `sh -c 'ulimit -v N; exec weightinit …'`, so the limit binds
//! only the child. The sizes are far beyond the limits, so the outcome does not depend on
//! how much address space the process happens to have mapped.

#![cfg(target_os = "linux")]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::cli::BIN;

/// About 3.8 GiB of address space, the issue's `ulimit -v 4000000`.
const ADDRESS_SPACE_KIB: &str = "4000000";

/// `weightinit args…` run under `ulimit -{flag} {kib}`, in `dir`.
fn run_limited(flag: char, kib: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -{flag} {kib} && exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("sh runs")
}

/// One line on stderr, `weightinit: error: …`, with every fragment; the exit code
/// `code`; no panic, no abort, nothing on stdout.
fn assert_one_line(out: &Output, code: i32, fragments: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "status {:?}, stderr: {err}",
        out.status
    );
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("weightinit: error: "), "{err}");
    for fragment in fragments {
        assert!(err.contains(fragment), "missing {fragment:?} in: {err}");
    }
    for bad in ["panicked", "memory allocation of", "RUST_BACKTRACE"] {
        assert!(!err.contains(bad), "{bad:?} in: {err}");
    }
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_probe_too_big_for_the_address_space_limit_is_refused_in_one_line() {
    // 50000x50000 f32 weights are 9.3 GiB: under the machine's memory, over the limit.
    // Before the limit was honoured this aborted: memory allocation of 10000000000 bytes.
    let dir = tempfile::tempdir().unwrap();
    let out = run_limited(
        'v',
        ADDRESS_SPACE_KIB,
        dir.path(),
        &["probe", "--layers", "50000-50000-10"],
    );
    assert_one_line(
        &out,
        2,
        &[
            "a probe of layers 50000x2-10",
            "needs 11.4 GiB of memory, over the memory budget of",
            "left by the process's address-space limit (ulimit -v) of 3.8 GiB",
        ],
    );
    // Raising --max-memory cannot lift a limit of the process, so it is not suggested.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("--max-memory"));
}

#[test]
fn an_orthogonal_matrix_over_the_limit_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    // --max-memory asks for more than the limit allows: the limit still binds.
    for extra in [&[][..], &["--max-memory", "100%"][..]] {
        let mut args = vec!["gen", "--scheme", "orthogonal", "--shape", "20000x20000"];
        args.extend_from_slice(&["-o", "q.npy"]);
        args.extend_from_slice(extra);
        let out = run_limited('v', ADDRESS_SPACE_KIB, dir.path(), &args);
        assert_one_line(
            &out,
            2,
            &[
                "tensor 'w0' (orthogonal 20000x20000 f32, built whole in memory) needs 19.4 GiB",
                "(ulimit -v) of 3.8 GiB",
            ],
        );
        assert!(
            files_in(dir.path()).is_empty(),
            "{:?}",
            files_in(dir.path())
        );
    }
}

#[test]
fn the_data_segment_limit_counts_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_limited(
        'd',
        "3000000",
        dir.path(),
        &[
            "gen",
            "--scheme",
            "orthogonal",
            "--shape",
            "20000x20000",
            "-o",
            "q.npy",
        ],
    );
    assert_one_line(
        &out,
        2,
        &[
            "needs 19.4 GiB",
            "the process's data-segment limit (ulimit -d) of 2.9 GiB",
        ],
    );
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn a_small_orthogonal_matrix_still_fits_under_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_limited(
        'v',
        ADDRESS_SPACE_KIB,
        dir.path(),
        &[
            "gen",
            "--scheme",
            "orthogonal",
            "--shape",
            "300x200",
            "-o",
            "q.npy",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(files_in(dir.path()), ["q.npy"]);
}

/// A .npy file of `rows x cols` f32 whose data is a hole: the file has its full length
/// (so its header is consistent) but takes no disk space.
fn sparse_npy(path: &Path, rows: usize, cols: usize) {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let mut header = dict.into_bytes();
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut file = std::fs::File::create(path).unwrap();
    file.write_all(b"\x93NUMPY\x01\x00").unwrap();
    file.write_all(&(header.len() as u16).to_le_bytes())
        .unwrap();
    file.write_all(&header).unwrap();
    let data = (rows * cols * 4) as u64;
    file.set_len(10 + header.len() as u64 + data).unwrap();
}

#[test]
fn verify_of_a_file_too_big_for_the_limit_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // 1.6e9 values: 6 GiB of f32 on disk (a hole), 12 GiB as f64 in memory.
    sparse_npy(&dir.path().join("big.npy"), 40000, 40000);
    let out = run_limited(
        'v',
        ADDRESS_SPACE_KIB,
        dir.path(),
        &["verify", "big.npy", "--scheme", "he-normal"],
    );
    assert_one_line(&out, 2, &["1600000000 values", "(ulimit -v) of 3.8 GiB"]);
    assert_eq!(files_in(dir.path()), ["big.npy"]);
}
