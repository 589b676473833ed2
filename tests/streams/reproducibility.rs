//! Reproducibility of the native stream, through the library API.
//!
//! * The stream is pinned by an independent reading of the contract:
//!   tests/fixtures/native_reference.py re-implements `weightinit-native-v2` — ChaCha8,
//!   the key derivation, the word positions, the uniform mapping, Box–Muller and AS 241
//!   with their log/sin/cos/exp — in Python and NumPy from the README (not from the Rust
//!   code), and wrote tests/fixtures/native_reference.json. Agreement bit for bit is a
//!   correctness check of both the code and the documented contract.
//! * Output bytes must not depend on the number of threads.
//! * Name, seed and scheme enter the output the way the contract says.
//! * Golden SHA-256 pins of whole .npy files (tests/fixtures/golden_hashes.json) are
//!   regression pins only: the expected values were produced by weightinit itself, so
//!   they prove nothing about correctness; they catch any unintended change of the bytes.

use crate::common::tensors::*;

use std::path::PathBuf;

use serde_json::Value;
use sha2::{Digest, Sha256};
use weightinit::array::dtype::DType;
use weightinit::array::fan::Layout;
use weightinit::check::Generated;
use weightinit::draw::normal::pair;
use weightinit::draw::truncated::{Window, standard};
use weightinit::draw::{BLOCK_LEN, Keystream};
use weightinit::output::npy::NpyWriter;
use weightinit::pipeline::generate::{draw_array, generate};
use weightinit::tensor::ResolvedTensor;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

fn read_json(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(name))
        .unwrap_or_else(|e| panic!("reading fixture {name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing fixture {name}: {e}"))
}

/// The tensor as a complete .npy file in memory, and what the engine measured.
fn npy_bytes(t: &ResolvedTensor) -> (Vec<u8>, Generated) {
    let mut sink =
        NpyWriter::new(Vec::new(), t.spec.dtype, &t.spec.shape).expect("npy header into a Vec");
    let generated = generate(t, &mut sink, "<memory>").expect("generate");
    (sink.into_inner(), generated)
}

