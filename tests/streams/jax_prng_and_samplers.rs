//! src/compat/jax against JAX itself: every array in tests/fixtures/jax_stream_reference.json
//! (written by tests/fixtures/make_jax_stream_fixtures.py with the real JAX on CPU) must
//! come out with 0 differing bits. Needs no JAX.

use half::{bf16, f16};
use serde_json::Value;
use sha2::{Digest, Sha256};
use weightinit::compat::jax::flax::param_key;
use weightinit::compat::jax::initializers::{Axes, Distribution, Initializer, Mode};
use weightinit::compat::jax::kernels::{Law, PreparedF32, fill_bf16, fill_f16, fill_f32, fill_f64};
use weightinit::compat::jax::{JaxKey, bits};

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jax_stream_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture JSON")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `bytes` (elements of `size` bytes) against a stored array: full hex, or
/// `{sha256, head, tail, len}`.
fn check(expected: &Value, bytes: &[u8], size: usize, what: &str) {
    match expected {
        Value::String(full) => {
            if *full != hex(bytes) {
                let theirs: Vec<u8> = (0..full.len() / 2)
                    .map(|i| u8::from_str_radix(&full[2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                let differing = bytes
                    .chunks(size)
                    .zip(theirs.chunks(size))
                    .filter(|(a, b)| a != b)
                    .count();
                panic!(
                    "{what}: {differing} of {} elements differ",
                    bytes.len() / size
                );
            }
        }
        Value::Object(o) => {
            let n = o["len"].as_u64().unwrap() as usize;
            assert_eq!(bytes.len(), n * size, "{what}: length");
            assert_eq!(
                o["head"].as_str().unwrap(),
                hex(&bytes[..16 * size]),
                "{what}: first 16"
            );
            assert_eq!(
                o["tail"].as_str().unwrap(),
                hex(&bytes[bytes.len() - 16 * size..]),
                "{what}: last 16"
            );
            assert_eq!(
                o["sha256"].as_str().unwrap(),
                hex(&Sha256::digest(bytes)),
                "{what}: SHA-256"
            );
        }
        _ => panic!("{what}: bad fixture entry"),
    }
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64().expect("integer")
}

fn shape_of(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| u64_of(d) as usize)
        .collect()
}

fn key_of(case: &Value) -> JaxKey {
    JaxKey::from_seed(u64_of(&case["seed"]), case["x64"].as_bool().unwrap())
}

fn partitionable(case: &Value) -> bool {
    case["partitionable"].as_bool().unwrap()
}

fn le_bytes<T: Copy, const N: usize>(values: &[T], to: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    values.iter().flat_map(|&v| to(v)).collect()
}

#[test]
fn keys_from_seeds() {
    let f = fixture();
    for case in f["keys"].as_array().unwrap() {
        let expected: Vec<u32> = case["key"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| u64_of(v) as u32)
            .collect();
        assert_eq!(key_of(case).0.to_vec(), expected, "key of {case}");
    }
}

#[test]
fn split_and_fold_in() {
    let f = fixture();
    for case in f["split"].as_array().unwrap() {
        let keys = key_of(case).split(u64_of(&case["n"]) as usize, partitionable(case));
        let words: Vec<u32> = keys.iter().flat_map(|k| k.0).collect();
        check(
            &case["keys"],
            &le_bytes(&words, u32::to_le_bytes),
            4,
            &format!("split {case}"),
        );
    }
    for case in f["fold_in"].as_array().unwrap() {
        let key = key_of(case).fold_in(u64_of(&case["data"]) as u32);
        let expected: Vec<u32> = case["key"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| u64_of(v) as u32)
            .collect();
        assert_eq!(key.0.to_vec(), expected, "fold_in {case}");
    }
}

#[test]
fn random_bits() {
    let f = fixture();
    for case in f["bits"].as_array().unwrap() {
        let (key, part, shape) = (key_of(case), partitionable(case), shape_of(&case["shape"]));
        let n = bits::element_count(&shape) as usize;
        let what = format!("bits {}", case["width"]);
        let bytes = match u64_of(&case["width"]) {
            8 => {
                let mut out = vec![0u8; n];
                bits::fill_bits8(key, &shape, part, 0, &mut out);
                out
            }
            16 => {
                let mut out = vec![0u16; n];
                bits::fill_bits16(key, &shape, part, 0, &mut out);
                le_bytes(&out, u16::to_le_bytes)
            }
            32 => {
                let mut out = vec![0u32; n];
                bits::fill_bits32(key, &shape, part, 0, &mut out);
                le_bytes(&out, u32::to_le_bytes)
            }
            _ => {
                let mut out = vec![0u64; n];
                bits::fill_bits64(key, &shape, part, 0, &mut out);
                le_bytes(&out, u64::to_le_bytes)
            }
        };
        let size = (u64_of(&case["width"]) / 8) as usize;
        check(
            &case["values"],
            &bytes,
            size,
            &format!("{what} {shape:?} seed {} part {part}", case["seed"]),
        );
        // Random access: the same words drawn as two pieces.
        if n > 3 && size == 4 {
            let mut out = vec![0u32; n];
            let cut = n / 3;
            bits::fill_bits32(key, &shape, part, cut, &mut out[cut..]);
            bits::fill_bits32(key, &shape, part, 0, &mut out[..cut]);
            assert_eq!(
                le_bytes(&out, u32::to_le_bytes),
                bytes,
                "{what}: drawn in two pieces"
            );
        }
    }
}

/// The law of a sampler case with parameters converted as an eager JAX call converts
/// Python floats (a jit argument of f32, or f64 with x64, then the dtype).
fn law_of<T>(case: &Value, to: impl Fn(f64) -> T) -> Law<T> {
    let p: Vec<f64> = case["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    match case["kind"].as_str().unwrap() {
        "uniform" if p.is_empty() => Law::Uniform {
            minval: to(0.0),
            maxval: to(1.0),
        },
        "uniform" => Law::Uniform {
            minval: to(p[0]),
            maxval: to(p[1]),
        },
        "normal" => Law::Normal,
        _ => Law::TruncatedNormal {
            lower: to(p[0]),
            upper: to(p[1]),
        },
    }
}

/// Draws a sampler or initializer case as bytes, in three pieces (random access).
fn drawn<T: Copy + Default, const N: usize>(
    n: usize,
    mut fill: impl FnMut(usize, &mut [T]),
    to: impl Fn(T) -> [u8; N],
) -> Vec<u8> {
    let mut out = vec![T::default(); n];
    let (a, b) = (n / 3, 2 * n / 3);
    fill(b, &mut out[b..]);
    fill(0, &mut out[..a]);
    fill(a, &mut out[a..b]);
    le_bytes(&out, to)
}

#[test]
fn samplers() {
    let f = fixture();
    let cases = f["samplers"].as_array().unwrap();
    assert!(cases.len() > 300);
    for case in cases {
        let (key, part, shape) = (key_of(case), partitionable(case), shape_of(&case["shape"]));
        let n = bits::element_count(&shape) as usize;
        let x64 = case["x64"].as_bool().unwrap();
        let dtype = case["dtype"].as_str().unwrap();
        let (bytes, size) = match dtype {
            "float32" => {
                let law = law_of(case, |x| x as f32);
                (
                    drawn(
                        n,
                        |s, o| fill_f32(key, &shape, part, law, s, o),
                        f32::to_le_bytes,
                    ),
                    4,
                )
            }
            "float64" => {
                let law = law_of(case, |x| x);
                (
                    drawn(
                        n,
                        |s, o| fill_f64(key, &shape, part, law, s, o),
                        f64::to_le_bytes,
                    ),
                    8,
                )
            }
            "float16" => {
                let law = law_of(case, |x| {
                    if x64 {
                        f16::from_f64(x)
                    } else {
                        f16::from_f32(x as f32)
                    }
                });
                (
                    drawn(
                        n,
                        |s, o| fill_f16(key, &shape, part, law, s, o),
                        f16::to_le_bytes,
                    ),
                    2,
                )
            }
            _ => {
                let law = law_of(case, |x| bf16::from_f32(x as f32));
                (
                    drawn(
                        n,
                        |s, o| fill_bf16(key, &shape, part, law, s, o),
                        bf16::to_le_bytes,
                    ),
                    2,
                )
            }
        };
        let what = format!(
            "{} {dtype} {} {shape:?} seed {} part {part}",
            case["kind"], case["params"], case["seed"]
        );
        check(&case["values"], &bytes, size, &what);
    }
}

#[test]
fn every_float32_normal() {
    // All 2^23 values float32 `normal` can take: the words k << 9.
    let f = fixture();
    let words: Vec<u32> = (0..1u32 << 23).map(|k| k << 9).collect();
    let mut out = vec![0f32; words.len()];
    PreparedF32::new(Law::Normal).apply(&words, &mut out);
    check(
        &f["exhaustive_normal_f32"],
        &le_bytes(&out, f32::to_le_bytes),
        4,
        "all f32 normals",
    );
    let case = &f["normal_f32_1m"];
    let mut out = vec![0f32; 1_000_000];
    fill_f32(key_of(case), &[1_000_000], true, Law::Normal, 0, &mut out);
    check(
        &case["values"],
        &le_bytes(&out, f32::to_le_bytes),
        4,
        "1M f32 normals",
    );
}

fn initializer_of(case: &Value) -> Initializer {
    let p = &case["params"];
    let num = |k: &str| p[k].as_f64().unwrap();
    match case["name"].as_str().unwrap() {
        "zeros" => Initializer::Zeros,
        "ones" => Initializer::Ones,
        "constant" => Initializer::Constant(num("value")),
        "uniform" => Initializer::Uniform {
            scale: num("scale"),
        },
        "normal" => Initializer::Normal {
            stddev: num("stddev"),
        },
        "truncated_normal" => Initializer::TruncatedNormal {
            stddev: num("stddev"),
            lower: num("lower"),
            upper: num("upper"),
        },
        "variance_scaling" => Initializer::VarianceScaling {
            scale: num("scale"),
            mode: match p["mode"].as_str().unwrap() {
                "fan_in" => Mode::FanIn,
                "fan_out" => Mode::FanOut,
                "fan_avg" => Mode::FanAvg,
                _ => Mode::FanGeoAvg,
            },
            distribution: match p["distribution"].as_str().unwrap() {
                "normal" => Distribution::Normal,
                "uniform" => Distribution::Uniform,
                _ => Distribution::TruncatedNormal,
            },
            axes: Axes::default(),
        },
        "glorot_uniform" => Initializer::glorot_uniform(),
        "glorot_normal" => Initializer::glorot_normal(),
        "he_uniform" => Initializer::he_uniform(),
        "he_normal" => Initializer::he_normal(),
        "lecun_uniform" => Initializer::lecun_uniform(),
        "lecun_normal" => Initializer::lecun_normal(),
        other => panic!("unknown initializer {other}"),
    }
}

fn initialized(
    init: &Initializer,
    key: JaxKey,
    shape: &[usize],
    part: bool,
    dtype: &str,
) -> (Vec<u8>, usize) {
    let n = bits::element_count(shape) as usize;
    match dtype {
        "float32" => (
            drawn(
                n,
                |s, o| init.fill_f32(key, shape, part, s, o),
                f32::to_le_bytes,
            ),
            4,
        ),
        "float64" => (
            drawn(
                n,
                |s, o| init.fill_f64(key, shape, part, s, o),
                f64::to_le_bytes,
            ),
            8,
        ),
        "float16" => (
            drawn(
                n,
                |s, o| init.fill_f16(key, shape, part, s, o),
                f16::to_le_bytes,
            ),
            2,
        ),
        _ => (
            drawn(
                n,
                |s, o| init.fill_bf16(key, shape, part, s, o),
                bf16::to_le_bytes,
            ),
            2,
        ),
    }
}

#[test]
fn initializers() {
    let f = fixture();
    for case in f["initializers"].as_array().unwrap() {
        let shape = shape_of(&case["shape"]);
        let dtype = case["dtype"].as_str().unwrap();
        let (bytes, size) = initialized(
            &initializer_of(case),
            key_of(case),
            &shape,
            partitionable(case),
            dtype,
        );
        let what = format!(
            "{} {} {dtype} {shape:?} part {}",
            case["name"],
            case["params"],
            partitionable(case)
        );
        check(&case["values"], &bytes, size, &what);
    }
}

#[test]
fn flax_parameter_keys() {
    let f = fixture();
    let Some(runs) = f.get("flax").and_then(Value::as_array) else {
        return;
    };
    for run in runs {
        let root = JaxKey::from_seed(u64_of(&run["seed"]), false);
        let part = partitionable(run);
        for param in run["params"].as_array().unwrap() {
            let path: Vec<&str> = param["module_path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let key = param_key(root, &path, u64_of(&param["counter"]), false);
            let expected: Vec<u32> = param["key"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| u64_of(v) as u32)
                .collect();
            assert_eq!(key.0.to_vec(), expected, "key of {}", param["param"]);
            let init = match param["initializer"].as_str().unwrap() {
                "lecun_normal" => Initializer::lecun_normal(),
                "zeros" => Initializer::Zeros,
                _ => Initializer::Normal { stddev: 0.1 },
            };
            let shape = shape_of(&param["shape"]);
            let (bytes, size) = initialized(&init, key, &shape, part, "float32");
            check(
                &param["values"],
                &bytes,
                size,
                &format!("flax {}", param["param"]),
            );
        }
    }
}
