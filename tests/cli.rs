//! Integration tests through the `weightinit` binary: every example of issue 2, the
//! `schemes` listing, reproducibility from the command line, report routing, every bad
//! input the issue lists, and a reader that closes the pipe early.
//!
//! Each test runs the binary in its own temporary directory and checks the files it
//! leaves there. Expected values come from the issue's formulas (fans, bounds, standard
//! deviations), never from the tool's own output. Tensors are kept small so the whole
//! file runs in seconds even in a debug build.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::process::{Output, Stdio};

use assert_cmd::Command;
use ndarray::ArrayD;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_weightinit");

// ---------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------

/// The binary, run in `dir`.
fn wi(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    cmd
}

/// Runs the binary in `dir` with `args` and returns its output (any exit code).
fn run(dir: &Path, args: &[&str]) -> Output {
    wi(dir).args(args).output().expect("binary runs")
}

/// Runs and requires success; returns the output.
fn run_ok(dir: &Path, args: &[&str]) -> Output {
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_no_panic(out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "panic text on stderr:\n{err}"
    );
}

/// Splits a command line on whitespace (no quoting needed in these tests).
fn argv(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn tempdir() -> TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Every entry under `dir`, recursively, hidden ones included, as sorted relative paths
/// (directories end in '/').
fn listing(dir: &Path) -> Vec<String> {
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
fn npy_header(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    npy_header_of(&bytes)
}

fn npy_header_of(bytes: &[u8]) -> String {
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

fn read_f32(path: &Path) -> ArrayD<f32> {
    let header = npy_header(path);
    assert!(header.contains("'descr': '<f4'"), "not f32: {header}");
    ndarray_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_f64(path: &Path) -> ArrayD<f64> {
    let header = npy_header(path);
    assert!(header.contains("'descr': '<f8'"), "not f64: {header}");
    ndarray_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Sample mean and standard deviation, in f64.
fn mean_std(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let xs: Vec<f64> = xs.collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Checks that values look like a zero-mean law with standard deviation `std`: the mean
/// within 6 standard errors and the sample std within `rel` of `std`.
fn assert_moments(xs: impl Iterator<Item = f64>, std: f64, rel: f64, what: &str) {
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

/// The numbers of a nested JSON array, flattened in row-major order, and its shape.
fn flatten_json(data: &Value) -> (Vec<usize>, Vec<f64>) {
    fn shape_of(v: &Value) -> Vec<usize> {
        match v {
            Value::Array(items) => {
                let mut s = vec![items.len()];
                if let Some(first) = items.first() {
                    s.extend(shape_of(first));
                }
                s
            }
            _ => Vec::new(),
        }
    }
    fn walk(v: &Value, depth: usize, shape: &[usize], out: &mut Vec<f64>) {
        match v {
            Value::Array(items) => {
                assert_eq!(items.len(), shape[depth], "ragged JSON array");
                for item in items {
                    walk(item, depth + 1, shape, out);
                }
            }
            Value::Number(n) => {
                assert_eq!(depth, shape.len(), "number at the wrong depth");
                out.push(n.as_f64().expect("number"));
            }
            other => panic!("unexpected JSON value in data: {other}"),
        }
    }
    let shape = shape_of(data);
    let mut out = Vec::new();
    walk(data, 0, &shape, &mut out);
    (shape, out)
}

/// Looks for `key` anywhere in a JSON document and returns every value found for it.
fn find_key<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
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

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every `seed <digits>` in a report text.
fn seeds_in(text: &str) -> BTreeSet<u64> {
    let mut seeds = BTreeSet::new();
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("seed") {
        rest = &rest[i + 4..];
        let after = rest.trim_start_matches([' ', ':', '=', '\t']);
        let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !digits.is_empty() {
            seeds.insert(digits.parse().expect("seed fits u64"));
        }
    }
    seeds
}

// ---------------------------------------------------------------------------------------
// the examples of issue 2
// ---------------------------------------------------------------------------------------

/// `weightinit gen --scheme he-normal --shape 784x128`: a .npy named from scheme and
/// shape in the current directory, report on stderr, nothing on stdout.
#[test]
fn example_he_normal_default_file_in_cwd() {
    let dir = tempdir();
    let out = run_ok(dir.path(), &argv("gen --scheme he-normal --shape 784x128"));
    assert_eq!(listing(dir.path()), ["he-normal_784x128.npy"]);
    assert!(
        out.stdout.is_empty(),
        "stdout must stay clean: {}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains("he-normal_784x128.npy"),
        "report must say where the file went:\n{err}"
    );
    assert!(
        err.contains("784") && err.contains("128"),
        "report prints the fans:\n{err}"
    );
    assert!(err.contains("fan_in"), "report names the fans:\n{err}");
    for word in ["mean", "variance", "std", "min", "max"] {
        assert!(err.contains(word), "report lacks '{word}':\n{err}");
    }

    let a = read_f32(&dir.path().join("he-normal_784x128.npy"));
    assert_eq!(a.shape(), &[784, 128]);
    // He normal: N(0, 2/fan_in), fan_in = 784.
    let std = (2.0f64 / 784.0).sqrt();
    assert_moments(
        a.iter().map(|&x| f64::from(x)),
        std,
        0.03,
        "he-normal 784x128",
    );
}

/// `-o w.json`: JSON chosen by extension, metadata plus nested data.
#[test]
fn example_xavier_uniform_json_by_extension() {
    let dir = tempdir();
    let out = run_ok(
        dir.path(),
        &argv("gen --scheme xavier-uniform --shape 784x128 -o w.json"),
    );
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));
    assert_eq!(listing(dir.path()), ["w.json"]);
    let doc = read_json(&dir.path().join("w.json"));
    assert_eq!(doc["fan_in"], 784);
    assert_eq!(doc["fan_out"], 128);
    assert_eq!(doc["shape"], serde_json::json!([784, 128]));
    assert_eq!(doc["dtype"], "f32");
    assert!(doc["seed"].is_u64(), "seed recorded: {}", doc["seed"]);
    assert!(
        doc["scheme"].as_str().unwrap().contains("xavier-uniform"),
        "{}",
        doc["scheme"]
    );
    let (shape, xs) = flatten_json(&doc["data"]);
    assert_eq!(shape, [784, 128]);
    // U(±√(6/(fan_in+fan_out))), stored as f32.
    let bound = (6.0f64 / (784.0 + 128.0)).sqrt();
    let limit = f64::from(bound as f32);
    for &x in &xs {
        assert!(x.abs() <= limit, "{x} outside ±{bound}");
        assert_eq!(x, f64::from(x as f32), "{x} is not an f32 value");
    }
    assert_moments(
        xs.iter().copied(),
        bound / 3f64.sqrt(),
        0.03,
        "xavier-uniform",
    );
}

/// `lecun-normal --shape 3x3x64x128 --seed 7 -o k.npy`: a conv kernel, io layout.
#[test]
fn example_lecun_normal_conv_kernel_seeded() {
    let dir = tempdir();
    let args = argv("gen --scheme lecun-normal --shape 3x3x64x128 --seed 7 -o k.npy");
    let out = run_ok(dir.path(), &args);
    assert!(out.stdout.is_empty());
    assert_eq!(listing(dir.path()), ["k.npy"]);
    let err = stderr(&out);
    // kh x kw x in x out: fan_in = 3·3·64 = 576, fan_out = 3·3·128 = 1152.
    assert!(
        err.contains("576") && err.contains("1152"),
        "fans in report:\n{err}"
    );
    assert!(
        seeds_in(&err).contains(&7),
        "report must show seed 7:\n{err}"
    );
    let a = read_f32(&dir.path().join("k.npy"));
    assert_eq!(a.shape(), &[3, 3, 64, 128]);
    assert_moments(
        a.iter().map(|&x| f64::from(x)),
        (1.0f64 / 576.0).sqrt(),
        0.03,
        "lecun-normal conv",
    );

    // Same command elsewhere: the same bytes.
    let again = tempdir();
    run_ok(again.path(), &args);
    assert_eq!(
        std::fs::read(dir.path().join("k.npy")).unwrap(),
        std::fs::read(again.path().join("k.npy")).unwrap(),
        "seed 7 must reproduce the file"
    );

    // Its JSON metadata records the fans and seed.
    let out = run_ok(
        dir.path(),
        &argv(
            "gen --scheme lecun-normal --shape 3x3x64x128 --seed 7 -o - --format json --report none",
        ),
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(doc["fan_in"], 576);
    assert_eq!(doc["fan_out"], 1152);
    assert_eq!(doc["seed"], 7);
    assert_eq!(doc["layout"], "io");
}

/// `-o - --format json`: one JSON document on stdout with fan_in 784; the report stays
/// on stderr and no file is written.
#[test]
fn example_json_on_stdout_is_clean() {
    let dir = tempdir();
    let out = run_ok(
        dir.path(),
        &argv("gen --scheme he-normal --shape 784x128 -o - --format json"),
    );
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
    // from_slice rejects trailing text, so this also proves nothing else is on stdout.
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not exactly one JSON document: {e}\n{}",
            stdout(&out).chars().take(200).collect::<String>()
        )
    });
    assert_eq!(doc["fan_in"], 784);
    let text = stdout(&out);
    for report_word in ["theory", "drawn", "observed", "within sampling"] {
        assert!(
            !text.contains(report_word),
            "report text '{report_word}' leaked onto stdout"
        );
    }
    let (shape, _) = flatten_json(&doc["data"]);
    assert_eq!(shape, [784, 128]);
    let err = stderr(&out);
    assert!(
        err.contains("784"),
        "human report still goes to stderr:\n{err}"
    );
}

/// `-o -` without --format: .npy bytes on stdout (stdout is a pipe here).
#[test]
fn npy_on_stdout_when_piped() {
    let dir = tempdir();
    let out = run_ok(
        dir.path(),
        &argv("gen --scheme normal --shape 10x3 -o - --report none"),
    );
    assert!(listing(dir.path()).is_empty());
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let header = npy_header_of(&out.stdout);
    assert!(header.contains("'descr': '<f4'"), "{header}");
    let a: ArrayD<f32> =
        ndarray_npy::ReadNpyExt::read_npy(&out.stdout[..]).expect("npy from stdout");
    assert_eq!(a.shape(), &[10, 3]);
}

fn assert_orthogonal_rows_or_cols(w: &ArrayD<f32>, gain: f64, tol: f64) {
    let (rows, cols) = (w.shape()[0], w.shape()[1]);
    let w64: Vec<f64> = w.iter().map(|&x| f64::from(x)).collect();
    // Tall or square: WᵀW = gain²·I; wide: WWᵀ = gain²·I.
    let (n, dot): (usize, Box<dyn Fn(usize, usize) -> f64>) = if rows >= cols {
        (
            cols,
            Box::new(|i, j| {
                (0..rows)
                    .map(|k| w64[k * cols + i] * w64[k * cols + j])
                    .sum()
            }),
        )
    } else {
        (
            rows,
            Box::new(|i, j| {
                (0..cols)
                    .map(|k| w64[i * cols + k] * w64[j * cols + k])
                    .sum()
            }),
        )
    };
    let mut worst = 0.0f64;
    for i in 0..n {
        for j in 0..n {
            let want = if i == j { gain * gain } else { 0.0 };
            worst = worst.max((dot(i, j) - want).abs());
        }
    }
    assert!(
        worst <= tol * gain * gain,
        "max |G − gain²I| = {worst:e} for {rows}x{cols}"
    );
}

/// `orthogonal --shape 256x256 --gain 1.0 -o q.npy`: QᵀQ = I to f32 precision.
#[test]
fn example_orthogonal_square() {
    let dir = tempdir();
    run_ok(
        dir.path(),
        &argv("gen --scheme orthogonal --shape 256x256 --gain 1.0 -o q.npy"),
    );
    assert_eq!(listing(dir.path()), ["q.npy"]);
    let q = read_f32(&dir.path().join("q.npy"));
    assert_eq!(q.shape(), &[256, 256]);
    assert_orthogonal_rows_or_cols(&q, 1.0, 1e-5);
}

/// Wide and tall orthogonal matrices with a gain.
#[test]
fn orthogonal_wide_and_tall_with_gain() {
    for shape in ["16x40", "40x16"] {
        let dir = tempdir();
        run_ok(
            dir.path(),
            &[
                "gen",
                "--scheme",
                "orthogonal",
                "--shape",
                shape,
                "--gain",
                "2",
                "--seed",
                "3",
                "-o",
                "q.npy",
            ],
        );
        let q = read_f32(&dir.path().join("q.npy"));
        let dims: Vec<usize> = shape.split('x').map(|d| d.parse().unwrap()).collect();
        assert_eq!(q.shape(), &dims[..]);
        assert_orthogonal_rows_or_cols(&q, 2.0, 1e-5);
    }
}

/// `he-uniform --shape 784x256 --shape 256x10 -o out/`: one file per tensor plus a
/// manifest whose hashes and sizes match the files.
#[test]
fn example_several_shapes_into_directory_with_manifest() {
    let dir = tempdir();
    let out = run_ok(
        dir.path(),
        &argv("gen --scheme he-uniform --shape 784x256 --shape 256x10 -o out/"),
    );
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    let files = listing(dir.path());
    assert_eq!(files.len(), 4, "out/, two tensors, manifest: {files:?}");
    assert!(files.contains(&"out/".to_string()), "{files:?}");
    assert!(
        files.contains(&"out/manifest.json".to_string()),
        "{files:?}"
    );
    assert!(
        files.iter().all(|f| !f.contains("/.")),
        "hidden files left: {files:?}"
    );

    let manifest = read_json(&dir.path().join("out/manifest.json"));
    let tensors = manifest["tensors"]
        .as_array()
        .expect("manifest has a tensors array");
    assert_eq!(tensors.len(), 2);
    let mut seen_files = BTreeSet::new();
    let wanted_shapes = [[784usize, 256], [256, 10]];
    for (entry, want) in tensors.iter().zip(wanted_shapes) {
        let file = entry["file"].as_str().expect("file name");
        assert!(seen_files.insert(file.to_string()), "duplicate file {file}");
        let path = dir.path().join("out").join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            entry["sha256"].as_str().expect("sha256"),
            sha256_hex(&bytes),
            "sha256 of {file}"
        );
        assert_eq!(entry["bytes"], bytes.len() as u64, "size of {file}");
        assert_eq!(entry["shape"], serde_json::json!(want));
        assert_eq!(entry["fan_in"], want[0]);
        let a = read_f32(&path);
        assert_eq!(a.shape(), &want[..], "{file}");
        // He uniform: U(±√2·√(3/fan_in)) = U(±√(6/fan_in)).
        let bound = f64::from((6.0f64 / want[0] as f64).sqrt() as f32);
        assert!(
            a.iter().all(|&x| f64::from(x).abs() <= bound),
            "{file}: values beyond ±{bound}"
        );
    }
    let tensor_files: BTreeSet<String> = files
        .iter()
        .filter(|f| f.ends_with(".npy"))
        .map(|f| f.trim_start_matches("out/").to_string())
        .collect();
    assert_eq!(tensor_files, seen_files, "manifest lists exactly the files");
}

// ---------------------------------------------------------------------------------------
// more of the issue's surface: layouts, dtypes, inline parameters, report content
// ---------------------------------------------------------------------------------------

fn json_meta(args: &[&str]) -> Value {
    let dir = tempdir();
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["-o", "-", "--format", "json", "--report", "none"]);
    let out = run_ok(dir.path(), &full);
    serde_json::from_slice(&out.stdout).expect("one JSON document on stdout")
}

#[test]
fn fans_follow_the_layout() {
    // (layout, shape, fan_in, fan_out) from DESIGN.md §3 and the issue.
    let table = [
        ("io", "784x128", 784, 128),
        ("oi", "128x784", 784, 128),
        ("io", "3x3x64x128", 576, 1152),
        ("oi", "128x64x3x3", 576, 1152),
        ("io", "5x4x3", 20, 15),
        ("oi", "3x4x5", 20, 15),
    ];
    for (layout, shape, fan_in, fan_out) in table {
        let doc = json_meta(&[
            "gen",
            "--scheme",
            "he-normal",
            "--shape",
            shape,
            "--layout",
            layout,
            "--seed",
            "1",
        ]);
        assert_eq!(doc["fan_in"], fan_in, "{layout} {shape}");
        assert_eq!(doc["fan_out"], fan_out, "{layout} {shape}");
        let dims: Vec<usize> = shape.split('x').map(|d| d.parse().unwrap()).collect();
        assert_eq!(doc["shape"], serde_json::json!(dims), "stored as written");
    }
}

#[test]
fn dtype_f64_writes_f8() {
    let dir = tempdir();
    run_ok(
        dir.path(),
        &argv("gen --scheme normal:std=0.02 --shape 300x200 --dtype f64 -o w.npy"),
    );
    let a = read_f64(&dir.path().join("w.npy"));
    assert_eq!(a.shape(), &[300, 200]);
    // f64 draws are not all representable as f32 (they use more than 24 bits).
    assert!(
        a.iter().any(|&x| f64::from(x as f32) != x),
        "f64 tensor holds only f32 values"
    );
    assert_moments(a.iter().copied(), 0.02, 0.03, "normal std=0.02 f64");
}

#[test]
fn inline_parameters_from_the_issue() {
    let dir = tempdir();
    let make = |scheme: &str, file: &str| {
        run_ok(
            dir.path(),
            &[
                "gen", "--scheme", scheme, "--shape", "784x128", "--report", "none", "-o", file,
            ],
        );
        read_f32(&dir.path().join(file))
    };
    let a = make("normal:std=0.02", "a.npy");
    assert_moments(
        a.iter().map(|&x| f64::from(x)),
        0.02,
        0.03,
        "normal:std=0.02",
    );

    let a = make("uniform:low=-0.1,high=0.1", "b.npy");
    let (lo, hi) = (f64::from(-0.1f32), f64::from(0.1f32));
    assert!(a.iter().all(|&x| (lo..=hi).contains(&f64::from(x))));
    assert_moments(
        a.iter().map(|&x| f64::from(x)),
        0.2 / 12f64.sqrt(),
        0.03,
        "uniform ±0.1",
    );

    // fan-out = 128: bound √(6/128), wider than the fan-in bound √(6/784).
    let a = make("he-uniform:mode=fan-out", "c.npy");
    let bound = (6.0f64 / 128.0).sqrt();
    let max = a.iter().map(|&x| f64::from(x).abs()).fold(0.0, f64::max);
    assert!(
        max <= f64::from(bound as f32),
        "max {max} beyond fan-out bound {bound}"
    );
    assert!(
        max > (6.0f64 / 784.0).sqrt(),
        "max {max}: mode=fan-out was ignored"
    );

    // variance 2/fan_avg, fan_avg = (784+128)/2, uniform: bound √(3·2/456).
    let a = make(
        "variance-scaling:scale=2,mode=fan-avg,distribution=uniform",
        "d.npy",
    );
    let bound = (6.0f64 / 456.0).sqrt();
    assert!(
        a.iter()
            .all(|&x| f64::from(x).abs() <= f64::from(bound as f32))
    );
    assert_moments(
        a.iter().map(|&x| f64::from(x)),
        (2.0f64 / 456.0).sqrt(),
        0.03,
        "variance-scaling uniform",
    );

    // truncated-normal bounds are absolute values, not multiples of std.
    let a = make("truncated-normal:std=0.5,low=-0.25,high=0.25", "e.npy");
    assert!(
        a.iter().all(|&x| x.abs() <= 0.25),
        "truncated-normal bounds are absolute"
    );
}

#[test]
fn gains_from_nonlinearity() {
    // xavier-normal with tanh: std = 5/3·√(2/(fan_in+fan_out)).
    let dir = tempdir();
    run_ok(
        dir.path(),
        &argv("gen --scheme xavier-normal --nonlinearity tanh --shape 784x128 -o t.npy"),
    );
    let a = read_f32(&dir.path().join("t.npy"));
    let std = 5.0 / 3.0 * (2.0f64 / 912.0).sqrt();
    assert_moments(a.iter().map(|&x| f64::from(x)), std, 0.03, "xavier tanh");

    // he-normal with leaky-relu slope 0.2: gain √(2/(1+0.04)), std = gain/√fan_in.
    let doc = json_meta(&argv(
        "gen --scheme he-normal --nonlinearity leaky-relu --negative-slope 0.2 --shape 784x128",
    ));
    let gain = doc["gain"].as_f64().expect("gain recorded");
    assert!((gain - (2.0f64 / 1.04).sqrt()).abs() < 1e-12, "gain {gain}");
}

#[test]
fn constant_init_warns_that_symmetry_is_not_broken() {
    let dir = tempdir();
    let out = run_ok(dir.path(), &argv("gen --scheme zeros --shape 4x3 -o z.npy"));
    let err = stderr(&out).to_lowercase();
    assert!(err.contains("symmetry"), "no symmetry warning:\n{err}");
    let a = read_f32(&dir.path().join("z.npy"));
    assert!(a.iter().all(|&x| x.to_bits() == 0), "zeros are +0.0");
}

// ---------------------------------------------------------------------------------------
// `weightinit schemes`
// ---------------------------------------------------------------------------------------

/// Names and aliases issue 2 says the CLI accepts.
const ISSUE_NAMES: &[&str] = &[
    "zeros",
    "ones",
    "constant",
    "uniform",
    "normal",
    "truncated-normal",
    "xavier-uniform",
    "glorot-uniform",
    "xavier-normal",
    "glorot-normal",
    "he-uniform",
    "kaiming-uniform",
    "he-normal",
    "kaiming-normal",
    "lecun-uniform",
    "lecun-normal",
    "fan-in-uniform",
    "variance-scaling",
    "orthogonal",
    "identity",
    "eye",
];

#[test]
fn schemes_lists_every_scheme() {
    let dir = tempdir();
    let out = run_ok(dir.path(), &["schemes"]);
    let text = stdout(&out);
    for name in ISSUE_NAMES {
        assert!(text.contains(name), "`schemes` lacks {name}:\n{text}");
    }
    // One line per canonical scheme, at least.
    assert!(text.lines().count() >= 16, "{text}");
}

#[test]
fn schemes_json_parses_and_names_every_scheme() {
    let dir = tempdir();
    let out = run_ok(dir.path(), &["schemes", "--json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("schemes --json is JSON");
    let rows = doc.as_array().expect("an array of schemes");
    let mut all = BTreeSet::new();
    let mut canonical = BTreeSet::new();
    for row in rows {
        let name = row["name"].as_str().expect("name");
        assert!(canonical.insert(name.to_string()), "{name} listed twice");
        all.insert(name.to_string());
        for alias in row["aliases"].as_array().expect("aliases") {
            all.insert(alias.as_str().expect("alias").to_string());
        }
        assert!(
            !row["formula"].as_str().unwrap_or("").is_empty(),
            "{name}: formula"
        );
        assert!(row.get("default_gain").is_some(), "{name}: default gain");
    }
    for name in ISSUE_NAMES {
        assert!(all.contains(*name), "schemes --json lacks {name}");
    }
    // Every listed name and alias is accepted by `gen`.
    for name in &all {
        let mut args = vec![
            "gen", "--scheme", name, "--shape", "6x4", "--seed", "1", "-o", "-", "--format",
            "json", "--report", "none",
        ];
        if name.starts_with("const") {
            args.extend(["--value", "0.5"]);
        }
        let out = run(dir.path(), &args);
        assert!(
            out.status.success(),
            "gen --scheme {name}: {}",
            stderr(&out)
        );
    }
}

// ---------------------------------------------------------------------------------------
// reproducibility
// ---------------------------------------------------------------------------------------

fn gen_bytes(args: &[&str]) -> Vec<u8> {
    let dir = tempdir();
    let mut full = args.to_vec();
    full.extend(["-o", "w.out.npy", "--report", "none"]);
    run_ok(dir.path(), &full);
    std::fs::read(dir.path().join("w.out.npy")).unwrap()
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    for scheme in [
        "he-normal",
        "xavier-uniform",
        "truncated-normal",
        "orthogonal",
    ] {
        let base = ["gen", "--scheme", scheme, "--shape", "60x50"];
        let with_seed = |s: &'static str| {
            let mut a = base.to_vec();
            a.extend(["--seed", s]);
            gen_bytes(&a)
        };
        let a = with_seed("42");
        let b = with_seed("42");
        let c = with_seed("43");
        assert_eq!(a, b, "{scheme}: seed 42 twice");
        assert_ne!(a, c, "{scheme}: seeds 42 and 43 gave the same file");
    }
    // JSON too.
    let json = || {
        let dir = tempdir();
        run_ok(
            dir.path(),
            &argv("gen --scheme normal --shape 7x5 --seed 9 -o w.json"),
        );
        std::fs::read(dir.path().join("w.json")).unwrap()
    };
    assert_eq!(json(), json());
}

/// The output is a function of the seed, never of the thread count. The tensor spans
/// many blocks (with a partial last one) so that threads really split the work.
#[test]
fn thread_count_does_not_change_the_bytes() {
    for (scheme, shape) in [
        ("normal", "1200x1100"),
        ("uniform", "1200x1100"),
        ("truncated-normal", "700x1100"),
        ("orthogonal", "300x200"),
    ] {
        let with_threads = |t: &'static str| {
            gen_bytes(&[
                "gen",
                "--scheme",
                scheme,
                "--shape",
                shape,
                "--seed",
                "2024",
                "--threads",
                t,
            ])
        };
        let one = with_threads("1");
        assert_eq!(one, with_threads("2"), "{scheme}: 1 vs 2 threads");
        assert_eq!(one, with_threads("7"), "{scheme}: 1 vs 7 threads");
    }
}

/// Without --seed a seed is drawn, printed in the report and recorded in the metadata;
/// passing it back reproduces the file.
#[test]
fn drawn_seed_is_printed_recorded_and_reproduces() {
    let dir = tempdir();
    let out = run_ok(
        dir.path(),
        &argv("gen --scheme he-normal --shape 50x40 -o a.json"),
    );
    let printed = seeds_in(&stderr(&out));
    assert_eq!(
        printed.len(),
        1,
        "expected one seed in the report:\n{}",
        stderr(&out)
    );
    let seed = *printed.first().unwrap();
    let doc = read_json(&dir.path().join("a.json"));
    assert_eq!(doc["seed"].as_u64(), Some(seed), "metadata seed");
    let seed_text = seed.to_string();
    run_ok(
        dir.path(),
        &[
            "gen",
            "--scheme",
            "he-normal",
            "--shape",
            "50x40",
            "--seed",
            &seed_text,
            "-o",
            "b.json",
        ],
    );
    assert_eq!(
        std::fs::read(dir.path().join("a.json")).unwrap(),
        std::fs::read(dir.path().join("b.json")).unwrap(),
        "re-running with the printed seed must reproduce the file"
    );

    // The same for .npy, whose only record of the seed is the report.
    let out = run_ok(
        dir.path(),
        &argv("gen --scheme lecun-uniform --shape 30x20 -o a.npy"),
    );
    let printed = seeds_in(&stderr(&out));
    assert_eq!(printed.len(), 1, "{}", stderr(&out));
    let seed2 = *printed.first().unwrap();
    let seed2_text = seed2.to_string();
    run_ok(
        dir.path(),
        &[
            "gen",
            "--scheme",
            "lecun-uniform",
            "--shape",
            "30x20",
            "--seed",
            &seed2_text,
            "-o",
            "b.npy",
        ],
    );
    assert_eq!(
        std::fs::read(dir.path().join("a.npy")).unwrap(),
        std::fs::read(dir.path().join("b.npy")).unwrap()
    );
    assert_ne!(seed, seed2, "two runs drew the same seed");
}

// ---------------------------------------------------------------------------------------
// report routing
// ---------------------------------------------------------------------------------------

#[test]
fn report_json_goes_to_stdout() {
    let dir = tempdir();
    let out = run_ok(
        dir.path(),
        &argv("gen --scheme he-normal --shape 784x128 --seed 5 -o w.npy --report json"),
    );
    assert!(out.stderr.is_empty(), "stderr: {}", stderr(&out));
    assert_eq!(listing(dir.path()), ["w.npy"]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("report JSON on stdout");
    let mut found = Vec::new();
    find_key(&doc, "fan_in", &mut found);
    assert!(found.iter().any(|v| **v == 784), "fan_in 784 in {doc}");
    let mut seeds = Vec::new();
    find_key(&doc, "seed", &mut seeds);
    assert!(seeds.iter().any(|v| **v == 5), "seed 5 in report");
    let mut variances = Vec::new();
    find_key(&doc, "variance", &mut variances);
    // Theory 2/784 and the drawn variance both appear.
    let theory = 2.0 / 784.0;
    assert!(
        variances
            .iter()
            .filter_map(|v| v.as_f64())
            .any(|v| (v - theory).abs() < 1e-12),
        "theoretical variance 2/784 missing: {variances:?}"
    );
    assert!(
        variances
            .iter()
            .filter_map(|v| v.as_f64())
            .any(|v| v != theory && (v / theory - 1.0).abs() < 0.05),
        "drawn variance missing: {variances:?}"
    );
}

/// With the data on stdout, a JSON report must not be mixed into it.
#[test]
fn report_json_with_data_on_stdout_stays_out_of_the_data() {
    let dir = tempdir();
    let out = run_ok(
        dir.path(),
        &argv("gen --scheme he-normal --shape 20x10 -o - --format json --report json"),
    );
    let data: Value = serde_json::from_slice(&out.stdout).expect("only data on stdout");
    assert_eq!(data["fan_in"], 20);
    assert!(data.get("data").is_some());
}

#[test]
fn report_none_prints_nothing() {
    let dir = tempdir();
    let out = run_ok(
        dir.path(),
        &argv("gen --scheme he-normal --shape 20x10 -o w.npy --report none"),
    );
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));
    assert!(out.stderr.is_empty(), "stderr: {}", stderr(&out));
    assert_eq!(read_f32(&dir.path().join("w.npy")).shape(), &[20, 10]);
}

