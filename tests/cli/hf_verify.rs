//! Every tensor `gen --hf-config` writes passes `verify` against the law its plan reports,
//! for each case of every family's fixture (tests/fixtures/hf/*.json): the file, read
//! back, looks drawn from the law the dry run and the metadata name — normal and
//! truncated laws by moments and KS, uniform bounds, constants and the state-space
//! tables exactly.

use serde_json::Value;

use crate::common::cli::*;

#[test]
fn every_tensor_of_every_family_verifies() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hf");
    let mut paths: Vec<_> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 17, "{} families", paths.len());
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in paths {
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for (k, case) in fixture["cases"].as_array().unwrap().iter().enumerate() {
            let dir = tempdir();
            std::fs::write(dir.path().join("config.json"), case["config"].to_string()).unwrap();
            let plan: Value = serde_json::from_str(&run_stdout(
                dir.path(),
                &argv("gen --hf-config config.json --dry-run --report json -o planned/"),
            ))
            .unwrap();
            run_ok(
                dir.path(),
                &argv("gen --hf-config config.json --seed 5 -o m/"),
            );
            let files: Vec<String> = listing(&dir.path().join("m"))
                .into_iter()
                .filter(|f| f.ends_with(".safetensors"))
                .collect();
            assert_eq!(files.len(), 1, "{}", path.display());
            for t in plan["tensors"].as_array().unwrap() {
                let name = t["name"].as_str().unwrap();
                let scheme = t["scheme"].as_str().unwrap();
                let file = format!("m/{}", files[0]);
                let out = run(
                    dir.path(),
                    &[
                        "verify", &file, "--tensor", name, "--scheme", scheme, "--layout", "oi",
                    ],
                );
                checked += 1;
                if out.status.code() != Some(0) {
                    failures.push(format!(
                        "{} case {k} {name} ({scheme}): {}{}",
                        path.file_stem().unwrap().to_string_lossy(),
                        stdout(&out),
                        stderr(&out)
                    ));
                }
            }
        }
    }
    assert!(checked > 500, "{checked} tensors");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
