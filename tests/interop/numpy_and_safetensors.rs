//! Interop with NumPy: the binary writes the same tensors as .npy and as JSON, and
//! `tests/interop/check_numpy.py` loads both with NumPy and Python's `json` and checks
//! shape, dtype, bit-for-bit equality and the metadata (see that script's docstring).
//!
//! Python is found by `tests/common/python.rs`: without an importable NumPy these tests
//! fail under `CI=true` (CI must provide NumPy: `.ci/run` does) and otherwise print a
//! visible skip line and pass.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_weightinit");

/// One tensor to write in both formats.
struct Case {
    scheme: &'static str,
    shape: &'static str,
    dtype: &'static str,
    layout: &'static str,
    seed: u64,
    /// Expected fans under the layout (None for 1-D shapes), from the README's Layout section (fan_in = in × receptive field, fan_out = out × receptive field).
    fans: Option<(u64, u64)>,
    extra: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        scheme: "he-normal",
        shape: "300x40",
        dtype: "f16",
        layout: "io",
        seed: 17,
        fans: Some((300, 40)),
        extra: &[],
    },
    Case {
        scheme: "he-normal",
        shape: "784x128",
        dtype: "f32",
        layout: "io",
        seed: 11,
        fans: Some((784, 128)),
        extra: &[],
    },
    Case {
        scheme: "xavier-uniform",
        shape: "64x32",
        dtype: "f64",
        layout: "io",
        seed: 12,
        fans: Some((64, 32)),
        extra: &[],
    },
    Case {
        scheme: "lecun-normal",
        shape: "3x3x16x32",
        dtype: "f32",
        layout: "io",
        seed: 13,
        fans: Some((144, 288)),
        extra: &[],
    },
    Case {
        scheme: "he-uniform",
        shape: "8x4x3x3",
        dtype: "f64",
        layout: "oi",
        seed: 14,
        fans: Some((36, 72)),
        extra: &[],
    },
    Case {
        scheme: "orthogonal",
        shape: "32x48",
        dtype: "f64",
        layout: "io",
        seed: 15,
        fans: Some((32, 48)),
        extra: &[],
    },
    Case {
        scheme: "orthogonal",
        shape: "3x3x8x16",
        dtype: "f32",
        layout: "io",
        seed: 16,
        fans: Some((72, 144)),
        extra: &[],
    },
    Case {
        scheme: "truncated-normal",
        shape: "2x3x4x5",
        dtype: "f64",
        layout: "io",
        seed: 17,
        fans: Some((24, 30)),
        extra: &[],
    },
    Case {
        scheme: "variance-scaling:scale=2,mode=fan-avg",
        shape: "5x7",
        dtype: "f32",
        layout: "io",
        seed: 18,
        fans: Some((5, 7)),
        extra: &[],
    },
    Case {
        scheme: "normal:std=0.02",
        shape: "100",
        dtype: "f32",
        layout: "io",
        seed: 19,
        fans: None,
        extra: &[],
    },
    Case {
        scheme: "uniform:low=-0.1,high=0.1",
        shape: "7",
        dtype: "f64",
        layout: "io",
        seed: u64::MAX,
        fans: None,
        extra: &[],
    },
    Case {
        scheme: "identity",
        shape: "4x6",
        dtype: "f32",
        layout: "io",
        seed: 0,
        fans: Some((4, 6)),
        extra: &["--gain", "0.1"],
    },
    // Signed zero and an f32 subnormal must survive the JSON text.
    Case {
        scheme: "constant",
        shape: "3",
        dtype: "f64",
        layout: "io",
        seed: 20,
        fans: None,
        extra: &["--value=-0"],
    },
    Case {
        scheme: "constant",
        shape: "2x2",
        dtype: "f32",
        layout: "io",
        seed: 21,
        fans: Some((2, 2)),
        extra: &["--value", "1e-40"],
    },
];