// ---------------------------------------------------------------------------------------
// bad input: one line, the bad value named, exit 2 (1 for runtime failures), no panic,
// nothing left on disk
// ---------------------------------------------------------------------------------------

/// Runs `args` in a fresh directory (holding an empty subdirectory `existing/`) and
/// checks the error contract.
fn assert_bad_in(dir: &Path, args: &[&str], code: i32, needles: &[&str]) -> String {
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

fn assert_bad(args: &[&str], code: i32, needles: &[&str]) -> String {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("existing")).unwrap();
    assert_bad_in(dir.path(), args, code, needles)
}

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

#[test]
fn bad_unknown_scheme_suggests_the_closest() {
    for (typo, meant) in [
        ("he-normall", "he-normal"),
        ("xavier-unifrom", "xavier-uniform"),
        ("orthogonl", "orthogonal"),
    ] {
        let err = assert_bad(
            &["gen", "--scheme", typo, "--shape", "784x128"],
            2,
            &[typo, "did you mean"],
        );
        let suggestion = &err[err.find("did you mean").unwrap()..];
        assert!(
            suggestion.contains(meant),
            "{typo}: suggestion should be {meant}: {err}"
        );
    }
    assert_bad(&argv("gen --scheme qwerty --shape 784x128"), 2, &["qwerty"]);
}

