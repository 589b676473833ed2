//! Init recipes of pretraining codebases (`gen --hf-config CONFIG --recipe NAME`): the
//! laws a codebase gives each weight, by role, applied to a family's tensors in place of
//! transformers' `_init_weights`. The recipes are data (`recipes.toml`, embedded), so
//! adding one is a table plus its test (tests/library/recipes.rs).
//!
//! A template gives its weights roles ([`super::template::ROLES`]) and its `[recipe]`
//! symbols (`d`, `L`, `sigma0`); a recipe maps roles to scheme texts whose
//! `{expressions}` see those symbols, the tensor's layer `l` and its `fan_in` (last
//! dimension). A role the recipe does not name keeps the family's law.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Model;
use super::expr::{Scope, Value};
use super::template::Planned;
use crate::error::{Error, Result};

/// The recipes' data.
const RECIPES: &str = include_str!("recipes.toml");

/// One recipe: its name, where its laws were read, a one-line summary, which law a tied
/// embedding takes, and the laws by role.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    pub name: String,
    pub source: String,
    pub summary: String,
    /// The role whose law the one tensor of a tied embedding/lm_head pair takes.
    pub tied: String,
    pub laws: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipeFile {
    recipe: Vec<Recipe>,
}

/// The keys a recipe's `laws` may have: the template roles a recipe can name (fused
/// roles take their parts' laws) and the experts' own.
const LAW_KEYS: &[&str] = &[
    "embedding",
    "q",
    "k",
    "v",
    "o",
    "gate",
    "up",
    "down",
    "lm_head",
    "router",
    "expert_gate",
    "expert_up",
    "expert_down",
];

/// Whether a role belongs to a transformer block (attention or MLP): every template role
/// but the embedding, the head and the router. A family without any (a state-space
/// model) is not what the recipes describe.
fn is_block_role(role: &str) -> bool {
    !matches!(role, "embedding" | "lm_head" | "router")
}

/// Every built-in recipe, in the data's order.
pub fn all() -> Result<Vec<Recipe>> {
    let file: RecipeFile = toml::from_str(RECIPES)
        .map_err(|e| Error::Param(format!("recipes.toml: {}", e.message())))?;
    for recipe in &file.recipe {
        if let Some(bad) = recipe
            .laws
            .keys()
            .chain(std::iter::once(&recipe.tied))
            .find(|k| !LAW_KEYS.contains(&k.as_str()))
        {
            return Err(Error::Param(format!(
                "recipes.toml: recipe '{}' names '{bad}', which is not one of {}",
                recipe.name,
                LAW_KEYS.join(", ")
            )));
        }
    }
    Ok(file.recipe)
}

/// The recipe called `name`, or one line listing the known ones (exit code 2).
pub fn find(name: &str) -> Result<Recipe> {
    let recipes = all()?;
    let names: Vec<&str> = recipes.iter().map(|r| r.name.as_str()).collect();
    recipes
        .iter()
        .find(|r| r.name == name)
        .cloned()
        .ok_or_else(|| {
            Error::Usage(format!(
                "unknown recipe '{}'; known: {}",
                crate::text::value(name),
                names.join(", ")
            ))
        })
}

/// Replaces the law of every tensor of `model` whose role `recipe` names by the recipe's
/// law for it. Refused, with one line: a family with no transformer-block roles, a
/// symbol the family cannot give, and a fused tensor (`qkv`, `gate_up`) whose parts the
/// recipe gives different laws (one tensor is drawn from one law).
pub fn apply(model: &mut Model, recipe: &Recipe) -> Result<()> {
    let has_role = |wanted: &dyn Fn(&str) -> bool| {
        model
            .tensors
            .iter()
            .any(|t| t.role.as_deref().is_some_and(wanted))
    };
    if !has_role(&is_block_role) {
        return Err(Error::Usage(format!(
            "recipe {} gives laws to attention and MLP weights (q, k, v, o, gate, up, down); \
             the {} family has none, so it does not apply",
            recipe.name, model.family
        )));
    }
    // Tied: the family saves one tensor for the embedding and the head (the template's
    // lm_head is absent), and that tensor takes the law of the recipe's `tied` role.
    let tied = has_role(&|r| r == "embedding") && !has_role(&|r| r == "lm_head");
    let mut symbols = BTreeMap::new();
    for (symbol, expression) in &model.recipe_symbols {
        let scope = Scope {
            values: &model.values,
            where_: &model.label,
            index: None,
        };
        let value = scope.number(expression).map_err(|e| {
            Error::Param(format!(
                "{e}; it gives the recipe's {symbol} for the {} family",
                model.family
            ))
        })?;
        symbols.insert(symbol.clone(), Value::Number(value));
    }
    for tensor in &mut model.tensors {
        let Some(role) = tensor.role.clone() else {
            continue;
        };
        let role = if tied && role == "embedding" {
            recipe.tied.clone()
        } else {
            role
        };
        if let Some(scheme) = law_for(recipe, &role, tensor, &symbols)? {
            tensor.scheme = scheme;
        }
    }
    Ok(())
}

