//! `weightinit probe --hf-config CONFIG [--recipe R,...]`: the signal through the depth of
//! a family's residual stack, with the weights `gen --hf-config CONFIG --recipe R --seed N`
//! writes, one recipe (or the family's own init) per run.
//!
//! The model, per token (each of the batch's tokens on its own):
//!
//! - x₀ = the embedding row of a random token id (uniform over the vocabulary without
//!   the padding id), times √d for the Gemma families (their `normalizer`/`embed_scale`);
//! - per layer, pre-norm families: x ← x + attn(norm₁ x), then x ← x + mlp(norm₂ x);
//!   OLMo 2 normalizes each branch's output instead: x ← x + norm(attn(x)), x ← x +
//!   norm(mlp(x)); Gemma 2 and Gemma 3 both: x ← x + post(attn(pre(x))), likewise for
//!   the MLP;
//! - attn(h) = o(v(h)) (grouped-query heads read their key-value head's value);
//!   DeepSeek-V3's multi-head latent attention takes the same per-token linear path:
//!   v = the value rows of kv_b_proj(kv_a_layernorm(the first kv_lora_rank outputs of
//!   kv_a_proj_with_mqa(h)));
//! - mlp(h) = down(act(gate h) ⊙ up h) (GPT-2: down(act(up h))), with the layer's biases
//!   where the family has them; a mixture-of-experts layer routes each token (the `moe`
//!   submodule: the family's router as transformers 5.25 computes it) through its top-k
//!   experts' SwiGLU and sums their outputs weighted by the routing weights, plus the
//!   shared experts' MLP where the family has them (DeepSeek-V3); dense layers
//!   (DeepSeek-V3 below first_k_dense_replace, Qwen3-MoE's mlp_only_layers) are the
//!   dense MLP;
//! - logits = lm_head(norm_f x) (tied: the embedding matrix, transposed), Gemma 2's
//!   final_logit_softcapping applied.
//!
//! What it leaves out, on purpose:
//!
//! - attention is the value and output projections alone: each token attends to itself
//!   only (uniform attention over one token), so q and k (and their norms), which only
//!   shape the softmax mixing across tokens, play no part. Mixing several tokens' values
//!   would lower the attention branch's variance by up to the number of (uncorrelated)
//!   tokens mixed; the model reports the one-token upper end. This is exact for
//!   sequences of one token;
//! - no positional embeddings or rotary phases (GPT-2's wpe is not added; MLA's rotary key
//!   part only feeds the scores), no dropout, no causal mask (there is no mixing to
//!   mask), no router jitter (training only);
//! - the math is f64 throughout, with the weights exactly as `gen` writes them (its
//!   dtype's values, converted).
//!
//! Norms use the family's norm weights: RMSNorm x/√(mean x² + ε)·w, LayerNorm
//! (x − mean)/√(var + ε)·w + b, and the Gemma families' RMSNorm x/√(mean x² + ε)·(1 + w)
//! (stored as the offset from 1, zero at init). ε from the config (`rms_norm_eps`,
//! `layer_norm_epsilon`), else the family's config default; DeepSeek-V3's kv_a_layernorm
//! always 1e-6 (as the model builds it).
//!
//! Memory: one tensor is drawn at a time (the embedding is drawn, its batch rows copied
//! out and dropped; a layer's weights are drawn one after another as the forward pass
//! needs them, a mixture's experts one expert tensor, or one 3-D stack of them, at a
//! time), so the peak is the largest tensor plus a few batch-wide signals, checked
//! against the memory budget before anything is drawn.

mod moe;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use faer::{Accum, MatMut, MatRef, Par};
use serde::Serialize;

use crate::array::dtype::DType;
use crate::array::fan::Layout;
use crate::error::{Error, Result};
use crate::model::hf::expr::Value;
use crate::model::hf::template::Planned;
use crate::tensor::ResolvedTensor;
use crate::tensor::rng::RngMode;

use moe::{Router, Rule};

/// The name that stands for the family's own init (transformers' `_init_weights`, as the
/// template writes it) in `--recipe`; `transformers` is the same.
pub const FAMILY: &str = "family";

/// Name of the stream the token ids are drawn from.
pub const TOKENS_NAME: &str = "probe.token-ids";

/// How far the residual stream's variance may move from the embedding's before the stack
/// counts as growing (or vanishing). At 100× the embedding makes 1% of the final stream's
/// variance: the branches' initial noise has drowned the input (the branches are nearly
/// uncorrelated with the stream, so variances add and the embedding's share is
/// 1/growth).
pub const GROWTH_FACTOR: f64 = 100.0;

/// The families the stack model knows: decoders with one attention and one MLP (dense or
/// mixture of experts) per layer.
pub const SUPPORTED: &[&str] = &[
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "gemma",
    "gemma2",
    "gemma3_text",
    "olmo2",
    "phi3",
    "gpt2",
    "mixtral",
    "qwen3_moe",
    "olmoe",
    "deepseek_v3",
];

/// State-space families: no attention or MLP branch for the model to run.
pub const STATE_SPACE: &[&str] = &["mamba", "mamba2"];

/// What the model simplifies, for reports (a family adds its own lines).
pub const SIMPLIFICATIONS: &[&str] = &[
    "attention = o(v(norm x)) per token: each token attends to itself alone, so q and k \
     (which only shape the softmax mixing) play no part; exact for one-token sequences",
    "no positional embeddings or rotary phases, no dropout, no causal mask",
    "f64 math on the weights gen writes",
];

/// What the probe runs on.
#[derive(Debug, Clone)]
pub struct StackSetup {
    pub config: PathBuf,
    /// `family` (or `transformers`) for the template's own laws, else recipe names.
    pub recipes: Vec<String>,
    /// Number of tokens.
    pub batch: usize,
    pub seed: u64,
}

/// How a mixture-of-experts layer routed the batch.
#[derive(Debug, Clone, Serialize)]
pub struct Routing {
    pub experts: usize,
    pub top_k: usize,
    /// Tokens each expert received: sums to batch × top_k.
    pub load: Vec<usize>,
    /// The mean over tokens of a token's routing weights' sum (1 when renormalised).
    pub weight_sum: f64,
    /// Variance of the routed experts' weighted sum.
    pub routed_variance: f64,
    /// Variance of the shared experts' output, when the layer has them.
    pub shared_variance: Option<f64>,
}

/// One sublayer: the branch it adds and the stream after it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The layer index as the tensor names have it (from 0).
    pub layer: usize,
    /// `attention` or `mlp`.
    pub sublayer: &'static str,
    /// Variance of the branch's output (over every token and unit), after its post-norm
    /// where the family has one.
    pub branch_variance: f64,
    /// The branch's variance over the stream's before it was added.
    pub branch_ratio: f64,
    /// The residual stream after adding the branch.
    pub stream_variance: f64,
    pub stream_rms: f64,
    /// `stream_variance` over the embedding's.
    pub growth: f64,
    /// A mixture-of-experts MLP's routing (null for attention and dense MLPs).
    pub routing: Option<Routing>,
}

/// `stable`, `growing` or `vanishing`, with where it turned.
#[derive(Debug, Clone, Serialize)]
pub struct StackVerdict {
    pub kind: &'static str,
    pub layer: Option<usize>,
    pub sublayer: Option<&'static str>,
    /// Final stream variance over the embedding's.
    pub growth: f64,
    pub detail: String,
}

/// One recipe's run.
#[derive(Debug, Clone, Serialize)]
pub struct RecipeProbe {
    pub recipe: String,
    pub summary: String,
    pub embedding_variance: f64,
    pub embedding_rms: f64,
    pub rows: Vec<Row>,
    /// Variance after the final norm (what lm_head reads).
    pub final_norm_variance: f64,
    pub logits_std: f64,
    pub verdict: StackVerdict,
}

/// A mixture of experts, as the probe routes it.
#[derive(Debug, Clone, Serialize)]
pub struct MoeSummary {
    pub experts: usize,
    pub top_k: usize,
    /// The layers with routed experts (the others have a dense MLP).
    pub layers: Vec<usize>,
    pub shared_experts: bool,
    /// `fused 3-D stacks` or `per-expert 2-D tensors`.
    pub layout: &'static str,
    pub routing: String,
}

/// Everything a stack probe measured.
#[derive(Debug, Clone, Serialize)]
pub struct StackProbe {
    pub config: String,
    pub family: String,
    pub hidden_size: usize,
    pub layers: usize,
    pub vocab_size: usize,
    pub norm: &'static str,
    /// Where the norms sit: `pre-norm`, `post-norm` or `pre- and post-norm`.
    pub residual: &'static str,
    pub activation: String,
    pub mlp: String,
    /// The mixture of experts, for MoE families.
    pub moe: Option<MoeSummary>,
    pub tied: bool,
    pub batch: usize,
    pub seed: u64,
    pub tokens: String,
    /// The batch's token ids, the same for every recipe.
    pub token_ids: Vec<usize>,
    pub growth_factor: f64,
    pub model: Vec<String>,
    pub recipes: Vec<RecipeProbe>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    Silu,
    Gelu,
    GeluTanh,
    Relu,
}