bad_input!(bad_shape_trailing_x: "gen --scheme he-normal --shape 784x" => 2, ["784x"]);
bad_input!(bad_shape_zero_dim: "gen --scheme he-normal --shape 0x5" => 2, ["0x5"]);
bad_input!(bad_shape_negative: "gen --scheme he-normal --shape -3x4" => 2, ["-3x4"]);
bad_input!(bad_shape_letters: "gen --scheme he-normal --shape axb" => 2, ["axb"]);
bad_input!(bad_shape_empty: ["gen", "--scheme", "he-normal", "--shape", ""] => 2, ["shape"]);
bad_input!(bad_shape_count_overflows:
    "gen --scheme he-normal --shape 4294967296x4294967296" => 2,
    ["4294967296x4294967296"]);
bad_input!(bad_shape_dim_too_large:
    "gen --scheme normal --shape 99999999999999999999999x2" => 2,
    ["99999999999999999999999"]);
bad_input!(bad_shape_bytes_overflow:
    "gen --scheme normal --shape 4294967296x4294967295" => 2,
    ["4294967296x4294967295"]);
bad_input!(bad_shape_missing: "gen --scheme he-normal" => 2, ["--shape"]);

bad_input!(bad_std_zero: "gen --scheme normal --std 0 --shape 4x3" => 2, ["std"]);
bad_input!(bad_std_negative:
    "gen --scheme normal --std -0.5 --shape 4x3" => 2, ["std", "-0.5"]);
