//! `weightinit gen --rng keras` against what Keras 3 drew on the JAX backend:
//! tests/fixtures/keras_reference.json (written by tests/fixtures/make_keras_fixtures.py
//! with keras and jax; neither is needed here).

use crate::common::cli::*;
use serde_json::Value;

fn fixture() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keras_reference.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

/// The data bytes of a .npy file.
fn npy_data(path: &std::path::Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    bytes[header..].to_vec()
}

fn gen_keras(dir: &std::path::Path, scheme: &str, shape: &str, seed: &str, partitionable: &str) {
    run_ok(
        dir,
        &[
            "gen",
            "--rng",
            "keras",
            "--scheme",
            scheme,
            "--shape",
            shape,
            "--seed",
            seed,
            "--jax-partitionable",
            partitionable,
            "-o",
            "w.npy",
            "--force",
            "--report",
            "none",
        ],
    );
}

/// Every Keras initializer record (He, Glorot, LeCun uniform and normal, RandomNormal
/// with a mean, RandomUniform, TruncatedNormal, VarianceScaling in three modes and all
/// three distributions, Constant; seeds 0, 1, 12345 and 2³¹+5; dense and conv shapes;
/// both partitionable modes): the same bytes.
#[test]
fn keras_initializers_bit_for_bit() {
    let doc = fixture();
    let dir = tempdir();
    let mut failures = Vec::new();
    let records = doc["initializers"].as_array().unwrap();
    for r in records {
        let scheme = r["scheme"].as_str().unwrap();
        let shape = r["shape"].as_str().unwrap();
        let seed = r["seed"].to_string();
        gen_keras(
            dir.path(),
            scheme,
            shape,
            &seed,
            &r["partitionable"].to_string(),
        );
        let data = npy_data(&dir.path().join("w.npy"));
        if r["sha256"].as_str() != Some(sha256_hex(&data).as_str()) {
            failures.push(format!("{scheme} {shape} seed {seed}"));
        }
    }
    assert!(records.len() >= 300, "{} records", records.len());
    assert!(
        failures.is_empty(),
        "differ from Keras:\n{}",
        failures.join("\n")
    );
}

/// `keras.layers.Dense(128, kernel_initializer=HeNormal(seed=S))` built on 784 inputs.
#[test]
fn dense_layer_kernel_bit_for_bit() {
    let doc = fixture();
    let dir = tempdir();
    for r in doc["dense"].as_array().unwrap() {
        gen_keras(
            dir.path(),
            "he-normal",
            r["shape"].as_str().unwrap(),
            &r["seed"].to_string(),
            "true",
        );
        let data = npy_data(&dir.path().join("w.npy"));
        assert_eq!(
            r["sha256"].as_str(),
            Some(sha256_hex(&data).as_str()),
            "{}",
            r["layer"]
        );
    }
}

/// `Orthogonal(gain, seed)`: Keras' normals bit for bit, then our QR in f64 where Keras
/// runs JAX's float32 LAPACK one: within 5e-6, as for --rng jax and --rng torch.
#[test]
fn orthogonal_matches_keras_to_the_qr_rounding() {
    let doc = fixture();
    let dir = tempdir();
    let mut worst = 0.0f64;
    for r in doc["orthogonal"].as_array().unwrap() {
        gen_keras(
            dir.path(),
            &format!("orthogonal:gain={}", r["gain"]),
            r["shape"].as_str().unwrap(),
            &r["seed"].to_string(),
            &r["partitionable"].to_string(),
        );
        let ours = read_f32(&dir.path().join("w.npy"));
        for (a, b) in ours.iter().zip(r["values"].as_array().unwrap()) {
            worst = worst.max((f64::from(*a) - b.as_f64().unwrap()).abs());
        }
    }
    eprintln!("largest difference from Keras' orthogonal values: {worst:e}");
    assert!(worst <= 5e-6, "largest difference {worst:e}");
}

bad_input!(keras_seeds_stop_at_2_pow_32:
    "gen --rng keras --scheme he-normal --shape 4x4 --seed 4294967296" => 2,
    ["seed 4294967296", "0 to 4294967295"]);
bad_input!(keras_is_float32: "gen --rng keras --scheme he-normal --shape 4x4 --dtype f64" => 2,
    ["float32"]);
bad_input!(keras_truncation_is_two_sigma:
    "gen --rng keras --scheme truncated-normal:std=1,sigma-low=-3 --shape 4x4" => 2,
    ["mean ± 2 stddev"]);
bad_input!(keras_keys_are_its_own: "gen --rng keras --scheme he-normal --shape 4x4 --jax-key flax" => 2,
    ["--rng keras"]);

/// A spec file's per-tensor `seed`: each tensor as its own Keras initializer seeded so.
#[test]
fn spec_tensors_take_their_own_seeds() {
    let dir = tempdir();
    let d = dir.path();
    std::fs::write(
        d.join("model.toml"),
        "rng = \"keras\"\nscheme = \"he-normal\"\n\
         [[tensor]]\nname = \"a\"\nshape = [16, 8]\nseed = 5\n\
         [[tensor]]\nname = \"b\"\nshape = [16, 8]\nseed = 6\n",
    )
    .unwrap();
    run_ok(
        d,
        &[
            "gen",
            "--spec",
            "model.toml",
            "-o",
            "m/",
            "--report",
            "none",
        ],
    );
    for (name, seed) in [("a", "5"), ("b", "6")] {
        gen_keras(d, "he-normal", "16x8", seed, "true");
        assert_eq!(
            npy_data(&d.join(format!("m/{name}.npy"))),
            npy_data(&d.join("w.npy")),
            "tensor {name}"
        );
    }
}
