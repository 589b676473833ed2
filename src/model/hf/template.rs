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
    repeat: BTreeMap<String, String>,
    #[serde(default)]
    tensor: Vec<TensorTemplate>,
    /// The recipes' symbols (`d`, `L`, `sigma0`) as expressions over the config.
    #[serde(default)]
    pub recipe: BTreeMap<String, String>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorTemplate {
    name: String,
    block: Option<String>,
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

    /// Every tensor of the model, in the template's order, blocks repeated.
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
        let mut k = 0;
        while k < self.tensor.len() {
            let Some(block) = &self.tensor[k].block else {
                self.emit(&self.tensor[k], None, &scope, &mut out)?;
                k += 1;
                continue;
            };
            // The run of consecutive tensors in this block repeats as a whole.
            let end = (k..self.tensor.len())
                .find(|&j| self.tensor[j].block.as_ref() != Some(block))
                .unwrap_or(self.tensor.len());
            let count = scope.size(&self.repeat[block])?;
            if count.saturating_mul(end - k) > MAX_TENSORS {
                return Err(Error::Param(format!(
                    "{label}: {} = {count} makes more than {MAX_TENSORS} tensors",
                    self.repeat[block]
                )));
            }
            for i in 0..count {
                for t in &self.tensor[k..end] {
                    self.emit(t, Some(i), &scope, &mut out)?;
                }
            }
            k = end;
        }
        Ok(out)
    }

    fn emit(
        &self,
        t: &TensorTemplate,
        index: Option<usize>,
        scope: &Scope<'_>,
        out: &mut Vec<Planned>,
    ) -> Result<()> {
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
        let name = match index {
            Some(i) => t.name.replace("{i}", &i.to_string()),
            None => t.name.clone(),
        };
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
        out.push(Planned {
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
mod tests {
    use super::*;

    const TOY: &str = r#"
family = "toy"
architectures = ["ToyForCausalLM"]
model_types = ["toy"]
source = "a test"

[defaults]
hidden_size = 8
num_heads = 2
head_dim = "hidden_size / num_heads"
layers = 2
tie = false
initializer_range = 0.02

[repeat]
layer = "layers"

[[tensor]]
name = "embed.weight"
shape = ["10", "hidden_size"]
scheme = "normal:std={initializer_range}"
zero_row = "pad_token_id"

[[tensor]]
name = "layers.{i}.q.weight"
block = "layer"
shape = ["num_heads * head_dim", "hidden_size"]
scheme = "normal:std={initializer_range / sqrt(2 * layers)}"

[[tensor]]
name = "layers.{i}.q.bias"
block = "layer"
shape = ["num_heads * head_dim"]
scheme = "zeros"
if = "bias"

[[tensor]]
name = "head.weight"
shape = ["10", "hidden_size"]
scheme = "normal:std={initializer_range}"
unless = "tie"
"#;

    fn expand(config: &[(&str, Value)]) -> Result<Vec<Planned>> {
        let t = Template::parse("toy.toml", TOY).unwrap();
        let config = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let values = t.scope_values(&config, "config.json")?;
        t.expand(&values, "config.json")
    }

    #[test]
    fn blocks_repeat_in_order_with_conditions_and_expressions() {
        let names = |ps: &[Planned]| ps.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        let plain = expand(&[]).unwrap();
        assert_eq!(
            names(&plain),
            [
                "embed.weight",
                "layers.0.q.weight",
                "layers.1.q.weight",
                "head.weight"
            ]
        );
        assert_eq!(plain[1].shape, [8, 8]);
        assert_eq!(
            plain[1].scheme,
            format!("normal:std={}", 0.02 / 4f64.sqrt())
        );
        assert_eq!(plain[0].zero_row, None);
        let other = expand(&[
            ("bias", Value::Bool(true)),
            ("tie", Value::Bool(true)),
            ("layers", Value::Number(1.0)),
            ("pad_token_id", Value::Number(3.0)),
        ])
        .unwrap();
        assert_eq!(
            names(&other),
            ["embed.weight", "layers.0.q.weight", "layers.0.q.bias"]
        );
        assert_eq!(other[0].zero_row, Some(3));
    }

    const MOE: &str = r#"
family = "moe"
source = "a test"
[defaults]
layers = 4
first_dense = 1
dense_layers = [3]
[repeat]
layer = "layers"
[[tensor]]
name = "layers.{i}.mlp.gate.weight"
block = "layer"
shape = ["8", "4"]
scheme = "normal:std=0.02"
if = "i >= first_dense and i not in dense_layers"
dtype = "float32"
role = "router"
[[tensor]]
name = "layers.{i}.mlp.up.weight"
block = "layer"
shape = ["4", "i + 1"]
scheme = "zeros"
unless = "i >= first_dense and i not in dense_layers"
"#;

    #[test]
    fn layers_may_differ_by_index_and_keep_a_dtype() {
        let t = Template::parse("moe.toml", MOE).unwrap();
        let config = [("dense_layers".to_string(), Value::List(vec![2.0]))].into();
        let values = t.scope_values(&config, "config.json").unwrap();
        let plan = t.expand(&values, "config.json").unwrap();
        let names: Vec<&str> = plan.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "layers.0.mlp.up.weight",
                "layers.1.mlp.gate.weight",
                "layers.2.mlp.up.weight",
                "layers.3.mlp.gate.weight"
            ]
        );
        assert_eq!(plan[2].shape, [4, 3]);
        assert_eq!((plan[1].dtype, plan[1].layer), (Some(DType::F32), Some(1)));
        assert_eq!((plan[0].dtype, plan[0].layer), (None, Some(0)));
        // The default list stands for a missing key.
        let values = t.scope_values(&BTreeMap::new(), "config.json").unwrap();
        let plan = t.expand(&values, "config.json").unwrap();
        let names: Vec<&str> = plan.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names[1..],
            [
                "layers.1.mlp.gate.weight",
                "layers.2.mlp.gate.weight",
                "layers.3.mlp.up.weight"
            ]
        );
        let bad = Template::parse("bad.toml", &MOE.replace("[3]", "[\"x\"]")).unwrap();
        let err = bad
            .scope_values(&BTreeMap::new(), "c")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("dense_layers") && err.contains("list of numbers"),
            "{err}"
        );
        let err = Template::parse("bad.toml", &MOE.replace("float32", "int4"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("int4") && err.contains("mlp.gate"), "{err}");
    }

    #[test]
    fn bad_configs_are_refused_with_the_key() {
        let err = expand(&[("num_heads", Value::Number(3.0))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("num_heads = 3"), "{err}");
        let err = expand(&[("pad_token_id", Value::Number(10.0))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("pad_token_id = 10"), "{err}");
        let err = expand(&[("layers", Value::Number(1e9))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than"), "{err}");
        let err = expand(&[("hidden_size", Value::Number(0.0))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a size"), "{err}");
    }
}
