//! `gen --hf-config --rng torch`: bit for bit what transformers writes.
//! tests/fixtures/hf_torch/FAMILY.json was written by
//! tests/fixtures/make_hf_torch_fixtures.py with transformers 5.25 and torch 2.15 on CPU
//! (by hand; CI needs neither): for small configs of each family, in float32 and in
//! bfloat16, with seeds 0 and 1234, `torch.manual_seed(seed)`, `from_config`,
//! `save_pretrained`, and every tensor of the model.safetensors written, in the order
//! of its data, with its shape, dtype, the SHA-256 of its data bytes and its first
//! values. A mixture of experts' cases also hold the fused layout
//! (`save_original_format=False`, what `--hf-experts fused` writes).
//!
//! Mamba and Mamba-2 are refused with `--rng torch` (their dt bias goes through torch's
//! vectorized exp and log, which weightinit does not reproduce), and so is a recipe.

use serde_json::Value;

use crate::common::cli::*;

/// The families whose experts save_pretrained converts to the Hub's per-expert layout.
const MOE: [&str; 4] = ["mixtral", "qwen3_moe", "olmoe", "deepseek_v3"];

fn fixture(family: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/hf_torch/{family}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("reading the fixture"))
        .expect("parsing the fixture")
}

fn names_of(tensors: &[Value]) -> Vec<String> {
    tensors
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

macro_rules! family {
    ($($test:ident: $family:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                draws_what_transformers_saves($family);
            }
        )*
    };
}

family!(
    llama_torch_bits: "llama",
    mistral_torch_bits: "mistral",
    qwen2_torch_bits: "qwen2",
    qwen3_torch_bits: "qwen3",
    gemma_torch_bits: "gemma",
    phi3_torch_bits: "phi3",
    gpt2_torch_bits: "gpt2",
    bert_torch_bits: "bert",
    mixtral_torch_bits: "mixtral",
    qwen3_moe_torch_bits: "qwen3_moe",
    olmoe_torch_bits: "olmoe",
    deepseek_v3_torch_bits: "deepseek_v3",
    olmo2_torch_bits: "olmo2",
    gemma2_torch_bits: "gemma2",
    gemma3_text_torch_bits: "gemma3_text",
);

/// Every case of a family, in every layout the fixture holds: `gen --hf-config
/// --rng torch --seed S` writes the tensors transformers saved after
/// `torch.manual_seed(S)`, the same names in the same order, shapes, dtypes and bytes.
fn draws_what_transformers_saves(family: &str) {
    let fixture = fixture(family);
    assert_eq!(fixture["family"], family);
    let cases = fixture["cases"].as_array().unwrap();
    let moe = MOE.contains(&family);
    // The fixture still covers both dtypes and both seeds.
    for dtype in ["float32", "bfloat16"] {
        for seed in [0, 1234] {
            assert!(
                cases
                    .iter()
                    .any(|c| c["config"]["torch_dtype"] == dtype && c["seed"] == seed),
                "{family}: the fixture lost its {dtype} cases with seed {seed}"
            );
        }
    }
    for (k, case) in cases.iter().enumerate() {
        assert_eq!(
            case.get("tensors_fused").is_some(),
            moe,
            "{family} case {k}: a fused layout exactly for a mixture of experts"
        );
        for (key, flags) in [("tensors", ""), ("tensors_fused", " --hf-experts fused")] {
            if let Some(want) = case.get(key) {
                same_bits(family, k, case, want.as_array().unwrap(), flags);
            }
        }
    }
}