impl Act {
    fn parse(name: &str) -> Option<Act> {
        Some(match name {
            "silu" | "swish" => Act::Silu,
            "gelu" => Act::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" | "gelu_tanh" => Act::GeluTanh,
            "relu" => Act::Relu,
            _ => return None,
        })
    }

    fn apply(self, x: f64) -> f64 {
        match self {
            Act::Silu => x / (1.0 + (-x).exp()),
            Act::Gelu => 0.5 * x * (1.0 + crate::compat::c_math::erf(x / std::f64::consts::SQRT_2)),
            Act::GeluTanh => {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
            }
            Act::Relu => x.max(0.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NormKind {
    Rms,
    /// Gemma: x/rms · (1 + w).
    RmsOffset,
    Layer,
}

/// Where a family's layer norms sit.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Residual {
    /// x + f(norm x).
    Pre,
    /// OLMo 2: x + norm(f(x)).
    Post,
    /// Gemma 2 and 3: x + post(f(pre x)).
    Sandwich,
}

/// The value projection: its own tensor, rows of a fused q|k|v, or MLA's latent path.
#[derive(Debug, Clone)]
enum ValueSource {
    Own(String),
    Fused(String),
    /// DeepSeek-V3: kv_a_proj_with_mqa's first `rank` outputs, kv_a_layernorm, then the
    /// value rows of kv_b_proj (each head's `nope` key rows, then its `v` value rows).
    Latent {
        down: String,
        norm: String,
        up: String,
        rank: usize,
        nope: usize,
        v: usize,
    },
}

#[derive(Debug, Clone)]
enum MlpSource {
    Gated { gate: String, up: String },
    FusedGateUp(String),
    Plain { up: String },
}

/// A dense MLP (or DeepSeek-V3's shared experts).
#[derive(Debug, Clone)]
struct Dense {
    source: MlpSource,
    down: String,
}

/// One role of a layer's experts: a 3-D stack or one 2-D tensor per expert.
#[derive(Debug, Clone)]
enum ExpertWeights {
    Stack(String),
    Each(Vec<String>),
}

/// The experts' input side: gate and up fused (gate the first half of each expert's
/// rows), or apart.
#[derive(Debug, Clone)]
enum ExpertInput {
    GateUp(ExpertWeights),
    Split {
        gate: ExpertWeights,
        up: ExpertWeights,
    },
}

/// A mixture-of-experts layer.
#[derive(Debug, Clone)]
struct Moe {
    router: String,
    /// DeepSeek-V3's e_score_correction_bias.
    correction: Option<String>,
    input: ExpertInput,
    down: ExpertWeights,
    /// Each expert's intermediate width.
    width: usize,
}

#[derive(Debug, Clone)]
struct LayerPlan {
    /// The norms before the attention and MLP branches (None: OLMo 2).
    pre: [Option<String>; 2],
    /// The norms after them (OLMo 2, Gemma 2 and 3).
    post: [Option<String>; 2],
    value: ValueSource,
    o: String,
    /// The dense MLP; in a MoE layer, the shared experts.
    dense: Option<Dense>,
    moe: Option<Moe>,
}

/// The stack a family's tensors describe.
#[derive(Debug, Clone)]
struct Structure {
    family: String,
    norm: NormKind,
    residual: Residual,
    eps: f64,
    act: Act,
    act_name: String,
    /// GPT-2's Conv1D stores weights in × out.
    conv1d: bool,
    embed_scale: f64,
    embedding: String,
    pad: Option<usize>,
    layers: Vec<LayerPlan>,
    final_norm: String,
    /// None: tied to the embedding.
    lm_head: Option<String>,
    /// Gemma 2's final_logit_softcapping: logits = c · tanh(logits / c).
    softcap: Option<f64>,
    router: Option<Router>,
    vocab: usize,
    hidden: usize,
}

fn number(values: &BTreeMap<String, Value>, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|k| match values.get(*k) {
        Some(Value::Number(n)) => Some(*n),
        _ => None,
    })
}

fn text<'a>(values: &'a BTreeMap<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| match values.get(*k) {
        Some(Value::Text(t)) => Some(t.as_str()),
        _ => None,
    })
}

fn flag(values: &BTreeMap<String, Value>, key: &str, default: bool) -> bool {
    match values.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => *n != 0.0,
        _ => default,
    }
}

/// A layer's (or the model's final) norm weight: not attention's inner norms (q_norm,
/// k_norm, MLA's q_a_layernorm and kv_a_layernorm).
fn is_norm_weight(t: &Planned) -> bool {
    let n = &t.name;
    t.role.is_none()
        && t.shape.len() == 1
        && n.ends_with(".weight")
        && (n.contains("norm") || n.contains("ln_"))
        && !n.contains("q_norm")
        && !n.contains("k_norm")
        && !n.contains(".self_attn.")
}

/// The expert index in a per-expert tensor's name (`….experts.{e}.…`).
fn expert_index(name: &str) -> Option<usize> {
    let (_, rest) = name.split_once(".experts.")?;
    rest.split('.').next()?.parse().ok()
}

/// The router a MoE family's config describes.
fn router(family: &str, values: &BTreeMap<String, Value>, experts: usize) -> Result<Router> {
    let top_k = match values.get("num_experts_per_tok") {
        Some(Value::Number(k)) if *k >= 0.0 && k.fract() == 0.0 => *k as usize,
        None => match family {
            "mixtral" => 2,
            _ => 8,
        },
        Some(_) => {
            return Err(Error::Usage(format!(
                "probe --hf-config: the {family} config's num_experts_per_tok is not a count"
            )));
        }
    };
    let count = |key: &str, default: usize| match values.get(key) {
        Some(Value::Number(n)) if *n >= 0.0 && n.fract() == 0.0 => Ok(*n as usize),
        None => Ok(default),
        Some(_) => Err(Error::Usage(format!(
            "probe --hf-config: the {family} config's {key} is not a count"
        ))),
    };
    let rule = match family {
        "mixtral" => Rule::Softmax { renormalize: true },
        "deepseek_v3" => Rule::GroupLimited {
            groups: count("n_group", 8)?,
            topk_groups: count("topk_group", 4)?,
            renormalize: flag(values, "norm_topk_prob", true),
            scale: number(values, &["routed_scaling_factor"]).unwrap_or(2.5),
        },
        // Qwen3-MoE, OLMoE.
        _ => Rule::Softmax {
            renormalize: flag(values, "norm_topk_prob", false),
        },
    };
    let router = Router {
        experts,
        top_k,
        rule,
    };
    router.check(family)?;
    Ok(router)
}

