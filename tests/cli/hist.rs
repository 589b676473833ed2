//! `weightinit hist` through the binary: the terminal histogram with the scheme's density,
//! chart images, and its refusals.

use std::path::Path;

use crate::common::cli::run_stdout as ok;

/// Exit code 2 and one stderr line containing every `needle`.
fn usage_error(dir: &Path, args: &[&str], needles: &[&str]) {
    crate::common::cli::assert_bad_in(dir, args, 2, needles);
}

#[test]
fn hist_shows_the_density_and_draws_images() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        d,
        &[
            "gen", "--layers", "50-40-10", "--seed", "3", "-o", "m.npz", "--report", "none",
        ],
    );
    usage_error(d, &["hist", "m.npz"], &["m.npz", "fc0.weight", "--tensor"]);
    let text = ok(
        d,
        &[
            "hist",
            "m.npz",
            "--tensor",
            "fc0.weight",
            "--scheme",
            "he-normal",
            "--bins",
            "9",
            "--plot",
            "h.png",
        ],
    );
    assert!(text.contains("n = 2000"), "{text}");
    assert!(text.contains("he-normal"), "{text}");
    // 9 bin rows, each "[a, b)"-labelled.
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with('['))
            .count(),
        9,
        "{text}"
    );
    assert!(
        std::fs::read(d.join("h.png"))
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n")
    );
    // Without --scheme: a fitted normal.
    let text = ok(d, &["hist", "m.npz", "--tensor", "fc0.weight"]);
    assert!(text.contains("normal fit"), "{text}");
    usage_error(
        d,
        &["hist", "m.npz", "--tensor", "fc9.weight"],
        &["fc9.weight"],
    );
    usage_error(
        d,
        &["hist", "m.npz", "--tensor", "fc0.weight", "--bins", "0"],
        &["--bins 0"],
    );
}