bad_input!(bad_std_negative_inline:
    "gen --scheme normal:std=-0.5 --shape 4x3" => 2, ["std", "-0.5"]);
bad_input!(bad_truncated_std_zero:
    "gen --scheme truncated-normal --std 0 --shape 4x3" => 2, ["std"]);
bad_input!(bad_uniform_low_equals_high:
    "gen --scheme uniform --low 0.5 --high 0.5 --shape 4x3" => 2,
    ["0.5", "low"]);
bad_input!(bad_uniform_low_above_high:
    "gen --scheme uniform --low 0.5 --high -0.5 --shape 4x3" => 2,
    ["0.5", "-0.5"]);
bad_input!(bad_uniform_low_above_high_inline:
    "gen --scheme uniform:low=1,high=0 --shape 4x3" => 2, ["low", "high"]);
bad_input!(bad_truncated_low_above_high:
    "gen --scheme truncated-normal --low 1 --high -1 --shape 4x3" => 2,
    ["low", "high"]);
bad_input!(bad_std_nan: "gen --scheme normal --std nan --shape 4x3" => 2, ["nan"]);
bad_input!(bad_std_nan_inline: "gen --scheme normal:std=NaN --shape 4x3" => 2, ["NaN"]);
bad_input!(bad_mean_inf: "gen --scheme normal --mean inf --shape 4x3" => 2, ["inf"]);
bad_input!(bad_low_minus_inf_with_equals:
    "gen --scheme uniform --low=-inf --shape 4x3" => 2, ["-inf"]);
