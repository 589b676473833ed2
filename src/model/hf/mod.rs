//! Models from a Hugging Face `config.json` (`gen --hf-config`): the family's template
//! ([`template`], data embedded in the binary, or the user's own) expanded against the
//! config's values ([`expr`]) into the tensors `save_pretrained` writes, each with the
//! law the model's `_init_weights` gives it.

pub mod expr;
pub mod recipe;
pub mod schedule;
pub mod template;

use std::collections::BTreeMap;
use std::path::Path;

use expr::Value;
use template::{Planned, Template};

use crate::array::dtype::DType;
use crate::error::{Error, Result};

/// The families built in: (file name, template text).
const FAMILIES: &[(&str, &str)] = &[
    ("llama.toml", include_str!("families/llama.toml")),
    ("mistral.toml", include_str!("families/mistral.toml")),
    ("qwen2.toml", include_str!("families/qwen2.toml")),
    ("qwen3.toml", include_str!("families/qwen3.toml")),
    ("gemma.toml", include_str!("families/gemma.toml")),
    ("phi3.toml", include_str!("families/phi3.toml")),
    ("gpt2.toml", include_str!("families/gpt2.toml")),
    ("bert.toml", include_str!("families/bert.toml")),
    ("mixtral.toml", include_str!("families/mixtral.toml")),
    ("qwen3_moe.toml", include_str!("families/qwen3_moe.toml")),
    ("olmoe.toml", include_str!("families/olmoe.toml")),
    (
        "deepseek_v3.toml",
        include_str!("families/deepseek_v3.toml"),
    ),
    ("olmo2.toml", include_str!("families/olmo2.toml")),
    ("gemma2.toml", include_str!("families/gemma2.toml")),
    (
        "gemma3_text.toml",
        include_str!("families/gemma3_text.toml"),
    ),
    // State-space families.
    ("mamba.toml", include_str!("families/mamba.toml")),
    ("mamba2.toml", include_str!("families/mamba2.toml")),
];

/// How a mixture of experts' routed experts are written (`--hf-experts`): as
/// transformers 5's `save_pretrained` writes them by default (`save_original_format=True`:
/// converted back to the Hub's per-expert tensors, `experts.{e}.gate_proj.weight` ...,
/// the state dict sorted), or as the model holds them in memory, fused
/// (`save_original_format=False`: `experts.gate_up_proj` [E, 2·I, d],
/// `experts.down_proj` [E, d, I], in module order). Templates read it as the boolean
/// `save_original_format`; families without experts are the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HfExperts {
    #[default]
    Original,
    Fused,
}

impl crate::names::Choice for HfExperts {
    const TABLE: &'static [crate::names::Named<Self>] = &[
        crate::names::Named {
            value: HfExperts::Original,
            name: "original",
            aliases: &[],
            help: "the Hub's per-expert tensors, as save_pretrained writes them by default",
        },
        crate::names::Named {
            value: HfExperts::Fused,
            name: "fused",
            aliases: &[],
            help: "transformers 5's fused 3-D experts, as the model holds them \
                   (save_pretrained(save_original_format=False))",
        },
    ];
}

impl std::fmt::Display for HfExperts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HfExperts::Original => "original",
            HfExperts::Fused => "fused",
        })
    }
}

/// The scope key templates read for [`HfExperts`].
pub const SAVE_ORIGINAL_FORMAT: &str = "save_original_format";

/// Limit on a config.json's size: real ones are a few KiB.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// A config's model: its family, its tensors, and the dtype the config names.
#[derive(Debug)]
pub struct Model {
    pub family: String,
    pub source: String,
    pub tensors: Vec<Planned>,
    /// The config's `dtype` (or older `torch_dtype`), when it names one.
    pub dtype: Option<DType>,
    /// The config file's bytes, to copy beside the weights.
    pub config_bytes: Vec<u8>,
    /// The config's values over the template's defaults, and the config's label (path),
    /// for the recipes' symbols.
    pub values: BTreeMap<String, Value>,
    pub label: String,
    /// The template's `[recipe]` symbols: name → expression over `values`.
    pub recipe_symbols: BTreeMap<String, String>,
    /// What `torch.manual_seed(s); from_config(cfg)` draws, in order, when the template
    /// gives its schedule ([`schedule`]).
    pub torch_schedule: Option<Vec<schedule::ScheduledDraw>>,
    /// Why the family has no schedule, when its template says.
    pub torch_refusal: Option<String>,
}

