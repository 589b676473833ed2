//! Running the `weightinit` binary in tests: one shared set of helpers (run it in a
//! directory, read what it wrote, check one-line errors), used by every test file that
//! goes through the command line.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use ndarray::ArrayD;
use serde_json::Value;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_weightinit");

/// The binary, run in `dir`.
pub fn wi(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    cmd
}

/// Runs the binary in `dir` with `args` and returns its output (any exit code).
pub fn run(dir: &Path, args: &[&str]) -> Output {
    wi(dir).args(args).output().expect("binary runs")
}

/// Runs and requires success; returns the output.
pub fn run_ok(dir: &Path, args: &[&str]) -> Output {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "weightinit {args:?} failed with {:?}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_panic(&out);
    out
}

/// Runs and requires success; returns stdout as text.
pub fn run_stdout(dir: &Path, args: &[&str]) -> String {
    String::from_utf8(run_ok(dir, args).stdout).expect("stdout is UTF-8")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn assert_no_panic(out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "panic text on stderr:\n{err}"
    );
}

/// Splits a command line on whitespace (no quoting needed in these tests).
pub fn argv(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

pub fn tempdir() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Every entry under `dir`, recursively, hidden ones included, as sorted relative paths
/// (directories end in '/').
pub fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let entry = entry.expect("dir entry");
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .into_owned();
            if entry.file_type().expect("file type").is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &path, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The header dict of an .npy file, after checking the magic and version 1.0 framing.
pub fn npy_header(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    npy_header_of(&bytes)
}

pub fn npy_header_of(bytes: &[u8]) -> String {
    assert!(
        bytes.len() >= 10,
        "too short for .npy: {} bytes",
        bytes.len()
    );
    assert_eq!(&bytes[..6], b"\x93NUMPY", "npy magic");
    assert_eq!(&bytes[6..8], &[1, 0], "npy version 1.0");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!(
        (10 + len) % 64,
        0,
        "npy data must start on a 64-byte boundary"
    );
    let header = std::str::from_utf8(&bytes[10..10 + len]).expect("ascii header");
    assert!(header.ends_with('\n'), "npy header ends in a newline");
    assert!(
        header.contains("'fortran_order': False"),
        "C order expected: {header}"
    );
    header.to_string()
}

pub fn read_f32(path: &Path) -> ArrayD<f32> {
    let header = npy_header(path);
    assert!(header.contains("'descr': '<f4'"), "not f32: {header}");
    ndarray_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Sample mean and standard deviation, in f64.
pub fn mean_std(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let xs: Vec<f64> = xs.collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Checks that values look like a zero-mean law with standard deviation `std`: the mean
/// within 6 standard errors and the sample std within `rel` of `std`.
pub fn assert_moments(xs: impl Iterator<Item = f64>, std: f64, rel: f64, what: &str) {
    let xs: Vec<f64> = xs.collect();
    let n = xs.len() as f64;
    let (mean, s) = mean_std(xs.into_iter());
    assert!(
        mean.abs() <= 6.0 * std / n.sqrt(),
        "{what}: mean {mean} too far from 0 (std {std}, n {n})"
    );
    assert!(
        (s - std).abs() <= rel * std,
        "{what}: sample std {s}, expected {std} within {}%",
        rel * 100.0
    );
}

/// Looks for `key` anywhere in a JSON document and returns every value found for it.
pub fn find_key<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                if k == key {
                    out.push(val);
                }
                find_key(val, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| find_key(i, key, out)),
        _ => {}
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `args` in a fresh directory (holding an empty subdirectory `existing/`) and
/// checks the error contract.
pub fn assert_bad_in(dir: &Path, args: &[&str], code: i32, needles: &[&str]) -> String {
    let before = listing(dir);
    let out = run(dir, args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "weightinit {args:?}: exit code\nstderr:\n{err}"
    );
    assert_no_panic(&out);
    assert!(
        out.stdout.is_empty(),
        "weightinit {args:?}: stdout not empty: {}",
        stdout(&out)
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "weightinit {args:?}: expected exactly one line on stderr, got:\n{err}"
    );
    assert!(
        !lines[0].trim().is_empty(),
        "weightinit {args:?}: empty error line"
    );
    for needle in needles {
        assert!(
            err.contains(needle),
            "weightinit {args:?}: error does not name '{needle}':\n{err}"
        );
    }
    assert_eq!(
        listing(dir),
        before,
        "weightinit {args:?}: files left behind"
    );
    err
}

pub fn assert_bad(args: &[&str], code: i32, needles: &[&str]) -> String {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("existing")).unwrap();
    assert_bad_in(dir.path(), args, code, needles)
}

/// `bad_input!(name: "gen ..." => code, [needles])`: a test that the command line is
/// refused with that exit code and a line containing every needle.
#[macro_export]
macro_rules! bad_input {
    ($name:ident: $line:literal => $code:expr, [$($needle:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            assert_bad(&argv($line), $code, &[$($needle),*]);
        }
    };
    ($name:ident: [$($arg:expr),* $(,)?] => $code:expr, [$($needle:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            assert_bad(&[$($arg),*], $code, &[$($needle),*]);
        }
    };
}
