//! Family templates: a model family's tensors as data (TOML), expanded against a config.
//!
//! ```toml
//! family = "llama"
//! architectures = ["LlamaForCausalLM"]    # matched against the config's `architectures`
//! model_types = ["llama"]                 # else against its `model_type`
//! source = "transformers 4.57, LlamaPreTrainedModel._init_weights"
//!
//! [defaults]                              # the config class's defaults
//! hidden_size = 4096
//! head_dim = "hidden_size / num_attention_heads"   # text: an expression, for a missing or null key
//!
//! [repeat]
//! layer = "num_hidden_layers"             # block `layer` repeats, {i} = 0, 1, …
//!
//! [[tensor]]                              # in save_pretrained's order
//! name = "model.layers.{i}.self_attn.q_proj.weight"
//! block = "layer"                         # consecutive tensors of a block repeat together
//! shape = ["num_attention_heads * head_dim", "hidden_size"]
//! scheme = "normal:std={initializer_range}"   # {expression} is replaced by its value
//! if = "attention_bias"                   # or unless = "tie_word_embeddings"
//! role = "q"                              # what a recipe (`--recipe`) calls it
//!
//! [[tensor]]
//! name = "model.layers.{i}.mlp.gate.weight"
//! block = "layer"
//! shape = ["n_routed_experts", "hidden_size"]
//! scheme = "normal:std={initializer_range}"
//! if = "i >= first_k_dense_replace"       # conditions may use the layer index i
//! dtype = "float32"                       # kept in float32 whatever the config's dtype
//! ```
//!
//! A block may be nested in another, to repeat inside each of its repeats, and a
//! template may sort its plan as `save_pretrained` sorts a converted state dict:
//!
//! ```toml
//! sorted = "save_original_format"         # a condition (top level, before any table)
//!
//! [repeat.expert]
//! count = "num_local_experts"
//! within = "layer"                        # a top-level block
//! index = "e"                             # {e} in names; {i} is still the layer
//!
//! [[tensor]]
//! name = "model.layers.{i}.mlp.experts.{e}.gate_proj.weight"
//! block = "expert"                        # consecutive tensors of a nested block
//! shape = ["moe_intermediate_size", "hidden_size"]   # repeat together, in its outer one
//! scheme = "normal:std={initializer_range}"
//! if = "save_original_format"
//! sort_as = "model.layers.{i}.mlp.experts.gate_up_proj"
//! ```
//!
//! When `sorted` holds, the tensors are ordered by [`natural_key`] of their `sort_as`
//! (their own name without one) and, among equal keys, by their place in the template
//! (then their repeat): transformers 5's `revert_weight_conversion` sorts the model's
//! state dict that way and puts the tensors a fused one converts to where it was, all
//! of one part's experts before the next part's. The engine sets `save_original_format`
//! in every config's scope: true by default (what `save_pretrained(dir)` writes), false
//! for `--hf-experts fused` (what `save_pretrained(dir, save_original_format=False)`
//! writes, the experts as the model holds them). Conditions may use `i`, not a nested
//! index.
//!
//! Conditions (`if`, `unless`, `unsupported`) are [`super::expr`]'s: a key that is set,
//! comparisons, `and`/`or`/`not`, and `i in list_key`, with `i` the index of the repeat
//! (MoE models whose first layers, or listed ones, are dense). `dtype` (a torch dtype
//! name) is for the tensors transformers keeps in float32 whatever the config's dtype
//! (`_keep_in_fp32_modules_strict`): they are written in it unless `--dtype` is given,
//! which sets every tensor's.
//!
//! `role` names a weight as the init recipes of pretraining codebases do ([`ROLES`]); a
//! tensor without one (norms, biases, position embeddings, state-space parameters) keeps
//! the family's own law under every recipe. `[recipe]` gives the recipes' symbols as
//! expressions over the config: `d` (hidden size), `L` (layer count), `sigma0` (the
//! config's init std).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::expr::{Scope, Value};
use crate::array::dtype::DType;
use crate::error::{Error, Result};

