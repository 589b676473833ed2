//! A family's torch draw schedule: what `torch.manual_seed(s); from_config(cfg)` draws
//! from PyTorch's generator, in order, as data next to the template's tensors
//! (`[[torch]]` groups). transformers 5 builds the model for real, not on the meta
//! device, so every module's own default init draws first, in construction order, and is
//! thrown away; then `post_init` applies `_init_weights` children first, the inner model
//! (`LlamaModel`) before the outer one builds its head; a tied head is drawn and then
//! replaced by the embedding. `gen --hf-config --rng torch` replays this run, skipping
//! what is thrown away (see `request/torch_replay.rs`).
//!
//! ```toml
//! [[torch]]                       # a group of steps, in order
//! steps = ["embedding model.embed_tokens"]
//!
//! [[torch]]
//! each = "layer"                  # repeated for every {i} of a top-level block
//! steps = [
//!   "linear model.layers.{i}.self_attn.q_proj",
//!   "init model.layers.{i}.self_attn.q_proj.weight",
//!   "draw transformer.h.{i}.attn.c_proj.weight normal:std={initializer_range}",
//! ]
//! ```
//!
//! The steps (each a fact about a PyTorch or transformers module, with its source):
//! - `linear M`: `nn.Linear.reset_parameters` — `kaiming_uniform_(weight, a=√5)`, which
//!   is U(±1/√fan_in) (`fan-in-uniform`), then the bias, if M has one, U(±1/√fan_in);
//! - `embedding M`: `nn.Embedding.reset_parameters` — `normal_(weight)`, N(0, 1) (its
//!   padding row is then zeroed, which draws nothing);
//! - `conv1d M`: transformers' `pytorch_utils.Conv1D` — `normal_(weight, std=0.02)`, the
//!   bias zeros;
//! - `init T`: tensor T drawn from its own law (the template's `scheme`), as the family's
//!   `_init_weights` draws it; nothing for a constant law;
//! - `draw T SCHEME`: T drawn from SCHEME (`{expressions}` allowed), for the draws of
//!   `_init_weights` a later one overwrites (GPT-2's residual projections).
//!
//! A step whose tensor the config leaves out (a bias that is off, a dense layer's
//! experts) draws nothing. Tensors the model holds but `save_pretrained` does not write
//! (`not_saved`: a tied head, the fused experts) are in the plan for this.

use std::collections::{BTreeMap, HashMap};

use super::expr::{Scope, Value};
use super::template::{Planned, Template, substitute};
use crate::array::dtype::DType;
use crate::error::{Error, Result};

/// One draw of the run: the tensor it writes into (by name, with its shape and the dtype
/// it keeps, if any) and the law drawn (scheme text).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledDraw {
    pub tensor: String,
    pub shape: Vec<usize>,
    pub dtype: Option<DType>,
    pub scheme: String,
}

/// The step kinds, for the one-line refusal of an unknown one.
const STEPS: &str = "linear, embedding, conv1d, init, draw";

impl Template {
    /// Checks the `[[torch]]` groups' blocks and step kinds (at parse time).
    pub(super) fn check_schedule(&self, label: &str) -> Result<()> {
        for group in &self.torch {
            if let Some(block) = &group.each
                && !self.is_top_level_block(block)
            {
                return Err(Error::Param(format!(
                    "{label}: [[torch]] each = '{block}' is not a top-level block of [repeat]"
                )));
            }
            for step in &group.steps {
                let mut words = step.split_whitespace();
                let (kind, target) = (words.next(), words.next());
                let rest = words.count();
                let fits = match kind {
                    Some("linear" | "embedding" | "conv1d" | "init") => rest == 0,
                    Some("draw") => rest == 1,
                    _ => false,
                };
                if target.is_none() || !fits {
                    return Err(Error::Param(format!(
                        "{label}: [[torch]] step '{step}': write KIND TARGET (draw: KIND \
                         TENSOR SCHEME), KIND one of {STEPS}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The run of draws for this config, given every planned tensor (saved or not);
    /// `None` when the template has no schedule.
    pub fn torch_schedule(
        &self,
        values: &BTreeMap<String, Value>,
        planned: &[Planned],
        label: &str,
    ) -> Result<Option<Vec<ScheduledDraw>>> {
        if self.torch.is_empty() {
            return Ok(None);
        }
        let by_name: HashMap<&str, &Planned> =
            planned.iter().map(|p| (p.name.as_str(), p)).collect();
        let scope = Scope {
            values,
            where_: label,
            index: None,
        };
        let mut draws = Vec::new();
        for group in &self.torch {
            let count = match &group.each {
                Some(block) => scope.size(self.repeat_count(block))?,
                None => 1,
            };
            for i in 0..count {
                let index = group.each.is_some().then_some(i);
                let scope = Scope { index, ..scope };
                for step in &group.steps {
                    let step = match index {
                        Some(i) => step.replace("{i}", &i.to_string()),
                        None => step.clone(),
                    };
                    expand_step(&step, &by_name, &scope, &mut draws)?;
                }
            }
        }
        Ok(Some(draws))
    }
}

/// The draws of one step, if its tensor is in the model.
fn expand_step(
    step: &str,
    by_name: &HashMap<&str, &Planned>,
    scope: &Scope<'_>,
    draws: &mut Vec<ScheduledDraw>,
) -> Result<()> {
    let mut words = step.split_whitespace();
    let (kind, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let mut push = |name: &str, scheme: String| {
        if let Some(p) = by_name.get(name) {
            draws.push(ScheduledDraw {
                tensor: p.name.clone(),
                shape: p.shape.clone(),
                dtype: p.dtype,
                scheme,
            });
        }
    };
    match kind {
        "linear" => {
            let weight = format!("{target}.weight");
            let Some(w) = by_name.get(weight.as_str()) else {
                return Ok(());
            };
            // nn.Linear: kaiming_uniform_(a=√5) is U(±1/√fan_in); the bias
            // U(±1/√fan_in) with `bound = 1 / math.sqrt(fan_in)`.
            let fan_in = w.shape.get(1).copied().unwrap_or(1);
            let bound = 1.0 / (fan_in as f64).sqrt();
            push(&weight, "fan-in-uniform".into());
            push(
                &format!("{target}.bias"),
                format!("uniform:low={},high={bound}", -bound),
            );
        }
        "embedding" => push(&format!("{target}.weight"), "normal:std=1".into()),
        "conv1d" => push(&format!("{target}.weight"), "normal:std=0.02".into()),
        "init" => {
            if let Some(p) = by_name.get(target) {
                push(target, p.scheme.clone());
            }
        }
        "draw" => {
            let scheme = substitute(words.next().unwrap_or(""), scope)?;
            push(target, scheme);
        }
        other => unreachable!("step kind '{other}' passed check_schedule"),
    }
    Ok(())
}