// What a user types; clap must not read the value `-inf` as a cluster of short flags.
bad_input!(bad_low_minus_inf:
    "gen --scheme uniform --low -inf --shape 4x3" => 2, ["-inf"]);
bad_input!(bad_high_infinity:
    "gen --scheme truncated-normal --high infinity --shape 4x3" => 2,
    ["infinity"]);
bad_input!(bad_gain_nan: "gen --scheme he-normal --gain NaN --shape 4x3" => 2, ["NaN"]);
bad_input!(bad_gain_negative:
    "gen --scheme xavier-normal --gain -1 --shape 4x3" => 2, ["gain", "-1"]);
bad_input!(bad_constant_value_nan:
    "gen --scheme constant --value nan --shape 4x3" => 2, ["nan"]);
bad_input!(bad_truncation_excludes_all_mass:
    "gen --scheme truncated-normal --mean 0 --std 1 --low 50 --high 60 --shape 4x3" => 2, ["50", "60"]);
bad_input!(bad_truncation_excludes_all_mass_below:
    "gen --scheme truncated-normal:std=0.01,low=-9,high=-8 --shape 4x3" => 2,
    ["-9", "-8"]);

bad_input!(bad_he_normal_on_1d:
    "gen --scheme he-normal --shape 128" => 2, ["he-normal", "128"]);
bad_input!(bad_xavier_uniform_on_1d:
    "gen --scheme xavier-uniform --shape 64" => 2, ["xavier-uniform", "64"]);
bad_input!(bad_orthogonal_on_1d:
    "gen --scheme orthogonal --shape 10" => 2, ["orthogonal", "10"]);
bad_input!(bad_identity_on_3d:
    "gen --scheme identity --shape 3x3x3" => 2, ["identity", "3x3x3"]);
bad_input!(bad_parameter_for_scheme:
    "gen --scheme xavier-uniform --std 1 --shape 4x3" => 2,
    ["std", "xavier-uniform"]);
bad_input!(bad_mode_value:
    "gen --scheme he-normal --mode sideways --shape 4x3" => 2, ["sideways"]);

bad_input!(bad_missing_output_directory:
    "gen --scheme he-normal --shape 4x3 -o nodir/w.npy" => 2, ["nodir"]);
bad_input!(bad_missing_parent_of_output_directory:
    "gen --scheme he-normal --shape 4x3 --shape 5x2 -o nodir/sub/" => 2,
    ["nodir"]);
bad_input!(bad_unknown_extension:
    "gen --scheme he-normal --shape 4x3 -o w.txt" => 2, ["w.txt"]);
bad_input!(bad_several_shapes_to_one_file:
    "gen --scheme he-normal --shape 4x3 --shape 5x2 -o w.npy" => 2,
    ["w.npy"]);
bad_input!(bad_several_shapes_to_stdout:
    "gen --scheme he-normal --shape 4x3 --shape 5x2 -o -" => 2,
    ["stdout"]);

bad_input!(bad_seed_word: "gen --scheme he-normal --shape 4x3 --seed abc" => 2, ["abc"]);
bad_input!(bad_seed_negative: "gen --scheme he-normal --shape 4x3 --seed -1" => 2, ["-1"]);
bad_input!(bad_seed_fraction: "gen --scheme he-normal --shape 4x3 --seed 1.5" => 2, ["1.5"]);
bad_input!(bad_seed_too_large:
    "gen --scheme he-normal --shape 4x3 --seed 18446744073709551616" => 2,
    ["18446744073709551616"]);
bad_input!(bad_unknown_flag: "gen --scheme he-normal --shape 4x3 --bogus" => 2, ["--bogus"]);
bad_input!(bad_unknown_subcommand: "generate-all" => 2, ["generate-all"]);
bad_input!(bad_threads_zero:
    "gen --scheme he-normal --shape 4x3 --threads 0" => 2, ["--threads"]);
bad_input!(bad_threads_word:
    "gen --scheme he-normal --shape 4x3 --threads many" => 2, ["many"]);
bad_input!(bad_dtype: "gen --scheme he-normal --shape 4x3 --dtype f8" => 2, ["f8"]);
bad_input!(bad_layout: "gen --scheme he-normal --shape 4x3 --layout xy" => 2, ["xy"]);
bad_input!(bad_format: "gen --scheme he-normal --shape 4x3 --format npz" => 2, ["npz"]);
bad_input!(bad_report_mode: "gen --scheme he-normal --shape 4x3 --report loud" => 2, ["loud"]);