/// What the stack model needs from the family's tensors, or one line saying why it
/// cannot run this family.
fn structure(model: &crate::model::hf::Model) -> Result<Structure> {
    let family = model.family.clone();
    if STATE_SPACE.contains(&family.as_str())
        || model.tensors.iter().any(|t| t.name.ends_with("A_log"))
    {
        return Err(Error::Usage(format!(
            "probe --hf-config: probe models attention/MLP residual stacks; {family} is a \
             state-space model"
        )));
    }
    let cannot = |why: String| {
        Error::Usage(format!(
            "probe --hf-config: the stack model cannot run the {family} family ({why}); it \
             runs pre-norm and post-norm decoders: {}",
            SUPPORTED.join(", ")
        ))
    };
    if !SUPPORTED.contains(&family.as_str()) {
        return Err(cannot("not one it knows".into()));
    }
    let values = &model.values;
    let by_role = |role: &str, layer: Option<usize>| -> Option<&Planned> {
        model
            .tensors
            .iter()
            .find(|t| t.role.as_deref() == Some(role) && t.layer == layer)
    };
    let embedding = by_role("embedding", None).ok_or_else(|| cannot("no embedding".into()))?;
    let (vocab, hidden) = match embedding.shape[..] {
        [v, d] => (v, d),
        _ => return Err(cannot("the embedding is not 2-D".into())),
    };
    let residual = match family.as_str() {
        "olmo2" => Residual::Post,
        "gemma2" | "gemma3_text" => Residual::Sandwich,
        _ => Residual::Pre,
    };
    let count = model
        .tensors
        .iter()
        .filter_map(|t| t.layer)
        .max()
        .map_or(0, |l| l + 1);
    let mut layers = Vec::with_capacity(count);
    let mut experts: Option<usize> = None;
    for l in 0..count {
        let in_layer = || model.tensors.iter().filter(move |t| t.layer == Some(l));
        let name = |role: &str| by_role(role, Some(l)).map(|t| t.name.clone());
        let named = |suffix: &str| {
            in_layer()
                .find(|t| t.name.ends_with(suffix))
                .map(|t| t.name.clone())
        };
        let missing = |what: &str| cannot(format!("layer {l} has no {what}"));
        let norms: Vec<String> = in_layer()
            .filter(|t| is_norm_weight(t))
            .map(|t| t.name.clone())
            .collect();
        let norm = |suffix: &str| {
            norms
                .iter()
                .find(|n| n.ends_with(suffix))
                .cloned()
                .ok_or_else(|| missing(suffix.trim_end_matches(".weight")))
        };
        let (pre, post) = match residual {
            Residual::Pre => {
                let [a, m]: [String; 2] = norms.clone().try_into().map_err(|n: Vec<String>| {
                    cannot(format!("layer {l} has {} norms, not 2", n.len()))
                })?;
                ([Some(a), Some(m)], [None, None])
            }
            Residual::Post => (
                [None, None],
                [
                    Some(norm("post_attention_layernorm.weight")?),
                    Some(norm("post_feedforward_layernorm.weight")?),
                ],
            ),
            Residual::Sandwich => (
                [
                    Some(norm("input_layernorm.weight")?),
                    Some(norm("pre_feedforward_layernorm.weight")?),
                ],
                [
                    Some(norm("post_attention_layernorm.weight")?),
                    Some(norm("post_feedforward_layernorm.weight")?),
                ],
            ),
        };
        let value = if family == "deepseek_v3" {
            let dim = |key: &str| {
                number(values, &[key])
                    .filter(|n| *n >= 0.0)
                    .map(|n| n as usize)
                    .ok_or_else(|| cannot(format!("the config names no {key}")))
            };
            ValueSource::Latent {
                down: named("kv_a_proj_with_mqa.weight")
                    .ok_or_else(|| missing("kv_a_proj_with_mqa"))?,
                norm: named("kv_a_layernorm.weight").ok_or_else(|| missing("kv_a_layernorm"))?,
                up: named("kv_b_proj.weight").ok_or_else(|| missing("kv_b_proj"))?,
                rank: dim("kv_lora_rank")?,
                nope: dim("qk_nope_head_dim")?,
                v: dim("v_head_dim")?,
            }
        } else {
            match (name("v"), name("qkv")) {
                (Some(v), _) => ValueSource::Own(v),
                (None, Some(qkv)) => ValueSource::Fused(qkv),
                _ => return Err(missing("value projection")),
            }
        };
        let dense = match (name("gate"), name("up"), name("gate_up")) {
            (Some(gate), Some(up), _) => Some(MlpSource::Gated { gate, up }),
            (None, Some(up), _) => Some(MlpSource::Plain { up }),
            (_, _, Some(gate_up)) => Some(MlpSource::FusedGateUp(gate_up)),
            _ => None,
        };
        let dense = match dense {
            Some(source) => Some(Dense {
                source,
                down: name("down").ok_or_else(|| missing("down projection"))?,
            }),
            None => None,
        };
        let moe = match by_role("router", Some(l)) {
            None => None,
            Some(router) => {
                let count = match router.shape[..] {
                    [e, d] if d == hidden && e > 0 => e,
                    _ => return Err(cannot(format!("'{}' is not experts × hidden", router.name))),
                };
                if experts.is_some_and(|e| e != count) {
                    return Err(cannot(format!("layer {l} has another expert count")));
                }
                experts = Some(count);
                let role = |role: &str| -> Result<Option<(ExpertWeights, usize)>> {
                    let found: Vec<&Planned> = in_layer()
                        .filter(|t| t.role.as_deref() == Some(role))
                        .collect();
                    let short = role.trim_start_matches("expert_");
                    match found[..] {
                        [] => Ok(None),
                        [t] if t.shape.len() == 3 => {
                            if t.shape[0] != count {
                                return Err(cannot(format!(
                                    "'{}' stacks {} experts, the router {count}",
                                    t.name, t.shape[0]
                                )));
                            }
                            Ok(Some((ExpertWeights::Stack(t.name.clone()), t.shape[1])))
                        }
                        _ => {
                            let mut each: Vec<Option<&Planned>> = vec![None; count];
                            for t in &found {
                                let slot = expert_index(&t.name)
                                    .filter(|_| t.shape.len() == 2)
                                    .and_then(|e| each.get_mut(e))
                                    .ok_or_else(|| {
                                        cannot(format!(
                                            "'{}' is neither a 3-D stack nor one expert's \
                                             2-D {short} (….experts.{{e}}.…)",
                                            t.name
                                        ))
                                    })?;
                                *slot = Some(t);
                            }
                            let each: Vec<&Planned> =
                                each.into_iter().collect::<Option<_>>().ok_or_else(|| {
                                    cannot(format!(
                                        "layer {l} does not have a {short} for each of its \
                                         {count} experts"
                                    ))
                                })?;
                            let rows = each[0].shape[0];
                            Ok(Some((
                                ExpertWeights::Each(each.iter().map(|t| t.name.clone()).collect()),
                                rows,
                            )))
                        }
                    }
                };
                let (input, width) = match (
                    role("expert_gate_up")?,
                    role("expert_gate")?,
                    role("expert_up")?,
                ) {
                    (Some((w, rows)), None, None) if rows % 2 == 0 => {
                        (ExpertInput::GateUp(w), rows / 2)
                    }
                    (None, Some((gate, rows)), Some((up, _))) => {
                        (ExpertInput::Split { gate, up }, rows)
                    }
                    _ => return Err(missing("expert gate and up projections")),
                };
                let (down, _) =
                    role("expert_down")?.ok_or_else(|| missing("expert down projection"))?;
                Some(Moe {
                    router: router.name.clone(),
                    correction: named("e_score_correction_bias"),
                    input,
                    down,
                    width,
                })
            }
        };
        if dense.is_none() && moe.is_none() {
            return Err(missing("MLP"));
        }
        layers.push(LayerPlan {
            pre,
            post,
            value,
            o: name("o").ok_or_else(|| missing("output projection"))?,
            dense,
            moe,
        });
    }
    let final_norm = model
        .tensors
        .iter()
        .find(|t| t.layer.is_none() && is_norm_weight(t))
        .map(|t| t.name.clone())
        .ok_or_else(|| cannot("no final norm".into()))?;
    let gemma = matches!(family.as_str(), "gemma" | "gemma2" | "gemma3_text");
    let (norm, conv1d) = match family.as_str() {
        "gpt2" => (NormKind::Layer, true),
        _ if gemma => (NormKind::RmsOffset, false),
        _ => (NormKind::Rms, false),
    };
    // The config classes' defaults (transformers 5.25).
    let default_eps = match family.as_str() {
        "gpt2" | "phi3" | "mixtral" | "olmoe" | "olmo2" => 1e-5,
        _ => 1e-6,
    };
    let eps = number(
        values,
        &["rms_norm_eps", "layer_norm_epsilon", "layer_norm_eps"],
    )
    .unwrap_or(default_eps);
    let default_act = match family.as_str() {
        "gpt2" => "gelu_new",
        _ if gemma => "gelu_pytorch_tanh",
        _ => "silu",
    };
    let act_name = text(
        values,
        &["hidden_activation", "hidden_act", "activation_function"],
    )
    .unwrap_or(default_act)
    .to_string();
    let act = Act::parse(&act_name)
        .ok_or_else(|| cannot(format!("activation '{act_name}' is not one it computes")))?;
    let embed_scale = if gemma { (hidden as f64).sqrt() } else { 1.0 };
    let softcap = match (family.as_str(), values.get("final_logit_softcapping")) {
        (_, Some(Value::Number(c))) if *c > 0.0 => Some(*c),
        ("gemma2", None) => Some(30.0),
        _ => None,
    };
    let pad = number(values, &["pad_token_id"])
        .filter(|p| *p >= 0.0 && (*p as usize) < vocab)
        .map(|p| p as usize)
        .filter(|_| embedding.zero_row.is_some());
    let router = match experts {
        Some(e) => Some(router(&family, values, e)?),
        None => None,
    };
    Ok(Structure {
        family,
        norm,
        residual,
        eps,
        act,
        act_name,
        conv1d,
        embed_scale,
        embedding: embedding.name.clone(),
        pad,
        layers,
        final_norm,
        lm_head: by_role("lm_head", None).map(|t| t.name.clone()),
        softcap,
        router,
        vocab,
        hidden,
    })
}