/// The stored values widened to f64 (exact for f32).
fn values(t: &ResolvedTensor) -> Vec<f64> {
    match t.spec.dtype {
        DType::F32 => draw_array::<f32>(t)
            .expect("draw f32")
            .0
            .iter()
            .map(|&x| f64::from(x))
            .collect(),
        DType::F64 => draw_array::<f64>(t)
            .expect("draw f64")
            .0
            .iter()
            .copied()
            .collect(),
        DType::F16 => draw_array::<half::f16>(t)
            .expect("draw f16")
            .0
            .iter()
            .map(|x| x.to_f64())
            .collect(),
        DType::Bf16 => draw_array::<half::bf16>(t)
            .expect("draw bf16")
            .0
            .iter()
            .map(|x| x.to_f64())
            .collect(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// The native stream against the independent Python reference
// ---------------------------------------------------------------------------------------

const REFERENCE: &str = "native_reference.json";

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| match x {
            Value::String(text) => text.parse().expect("a u64 in a string"),
            other => other.as_u64().expect("a u64"),
        })
        .collect()
}

#[test]
fn chacha8_block_matches_python_reference() {
    let fixture = read_json(REFERENCE);
    assert_eq!(fixture["contract"], "weightinit-native-v2");
    let mut words = [0u32; 16];
    Keystream::new(&[0u8; 32]).fill(0, &mut words);
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(
        hex(&bytes),
        fixture["chacha8_zero_key_block0"].as_str().unwrap()
    );
}

/// Box–Muller on chosen word pairs — every octant boundary, the radius split at √½, the
/// extreme words 0 and 2ᴺ − 1 — in both arithmetics.
#[test]
fn box_muller_matches_python_reference_bit_for_bit() {
    let fixture = read_json(REFERENCE);
    let single = &fixture["box_muller_f32"];
    let (a, b) = (u64s(&single["a"]), u64s(&single["b"]));
    let (z0, z1) = (u64s(&single["z0_bits"]), u64s(&single["z1_bits"]));
    assert!(a.len() >= 300, "fixture lost its word pairs");
    for i in 0..a.len() {
        let (x0, x1) = pair::<f32>(a[i] as u32, b[i] as u32);
        assert_eq!(
            (u64::from(x0.to_bits()), u64::from(x1.to_bits())),
            (z0[i], z1[i]),
            "f32 words ({:#x}, {:#x}): {x0:e} {x1:e}",
            a[i],
            b[i]
        );
    }
    let double = &fixture["box_muller_f64"];
    let (a, b) = (u64s(&double["a"]), u64s(&double["b"]));
    let (z0, z1) = (u64s(&double["z0_bits"]), u64s(&double["z1_bits"]));
    for i in 0..a.len() {
        let (x0, x1) = pair::<f64>(a[i], b[i]);
        assert_eq!(
            (x0.to_bits(), x1.to_bits()),
            (z0[i], z1[i]),
            "f64 words ({:#x}, {:#x}): {x0:e} {x1:e}",
            a[i],
            b[i]
        );
    }
}

/// AS 241 on the truncated normal's windows — the whole line, symmetric, far tails on
/// both sides, one-sided, narrow, straddling — at the extreme words, in both arithmetics.
#[test]
fn truncated_inverse_cdf_matches_python_reference_bit_for_bit() {
    let fixture = read_json(REFERENCE);
    let words32 = u64s(&fixture["words32"]);
    let words64 = u64s(&fixture["words64"]);
    let bound = |v: &Value| match v {
        Value::String(text) => text.parse::<f64>().expect("±inf"),
        other => other.as_f64().expect("a bound"),
    };
    let windows = fixture["truncated"].as_array().expect("windows");
    assert!(windows.len() >= 8, "fixture lost its windows");
    for item in windows {
        let (alpha, beta) = (bound(&item["alpha"]), bound(&item["beta"]));
        let window = Window::truncated(0.0, 1.0, alpha, beta);
        for (&w, want) in words32.iter().zip(u64s(&item["f32_bits"])) {
            let z = standard(w as u32, &window.single);
            assert_eq!(
                u64::from(z.to_bits()),
                want,
                "[{alpha}, {beta}] f32 word {w:#x}: {z:e}"
            );
        }
        for (&w, want) in words64.iter().zip(u64s(&item["f64_bits"])) {
            let z = standard(w, &window.double);
            assert_eq!(
                z.to_bits(),
                want,
                "[{alpha}, {beta}] f64 word {w:#x}: {z:e}"
            );
        }
    }
}

/// Whole tensors: values at thousands of elements, in both dtypes, for every law the
/// stream has — including ranges that start mid-pair and cross the engine's 65536-element
/// blocks — drawn whole and drawn alone (random access).
#[test]
fn tensors_match_python_reference_bit_for_bit() {
    let fixture = read_json(REFERENCE);
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 8, "fixture lost its cases");
    let mut checked = 0;
    for case in cases {
        let scheme = case["scheme"].as_str().unwrap();
        let seed = case["seed"].as_u64().expect("seed is a u64");
        let name = case["name"].as_str().unwrap();
        let shape = case["shape"].as_u64().unwrap().to_string();
        let start = case["start"].as_u64().unwrap() as usize;
        for dtype in [DType::F32, DType::F64] {
            let expected: Vec<f64> = case[dtype.to_string().as_str()]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let t = tensor(scheme, &shape, Layout::Io, dtype, seed, name);
            let whole = values(&t);
            let alone = range_values(&t, start, expected.len());
            let what = format!("{scheme} seed {seed} name {name:?} {dtype}");
            for (k, want) in expected.iter().enumerate() {
                let i = start + k;
                assert_eq!(
                    whole[i].to_bits(),
                    want.to_bits(),
                    "{what}: element {i} is {:e}, reference {want:e}",
                    whole[i]
                );
                assert_eq!(
                    alone[k].to_bits(),
                    want.to_bits(),
                    "{what}: element {i} alone"
                );
                checked += 1;
            }
        }
    }
    // Guard against a fixture that silently shrank.
    assert!(checked >= 20_000, "only {checked} values compared");
}

