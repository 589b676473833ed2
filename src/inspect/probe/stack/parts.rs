//! The stack a family's tensors describe: which tensors make each layer's attention,
//! norms and MLP (dense or mixture of experts), read from the template's roles and names.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Act {
    Silu,
    Gelu,
    GeluTanh,
    Relu,
}

impl Act {
    pub(super) fn parse(name: &str) -> Option<Act> {
        Some(match name {
            "silu" | "swish" => Act::Silu,
            "gelu" => Act::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" | "gelu_tanh" => Act::GeluTanh,
            "relu" => Act::Relu,
            _ => return None,
        })
    }

    pub(super) fn apply(self, x: f64) -> f64 {
        match self {
            Act::Silu => x / (1.0 + (-x).exp()),
            Act::Gelu => 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
            Act::GeluTanh => {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
            }
            Act::Relu => x.max(0.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum NormKind {
    Rms,
    /// Gemma: x/rms · (1 + w).
    RmsOffset,
    Layer,
}

/// Where a family's layer norms sit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Residual {
    /// x + f(norm x).
    Pre,
    /// OLMo 2: x + norm(f(x)).
    Post,
    /// Gemma 2 and 3: x + post(f(pre x)).
    Sandwich,
}

/// The value projection: its own tensor, rows of a fused q|k|v, or MLA's latent path.
#[derive(Debug, Clone)]
pub(super) enum ValueSource {
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
pub(super) enum MlpSource {
    Gated { gate: String, up: String },
    FusedGateUp(String),
    Plain { up: String },
}

/// A dense MLP (or DeepSeek-V3's shared experts).
#[derive(Debug, Clone)]
pub(super) struct Dense {
    pub(super) source: MlpSource,
    pub(super) down: String,
}

/// One role of a layer's experts: a 3-D stack or one 2-D tensor per expert.
#[derive(Debug, Clone)]
pub(super) enum ExpertWeights {
    Stack(String),
    Each(Vec<String>),
}

/// The experts' input side: gate and up fused (gate the first half of each expert's
/// rows), or apart.
#[derive(Debug, Clone)]
pub(super) enum ExpertInput {
    GateUp(ExpertWeights),
    Split {
        gate: ExpertWeights,
        up: ExpertWeights,
    },
}

/// A mixture-of-experts layer.
#[derive(Debug, Clone)]
pub(super) struct Moe {
    pub(super) router: String,
    /// DeepSeek-V3's e_score_correction_bias.
    pub(super) correction: Option<String>,
    pub(super) input: ExpertInput,
    pub(super) down: ExpertWeights,
    /// Each expert's intermediate width.
    pub(super) width: usize,
}

#[derive(Debug, Clone)]
pub(super) struct LayerPlan {
    /// The norms before the attention and MLP branches (None: OLMo 2).
    pub(super) pre: [Option<String>; 2],
    /// The norms after them (OLMo 2, Gemma 2 and 3).
    pub(super) post: [Option<String>; 2],
    pub(super) value: ValueSource,
    pub(super) o: String,
    /// The dense MLP; in a MoE layer, the shared experts.
    pub(super) dense: Option<Dense>,
    pub(super) moe: Option<Moe>,
}

/// The stack a family's tensors describe.
#[derive(Debug, Clone)]
pub(super) struct Structure {
    pub(super) family: String,
    pub(super) norm: NormKind,
    pub(super) residual: Residual,
    pub(super) eps: f64,
    pub(super) act: Act,
    pub(super) act_name: String,
    /// GPT-2's Conv1D stores weights in × out.
    pub(super) conv1d: bool,
    pub(super) embed_scale: f64,
    pub(super) embedding: String,
    pub(super) pad: Option<usize>,
    pub(super) layers: Vec<LayerPlan>,
    pub(super) final_norm: String,
    /// None: tied to the embedding.
    pub(super) lm_head: Option<String>,
    /// Gemma 2's final_logit_softcapping: logits = c · tanh(logits / c).
    pub(super) softcap: Option<f64>,
    pub(super) router: Option<Router>,
    pub(super) vocab: usize,
    pub(super) hidden: usize,
}

pub(super) fn number(values: &BTreeMap<String, Value>, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|k| match values.get(*k) {
        Some(Value::Number(n)) => Some(*n),
        _ => None,
    })
}

pub(super) fn text<'a>(values: &'a BTreeMap<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| match values.get(*k) {
        Some(Value::Text(t)) => Some(t.as_str()),
        _ => None,
    })
}

pub(super) fn flag(values: &BTreeMap<String, Value>, key: &str, default: bool) -> bool {
    match values.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => *n != 0.0,
        _ => default,
    }
}

/// A layer's (or the model's final) norm weight: not attention's inner norms (q_norm,
/// k_norm, MLA's q_a_layernorm and kv_a_layernorm).
pub(super) fn is_norm_weight(t: &Planned) -> bool {
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
pub(super) fn expert_index(name: &str) -> Option<usize> {
    let (_, rest) = name.split_once(".experts.")?;
    rest.split('.').next()?.parse().ok()
}

/// The router a MoE family's config describes.
pub(super) fn router(
    family: &str,
    values: &BTreeMap<String, Value>,
    experts: usize,
) -> Result<Router> {
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
pub(super) fn structure(model: &crate::model::hf::Model) -> Result<Structure> {
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