/// The recipe's law for `tensor` in `role`, with its expressions computed; `None` when
/// the recipe does not name the role.
fn law_for(
    recipe: &Recipe,
    role: &str,
    tensor: &Planned,
    symbols: &BTreeMap<String, Value>,
) -> Result<Option<String>> {
    // A routed expert's role names its part (`expert_down`); a recipe without laws for
    // experts gives them its dense MLP's (`down`). Fused roles take their parts' laws.
    let (expert, base) = match role.strip_prefix("expert_") {
        Some(base) => (true, base),
        None => (false, role),
    };
    let parts: Vec<String> = match base {
        "qkv" => vec!["q".into(), "k".into(), "v".into()],
        "gate_up" => vec!["gate".into(), "up".into()],
        other => vec![other.to_string()],
    }
    .into_iter()
    .map(|part| {
        let own = format!("expert_{part}");
        if expert && recipe.laws.contains_key(&own) {
            own
        } else {
            part
        }
    })
    .collect();
    let mut laws = Vec::new();
    for part in &parts {
        let Some(text) = recipe.laws.get(part) else {
            laws.push(None);
            continue;
        };
        laws.push(Some(substitute(text, tensor, symbols, recipe)?));
    }
    match laws.as_slice() {
        [] | [None, ..] if laws.iter().all(Option::is_none) => Ok(None),
        [first, rest @ ..] if rest.iter().all(|l| l == first) => Ok(first.clone()),
        _ => {
            let described: Vec<String> = parts
                .iter()
                .zip(&laws)
                .map(|(part, law)| match law {
                    Some(law) => format!("{part} {law}"),
                    None => format!("{part} the family's own"),
                })
                .collect();
            // Routed experts are fused only with --hf-experts fused: the default layout
            // writes each expert's parts apart.
            let apart = if expert {
                "; --hf-experts original writes experts apart"
            } else {
                ""
            };
            Err(Error::Usage(format!(
                "recipe {} gives the fused parts of '{}' different laws ({}); one tensor is \
                 drawn from one law{apart}",
                recipe.name,
                tensor.name,
                described.join("; ")
            )))
        }
    }
}

/// `text` with every `{expression}` computed over the recipe's symbols, the tensor's
/// layer `l` and `fan_in`.
fn substitute(
    text: &str,
    tensor: &Planned,
    symbols: &BTreeMap<String, Value>,
    recipe: &Recipe,
) -> Result<String> {
    let mut values = symbols.clone();
    if let Some(l) = tensor.layer {
        values.insert("l".into(), Value::Number(l as f64));
    }
    if let Some(&fan_in) = tensor.shape.last() {
        values.insert("fan_in".into(), Value::Number(fan_in as f64));
    }
    let label = format!("recipe {} for '{}'", recipe.name, tensor.name);
    super::template::substitute(
        text,
        &Scope {
            values: &values,
            where_: &label,
            index: tensor.layer,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_parses_and_every_law_is_a_scheme() {
        let recipes = all().unwrap();
        assert!(recipes.len() >= 9);
        for recipe in &recipes {
            for law in recipe.laws.values() {
                // With made-up symbols every expression computes and the text parses.
                let symbols: BTreeMap<String, Value> = [("sigma0", 0.02), ("d", 64.0), ("L", 4.0)]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), Value::Number(v)))
                    .collect();
                let tensor = Planned {
                    name: "t".into(),
                    shape: vec![8, 16],
                    scheme: "zeros".into(),
                    zero_row: None,
                    role: None,
                    layer: Some(1),
                    dtype: None,
                    saved: true,
                    region: None,
                };
                let text = substitute(law, &tensor, &symbols, recipe).unwrap();
                text.parse::<crate::scheme::SchemeSpec>()
                    .unwrap_or_else(|e| panic!("{}: {text}: {e}", recipe.name));
            }
        }
    }

    #[test]
    fn unknown_recipes_list_the_known() {
        let err = find("titan").unwrap_err().to_string();
        assert!(err.contains("unknown recipe 'titan'"), "{err}");
        assert!(err.contains("torchtitan, megatron"), "{err}");
    }
}
