//! A long value in bad input (a 300-dimension shape, a 400-character scheme, seed or
//! path) is shortened where the error quotes it, so the line still says what is wrong
//! and what is accepted: the reason is never the part that gets cut.

use std::process::Output;

use crate::common::cli::BIN;

fn run(args: &[&str]) -> Output {
    std::process::Command::new(BIN)
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the binary runs")
}

/// Exit code 2, one line of at most 300 characters after the prefix, ending with
/// `reason`, quoting the value shortened with its count of characters left out.
fn assert_reason_survives(out: &Output, left_out: &str, reason: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let line = err.trim_end();
    let body = line.strip_prefix("weightinit: error: ").expect(line);
    assert!(
        body.chars().count() <= 300,
        "{} characters: {line}",
        body.chars().count()
    );
    assert!(
        line.contains(&format!("… ({left_out} more characters)'")),
        "{line}"
    );
    assert!(line.ends_with(reason), "the reason is cut: {line}");
    assert!(!line.contains("panicked"), "{line}");
}

#[test]
fn a_shape_of_300_dimensions_keeps_its_reason() {
    let shape = vec!["1"; 300].join("x");
    let out = run(&["gen", "--scheme", "he-normal", "--shape", &shape]);
    assert_reason_survives(&out, "539", "': at most 8 dimensions are supported");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("weightinit: error: invalid shape '1x1x1x"),
        "{err}"
    );
}

#[test]
fn long_schemes_seeds_and_widths_keep_their_reasons() {
    let long = "q".repeat(400);
    let out = run(&["gen", "--scheme", &long, "--shape", "3x3"]);
    assert_reason_survives(&out, "340", "; `weightinit schemes` lists them all");

    let out = run(&[
        "gen",
        "--scheme",
        &format!("normal:{long}=1"),
        "--shape",
        "3x3",
    ]);
    assert_reason_survives(&out, "370", "out-axes, mult, dt-min, dt-max, dt-floor");

    let seed = "9".repeat(400);
    let out = run(&[
        "gen",
        "--scheme",
        "he-normal",
        "--shape",
        "3x3",
        "--seed",
        &seed,
    ]);
    assert_reason_survives(
        &out,
        "340",
        "': expected a whole number from 0 to 18446744073709551615",
    );

    let widths = format!("{}-3", "7".repeat(400));
    let out = run(&["probe", "--layers", &widths]);
    assert_reason_survives(&out, "340", "512x3 repeats one)");
}

#[test]
fn a_long_path_keeps_its_end_and_the_reason() {
    let dir = std::env::temp_dir().join("d".repeat(200));
    let target = dir.join("w.npy");
    let out = std::process::Command::new(BIN)
        .args(["gen", "--scheme", "he-normal", "--shape", "3x3", "-o"])
        .arg(&target)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("more characters) …ddd"), "{err}");
    assert!(
        err.trim_end()
            .ends_with("ddd' does not exist; create it first"),
        "{err}"
    );
}
