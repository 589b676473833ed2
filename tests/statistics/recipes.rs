//! Init recipes (`gen --hf-config --recipe NAME`): every weight a recipe names is drawn
//! from the law its codebase's source gives it. The formulas below are written from the
//! sources (not from recipes.toml), each with its citation; each tensor's resolved law
//! must equal the formula's, its values must lie inside the truncation bounds, and a
//! one-sample KS test against the exact normal / truncated-normal CDF must pass
//! (α = 0.001, the acceptance rule of this binary).
//!
//! Notation: σ₀ the config's initializer_range, d hidden_size, d_ff the MLP width (the
//! down projection's in_features), L num_hidden_layers, l the layer index from 0.
//! TN(σ, [a, b]) is a normal of std σ truncated to [a, b] (absolute bounds, as PyTorch's
//! trunc_normal_ takes them).

use weightinit::law::Distribution;
use weightinit::request::GenRequest;

use crate::support::{draw, ks_critical, ks_statistic, stored};

/// A small Llama whose every dimension differs (so a wrong symbol shows), with σ₀ = 0.03
/// (so a recipe's hard-coded 0.02 is told apart from σ₀).
const LLAMA: &str = r#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "vocab_size": 500, "hidden_size": 192, "intermediate_size": 320, "num_hidden_layers": 4,
  "num_attention_heads": 6, "num_key_value_heads": 2, "initializer_range": 0.03,
  "tie_word_embeddings": TIED}"#;
const D: f64 = 192.0;
const D_FF: f64 = 320.0;
const L: f64 = 4.0;
const SIGMA0: f64 = 0.03;

fn normal(std: f64) -> Distribution {
    Distribution::Normal { mean: 0.0, std }
}

/// TN(σ, [−a, a]) with `a` absolute.
fn trunc_abs(std: f64, a: f64) -> Distribution {
    Distribution::TruncatedNormal {
        mean: 0.0,
        std,
        low: -a,
        high: a,
    }
}

/// TN(σ, ±kσ).
fn trunc_sigmas(std: f64, k: f64) -> Distribution {
    trunc_abs(std, k * std)
}

/// The role of a Llama tensor, from its name (independently of the templates' roles).
fn role(name: &str) -> Option<&'static str> {
    [
        ("embed_tokens.weight", "embedding"),
        ("q_proj.weight", "q"),
        ("k_proj.weight", "k"),
        ("v_proj.weight", "v"),
        ("o_proj.weight", "o"),
        ("gate_proj.weight", "gate"),
        ("up_proj.weight", "up"),
        ("down_proj.weight", "down"),
        ("lm_head.weight", "lm_head"),
    ]
    .into_iter()
    .find(|(suffix, _)| name.ends_with(suffix))
    .map(|(_, r)| r)
}

