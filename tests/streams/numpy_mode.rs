//! `--rng numpy` against values NumPy itself drew: tests/fixtures/numpy_reference.json,
//! written by tests/fixtures/make_fixtures.py (NumPy needed only to regenerate it).
//!
//! Exactness is the claim: every elementwise case must match NumPy's array byte for byte
//! (first and last value, SHA-256 of the whole array); orthogonal goes through a
//! different QR than LAPACK's, and must agree to 1e-6.

use crate::common::tensors::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::compat::numpy::generator::Pcg64;
use weightinit::compat::numpy::kernels as numpy;
use weightinit::law::Distribution;
use weightinit::pipeline::generate::{Session, draw_array};
use weightinit::tensor::rng::RngMode;

const FIXTURE: &str = "tests/fixtures/numpy_reference.json";

fn fixture() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"));
    serde_json::from_str(&text).expect("fixture JSON")
}

fn sha256_le<T: Copy>(values: &[T], to_le: impl Fn(T) -> Vec<u8>) -> String {
    let mut hasher = Sha256::new();
    for &v in values {
        hasher.update(to_le(v));
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sha_f32(values: &[f32]) -> String {
    sha256_le(values, |v| v.to_le_bytes().to_vec())
}

fn sha_f64(values: &[f64]) -> String {
    sha256_le(values, |v| v.to_le_bytes().to_vec())
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Compares a drawn array's first, last and hash with a fixture record.
fn check(
    record: &Value,
    label: &str,
    first: f64,
    last: f64,
    sha: &str,
    failures: &mut Vec<String>,
) {
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
    if !same(first, num(record, "first")) || !same(last, num(record, "last")) {
        failures.push(format!(
            "{label}: first/last {first:e}/{last:e}, NumPy {}/{}",
            record["first"], record["last"]
        ));
    } else if record["sha256"].as_str() != Some(sha) {
        failures.push(format!("{label}: same ends but different bytes"));
    }
}

#[test]
fn elementwise_draws_equal_numpy_bit_for_bit() {
    let doc = fixture();
    let records = doc["elementwise"].as_array().expect("elementwise");
    assert!(records.len() >= 200, "fixture lost its cases");
    let mut failures = Vec::new();
    for r in records {
        let seed = r["seed"].as_u64().expect("seed");
        let size = r["size"].as_u64().expect("size") as usize;
        let law = r["law"].as_str().expect("law");
        let distribution = match law {
            "normal" => Distribution::Normal {
                mean: num(r, "mean"),
                std: num(r, "std"),
            },
            "uniform" => Distribution::Uniform {
                low: num(r, "low"),
                high: num(r, "high"),
            },
            other => panic!("unknown law {other}"),
        };
        let label = format!("seed {seed} size {size} {distribution:?} {}", r["dtype"]);
        let mut rng = Pcg64::new(seed);
        match r["dtype"].as_str() {
            Some("f32") => {
                let mut out = vec![0f32; size];
                numpy::fill(&mut rng, &distribution, &mut out);
                let (first, last) = (f64::from(out[0]), f64::from(out[size - 1]));
                check(r, &label, first, last, &sha_f32(&out), &mut failures);
            }
            Some("f64") => {
                let mut out = vec![0f64; size];
                numpy::fill(&mut rng, &distribution, &mut out);
                check(
                    r,
                    &label,
                    out[0],
                    out[size - 1],
                    &sha_f64(&out),
                    &mut failures,
                );
            }
            other => panic!("dtype {other:?}"),
        }
    }
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Whole schemes through the library, resolved exactly as the CLI does, including a run
/// of three tensors that share one generator in order.
#[test]
fn schemes_equal_numpy_expressions() {
    let doc = fixture();
    let mut failures = Vec::new();
    for case in doc["schemes"].as_array().expect("schemes") {
        let seed = case["seed"].as_u64().expect("seed");
        let mut session = Session::new();
        for (k, t) in case["tensors"]
            .as_array()
            .expect("tensors")
            .iter()
            .enumerate()
        {
            let scheme = t["scheme"].as_str().unwrap();
            let shape = t["shape"].as_str().unwrap();
            let dtype = match t["dtype"].as_str().unwrap() {
                "f32" => DType::F32,
                _ => DType::F64,
            };
            let parsed = scheme.parse().expect("scheme");
            let name = format!("w{k}");
            let tensor = spec_with_rng(
                parsed,
                shape,
                Layout::Io,
                dtype,
                seed,
                &name,
                RngMode::Numpy,
            );
            let label = format!("seed {seed} tensor {k}: {scheme} {shape} {dtype}");
            match dtype {
                DType::F32 => {
                    let (w, _) = session.draw_array::<f32>(&tensor).expect("draw");
                    let w = w.as_slice().unwrap();
                    let ends = (f64::from(w[0]), f64::from(w[w.len() - 1]));
                    check(t, &label, ends.0, ends.1, &sha_f32(w), &mut failures);
                }
                DType::F64 => {
                    let (w, _) = session.draw_array::<f64>(&tensor).expect("draw");
                    let w = w.as_slice().unwrap();
                    check(t, &label, w[0], w[w.len() - 1], &sha_f64(w), &mut failures);
                }
                DType::F16 | DType::Bf16 => unreachable!("fixtures are f32 and f64"),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// NumPy's QR recipe (LAPACK) vs ours (faer) on the same Gaussian draws: the QR rounds
/// differently, so the target is a max difference of 1e-6, not bit equality.
#[test]
fn orthogonal_matches_numpy_recipe_within_1e_6() {
    let doc = fixture();
    for case in doc["orthogonal"].as_array().expect("orthogonal") {
        let (rows, cols) = (
            case["rows"].as_u64().unwrap(),
            case["cols"].as_u64().unwrap(),
        );
        let gain = num(case, "gain");
        let seed = case["seed"].as_u64().unwrap();
        let scheme = format!("orthogonal:gain={gain}").parse().unwrap();
        let tensor = spec_with_rng(
            scheme,
            &format!("{rows}x{cols}"),
            Layout::Io,
            DType::F64,
            seed,
            "q",
            RngMode::Numpy,
        );
        let (w, _) = draw_array::<f64>(&tensor).expect("draw");
        let expected: Vec<f64> = case["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let worst = w
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f64, f64::max);
        assert_eq!(w.len(), expected.len());
        assert!(
            worst <= 1e-6,
            "{rows}x{cols} seed {seed}: max |diff| {worst:e}"
        );
    }
}

/// Schemes with no NumPy counterpart are refused before anything is drawn.
#[test]
fn truncated_normal_is_refused_with_a_reason() {
    let tensor = weightinit::tensor::TensorSpec {
        name: "w".into(),
        shape: "10x10".parse().unwrap(),
        layout: Layout::Io,
        scheme: "truncated-normal".parse().unwrap(),
        dtype: DType::F32,
        seed: 1,
        rng: RngMode::Numpy,
        jax: Default::default(),
    };
    // The library names the stream and says why, as a typed error; the command line
    // words it with its flags.
    let err = tensor.resolve().expect_err("must be refused");
    assert!(
        matches!(
            &err,
            weightinit::Error::Unreproducible {
                why: weightinit::error::Unreproducible::NumpyTruncatedNormal,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("numpy stream") && text.contains("truncated"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = crate::common::cli::run(
        dir.path(),
        &crate::common::cli::argv(
            "gen --rng numpy --seed 1 --scheme truncated-normal --shape 10x10",
        ),
    );
    let line = crate::common::cli::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{line}");
    assert!(
        line.contains("--rng numpy") && line.contains("use --rng native"),
        "{line}"
    );
}
