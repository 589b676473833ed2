//! `gen` through the binary: what it writes and where — the README's first examples,
//! files, directories with their manifest, stdout, containers, report routing, seeds and
//! reproducibility from the command line, a reader that closes the pipe early.
//! Expected values come from the formulas (fans, bounds, standard deviations), never from
//! the tool's own output.

#![allow(unused_imports)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::process::{Output, Stdio};

use assert_cmd::Command;
use ndarray::ArrayD;
use predicates::prelude::*;
use serde_json::Value;

use crate::common::cli::*;

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
