//! `weightinit probe --hf-config CONFIG [--recipe R,...]`: the signal through the depth of
//! a family's residual stack, with the weights `gen --hf-config CONFIG --recipe R --seed N`
//! writes, one recipe (or the family's own init) per run.
//!
//! The model, per token (each of the batch's tokens on its own):
//!
//! - x₀ = the embedding row of a random token id (uniform over the vocabulary without
//!   the padding id), times √d for Gemma (its `normalizer`);
//! - per layer: x ← x + o(v(norm₁ x)), then x ← x + down(act(gate(norm₂ x)) ⊙ up(norm₂ x))
//!   (GPT-2: x + down(act(up(norm₂ x)))), with the layer's biases where the family has
//!   them;
//! - logits = lm_head(norm_f x) (tied: the embedding matrix, transposed).
//!
//! What it leaves out, on purpose:
//!
//! - attention is the value and output projections alone: each token attends to itself
//!   only (uniform attention over one token), so q and k, which only shape the softmax
//!   mixing across tokens, play no part. Mixing several tokens' values would lower the
//!   attention branch's variance by up to the number of (uncorrelated) tokens mixed;
//!   the model reports the one-token upper end;
//! - no positional embeddings or rotary phases (GPT-2's wpe is not added), no dropout,
//!   no causal mask (there is no mixing to mask), no MoE (a family with a router or 3-D expert stacks is refused);
//! - the math is f64 throughout, with the weights exactly as `gen` writes them (its
//!   dtype's values, converted).
//!
//! Norms use the family's norm weights: RMSNorm x/√(mean x² + ε)·w, LayerNorm
//! (x − mean)/√(var + ε)·w + b, and Gemma's RMSNorm x/√(mean x² + ε)·(1 + w) (Gemma stores
//! the offset from 1, zero at init). ε from the config (`rms_norm_eps`,
//! `layer_norm_epsilon`), else 1e-6 (RMSNorm) and 1e-5 (LayerNorm).
//!
//! Memory: one tensor is drawn at a time (the embedding is drawn, its batch rows copied
//! out and dropped; a layer's weights are drawn one after another as the forward pass
//! needs them), so the peak is the largest tensor plus a few batch-wide signals, checked
//! against the memory budget before anything is drawn.

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

/// The families the stack model knows: pre-norm decoders with one attention and one MLP
/// per layer.
pub const SUPPORTED: &[&str] = &[
    "llama", "mistral", "qwen2", "qwen3", "gemma", "phi3", "gpt2",
];