/// A parsed template.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub family: String,
    #[serde(default)]
    pub architectures: Vec<String>,
    #[serde(default)]
    pub model_types: Vec<String>,
    /// Where the rules come from (transformers version and function).
    pub source: String,
    /// Config keys that, when they hold, add tensors this template does not describe:
    /// such a config is refused rather than planned wrong.
    #[serde(default)]
    unsupported: Vec<String>,
    #[serde(default)]
    defaults: BTreeMap<String, toml::Value>,
    #[serde(default)]
    repeat: BTreeMap<String, Repeat>,
    /// A condition under which the plan is sorted as transformers' `save_pretrained`
    /// sorts a converted state dict (`revert_weight_conversion`): by [`natural_key`] of
    /// each tensor's `sort_as` (its own name without one), ties in template order.
    sorted: Option<String>,
    #[serde(default)]
    tensor: Vec<TensorTemplate>,
    /// The recipes' symbols (`d`, `L`, `sigma0`) as expressions over the config.
    #[serde(default)]
    pub recipe: BTreeMap<String, String>,
    /// What `torch.manual_seed(s); from_config(cfg)` draws, in order ([`super::schedule`]).
    #[serde(default)]
    pub(super) torch: Vec<TorchGroup>,
    /// Why `--rng torch` cannot replay this family, for a template without `[[torch]]`.
    pub torch_refusal: Option<String>,
}

/// A group of torch schedule steps ([`super::schedule`]), repeated over a top-level
/// block when `each` names one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TorchGroup {
    pub(super) each: Option<String>,
    pub(super) steps: Vec<String>,
}

/// The roles a template may give a tensor: what the init recipes name.
/// - `embedding`: the token embedding; `lm_head`: the output projection;
/// - `q`, `k`, `v`, `o`: attention's input and output projections (an MLA model's
///   low-rank pieces are `q` for the query path and `k` for the key/value path);
/// - `qkv`: q, k and v fused in one tensor (GPT-2's `c_attn`, Phi-3's `qkv_proj`);
/// - `gate`, `up`, `down`: the MLP (or each expert's);
/// - `gate_up`: gate and up fused in one tensor, gate the first half of each matrix's
///   rows (transformers 5's fused experts);
/// - `router`: a mixture of experts' router (gate) weight;
/// - `expert_gate`, `expert_up`, `expert_down`, `expert_gate_up`: the routed experts'
///   (one expert's, or transformers 5's 3-D stack of all of a layer's), which some
///   recipes initialize apart from a dense MLP; a recipe that does not name them gives
///   them its gate/up/down laws. Shared experts are a dense MLP (`gate`, `up`, `down`).
pub const ROLES: &[&str] = &[
    "embedding",
    "q",
    "k",
    "v",
    "o",
    "qkv",
    "gate",
    "up",
    "down",
    "gate_up",
    "lm_head",
    "router",
    "expert_gate",
    "expert_up",
    "expert_down",
    "expert_gate_up",
];

/// A block's repeat: a count (a top-level block, index `{i}`), or a block nested in
/// one (`within`), repeated inside each of its repeats with its own index (`{e}`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Repeat {
    Count(String),
    Nested(Nested),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Nested {
    count: String,
    within: String,
    index: String,
}