/// Elements `start .. start + len` drawn alone, widened to f64.
fn range_values(t: &ResolvedTensor, start: usize, len: usize) -> Vec<f64> {
    use weightinit::draw::engine::draw_range;
    let first = start as u64;
    match t.spec.dtype {
        DType::F32 => {
            let mut out = vec![0f32; len];
            draw_range(t, first, &mut out).expect("an elementwise law");
            out.iter().map(|&x| f64::from(x)).collect()
        }
        DType::F64 => {
            let mut out = vec![0f64; len];
            draw_range(t, first, &mut out).expect("an elementwise law");
            out
        }
        other => panic!("range_values: {other} not used here"),
    }
}

/// f16 and bf16 tensors hold exactly the f32 tensor's values, each rounded once more
/// (to nearest, ties to even): the same numbers in every dtype.
#[test]
fn half_types_hold_the_f32_values_rounded() {
    for scheme in [
        "normal:std=0.02",
        "he-uniform",
        "truncated-normal:std=0.02,low=-0.03,high=0.05",
    ] {
        let t = |dtype| tensor(scheme, "300x301", Layout::Io, dtype, 9, "h");
        let (single, _) = draw_array::<f32>(&t(DType::F32)).expect("f32");
        let (bf16, _) = draw_array::<half::bf16>(&t(DType::Bf16)).expect("bf16");
        let (f16, _) = draw_array::<half::f16>(&t(DType::F16)).expect("f16");
        for ((x, b), h) in single.iter().zip(&bf16).zip(&f16) {
            assert_eq!(
                half::bf16::from_f32(*x).to_bits(),
                b.to_bits(),
                "{scheme}: bf16 of {x:e}"
            );
            assert_eq!(
                half::f16::from_f32(*x).to_bits(),
                h.to_bits(),
                "{scheme}: f16 of {x:e}"
            );
        }
    }
}