/// What the model simplifies, for reports.
pub const SIMPLIFICATIONS: &[&str] = &[
    "attention = o(v(norm x)) per token: each token attends to itself alone, so q and k \
     (which only shape the softmax mixing) play no part",
    "no positional embeddings or rotary phases, no dropout, no causal mask",
    "no MoE (refused)",
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

/// One sublayer: the branch it adds and the stream after it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The layer index as the tensor names have it (from 0).
    pub layer: usize,
    /// `attention` or `mlp`.
    pub sublayer: &'static str,
    /// Variance of the branch's output (over every token and unit).
    pub branch_variance: f64,
    /// The branch's variance over the stream's before it was added.
    pub branch_ratio: f64,
    /// The residual stream after adding the branch.
    pub stream_variance: f64,
    pub stream_rms: f64,
    /// `stream_variance` over the embedding's.
    pub growth: f64,
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

/// Everything a stack probe measured.
#[derive(Debug, Clone, Serialize)]
pub struct StackProbe {
    pub config: String,
    pub family: String,
    pub hidden_size: usize,
    pub layers: usize,
    pub vocab_size: usize,
    pub norm: &'static str,
    pub activation: String,
    pub mlp: &'static str,
    pub tied: bool,
    pub batch: usize,
    pub seed: u64,
    pub tokens: String,
    /// The batch's token ids, the same for every recipe.
    pub token_ids: Vec<usize>,
    pub growth_factor: f64,
    pub model: Vec<&'static str>,
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

/// The value projection: its own tensor, or rows of a fused q|k|v.
#[derive(Debug, Clone)]
enum ValueSource {
    Own(String),
    Fused(String),
}

#[derive(Debug, Clone)]
enum MlpSource {
    Gated { gate: String, up: String },
    FusedGateUp(String),
    Plain { up: String },
}

#[derive(Debug, Clone)]
struct LayerPlan {
    norms: [String; 2],
    value: ValueSource,
    o: String,
    mlp: MlpSource,
    down: String,
}

/// The stack a family's tensors describe.
#[derive(Debug, Clone)]
struct Structure {
    family: String,
    norm: NormKind,
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

fn is_norm_weight(t: &Planned) -> bool {
    let n = &t.name;
    t.role.is_none()
        && t.shape.len() == 1
        && n.ends_with(".weight")
        && (n.contains("norm") || n.contains("ln_"))
        && !n.contains("q_norm")
        && !n.contains("k_norm")
}

/// What the stack model needs from the family's tensors, or one line saying why it
/// cannot run this family.
fn structure(model: &crate::model::hf::Model) -> Result<Structure> {
    let family = model.family.clone();
    let cannot = |why: String| {
        Error::Usage(format!(
            "probe --hf-config: the stack model cannot run the {family} family ({why}); it \
             runs pre-norm decoders: {}",
            SUPPORTED.join(", ")
        ))
    };
    if !SUPPORTED.contains(&family.as_str()) {
        return Err(cannot("not one it knows".into()));
    }
    if let Some(t) = model
        .tensors
        .iter()
        .find(|t| t.role.as_deref() == Some("router") || t.shape.len() == 3)
    {
        return Err(cannot(format!(
            "'{}' belongs to MoE layers, which the model does not route yet",
            t.name
        )));
    }
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
    let count = model
        .tensors
        .iter()
        .filter_map(|t| t.layer)
        .max()
        .map_or(0, |l| l + 1);
    let mut layers = Vec::with_capacity(count);
    for l in 0..count {
        let name = |role: &str| by_role(role, Some(l)).map(|t| t.name.clone());
        let missing = |what: &str| cannot(format!("layer {l} has no {what}"));
        let norms: Vec<String> = model
            .tensors
            .iter()
            .filter(|t| t.layer == Some(l) && is_norm_weight(t))
            .map(|t| t.name.clone())
            .collect();
        let norms: [String; 2] = norms
            .try_into()
            .map_err(|n: Vec<String>| cannot(format!("layer {l} has {} norms, not 2", n.len())))?;
        let value = match (name("v"), name("qkv")) {
            (Some(v), _) => ValueSource::Own(v),
            (None, Some(qkv)) => ValueSource::Fused(qkv),
            _ => return Err(missing("value projection")),
        };
        let mlp = match (name("gate"), name("up"), name("gate_up")) {
            (Some(gate), Some(up), _) => MlpSource::Gated { gate, up },
            (None, Some(up), _) => MlpSource::Plain { up },
            (_, _, Some(gate_up)) => MlpSource::FusedGateUp(gate_up),
            _ => return Err(missing("MLP")),
        };
        layers.push(LayerPlan {
            norms,
            value,
            o: name("o").ok_or_else(|| missing("output projection"))?,
            mlp,
            down: name("down").ok_or_else(|| missing("down projection"))?,
        });
    }
    let final_norm = model
        .tensors
        .iter()
        .find(|t| t.layer.is_none() && is_norm_weight(t))
        .map(|t| t.name.clone())
        .ok_or_else(|| cannot("no final norm".into()))?;
    let values = &model.values;
    let (norm, conv1d) = match family.as_str() {
        "gpt2" => (NormKind::Layer, true),
        "gemma" => (NormKind::RmsOffset, false),
        _ => (NormKind::Rms, false),
    };
    let eps = number(
        values,
        &["rms_norm_eps", "layer_norm_epsilon", "layer_norm_eps"],
    )
    .unwrap_or(if norm == NormKind::Layer { 1e-5 } else { 1e-6 });
    let default_act = match family.as_str() {
        "gpt2" => "gelu_new",
        "gemma" => "gelu_pytorch_tanh",
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
    let embed_scale = if family == "gemma" {
        (hidden as f64).sqrt()
    } else {
        1.0
    };
    let pad = number(values, &["pad_token_id"])
        .filter(|p| *p >= 0.0 && (*p as usize) < vocab)
        .map(|p| p as usize)
        .filter(|_| embedding.zero_row.is_some());
    Ok(Structure {
        family,
        norm,
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
    let mut out = x.clone();
    let n = x.cols as f64;
    for row in out.data.chunks_mut(x.cols) {
        let mean = if s.norm == NormKind::Layer {
            row.iter().sum::<f64>() / n
        } else {
            0.0
        };
        let ms = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let inv = 1.0 / (ms + s.eps).sqrt();
        for (j, v) in row.iter_mut().enumerate() {
            let g = if s.norm == NormKind::RmsOffset {
                1.0 + scale[j]
            } else {
                scale[j]
            };
            *v = (*v - mean) * inv * g + bias.as_ref().map_or(0.0, |b| b[j]);
        }
    }
    Ok(out)
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

fn mlp(s: &Structure, plan: &LayerPlan, w: &Weights, h: &Mat) -> Result<Mat> {
    let hidden = match &plan.mlp {
        MlpSource::Gated { gate, up } => {
            let mut g = w.linear(gate)?.apply(h);
            let u = w.linear(up)?.apply(h);
            for (g, u) in g.data.iter_mut().zip(&u.data) {
                *g = s.act.apply(*g) * u;
            }
            g
        }
        MlpSource::FusedGateUp(name) => {
            // Phi-3: gate first, up second (`gate, up = gate_up_proj(x).chunk(2, -1)`).
            let both = w.linear(name)?.apply(h);
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
                        .map(|(g, u)| s.act.apply(*g) * u),
                );
            }
            out
        }
        MlpSource::Plain { up } => {
            let mut u = w.linear(up)?.apply(h);
            u.data.iter_mut().for_each(|v| *v = s.act.apply(*v));
            u
        }
    };
    Ok(w.linear(&plan.down)?.apply(&hidden))
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
fn memory_needed(tensors: &[ResolvedTensor], batch: usize) -> Option<u64> {
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
    peak.checked_add((batch as u64).checked_mul(widest)?.checked_mul(8 * 8)?)
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
        let tensors = resolve(config, recipe, setup.seed)?;
        runs.push((name.clone(), summary, tensors));
    }
    // After the recipes: a recipe that does not apply (a state-space family) says so
    // before the stack model says it cannot run the family.
    let s = structure(&model)?;
    let heads = number(&model.values, &["num_attention_heads", "n_head"]).map(|h| h as usize);
    let needed = runs
        .iter()
        .map(|(_, _, t)| memory_needed(t, setup.batch))
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
        activation: s.act_name.clone(),
        mlp: match s.layers.first().map(|l| &l.mlp) {
            Some(MlpSource::Plain { .. }) => "act(up x)",
            _ => "act(gate x) * up x",
        },
        tied: s.lm_head.is_none(),
        batch: setup.batch,
        seed: setup.seed,
        tokens: match s.pad {
            Some(p) => format!("uniform token ids without the padding id {p}"),
            None => "uniform token ids".into(),
        },
        token_ids: ids,
        growth_factor: GROWTH_FACTOR,
        model: SIMPLIFICATIONS.to_vec(),
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
        for (sublayer, norm) in [("attention", &plan.norms[0]), ("mlp", &plan.norms[1])] {
            let before = moments(&x).1;
            let h = normalize(s, w, norm, &x)?;
            let branch = if sublayer == "attention" {
                attention(plan, w, &h)?
            } else {
                mlp(s, plan, w, &h)?
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
            });
        }
    }
    let h = normalize(s, w, &s.final_norm, &x)?;
    let final_norm_variance = moments(&h).1;
    let head = match &s.lm_head {
        Some(name) => w.linear_plain(name)?,
        None => w.linear_plain(&s.embedding)?,
    };
    let logits = head.apply(&h);
    drop(head);
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