fn generate(dir: &Path, case: &Case, file: &str) {
    let seed = case.seed.to_string();
    let mut args = vec![
        "gen",
        "--scheme",
        case.scheme,
        "--shape",
        case.shape,
        "--dtype",
        case.dtype,
        "--layout",
        case.layout,
        "--seed",
        &seed,
        "--report",
        "none",
        "-o",
        file,
    ];
    args.extend(case.extra);
    let out = Command::new(BIN)
        .current_dir(dir)
        .args(&args)
        .output()
        .expect("binary runs");
    assert!(
        out.status.success(),
        "weightinit {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn numpy_loads_npy_and_json_with_identical_values() {
    let Some(python) = crate::common::python::require(
        "numpy_loads_npy_and_json_with_identical_values",
        &["numpy"],
    ) else {
        return;
    };

    let dir = tempfile::tempdir().expect("temp dir");
    let mut cases = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let npy = format!("t{i}.npy");
        let json_file = format!("t{i}.json");
        generate(dir.path(), case, &npy);
        generate(dir.path(), case, &json_file);
        let shape: Vec<u64> = case.shape.split('x').map(|d| d.parse().unwrap()).collect();
        let (fan_in, fan_out) = match case.fans {
            Some((i, o)) => (json!(i), json!(o)),
            None => (Value::Null, Value::Null),
        };
        cases.push(json!({
            "npy": dir.path().join(&npy),
            "json": dir.path().join(&json_file),
            "shape": shape,
            "dtype": case.dtype,
            "seed": case.seed,
            "fan_in": fan_in,
            "fan_out": fan_out,
        }));
    }
    let cases_path = dir.path().join("cases.json");
    std::fs::write(&cases_path, serde_json::to_vec_pretty(&cases).unwrap()).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/check_numpy.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&cases_path)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "check_numpy.py failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status.code()
    );
    let ok_lines = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(
        ok_lines,
        CASES.len(),
        "every case must be checked:\n{stdout}"
    );
}

