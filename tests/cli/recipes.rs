//! `weightinit recipes` and `gen --hf-config --recipe NAME` through the binary: the list
//! (text and JSON), what a recipe changes in a plan, refusals (one line, exit code 2, no
//! file), and `verify` of what a recipe wrote. The laws themselves are checked against
//! their sources' formulas in tests/statistics/recipes.rs.

use serde_json::Value;

use crate::common::cli::*;

const LLAMA: &str = r#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "vocab_size": 96, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3,
  "num_attention_heads": 4, "initializer_range": 0.02}"#;

#[test]
fn recipes_lists_every_recipe_with_its_source() {
    let dir = tempdir();
    let text = run_stdout(dir.path(), &["recipes"]);
    let json: Value =
        serde_json::from_str(&run_stdout(dir.path(), &["recipes", "--json"])).unwrap();
    let recipes = json.as_array().unwrap();
    let names: Vec<&str> = recipes
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "torchtitan",
            "megatron",
            "olmo-mitchell",
            "olmo-full-megatron",
            "olmo-core-llama",
            "olmo-core-llama-depth",
            "neox",
            "u-mup",
            "zero-residual"
        ]
    );
    for r in recipes {
        let name = r["name"].as_str().unwrap();
        assert!(text.contains(name), "{name} missing from the table");
        assert!(
            !r["source"].as_str().unwrap().is_empty(),
            "{name}: no source"
        );
        assert!(
            r["laws"].as_object().is_some_and(|l| !l.is_empty()),
            "{name}"
        );
    }
    assert!(text.contains("torchtitan 0.3.0"), "{text}");
}

fn plan(dir: &std::path::Path, recipe: &str) -> Value {
    serde_json::from_str(&run_stdout(
        dir,
        &argv(&format!(
            "gen --hf-config config.json --recipe {recipe} --dry-run --report json -o planned/"
        )),
    ))
    .unwrap()
}

fn std_of(plan: &Value, name: &str) -> f64 {
    let t = plan["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the plan"));
    t["distribution"]["std"].as_f64().unwrap()
}

/// megatron scales o and down by 1/√(2L) and leaves norms at 1; --rule still wins
/// over the recipe; the dry run names the recipe's laws.
#[test]
fn a_recipe_changes_the_weights_it_names() {
    let dir = tempdir();
    std::fs::write(dir.path().join("config.json"), LLAMA).unwrap();
    let p = plan(dir.path(), "megatron");
    let scaled = 0.02 / 6f64.sqrt();
    assert!((std_of(&p, "model.layers.2.self_attn.o_proj.weight") - scaled).abs() < 1e-15);
    assert!((std_of(&p, "model.layers.0.mlp.down_proj.weight") - scaled).abs() < 1e-15);
    assert_eq!(std_of(&p, "model.layers.0.mlp.up_proj.weight"), 0.02);
    let t = plan(dir.path(), "torchtitan");
    let depth = |l: f64| 0.02 / (2.0 * (l + 1.0)).sqrt();
    for l in 0..3 {
        let name = format!("model.layers.{l}.self_attn.o_proj.weight");
        assert!(
            (std_of(&t, &name) - depth(l as f64)).abs() < 1e-15,
            "{name}"
        );
    }
    assert_eq!(std_of(&t, "model.embed_tokens.weight"), 1.0);
    let ruled: Value = serde_json::from_str(&run_stdout(
        dir.path(),
        &argv("gen --hf-config config.json --recipe torchtitan --rule *.embed_tokens.weight=normal:std=0.5 --dry-run --report json -o m/"),
    ))
    .unwrap();
    assert_eq!(std_of(&ruled, "model.embed_tokens.weight"), 0.5);
}