/// A row-major `rows × cols` matrix of f64 (a row is one token).
#[derive(Debug, Clone, Default)]
struct Mat {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl Mat {
    fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

/// A linear map: weight row-major `out × in` (PyTorch's layout), optional bias.
struct Linear {
    out: usize,
    inp: usize,
    w: Vec<f64>,
    bias: Option<Vec<f64>>,
}

impl Linear {
    /// y = x · Wᵀ + b.
    fn apply(&self, x: &Mat) -> Mat {
        assert_eq!(x.cols, self.inp, "a linear map's input width");
        let mut y = Mat {
            rows: x.rows,
            cols: self.out,
            data: vec![0.0; x.rows * self.out],
        };
        faer::linalg::matmul::matmul(
            MatMut::from_row_major_slice_mut(&mut y.data, x.rows, self.out),
            Accum::Replace,
            MatRef::from_row_major_slice(&x.data, x.rows, x.cols),
            MatRef::from_row_major_slice(&self.w, self.out, self.inp).transpose(),
            1.0,
            // Sequential: the same bits whatever the thread count.
            Par::Seq,
        );
        if let Some(b) = &self.bias {
            for row in y.data.chunks_mut(self.out) {
                for (v, b) in row.iter_mut().zip(b) {
                    *v += b;
                }
            }
        }
        y
    }

    /// Output rows `from..to` only (a part of a fused projection).
    fn rows(mut self, from: usize, to: usize) -> Linear {
        self.w = self.w[from * self.inp..to * self.inp].to_vec();
        self.bias = self.bias.map(|b| b[from..to].to_vec());
        self.out = to - from;
        self
    }

    /// The output rows in `ranges`, in order (MLA's value rows, head by head).
    fn select(self, ranges: &[std::ops::Range<usize>]) -> Linear {
        let mut w = Vec::new();
        let mut bias = self.bias.as_ref().map(|_| Vec::new());
        for r in ranges {
            w.extend_from_slice(&self.w[r.start * self.inp..r.end * self.inp]);
            if let (Some(out), Some(b)) = (bias.as_mut(), &self.bias) {
                out.extend_from_slice(&b[r.clone()]);
            }
        }
        Linear {
            out: ranges.iter().map(|r| r.len()).sum(),
            inp: self.inp,
            w,
            bias,
        }
    }
}

/// `tensor` drawn as `gen` writes it, as f64.
fn draw(tensor: &ResolvedTensor) -> Result<Vec<f64>> {
    use crate::array::dtype::Element;
    use crate::pipeline::generate::draw_array;
    fn convert<E: Element>(t: &ResolvedTensor) -> Result<Vec<f64>> {
        let (a, _) = draw_array::<E>(t)?;
        Ok(a.iter().map(|v| v.to_f64()).collect())
    }
    match tensor.spec.dtype {
        DType::F32 => convert::<f32>(tensor),
        DType::F64 => convert::<f64>(tensor),
        DType::F16 => convert::<half::f16>(tensor),
        DType::Bf16 => convert::<half::bf16>(tensor),
        #[allow(unreachable_patterns)]
        other => Err(Error::Usage(format!(
            "probe --hf-config: tensor '{}' is {other}, which the stack model does not read",
            tensor.spec.name
        ))),
    }
}

/// One recipe's tensors by name, drawn on demand.
struct Weights<'a> {
    tensors: BTreeMap<&'a str, &'a ResolvedTensor>,
    conv1d: bool,
    /// The config's query head count (for grouped-query attention).
    heads: Option<usize>,
}

impl Weights<'_> {
    fn get(&self, name: &str) -> Result<&ResolvedTensor> {
        self.tensors.get(name).copied().ok_or_else(|| {
            Error::Numerical(format!(
                "probe --hf-config: no tensor '{name}' was resolved"
            ))
        })
    }

    fn vector(&self, name: &str) -> Result<Vec<f64>> {
        draw(self.get(name)?)
    }

    /// A linear map from a block's weight (Conv1D weights transposed to out × in) and
    /// its bias when the family has one.
    fn linear(&self, name: &str) -> Result<Linear> {
        let t = self.get(name)?;
        let dims = t.spec.shape.dims();
        let [a, b] = dims[..] else {
            return Err(Error::Numerical(format!(
                "probe --hf-config: '{name}' is not 2-D"
            )));
        };
        let mut w = draw(t)?;
        let (out, inp) = if self.conv1d {
            let mut transposed = vec![0.0; w.len()];
            for i in 0..a {
                for j in 0..b {
                    transposed[j * a + i] = w[i * b + j];
                }
            }
            w = transposed;
            (b, a)
        } else {
            (a, b)
        };
        let bias = match name.strip_suffix(".weight") {
            Some(stem) if self.tensors.contains_key(format!("{stem}.bias").as_str()) => {
                Some(self.vector(&format!("{stem}.bias"))?)
            }
            _ => None,
        };
        Ok(Linear { out, inp, w, bias })
    }
}

/// Mean and variance over every entry.
fn moments(m: &Mat) -> (f64, f64) {
    super::network::mean_variance(&m.data)
}

fn rms(m: &Mat) -> f64 {
    (m.data.iter().map(|v| v * v).sum::<f64>() / m.data.len().max(1) as f64).sqrt()
}

fn normalize(s: &Structure, w: &Weights, name: &str, x: &Mat) -> Result<Mat> {
    let scale = w.vector(name)?;
    let bias = match name.strip_suffix(".weight") {
        Some(stem) if w.tensors.contains_key(format!("{stem}.bias").as_str()) => {
            Some(w.vector(&format!("{stem}.bias"))?)
        }
        _ => None,
    };
    Ok(norm_rows(s.norm, s.eps, &scale, bias.as_deref(), x))
}

/// Each row normalized: RMSNorm, Gemma's (1 + w) RMSNorm, or LayerNorm (with a bias).
fn norm_rows(kind: NormKind, eps: f64, scale: &[f64], bias: Option<&[f64]>, x: &Mat) -> Mat {
    let mut out = x.clone();
    let n = x.cols as f64;
    for row in out.data.chunks_mut(x.cols) {
        let mean = if kind == NormKind::Layer {
            row.iter().sum::<f64>() / n
        } else {
            0.0
        };
        let ms = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let inv = 1.0 / (ms + eps).sqrt();
        for (j, v) in row.iter_mut().enumerate() {
            let g = if kind == NormKind::RmsOffset {
                1.0 + scale[j]
            } else {
                scale[j]
            };
            *v = (*v - mean) * inv * g + bias.map_or(0.0, |b| b[j]);
        }
    }
    out
}

/// The attention branch: o(v(h)), each query head reading its key-value head's value.
fn attention(plan: &LayerPlan, w: &Weights, h: &Mat) -> Result<Mat> {
    let o = w.linear(&plan.o)?;
    let v = match &plan.value {
        ValueSource::Own(name) => w.linear(name)?,
        ValueSource::Fused(name) => {
            // q | k | v rows, q as wide as o's input, k and v alike.
            let qkv = w.linear(name)?;
            let q = o.inp;
            let kv = qkv.out.saturating_sub(q) / 2;
            if q + 2 * kv != qkv.out {
                return Err(Error::Usage(format!(
                    "probe --hf-config: cannot split '{name}' ({} rows) into q ({q}), k and v",
                    qkv.out
                )));
            }
            qkv.rows(q + kv, q + 2 * kv)
        }
        ValueSource::Latent {
            down,
            norm,
            up,
            rank,
            nope,
            v,
        } => {
            // compressed_kv = kv_a_proj_with_mqa(h); kv_nope = its first kv_lora_rank
            // outputs (the rest is the rotary key), through kv_a_layernorm (ε 1e-6).
            let a = w.linear(down)?;
            if a.out < *rank {
                return Err(Error::Usage(format!(
                    "probe --hf-config: '{down}' has {} rows, fewer than kv_lora_rank {rank}",
                    a.out
                )));
            }
            let latent = a.rows(0, *rank).apply(h);
            let latent = norm_rows(NormKind::Rms, 1e-6, &w.vector(norm)?, None, &latent);
            // kv_b_proj's rows are per head: qk_nope_head_dim key rows, v_head_dim value rows.
            let b = w.linear(up)?;
            let per_head = nope + v;
            if per_head == 0 || b.out % per_head != 0 || b.out / per_head * v != o.inp {
                return Err(Error::Usage(format!(
                    "probe --hf-config: '{up}' ({} rows) does not split into heads of \
                     {nope} key and {v} value rows feeding o's {} inputs",
                    b.out, o.inp
                )));
            }
            let heads = b.out / per_head;
            let values = b.select(
                &(0..heads)
                    .map(|h| h * per_head + nope..(h + 1) * per_head)
                    .collect::<Vec<_>>(),
            );
            return Ok(o.apply(&values.apply(&latent)));
        }
    };
    let mut values = v.apply(h);
    if values.cols != o.inp {
        // Grouped-query attention: query head j reads key-value head j / group.
        if values.cols == 0 || !o.inp.is_multiple_of(values.cols) {
            return Err(Error::Usage(format!(
                "probe --hf-config: the value width {} does not divide the output projection's {}",
                values.cols, o.inp
            )));
        }
        let heads_kv = kv_heads(w, values.cols, o.inp)?;
        let head_dim = values.cols / heads_kv;
        let group = o.inp / values.cols;
        let mut wide = Mat {
            rows: values.rows,
            cols: o.inp,
            data: Vec::with_capacity(values.rows * o.inp),
        };
        for i in 0..values.rows {
            let row = values.row(i);
            for kv in 0..heads_kv {
                for _ in 0..group {
                    wide.data
                        .extend_from_slice(&row[kv * head_dim..(kv + 1) * head_dim]);
                }
            }
        }
        values = wide;
    }
    Ok(o.apply(&values))
}

