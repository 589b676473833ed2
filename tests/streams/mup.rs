//! `--mup-base`: μP against what Microsoft's `mup` package (with PyTorch) initializes,
//! from tests/fixtures/mup_reference.json (written by tests/fixtures/make_mup_fixtures.py;
//! neither package is needed here), plus the laws on the native stream and the refusals.

use crate::common::cli::*;
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/mup_reference.json";

fn fixture() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"));
    serde_json::from_str(&text).expect("fixture JSON")
}

/// The data bytes of a .npy file.
fn npy_data(path: &std::path::Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    bytes[header..].to_vec()
}

/// `mup.init.*` draws from the rescaled law, so every tensor matches bit for bit, f32
/// and f64: constant-std samplers on hidden matrices, Xavier's two-step adjustment,
/// Kaiming fan-in/fan-out on input, hidden and output matrices and conv kernels.
#[test]
fn mup_init_functions_equal_mup_bit_for_bit() {
    let doc = fixture();
    let mut failures = Vec::new();
    for case in doc["init"].as_array().expect("init cases") {
        let dir = tempdir();
        let d = dir.path();
        std::fs::write(d.join("model.toml"), case["spec"].as_str().unwrap()).unwrap();
        std::fs::write(d.join("base.toml"), case["base"].as_str().unwrap()).unwrap();
        let seed = case["seed"].as_u64().unwrap().to_string();
        let dtype = case["dtype"].as_str().unwrap();
        run_ok(
            d,
            &[
                "gen",
                "--spec",
                "model.toml",
                "--mup-base",
                "base.toml",
                "--rng",
                "torch",
                "--seed",
                &seed,
                "--dtype",
                dtype,
                "-o",
                "out/",
                "--report",
                "none",
            ],
        );
        for t in case["tensors"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            let data = npy_data(&d.join("out").join(format!("{name}.npy")));
            if t["sha256"].as_str() != Some(sha256_hex(&data).as_str()) {
                failures.push(format!(
                    "seed {seed} {dtype} {name}: bytes differ from mup's"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `set_base_shapes` multiplies the readout's and the biases' drawn values by
/// √width_mult; weightinit draws from the rescaled law instead. Same law; the f32 values
/// may differ in their last bit (when √width_mult is not a power of two), never more.
/// Everything else is bit for bit, and a zero-initialized readout is all zeros.
#[test]
fn set_base_shapes_rescaling_is_within_one_ulp_of_mup() {
    let doc = fixture();
    for case in doc["modules"].as_array().expect("module cases") {
        let dir = tempdir();
        let d = dir.path();
        let widths = case["widths"].as_str().unwrap();
        let base = case["base"].as_str().unwrap();
        let seed = case["seed"].as_u64().unwrap().to_string();
        let layers = widths.split('-').count() - 1;
        let readout = format!("fc{}.*", layers - 1);
        let mut args = vec![
            "gen",
            "--layers",
            widths,
            "--mup-base",
            base,
            "--scheme",
            "fan-in-uniform",
            "--bias",
            "fan-in-uniform",
            "--layout",
            "oi",
            "--rng",
            "torch",
            "--seed",
            &seed,
            "-o",
            "out/",
            "--report",
            "none",
        ];
        if case["zero_readout"].as_bool().unwrap() {
            args.extend(["--mup-zero-readout", &readout]);
        }
        run_ok(d, &args);
        let mut differing = 0usize;
        for t in case["tensors"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            let ours = read_f32(&d.join("out").join(format!("{name}.npy")));
            let theirs: Vec<f32> = t["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            assert_eq!(ours.len(), theirs.len(), "{name}");
            for (a, b) in ours.iter().zip(&theirs) {
                let ulps = (i64::from(a.to_bits() as i32) - i64::from(b.to_bits() as i32)).abs();
                assert!(ulps <= 1, "{name}: {a} vs mup's {b}");
                differing += usize::from(ulps == 1);
            }
            let rescaled =
                name.starts_with(&readout[..readout.len() - 1]) || name.ends_with("bias");
            if !rescaled {
                assert!(
                    ours.iter()
                        .zip(&theirs)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{name}"
                );
            }
        }
        eprintln!("{widths} against {base}: {differing} values 1 ulp from mup's");
    }
}

/// On the native stream the rescaled laws hold: a hidden N(0, 0.02²) matrix four times
/// the base width has std 0.01; its readout by he-normal keeps the base width's std.
#[test]
fn native_stream_draws_the_rescaled_laws() {
    let dir = tempdir();
    let d = dir.path();
    let spec = |width: usize| {
        format!(
            "layout = \"oi\"\n\
             [[tensor]]\nname = \"h.weight\"\nshape = [{width}, {width}]\nscheme = \"normal:std=0.02\"\n\
             [[tensor]]\nname = \"out.weight\"\nshape = [1000, {width}]\nscheme = \"he-normal\"\n"
        )
    };
    std::fs::write(d.join("model.toml"), spec(1024)).unwrap();
    std::fs::write(d.join("base.toml"), spec(256)).unwrap();
    let out = run_ok(
        d,
        &[
            "gen",
            "--spec",
            "model.toml",
            "--mup-base",
            "base.toml",
            "--seed",
            "5",
            "-o",
            "out/",
            "--report",
            "none",
        ],
    );
    assert!(
        stderr(&out).contains("2 tensors (1 hidden, 1 output); 2 rescaled"),
        "{}",
        stderr(&out)
    );
    let hidden = read_f32(&d.join("out/h.weight.npy"));
    assert_moments(hidden.iter().map(|&x| f64::from(x)), 0.01, 0.005, "hidden");
    let readout = read_f32(&d.join("out/out.weight.npy"));
    let base_std = (2.0f64 / 256.0).sqrt();
    assert_moments(
        readout.iter().map(|&x| f64::from(x)),
        base_std,
        0.01,
        "readout",
    );
}

/// The multiplier is recorded as the scheme's `mult`, so the file says what was drawn.
#[test]
fn the_factor_is_recorded_as_mult() {
    let out = run_ok(
        tempdir().path(),
        &[
            "gen",
            "--layers",
            "16-64-64-4",
            "--mup-base",
            "16-16-16-4",
            "--scheme",
            "normal:std=0.02",
            "--seed",
            "1",
            "--dry-run",
            "--report",
            "json",
        ],
    );
    let text = stdout(&out);
    assert!(text.contains("normal:std=0.02,mult=0.5"), "{text}");
}

bad_input!(base_needs_a_model_source: "gen --shape 4x4 --scheme he-normal --mup-base 2x2" => 2,
    ["--mup-base needs --spec, --hf-config or --layers"]);
bad_input!(base_with_other_layers: "gen --layers 8-16-16-4 --mup-base 8-4-4-4-4 --dry-run" => 2,
    ["--mup-base '8-4-4-4-4' has tensor 'fc3.weight'"]);
bad_input!(model_with_more_layers: "gen --layers 8-16-16-16-4 --mup-base 8-4-4-4 --dry-run" => 2,
    ["tensor 'fc3.weight' is not in --mup-base"]);
bad_input!(readout_pattern_matching_nothing:
    "gen --layers 8-16-4 --mup-base 8-4-4 --mup-zero-readout head.* --dry-run" => 2,
    ["--mup-zero-readout 'head.*' matches no tensor"]);
bad_input!(orthogonal_has_no_mup_rule: "gen --layers 8-16-16-4 --mup-base 8-4-4-4 --scheme orthogonal --dry-run" => 2,
    ["tensor 'fc0.weight'", "orthogonal", "no width rule"]);
bad_input!(hidden_normal_must_be_centred:
    "gen --layers 8-16-16-4 --mup-base 8-4-4-4 --scheme normal:mean=0.1 --dry-run" => 2,
    ["tensor 'fc1.weight' (hidden role)", "not centred"]);
bad_input!(mup_zero_readout_needs_a_base: "gen --layers 8-16-4 --mup-zero-readout fc1.* --dry-run" => 2,
    ["--mup-base"]);

#[test]
fn a_kernel_that_differs_from_the_base_is_refused() {
    let dir = tempdir();
    let d = dir.path();
    let spec = |k: usize| {
        format!(
            "layout = \"oi\"\n[[tensor]]\nname = \"c.weight\"\nshape = [32, 32, {k}, {k}]\nscheme = \"he-normal\"\n"
        )
    };
    std::fs::write(d.join("model.toml"), spec(3)).unwrap();
    std::fs::write(d.join("base.toml"), spec(5)).unwrap();
    assert_bad_in(
        d,
        &[
            "gen",
            "--spec",
            "model.toml",
            "--mup-base",
            "base.toml",
            "--dry-run",
        ],
        2,
        &["tensor 'c.weight' has a kernel of 9 here and 25 in --mup-base"],
    );
}

/// A Hugging Face config against a narrower one: every hidden matrix of GPT-2 (normal
/// std 0.02, the residual projections 0.02/√(2·n_layer)) gets the 1/√width_mult factor.
#[test]
fn hf_configs_take_a_base_config() {
    let dir = tempdir();
    let d = dir.path();
    let config = |n_embd: usize| {
        format!(
            r#"{{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_embd": {n_embd},
               "n_head": 4, "n_layer": 2, "n_positions": 64, "vocab_size": 100}}"#
        )
    };
    std::fs::write(d.join("config.json"), config(256)).unwrap();
    std::fs::write(d.join("base.json"), config(64)).unwrap();
    let out = run_ok(
        d,
        &[
            "gen",
            "--hf-config",
            "config.json",
            "--mup-base",
            "base.json",
            "--seed",
            "3",
            "--dry-run",
            "--report",
            "json",
        ],
    );
    let text = stdout(&out);
    let plan: Value = serde_json::from_str(&text).expect("JSON plan");
    let mut schemes = Vec::new();
    find_key(&plan, "scheme", &mut schemes);
    let joined: Vec<String> = schemes.iter().map(|s| s.to_string()).collect();
    assert!(
        joined
            .iter()
            .any(|s| s.contains("normal:std=0.02,mult=0.5")),
        "{joined:?}"
    );
    assert!(
        joined.iter().any(|s| s.contains("depth=2,mult=0.5")),
        "{joined:?}"
    );
}