/// What a recipe writes passes `verify` against the law it reports, tensor by tensor.
#[test]
fn what_a_recipe_writes_verifies() {
    let dir = tempdir();
    std::fs::write(dir.path().join("config.json"), LLAMA).unwrap();
    run_ok(
        dir.path(),
        &argv("gen --hf-config config.json --recipe olmo-mitchell --seed 3 -o m/"),
    );
    let p = plan(dir.path(), "olmo-mitchell");
    let mut checked = 0;
    for t in p["tensors"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let scheme = t["scheme"].as_str().unwrap();
        let out = run(
            dir.path(),
            &[
                "verify",
                "m/model.safetensors",
                "--tensor",
                name,
                "--scheme",
                scheme,
                "--layout",
                "oi",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name} {scheme}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        checked += 1;
    }
    assert!(checked >= 20, "{checked}");
}

#[test]
fn an_unknown_recipe_lists_the_known() {
    let dir = tempdir();
    std::fs::write(dir.path().join("config.json"), LLAMA).unwrap();
    assert_bad_in(
        dir.path(),
        &argv("gen --hf-config config.json --recipe titan -o m/"),
        2,
        &["unknown recipe 'titan'", "torchtitan", "zero-residual"],
    );
}

#[test]
fn a_recipe_needs_hf_config() {
    assert_bad(
        &argv("gen --shape 4x4 --scheme normal --recipe megatron -o w.npy"),
        2,
        &["--hf-config"],
    );
}

/// Phi-3 fuses gate and up in one tensor: a recipe that gives them one law applies,
/// torchtitan (gate 0.02, up depth-scaled) is refused naming the tensor.
#[test]
fn fused_parts_with_different_laws_are_refused() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "vocab_size": 96,
            "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
            "num_attention_heads": 4, "pad_token_id": 5}"#,
    )
    .unwrap();
    run_ok(
        dir.path(),
        &argv("gen --hf-config config.json --recipe megatron --dry-run -o m/"),
    );
    assert_bad_in(
        dir.path(),
        &argv("gen --hf-config config.json --recipe torchtitan -o m/"),
        2,
        &[
            "torchtitan",
            "model.layers.0.mlp.gate_up_proj.weight",
            "gate",
            "up",
        ],
    );
}

/// Mixtral under torchtitan: in the default layout (the Hub's per-expert tensors) each
/// expert's gate (w1) is TN(0.02, ±2) and its up (w3) and down (w2) depth-scaled,
/// TN(0.02/√(2(l+1)), ±2), as the router; in the fused layout gate and up share
/// `experts.gate_up_proj`, so the recipe is refused in one line naming it.
#[test]
fn torchtitan_writes_mixtral_experts_apart_and_refuses_them_fused() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"architectures": ["MixtralForCausalLM"], "model_type": "mixtral",
            "vocab_size": 96, "hidden_size": 64, "intermediate_size": 96,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "num_local_experts": 3}"#,
    )
    .unwrap();
    let plan = plan(dir.path(), "torchtitan");
    let law = |name: &str| {
        let t = plan["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in the plan"));
        let d = &t["distribution"];
        (
            d["std"].as_f64().unwrap(),
            d["low"].as_f64(),
            d["high"].as_f64(),
        )
    };
    for l in 0..2 {
        let depth = 0.02 / (2.0 * (l as f64 + 1.0)).sqrt();
        for e in 0..3 {
            let expert = format!("model.layers.{l}.block_sparse_moe.experts.{e}");
            for (part, std) in [("w1", 0.02), ("w3", depth), ("w2", depth)] {
                let (got, low, high) = law(&format!("{expert}.{part}.weight"));
                assert!(
                    (got - std).abs() < 1e-12,
                    "{expert}.{part}: std {got}, want {std}"
                );
                assert_eq!((low, high), (Some(-2.0), Some(2.0)), "{expert}.{part}");
            }
        }
        let router = format!("model.layers.{l}.block_sparse_moe.gate.weight");
        assert!((law(&router).0 - depth).abs() < 1e-12, "{router}");
    }
    let err = assert_bad_in(
        dir.path(),
        &argv("gen --hf-config config.json --recipe torchtitan --hf-experts fused -o m/"),
        2,
        &[
            "torchtitan",
            "'model.layers.0.mlp.experts.gate_up_proj'",
            "--hf-experts original",
        ],
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

/// A family whose template names no attention or MLP weight (a state-space model, or
/// here one's own template) is refused by every recipe.
#[test]
fn a_family_without_block_roles_is_refused() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("family.toml"),
        r#"
family = "mine"
architectures = ["MineForCausalLM"]
source = "a test"
[defaults]
hidden_size = 8
[[tensor]]
name = "embed.weight"
shape = ["16", "hidden_size"]
scheme = "normal:std=0.02"
role = "embedding"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"architectures": ["MineForCausalLM"]}"#,
    )
    .unwrap();
    run_ok(
        dir.path(),
        &argv("gen --hf-config config.json --spec family.toml --dry-run -o m/"),
    );
    assert_bad_in(
        dir.path(),
        &argv("gen --hf-config config.json --spec family.toml --recipe megatron -o m/"),
        2,
        &["recipe megatron", "mine family"],
    );
}