/// A new output directory is created only when the run can go ahead: a run refused for
/// another reason must not leave an empty directory behind.
#[test]
fn bad_threads_zero_with_new_output_directory_leaves_nothing() {
    assert_bad(
        &argv("gen --scheme he-normal --shape 4x3 --shape 5x2 -o out/ --threads 0"),
        2,
        &["--threads"],
    );
}

#[test]
fn existing_file_is_kept_without_force_and_replaced_with_force() {
    let dir = tempdir();
    let path = dir.path().join("w.npy");
    std::fs::write(&path, b"original").unwrap();
    let args = argv("gen --scheme he-normal --shape 4x3 -o w.npy");
    assert_bad_in(dir.path(), &args, 2, &["w.npy", "--force"]);
    assert_eq!(std::fs::read(&path).unwrap(), b"original");

    let mut forced = args.to_vec();
    forced.push("--force");
    run_ok(dir.path(), &forced);
    assert_eq!(listing(dir.path()), ["w.npy"], "no temporary files left");
    assert_eq!(read_f32(&path).shape(), &[4, 3]);
}

#[test]
fn existing_default_named_file_is_kept() {
    let dir = tempdir();
    let args = argv("gen --scheme he-normal --shape 4x3 --seed 1");
    run_ok(dir.path(), &args);
    let path = dir.path().join("he-normal_4x3.npy");
    let first = std::fs::read(&path).unwrap();
    let mut other_seed = args.to_vec();
    other_seed[6] = "2";
    assert_bad_in(dir.path(), &other_seed, 2, &["he-normal_4x3.npy"]);
    assert_eq!(std::fs::read(&path).unwrap(), first);
}

/// In a directory every target is checked before anything is written: one existing
/// tensor file (or manifest) stops the whole run and nothing new appears.
#[test]
fn existing_file_in_output_directory_stops_the_whole_run() {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/a.npy"), b"mine").unwrap();
    let args = argv("gen --scheme he-normal --shape 4x3 --shape 5x2 --name a --name b -o out/");
    assert_bad_in(dir.path(), &args, 2, &["a.npy"]);
    assert_eq!(
        std::fs::read(dir.path().join("out/a.npy")).unwrap(),
        b"mine"
    );

    let dir = tempdir();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/manifest.json"), b"{}").unwrap();
    assert_bad_in(dir.path(), &args, 2, &["manifest.json"]);

    // --force replaces both.
    let mut forced = args.to_vec();
    forced.push("--force");
    run_ok(dir.path(), &forced);
    assert_eq!(
        listing(dir.path()),
        ["out/", "out/a.npy", "out/b.npy", "out/manifest.json"]
    );
    let manifest = read_json(&dir.path().join("out/manifest.json"));
    assert_eq!(manifest["tensors"].as_array().map(Vec::len), Some(2));
}

/// A failure while writing (the disk is full) is a runtime error: exit 1, one line.
#[cfg(target_os = "linux")]
#[test]
fn write_failure_exits_1_with_one_line() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipping: /dev/full is not available");
        return;
    };
    let dir = tempdir();
    let out = std::process::Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "gen", "--scheme", "normal", "--shape", "300x300", "-o", "-", "--format", "npy",
        ])
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("binary runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{err}");
    assert_no_panic(&out);
    assert_eq!(err.lines().count(), 1, "one line:\n{err}");
    assert!(listing(dir.path()).is_empty());
}

// ---------------------------------------------------------------------------------------
// a reader that closes the pipe early
// ---------------------------------------------------------------------------------------

/// `weightinit gen ... -o - | head -c 16`: the reader goes away after a few bytes. The
/// tensor (4 MiB) is far larger than a pipe buffer, so the writer is certain to hit the
/// closed pipe; it must end quietly with exit 0.
fn closed_pipe_is_quiet(format: &str) {
    let dir = tempdir();
    let mut child = std::process::Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "gen",
            "--scheme",
            "he-normal",
            "--shape",
            "1024x1024",
            "--seed",
            "1",
            "-o",
            "-",
            "--format",
            format,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout pipe");
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).expect("first bytes");
    drop(stdout);
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr pipe")
        .read_to_string(&mut err)
        .expect("stderr");
    let status = child.wait().expect("wait");
    assert!(
        !err.contains("panicked"),
        "{format}: panic on closed pipe:\n{err}"
    );
    assert!(
        err.is_empty(),
        "{format}: stderr must stay empty on a closed pipe:\n{err}"
    );
    assert_eq!(status.code(), Some(0), "{format}: exit status");
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn closed_pipe_npy() {
    closed_pipe_is_quiet("npy");
}

#[test]
fn closed_pipe_json() {
    closed_pipe_is_quiet("json");
}

// ---------------------------------------------------------------------------------------
// small things a user meets first
// ---------------------------------------------------------------------------------------

#[test]
fn help_and_version_succeed() {
    let dir = tempdir();
    wi(dir.path())
        .args(["gen", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--scheme").and(predicate::str::contains("--shape")));
    wi(dir.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    wi(dir.path())
        .arg("schemes")
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

/// A path given without a trailing slash that names an existing directory is also a
/// directory target.
#[test]
fn existing_directory_without_trailing_slash() {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    run_ok(
        dir.path(),
        &argv("gen --scheme zeros --shape 3 --shape 4 -o out --report none"),
    );
    let files = listing(dir.path());
    assert!(
        files.contains(&"out/manifest.json".to_string()),
        "{files:?}"
    );
    assert_eq!(files.len(), 4, "{files:?}");
}

bad_input!(bad_numpy_truncated_normal:
    "gen --rng numpy --scheme truncated-normal --shape 10x10" => 2, ["truncated-normal", "--rng numpy"]);
bad_input!(bad_rng_name: "gen --rng numpi --scheme he-normal --shape 10x10" => 2, ["numpi"]);

/// `--rng numpy` is recorded in every place metadata goes: the manifest (and its
/// `equivalent` code, one generator shared in order), the JSON output and the report.
#[test]
fn numpy_mode_is_recorded_in_manifest_json_and_report() {
    let dir = tempdir();
    let out = run_ok(
        dir.path(),
        &argv("gen --rng numpy --seed 5 --scheme he-normal --shape 20x10 --shape 10x3 -o out/"),
    );
    let report = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        report.contains("np.random.default_rng(5)")
            && report.contains("rng.standard_normal((20, 10), dtype=np.float32)"),
        "{report}"
    );
    let manifest = read_json(&dir.path().join("out/manifest.json"));
    let tensors = manifest["tensors"].as_array().expect("tensors");
    assert_eq!(tensors.len(), 2);
    for t in tensors {
        assert_eq!(t["rng"], "numpy");
        assert!(t["stream"].as_str().unwrap().contains("PCG64"), "{t}");
        assert!(
            t["equivalent"]
                .as_str()
                .unwrap()
                .starts_with("w = rng.standard_normal("),
            "{t}"
        );
    }
    let json = run_ok(
        dir.path(),
        &argv("gen --rng numpy --seed 5 --scheme xavier-uniform --shape 4x3 -o - --format json"),
    );
    let doc: Value = serde_json::from_slice(&json.stdout).expect("JSON output");
    assert_eq!(doc["rng"], "numpy");
    assert!(
        doc["equivalent"]
            .as_str()
            .unwrap()
            .starts_with("w = rng.uniform("),
        "{doc}"
    );
    // The native stream carries no `equivalent`.
    let native = run_ok(
        dir.path(),
        &argv("gen --seed 5 --scheme xavier-uniform --shape 4x3 -o - --format json"),
    );
    let doc: Value = serde_json::from_slice(&native.stdout).expect("JSON output");
    assert_eq!(doc["rng"], "native");
    assert!(doc.get("equivalent").is_none(), "{doc}");
}

bad_input!(bad_preset_shape:
    "gen --preset torch-linear --shape 3x4x5 -o out/" => 2, ["torch-linear", "3x4x5", "INxOUT"]);
bad_input!(bad_preset_with_scheme:
    "gen --preset torch-linear --scheme he-normal --shape 3x4 -o out/" => 2, ["--preset", "--scheme"]);
bad_input!(bad_torch_io_layout:
    "gen --rng torch --scheme he-normal --shape 784x128" => 2, ["--layout oi"]);

/// `--preset torch-linear` names its files weight/bias (NAME.weight/NAME.bias with
/// --name), with PyTorch's shapes, and records the rng and the equivalent code.
#[test]
fn preset_torch_linear_writes_weight_and_bias() {
    let dir = tempdir();
    run_ok(
        dir.path(),
        &argv(
            "gen --rng torch --seed 0 --preset torch-linear --shape 784x128 --shape 128x10 --name fc1 --name fc2 -o net/",
        ),
    );
    let manifest = read_json(&dir.path().join("net/manifest.json"));
    let tensors = manifest["tensors"].as_array().expect("tensors");
    let names: Vec<&str> = tensors
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    let shapes: Vec<Value> = tensors.iter().map(|t| t["shape"].clone()).collect();
    assert_eq!(
        shapes,
        [
            serde_json::json!([128, 784]),
            serde_json::json!([128]),
            serde_json::json!([10, 128]),
            serde_json::json!([10])
        ]
    );
    for t in tensors {
        assert_eq!(t["rng"], "torch");
        assert!(
            t["equivalent"].as_str().unwrap().contains(".uniform_("),
            "{t}"
        );
        assert!(
            dir.path()
                .join("net")
                .join(t["file"].as_str().unwrap())
                .exists()
        );
    }
}

/// Reads every member of an .npz written by weightinit: name → (shape, f32 values).
fn read_npz_f32(path: &Path) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = zip::ZipArchive::new(file).expect("a zip archive");
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).unwrap();
        let name = member
            .name()
            .expect("member name")
            .strip_suffix(".npy")
            .expect(".npy member")
            .to_string();
        let mut bytes = Vec::new();
        member.read_to_end(&mut bytes).unwrap();
        let a: ArrayD<f32> = ndarray_npy::ReadNpyExt::read_npy(&bytes[..]).unwrap();
        out.insert(name, (a.shape().to_vec(), a.iter().copied().collect()));
    }
    out
}

