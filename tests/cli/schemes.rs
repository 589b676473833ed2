//! Schemes through the binary: the `schemes` listing, layouts and fans, dtypes, inline
//! parameters, gains from nonlinearities, and what the report says of constants.

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
    // (layout, shape, fan_in, fan_out) from the README's Layout section.
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
    // Every listed name and alias is accepted by `gen` (a conv kernel for the
    // convolution-only schemes).
    let conv_only = [
        "dirac",
        "dirac_",
        "delta",
        "delta-orthogonal",
        "delta_orthogonal",
        "conv-delta-orthogonal",
    ];
    for name in &all {
        let shape = if conv_only.contains(&name.as_str()) {
            "3x4x6"
        } else if ["lstm-bias", "unit-forget-bias", "forget-bias"].contains(&name.as_str()) {
            "8"
        } else {
            "6x4"
        };
        let mut args = vec![
            "gen", "--scheme", name, "--shape", shape, "--seed", "1", "-o", "-", "--format",
            "json", "--report", "none",
        ];
        if name.starts_with("const") {
            args.extend(["--value", "0.5"]);
        }
        if name.starts_with("sparse") {
            args.extend(["--sparsity", "0.5"]);
        }
        let out = run(dir.path(), &args);
        assert!(
            out.status.success(),
            "gen --scheme {name}: {}",
            stderr(&out)
        );
    }
}

fn read_f64(path: &Path) -> ArrayD<f64> {
    let header = npy_header(path);
    assert!(header.contains("'descr': '<f8'"), "not f64: {header}");
    ndarray_npy::read_npy(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------
// the state-space laws (Mamba's A_log and dt bias)
// ---------------------------------------------------------------------------------------

/// `schemes` lists both with their formula and source; `gen` draws them with flags or
/// inline parameters, and `verify` accepts what it wrote (A_log compared exactly).
#[test]
fn state_space_schemes_are_listed_drawn_and_verified() {
    let dir = tempdir();
    let text = stdout(&run_ok(dir.path(), &["schemes"]));
    for needle in [
        "s4d-real-log",
        "mamba-dt-bias",
        "ln(n + 1)",
        "inverse softplus",
    ] {
        assert!(text.contains(needle), "`schemes` lacks {needle}");
    }
    run_ok(
        dir.path(),
        &argv("gen --scheme s4d-real-log --shape 64x16 --dtype bf16 --seed 2 -o a.safetensors"),
    );
    let out = run_ok(
        dir.path(),
        &argv("verify --scheme s4d-real-log a.safetensors"),
    );
    assert!(stdout(&out).contains("exactly"), "{}", stdout(&out));
    run_ok(
        dir.path(),
        &argv(
            "gen --scheme mamba-dt-bias --dt-min 0.002 --dt-max 0.2 --dt-floor 0.005 --shape 50000 --seed 2 -o dt.safetensors",
        ),
    );
    run_ok(
        dir.path(),
        &argv(
            "verify --scheme mamba-dt-bias:dt-min=0.002,dt-max=0.2,dt-floor=0.005 dt.safetensors",
        ),
    );
    // The default law is another one: verify says so.
    let out = run(
        dir.path(),
        &argv("verify --scheme mamba-dt-bias dt.safetensors"),
    );
    assert!(!out.status.success());
}

bad_input!(dt_min_above_dt_max: "gen --scheme mamba-dt-bias:dt-min=0.5,dt-max=0.1 --shape 8 -o -" => 2, ["dt-min < dt-max", "dt-min=0.5", "dt-max=0.1"]);
bad_input!(dt_floor_negative: "gen --scheme mamba-dt-bias:dt-floor=-1 --shape 8 -o -" => 2, ["dt-floor", "got -1"]);
bad_input!(dt_min_zero: "gen --scheme mamba-dt-bias:min=0 --shape 8 -o -" => 2, ["dt-min", "got 0"]);
bad_input!(dt_bias_under_torch: "gen --scheme mamba-dt-bias --rng torch --shape 8 -o -" => 2, ["PyTorch has no mamba-dt-bias", "--rng native"]);
bad_input!(a_log_under_numpy: "gen --scheme s4d-real-log --rng numpy --shape 8x4 -o -" => 2, ["NumPy has no s4d-real-log", "--rng native"]);
bad_input!(a_log_under_keras: "gen --scheme s4d-real-log --rng keras --shape 8x4 -o -" => 2, ["s4d-real-log", "--rng"]);