/// What each recipe's source gives a Llama weight in layer `l`; `None` for the family's
/// own law (transformers: N(0, σ₀) for every Linear and the embedding).
fn expected(recipe: &str, role: &str, l: f64) -> Option<Distribution> {
    let in_proj = matches!(role, "q" | "k" | "v");
    Some(match recipe {
        // torchtitan 0.3.0 torchtitan/models/llama3/__init__.py: _LINEAR_INIT =
        // trunc_normal_(std=0.02) (a=-2, b=2 by default) for wq/wk/wv and w1 (gate);
        // _depth_init(layer_id) = trunc_normal_(std=0.02 / (2 * (layer_id + 1)) ** 0.5)
        // (common/param_init.py depth_scaled_std) for wo and w2/w3 (down, up);
        // _EMBEDDING_INIT = normal_(std=1.0); _output_linear_init(dim): trunc_normal_(std=
        // dim**-0.5, a=-3s, b=3s).
        "torchtitan" => match role {
            _ if in_proj || role == "gate" => trunc_abs(0.02, 2.0),
            "o" | "up" | "down" => trunc_abs(0.02 / (2.0 * (l + 1.0)).sqrt(), 2.0),
            "embedding" => normal(1.0),
            "lm_head" => trunc_sigmas(D.powf(-0.5), 3.0),
            _ => return None,
        },
        // Megatron-Core 0.16.1 megatron/core/utils.py: init_method_normal(sigma) =
        // normal_(std=sigma); scaled_init_method_normal(sigma, num_layers) = normal_(std=
        // sigma / sqrt(2 * num_layers)); transformer_config.py: init_method for qkv,
        // fc1, embeddings and the output layer, output_layer_init_method for linear_proj
        // (o) and linear_fc2 (down).
        "megatron" => match role {
            "o" | "down" => normal(SIGMA0 / (2.0 * L).sqrt()),
            _ => normal(SIGMA0),
        },
        // OLMo (ai2-olmo 0.6.0) olmo/model.py, init_fn=mitchell, init_cutoff_factor None
        // → 3: std = 1/sqrt(d_model) for att_proj, ff_proj, wte and the untied ff_out;
        // attn_out_std = 1/sqrt(2·d_model·(layer_id+1)); ff_out_std = 1/sqrt(2·
        // ff_out.in_features·(layer_id+1)); initialization.py init_normal truncates at
        // ±cutoff·std.
        "olmo-mitchell" => match role {
            "o" => trunc_sigmas(1.0 / (2.0 * D * (l + 1.0)).sqrt(), 3.0),
            "down" => trunc_sigmas(1.0 / (2.0 * D_FF * (l + 1.0)).sqrt(), 3.0),
            _ => trunc_sigmas(1.0 / D.sqrt(), 3.0),
        },
        // Same file, init_fn=full_megatron: init_std for wte, att_proj, ff_proj;
        // init_std/sqrt(2·n_layers) for attn_out and ff_out; 1/sqrt(d_model) for the
        // untied ff_out (lm_head); cutoff 3.
        "olmo-full-megatron" => match role {
            "o" | "down" => trunc_sigmas(SIGMA0 / (2.0 * L).sqrt(), 3.0),
            "lm_head" => trunc_sigmas(1.0 / D.sqrt(), 3.0),
            _ => trunc_sigmas(SIGMA0, 3.0),
        },
        // OLMo-core 3.0.0 olmo_core/nn/transformer/init.py, InitMethod.llama: embeddings
        // normal_ (std 1); init_linear = trunc_normal_(std, a=-3std, b=3std); w_q, w_k,
        // w_v and w1 at std; w_out and w3 at std/(2·num_blocks)**0.5, and w2 reuses that
        // reduced std; lm_head at d_model**-0.5.
        "olmo-core-llama" | "olmo-core-llama-depth" => {
            let depth = if recipe.ends_with("depth") {
                2.0 * (l + 1.0)
            } else {
                2.0 * L
            };
            match role {
                "embedding" => normal(1.0),
                "o" | "up" | "down" => trunc_sigmas(SIGMA0 / depth.sqrt(), 3.0),
                "lm_head" => trunc_sigmas(D.powf(-0.5), 3.0),
                _ => trunc_sigmas(SIGMA0, 3.0),
            }
        }
        // GPT-NeoX (05c4de35) megatron/model/init_functions.py: small_init_init_method(dim) std =
        // sqrt(2 / (5 * dim)) as init_method; wang_init_method(n_layers, dim) std =
        // 2 / n_layers / sqrt(dim) as output_layer_init_method (attention.dense = o,
        // mlp.linear2 = down), as the Pythia configs set them.
        "neox" => match role {
            "o" | "down" => normal(2.0 / L / D.sqrt()),
            _ => normal((2.0 / (5.0 * D)).sqrt()),
        },
        // unit-scaling 0.3.5 unit_scaling/_modules.py: Linear.reset_parameters =
        // normal_(weight) (std 1); Embedding keeps nn.Embedding's N(0, 1).
        "u-mup" => normal(1.0),
        // modded-nanogpt train_gpt.py: attn c_proj and mlp c_proj weight zero_().
        "zero-residual" => match role {
            "o" | "down" => Distribution::Constant { value: 0.0 },
            _ => return None,
        },
        other => panic!("no formula for recipe {other}"),
    })
}

fn same_law(a: &Distribution, b: &Distribution) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(y.abs());
    match (a, b) {
        (
            Distribution::Normal { mean: m1, std: s1 },
            Distribution::Normal { mean: m2, std: s2 },
        ) => close(*m1, *m2) && close(*s1, *s2),
        (
            Distribution::TruncatedNormal {
                mean: m1,
                std: s1,
                low: a1,
                high: b1,
            },
            Distribution::TruncatedNormal {
                mean: m2,
                std: s2,
                low: a2,
                high: b2,
            },
        ) => close(*m1, *m2) && close(*s1, *s2) && close(*a1, *a2) && close(*b1, *b2),
        _ => a == b,
    }
}