/// Reads `config` and expands the model with `template` (a file), else the built-in
/// family its `architectures` (or `model_type`) names, its experts laid out as `experts`
/// says.
pub fn load(config: &Path, template: Option<&Path>, experts: HfExperts) -> Result<Model> {
    let label = config.display().to_string();
    let bytes = read_small(config, "config")?;
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Param(format!("{label}: not valid JSON: {e}")))?;
    let serde_json::Value::Object(object) = json else {
        return Err(Error::Param(format!("{label}: a config is a JSON object")));
    };
    let architectures: Vec<String> = match object.get("architectures") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|a| a.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    let model_type = object.get("model_type").and_then(|m| m.as_str());
    let values: BTreeMap<String, Value> = object
        .iter()
        .filter_map(|(k, v)| {
            let value = match v {
                serde_json::Value::Number(n) => Value::Number(n.as_f64()?),
                serde_json::Value::Bool(b) => Value::Bool(*b),
                serde_json::Value::Null => Value::Null,
                serde_json::Value::String(s) => Value::Text(s.clone()),
                // Lists of numbers (`mlp_only_layers`), for `i in key`; others are
                // nothing a template reads.
                serde_json::Value::Array(items) => {
                    Value::List(items.iter().map(|x| x.as_f64()).collect::<Option<_>>()?)
                }
                _ => return None,
            };
            Some((k.clone(), value))
        })
        .collect();
    let template = match template {
        Some(path) => {
            let text = String::from_utf8(read_small(path, "template")?)
                .map_err(|_| Error::Param(format!("{}: not UTF-8 text", path.display())))?;
            Template::parse(&path.display().to_string(), &text)?
        }
        None => builtin(&architectures, model_type, &label)?,
    };
    let mut values = template.scope_values(&values, &label)?;
    values.insert(
        SAVE_ORIGINAL_FORMAT.to_string(),
        Value::Bool(experts == HfExperts::Original),
    );
    let planned = template.expand(&values, &label)?;
    let torch_schedule = template.torch_schedule(&values, &planned, &label)?;
    let tensors = planned.into_iter().filter(|p| p.saved).collect();
    let dtype = match values.get("dtype").or_else(|| values.get("torch_dtype")) {
        Some(Value::Text(name)) => Some(torch_dtype(name, &label)?),
        _ => None,
    };
    Ok(Model {
        family: template.family,
        source: template.source,
        tensors,
        dtype,
        config_bytes: bytes,
        values,
        label,
        recipe_symbols: template.recipe,
        torch_schedule,
        torch_refusal: template.torch_refusal,
    })
}

/// A small file's bytes (at most [`MAX_CONFIG_BYTES`], read with a cap so a FIFO or a
/// huge file cannot exhaust memory); `what` names it in errors (exit code 2).
fn read_small(path: &Path, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let label = path.display();
    let unreadable = |e: std::io::Error| Error::Usage(format!("cannot read {what} '{label}': {e}"));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    if file.metadata().map_err(unreadable)?.is_dir() {
        return Err(Error::Usage(format!("{what} '{label}' is a directory")));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(Error::Usage(format!(
            "{what} '{label}' is larger than {MAX_CONFIG_BYTES} bytes; a config is a few KiB"
        )));
    }
    Ok(bytes)
}

/// The built-in family for these architectures, or a one-line list of the supported.
fn builtin(architectures: &[String], model_type: Option<&str>, label: &str) -> Result<Template> {
    for (file, text) in FAMILIES {
        let template = Template::parse(file, text)?;
        if template.matches(architectures, model_type) {
            return Ok(template);
        }
    }
    let supported: Vec<String> = FAMILIES
        .iter()
        .filter_map(|(file, text)| Template::parse(file, text).ok())
        .flat_map(|t| t.architectures)
        .collect();
    let named = if architectures.is_empty() {
        format!("model_type {:?}", model_type.unwrap_or("(none)"))
    } else {
        format!("architectures {architectures:?}")
    };
    Err(Error::Param(format!(
        "{label}: no family for {named}; supported: {} (or give your own with --spec FAMILY.toml)",
        supported.join(", ")
    )))
}

/// A config's dtype name as weightinit's dtype.
fn torch_dtype(name: &str, label: &str) -> Result<DType> {
    Ok(match name.trim_start_matches("torch.") {
        "float32" | "float" => DType::F32,
        "float64" | "double" => DType::F64,
        "float16" | "half" => DType::F16,
        "bfloat16" => DType::Bf16,
        other => {
            return Err(Error::Param(format!(
                "{label}: dtype '{other}' is not one weightinit writes (float32, float64, \
                 float16, bfloat16); give --dtype"
            )));
        }
    })
}
