//! `probe --hf-config CONFIG --recipe R,...` (issue 25): a family's residual stack,
//! initialized by each recipe, on fixed seeds. The claims checked are the ones the
//! recipes' formulas make exact or nearly so on a small Llama (hidden 64, 4 layers, 4
//! heads over 2 key-value heads, vocabulary 96):
//!
//! - zero-residual's branches output exactly zero, so the stream keeps the embedding's
//!   variance bit for bit;
//! - megatron's layer-0 attention branch is the family's with o scaled by 1/√(2L): the
//!   same embedding rows and v weights (same names, same laws, same streams), so its
//!   variance is the family's over 2L up to f32 rounding of o;
//! - u-mup's N(0, 1) weights make the first attention branch ≈ d · (heads · head_dim)
//!   times the normed input's unit variance: the stream grows by thousands at once;
//! - the weights are gen's: the embedding rows the probe reads are the ones
//!   `gen --hf-config --recipe R --seed N` writes;
//! - mixtures of experts (a tiny Mixtral, DeepSeek-V3 and Qwen3-MoE): every token goes to
//!   exactly top-k experts (the expert loads sum to batch × k), the routing weights sum
//!   as the family's router makes them (1 renormalised, DeepSeek-V3's
//!   routed_scaling_factor, under 1 without norm_topk_prob), dense layers stay dense, and
//!   zero-residual's routed outputs (weighted sums of zero) keep the stream at the
//!   embedding's variance exactly;
//! - OLMo 2 (post-norm) and Gemma 2 / Gemma 3 (pre- and post-norm) run, zero-residual
//!   exact there too (a norm of zero is zero).

use std::path::Path;

use serde_json::Value;

use crate::common::cli::{argv, assert_bad_in, run_stdout, tempdir};

const MIXTRAL: &str = r#"{"model_type": "mixtral", "architectures": ["MixtralForCausalLM"],
 "vocab_size": 96, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
 "num_attention_heads": 4, "num_key_value_heads": 2, "num_local_experts": 4,
 "num_experts_per_tok": 2}"#;

/// MLA with a low-rank query; layer 0 dense, layers 1 and 2 MoE with a shared expert.
const DEEPSEEK: &str = r#"{"model_type": "deepseek_v3",
 "architectures": ["DeepseekV3ForCausalLM"], "vocab_size": 96, "hidden_size": 64,
 "intermediate_size": 96, "moe_intermediate_size": 24, "num_hidden_layers": 3,
 "num_attention_heads": 4, "num_key_value_heads": 4, "n_routed_experts": 4,
 "n_shared_experts": 1, "num_experts_per_tok": 2, "n_group": 2, "topk_group": 1,
 "first_k_dense_replace": 1, "q_lora_rank": 32, "kv_lora_rank": 16,
 "qk_rope_head_dim": 8, "qk_nope_head_dim": 16, "v_head_dim": 12}"#;

const LLAMA: &str = r#"{"model_type": "llama", "architectures": ["LlamaForCausalLM"],
 "vocab_size": 96, "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 4,
 "num_attention_heads": 4, "num_key_value_heads": 2}"#;

