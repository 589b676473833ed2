//! `--rng torch` against values PyTorch itself drew: tests/fixtures/torch_reference.json,
//! written by tests/fixtures/make_fixtures.py (PyTorch needed only to regenerate it).
//! Every case must match bit for bit: first and last value and SHA-256 of the array.

use crate::common::tensors::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::compat::torch::generator::CpuGenerator;
use weightinit::compat::torch::kernels as torch;
use weightinit::law::Distribution;
use weightinit::pipeline::generate::Session;
use weightinit::tensor::rng::RngMode;

const FIXTURE: &str = "tests/fixtures/torch_reference.json";
const BIN: &str = env!("CARGO_BIN_EXE_weightinit");

fn fixture() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"));
    serde_json::from_str(&text).expect("fixture JSON")
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn bytes_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn bytes_f64(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Compares first, last and hash of a drawn array (as f64 values and raw bytes).
fn check(
    record: &Value,
    label: &str,
    first: f64,
    last: f64,
    bytes: &[u8],
    failures: &mut Vec<String>,
) {
    let want = |k: &str| {
        record[k]
            .as_f64()
            .unwrap_or_else(|| panic!("{k} in {record}"))
    };
    if first.to_bits() != want("first").to_bits() || last.to_bits() != want("last").to_bits() {
        failures.push(format!(
            "{label}: first/last {first:e}/{last:e}, PyTorch {}/{}",
            record["first"], record["last"]
        ));
    } else if record["sha256"].as_str() != Some(hex(bytes).as_str()) {
        failures.push(format!("{label}: same ends but different bytes"));
    }
}

#[test]
fn uniform_equals_pytorch_bit_for_bit() {
    let doc = fixture();
    let records = doc["uniform"].as_array().expect("uniform");
    assert!(records.len() >= 80, "fixture lost its cases");
    let mut failures = Vec::new();
    for r in records {
        let seed = r["seed"].as_u64().expect("seed");
        let size = r["size"].as_u64().expect("size") as usize;
        let law = Distribution::Uniform {
            low: r["low"].as_f64().unwrap(),
            high: r["high"].as_f64().unwrap(),
        };
        let label = format!("seed {seed} size {size} {law:?} {}", r["dtype"]);
        let mut rng = CpuGenerator::new(seed);
        if r["dtype"] == "f32" {
            let mut out = vec![0f32; size];
            torch::fill(&mut rng, &law, &mut out, size, true);
            let ends = (f64::from(out[0]), f64::from(out[size - 1]));
            check(r, &label, ends.0, ends.1, &bytes_f32(&out), &mut failures);
        } else {
            let mut out = vec![0f64; size];
            torch::fill(&mut rng, &law, &mut out, size, true);
            check(
                r,
                &label,
                out[0],
                out[size - 1],
                &bytes_f64(&out),
                &mut failures,
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `normal_`: the 16-wide Box–Muller path (float32 through the emulated AVX2 kernel,
/// float64 through the C library), its redraw of the last 16 for sizes that are not a
/// multiple of 16 (also across the engine's block boundary: 65540), and the scalar path
/// for tensors under 16 elements, through the binary's engine.
#[test]
fn normal_equals_pytorch_bit_for_bit() {
    let doc = fixture();
    let records = doc["normal"].as_array().expect("normal");
    assert!(records.len() >= 100, "fixture lost its cases");
    let mut failures = Vec::new();
    for r in records {
        let seed = r["seed"].as_u64().unwrap();
        let size = r["size"].as_u64().unwrap();
        let (mean, std) = (r["mean"].as_f64().unwrap(), r["std"].as_f64().unwrap());
        let dtype = if r["dtype"] == "f32" {
            DType::F32
        } else {
            DType::F64
        };
        let scheme = format!("normal:mean={mean},std={std}").parse().unwrap();
        let tensor = spec_with_rng(
            scheme,
            &size.to_string(),
            Layout::Oi,
            dtype,
            seed,
            "w",
            RngMode::Torch,
        );
        let label = format!("normal_({mean}, {std}) size {size} {dtype} seed {seed}");
        draw_and_check(&mut Session::new(), &tensor, r, &label, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Small tensors drawn one after the other continue the generator's cached value.
#[test]
fn small_normal_tensors_share_the_cached_value() {
    let doc = fixture();
    let mut failures = Vec::new();
    for run in doc["normal_runs"].as_array().expect("normal_runs") {
        let seed = run["seed"].as_u64().unwrap();
        let mut session = Session::new();
        for (k, t) in run["tensors"].as_array().unwrap().iter().enumerate() {
            let size = t["size"].as_u64().unwrap();
            let tensor = spec_with_rng(
                "normal".parse().unwrap(),
                &size.to_string(),
                Layout::Oi,
                DType::F32,
                seed,
                &format!("w{k}"),
                RngMode::Torch,
            );
            let label = format!("seed {seed} tensor {k} (size {size})");
            draw_and_check(&mut session, &tensor, t, &label, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Draws `tensor` in `session` and compares it with the fixture record.
fn draw_and_check(
    session: &mut Session,
    tensor: &weightinit::tensor::ResolvedTensor,
    record: &Value,
    label: &str,
    failures: &mut Vec<String>,
) {
    match tensor.spec.dtype {
        DType::F32 => {
            let (w, _) = session.draw_array::<f32>(tensor).expect("draw");
            let w = w.as_slice().unwrap();
            let ends = (f64::from(w[0]), f64::from(w[w.len() - 1]));
            check(record, label, ends.0, ends.1, &bytes_f32(w), failures);
        }
        DType::F64 => {
            let (w, _) = session.draw_array::<f64>(tensor).expect("draw");
            let w = w.as_slice().unwrap();
            check(record, label, w[0], w[w.len() - 1], &bytes_f64(w), failures);
        }
        DType::F16 | DType::Bf16 => unreachable!("fixtures are f32 and f64"),
    }
}

/// kaiming_uniform_ (default, a=√5, fan_out, tanh), xavier_uniform_ (gain 1 and 5/3),
/// kaiming_normal_, xavier_normal_ and normal_ on linear and conv shapes, through the
/// library exactly as the CLI resolves them.
#[test]
fn uniform_inits_equal_pytorch_bit_for_bit() {
    let doc = fixture();
    let mut failures = Vec::new();
    for r in doc["schemes"].as_array().expect("schemes") {
        let seed = r["seed"].as_u64().unwrap();
        let scheme = r["scheme"].as_str().unwrap();
        let shape = r["shape"].as_str().unwrap();
        let dtype = if r["dtype"] == "f32" {
            DType::F32
        } else {
            DType::F64
        };
        let tensor = spec_with_rng(
            scheme.parse().expect("scheme"),
            shape,
            Layout::Oi,
            dtype,
            seed,
            "w",
            RngMode::Torch,
        );
        let label = format!("{scheme} {shape} {dtype} seed {seed}");
        draw_and_check(&mut Session::new(), &tensor, r, &label, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `--preset torch-linear` / `torch-conv2d` through the binary: weight and bias files
/// equal `nn.Linear` / `nn.Conv2d` after `torch.manual_seed`, including two modules
/// built one after the other from one seed.
#[test]
fn presets_equal_pytorch_modules() {
    let doc = fixture();
    let mut failures = Vec::new();
    for case in doc["presets"].as_array().expect("presets") {
        let dir = tempfile::tempdir().unwrap();
        let seed = case["seed"].as_u64().unwrap();
        let preset = case["preset"].as_str().unwrap();
        let shapes: Vec<&str> = case["shapes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let mut cmd = std::process::Command::new(BIN);
        cmd.args(["gen", "--rng", "torch", "--preset", preset, "--seed"])
            .arg(seed.to_string())
            .args(["--report", "none", "-o"])
            .arg(format!("{}/", dir.path().display()));
        for s in &shapes {
            cmd.args(["--shape", s]);
        }
        let out = cmd.output().expect("weightinit runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tensors = case["tensors"].as_array().unwrap();
        for (k, t) in tensors.iter().enumerate() {
            let part = t["part"].as_str().unwrap();
            let file = if shapes.len() == 1 {
                format!("{part}.npy")
            } else {
                format!("l{}.{part}.npy", k / 2)
            };
            let bytes =
                std::fs::read(dir.path().join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            let header = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            let data = &bytes[header..];
            let values: Vec<f32> = data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let label = format!("{preset} seed {seed} {file}");
            let ends = (f64::from(values[0]), f64::from(values[values.len() - 1]));
            check(t, &label, ends.0, ends.1, data, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// orthogonal_: the same normal_ draws, a different QR (faer in f64 vs LAPACK at the
/// tensor's precision). Ours must be the exact factor of those draws up to rounding to
/// the dtype; PyTorch's float32 QR is itself up to 3e-6 away from it (64², measured), so
/// against PyTorch the bound is 1e-6 in float64 and 5e-6 in float32.
#[test]
fn orthogonal_matches_pytorch_up_to_its_own_rounding() {
    let doc = fixture();
    for case in doc["orthogonal"].as_array().expect("orthogonal") {
        check_orthogonal_case(case, "orthogonal");
    }
}

/// Per-gate orthogonal (`blocks=K`): `for w in weight.chunk(K, 0): orthogonal_(w)`, block
/// after block from one generator, on LSTM and GRU shapes, tall and wide blocks.
#[test]
fn orthogonal_blocks_match_pytorch_chunk_by_chunk() {
    let doc = fixture();
    for case in doc["orthogonal_blocks"]
        .as_array()
        .expect("orthogonal_blocks")
    {
        let scheme = format!("orthogonal:blocks={}", case["blocks"].as_u64().unwrap());
        check_orthogonal_case(case, &scheme);
    }
}

/// One orthogonal case: our values within float rounding of the exact factor of
/// PyTorch's draws, and of PyTorch's own (LAPACK) result.
fn check_orthogonal_case(case: &Value, scheme: &str) {
    let seed = case["seed"].as_u64().unwrap();
    let shape = case["shape"].as_str().unwrap();
    let dtype = if case["dtype"] == "f32" {
        DType::F32
    } else {
        DType::F64
    };
    let tensor = spec_with_rng(
        scheme.parse().unwrap(),
        shape,
        Layout::Oi,
        dtype,
        seed,
        "q",
        RngMode::Torch,
    );
    let values: Vec<f64> = match dtype {
        DType::F32 => Session::new()
            .draw_array::<f32>(&tensor)
            .unwrap()
            .0
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        DType::F64 => Session::new()
            .draw_array::<f64>(&tensor)
            .unwrap()
            .0
            .iter()
            .copied()
            .collect(),
        DType::F16 | DType::Bf16 => unreachable!("fixtures are f32 and f64"),
    };
    let list = |k: &str| -> Vec<f64> {
        case[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let worst = |other: &[f64]| {
        assert_eq!(values.len(), other.len());
        values
            .iter()
            .zip(other)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f64, f64::max)
    };
    let (to_exact, to_torch) = (worst(&list("exact")), worst(&list("values")));
    let (exact_bound, torch_bound) = match dtype {
        DType::F32 => (1e-7, 5e-6),
        DType::F64 => (1e-13, 1e-6),
        DType::F16 | DType::Bf16 => unreachable!("fixtures are f32 and f64"),
    };
    assert!(
        to_exact <= exact_bound,
        "{shape} {dtype} seed {seed}: {to_exact:e} from the exact factor"
    );
    assert!(
        to_torch <= torch_bound,
        "{shape} {dtype} seed {seed}: {to_torch:e} from PyTorch"
    );
}

/// trunc_normal_ (PyTorch 2.15's redraw path) on windows holding more than 30%.
#[test]
fn trunc_normal_equals_pytorch_bit_for_bit() {
    let doc = fixture();
    let mut failures = Vec::new();
    for r in doc["trunc_normal"].as_array().expect("trunc_normal") {
        let seed = r["seed"].as_u64().unwrap();
        let size = r["size"].as_u64().unwrap();
        let dtype = if r["dtype"] == "f32" {
            DType::F32
        } else {
            DType::F64
        };
        let num = |k: &str| r[k].as_f64().unwrap();
        let scheme = format!(
            "truncated-normal:mean={},std={},low={},high={}",
            num("mean"),
            num("std"),
            num("low"),
            num("high")
        );
        let tensor = spec_with_rng(
            scheme.parse().unwrap(),
            &size.to_string(),
            Layout::Oi,
            dtype,
            seed,
            "w",
            RngMode::Torch,
        );
        let label = format!("{scheme} size {size} {dtype} seed {seed}");
        draw_and_check(&mut Session::new(), &tensor, r, &label, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A window PyTorch samples by uniform proposals is refused and says why; an io layout
/// is refused for fan-based schemes because PyTorch's fans follow its out x in layout.
#[test]
fn unsupported_requests_are_refused_with_a_reason() {
    for (scheme, shape, layout, needle, flags) in [
        (
            "truncated-normal:low=2,high=3",
            "10x10",
            Layout::Oi,
            "trunc_normal_",
            "oi",
        ),
        ("xavier-uniform", "10x10", Layout::Io, "oi layout", "io"),
    ] {
        let spec = weightinit::tensor::TensorSpec {
            name: "w".into(),
            shape: shape.parse().unwrap(),
            layout,
            scheme: scheme.parse().unwrap(),
            dtype: DType::F32,
            seed: 1,
            rng: RngMode::Torch,
            jax: Default::default(),
        };
        // The library names the stream and the layout; the command line its flags.
        let err = spec.resolve().expect_err("refused").to_string();
        assert!(
            err.contains("torch stream") && err.contains(needle),
            "{scheme}: {err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let line =
            format!("gen --rng torch --seed 1 --scheme {scheme} --shape {shape} --layout {flags}");
        let out = crate::common::cli::run(dir.path(), &crate::common::cli::argv(&line));
        let text = crate::common::cli::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let cli_needle = if flags == "io" {
            "add --layout oi"
        } else {
            needle
        };
        assert!(
            text.contains("--rng torch") && text.contains(cli_needle),
            "{scheme}: {text}"
        );
    }
}

/// `dirac_(tensor, groups)`: the taps where PyTorch puts them, in every group, for 3-, 4-
/// and 5-D kernels, and the generator untouched: a `normal_` drawn after it in the same
/// session equals PyTorch's.
#[test]
fn dirac_equals_pytorch_and_leaves_the_generator_alone() {
    let doc = fixture();
    let mut failures = Vec::new();
    for r in doc["dirac"].as_array().expect("dirac") {
        let scheme = format!("dirac:groups={}", r["groups"].as_u64().unwrap());
        check_then_normal(r, &scheme, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `sparse_(tensor, sparsity, std)`: `normal_` over the tensor, then `torch.randperm(rows)`
/// for every column from the same generator, bit for bit; the generator ends where
/// PyTorch's does (a `normal_` drawn after it matches).
#[test]
fn sparse_equals_pytorch_including_its_randperm() {
    let doc = fixture();
    let mut failures = Vec::new();
    for r in doc["sparse"].as_array().expect("sparse") {
        let scheme = format!(
            "sparse:sparsity={},std={}",
            r["sparsity"].as_f64().unwrap(),
            r["std"].as_f64().unwrap()
        );
        check_then_normal(r, &scheme, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One fixture case (`seed`, `shape`, `dtype`, and an `after` record): `scheme` drawn
/// with `--rng torch` in layout oi, then a 7-value `normal_` from the same generator.
fn check_then_normal(r: &Value, scheme: &str, failures: &mut Vec<String>) {
    let seed = r["seed"].as_u64().unwrap();
    let shape = r["shape"].as_str().unwrap();
    let dtype = if r["dtype"] == "f32" {
        DType::F32
    } else {
        DType::F64
    };
    let spec = |scheme: &str, shape: &str, name: &str| {
        spec_with_rng(
            scheme.parse().expect("scheme"),
            shape,
            Layout::Oi,
            dtype,
            seed,
            name,
            RngMode::Torch,
        )
    };
    let label = format!("{scheme} {shape} {dtype} seed {seed}");
    let mut session = Session::new();
    draw_and_check(&mut session, &spec(scheme, shape, "w"), r, &label, failures);
    draw_and_check(
        &mut session,
        &spec("normal", "7", "after"),
        &r["after"],
        &format!("{label}, then normal_"),
        failures,
    );
}
