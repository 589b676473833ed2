//! Bad input through the binary: one line on stderr naming the bad value, exit code 2
//! (1 for failures while running), nothing left on disk, an existing file kept without
//! --force.

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
// bad input: one line, the bad value named, exit 2 (1 for runtime failures), no panic,
// nothing left on disk
// ---------------------------------------------------------------------------------------

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
bad_input!(bad_truncated_window_too_far_for_f32:
    "gen --scheme truncated-normal --low 12 --high 13 --shape 4x3" => 2,
    ["2^-90", "--dtype f64"]);
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
