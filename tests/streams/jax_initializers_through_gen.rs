//! `weightinit gen --rng jax` end to end against what JAX and Flax drew:
//! tests/fixtures/jax_stream_reference.json (written by
//! tests/fixtures/make_jax_stream_fixtures.py with jax 0.10.2 and flax; neither is needed
//! here). The stream's kernels are checked piece by piece in `jax_prng_and_samplers`;
//! this file checks the command line's mapping — scheme names to `jax.nn.initializers`,
//! the key each tensor gets, the flags — bit for bit.

use crate::common::cli::*;
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/jax_stream_reference.json";

fn fixture() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"));
    serde_json::from_str(&text).expect("fixture JSON")
}

/// Each tensor's raw bytes in a .safetensors file, by name.
fn safetensors(path: &std::path::Path) -> std::collections::HashMap<String, Vec<u8>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).expect("header");
    let data = &bytes[8 + n..];
    header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, v)| {
            let at = |i: usize| v["data_offsets"][i].as_u64().unwrap() as usize;
            (k.clone(), data[at(0)..at(1)].to_vec())
        })
        .collect()
}

/// The fixture's record of an array: its raw bytes in hex, or their SHA-256.
fn matches(expected: &Value, bytes: &[u8]) -> bool {
    match expected {
        Value::String(hex) => {
            let ours: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            &ours == hex
        }
        record => record["sha256"].as_str() == Some(sha256_hex(bytes).as_str()),
    }
}

/// The weightinit scheme for one of the fixture's initializer records.
fn scheme_for(record: &Value) -> Option<String> {
    let p = &record["params"];
    let num = |k: &str| p[k].as_f64().unwrap();
    Some(match record["name"].as_str().unwrap() {
        "zeros" => "zeros".into(),
        "ones" => "ones".into(),
        "constant" => format!("constant:value={}", num("value")),
        "uniform" => format!("uniform:low=0,high={}", num("scale")),
        "normal" => format!("normal:std={}", num("stddev")),
        "truncated_normal" => format!(
            "truncated-normal:std={},sigma-low={},sigma-high={}",
            num("stddev"),
            num("lower"),
            num("upper")
        ),
        "variance_scaling" => {
            let mode = p["mode"].as_str().unwrap();
            format!(
                "variance-scaling:scale={},mode={},distribution={}",
                num("scale"),
                mode.replace('_', "-"),
                p["distribution"].as_str().unwrap().replace('_', "-")
            )
        }
        "glorot_uniform" => "xavier-uniform".into(),
        "glorot_normal" => "xavier-normal".into(),
        "he_uniform" => "he-uniform".into(),
        "he_normal" => "he-normal".into(),
        "lecun_uniform" => "lecun-uniform".into(),
        "lecun_normal" => "lecun-normal".into(),
        other => panic!("unknown initializer {other}"),
    })
}

fn dtype_flag(jax_dtype: &str) -> &'static str {
    match jax_dtype {
        "float32" => "f32",
        "float64" => "f64",
        "float16" => "f16",
        "bfloat16" => "bf16",
        other => panic!("dtype {other}"),
    }
}

