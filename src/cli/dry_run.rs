//! `gen --dry-run`: the plan of a run — every tensor with its law and destination, the
//! files, the parameter count and the bytes — printed instead of written. The plan is
//! the one the real run would make, with the same checks (existing files, memory, free
//! space), so a dry run that succeeds predicts a run that starts.

use std::io::Write;

use crate::error::{Error, Result};
use crate::text::{bytes, escape_control};

use super::gen_args::ReportMode;
use super::table::text_table;
use crate::request::plan::{Destination, Plan};

/// This process's shard, when the run is split by `--shard`: which one, and where it
/// came from — for `--shard auto`, the launcher's variables, which a user cannot see
/// otherwise before 64 processes write.
#[derive(serde::Serialize)]
struct ShardShown {
    index: usize,
    count: usize,
    /// `--shard 3/64`, or `--shard auto: RANK=2, WORLD_SIZE=64 from torchrun`.
    from: String,
}

fn shard_shown(plan: &Plan) -> Option<ShardShown> {
    let sharding = plan.sharding?;
    let shard = sharding.machine?;
    let from = match sharding.launcher {
        Some(l) => format!(
            "--shard auto: {}={}, {}={} from {}",
            l.rank,
            shard.index - 1,
            l.size,
            shard.count,
            l.name
        ),
        None => format!("--shard {}/{}", shard.index, shard.count),
    };
    Some(ShardShown {
        index: shard.index,
        count: shard.count,
        from,
    })
}

/// Prints the plan: a table (stdout) or, with `--report json`, one JSON document.
pub fn print(plan: &Plan, mode: ReportMode) -> Result<()> {
    let text = match mode {
        ReportMode::Json => json(plan),
        ReportMode::Human | ReportMode::None => human(plan),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("<stdout>", e))
}

/// Where a tensor goes, as text.
fn destination(plan: &Plan, d: &Destination) -> String {
    match d {
        Destination::Stdout => "<stdout>".into(),
        Destination::File(path) => escape_control(&path.display().to_string()),
        Destination::Member(k) => escape_control(&plan.containers[*k].display().to_string()),
    }
}

/// The files the run would write, in order, each once.
fn files(plan: &Plan) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for (_, d) in &plan.items {
        let f = destination(plan, d);
        if !files.contains(&f) {
            files.push(f);
        }
    }
    for extra in plan
        .manifest
        .iter()
        .chain(plan.extras.iter().map(|(p, _)| p))
    {
        files.push(escape_control(&extra.display().to_string()));
    }
    files
}

fn totals(plan: &Plan) -> (u64, u64) {
    plan.items.iter().fold((0, 0), |(n, b), (t, _)| {
        (n + t.spec.shape.len() as u64, b + t.data_bytes())
    })
}

fn human(plan: &Plan) -> String {
    let mut rows = vec![vec![
        "tensor".to_string(),
        "shape".into(),
        "dtype".into(),
        "law".into(),
        "bytes".into(),
        "file".into(),
    ]];
    for (t, d) in &plan.items {
        rows.push(vec![
            escape_control(&t.spec.name),
            t.spec.shape.to_string(),
            t.spec.dtype.to_string(),
            t.resolved.distribution.describe(),
            bytes(t.data_bytes()),
            destination(plan, d),
        ]);
    }
    let (elements, data) = totals(plan);
    let files = files(plan);
    let mut text = text_table(&rows);
    if let Some(shard) = shard_shown(plan) {
        text.push_str(&format!(
            "this process is shard {} of {} ({})\n",
            shard.index, shard.count, shard.from
        ));
    }
    text.push_str(&format!(
        "{} tensor{}, {elements} parameters, {} of {} data in {} file{}; dry run: nothing written\n",
        plan.items.len(),
        if plan.items.len() == 1 { "" } else { "s" },
        bytes(data),
        plan.format,
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    ));
    text
}

/// One tensor of the JSON plan: its metadata (as in manifests and reports, in that
/// field order), then what the plan adds.
#[derive(serde::Serialize)]
struct Planned {
    #[serde(flatten)]
    meta: crate::tensor::TensorMeta,
    law: String,
    bytes: u64,
    file: String,
}

#[derive(serde::Serialize)]
struct PlanDoc {
    dry_run: bool,
    format: String,
    total: Total,
    files: Vec<String>,
    /// Only for a run split by `--shard`.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<ShardShown>,
    tensors: Vec<Planned>,
}

#[derive(serde::Serialize)]
struct Total {
    tensors: usize,
    elements: u64,
    bytes: u64,
}

fn json(plan: &Plan) -> String {
    let tensors: Vec<Planned> = plan
        .items
        .iter()
        .map(|(t, d)| Planned {
            meta: t.meta(),
            law: t.resolved.distribution.describe(),
            bytes: t.data_bytes(),
            file: destination(plan, d),
        })
        .collect();
    let (elements, data) = totals(plan);
    let doc = PlanDoc {
        dry_run: true,
        format: plan.format.to_string(),
        total: Total {
            tensors: plan.items.len(),
            elements,
            bytes: data,
        },
        files: files(plan),
        shard: shard_shown(plan),
        tensors,
    };
    // Serialized from structs, not a `Value`, so the fields keep this order.
    let mut text = serde_json::to_string_pretty(&doc).expect("plan serializes");
    text.push('\n');
    text
}