/// Every tensor of the small Llama under `recipe` (tied or not): law, bounds and KS.
fn check_recipe(recipe: &str, tied: bool) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, LLAMA.replace("TIED", &tied.to_string())).unwrap();
    let request = GenRequest {
        hf_config: Some(config),
        recipe: Some(recipe.into()),
        seed: Some("2025".into()),
        ..GenRequest::default()
    };
    let tensors = request.tensors().expect("the recipe applies to Llama");
    let mut failures = Vec::new();
    let mut named = 0;
    for t in &tensors {
        let name = &t.spec.name;
        let Some(role) = role(name) else { continue };
        let l: f64 = name
            .split('.')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN);
        // Tied: the one saved tensor takes torchtitan's lm_head law (its embedding
        // skips init and is tied to the output, llama3 _EMBEDDING_SKIP_INIT), and the
        // embedding law elsewhere (Megatron, OLMo and OLMo-core init the embedding and
        // skip the tied head).
        let role = if tied && role == "embedding" && recipe == "torchtitan" {
            "lm_head"
        } else {
            role
        };
        let Some(want) = expected(recipe, role, l) else {
            continue;
        };
        named += 1;
        let got = t.resolved.distribution;
        if !same_law(&got, &want) {
            failures.push(format!(
                "{recipe} {name}: law {got:?}, the source says {want:?}"
            ));
            continue;
        }
        let (xs, _) = draw(t);
        if let Distribution::Constant { value } = want {
            if xs.iter().any(|&x| x != value) {
                failures.push(format!("{recipe} {name}: not all {value}"));
            }
            continue;
        }
        if let Distribution::TruncatedNormal { low, high, .. } = want {
            let (low, high) = (stored(t.spec.dtype, low), stored(t.spec.dtype, high));
            if let Some(bad) = xs.iter().find(|&&x| !(low..=high).contains(&x)) {
                failures.push(format!("{recipe} {name}: {bad} outside [{low}, {high}]"));
            }
        }
        let d = ks_statistic(&xs, |x| want.cdf(x).unwrap());
        let crit = ks_critical(xs.len());
        if d > crit {
            failures.push(format!(
                "{recipe} {name}: KS D = {d:.5} > {crit:.5} (n = {})",
                xs.len()
            ));
        }
    }
    assert!(named > 0, "{recipe}: no tensor checked");
    failures
}

#[test]
fn every_recipe_draws_the_laws_of_its_source() {
    let recipes = [
        "torchtitan",
        "megatron",
        "olmo-mitchell",
        "olmo-full-megatron",
        "olmo-core-llama",
        "olmo-core-llama-depth",
        "neox",
        "u-mup",
        "zero-residual",
    ];
    // Every recipe the binary knows is one checked here.
    let known: Vec<String> = weightinit::model::hf::recipe::all()
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(known, recipes, "a recipe without its formulas here");
    let mut failures = Vec::new();
    for recipe in recipes {
        for tied in [false, true] {
            failures.extend(check_recipe(recipe, tied));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Norms and biases keep the family's identity init under every recipe, and a role a
/// recipe does not name keeps the family's law (zero-residual's q is transformers').
#[test]
fn what_a_recipe_does_not_name_keeps_the_family_law() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, LLAMA.replace("TIED", "false")).unwrap();
    for recipe in ["torchtitan", "zero-residual"] {
        let request = GenRequest {
            hf_config: Some(config.clone()),
            recipe: Some(recipe.into()),
            seed: Some("1".into()),
            ..GenRequest::default()
        };
        for t in request.tensors().unwrap() {
            let name = &t.spec.name;
            if name.ends_with("norm.weight") {
                assert_eq!(
                    t.resolved.distribution,
                    Distribution::Constant { value: 1.0 }
                );
            }
            if recipe == "zero-residual" && name.ends_with("q_proj.weight") {
                assert_eq!(t.resolved.distribution, normal(SIGMA0), "{name}");
            }
        }
    }
}