impl Repeat {
    fn count(&self) -> &str {
        match self {
            Repeat::Count(count) => count,
            Repeat::Nested(nested) => &nested.count,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorTemplate {
    name: String,
    block: Option<String>,
    /// The name this tensor sorts as under the template's `sorted` (a per-expert
    /// tensor sorts where the fused tensor it is cut from would).
    sort_as: Option<String>,
    shape: Vec<String>,
    scheme: String,
    #[serde(rename = "if")]
    only_if: Option<String>,
    unless: Option<String>,
    /// A key whose value (when set) is a row to zero, e.g. `pad_token_id`.
    zero_row: Option<String>,
    /// What init recipes call this tensor (one of [`ROLES`]).
    role: Option<String>,
    /// A dtype (torch's name) this tensor keeps whatever the config's.
    dtype: Option<String>,
    /// A condition under which the model holds this tensor but `save_pretrained` does
    /// not write it (a head tied to the embedding, the fused experts it converts): it
    /// is planned for the torch draw schedule only.
    not_saved: Option<String>,
    /// The tensor `save_pretrained` cuts this one from (a per-expert tensor from the
    /// fused experts) and, with `region_offset` (elements, an expression that may use the
    /// nested index), where: under `--rng torch` its values are that slice of the other's.
    region_of: Option<String>,
    region_offset: Option<String>,
}

/// One expanded tensor: name, shape, scheme text, the row to zero if any, and what a
/// recipe needs: its role and the index of its repeat (its layer); and the dtype it
/// keeps whatever the config's, if any (`--dtype` still overrides it).
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub name: String,
    pub shape: Vec<usize>,
    pub scheme: String,
    pub zero_row: Option<usize>,
    pub role: Option<String>,
    pub layer: Option<usize>,
    pub dtype: Option<DType>,
    /// False for a tensor the model holds but `save_pretrained` does not write.
    pub saved: bool,
    /// The tensor this one is cut from and the element offset it starts at.
    pub region: Option<(String, usize)>,
}

/// The most tensors one config may expand to (a 1000-layer model of 20 tensors a layer).
pub const MAX_TENSORS: usize = 100_000;

impl Template {
    /// Parses a template's TOML text; `label` names it in errors.
    pub fn parse(label: &str, text: &str) -> Result<Template> {
        let template: Template =
            toml::from_str(text).map_err(|e| Error::Param(format!("{label}: {}", e.message())))?;
        for t in &template.tensor {
            if let Some(role) = &t.role
                && !ROLES.contains(&role.as_str())
            {
                return Err(Error::Param(format!(
                    "{label}: tensor '{}' has role '{role}'; roles are {}",
                    t.name,
                    ROLES.join(", ")
                )));
            }
            if let Some(dtype) = &t.dtype {
                super::torch_dtype(dtype, &format!("{label}: tensor '{}'", t.name))?;
            }
            if let Some(block) = &t.block
                && !template.repeat.contains_key(block)
            {
                return Err(Error::Param(format!(
                    "{label}: tensor '{}' is in block '{block}', which [repeat] does not define",
                    t.name
                )));
            }
        }
        for (block, repeat) in &template.repeat {
            if let Repeat::Nested(nested) = repeat
                && (!matches!(template.repeat.get(&nested.within), Some(Repeat::Count(_)))
                    || nested.index == "i"
                    || nested.index.is_empty()
                    || !nested
                        .index
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                return Err(Error::Param(format!(
                    "{label}: block '{block}' is within '{}', which is not a top-level \
                     block of [repeat], or its index '{}' is not a name other than i",
                    nested.within, nested.index
                )));
            }
        }
        template.check_schedule(label)?;
        Ok(template)
    }

    /// Whether this template is for a config with these `architectures` / `model_type`.
    pub fn matches(&self, architectures: &[String], model_type: Option<&str>) -> bool {
        architectures.iter().any(|a| self.architectures.contains(a))
            || (architectures.is_empty()
                && model_type.is_some_and(|m| self.model_types.iter().any(|t| t == m)))
    }

    /// The config's values over the template's defaults; defaults that are expressions
    /// are computed (in key order, after every plain value) when the config lacks them,
    /// and must be sizes (they are dimensions such as `head_dim`: a config whose heads do
    /// not divide its hidden size is refused here, naming both).
    pub fn scope_values(
        &self,
        config: &BTreeMap<String, Value>,
        label: &str,
    ) -> Result<BTreeMap<String, Value>> {
        let mut values = config.clone();
        let mut derived = Vec::new();
        for (key, default) in &self.defaults {
            // As the config classes do: a literal default stands for a missing key (an
            // explicit null stays null: `pad_token_id: null` means no padding row); a
            // derived one also for null (`head_dim: null` means hidden_size // heads).
            let (missing, null) = match values.get(key) {
                None => (true, false),
                // "auto" (Mamba's `time_step_rank`) asks for the derived default, as null does.
                Some(Value::Null) => (false, true),
                Some(Value::Text(t)) if t == "auto" => (false, true),
                Some(_) => (false, false),
            };
            match default {
                // A quoted default is a text value ('random'), not an expression.
                toml::Value::String(text)
                    if (missing || null)
                        && text.len() >= 2
                        && text.starts_with('\'')
                        && text.ends_with('\'') =>
                {
                    values.insert(
                        key.clone(),
                        Value::Text(text[1..text.len() - 1].to_string()),
                    );
                }
                toml::Value::String(expression) if missing || null => {
                    derived.push((key, expression));
                }
                _ if !missing => {}
                toml::Value::String(_) => unreachable!("handled above"),
                toml::Value::Integer(n) => {
                    values.insert(key.clone(), Value::Number(*n as f64));
                }
                toml::Value::Float(x) => {
                    values.insert(key.clone(), Value::Number(*x));
                }
                toml::Value::Boolean(b) => {
                    values.insert(key.clone(), Value::Bool(*b));
                }
                toml::Value::Array(items) => {
                    let numbers = items
                        .iter()
                        .map(|v| v.as_float().or(v.as_integer().map(|n| n as f64)))
                        .collect::<Option<Vec<f64>>>()
                        .ok_or_else(|| self.bad_default(key, default))?;
                    values.insert(key.clone(), Value::List(numbers));
                }
                other => return Err(self.bad_default(key, other)),
            }
        }
        for (key, expression) in derived {
            let scope = Scope {
                values: &values,
                where_: label,
                index: None,
            };
            let value = scope
                .size(expression)
                .map_err(|e| Error::Param(format!("{e}; it gives '{key}'")))?;
            values.insert(key.clone(), Value::Number(value as f64));
        }
        Ok(values)
    }

    fn bad_default(&self, key: &str, value: &toml::Value) -> Error {
        Error::Param(format!(
            "template {}: default '{key}' = {value} is not a number, a boolean, a list of \
             numbers or an expression",
            self.family
        ))
    }

    /// Every tensor of the model, in the template's order, blocks repeated (a nested
    /// block inside each repeat of its outer one); sorted when `sorted` holds.
    pub fn expand(&self, values: &BTreeMap<String, Value>, label: &str) -> Result<Vec<Planned>> {
        let scope = Scope {
            values,
            where_: label,
            index: None,
        };
        for key in &self.unsupported {
            if scope.holds(key)? {
                return Err(Error::Param(format!(
                    "{label}: {key} is set, which adds tensors the {} template does not cover",
                    self.family
                )));
            }
        }
        let mut out = Vec::new();
        // Per tensor planned: the name it sorts as and its template position.
        let mut sort_as = Vec::new();
        let mut k = 0;
        while k < self.tensor.len() {
            let Some(block) = &self.tensor[k].block else {
                self.emit(k, None, None, &scope, &mut out, &mut sort_as)?;
                k += 1;
                continue;
            };
            // The run of consecutive tensors in this block (or in blocks nested in it)
            // repeats as a whole.
            let outer = self.outer(block);
            let end = (k..self.tensor.len())
                .find(|&j| self.tensor[j].block.as_deref().map(|b| self.outer(b)) != Some(outer))
                .unwrap_or(self.tensor.len());
            let count = scope.size(self.repeat[outer].count())?;
            let mut per_repeat = 0usize;
            for t in &self.tensor[k..end] {
                per_repeat = per_repeat.saturating_add(match self.nested(t) {
                    Some(nested) => scope.count(&nested.count)?,
                    None => 1,
                });
            }
            if count.saturating_mul(per_repeat) > MAX_TENSORS {
                return Err(Error::Param(format!(
                    "{label}: {} = {count} makes more than {MAX_TENSORS} tensors",
                    self.repeat[outer].count()
                )));
            }
            for i in 0..count {
                let mut j = k;
                while j < end {
                    let Some(nested) = self.nested(&self.tensor[j]) else {
                        self.emit(j, Some(i), None, &scope, &mut out, &mut sort_as)?;
                        j += 1;
                        continue;
                    };
                    // A run of the nested block repeats as a whole inside this repeat.
                    let stop = (j..end)
                        .find(|&m| self.tensor[m].block != self.tensor[j].block)
                        .unwrap_or(end);
                    for e in 0..scope.count(&nested.count)? {
                        for m in j..stop {
                            let sub = Some((nested.index.as_str(), e));
                            self.emit(m, Some(i), sub, &scope, &mut out, &mut sort_as)?;
                        }
                    }
                    j = stop;
                }
            }
            k = end;
        }
        if let Some(condition) = &self.sorted
            && scope.holds(condition)?
        {
            let mut keyed: Vec<_> = sort_as
                .into_iter()
                .map(|(name, at)| (natural_key(&name), at))
                .zip(out)
                .collect();
            // Stable: tensors that sort as one go in template order, each's repeats in
            // index order (a fused tensor's parts, each over its experts).
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            out = keyed.into_iter().map(|(_, planned)| planned).collect();
        }
        Ok(out)
    }

    /// Whether `block` is a top-level block of `[repeat]`.
    pub(super) fn is_top_level_block(&self, block: &str) -> bool {
        matches!(self.repeat.get(block), Some(Repeat::Count(_)))
    }

    /// The count expression of block `block`.
    pub(super) fn repeat_count(&self, block: &str) -> &str {
        self.repeat[block].count()
    }

    /// The top-level block `block` is, or is nested in.
    fn outer<'a>(&'a self, block: &'a str) -> &'a str {
        match &self.repeat[block] {
            Repeat::Nested(nested) => &nested.within,
            Repeat::Count(_) => block,
        }
    }

    /// The nested repeat of a tensor's block, if it is in one.
    fn nested(&self, t: &TensorTemplate) -> Option<&Nested> {
        match &self.repeat[t.block.as_deref()?] {
            Repeat::Nested(nested) => Some(nested),
            Repeat::Count(_) => None,
        }
    }

    /// Plans tensor `at` of the template for repeat `index` (and `sub`, a nested block's
    /// index name and value), unless its condition says otherwise.
    fn emit(
        &self,
        at: usize,
        index: Option<usize>,
        sub: Option<(&str, usize)>,
        scope: &Scope<'_>,
        out: &mut Vec<Planned>,
        sort_as: &mut Vec<(String, usize)>,
    ) -> Result<()> {
        let t = &self.tensor[at];
        let scope = &Scope {
            values: scope.values,
            where_: scope.where_,
            index,
        };
        if let Some(condition) = &t.only_if
            && !scope.holds(condition)?
        {
            return Ok(());
        }
        if let Some(condition) = &t.unless
            && scope.holds(condition)?
        {
            return Ok(());
        }
        let fill = |text: &str| {
            let mut text = match index {
                Some(i) => text.replace("{i}", &i.to_string()),
                None => text.to_string(),
            };
            if let Some((placeholder, e)) = sub {
                text = text.replace(&format!("{{{placeholder}}}"), &e.to_string());
            }
            text
        };
        let name = fill(&t.name);
        let shape = t
            .shape
            .iter()
            .map(|d| scope.size(d))
            .collect::<Result<Vec<usize>>>()
            .map_err(|e| Error::Param(format!("tensor '{name}': {e}")))?;
        let scheme = substitute(&t.scheme, scope)?;
        let zero_row = match &t.zero_row {
            // Set means a number: 0 is a row too, null or missing is none.
            Some(key) if matches!(scope.values.get(key.as_str()), Some(Value::Number(_))) => {
                let row = scope.number(key)?;
                if row.fract() != 0.0 || row < 0.0 || row >= shape[0] as f64 {
                    return Err(Error::Param(format!(
                        "{}: {key} = {} is not a row of '{name}' (0 to {})",
                        scope.where_,
                        crate::text::num(row),
                        shape[0] - 1
                    )));
                }
                Some(row as usize)
            }
            _ => None,
        };
        let saved = match &t.not_saved {
            Some(condition) => !scope.holds(condition)?,
            None => true,
        };
        let region = match (&t.region_of, &t.region_offset) {
            (Some(source), Some(offset)) => {
                let at = scope.number(&fill(offset))?;
                if at.fract() != 0.0 || !(0.0..=(1u64 << 52) as f64).contains(&at) {
                    return Err(Error::Param(format!(
                        "template {}: tensor '{name}': region_offset {at} is not an element \
                         offset (a whole number from 0)",
                        self.family
                    )));
                }
                Some((fill(source), at as usize))
            }
            (None, None) => None,
            _ => {
                return Err(Error::Param(format!(
                    "template {}: tensor '{}' needs both region_of and region_offset",
                    self.family, t.name
                )));
            }
        };
        sort_as.push((t.sort_as.as_deref().map_or_else(|| name.clone(), fill), at));
        out.push(Planned {
            saved,
            region,
            name,
            shape,
            scheme,
            zero_row,
            role: t.role.clone(),
            layer: index,
            dtype: match &t.dtype {
                Some(name) => Some(super::torch_dtype(name, scope.where_)?),
                None => None,
            },
        });
        Ok(())
    }
}

/// One part of a dotted name as transformers' `dot_natural_key` orders it: digits as a
/// number before any text; text by itself, then by its trailing number if any.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyPart {
    Number(u128),
    Text(String, Option<u128>),
}

/// The sort key transformers 5 gives a state dict's names when `save_pretrained`
/// converts them back to the checkpoint's format (`core_model_loading.dot_natural_key`):
/// the name split on `.`, each part a [`KeyPart`], compared part by part.
pub fn natural_key(name: &str) -> Vec<KeyPart> {
    name.split('.')
        .map(|part| {
            let number = |digits: &str| digits.parse::<u128>().unwrap_or(u128::MAX);
            if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
                return KeyPart::Number(number(part));
            }
            let text = part.trim_end_matches(|c: char| c.is_ascii_digit());
            let digits = &part[text.len()..];
            KeyPart::Text(
                text.to_string(),
                (!digits.is_empty()).then(|| number(digits)),
            )
        })
        .collect()
}

/// `text` with every `{expression}` replaced by its value (shortest round-trip form).
pub(crate) fn substitute(text: &str, scope: &Scope<'_>) -> Result<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| Error::Param(format!("template scheme '{text}': '{{' without '}}'")))?
            + open;
        let value = scope.number(&rest[open + 1..close])?;
        out.push_str(&value.to_string());
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests;
