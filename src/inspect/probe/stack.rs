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

mod forward;
mod moe;
mod parts;

use forward::*;
use parts::*;

use std::collections::BTreeMap;
use std::path::PathBuf;
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

/// The resolved tensors of a recipe (`None`: the family's own) for the setup's config:
/// what `gen --hf-config CONFIG --recipe R --seed N` draws. The caller builds them (the
/// request layer sits above this one).
pub type Resolver<'a> = dyn Fn(Option<&str>) -> Result<Vec<ResolvedTensor>> + 'a;

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

/// Runs every recipe of `setup` on the same token ids, with the tensors `resolve` gives
/// for each.
pub fn run(setup: &StackSetup, resolve: &Resolver<'_>) -> Result<StackProbe> {
    let started = Instant::now();
    if setup.batch == 0 {
        return Err(Error::Usage(
            "invalid --batch 0: a probe needs at least one token".into(),
        ));
    }
    let config = &setup.config;
    let model = crate::model::hf::load(config, None, Default::default())?;
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
        let tensors = resolve(recipe)?;
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
mod tests;