/// The number of key-value heads, from the value width and the config's head count.
fn kv_heads(w: &Weights, value_width: usize, query_width: usize) -> Result<usize> {
    let heads = w.heads.ok_or_else(|| {
        Error::Usage("probe --hf-config: the config names no num_attention_heads".into())
    })?;
    let head_dim = query_width / heads.max(1);
    if head_dim == 0 || !value_width.is_multiple_of(head_dim) {
        return Err(Error::Usage(format!(
            "probe --hf-config: {heads} heads over {query_width} query units do not split the \
             value width {value_width}"
        )));
    }
    Ok(value_width / head_dim)
}

/// act(gate) ⊙ up, gate the first half of each row of `both` (Phi-3's and the fused
/// experts' `chunk(2, -1)`).
fn gated_halves(act: Act, both: &Mat) -> Mat {
    let half = both.cols / 2;
    let mut out = Mat {
        rows: both.rows,
        cols: half,
        data: Vec::with_capacity(both.rows * half),
    };
    for i in 0..both.rows {
        let row = both.row(i);
        out.data.extend(
            row[..half]
                .iter()
                .zip(&row[half..])
                .map(|(g, u)| act.apply(*g) * u),
        );
    }
    out
}

fn dense_mlp(s: &Structure, dense: &Dense, w: &Weights, h: &Mat) -> Result<Mat> {
    let hidden = match &dense.source {
        MlpSource::Gated { gate, up } => {
            let mut g = w.linear(gate)?.apply(h);
            let u = w.linear(up)?.apply(h);
            for (g, u) in g.data.iter_mut().zip(&u.data) {
                *g = s.act.apply(*g) * u;
            }
            g
        }
        // Phi-3: gate first, up second (`gate, up = gate_up_proj(x).chunk(2, -1)`).
        MlpSource::FusedGateUp(name) => gated_halves(s.act, &w.linear(name)?.apply(h)),
        MlpSource::Plain { up } => {
            let mut u = w.linear(up)?.apply(h);
            u.data.iter_mut().for_each(|v| *v = s.act.apply(*v));
            u
        }
    };
    Ok(w.linear(&dense.down)?.apply(&hidden))
}

/// The MLP branch: the dense MLP, or the routed experts plus the shared ones.
fn mlp(s: &Structure, plan: &LayerPlan, w: &Weights, h: &Mat) -> Result<(Mat, Option<Routing>)> {
    let shared = match &plan.dense {
        Some(dense) => Some(dense_mlp(s, dense, w, h)?),
        None => None,
    };
    let (Some(moe), Some(router)) = (&plan.moe, &s.router) else {
        return shared
            .map(|m| (m, None))
            .ok_or_else(|| Error::Numerical("probe --hf-config: a layer without an MLP".into()));
    };
    let (mut out, routing) = experts(s.act, moe, router, w, h)?;
    let routing = Routing {
        shared_variance: shared.as_ref().map(|m| moments(m).1),
        ..routing
    };
    if let Some(shared) = shared {
        for (o, v) in out.data.iter_mut().zip(&shared.data) {
            *o += v;
        }
    }
    Ok((out, Some(routing)))
}

/// One tensor of a layer's experts at a time: a stack is drawn once and sliced per expert,
/// a per-expert tensor drawn when its expert is reached.
struct ExpertSource<'w, 'a> {
    w: &'w Weights<'a>,
    weights: &'w ExpertWeights,
    stack: Option<(Vec<f64>, usize, usize)>,
}

impl<'w, 'a> ExpertSource<'w, 'a> {
    fn new(w: &'w Weights<'a>, weights: &'w ExpertWeights) -> Self {
        ExpertSource {
            w,
            weights,
            stack: None,
        }
    }

    /// Expert `e`'s matrix as a linear map.
    fn linear(&mut self, e: usize) -> Result<Linear> {
        match self.weights {
            ExpertWeights::Each(names) => self.w.linear(&names[e]),
            ExpertWeights::Stack(name) => {
                if self.stack.is_none() {
                    let t = self.w.get(name)?;
                    let dims = t.spec.shape.dims();
                    let [_, out, inp] = dims[..] else {
                        return Err(Error::Numerical(format!(
                            "probe --hf-config: '{name}' is not 3-D"
                        )));
                    };
                    self.stack = Some((draw(t)?, out, inp));
                }
                let (data, out, inp) = self.stack.as_ref().expect("drawn above");
                let size = out * inp;
                Ok(Linear {
                    out: *out,
                    inp: *inp,
                    w: data[e * size..(e + 1) * size].to_vec(),
                    bias: None,
                })
            }
        }
    }
}

/// The routed experts: router logits = router · h; each token through its top-k experts'
/// act(gate) ⊙ up and down, weighted by its routing weights and summed.
fn experts(act: Act, moe: &Moe, router: &Router, w: &Weights, h: &Mat) -> Result<(Mat, Routing)> {
    let logits = w.linear(&moe.router)?.apply(h);
    let correction = match &moe.correction {
        Some(name) => Some(w.vector(name)?),
        None => None,
    };
    let e_count = router.experts;
    // Per expert: (token, weight) in token order.
    let mut assigned: Vec<Vec<(usize, f64)>> = vec![Vec::new(); e_count];
    let mut weight_sum = 0.0;
    for t in 0..h.rows {
        for (e, weight) in router.route(logits.row(t), correction.as_deref()) {
            assigned[e].push((t, weight));
            weight_sum += weight;
        }
    }
    drop(logits);
    let inputs: Vec<Mat> = assigned
        .iter()
        .map(|tokens| {
            let mut x = Mat {
                rows: tokens.len(),
                cols: h.cols,
                data: Vec::with_capacity(tokens.len() * h.cols),
            };
            for (t, _) in tokens {
                x.data.extend_from_slice(h.row(*t));
            }
            x
        })
        .collect();
    // The intermediate activations, one expert after another.
    let mut hidden: Vec<Mat> = Vec::with_capacity(e_count);
    match &moe.input {
        ExpertInput::GateUp(weights) => {
            let mut source = ExpertSource::new(w, weights);
            for x in &inputs {
                let e = hidden.len();
                hidden.push(if x.rows == 0 {
                    Mat::default()
                } else {
                    gated_halves(act, &source.linear(e)?.apply(x))
                });
            }
        }
        ExpertInput::Split { gate, up } => {
            // Every gate, then every up: one stack drawn at a time.
            let mut source = ExpertSource::new(w, gate);
            for x in &inputs {
                let e = hidden.len();
                hidden.push(if x.rows == 0 {
                    Mat::default()
                } else {
                    source.linear(e)?.apply(x)
                });
            }
            drop(source);
            let mut source = ExpertSource::new(w, up);
            for (e, x) in inputs.iter().enumerate() {
                if x.rows > 0 {
                    let u = source.linear(e)?.apply(x);
                    for (g, u) in hidden[e].data.iter_mut().zip(&u.data) {
                        *g = act.apply(*g) * u;
                    }
                }
            }
        }
    }
    drop(inputs);
    let mut out = Mat {
        rows: h.rows,
        cols: h.cols,
        data: vec![0.0; h.rows * h.cols],
    };
    let mut source = ExpertSource::new(w, &moe.down);
    for (e, tokens) in assigned.iter().enumerate() {
        if tokens.is_empty() {
            continue;
        }
        let y = source.linear(e)?.apply(&hidden[e]);
        if y.cols != h.cols {
            return Err(Error::Usage(format!(
                "probe --hf-config: an expert's down projection gives {} outputs, not the \
                 hidden size {}",
                y.cols, h.cols
            )));
        }
        for (i, (t, weight)) in tokens.iter().enumerate() {
            for (o, v) in out.data[t * h.cols..(t + 1) * h.cols]
                .iter_mut()
                .zip(y.row(i))
            {
                *o += weight * v;
            }
        }
    }
    let routed_variance = moments(&out).1;
    Ok((
        out,
        Routing {
            experts: e_count,
            top_k: router.top_k,
            load: assigned.iter().map(Vec::len).collect(),
            weight_sum: weight_sum / h.rows.max(1) as f64,
            routed_variance,
            shared_variance: None,
        },
    ))
}