/// Every initializer record (dense and conv shapes; f32, f64 with x64, f16, bf16; both
/// partitionable modes): `gen --rng jax --scheme NAME` writes JAX's bytes.
#[test]
fn scheme_names_mean_jax_initializers_bit_for_bit() {
    let doc = fixture();
    let dir = tempdir();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (i, record) in doc["initializers"].as_array().unwrap().iter().enumerate() {
        let Some(scheme) = scheme_for(record) else {
            continue;
        };
        let shape: Vec<String> = record["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.to_string())
            .collect();
        let out = format!("t{i}.safetensors");
        let mut args = vec![
            "gen".to_string(),
            "--rng".into(),
            "jax".into(),
            "--seed".into(),
            record["seed"].to_string(),
            "--scheme".into(),
            scheme.clone(),
            "--shape".into(),
            shape.join("x"),
            "--dtype".into(),
            dtype_flag(record["dtype"].as_str().unwrap()).into(),
            "--jax-partitionable".into(),
            record["partitionable"].to_string(),
            "--name".into(),
            "w".into(),
            "-o".into(),
            out.clone(),
            "--report".into(),
            "none".into(),
        ];
        if record["x64"].as_bool().unwrap() {
            args.push("--jax-x64".into());
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        run_ok(dir.path(), &argv);
        let bytes = &safetensors(&dir.path().join(&out))["w"];
        if !matches(&record["values"], bytes) {
            failures.push(format!("{}: {scheme}", argv.join(" ")));
        }
        checked += 1;
    }
    assert!(checked == 384, "{checked} records checked, not all 384");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A Flax linen model's `model.init(jax.random.key(0), x)['params']`: a spec listing
/// the parameters by their Flax paths, in creation order, with `--jax-key flax`, writes
/// the same bytes, in both partitionable modes.
#[test]
fn flax_model_init_bit_for_bit() {
    let doc = fixture();
    for model in doc["flax"].as_array().unwrap() {
        let params = model["params"].as_array().unwrap();
        // Creation order: the top module's own parameter, then each module's in order of
        // their counters.
        let order = [
            "scale",
            "Conv_0/kernel",
            "Conv_0/bias",
            "Dense_0/kernel",
            "Dense_0/bias",
            "Inner_0/Dense_0/kernel",
            "Inner_0/Dense_0/bias",
            "Inner_0/Dense_1/kernel",
            "head/kernel",
            "head/bias",
        ];
        let mut spec = String::from("layout = \"io\"\n");
        for name in order {
            let p = params.iter().find(|p| p["param"] == name).expect(name);
            let scheme = match p["initializer"].as_str().unwrap() {
                "lecun_normal" => "lecun-normal",
                "zeros" => "zeros",
                "normal_0.1" => "normal:std=0.1",
                other => panic!("{other}"),
            };
            spec += &format!(
                "[[tensor]]\nname = \"params/{name}\"\nshape = {}\nscheme = \"{scheme}\"\n",
                p["shape"]
            );
        }
        let dir = tempdir();
        let d = dir.path();
        std::fs::write(d.join("model.toml"), spec).unwrap();
        let partitionable = model["partitionable"].to_string();
        run_ok(
            d,
            &[
                "gen",
                "--spec",
                "model.toml",
                "--rng",
                "jax",
                "--jax-key",
                "flax",
                "--jax-partitionable",
                &partitionable,
                "--seed",
                "0",
                "-o",
                "params.safetensors",
                "--report",
                "none",
            ],
        );
        let tensors = safetensors(&d.join("params.safetensors"));
        for p in params {
            let name = format!("params/{}", p["param"].as_str().unwrap());
            assert!(
                matches(&p["values"], &tensors[&name]),
                "{name} (partitionable {partitionable}) differs from Flax's"
            );
        }
    }
}

/// Several tensors without --jax-key: tensor i of n is drawn with
/// `jax.random.split(jax.random.key(seed), n)[i]`; explicit steps name one key.
#[test]
fn keys_for_several_tensors_and_explicit_steps() {
    let dir = tempdir();
    let d = dir.path();
    let draw = |extra: &[&str], out: &str| {
        let mut args = vec![
            "gen",
            "--rng",
            "jax",
            "--seed",
            "9",
            "--scheme",
            "normal:std=1",
            "--report",
            "none",
            "-o",
            out,
        ];
        args.extend_from_slice(extra);
        run_ok(d, &args);
    };
    draw(
        &[
            "--shape", "8", "--shape", "8", "--shape", "8", "--name", "w0", "--name", "w1",
            "--name", "w2",
        ],
        "three/",
    );
    for i in 0..3 {
        let key = format!("split(3)[{i}]");
        let out = format!("one{i}.npy");
        draw(&["--shape", "8", "--jax-key", &key], &out);
        assert_eq!(
            std::fs::read(d.join(&out)).unwrap(),
            std::fs::read(d.join(format!("three/w{i}.npy"))).unwrap(),
            "tensor {i} of 3"
        );
    }
}

bad_input!(jax_flags_need_jax: "gen --scheme he-normal --shape 4x4 --jax-x64" => 2,
    ["need --rng jax"]);
bad_input!(jax_refuses_schemes_it_lacks: "gen --rng jax --scheme sparse:sparsity=0.5 --shape 4x4" => 2,
    ["sparse", "jax.nn.initializers"]);
bad_input!(jax_orthogonal_needs_the_io_layout:
    "gen --rng jax --scheme orthogonal --layout oi --shape 4x4" => 2,
    ["column_axis=-1", "--layout io"]);
bad_input!(jax_refuses_gains: "gen --rng jax --scheme he-normal:gain=2 --shape 4x4" => 2,
    ["gain", "variance-scaling:scale=S"]);
bad_input!(jax_normal_has_no_mean: "gen --rng jax --scheme normal:mean=1 --shape 4" => 2,
    ["mean 0"]);
bad_input!(one_explicit_key_for_one_tensor:
    "gen --rng jax --scheme normal --shape 4 --shape 4 --jax-key fold_in(3) -o out/" => 2,
    ["names one key"]);
bad_input!(bad_key_steps: "gen --rng jax --scheme normal --shape 4 --jax-key split(2)[5]" => 2,
    ["invalid --jax-key 'split(2)[5]'"]);

/// `orthogonal` and `delta-orthogonal` under --rng jax: JAX's normals bit for bit, then
/// a QR that is faer's where JAX's is LAPACK's, so the float32 values agree to the
/// QR's rounding: within 5e-6, the bound --rng torch's orthogonal test uses (measured:
/// 1.95e-6 at most on these shapes, JAX's float32 QR against ours in f64), and the zeros
/// of delta-orthogonal exactly (tests/fixtures/make_jax_fixtures.py wrote them).
#[test]
fn orthogonal_matches_jax_to_the_qr_rounding() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jax_reference.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let dir = tempdir();
    let mut worst = 0.0f64;
    for (i, case) in doc["orthogonal_values"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let scheme = match case["initializer"].as_str().unwrap() {
            "orthogonal" => format!("orthogonal:gain={}", case["scale"]),
            _ => format!("delta-orthogonal:gain={}", case["scale"]),
        };
        let out = format!("o{i}.npy");
        run_ok(
            dir.path(),
            &[
                "gen",
                "--rng",
                "jax",
                "--scheme",
                &scheme,
                "--shape",
                case["shape"].as_str().unwrap(),
                "--seed",
                &case["seed"].to_string(),
                "--jax-partitionable",
                &case["partitionable"].to_string(),
                "-o",
                &out,
                "--report",
                "none",
            ],
        );
        let ours = read_f32(&dir.path().join(&out));
        let theirs = case["values"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(theirs) {
            let b = b.as_f64().unwrap();
            if b == 0.0 && case["initializer"] == "delta_orthogonal" {
                assert_eq!(*a, 0.0, "{scheme} {}: a zero of JAX's", case["shape"]);
            }
            worst = worst.max((f64::from(*a) - b).abs());
        }
    }
    eprintln!("largest difference from JAX's orthogonal values: {worst:e}");
    assert!(worst <= 5e-6, "largest difference {worst:e}");
}

/// The library: `Init::rng(RngMode::Jax)` with a key path gives the command line's bytes.
#[test]
fn init_draws_the_jax_stream() {
    use weightinit::tensor::rng::{JaxKeyPath, JaxKeyStep, JaxStream, RngMode};
    let dir = tempdir();
    run_ok(
        dir.path(),
        &[
            "gen",
            "--rng",
            "jax",
            "--seed",
            "11",
            "--scheme",
            "he-uniform",
            "--shape",
            "6x4",
            "--jax-key",
            "fold_in(5)",
            "--jax-partitionable",
            "false",
            "-o",
            "w.npy",
            "--report",
            "none",
        ],
    );
    let cli = read_f32(&dir.path().join("w.npy"));
    let lib = weightinit::Init::new("he-uniform", [6, 4])
        .unwrap()
        .seed(11)
        .rng(RngMode::Jax)
        .jax(JaxStream {
            partitionable: false,
            x64: false,
            key: JaxKeyPath::Steps(vec![JaxKeyStep::FoldIn(5)]),
        })
        .draw::<f32>()
        .unwrap();
    assert_eq!(cli.as_slice().unwrap(), lib.as_slice().unwrap());
}

/// `verify --rng jax` reads scheme names as JAX's: gen's own files pass, and the native
/// meaning of the truncated *-normal schemes (or another scheme) fails.
#[test]
fn verify_reads_scheme_names_as_jax_does() {
    let dir = tempdir();
    let d = dir.path();
    for (scheme, shape) in [
        ("he-normal", "1024x512"),
        ("xavier-normal", "3x3x64x128"),
        ("lecun-normal", "1024x512"),
        ("he-normal:mode=fan-out", "512x1024"),
        ("he-uniform", "1024x512"),
        ("truncated-normal:std=0.02", "1024x512"),
    ] {
        run_ok(
            d,
            &[
                "gen", "--rng", "jax", "--seed", "4", "--scheme", scheme, "--shape", shape, "-o",
                "w.npy", "--force", "--report", "none",
            ],
        );
        run_ok(d, &["verify", "w.npy", "--scheme", scheme, "--rng", "jax"]);
        let wrong = if scheme.starts_with("he-uniform") {
            vec!["verify", "w.npy", "--scheme", "he-normal", "--rng", "jax"]
        } else if scheme.starts_with("truncated") {
            vec![
                "verify",
                "w.npy",
                "--scheme",
                "normal:std=0.02",
                "--rng",
                "jax",
            ]
        } else {
            vec!["verify", "w.npy", "--scheme", scheme]
        };
        let out = run(d, &wrong);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{wrong:?} should fail: {}",
            stdout(&out)
        );
    }
}

/// `--shard I/N` works with --rng jax (counter-based: each tensor drawn alone, with the
/// key it has in the whole run): the shards hold the one-file run's bytes.
#[test]
fn jax_shards_equal_the_whole_run() {
    let dir = tempdir();
    let d = dir.path();
    let common = [
        "gen",
        "--rng",
        "jax",
        "--seed",
        "21",
        "--scheme",
        "he-normal",
        "--shape",
        "64x32",
        "--shape",
        "32x16",
        "--shape",
        "16x8",
        "--shape",
        "8x4",
        "--report",
        "none",
    ];
    let mut whole = common.to_vec();
    whole.extend(["-o", "whole.safetensors"]);
    run_ok(d, &whole);
    let mut parts = std::collections::HashMap::new();
    for shard in ["1/2", "2/2"] {
        let mut args = common.to_vec();
        args.extend(["--shard", shard, "-o", "sharded/"]);
        run_ok(d, &args);
    }
    for entry in std::fs::read_dir(d.join("sharded")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "safetensors") {
            parts.extend(safetensors(&path));
        }
    }
    let whole = safetensors(&d.join("whole.safetensors"));
    assert_eq!(parts.len(), 4);
    assert_eq!(parts, whole);
}
