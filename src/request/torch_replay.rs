//! `--hf-config --rng torch`: where each tensor's values start in the run of draws
//! `torch.manual_seed(seed); from_config(cfg)` makes (the family's schedule,
//! [`crate::model::hf::schedule`]). One pass walks the schedule with PyTorch's generator,
//! skipping every draw ([`crate::compat::torch::kernels::skip_draw`]: MT19937 advanced
//! without tempering or storing a word) and taking a snapshot of the generator before
//! each draw that leaves a written tensor's values. Each tensor then carries its
//! snapshot, so it is drawn on its own, streamed as usual, in `save_pretrained`'s order.

use std::collections::HashMap;
use std::sync::Arc;

use crate::array::{Layout, Shape};
use crate::compat::torch::generator::CpuGenerator;
use crate::compat::torch::kernels::skip_draw;
use crate::compat::torch::mapping::torch_law;
use crate::error::{Error, Result};
use crate::law::Distribution;
use crate::model::hf::schedule::ScheduledDraw;
use crate::model::hf::template::Planned;
use crate::scheme::SchemeSpec;
use crate::tensor::ResolvedTensor;
use crate::tensor::rng::TorchReplay;

/// Gives every written tensor whose law is random its place in the run: `tensors` are
/// the resolved written tensors, `planned` the plan they came from (in the same order),
/// `schedule` the family's draws, `dtype` the config's (a draw's unless its tensor keeps
/// another), `family` for errors.
pub(super) fn attach(
    tensors: &mut [ResolvedTensor],
    planned: &[Planned],
    schedule: &[ScheduledDraw],
    seed: u64,
    dtype: crate::array::DType,
    family: &str,
) -> Result<()> {
    let laws = schedule
        .iter()
        .map(|draw| {
            let shape = Shape::new(draw.shape.clone())?;
            let scheme: SchemeSpec = draw.scheme.parse()?;
            let resolved = scheme.resolve(&shape, Layout::Oi)?;
            Ok(torch_law(scheme.kind, &resolved))
        })
        .collect::<Result<Vec<Distribution>>>()?;
    let mut last_draw: HashMap<&str, usize> = HashMap::new();
    for (k, draw) in schedule.iter().enumerate() {
        last_draw.insert(draw.tensor.as_str(), k);
    }
    // The written tensors' draws: (tensor index, draw index, offset in the draw).
    let mut wanted = Vec::new();
    for (t, (tensor, plan)) in tensors.iter().zip(planned).enumerate() {
        if matches!(tensor.resolved.distribution, Distribution::Constant { .. }) {
            continue;
        }
        let (source, offset) = match &plan.region {
            Some((source, offset)) => (source.as_str(), *offset),
            None => (plan.name.as_str(), 0),
        };
        let Some(&k) = last_draw.get(source) else {
            return Err(Error::Param(format!(
                "the {family} template's torch schedule never draws '{source}', which \
                 '{}' is written from",
                plan.name
            )));
        };
        let draw = &schedule[k];
        let draw_len: usize = draw.shape.iter().product();
        let draw_dtype = draw.dtype.unwrap_or(dtype);
        if offset + tensor.spec.shape.len() > draw_len || draw_dtype != tensor.spec.dtype {
            return Err(Error::Param(format!(
                "the {family} template's torch schedule draws '{source}' as {draw_len} \
                 {draw_dtype} values, which cannot hold '{}' ({} {} values from {offset})",
                plan.name,
                tensor.spec.shape.len(),
                tensor.spec.dtype
            )));
        }
        // The draw that leaves the values must be the tensor's own law, or the report
        // and the file's metadata would describe another law than the one written.
        if laws[k] != tensor.resolved.distribution {
            return Err(Error::Param(format!(
                "the {family} template's torch schedule last draws '{source}' from {}, and \
                 '{}' has the law {}",
                draw.scheme, plan.name, tensor.spec.scheme
            )));
        }
        wanted.push((t, k, offset, draw_len));
    }
    let mut starts: HashMap<usize, crate::tensor::rng::TorchState> = HashMap::new();
    let kept: std::collections::HashSet<usize> = wanted.iter().map(|w| w.1).collect();
    let mut rng = CpuGenerator::new(seed);
    for (k, (draw, law)) in schedule.iter().zip(&laws).enumerate() {
        if kept.contains(&k) {
            starts.insert(k, rng.snapshot());
        }
        let len = draw.shape.iter().product();
        skip_draw(&mut rng, law, len, draw.dtype.unwrap_or(dtype)).ok_or_else(|| {
            Error::Usage(format!(
                "--rng torch: the {family} model draws '{}' from {}, whose use of the \
                 generator is not reproduced (only constants, uniform_ and normal_ are)",
                draw.tensor, draw.scheme
            ))
        })?;
    }
    for (t, k, offset, draw_len) in wanted {
        tensors[t].torch_replay = Some(Arc::new(TorchReplay {
            start: starts[&k].clone(),
            law: laws[k],
            draw_len,
            offset,
        }));
    }
    Ok(())
}
