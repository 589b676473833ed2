//! `weightinit verify` through the binary, both ways: files `gen` made pass the scheme
//! they were made with, and fail a different scheme, a 10% change of scale, a narrower
//! bound, a scaled column, duplicated rows. Bad input gets one line and exit code 2.
//!
//! Seeds are fixed, so every case is deterministic. The passing cases cannot fail by
//! bad luck in any meaningful sense: each check's false-alarm probability under the law
//! is at most about 1e-6 (|z| ≤ 5, KS p ≥ 1e-6; see src/verify.rs), so a wrong verdict
//! on a correct file would be a bug, not chance. The failing cases fail by tens of
//! standard errors (the messages print the z), far from the limits.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

use crate::common::cli::run;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `gen ... -o NAME` in `dir`; panics with stderr on failure.
fn gen_file(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let mut all = vec!["gen", "--report", "none", "-o", name];
    all.extend_from_slice(args);
    let out = run(dir, &all);
    assert!(out.status.success(), "gen {args:?}: {}", text(&out.stderr));
    dir.join(name)
}

/// `verify FILE --scheme SCHEME extra...`: (exit code, stdout, stderr).
fn verify(dir: &Path, file: &str, scheme: &str, extra: &[&str]) -> (i32, String, String) {
    let mut all = vec!["verify", file, "--scheme", scheme];
    all.extend_from_slice(extra);
    let out = run(dir, &all);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().expect("exit code"), stdout, stderr)
}

fn assert_passes(dir: &Path, file: &str, scheme: &str, extra: &[&str]) -> String {
    let (code, stdout, stderr) = verify(dir, file, scheme, extra);
    assert_eq!(code, 0, "{file} vs {scheme}:\n{stdout}{stderr}");
    assert!(
        stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with(&format!("consistent with {scheme}")),
        "{stdout}"
    );
    assert!(stderr.is_empty(), "{stderr}");
    stdout
}

/// Requires exit 1 with the reason as the report's last line and as the one stderr line;
/// returns (stdout, reason).
fn assert_fails(dir: &Path, file: &str, scheme: &str, extra: &[&str]) -> (String, String) {
    let (code, stdout, stderr) = verify(dir, file, scheme, extra);
    assert_eq!(code, 1, "{file} vs {scheme}:\n{stdout}{stderr}");
    let reason = stdout.trim_end().lines().last().unwrap().to_string();
    assert!(
        reason.starts_with(&format!("NOT consistent with {scheme}: ")),
        "{stdout}"
    );
    assert_eq!(stderr, format!("weightinit: {reason}\n"));
    (stdout, reason)
}