/// The token ids of the batch: uniform over the vocabulary without the padding id (whose
/// embedding row is zero), from the native stream [`TOKENS_NAME`].
fn token_ids(batch: usize, vocab: usize, pad: Option<usize>, seed: u64) -> Result<Vec<usize>> {
    let choices = vocab - usize::from(pad.is_some());
    if choices == 0 {
        return Err(Error::Usage(
            "probe --hf-config: the vocabulary has no token besides padding".into(),
        ));
    }
    let tensor = crate::tensor::TensorSpec {
        name: TOKENS_NAME.to_string(),
        shape: format!("{batch}").parse()?,
        layout: Layout::Io,
        scheme: "uniform".parse()?,
        dtype: DType::F64,
        seed,
        rng: RngMode::Native,
        jax: Default::default(),
    }
    .resolve()?;
    let (u, _) = crate::pipeline::generate::draw_array::<f64>(&tensor)?;
    Ok(u.iter()
        .map(|&u| {
            let id = ((u * choices as f64) as usize).min(choices - 1);
            match pad {
                Some(p) if id >= p => id + 1,
                _ => id,
            }
        })
        .collect())
}

/// The resolved tensors of `recipe` (or the family's own) for `config`: the path
/// `gen --hf-config CONFIG --recipe R --seed N` takes.
fn resolve(config: &Path, recipe: Option<&str>, seed: u64) -> Result<Vec<ResolvedTensor>> {
    let request = crate::request::GenRequest {
        hf_config: Some(config.to_path_buf()),
        recipe: recipe.map(String::from),
        seed: Some(seed.to_string()),
        ..Default::default()
    };
    Ok(request.hf_specs(config)?.0)
}

/// The bytes the probe holds at its peak: the largest tensor in its dtype, its f64 copy
/// and what drawing it needs, plus a few batch-wide f64 signals as wide as the widest
/// tensor dimension.
///
/// A mixture-of-experts layer also holds every routed token's intermediate activations
/// (batch × k of them, `moe_width` wide, with a gathered input row each).
fn memory_needed(tensors: &[ResolvedTensor], batch: usize, moe_width: u64) -> Option<u64> {
    let mut peak = 0u64;
    let mut widest = 0u64;
    for t in tensors {
        let n = t.spec.shape.len() as u64;
        let bytes = n
            .checked_mul(t.spec.dtype.size() as u64 + 16)?
            .checked_add(crate::pipeline::generate::memory_needed(t)?)?;
        peak = peak.max(bytes);
        for d in t.spec.shape.dims() {
            widest = widest.max(*d as u64);
        }
    }
    peak.checked_add((batch as u64).checked_mul(widest)?.checked_mul(8 * 8)?)?
        .checked_add((batch as u64).checked_mul(moe_width)?.checked_mul(8 * 2)?)
}

/// Runs every recipe of `setup` on the same token ids.
pub fn run(setup: &StackSetup) -> Result<StackProbe> {
    let started = Instant::now();
    if setup.batch == 0 {
        return Err(Error::Usage(
            "invalid --batch 0: a probe needs at least one token".into(),
        ));
    }
    let config = &setup.config;
    let model = crate::model::hf::load(config, None)?;
    // Every recipe resolves (names, laws, symbols) before anything is drawn.
    let mut runs = Vec::new();
    for name in &setup.recipes {
        let (recipe, summary) = match name.as_str() {
            FAMILY | "transformers" => (
                None,
                format!("the {} family's own init ({})", model.family, model.source),
            ),
            other => {
                let r = crate::model::hf::recipe::find(other)?;
                (Some(other), r.summary)
            }
        };
        let tensors = resolve(config, recipe, setup.seed)?;
        runs.push((name.clone(), summary, tensors));
    }
    // After the recipes: a recipe that does not apply (a state-space family) says so
    // before the stack model says it cannot run the family.
    let s = structure(&model)?;
    let heads = number(&model.values, &["num_attention_heads", "n_head"]).map(|h| h as usize);
    // Per routed token: the intermediate activations and the gathered input.
    let moe_width = s.router.as_ref().map_or(0, |r| {
        let widest = s
            .layers
            .iter()
            .filter_map(|l| l.moe.as_ref())
            .map(|m| m.width)
            .max()
            .unwrap_or(0);
        (r.top_k * (widest + s.hidden)) as u64
    });
    let needed = runs
        .iter()
        .map(|(_, _, t)| memory_needed(t, setup.batch, moe_width))
        .try_fold(0u64, |m, n| n.map(|n| m.max(n)));
    let what = format!(
        "a stack probe of '{}' ({} layers, hidden {}, vocabulary {}) with batch {}",
        crate::text::path(config),
        s.layers.len(),
        s.hidden,
        s.vocab,
        setup.batch
    );
    if let Err(e @ Error::MemoryBudget { .. }) = crate::budget::check_products(needed, &what) {
        return Err(Error::Usage(format!(
            "{e}; probe a scaled-down config (smaller sizes, same ratios): it shows the same \
             trends through depth"
        )));
    }
    let ids = token_ids(setup.batch, s.vocab, s.pad, setup.seed)?;
    let mut recipes = Vec::with_capacity(runs.len());
    for (name, summary, tensors) in &runs {
        let weights = Weights {
            tensors: tensors.iter().map(|t| (t.spec.name.as_str(), t)).collect(),
            conv1d: s.conv1d,
            heads,
        };
        recipes.push(run_one(&s, &weights, &ids, name, summary)?);
    }
    let moe = s.router.as_ref().map(|r| {
        let layers: Vec<usize> = s
            .layers
            .iter()
            .enumerate()
            .filter(|(_, l)| l.moe.is_some())
            .map(|(i, _)| i)
            .collect();
        let shared_experts = s
            .layers
            .iter()
            .any(|l| l.moe.is_some() && l.dense.is_some());
        let layout = match s
            .layers
            .iter()
            .find_map(|l| l.moe.as_ref())
            .map(|m| &m.down)
        {
            Some(ExpertWeights::Stack(_)) => "fused 3-D stacks",
            _ => "per-expert 2-D tensors",
        };
        MoeSummary {
            experts: r.experts,
            top_k: r.top_k,
            layers,
            shared_experts,
            layout,
            routing: r.describe(),
        }
    });
    let gated = match s
        .layers
        .iter()
        .find_map(|l| l.dense.as_ref())
        .map(|d| &d.source)
    {
        Some(MlpSource::Plain { .. }) => "act(up x)",
        _ => "act(gate x) * up x",
    };
    let mlp = match &moe {
        Some(m) => format!(
            "top {} of {} experts, each act(gate x) * up x{}{}",
            m.top_k,
            m.experts,
            if m.shared_experts {
                ", plus shared experts"
            } else {
                ""
            },
            if m.layers.len() < s.layers.len() {
                let dense: Vec<String> = (0..s.layers.len())
                    .filter(|l| !m.layers.contains(l))
                    .map(|l| l.to_string())
                    .collect();
                format!(
                    "; dense {gated} in layer{} {}",
                    if dense.len() == 1 { "" } else { "s" },
                    dense.join(", ")
                )
            } else {
                String::new()
            }
        ),
        None => gated.to_string(),
    };
    let mut model_lines: Vec<String> = SIMPLIFICATIONS.iter().map(|l| l.to_string()).collect();
    match s.residual {
        Residual::Pre => {}
        Residual::Post => model_lines.insert(
            0,
            "post-norm layers (OLMo 2): x + norm(attn(x)), then x + norm(mlp(x))".into(),
        ),
        Residual::Sandwich => model_lines.insert(
            0,
            "pre- and post-norm layers: x + post_attention_norm(attn(input_norm x)), then \
             x + post_feedforward_norm(mlp(pre_feedforward_norm x))"
                .into(),
        ),
    }
    if s.layers
        .iter()
        .any(|l| matches!(l.value, ValueSource::Latent { .. }))
    {
        model_lines.insert(
            0,
            "MLA attention as its per-token value path: o(v rows of kv_b_proj(kv_a_layernorm(\
             kv_a_proj_with_mqa(norm x)[:kv_lora_rank]))); the low-rank query and the rotary \
             key only shape the mixing"
                .into(),
        );
    }
    if let Some(m) = &moe {
        model_lines.push(format!(
            "mixture of experts: router logits = router · norm(x); {}; each token through \
             its top {} experts, weighted and summed{}; ties go to the lower expert index",
            m.routing,
            m.top_k,
            if m.shared_experts {
                ", plus the shared experts' MLP"
            } else {
                ""
            }
        ));
    }
    if let Some(c) = s.softcap {
        model_lines.push(format!("logits softcapped: {c} · tanh(logits / {c})"));
    }
    Ok(StackProbe {
        config: crate::text::path(config),
        family: s.family.clone(),
        hidden_size: s.hidden,
        layers: s.layers.len(),
        vocab_size: s.vocab,
        norm: match s.norm {
            NormKind::Rms => "rmsnorm",
            NormKind::RmsOffset => "rmsnorm (1 + weight)",
            NormKind::Layer => "layernorm",
        },
        residual: match s.residual {
            Residual::Pre => "pre-norm",
            Residual::Post => "post-norm",
            Residual::Sandwich => "pre- and post-norm",
        },
        activation: s.act_name.clone(),
        mlp,
        moe,
        tied: s.lm_head.is_none(),
        batch: setup.batch,
        seed: setup.seed,
        tokens: match s.pad {
            Some(p) => format!("uniform token ids without the padding id {p}"),
            None => "uniform token ids".into(),
        },
        token_ids: ids,
        growth_factor: GROWTH_FACTOR,
        model: model_lines,
        recipes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn run_one(
    s: &Structure,
    w: &Weights,
    ids: &[usize],
    name: &str,
    summary: &str,
) -> Result<RecipeProbe> {
    let mut x = {
        let table = w.vector(&s.embedding)?;
        let mut x = Mat {
            rows: ids.len(),
            cols: s.hidden,
            data: Vec::with_capacity(ids.len() * s.hidden),
        };
        for &id in ids {
            x.data.extend(
                table[id * s.hidden..(id + 1) * s.hidden]
                    .iter()
                    .map(|v| v * s.embed_scale),
            );
        }
        x
    };
    let (_, embedding_variance) = moments(&x);
    let embedding_rms = rms(&x);
    let mut rows = Vec::with_capacity(2 * s.layers.len());
    for (l, plan) in s.layers.iter().enumerate() {
        for (i, sublayer) in ["attention", "mlp"].into_iter().enumerate() {
            let before = moments(&x).1;
            let h = match &plan.pre[i] {
                Some(norm) => normalize(s, w, norm, &x)?,
                None => x.clone(),
            };
            let (branch, routing) = if sublayer == "attention" {
                (attention(plan, w, &h)?, None)
            } else {
                mlp(s, plan, w, &h)?
            };
            drop(h);
            let branch = match &plan.post[i] {
                Some(norm) => normalize(s, w, norm, &branch)?,
                None => branch,
            };
            let branch_variance = moments(&branch).1;
            for (x, b) in x.data.iter_mut().zip(&branch.data) {
                *x += b;
            }
            let stream_variance = moments(&x).1;
            rows.push(Row {
                layer: l,
                sublayer,
                branch_variance,
                branch_ratio: branch_variance / before,
                stream_variance,
                stream_rms: rms(&x),
                growth: stream_variance / embedding_variance,
                routing,
            });
        }
    }
    let h = normalize(s, w, &s.final_norm, &x)?;
    let final_norm_variance = moments(&h).1;
    let head = match &s.lm_head {
        Some(name) => w.linear_plain(name)?,
        None => w.linear_plain(&s.embedding)?,
    };
    let mut logits = head.apply(&h);
    drop(head);
    if let Some(c) = s.softcap {
        logits
            .data
            .iter_mut()
            .for_each(|v| *v = c * (*v / c).tanh());
    }
    let logits_std = moments(&logits).1.sqrt();
    let verdict = judge(embedding_variance, &rows, logits_std);
    Ok(RecipeProbe {
        recipe: name.to_string(),
        summary: summary.to_string(),
        embedding_variance,
        embedding_rms,
        rows,
        final_norm_variance,
        logits_std,
        verdict,
    })
}

impl Weights<'_> {
    /// A `vocab × hidden` matrix as a linear map (embedding or lm_head: never Conv1D).
    fn linear_plain(&self, name: &str) -> Result<Linear> {
        let t = self.get(name)?;
        let dims = t.spec.shape.dims();
        let w = draw(t)?;
        Ok(Linear {
            out: dims[0],
            inp: dims[1],
            w,
            bias: None,
        })
    }
}

fn sci(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2e}")
    } else {
        "overflow".into()
    }
}