/// `--layers 784-256-128-10` into .npz and .safetensors: fcI.weight/fcI.bias with the
/// right shapes, He-normal weights for ReLU, zero biases, and the same values a
/// directory of .npy files gets (names key the stream, so they are the same tensors).
#[test]
fn layers_into_npz_and_safetensors_hold_the_same_tensors_as_npy_files() {
    let dir = tempdir();
    let line = "gen --layers 784-256-128-10 --activation relu --seed 3";
    run_ok(dir.path(), &argv(&format!("{line} -o mlp.npz")));
    run_ok(dir.path(), &argv(&format!("{line} -o mlp.safetensors")));
    run_ok(dir.path(), &argv(&format!("{line} -o files/")));
    let npz = read_npz_f32(&dir.path().join("mlp.npz"));
    let names: Vec<&String> = npz.keys().collect();
    assert_eq!(names.len(), 6, "{names:?}");
    let bytes = std::fs::read(dir.path().join("mlp.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).expect("valid safetensors");
    for (name, (shape, values)) in &npz {
        let npy = read_f32(&dir.path().join("files").join(format!("{name}.npy")));
        assert_eq!(&npy.shape().to_vec(), shape, "{name}");
        assert_eq!(
            npy.iter().copied().collect::<Vec<_>>(),
            *values,
            "{name} in .npz"
        );
        let view = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(view.shape(), &shape[..], "{name}");
        assert_eq!(view.dtype(), safetensors::Dtype::F32);
        let st_values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(st_values, *values, "{name} in .safetensors");
        if name.ends_with(".bias") {
            assert!(values.iter().all(|&x| x == 0.0), "{name} must be zeros");
        } else {
            // He normal: std √(2/fan_in), checked loosely (the statistics tests are exact).
            let fan_in = shape[0] as f64;
            let var =
                values.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / values.len() as f64;
            let want = 2.0 / fan_in;
            assert!(
                (var / want - 1.0).abs() < 0.1,
                "{name}: variance {var} vs {want}"
            );
        }
    }
    assert_eq!(npz["fc1.weight"].0, vec![256, 128], "io layout: in x out");
}

bad_input!(bad_layers_zero_width: "gen --layers 784-0-10 -o m.npz" => 2, ["784-0-10", "positive width"]);
bad_input!(bad_layers_single_width: "gen --layers 784 -o m.npz" => 2, ["784", "two widths"]);
bad_input!(bad_npz_to_stdout:
    "gen --scheme he-normal --shape 4x4 --format npz -o -" => 2, ["npz", "stdout"]);
bad_input!(bad_safetensors_into_directory:
    "gen --scheme he-normal --shape 4x4 --format safetensors -o out/" => 2, ["safetensors", "directory"]);

/// `--spec net.toml`: tensors, rules and defaults from the file, into one .safetensors;
/// the same spec as JSON gives the same bytes.
#[test]
fn spec_file_toml_and_json_give_the_same_model() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("net.toml"),
        r#"
seed = 42
layout = "oi"
scheme = "he-normal"

[[rule]]
match = "*.bias"
scheme = "zeros"

[[tensor]]
name = "embed.weight"
shape = [100, 16]
scheme = "normal:std=0.02"

[[tensor]]
name = "fc.weight"
shape = "10x16"

[[tensor]]
name = "fc.bias"
shape = [10]
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("net.json"),
        r#"{"seed": 42, "layout": "oi", "scheme": "he-normal",
            "rule": [{"match": "*.bias", "scheme": "zeros"}],
            "tensor": [{"name": "embed.weight", "shape": [100, 16], "scheme": "normal:std=0.02"},
                       {"name": "fc.weight", "shape": [10, 16]},
                       {"name": "fc.bias", "shape": [10]}]}"#,
    )
    .unwrap();
    run_ok(dir.path(), &argv("gen --spec net.toml -o a.safetensors"));
    run_ok(dir.path(), &argv("gen --spec net.json -o b.safetensors"));
    let a = std::fs::read(dir.path().join("a.safetensors")).unwrap();
    let b = std::fs::read(dir.path().join("b.safetensors")).unwrap();
    assert_eq!(a, b, "TOML and JSON specs must give the same file");
    let st = safetensors::SafeTensors::deserialize(&a).unwrap();
    let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
    names.sort();
    assert_eq!(names, ["embed.weight", "fc.bias", "fc.weight"]);
    assert_eq!(st.tensor("fc.weight").unwrap().shape(), &[10, 16]);
    assert!(st.tensor("fc.bias").unwrap().data().iter().all(|&b| b == 0));
    // --seed overrides the file's seed.
    run_ok(
        dir.path(),
        &argv("gen --spec net.toml --seed 43 -o c.safetensors"),
    );
    let c = std::fs::read(dir.path().join("c.safetensors")).unwrap();
    assert_ne!(a, c);
}

bad_input!(bad_spec_unknown_key: ["gen", "--spec", "bad.toml", "-o", "m.npz"] => 2, ["bad.toml"]);