/// The block contract makes element i depend only on (key, i): a small tensor is a
/// prefix of a larger one with the same name and seed (for elementwise schemes whose
/// parameters do not depend on the shape), whatever the row/column split.
#[test]
fn elementwise_values_depend_only_on_the_flat_index() {
    for dtype in [DType::F32, DType::F64] {
        for scheme in [
            "normal:std=0.5",
            "uniform:low=-2,high=3",
            "truncated-normal",
        ] {
            let big = values(&tensor(scheme, "1000x300", Layout::Io, dtype, 11, "p"));
            let flat = values(&tensor(scheme, "300000", Layout::Io, dtype, 11, "p"));
            assert!(
                big.iter()
                    .zip(&flat)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{scheme} {dtype}: 1000x300 and 300000 differ"
            );
            let prefix = values(&tensor(scheme, "70000", Layout::Oi, dtype, 11, "p"));
            assert!(
                prefix
                    .iter()
                    .zip(&big)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{scheme} {dtype}: a 70000-element tensor is not a prefix of the 300000 one"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Thread-count independence
// ---------------------------------------------------------------------------------------

#[test]
fn output_bytes_do_not_depend_on_the_thread_count() {
    // 1000x300 = 300000 elements = 4 full 65536-element blocks and a partial fifth;
    // every case spans at least two blocks (checked below).
    // Both dtypes where the dtype changes how stream words are consumed by the sampler
    // (normal, truncated-normal, orthogonal); one dtype elsewhere, to keep debug builds
    // fast.
    const BOTH: &[DType] = &[DType::F32, DType::F64];
    let cases: [(&str, &str, Layout, &[DType]); 9] = [
        ("normal:std=0.02", "1000x300", Layout::Io, BOTH),
        ("truncated-normal:std=0.02", "1000x300", Layout::Io, BOTH),
        // A one-sided truncation far in the tail: the clamped median offset.
        (
            "truncated-normal:low=3,high=10",
            "1000x300",
            Layout::Io,
            &[DType::F64],
        ),
        ("he-uniform", "1000x300", Layout::Io, &[DType::F32]),
        (
            "he-normal:mode=fan-out",
            "3x3x64x128",
            Layout::Io,
            &[DType::F32],
        ),
        // The Gaussian matrix behind these spans two blocks; QR runs on the whole.
        ("orthogonal", "600x200", Layout::Io, BOTH),
        ("orthogonal", "200x600", Layout::Oi, &[DType::F64]),
        // The state-space laws: a transformed uniform, and a table of positions.
        ("mamba-dt-bias:dt-floor=0.005", "1000x300", Layout::Io, BOTH),
        ("s4d-real-log", "1000x300", Layout::Io, &[DType::F32]),
    ];
    let pools: Vec<rayon::ThreadPool> = [1, 2, 7]
        .iter()
        .map(|&n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .expect("thread pool")
        })
        .collect();
    for (scheme, shape, layout, dtypes) in cases {
        for &dtype in dtypes {
            let t = tensor(scheme, shape, layout, dtype, 2024, "layer.weight");
            assert!(
                t.spec.shape.len() > BLOCK_LEN,
                "{scheme} {shape}: fits in one block, tests nothing"
            );
            let runs: Vec<(Vec<u8>, Generated)> =
                pools.iter().map(|p| p.install(|| npy_bytes(&t))).collect();
            let (first, first_gen) = &runs[0];
            for ((bytes, generated), threads) in runs.iter().zip([1, 2, 7]).skip(1) {
                assert!(
                    bytes == first,
                    "{scheme} {shape} {dtype}: {threads} threads give different bytes than 1"
                );
                assert_eq!(
                    generated, first_gen,
                    "{scheme} {shape} {dtype}: statistics differ with {threads} threads"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// What enters the stream
// ---------------------------------------------------------------------------------------

fn fraction_equal(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let same = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.to_bits() == y.to_bits())
        .count();
    same as f64 / a.len() as f64
}

#[test]
fn name_and_seed_change_the_output() {
    for dtype in [DType::F32, DType::F64] {
        for scheme in ["normal", "uniform", "he-uniform", "orthogonal"] {
            let base = values(&tensor(scheme, "200x150", Layout::Io, dtype, 7, "w0"));
            let again = values(&tensor(scheme, "200x150", Layout::Io, dtype, 7, "w0"));
            assert!(
                fraction_equal(&base, &again) == 1.0,
                "{scheme} {dtype}: same inputs, different output"
            );
            for (seed, name, what) in [
                (8, "w0", "seed 7 → 8"),
                (7, "w1", "name w0 → w1"),
                (7, "W0", "name case"),
                (7, "w0 ", "trailing space in the name"),
                (7 + (1 << 32), "w0", "high half of the seed"),
            ] {
                let other = values(&tensor(scheme, "200x150", Layout::Io, dtype, seed, name));
                let same = fraction_equal(&base, &other);
                assert!(
                    same < 0.01,
                    "{scheme} {dtype}: {what} left {:.1}% of the elements unchanged",
                    100.0 * same
                );
            }
        }
    }
}

/// he-normal and xavier-normal both resolve to N(0, std²) and the sampler computes
/// `0 + std·z` in f64 from the same standard normals z (same key: same seed and name),
/// then rounds once to the dtype. So the two tensors are proportional up to that one
/// rounding each: x_he/std_he and x_xavier/std_xavier agree to a few ulps. The same
/// holds for the uniform pair (−b + 2b·u from the same u), to a few ulps of b.
#[test]
fn schemes_of_one_family_share_the_underlying_draws() {
    let (shape, fan_in, fan_out) = ("400x300", 400.0f64, 300.0f64);
    for dtype in [DType::F32, DType::F64] {
        // One rounding to the dtype plus a few f64 roundings.
        let eps = match dtype {
            DType::F32 => 2f64.powi(-24),
            DType::F64 => 2f64.powi(-53),
            DType::F16 | DType::Bf16 => unreachable!("f32 and f64 only"),
        };
        let he_std = (2.0 / fan_in).sqrt();
        let xavier_std = (2.0 / (fan_in + fan_out)).sqrt();
        let he = values(&tensor("he-normal", shape, Layout::Io, dtype, 5, "w"));
        let xavier = values(&tensor("xavier-normal", shape, Layout::Io, dtype, 5, "w"));
        let worst = he
            .iter()
            .zip(&xavier)
            .map(|(h, x)| {
                let (zh, zx) = (h / he_std, x / xavier_std);
                (zh - zx).abs() / zh.abs().max(1e-300)
            })
            .fold(0.0, f64::max);
        assert!(
            worst <= 4.0 * eps,
            "{dtype}: he-normal/std and xavier-normal/std differ by {worst:e} (relative)"
        );
        // The check has teeth: another name gives unrelated normals.
        let other = values(&tensor("xavier-normal", shape, Layout::Io, dtype, 5, "v"));
        let unrelated = he
            .iter()
            .zip(&other)
            .filter(|(h, x)| ((*h / he_std) - (*x / xavier_std)).abs() > 1e-3)
            .count();
        assert!(unrelated > he.len() / 2, "{dtype}: negative control failed");

        let he_bound = (6.0 / fan_in).sqrt();
        let xavier_bound = (6.0 / (fan_in + fan_out)).sqrt();
        let he_u = values(&tensor("he-uniform", shape, Layout::Io, dtype, 5, "w"));
        let xavier_u = values(&tensor("xavier-uniform", shape, Layout::Io, dtype, 5, "w"));
        let worst = he_u
            .iter()
            .zip(&xavier_u)
            .map(|(h, x)| (h / he_bound - x / xavier_bound).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= 8.0 * eps,
            "{dtype}: he-uniform/bound and xavier-uniform/bound differ by {worst:e}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Golden hashes (regression pins)
// ---------------------------------------------------------------------------------------

const GOLDEN: &str = "golden_hashes.json";

fn parse_dtype(text: &str) -> DType {
    match text {
        "f32" => DType::F32,
        "f64" => DType::F64,
        "f16" => DType::F16,
        other => panic!("unknown dtype {other} in {GOLDEN}"),
    }
}

fn parse_layout(text: &str) -> Layout {
    match text {
        "io" => Layout::Io,
        "oi" => Layout::Oi,
        other => panic!("unknown layout {other} in {GOLDEN}"),
    }
}

/// True on the kind of CPU the pins were made on (x86-64 with AVX-512F).
fn same_vector_unit_as_pins() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// SHA-256 of whole .npy files (header and data). These pins were produced by weightinit
/// itself: they are not correctness claims, only a tripwire for any change of the output
/// bytes (stream, samplers, QR, npy header). If a change is intended, regenerate with
///
/// ```text
/// WEIGHTINIT_BLESS=1 cargo test --test reproducibility golden -- --nocapture
/// ```
///
/// which rewrites the `sha256` fields of tests/fixtures/golden_hashes.json in place (the
/// cases themselves are defined in that file) and prints them; review the diff.
#[test]
fn golden_npy_hashes() {
    let bless = std::env::var("WEIGHTINIT_BLESS").is_ok_and(|v| v == "1");
    let mut doc = read_json(GOLDEN);
    let cases = doc["cases"].as_array_mut().expect("cases");
    assert!(cases.len() >= 6, "{GOLDEN} lost its cases");
    let mut mismatches = Vec::new();
    for case in cases.iter_mut() {
        let t = tensor(
            case["scheme"].as_str().unwrap(),
            case["shape"].as_str().unwrap(),
            parse_layout(case["layout"].as_str().unwrap()),
            parse_dtype(case["dtype"].as_str().unwrap()),
            case["seed"].as_u64().unwrap(),
            case["name"].as_str().unwrap(),
        );
        let (bytes, _) = npy_bytes(&t);
        let header = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!(
            bytes.len() as u64,
            header as u64 + t.data_bytes(),
            "npy size"
        );
        let actual = hex(&Sha256::digest(&bytes));
        let field = |k: &str| case[k].as_str().unwrap_or("?").to_string();
        let label = format!(
            "{} {} {} {} seed {} name {:?}",
            field("scheme"),
            field("shape"),
            field("layout"),
            field("dtype"),
            case["seed"],
            field("name")
        );
        // Orthogonal output goes through faer's QR, whose gemm kernels are chosen by
        // the CPU at run time; its pins were made on an AVX-512 x86-64 machine and are
        // only exact on one. Elsewhere the statistics tests still check orthogonality.
        if case["scheme"]
            .as_str()
            .is_some_and(|s| s.starts_with("orthogonal"))
            && !same_vector_unit_as_pins()
        {
            eprintln!("{label}: not compared (QR kernels differ on this CPU)");
            continue;
        }
        if bless {
            println!("{label}: {actual}");
            case["sha256"] = Value::String(actual);
        } else if case["sha256"].as_str() != Some(actual.as_str()) {
            mismatches.push(format!(
                "{label}: expected {}, got {actual}",
                case["sha256"]
            ));
        }
    }
    if bless {
        let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        std::fs::write(fixture(GOLDEN), text).expect("writing golden hashes");
        return;
    }
    assert!(
        mismatches.is_empty(),
        "output bytes changed (regression pins; if intended, regenerate with \
         WEIGHTINIT_BLESS=1 cargo test --test reproducibility golden):\n{}",
        mismatches.join("\n")
    );
}

/// The hot loops are compiled for AVX-512, AVX2 and baseline x86-64 and picked at run
/// time (src/simd.rs). Every level this CPU has must write the pinned bytes: the CLI is
/// run once per level with `WEIGHTINIT_SIMD` capping it.
#[test]
fn golden_pins_hold_at_every_vector_level() {
    let doc = read_json(GOLDEN);
    let cases = doc["cases"].as_array().expect("cases");
    let levels = ["baseline", "avx2", "avx512"];
    let mut mismatches = Vec::new();
    for level in levels {
        for case in cases {
            let field = |k: &str| case[k].as_str().expect(k).to_string();
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_weightinit"))
                .env("WEIGHTINIT_SIMD", level)
                .args([
                    "gen",
                    "--scheme",
                    &field("scheme"),
                    "--shape",
                    &field("shape"),
                ])
                .args(["--layout", &field("layout"), "--dtype", &field("dtype")])
                .args([
                    "--seed",
                    &case["seed"].to_string(),
                    "--name",
                    &field("name"),
                ])
                .args(["-o", "-", "--report", "none"])
                .output()
                .expect("running weightinit");
            assert!(
                output.status.success(),
                "{level}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let actual = hex(&Sha256::digest(&output.stdout));
            let orthogonal = field("scheme").starts_with("orthogonal");
            if orthogonal && !same_vector_unit_as_pins() {
                continue; // faer's own kernels; see golden_npy_hashes
            }
            if case["sha256"].as_str() != Some(actual.as_str()) {
                mismatches.push(format!(
                    "{level}: {} {}: got {actual}",
                    field("scheme"),
                    field("shape")
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// The committed fixture is what the reference script writes today: the script runs
/// (NumPy is in CI's venv) and its output is compared with the JSON the tests above use,
/// so neither can drift from the other.
#[test]
fn reference_fixture_is_what_the_script_writes() {
    let Some(python) =
        crate::common::python::require("reference_fixture_is_what_the_script_writes", &["numpy"])
    else {
        return;
    };
    let out = std::process::Command::new(python)
        .arg(fixture("native_reference.py"))
        .output()
        .expect("running native_reference.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert!(
        fresh == read_json(REFERENCE),
        "tests/fixtures/native_reference.json is stale: rerun the script"
    );
}