/// One case of a family in one layout (`flags` given to `gen`).
fn same_bits(family: &str, k: usize, case: &Value, want: &[Value], flags: &str) {
    let seed = case["seed"].as_u64().expect("the case's seed");
    let dtype = case["config"]["torch_dtype"].as_str().unwrap_or("?");
    let what = format!("{family} case {k} (seed {seed}, {dtype}{flags})");
    let dir = tempdir();
    std::fs::write(dir.path().join("config.json"), case["config"].to_string()).unwrap();
    run_ok(
        dir.path(),
        &argv(&format!(
            "gen --hf-config config.json --rng torch --seed {seed} -o model/{flags}"
        )),
    );
    let bytes = std::fs::read(dir.path().join("model/model.safetensors"))
        .unwrap_or_else(|e| panic!("{what}: model/model.safetensors: {e}"));
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes)
        .unwrap_or_else(|e| panic!("{what}: safetensors header: {e:?}"));
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .unwrap_or_else(|e| panic!("{what}: safetensors file: {e:?}"));

    // The same set of names. (The order of their data is not compared: safetensors'
    // Python writer lays tensors out by dtype, then name; gen writes them in
    // save_pretrained's state-dict order, which tests/streams/hf_config.rs checks.)
    let got = metadata.offset_keys();
    let expected = names_of(want);
    let (mut got_set, mut want_set) = (got.clone(), expected.clone());
    got_set.sort();
    want_set.sort();
    let missing: Vec<_> = want_set.iter().filter(|n| !got_set.contains(n)).collect();
    let extra: Vec<_> = got_set.iter().filter(|n| !want_set.contains(n)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: tensor names differ; missing {missing:?}, not in transformers' file {extra:?}"
    );

    let mut differ = Vec::new();
    for w in want {
        let name = w["name"].as_str().unwrap();
        let view = file.tensor(name).unwrap();
        let shape: Vec<usize> = w["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(view.shape(), shape.as_slice(), "{what}: {name} shape");
        assert_eq!(
            format!("{:?}", view.dtype()),
            w["dtype"].as_str().unwrap(),
            "{what}: {name} dtype"
        );
        if sha256_hex(view.data()) != w["sha256"].as_str().unwrap() {
            differ.push(format!(
                "  {name} {shape:?} {}: transformers {} vs ours {:?}",
                w["dtype"].as_str().unwrap(),
                w["head"],
                crate::hf_config::values_of(&view)
                    .into_iter()
                    .take(4)
                    .collect::<Vec<_>>()
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{what}: {} of {} tensors differ in their bytes (first values shown):\n{}",
        differ.len(),
        want.len(),
        differ.join("\n")
    );
}

/// Mamba and Mamba-2 with `--rng torch`: refused in one line naming the family, exit
/// code 2, nothing written.
#[test]
fn mamba_families_refuse_rng_torch() {
    for family in ["mamba", "mamba2"] {
        let fixture = fixture(family);
        for (k, case) in fixture["cases"].as_array().unwrap().iter().enumerate() {
            let what = format!("{family} case {k}");
            let dir = tempdir();
            std::fs::write(dir.path().join("config.json"), case["config"].to_string()).unwrap();
            let out = run(
                dir.path(),
                &argv("gen --hf-config config.json --rng torch --seed 0 -o model/"),
            );
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{what}: exit code\n{err}");
            assert_no_panic(&out);
            assert_eq!(err.lines().count(), 1, "{what}: one line on stderr:\n{err}");
            assert!(
                err.to_lowercase().contains("mamba"),
                "{what}: the error does not name the family:\n{err}"
            );
            let model = dir.path().join("model");
            assert!(
                !model.exists() || listing(&model).is_empty(),
                "{what}: files left behind: {:?}",
                listing(&model)
            );
            let rest: Vec<String> = listing(dir.path())
                .into_iter()
                .filter(|p| p != "model/")
                .collect();
            assert_eq!(rest, ["config.json"], "{what}: files left behind");
        }
    }
}

/// A recipe draws from its own laws, which `--rng torch` does not follow: refused.
#[test]
fn rng_torch_refuses_a_recipe() {
    let dir = tempdir();
    let case = &fixture("llama")["cases"][0];
    std::fs::write(dir.path().join("config.json"), case["config"].to_string()).unwrap();
    assert_bad_in(
        dir.path(),
        &argv("gen --hf-config config.json --rng torch --recipe torchtitan -o m/"),
        2,
        &["--recipe"],
    );
}

/// Each tensor carries its own place in transformers' run of draws, so the shards of
/// `--max-shard-size` written by separate processes (`--shard I/N`) hold the same bytes
/// transformers saved: here a Mixtral case (per-expert slices of fused draws) in bfloat16
/// as three files written by three processes, in reverse order.
#[test]
fn shards_written_apart_hold_transformers_bytes() {
    let fixture = fixture("mixtral");
    let case = fixture["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["config"]["torch_dtype"] == "bfloat16" && c["seed"] == 1234)
        .expect("a bfloat16 case with seed 1234");
    let dir = tempdir();
    std::fs::write(dir.path().join("config.json"), case["config"].to_string()).unwrap();
    for i in [3, 2, 1] {
        run_ok(
            dir.path(),
            &argv(&format!(
                "gen --hf-config config.json --rng torch --seed 1234 --max-shard-size 20KB \
                 --shard {i}/3 -o model/"
            )),
        );
    }
    let mut got = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir.path().join("model")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "safetensors") {
            let bytes = std::fs::read(&path).unwrap();
            let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            for (name, view) in file.tensors() {
                got.insert(name, sha256_hex(view.data()));
            }
        }
    }
    let want = case["tensors"].as_array().unwrap();
    assert_eq!(got.len(), want.len(), "every tensor in one of the shards");
    for w in want {
        let name = w["name"].as_str().unwrap();
        assert_eq!(
            got.get(name).map(String::as_str),
            w["sha256"].as_str(),
            "{name} across shards"
        );
    }
}

/// A template of one's own carries its own schedule; one that never draws a random
/// tensor, or last draws it from another law than its scheme, is refused with one line
/// before anything is written.
#[test]
fn a_templates_schedule_must_draw_what_it_writes() {
    let template = |steps: &str| {
        format!(
            r#"
family = "toy"
source = "a test"

[[tensor]]
name = "embed.weight"
shape = ["8", "4"]
scheme = "normal:std=0.02"

[[tensor]]
name = "fc.weight"
shape = ["4", "4"]
scheme = "normal:std=0.02"

[[torch]]
steps = [{steps}]
"#
        )
    };
    let dir = tempdir();
    std::fs::write(dir.path().join("config.json"), r#"{"model_type": "toy"}"#).unwrap();
    let good = r#""embedding embed", "linear fc", "init embed.weight", "init fc.weight""#;
    std::fs::write(dir.path().join("good.toml"), template(good)).unwrap();
    run_ok(
        dir.path(),
        &argv("gen --hf-config config.json --spec good.toml --rng torch --seed 3 -o ok/"),
    );
    for (steps, needle) in [
        (
            r#""embedding embed", "init embed.weight""#,
            "never draws 'fc.weight'",
        ),
        (
            r#""init embed.weight", "draw fc.weight normal:std=0.5""#,
            "last draws 'fc.weight' from normal:std=0.5",
        ),
    ] {
        std::fs::write(dir.path().join("bad.toml"), template(steps)).unwrap();
        assert_bad_in(
            dir.path(),
            &argv("gen --hf-config config.json --spec bad.toml --rng torch --seed 3 -o bad/"),
            2,
            &[needle],
        );
    }
}