/// `--rng numpy` against the NumPy installed here, live: each run's JSON report gives,
/// per tensor, the NumPy code it equals; tests/interop/check_numpy_mode.py executes that
/// code with `rng = np.random.default_rng(seed)` and compares with the written file.
#[test]
fn numpy_mode_equals_live_numpy() {
    let Some(python) = crate::common::python::require("numpy_mode_equals_live_numpy", &["numpy"])
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let runs: &[(&str, u64, &[&str], &[&str])] = &[
        // A two-tensor run: one generator, drawn in order.
        ("he-normal", 42, &["784x128", "128x10"], &[]),
        ("xavier-uniform", 7, &["300x200"], &["--dtype", "f64"]),
        ("lecun-normal", u64::MAX, &["3x3x16x32"], &[]),
        ("normal:mean=0.5,std=0.02", 1, &["1000"], &[]),
        ("he-uniform", 0, &["64x3x3x3"], &["--layout", "oi"]),
        ("orthogonal", 3, &["64x200"], &[]),
    ];
    let mut documents = Vec::new();
    let mut expected_ok = 0;
    for (k, (scheme, seed, shapes, extra)) in runs.iter().enumerate() {
        let out_dir = dir.path().join(format!("run{k}"));
        let mut cmd = Command::new(BIN);
        cmd.args(["gen", "--rng", "numpy", "--scheme", scheme, "--seed"])
            .arg(seed.to_string())
            .args(["--report", "json", "-o"])
            .arg(format!("{}/", out_dir.display()));
        for shape in *shapes {
            cmd.args(["--shape", shape]);
        }
        cmd.args(*extra);
        let out = cmd.output().expect("weightinit runs");
        assert!(
            out.status.success(),
            "{scheme}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        let tensors: Vec<Value> = report["tensors"]
            .as_array()
            .expect("tensors")
            .iter()
            .map(|t| {
                json!({
                    "output": t["output"],
                    "equivalent": t["equivalent"],
                    "scheme": t["scheme"],
                })
            })
            .collect();
        expected_ok += tensors.len();
        documents.push(json!({ "seed": seed, "tensors": tensors }));
    }
    let runs_path = dir.path().join("runs.json");
    std::fs::write(&runs_path, serde_json::to_vec_pretty(&documents).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/check_numpy_mode.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(&runs_path)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check_numpy_mode.py failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        expected_ok,
        "{stdout}"
    );
}

/// NumPy loads the .npz and the `safetensors` package the .safetensors that a
/// `--layers` run writes, equal to the .npy files of a directory run (f32 and f64).
/// Without the safetensors package the second half is skipped, except under CI.
#[test]
fn numpy_and_safetensors_load_container_files() {
    let Some(python) =
        crate::common::python::require("numpy_and_safetensors_load_container_files", &["numpy"])
    else {
        return;
    };
    for dtype in ["f32", "f64"] {
        let dir = tempfile::tempdir().expect("temp dir");
        for out in ["model.npz", "model.safetensors", "files/"] {
            let status = Command::new(BIN)
                .args([
                    "gen",
                    "--layers",
                    "20-16x2-3",
                    "--activation",
                    "tanh",
                    "--seed",
                    "4",
                ])
                .args([
                    "--bias",
                    "normal:std=0.1",
                    "--dtype",
                    dtype,
                    "--report",
                    "none",
                    "-o",
                ])
                .arg(dir.path().join(out))
                .status()
                .expect("weightinit runs");
            assert!(status.success(), "{out}");
        }
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/check_containers.py");
        let out = Command::new(&python)
            .arg(&script)
            .arg(dir.path())
            .output()
            .expect("python runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stdout.contains("ok npz 6"), "{dtype}: {stdout}{stderr}");
        if out.status.code() == Some(3) {
            assert!(
                !crate::common::python::in_ci(),
                "CI is set, so the safetensors package is required: {stdout}"
            );
            let _ = writeln!(std::io::stderr(), "SKIPPED safetensors half: {stdout}");
            continue;
        }
        assert!(
            out.status.success() && stdout.contains("ok safetensors 6"),
            "{dtype}: {stdout}{stderr}"
        );
    }
}

/// `weightinit probe` recomputed by NumPy from the same weights, input and output
/// gradient, which `gen` writes (tests/interop/check_probe.py has the reference), for
/// every activation.
#[test]
fn numpy_recomputes_the_probe() {
    let Some(python) = crate::common::python::require("numpy_recomputes_the_probe", &["numpy"])
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/check_probe.py");
    let (layers, batch, seed) = ("24-32x4-6", "40", "77");
    let bin = |args: &[&str]| {
        let out = Command::new(BIN)
            .current_dir(d)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let shape_in = format!("{batch}x24");
    let shape_out = format!("{batch}x6");
    for (name, shape) in [
        ("probe.input", &shape_in),
        ("probe.output-gradient", &shape_out),
    ] {
        bin(&[
            "gen",
            "--scheme",
            "normal",
            "--dtype",
            "f64",
            "--name",
            name,
            "--shape",
            shape,
            "--seed",
            seed,
            "-o",
            &format!("{name}.npy"),
            "--report",
            "none",
        ]);
    }
    for (activation, scheme) in [
        ("relu", "he-normal"),
        ("leaky-relu", "he-uniform"),
        ("tanh", "xavier-normal"),
        ("sigmoid", "xavier-uniform"),
        ("selu", "lecun-normal"),
        ("gelu", "orthogonal"),
        ("linear", "zeros"),
    ] {
        bin(&[
            "gen", "--layers", layers, "--scheme", scheme, "--bias", "none", "--seed", seed, "-o",
            "w.npz", "--force", "--report", "none",
        ]);
        let json = bin(&[
            "probe",
            "--layers",
            layers,
            "--activation",
            activation,
            "--scheme",
            scheme,
            "--batch",
            batch,
            "--seed",
            seed,
            "--json",
        ]);
        std::fs::write(d.join("probe.json"), json).unwrap();
        let out = Command::new(&python)
            .arg(&script)
            .args([
                "w.npz",
                "probe.input.npy",
                "probe.output-gradient.npy",
                "probe.json",
            ])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{activation} / {scheme}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