/// `--like` on files written by the real safetensors library and by np.savez
/// (tests/fixtures/like/): the same names and shapes, float dtypes kept (f32, f64, f16),
/// the int64 buffer left out with a note, schemes by --rule then --default.
#[test]
fn like_rebuilds_the_layout_of_safetensors_and_npz_files() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/like");
    for source in ["model.safetensors", "model.npz"] {
        let dir = tempdir();
        let src = fixtures.join(source);
        let out = run_ok(
            dir.path(),
            &[
                "gen",
                "--like",
                src.to_str().unwrap(),
                "--rule",
                "*.bias=zeros",
                "--rule",
                "*norm*.weight=ones",
                "--rule",
                "embed*=normal:std=0.02",
                "--default",
                "he-normal",
                "--layout",
                "oi",
                "--seed",
                "5",
                "-o",
                "fresh.safetensors",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("'position_ids'") && stderr.contains("left out"),
            "{stderr}"
        );
        assert!(!stderr.contains("written as"), "{stderr}");
        let bytes = std::fs::read(dir.path().join("fresh.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut names: Vec<String> = st.names().into_iter().map(|s| s.to_string()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "block.0.fc.bias",
                "block.0.fc.weight",
                "block.0.norm.weight",
                "embed.weight",
                "head.weight"
            ],
            "{source}"
        );
        let t = |n: &str| st.tensor(n).unwrap();
        assert_eq!(t("embed.weight").shape(), &[50, 8]);
        assert_eq!(
            t("block.0.fc.weight").dtype(),
            safetensors::Dtype::F64,
            "{source}: f64 kept"
        );
        assert_eq!(t("head.weight").dtype(), safetensors::Dtype::F16);
        assert!(t("block.0.fc.bias").data().iter().all(|&b| b == 0));
        let ones: Vec<f32> = t("block.0.norm.weight")
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(ones, vec![1.0; 8]);
    }
}

/// --like refusals: a tensor no rule covers, a file that is not a model, a truncated or
/// hostile safetensors header (nothing is written in any case).
#[test]
fn bad_like_inputs() {
    let dir = tempdir();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/like/model.npz");
    std::fs::copy(&fixture, dir.path().join("model.npz")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
    let mut hostile = u64::MAX.to_le_bytes().to_vec();
    hostile.extend_from_slice(b"{}");
    std::fs::write(dir.path().join("hostile.safetensors"), &hostile).unwrap();
    std::fs::write(dir.path().join("short.safetensors"), b"abc").unwrap();
    for (args, needles) in [
        (
            argv("gen --like model.npz -o x.npz"),
            vec!["matches no --rule"],
        ),
        (
            argv("gen --like notes.txt --default zeros -o x.npz"),
            vec!["notes.txt", ".safetensors or .npz"],
        ),
        (
            argv("gen --like hostile.safetensors --default zeros -o x.npz"),
            vec!["hostile.safetensors", "limit"],
        ),
        (
            argv("gen --like short.safetensors --default zeros -o x.npz"),
            vec!["short.safetensors", "shorter"],
        ),
    ] {
        assert_bad_in(dir.path(), &args, 2, &needles);
    }
}

/// `--shard I/N` from N separate processes: the shards together hold exactly the
/// tensors, byte for byte, of one run writing everything, and every shard writes the
/// same index.
#[test]
fn shards_from_separate_processes_equal_one_run() {
    let dir = tempdir();
    let model = "gen --layers 64-48x3-10 --activation tanh --bias normal:std=0.1 --seed 21";
    for i in 1..=3 {
        run_ok(
            dir.path(),
            &argv(&format!("{model} --shard {i}/3 -o shards/")),
        );
    }
    run_ok(dir.path(), &argv(&format!("{model} -o one.safetensors")));
    let one_bytes = std::fs::read(dir.path().join("one.safetensors")).unwrap();
    let one = safetensors::SafeTensors::deserialize(&one_bytes).unwrap();
    let index = read_json(&dir.path().join("shards/model.safetensors.index.json"));
    let weight_map = index["weight_map"].as_object().expect("weight_map");
    assert_eq!(weight_map.len(), one.names().len());
    let total: u64 = one
        .tensors()
        .iter()
        .map(|(_, v)| v.data().len() as u64)
        .sum();
    assert_eq!(index["metadata"]["total_size"], total);
    let mut seen = 0;
    for i in 1..=3 {
        let file = format!("model-{i:05}-of-00003.safetensors");
        let bytes = std::fs::read(dir.path().join("shards").join(&file)).unwrap();
        let shard = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert!(!shard.names().is_empty(), "{file} is empty");
        for name in shard.names() {
            assert_eq!(weight_map[name], file.as_str(), "{name}");
            assert_eq!(
                shard.tensor(name).unwrap().data(),
                one.tensor(name).unwrap().data(),
                "{name} in {file}"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, one.names().len(), "every tensor in exactly one shard");
}

bad_input!(bad_shard_out_of_range: "gen --layers 8-4-2 --shard 4/3 -o s/" => 2, ["4/3"]);
bad_input!(bad_shard_framework_rng: "gen --layers 8-4-2 --rng numpy --shard 1/2 -o s/" => 2, ["--shard", "numpy"]);
bad_input!(bad_shard_needs_directory: "gen --layers 8-4-2 --shard 1/2 -o m.safetensors" => 2, ["--shard", "DIR/"]);

/// A run of several tensors ends its report with a total, in both report forms.
#[test]
fn report_has_a_total_for_several_tensors() {
    let dir = tempdir();
    let out = run_ok(dir.path(), &argv("gen --layers 20-10-3 --seed 1 -o m.npz"));
    let human = String::from_utf8_lossy(&out.stderr).into_owned();
    let last = human.lines().last().unwrap_or_default();
    assert_eq!(
        last, "total: 4 tensors, 243 elements, 972 bytes of data; all consistent with their scheme",
        "{human}"
    );
    let out = run_ok(
        dir.path(),
        &argv("gen --layers 20-10-3 --seed 1 -o m2.npz --report json"),
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["total"]["tensors"], 4);
    assert_eq!(doc["total"]["elements"], 243);
    assert_eq!(doc["total"]["bytes"], 972);
    assert_eq!(doc["total"]["inconsistent"], 0);
}

/// bf16 and f16 go into .safetensors with their own dtypes; bf16 into .npy is refused
/// (NumPy has no bfloat16) before anything is written.
#[test]
fn half_precision_outputs() {
    let dir = tempdir();
    for (dtype, want) in [
        ("bf16", safetensors::Dtype::BF16),
        ("f16", safetensors::Dtype::F16),
    ] {
        let file = format!("m_{dtype}.safetensors");
        run_ok(
            dir.path(),
            &argv(&format!(
                "gen --layers 20-10 --dtype {dtype} --seed 2 -o {file}"
            )),
        );
        let bytes = std::fs::read(dir.path().join(&file)).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let w = st.tensor("fc0.weight").unwrap();
        assert_eq!(w.dtype(), want);
        assert_eq!(w.data().len(), 20 * 10 * 2);
    }
    assert_bad(
        &argv("gen --scheme he-normal --shape 4x4 --dtype bf16 -o w.npy"),
        2,
        &["bf16", "safetensors"],
    );
}

/// `--rule`/`--default` extend a spec file (after its own rules and scheme), and are
/// refused where tensors are not chosen by name.
#[test]
fn rules_and_default_from_the_command_line() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("net.toml"),
        "[[rule]]\nmatch = \"*.bias\"\nscheme = \"zeros\"\n\
         [[tensor]]\nname = \"a.weight\"\nshape = [8, 4]\n\
         [[tensor]]\nname = \"a.bias\"\nshape = [8]\n\
         [[tensor]]\nname = \"a.scale\"\nshape = [8]\n",
    )
    .unwrap();
    let out = run_ok(
        dir.path(),
        &argv(
            "gen --spec net.toml --rule *.scale=ones --rule *.bias=constant:value=3 --default he-normal -o m.npz --report json",
        ),
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schemes: Vec<&str> = doc["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["scheme"].as_str().unwrap())
        .collect();
    // The file's *.bias rule comes before the command line's.
    assert_eq!(schemes, ["he-normal", "zeros", "ones"]);
    assert_bad(
        &argv("gen --scheme zeros --shape 3 --default he-normal -o w.npy"),
        2,
        &["--default", "--like"],
    );
}