/// Stable while the residual stream stays within [`GROWTH_FACTOR`] of the embedding's
/// variance, else growing (or vanishing) from the first sublayer that left it.
fn judge(embedding_variance: f64, rows: &[Row], logits_std: f64) -> StackVerdict {
    let turn = rows.iter().find_map(|r| {
        let g = r.growth;
        if !g.is_finite() && r.stream_variance > 0.0 || g > GROWTH_FACTOR {
            Some(("growing", r))
        } else if g < 1.0 / GROWTH_FACTOR {
            Some(("vanishing", r))
        } else {
            None
        }
    });
    let growth = rows.last().map_or(1.0, |r| r.growth);
    let widest = rows
        .iter()
        .filter(|r| r.branch_ratio.is_finite())
        .max_by(|a, b| a.branch_ratio.total_cmp(&b.branch_ratio));
    let branches = match widest {
        Some(r) if r.branch_ratio > 0.0 => format!(
            "largest branch {}x the stream (layer {} {})",
            sci(r.branch_ratio),
            r.layer,
            r.sublayer
        ),
        _ => "every branch outputs zero".to_string(),
    };
    let share = if growth > 0.0 && growth.is_finite() {
        format!(", the embedding's share {:.2}%", 100.0 / growth.max(1.0))
    } else {
        String::new()
    };
    let detail = format!(
        "residual stream variance from {} (embedding) to {} ({}x{share}); {branches}; logits std {}",
        sci(embedding_variance),
        sci(rows
            .last()
            .map_or(embedding_variance, |r| r.stream_variance)),
        sci(growth),
        sci(logits_std)
    );
    match turn {
        Some((kind, r)) => StackVerdict {
            kind,
            layer: Some(r.layer),
            sublayer: Some(r.sublayer),
            growth,
            detail: format!(
                "{}; crossed {}{GROWTH_FACTOR}x at layer {} {}",
                detail,
                if kind == "vanishing" { "1/" } else { "" },
                r.layer,
                r.sublayer
            ),
        },
        None => StackVerdict {
            kind: "stable",
            layer: None,
            sublayer: None,
            growth,
            detail,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(layer: usize, sublayer: &'static str, growth: f64) -> Row {
        Row {
            layer,
            sublayer,
            branch_variance: 1.0,
            branch_ratio: 0.5,
            stream_variance: growth,
            stream_rms: growth.sqrt(),
            growth,
            routing: None,
        }
    }

    #[test]
    fn the_verdict_turns_at_the_first_sublayer_past_the_factor() {
        let rows = [
            row(0, "attention", 2.0),
            row(0, "mlp", 50.0),
            row(1, "attention", 150.0),
            row(1, "mlp", 1e4),
        ];
        let v = judge(1.0, &rows, 1.0);
        assert_eq!(v.kind, "growing");
        assert_eq!((v.layer, v.sublayer), (Some(1), Some("attention")));
        assert_eq!(v.growth, 1e4);
        let v = judge(1.0, &rows[..2], 1.0);
        assert_eq!((v.kind, v.layer), ("stable", None));
        assert!(v.detail.contains("share 2.00%"), "{}", v.detail);
        let v = judge(1.0, &[row(0, "mlp", 0.5 / GROWTH_FACTOR)], 1.0);
        assert_eq!((v.kind, v.sublayer), ("vanishing", Some("mlp")));
        // A stream that overflowed grows.
        let v = judge(1.0, &[row(0, "attention", f64::INFINITY)], 1.0);
        assert_eq!(v.kind, "growing");
    }

    #[test]
    fn activations_match_their_definitions() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(Act::Silu.apply(1.0), 1.0 / (1.0 + (-1.0f64).exp())));
        // Φ(1) = 0.8413447460685429: gelu(1) = 1 · Φ(1).
        assert!(close(Act::Gelu.apply(1.0), 0.841_344_746_068_542_9));
        assert!((Act::GeluTanh.apply(1.0) - 0.841_191_990_6).abs() < 1e-9);
        assert_eq!(Act::Relu.apply(-2.0), 0.0);
        assert_eq!(Act::parse("gelu_pytorch_tanh"), Some(Act::GeluTanh));
        assert_eq!(Act::parse("swish"), Some(Act::Silu));
        assert_eq!(Act::parse("xielu"), None);
    }

    fn planned(name: &str, shape: &[usize], role: Option<&str>, layer: Option<usize>) -> Planned {
        Planned {
            name: name.into(),
            shape: shape.to_vec(),
            scheme: "normal:std=0.02".into(),
            zero_row: None,
            role: role.map(String::from),
            layer,
            dtype: None,
        }
    }

    fn model(family: &str, tensors: Vec<Planned>) -> crate::model::hf::Model {
        crate::model::hf::Model {
            family: family.into(),
            source: "test".into(),
            tensors,
            dtype: None,
            config_bytes: Vec::new(),
            values: BTreeMap::from([("num_experts_per_tok".into(), Value::Number(2.0))]),
            label: "config.json".into(),
            recipe_symbols: BTreeMap::new(),
        }
    }

    /// A one-layer Mixtral-like model with per-expert 2-D experts (listed out of order).
    fn per_expert(experts: &[usize]) -> Vec<Planned> {
        let l = Some(0);
        let mut t = vec![
            planned(
                "model.embed_tokens.weight",
                &[16, 8],
                Some("embedding"),
                None,
            ),
            planned(
                "model.layers.0.self_attn.v_proj.weight",
                &[8, 8],
                Some("v"),
                l,
            ),
            planned(
                "model.layers.0.self_attn.o_proj.weight",
                &[8, 8],
                Some("o"),
                l,
            ),
            planned("model.layers.0.mlp.gate.weight", &[3, 8], Some("router"), l),
        ];
        for &e in experts {
            for (proj, role, shape) in [
                ("gate_proj", "expert_gate", [4, 8]),
                ("up_proj", "expert_up", [4, 8]),
                ("down_proj", "expert_down", [8, 4]),
            ] {
                t.push(planned(
                    &format!("model.layers.0.mlp.experts.{e}.{proj}.weight"),
                    &shape,
                    Some(role),
                    l,
                ));
            }
        }
        t.push(planned(
            "model.layers.0.input_layernorm.weight",
            &[8],
            None,
            l,
        ));
        t.push(planned(
            "model.layers.0.post_attention_layernorm.weight",
            &[8],
            None,
            l,
        ));
        t.push(planned("model.norm.weight", &[8], None, None));
        t
    }

    #[test]
    fn per_expert_tensors_are_found_by_their_index() {
        let s = structure(&model("mixtral", per_expert(&[2, 0, 1]))).unwrap();
        let moe = s.layers[0].moe.as_ref().unwrap();
        let ExpertInput::Split {
            gate: ExpertWeights::Each(gate),
            up: ExpertWeights::Each(up),
        } = &moe.input
        else {
            panic!("{:?}", moe.input);
        };
        assert_eq!(gate[1], "model.layers.0.mlp.experts.1.gate_proj.weight");
        assert_eq!(up[2], "model.layers.0.mlp.experts.2.up_proj.weight");
        let ExpertWeights::Each(down) = &moe.down else {
            panic!("{:?}", moe.down);
        };
        assert_eq!(down[0], "model.layers.0.mlp.experts.0.down_proj.weight");
        assert_eq!(moe.width, 4);
        let router = s.router.unwrap();
        assert_eq!((router.experts, router.top_k), (3, 2));
        assert_eq!(router.rule, Rule::Softmax { renormalize: true });
        assert!(s.layers[0].dense.is_none());
        // An expert without its tensors is refused in one line.
        let e = structure(&model("mixtral", per_expert(&[0, 2]))).unwrap_err();
        assert!(e.to_string().contains("each of its 3 experts"), "{e}");
        assert_eq!(
            expert_index("model.layers.3.mlp.experts.12.w1.weight"),
            Some(12)
        );
        assert_eq!(
            expert_index("model.layers.3.mlp.experts.gate_up_proj"),
            None
        );
    }

    #[test]
    fn state_space_families_are_refused_in_one_line() {
        for family in ["mamba", "mamba2"] {
            let t = vec![planned(
                "backbone.layers.0.mixer.A_log",
                &[8, 4],
                None,
                Some(0),
            )];
            let e = structure(&model(family, t)).unwrap_err().to_string();
            assert!(
                e.contains("probe models attention/MLP residual stacks")
                    && e.contains(&format!("{family} is a state-space model")),
                "{e}"
            );
            assert_eq!(e.lines().count(), 1);
        }
    }

    #[test]
    fn stacked_experts_are_sliced_one_expert_at_a_time() {
        let spec = |name: &str, shape: &str| {
            crate::tensor::TensorSpec {
                name: name.into(),
                shape: shape.parse().unwrap(),
                layout: Layout::Io,
                scheme: "normal:std=1".parse().unwrap(),
                dtype: DType::F32,
                seed: 3,
                rng: RngMode::Native,
                jax: Default::default(),
            }
            .resolve()
            .unwrap()
        };
        let stack = spec("s", "3x4x2");
        let one = spec("e1", "4x2");
        let w = Weights {
            tensors: BTreeMap::from([("s", &stack), ("e1", &one)]),
            conv1d: false,
            heads: None,
        };
        let all = draw(&stack).unwrap();
        let stacked = ExpertWeights::Stack("s".into());
        let mut source = ExpertSource::new(&w, &stacked);
        for e in [2, 0, 1] {
            let lin = source.linear(e).unwrap();
            assert_eq!((lin.out, lin.inp), (4, 2));
            assert_eq!(lin.w, all[e * 8..(e + 1) * 8]);
        }
        let each = ExpertWeights::Each(vec!["e0".into(), "e1".into()]);
        let mut source = ExpertSource::new(&w, &each);
        assert_eq!(source.linear(1).unwrap().w, draw(&one).unwrap());
        assert!(source.linear(0).is_err());
    }

    #[test]
    fn per_expert_routing_matches_a_token_by_token_sum() {
        let spec = |name: &str, shape: &str, seed: u64| {
            crate::tensor::TensorSpec {
                name: name.into(),
                shape: shape.parse().unwrap(),
                layout: Layout::Io,
                scheme: "normal:std=0.5".parse().unwrap(),
                dtype: DType::F64,
                seed,
                rng: RngMode::Native,
                jax: Default::default(),
            }
            .resolve()
            .unwrap()
        };
        let (d, i, e_count, tokens) = (6, 5, 3, 7);
        let mut owned = vec![spec("router", &format!("{e_count}x{d}"), 1)];
        for e in 0..e_count {
            for (role, shape) in [("gate", format!("{i}x{d}")), ("up", format!("{i}x{d}"))] {
                owned.push(spec(&format!("{role}{e}"), &shape, 10 + e as u64));
            }
            owned.push(spec(
                &format!("down{e}"),
                &format!("{d}x{i}"),
                20 + e as u64,
            ));
        }
        let input = spec("h", &format!("{tokens}x{d}"), 2);
        let w = Weights {
            tensors: owned.iter().map(|t| (t.spec.name.as_str(), t)).collect(),
            conv1d: false,
            heads: None,
        };
        let names =
            |role: &str| ExpertWeights::Each((0..e_count).map(|e| format!("{role}{e}")).collect());
        let moe = Moe {
            router: "router".into(),
            correction: None,
            input: ExpertInput::Split {
                gate: names("gate"),
                up: names("up"),
            },
            down: names("down"),
            width: i,
        };
        let router = Router {
            experts: e_count,
            top_k: 2,
            rule: Rule::Softmax { renormalize: false },
        };
        let h = Mat {
            rows: tokens,
            cols: d,
            data: draw(&input).unwrap(),
        };
        let (out, routing) = experts(Act::Silu, &moe, &router, &w, &h).unwrap();
        assert_eq!(routing.load.iter().sum::<usize>(), tokens * 2);
        // Token by token: Σ weight · down(silu(gate x) ⊙ up x) over the chosen experts.
        let lin = |name: &str| w.linear(name).unwrap();
        let logits = lin("router").apply(&h);
        for t in 0..tokens {
            let x = Mat {
                rows: 1,
                cols: d,
                data: h.row(t).to_vec(),
            };
            let mut expected = vec![0.0; d];
            for (e, weight) in router.route(logits.row(t), None) {
                let mut g = lin(&format!("gate{e}")).apply(&x);
                let u = lin(&format!("up{e}")).apply(&x);
                for (g, u) in g.data.iter_mut().zip(&u.data) {
                    *g = Act::Silu.apply(*g) * u;
                }
                let y = lin(&format!("down{e}")).apply(&g);
                for (o, v) in expected.iter_mut().zip(&y.data) {
                    *o += weight * v;
                }
            }
            for (a, b) in out.row(t).iter().zip(&expected) {
                assert!((a - b).abs() < 1e-12, "token {t}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn fused_rows_and_products() {
        // W = [[1, 2], [3, 4], [5, 6]] (3 outputs × 2 inputs), bias [1, 0, -1].
        let lin = Linear {
            out: 3,
            inp: 2,
            w: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            bias: Some(vec![1.0, 0.0, -1.0]),
        };
        let x = Mat {
            rows: 2,
            cols: 2,
            data: vec![1.0, 1.0, 2.0, -1.0],
        };
        assert_eq!(lin.apply(&x).data, [4.0, 7.0, 10.0, 1.0, 2.0, 3.0]);
        let v = lin.rows(1, 3);
        assert_eq!((v.out, v.inp), (2, 2));
        assert_eq!(v.apply(&x).data, [7.0, 10.0, 2.0, 3.0]);
    }
}