/// Requires exit 2 and exactly one `weightinit: error:` line containing `needle`.
fn assert_usage_error(dir: &Path, args: &[&str], needle: &str) {
    let out = run(dir, args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("weightinit: error: "), "{stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty());
}

/// Rewrites the f32 data of a version-1 little-endian .npy file in place with `edit`
/// (index, value) → new value.
fn edit_f32_npy(path: &Path, edit: impl Fn(usize, f32) -> f32) {
    let mut bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let start = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert!(text(&bytes[10..start]).contains("'<f4'"));
    for (i, word) in bytes[start..].chunks_exact_mut(4).enumerate() {
        let x = f32::from_le_bytes(word.try_into().unwrap());
        word.copy_from_slice(&edit(i, x).to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

fn tempdir() -> TempDir {
    tempfile::tempdir().expect("temporary directory")
}

#[test]
fn he_normal_file_passes_he_normal_and_fails_xavier_normal() {
    let dir = tempdir();
    let d = dir.path();
    gen_file(
        d,
        "w.npy",
        &[
            "--scheme",
            "he-normal",
            "--shape",
            "784x128",
            "--seed",
            "11",
        ],
    );
    let report = assert_passes(d, "w.npy", "he-normal", &[]);
    assert!(report.contains("fan_in 784, fan_out 128"), "{report}");
    // Xavier's variance 2/(784+128) is 14% below He's 2/784: about 37 standard errors.
    let (_, reason) = assert_fails(d, "w.npy", "xavier-normal", &[]);
    assert!(reason.contains("w: variance"), "{reason}");
}

#[test]
fn a_ten_percent_change_of_scale_is_caught_at_100k_values() {
    let dir = tempdir();
    let d = dir.path();
    let plain = gen_file(
        d,
        "w.npy",
        &[
            "--scheme",
            "he-normal",
            "--shape",
            "1000x100",
            "--seed",
            "12",
        ],
    );
    std::fs::copy(&plain, d.join("scaled.npy")).unwrap();
    edit_f32_npy(&d.join("scaled.npy"), |_, x| x * 1.1);
    assert_passes(d, "w.npy", "he-normal", &[]);
    // Variance × 1.21 at n = 100,000: z ≈ 0.21·√(n/2) ≈ 47.
    let (report, reason) = assert_fails(d, "scaled.npy", "he-normal", &[]);
    assert!(reason.contains("variance"), "{reason}");
    assert!(report.contains("FAIL Kolmogorov–Smirnov"), "{report}");
}

#[test]
fn uniform_file_passes_its_scheme_and_fails_a_narrower_bound() {
    let dir = tempdir();
    let d = dir.path();
    gen_file(
        d,
        "u.npy",
        &[
            "--scheme",
            "he-uniform",
            "--shape",
            "784x128",
            "--seed",
            "13",
        ],
    );
    let report = assert_passes(d, "u.npy", "he-uniform", &[]);
    assert!(
        report.contains("ok   all values in [-0.0874818, 0.0874818]"),
        "{report}"
    );
    // √(6/784) = 0.0875; a bound of 0.08 leaves about 8% of the values outside.
    let (report, _) = assert_fails(d, "u.npy", "uniform:low=-0.08,high=0.08", &[]);
    assert!(report.contains("FAIL maximum"), "{report}");
    assert!(
        report.contains("above the upper bound 0.0800000"),
        "{report}"
    );
}

#[test]
fn orthogonal_file_passes_and_fails_when_a_column_is_scaled() {
    let dir = tempdir();
    let d = dir.path();
    let plain = gen_file(
        d,
        "o.npy",
        &[
            "--scheme",
            "orthogonal",
            "--shape",
            "256x128",
            "--seed",
            "14",
        ],
    );
    assert_passes(d, "o.npy", "orthogonal", &[]);
    std::fs::copy(&plain, d.join("bent.npy")).unwrap();
    // Column 5 of the 256x128 view times 1.01: its Gram diagonal becomes 1.0201.
    edit_f32_npy(
        &d.join("bent.npy"),
        |i, x| if i % 128 == 5 { x * 1.01 } else { x },
    );
    let (_, reason) = assert_fails(d, "bent.npy", "orthogonal", &[]);
    assert!(reason.contains("max |G/gain² − I| = 2.01"), "{reason}");
}

#[test]
fn zeros_pass_zeros_and_fail_he_normal_as_symmetric() {
    let dir = tempdir();
    let d = dir.path();
    gen_file(d, "z.npy", &["--scheme", "zeros", "--shape", "784x128"]);
    let report = assert_passes(d, "z.npy", "zeros", &[]);
    assert!(report.contains("every value is exactly 0"), "{report}");
    let (report, reason) = assert_fails(d, "z.npy", "he-normal", &[]);
    assert!(reason.contains("variance 0 vs"), "{reason}");
    assert!(
        report.contains("FAIL rows 0 and 1 are identical"),
        "{report}"
    );
    assert!(
        report.contains("FAIL columns 0 and 1 are identical"),
        "{report}"
    );
}

#[test]
fn two_identical_rows_fail_as_symmetric() {
    let dir = tempdir();
    let d = dir.path();
    let path = gen_file(
        d,
        "w.npy",
        &[
            "--scheme",
            "he-normal",
            "--shape",
            "784x128",
            "--seed",
            "15",
        ],
    );
    let original: Vec<f32> = {
        let bytes = std::fs::read(&path).unwrap();
        let start = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        bytes[start..]
            .chunks_exact(4)
            .map(|w| f32::from_le_bytes(w.try_into().unwrap()))
            .collect()
    };
    // Row 17 := row 3. Mean, variance and KS cannot see one row of 784; the row check can.
    edit_f32_npy(&path, |i, x| {
        if i / 128 == 17 {
            original[3 * 128 + i % 128]
        } else {
            x
        }
    });
    let (_, reason) = assert_fails(d, "w.npy", "he-normal", &[]);
    assert!(
        reason.contains("w: rows 3 and 17 are identical"),
        "{reason}"
    );
}

#[test]
fn truncated_normal_passes() {
    let dir = tempdir();
    let d = dir.path();
    let scheme = "truncated-normal:std=0.02";
    gen_file(
        d,
        "t.npy",
        &["--scheme", scheme, "--shape", "500x200", "--seed", "16"],
    );
    let report = assert_passes(d, "t.npy", scheme, &[]);
    assert!(
        report.contains("ok   all values in [-0.0400000, 0.0400000]"),
        "{report}"
    );
    // The parent std without truncation is too wide: the truncated variance is 77% of it.
    assert_fails(d, "t.npy", "normal:std=0.02", &[]);
}

#[test]
fn models_in_npz_and_safetensors_check_weights_and_skip_biases() {
    let dir = tempdir();
    let d = dir.path();
    for name in ["m.npz", "m.safetensors"] {
        gen_file(d, name, &["--layers", "784-256-10", "--seed", "17"]);
        let report = assert_passes(d, name, "he-normal", &[]);
        assert!(
            report.contains("skipped fc0.bias: scheme 'he-normal' cannot initialize shape 256"),
            "{report}"
        );
        assert!(
            report.contains("consistent with he-normal (2 tensors checked)"),
            "{report}"
        );
        let report = assert_passes(d, name, "zeros", &["--tensor", "fc1.bias"]);
        assert!(report.starts_with("fc1.bias: 10 f32"), "{report}");
        // Zeros as the scheme of every tensor: the biases pass, the weights do not.
        let (_, reason) = assert_fails(d, name, "zeros", &[]);
        assert!(reason.contains("fc0.weight: element 0 is"), "{reason}");
        // Naming a bias for a scheme that cannot apply to it is a usage error.
        assert_usage_error(
            d,
            &[
                "verify",
                name,
                "--scheme",
                "he-normal",
                "--tensor",
                "fc0.bias",
            ],
            "cannot initialize shape 256",
        );
    }
}

/// Four million f16 (and bf16) values: rounding to 11 (8) significant bits makes the
/// data discrete; the KS test against the rounded law must still pass.
#[test]
fn large_half_precision_files_pass() {
    let dir = tempdir();
    let d = dir.path();
    gen_file(
        d,
        "h.npy",
        &[
            "--scheme",
            "he-normal",
            "--shape",
            "2000x2000",
            "--dtype",
            "f16",
            "--seed",
            "18",
        ],
    );
    let report = assert_passes(d, "h.npy", "he-normal", &[]);
    assert!(report.contains("4000000 values"), "{report}");
    assert!(report.contains("ok   Kolmogorov–Smirnov"), "{report}");
    gen_file(
        d,
        "b.safetensors",
        &[
            "--scheme",
            "xavier-uniform",
            "--shape",
            "2000x2000",
            "--dtype",
            "bf16",
            "--seed",
            "19",
        ],
    );
    assert_passes(d, "b.safetensors", "xavier-uniform", &[]);
}

/// Files NumPy wrote (tests/fixtures/load): big-endian, Fortran order and
/// np.savez_compressed load with the right values (their means are known in closed
/// form; whether they "pass" a law is beside the point).
#[test]
fn numpy_layouts_load() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/load");
    let dir = tempdir();
    let cases = [
        ("be_f4.npy", None, 6, 2.5 / 4.0, 1.25),
        ("fortran_f8.npy", None, 12, 5.5 / 8.0, 11.0 / 8.0),
        ("compressed.npz", Some("w"), 20, 9.5 / 16.0, 19.0 / 16.0),
        ("compressed.npz", Some("fw"), 6, 2.5 / 2.0, 2.5),
    ];
    for (file, tensor, count, mean, max) in cases {
        let path = fixtures.join(file);
        let mut args = vec![
            "verify",
            path.to_str().unwrap(),
            "--scheme",
            "uniform:low=0,high=3",
            "--json",
        ];
        if let Some(name) = tensor {
            args.extend(["--tensor", name]);
        }
        let out = run(dir.path(), &args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{file}: {}",
            text(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let t = &doc["tensors"][0];
        assert_eq!(t["count"], count, "{file}");
        assert_eq!(t["observed"]["mean"].as_f64().unwrap(), mean, "{file}");
        assert_eq!(t["observed"]["max"].as_f64().unwrap(), max, "{file}");
    }
}

#[test]
fn json_report_has_every_number_and_the_same_verdict() {
    let dir = tempdir();
    let d = dir.path();
    gen_file(
        d,
        "w.npy",
        &[
            "--scheme",
            "he-normal",
            "--shape",
            "784x128",
            "--seed",
            "20",
        ],
    );
    let (code, stdout, _) = verify(d, "w.npy", "he-normal", &["--json"]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["consistent"], true);
    assert_eq!(doc["reason"], Value::Null);
    assert_eq!(doc["limits"]["z"], 5.0);
    let t = &doc["tensors"][0];
    assert_eq!(t["fan_in"], 784);
    assert_eq!(t["distribution"]["kind"], "normal");
    let variance = t["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "variance")
        .unwrap();
    assert_eq!(variance["status"], "pass");
    // σ = gain/√fan_in with gain √2: σ² = 2/784 up to rounding.
    let expected = variance["expected"].as_f64().unwrap();
    assert!((expected - 2.0 / 784.0).abs() < 1e-15, "{expected}");
    assert!(variance["statistic"].as_f64().unwrap().abs() <= 5.0);

    let (code, stdout, stderr) = verify(d, "w.npy", "lecun-normal", &["--json"]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["consistent"], false);
    let reason = doc["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("NOT consistent with lecun-normal: w: variance"),
        "{reason}"
    );
    assert_eq!(stderr, format!("weightinit: {reason}\n"));
}

#[test]
fn bad_input_gets_one_line_and_exit_code_2() {
    let dir = tempdir();
    let d = dir.path();
    gen_file(d, "m.npz", &["--layers", "784-256-10", "--seed", "21"]);
    std::fs::write(d.join("notes.npy"), "not a tensor\n").unwrap();
    std::fs::write(d.join("notes.txt"), "not a tensor\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["verify", "missing.npy", "--scheme", "he-normal"],
            "'missing.npy': cannot open",
        ),
        (
            &["verify", "m.npz", "--scheme", "he-normall"],
            "unknown scheme 'he-normall' (did you mean 'he-normal'?)",
        ),
        (
            &["verify", "notes.npy", "--scheme", "he-normal"],
            "'notes.npy': not an .npy file",
        ),
        (
            &["verify", "notes.txt", "--scheme", "he-normal"],
            "expected a .npy, .npz or .safetensors file",
        ),
        (
            &[
                "verify",
                "m.npz",
                "--scheme",
                "he-normal",
                "--tensor",
                "fc0.weigth",
            ],
            "no tensor 'fc0.weigth' (did you mean 'fc0.weight'?); the file holds: fc0.weight, fc0.bias",
        ),
        (
            &["verify", "m.npz", "--scheme", "constant"],
            "needs a value",
        ),
        (
            &[
                "verify",
                "m.npz",
                "--scheme",
                "orthogonal",
                "--layout",
                "xy",
            ],
            "invalid value 'xy'",
        ),
        (&["verify", "m.npz"], "--scheme"),
    ];
    for (args, needle) in cases {
        assert_usage_error(d, args, needle);
    }
    // A file with only biases has nothing a fan-based scheme can check.
    gen_file(d, "b.npy", &["--scheme", "zeros", "--shape", "10"]);
    assert_usage_error(
        d,
        &["verify", "b.npy", "--scheme", "he-normal"],
        "nothing to check against he-normal: every tensor was skipped (b: scheme 'he-normal' cannot initialize shape 10",
    );
}

/// The parameters of issue 16 round-trip through a file: a depthwise convolution drawn
/// with `groups` passes its scheme and fails PyTorch's ungrouped fans (he-normal's
/// fan-out mode: 64 times the variance apart); GPT-2's scaled residual projection passes
/// `depth=12` and fails the unscaled std; σ-unit truncation passes its bounds and fails
/// wider absolute ones.
#[test]
fn groups_depth_and_sigma_bounds_pass_their_own_files_and_fail_neighbours() {
    let dir = tempdir();
    let d = dir.path();
    let depthwise = "he-normal:mode=fan-out,groups=256";
    gen_file(
        d,
        "dw.npy",
        &[
            "--scheme",
            depthwise,
            "--shape",
            "256x1x5x5",
            "--layout",
            "oi",
            "--seed",
            "1",
        ],
    );
    assert_passes(d, "dw.npy", depthwise, &["--layout", "oi"]);
    assert_fails(d, "dw.npy", "he-normal:mode=fan-out", &["--layout", "oi"]);

    let proj = "normal:std=0.02,depth=12";
    gen_file(
        d,
        "proj.npy",
        &["--scheme", proj, "--shape", "768x768", "--seed", "2"],
    );
    assert_passes(d, "proj.npy", proj, &[]);
    assert_fails(d, "proj.npy", "normal:std=0.02", &[]);

    let narrow = "truncated-normal:std=0.02,sigma-low=-1,sigma-high=1";
    gen_file(
        d,
        "t.npy",
        &["--scheme", narrow, "--shape", "300x300", "--seed", "3"],
    );
    assert_passes(d, "t.npy", narrow, &[]);
    assert_fails(d, "t.npy", "truncated-normal:std=0.02", &[]);
}

/// A Dirac kernel passes its own scheme in either layout and fails another grouping.
#[test]
fn dirac_files_pass_dirac_and_fail_another_grouping() {
    let dir = tempdir();
    let d = dir.path();
    gen_file(
        d,
        "oi.npy",
        &[
            "--scheme",
            "dirac:groups=2",
            "--shape",
            "16x8x3x3",
            "--layout",
            "oi",
        ],
    );
    assert_passes(d, "oi.npy", "dirac:groups=2", &["--layout", "oi"]);
    let (_, reason) = assert_fails(d, "oi.npy", "dirac", &["--layout", "oi"]);
    assert!(reason.contains("where 0 is expected"), "{reason}");
    gen_file(
        d,
        "io.npy",
        &["--scheme", "dirac:gain=0.5", "--shape", "3x3x8x16"],
    );
    assert_passes(d, "io.npy", "dirac:gain=0.5", &[]);
    assert_fails(d, "io.npy", "dirac", &[]);
}

/// A delta-orthogonal kernel passes its scheme; a wrong gain, a tap moved off the centre
/// and a plain orthogonal reading of the same values all fail.
#[test]
fn delta_orthogonal_passes_itself_and_fails_wrong_gain_and_stray_taps() {
    let dir = tempdir();
    let d = dir.path();
    gen_file(
        d,
        "k.npy",
        &[
            "--scheme",
            "delta-orthogonal",
            "--shape",
            "3x3x32x64",
            "--seed",
            "4",
        ],
    );
    assert_passes(d, "k.npy", "delta-orthogonal", &[]);
    let (_, reason) = assert_fails(d, "k.npy", "delta-orthogonal:gain=2", &[]);
    assert!(reason.contains("centre tap"), "{reason}");
    assert_fails(d, "k.npy", "orthogonal", &[]);
    // One value at the corner tap (0, 0, 0, 0), which must be zero.
    edit_f32_npy(&d.join("k.npy"), |i, x| if i == 0 { 0.25 } else { x });
    let (_, reason) = assert_fails(d, "k.npy", "delta-orthogonal", &[]);
    assert!(reason.contains("element 0 is 0.25"), "{reason}");
}

/// A sparse file passes its scheme and fails another sparsity, another std and the other
/// layout (whose input units are the other axis).
#[test]
fn sparse_files_pass_their_scheme_and_fail_neighbours() {
    let dir = tempdir();
    let d = dir.path();
    let scheme = "sparse:std=0.02,sparsity=0.75";
    gen_file(
        d,
        "s.npy",
        &["--scheme", scheme, "--shape", "256x300", "--seed", "8"],
    );
    assert_passes(d, "s.npy", scheme, &[]);
    assert_fails(d, "s.npy", "sparse:std=0.02,sparsity=0.5", &[]);
    assert_fails(d, "s.npy", "sparse:std=0.01,sparsity=0.75", &[]);
    assert_fails(d, "s.npy", scheme, &["--layout", "oi"]);
    assert_fails(d, "s.npy", "normal:std=0.02", &[]);
}

/// Per-gate orthogonal weights (`blocks=4`, an LSTM's 4·hidden outputs) pass with the
/// blocks, in either layout, and fail as one orthogonal matrix (which they are not).
#[test]
fn orthogonal_blocks_pass_per_block_and_fail_as_one_matrix() {
    let dir = tempdir();
    let d = dir.path();
    gen_file(
        d,
        "oi.npy",
        &[
            "--scheme",
            "orthogonal:blocks=4",
            "--shape",
            "256x48",
            "--layout",
            "oi",
        ],
    );
    assert_passes(d, "oi.npy", "orthogonal:blocks=4", &["--layout", "oi"]);
    let (_, reason) = assert_fails(d, "oi.npy", "orthogonal", &["--layout", "oi"]);
    assert!(reason.contains("256x48 view"), "{reason}");
    gen_file(
        d,
        "io.npy",
        &["--scheme", "orthogonal:blocks=3", "--shape", "40x120"],
    );
    assert_passes(d, "io.npy", "orthogonal:blocks=3", &[]);
    assert_fails(d, "io.npy", "orthogonal:blocks=4", &[]);
}

/// `lstm-bias`: hidden 3 gives 12 values, gates i, f, g, o in PyTorch's order (bias_ih =
/// b_ii | b_if | b_ig | b_io, its nn.LSTM documentation) and i, f, c, o in Keras' (its
/// `unit_forget_bias` sets the second quarter to 1): values 3..6 hold the forget bias.
#[test]
fn lstm_bias_sets_the_second_quarter() {
    let dir = tempdir();
    let d = dir.path();
    let out = run(
        d,
        &[
            "gen",
            "--scheme",
            "lstm-bias:forget=1.5",
            "--shape",
            "12",
            "-o",
            "-",
            "--format",
            "json",
            "--report",
            "none",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let data: Vec<f64> = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(
        data,
        [0.0, 0.0, 0.0, 1.5, 1.5, 1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    );
    gen_file(d, "b.npy", &["--scheme", "lstm-bias", "--shape", "512"]);
    assert_passes(d, "b.npy", "lstm-bias", &[]);
    assert_fails(d, "b.npy", "zeros", &[]);
    assert_fails(d, "b.npy", "lstm-bias:forget=2", &[]);
}