fn config(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn probe_json(dir: &Path, line: &str) -> Value {
    let text = run_stdout(dir, &argv(line));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{line}: {e}\n{text}"))
}

fn recipe<'a>(probe: &'a Value, name: &str) -> &'a Value {
    probe["recipes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["recipe"] == name)
        .unwrap_or_else(|| panic!("no recipe {name}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn rows(r: &Value) -> &Vec<Value> {
    r["rows"].as_array().unwrap()
}

#[test]
fn one_entry_per_recipe_with_a_row_per_sublayer() {
    let dir = tempdir();
    let d = dir.path();
    config(d, "config.json", LLAMA);
    let p = probe_json(
        d,
        "probe --hf-config config.json --recipe family,torchtitan,megatron,olmo-mitchell --seed 3 --json",
    );
    let names: Vec<&str> = p["recipes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["recipe"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["family", "torchtitan", "megatron", "olmo-mitchell"]);
    assert_eq!(p["family"], "llama");
    assert_eq!(p["layers"], 4);
    assert_eq!(p["batch"], 64);
    assert_eq!(p["token_ids"].as_array().unwrap().len(), 64);
    for r in p["recipes"].as_array().unwrap() {
        let rows = rows(r);
        assert_eq!(rows.len(), 8, "{}", r["recipe"]);
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row["layer"], i / 2);
            assert_eq!(row["sublayer"], ["attention", "mlp"][i % 2]);
            assert!(f(&row["stream_variance"]) > 0.0);
        }
        assert!(f(&r["logits_std"]) > 0.0);
        assert!(
            ["stable", "growing", "vanishing"].contains(&r["verdict"]["kind"].as_str().unwrap())
        );
    }
    // Without --recipe: the family's own init alone.
    let own = probe_json(d, "probe --hf-config config.json --seed 3 --json");
    assert_eq!(own["recipes"].as_array().unwrap().len(), 1);
    assert_eq!(own["recipes"][0]["recipe"], "family");
    assert_eq!(own["recipes"][0]["rows"], recipe(&p, "family")["rows"]);
}

#[test]
fn zero_residual_keeps_the_embedding_variance_exactly() {
    let dir = tempdir();
    let d = dir.path();
    config(d, "config.json", LLAMA);
    let p = probe_json(
        d,
        "probe --hf-config config.json --recipe family,zero-residual --seed 11 --json",
    );
    let zero = recipe(&p, "zero-residual");
    let embedding = f(&zero["embedding_variance"]);
    // zero-residual keeps the family's embedding law: the same rows.
    assert_eq!(embedding, f(&recipe(&p, "family")["embedding_variance"]));
    for row in rows(zero) {
        assert_eq!(f(&row["branch_variance"]), 0.0, "{row}");
        assert_eq!(f(&row["stream_variance"]), embedding, "{row}");
        assert_eq!(f(&row["growth"]), 1.0, "{row}");
    }
    assert_eq!(zero["verdict"]["kind"], "stable");
}

#[test]
fn megatron_scales_the_residual_branches_by_one_over_2l() {
    let dir = tempdir();
    let d = dir.path();
    config(d, "config.json", LLAMA);
    let p = probe_json(
        d,
        "probe --hf-config config.json --recipe family,megatron --seed 5 --json",
    );
    let (family, megatron) = (rows(recipe(&p, "family")), rows(recipe(&p, "megatron")));
    let two_l = 8.0;
    // Layer 0's attention: identical input and v, o = the family's o / √(2L) before each
    // is rounded to f32 (relative 6e-8 per weight): the ratio is 1/(2L) to ~1e-7.
    let ratio = f(&megatron[0]["branch_variance"]) / f(&family[0]["branch_variance"]) * two_l;
    assert!((ratio - 1.0).abs() < 1e-5, "layer 0 attention: {ratio}");
    // The MLPs: the same gate, up and down directions (down scaled by 1/√(2L)), read at a
    // normed input whose direction differs between the two runs through the attention
    // branches. Over seeds 1-20 this ratio (×2L) ran 0.86-1.11 per layer (sd 0.048) and
    // 0.91-1.04 averaged over the 4 layers (sd 0.028): ±15% on the average is over 5 sd.
    let mlp: Vec<f64> = family
        .iter()
        .zip(megatron)
        .filter(|(a, _)| a["sublayer"] == "mlp")
        .map(|(a, b)| f(&b["branch_variance"]) / f(&a["branch_variance"]) * two_l)
        .collect();
    let mean = mlp.iter().sum::<f64>() / mlp.len() as f64;
    assert!((0.85..=1.15).contains(&mean), "MLP ratios ×2L: {mlp:?}");
}

#[test]
fn u_mup_grows_the_stream_far_faster_than_megatron() {
    let dir = tempdir();
    let d = dir.path();
    config(d, "config.json", LLAMA);
    let p = probe_json(
        d,
        "probe --hf-config config.json --recipe megatron,u-mup --seed 2 --json",
    );
    let (megatron, umup) = (recipe(&p, "megatron"), recipe(&p, "u-mup"));
    // N(0, 1) everywhere: v(h) has variance 64 (64 inputs of unit mean square), o sums
    // 64 of those: ≈ 4096 at the first attention, against an embedding of variance ≈ 1.
    let first = f(&rows(umup)[0]["branch_variance"]);
    assert!((2048.0..=8192.0).contains(&first), "{first}");
    assert_eq!(umup["verdict"]["kind"], "growing");
    assert_eq!(umup["verdict"]["layer"], 0);
    assert_eq!(umup["verdict"]["sublayer"], "attention");
    assert_eq!(megatron["verdict"]["kind"], "stable");
    let (g_megatron, g_umup) = (
        f(&megatron["verdict"]["growth"]),
        f(&umup["verdict"]["growth"]),
    );
    assert!(g_megatron < 10.0, "{g_megatron}");
    assert!(g_umup > 1e4 * g_megatron, "{g_umup} vs {g_megatron}");
}

#[test]
fn the_weights_are_the_ones_gen_writes_and_runs_repeat() {
    let dir = tempdir();
    let d = dir.path();
    config(d, "config.json", LLAMA);
    let line = "probe --hf-config config.json --recipe megatron --seed 7 --json";
    let p = probe_json(d, line);
    run_stdout(
        d,
        &argv("gen --hf-config config.json --recipe megatron --seed 7 -o model/"),
    );
    let bytes = std::fs::read(d.join("model/model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let table = st.tensor("model.embed_tokens.weight").unwrap();
    let values: Vec<f64> = table
        .data()
        .chunks_exact(4)
        .map(|b| f64::from(f32::from_le_bytes(b.try_into().unwrap())))
        .collect();
    let gathered: Vec<f64> = p["token_ids"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|id| {
            let id = id.as_u64().unwrap() as usize;
            values[id * 64..(id + 1) * 64].to_vec()
        })
        .collect();
    let n = gathered.len() as f64;
    let mean = gathered.iter().sum::<f64>() / n;
    let variance = gathered
        .iter()
        .map(|v| (v - mean) * (v - mean))
        .sum::<f64>()
        / n;
    let probed = f(&p["recipes"][0]["embedding_variance"]);
    assert!(
        ((variance - probed) / probed).abs() < 1e-12,
        "{variance} vs {probed}"
    );
    // Same seed, same numbers; another seed, other numbers.
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    assert_eq!(strip(probe_json(d, line)), strip(p.clone()));
    let other = probe_json(
        d,
        "probe --hf-config config.json --recipe megatron --seed 8 --json",
    );
    assert_ne!(other["recipes"][0]["rows"], p["recipes"][0]["rows"]);
}

#[test]
fn table_chart_and_plot() {
    let dir = tempdir();
    let d = dir.path();
    config(d, "config.json", LLAMA);
    let text = run_stdout(
        d,
        &argv(
            "probe --hf-config config.json --recipe family,u-mup --seed 1 --detail --plot stack.svg",
        ),
    );
    for needle in [
        "RECIPE",
        "GROWTH",
        "u-mup: growing",
        "family: stable",
        "Residual stream variance",
        "BRANCH/STREAM",
        "plot: stack.svg",
    ] {
        assert!(text.contains(needle), "'{needle}' not in\n{text}");
    }
    let svg = std::fs::read_to_string(d.join("stack.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("u-mup"));
}

#[test]
fn other_families_run() {
    let dir = tempdir();
    let d = dir.path();
    let configs = [
        (
            "gpt2",
            r#"{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 96,
             "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 40}"#,
        ),
        (
            "gemma",
            r#"{"model_type": "gemma", "architectures": ["GemmaForCausalLM"], "vocab_size": 96,
             "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 16}"#,
        ),
        (
            "phi3",
            r#"{"model_type": "phi3", "architectures": ["Phi3ForCausalLM"], "vocab_size": 96,
             "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
             "num_attention_heads": 4, "pad_token_id": 5}"#,
        ),
    ];
    for (family, text) in configs {
        config(d, &format!("{family}.json"), text);
        let p = probe_json(
            d,
            &format!(
                "probe --hf-config {family}.json --recipe family,zero-residual --seed 1 --json"
            ),
        );
        assert_eq!(p["family"], family);
        let zero = recipe(&p, "zero-residual");
        for row in rows(zero) {
            assert_eq!(f(&row["stream_variance"]), f(&zero["embedding_variance"]));
        }
        assert!(f(&rows(recipe(&p, "family"))[0]["branch_variance"]) > 0.0);
    }
    // Gemma's norms store w with scale 1 + w (0 at init) and its embedding is scaled by
    // √d: the family's embedding variance is 64 · 0.02².
    let g = probe_json(d, "probe --hf-config gemma.json --seed 1 --json");
    let e = f(&g["recipes"][0]["embedding_variance"]);
    assert!((e / (64.0 * 4e-4) - 1.0).abs() < 0.1, "{e}");
    assert!(f(&g["recipes"][0]["logits_std"]) > 0.0);
}

#[test]
fn bad_input_gets_one_line_and_exit_code_2() {
    let dir = tempdir();
    let d = dir.path();
    config(d, "config.json", LLAMA);
    config(
        d,
        "mamba.json",
        r#"{"model_type": "mamba", "architectures": ["MambaForCausalLM"], "hidden_size": 64}"#,
    );
    config(
        d,
        "bert.json",
        r#"{"model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": 96,
         "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
         "intermediate_size": 48}"#,
    );
    config(d, "mixtral.json", MIXTRAL);
    config(
        d,
        "too_many.json",
        &MIXTRAL.replace(r#""num_experts_per_tok": 2"#, r#""num_experts_per_tok": 5"#),
    );
    config(
        d,
        "groups.json",
        &DEEPSEEK.replace(r#""n_group": 2"#, r#""n_group": 3"#),
    );
    let cases: &[(&str, &[&str])] = &[
        (
            "probe --hf-config config.json --layers 8-8",
            &["--layers and --hf-config"],
        ),
        (
            "probe --hf-config config.json --recipe titan",
            &["unknown recipe 'titan'", "megatron"],
        ),
        (
            "probe --hf-config config.json --recipe megatron,,u-mup",
            &["empty recipe name"],
        ),
        // A state-space family: a recipe says it does not apply; the family's own init
        // is refused by the stack model.
        (
            "probe --hf-config mamba.json --recipe megatron",
            &["recipe megatron", "mamba family"],
        ),
        (
            "probe --hf-config mamba.json",
            &["mamba is a state-space model"],
        ),
        // Routers torch.topk could not run.
        (
            "probe --hf-config too_many.json",
            &["num_experts_per_tok 5", "4 experts"],
        ),
        (
            "probe --hf-config groups.json --recipe megatron",
            &["n_group 3", "4 experts"],
        ),
        ("probe --hf-config bert.json", &["bert", "pre-norm"]),
        (
            "probe --hf-config config.json --scheme he-normal",
            &["--scheme"],
        ),
        (
            "probe --layers 8-8 --recipe megatron",
            &["--recipe needs --hf-config"],
        ),
        ("probe", &["--layers", "--hf-config"]),
        ("probe --hf-config config.json --batch 0", &["--batch 0"]),
        ("probe --hf-config missing.json", &["missing.json"]),
        (
            "probe --hf-config config.json --max-memory 10KB",
            &["memory budget", "scaled-down config"],
        ),
        // A mixture's expert stacks count against the budget too.
        (
            "probe --hf-config mixtral.json --max-memory 40KB",
            &["memory budget", "scaled-down config"],
        ),
    ];
    for (line, needles) in cases {
        assert_bad_in(d, &argv(line), 2, needles);
    }
}

/// The MLP rows of a recipe with their routing (null for dense MLPs).
fn mlp_rows(r: &Value) -> Vec<&Value> {
    rows(r)
        .iter()
        .filter(|row| row["sublayer"] == "mlp")
        .collect()
}

/// Checks every MoE row routes each of the batch's tokens to exactly k experts; returns
/// the routed layers.
fn routed_layers(p: &Value, r: &Value, experts: usize, k: usize) -> Vec<u64> {
    let batch = p["batch"].as_u64().unwrap() as usize;
    let mut layers = Vec::new();
    for row in mlp_rows(r) {
        let routing = &row["routing"];
        if routing.is_null() {
            continue;
        }
        layers.push(row["layer"].as_u64().unwrap());
        let load: Vec<usize> = routing["load"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(load.len(), experts, "{row}");
        assert_eq!(load.iter().sum::<usize>(), batch * k, "{row}");
        // Top-k distinct experts per token: no expert gets a token twice.
        assert!(load.iter().all(|&n| n <= batch), "{row}");
        assert_eq!(routing["top_k"], k);
    }
    layers
}

#[test]
fn mixtral_routes_every_token_to_exactly_top_k_experts() {
    let dir = tempdir();
    let d = dir.path();
    config(d, "mixtral.json", MIXTRAL);
    let p = probe_json(
        d,
        "probe --hf-config mixtral.json --recipe family,megatron --batch 50 --seed 4 --json",
    );
    assert_eq!(p["family"], "mixtral");
    assert_eq!(p["moe"]["experts"], 4);
    assert_eq!(p["moe"]["top_k"], 2);
    // Either layout gen writes (fused 3-D stacks or one 2-D tensor per expert) routes alike.
    assert!(
        ["fused 3-D stacks", "per-expert 2-D tensors"]
            .contains(&p["moe"]["layout"].as_str().unwrap()),
        "{}",
        p["moe"]
    );
    assert_eq!(p["moe"]["shared_experts"], false);
    for name in ["family", "megatron"] {
        let r = recipe(&p, name);
        assert_eq!(rows(r).len(), 4);
        assert_eq!(routed_layers(&p, r, 4, 2), [0, 1], "{name}");
        for row in mlp_rows(r) {
            // Mixtral renormalises the top-k softmax weights: they sum to 1.
            let sum = f(&row["routing"]["weight_sum"]);
            assert!((sum - 1.0).abs() < 1e-12, "{sum}");
            assert!(f(&row["branch_variance"]) > 0.0);
            assert_eq!(
                f(&row["branch_variance"]),
                f(&row["routing"]["routed_variance"])
            );
        }
        for row in rows(r).iter().filter(|r| r["sublayer"] == "attention") {
            assert!(row["routing"].is_null());
        }
    }
    // megatron gives the experts' down projections the dense down's σ₀/√(2L) (2L = 4):
    // layer 0's routed branch comes out near the family's over 2L. Not exactly: the MLP
    // reads the stream after the attention branch, which megatron scales too, so the
    // normed input (and with it the routing) differs; a factor of 2 either way.
    let (family, megatron) = (
        mlp_rows(recipe(&p, "family")),
        mlp_rows(recipe(&p, "megatron")),
    );
    let layer0 = |r: &Value| f(&r["branch_variance"]);
    let ratio = layer0(megatron[0]) / layer0(family[0]) * 4.0;
    assert!((0.5..2.0).contains(&ratio), "{ratio}");
}

#[test]
fn deepseek_v3_routes_groups_adds_shared_experts_and_keeps_dense_layers() {
    let dir = tempdir();
    let d = dir.path();
    config(d, "deepseek.json", DEEPSEEK);
    let p = probe_json(
        d,
        "probe --hf-config deepseek.json --recipe family,megatron --batch 40 --seed 9 --json",
    );
    assert_eq!(p["family"], "deepseek_v3");
    assert_eq!(p["moe"]["layers"], serde_json::json!([1, 2]));
    assert_eq!(p["moe"]["shared_experts"], true);
    let text = p["model"].to_string();
    assert!(text.contains("MLA") && text.contains("kv_b_proj"), "{text}");
    assert!(
        text.contains("sigmoid") && text.contains("2 groups"),
        "{text}"
    );
    for name in ["family", "megatron"] {
        let r = recipe(&p, name);
        assert_eq!(rows(r).len(), 6);
        // Layer 0 is dense (first_k_dense_replace 1).
        assert_eq!(routed_layers(&p, r, 4, 2), [1, 2], "{name}");
        for row in mlp_rows(r).iter().filter(|row| !row["routing"].is_null()) {
            let routing = &row["routing"];
            // norm_topk_prob (default true) then routed_scaling_factor 2.5.
            let sum = f(&routing["weight_sum"]);
            assert!((sum - 2.5).abs() < 1e-12, "{sum}");
            // topk_group 1 of n_group 2: each token's two experts share a group
            // ({0, 1} or {2, 3}), so each group's experts have equal loads.
            let load = routing["load"].as_array().unwrap();
            assert_eq!(load[0], load[1], "{routing}");
            assert_eq!(load[2], load[3], "{routing}");
            assert!(f(&routing["shared_variance"]) > 0.0);
            assert!(f(&routing["routed_variance"]) > 0.0);
        }
        for row in rows(r) {
            assert!(f(&row["branch_variance"]) > 0.0, "{row}");
        }
        assert!(["stable", "growing"].contains(&r["verdict"]["kind"].as_str().unwrap()));
    }
}

#[test]
fn qwen3_moe_dense_layers_and_unnormalised_weights() {
    let dir = tempdir();
    let d = dir.path();
    // Layer 0 dense by mlp_only_layers, layer 2 by decoder_sparse_step 2 (1 and 3 sparse).
    config(
        d,
        "qwen3_moe.json",
        r#"{"model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"],
         "vocab_size": 96, "hidden_size": 64, "intermediate_size": 80,
         "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 4,
         "num_experts": 3, "num_experts_per_tok": 2, "moe_intermediate_size": 24,
         "mlp_only_layers": [0], "decoder_sparse_step": 2, "attention_bias": true,
         "tie_word_embeddings": true, "pad_token_id": 3}"#,
    );
    let p = probe_json(d, "probe --hf-config qwen3_moe.json --seed 2 --json");
    let r = recipe(&p, "family");
    assert_eq!(routed_layers(&p, r, 3, 2), [1, 3]);
    assert!(
        p["mlp"].as_str().unwrap().contains("layers 0, 2"),
        "{}",
        p["mlp"]
    );
    for row in mlp_rows(r).iter().filter(|row| !row["routing"].is_null()) {
        // norm_topk_prob false: the top 2 of 3 softmax weights sum to under 1 (and over
        // 2/3: the two largest of three).
        let sum = f(&row["routing"]["weight_sum"]);
        assert!(sum < 1.0 && sum > 2.0 / 3.0, "{sum}");
        assert!(row["routing"]["shared_variance"].is_null());
    }
    // The ids skip the padding row.
    assert!(p["token_ids"].as_array().unwrap().iter().all(|id| id != 3));
}

#[test]
fn zero_residual_keeps_the_embedding_variance_through_moe_layers() {
    let dir = tempdir();
    let d = dir.path();
    config(d, "mixtral.json", MIXTRAL);
    config(d, "deepseek.json", DEEPSEEK);
    for cfg in ["mixtral.json", "deepseek.json"] {
        let p = probe_json(
            d,
            &format!("probe --hf-config {cfg} --recipe zero-residual --seed 6 --json"),
        );
        let zero = recipe(&p, "zero-residual");
        let embedding = f(&zero["embedding_variance"]);
        assert!(embedding > 0.0);
        for row in rows(zero) {
            assert_eq!(f(&row["branch_variance"]), 0.0, "{cfg}: {row}");
            assert_eq!(f(&row["stream_variance"]), embedding, "{cfg}: {row}");
        }
        // The routing still ran: every token to k experts, the weighted sum of zeros.
        let k = p["moe"]["top_k"].as_u64().unwrap() as usize;
        let routed = routed_layers(&p, zero, 4, k);
        assert!(!routed.is_empty(), "{cfg}");
        for row in mlp_rows(zero).iter().filter(|r| !r["routing"].is_null()) {
            assert_eq!(f(&row["routing"]["routed_variance"]), 0.0);
        }
        assert_eq!(zero["verdict"]["kind"], "stable");
    }
}

#[test]
fn olmo2_and_gemma2_and_gemma3_run_with_their_norm_placement() {
    let dir = tempdir();
    let d = dir.path();
    let configs = [
        (
            "olmo2",
            "post-norm",
            r#"{"model_type": "olmo2", "architectures": ["Olmo2ForCausalLM"],
             "vocab_size": 96, "hidden_size": 64, "intermediate_size": 96,
             "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
             "eos_token_id": 0}"#,
        ),
        (
            "gemma2",
            "pre- and post-norm",
            r#"{"model_type": "gemma2", "architectures": ["Gemma2ForCausalLM"],
             "vocab_size": 96, "hidden_size": 64, "intermediate_size": 96,
             "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
             "head_dim": 16}"#,
        ),
        (
            "gemma3_text",
            "pre- and post-norm",
            r#"{"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"],
             "vocab_size": 96, "hidden_size": 64, "intermediate_size": 96,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 1,
             "head_dim": 16}"#,
        ),
    ];
    for (family, residual, text) in configs {
        config(d, &format!("{family}.json"), text);
        let p = probe_json(
            d,
            &format!(
                "probe --hf-config {family}.json --recipe family,megatron,zero-residual \
                 --seed 1 --json"
            ),
        );
        assert_eq!(p["family"], family);
        assert_eq!(p["residual"], residual);
        assert!(p["moe"].is_null());
        let zero = recipe(&p, "zero-residual");
        for row in rows(zero) {
            assert_eq!(f(&row["stream_variance"]), f(&zero["embedding_variance"]));
        }
        let own = recipe(&p, "family");
        for row in rows(own) {
            assert!(f(&row["branch_variance"]) > 0.0, "{family}: {row}");
        }
        if family == "olmo2" {
            // A post-norm branch is an RMSNorm's output with unit weights: mean square
            // m/(m + ε) per token for a raw branch of mean square m, under 1 (at this
            // init m is well under ε = 1e-5, so far under 1); megatron's smaller o and
            // down give a smaller m, so a smaller normed branch at layer 0.
            let first = |r: &Value| f(&rows(r)[0]["branch_variance"]);
            for r in [own, recipe(&p, "megatron")] {
                for row in rows(r) {
                    let v = f(&row["branch_variance"]);
                    assert!(v > 0.0 && v < 1.0, "{row}");
                }
            }
            assert!(first(recipe(&p, "megatron")) < first(own));
        } else {
            // Gemma: embedding × √d (64 · σ²), zero-init (1 + w) norms.
            let e = f(&own["embedding_variance"]);
            assert!((e / (64.0 * 4e-4) - 1.0).abs() < 0.1, "{e}");
        }
    }
    // Gemma 2 caps its logits (final_logit_softcapping 30 by default): said in the model.
    let p = probe_json(d, "probe --hf-config gemma2.json --seed 1 --json");
    assert!(
        p["model"].to_string().contains("softcapped"),
        "{}",
        p["model"]
    );
}
