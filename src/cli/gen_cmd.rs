//! `weightinit gen`: parse the request into tensor specs, decide where each goes, check
//! every target before drawing anything, draw, write atomically, report.

use std::io::Write;

pub use super::gen_args::{GenArgs, ReportMode};
use super::gen_plan::{Destination, Naming, Plan, Target};
use super::progress;
use crate::array::shape::Shape;
use crate::check::report::{TensorReport, render_human};
use crate::error::{Error, Result};
use crate::output::HashingWriter;
use crate::output::atomic::{self, AtomicFile, FileOptions};
use crate::output::manifest::{Manifest, ManifestEntry};
use crate::pipeline::write::TensorWriter;
use crate::tensor::{ResolvedTensor, TensorSpec};

/// The most worker threads `--threads` accepts: beyond this, starting the threads costs
/// more than any machine gains (5000 threads took 11 s for a 4x4 tensor).
pub const MAX_THREADS: usize = 1024;

pub fn run(args: GenArgs) -> Result<()> {
    let result = run_checked(args);
    // A run that fails leaves the disk as it found it: the directories it created and
    // that are still empty go too. A finished run keeps them.
    match &result {
        Ok(()) => atomic::keep_created_dirs(),
        Err(_) => {
            atomic::remove_empty_created_dirs();
        }
    }
    result
}

fn run_checked(args: GenArgs) -> Result<()> {
    let (tensors, config_copy) = match &args.hf_config {
        Some(config) => {
            let (tensors, bytes) = args.hf_specs(config)?;
            (tensors, Some(bytes))
        }
        None => (args.tensor_specs()?, None),
    };
    let tensors = args.mup_rescaled(tensors)?;
    let tensors = args.jax_keyed(tensors)?;
    let pool = thread_pool(args.threads)?;
    let mut max_shard_bytes = args
        .max_shard_size
        .as_deref()
        .map(|text| crate::budget::parse_byte_count(text, "--max-shard-size"))
        .transpose()?;
    // A Hugging Face model goes to a directory (default: the current one) as
    // model.safetensors, or its shards, beside a copy of config.json.
    let mut output = args.output.clone();
    if config_copy.is_some() {
        let out = output.get_or_insert_with(|| std::path::PathBuf::from("./"));
        // One model.safetensors unless the run is split: --max-shard-size, or --shard
        // alone (N files balanced by bytes, as for any source).
        if out.as_os_str() != "-"
            && super::gen_plan::is_directory_target(out)
            && args.shard.is_none()
        {
            max_shard_bytes.get_or_insert(u64::MAX);
        }
    }
    // Last of the checks: planning may create the output directory.
    let target = Target::from_flags(
        output.as_deref(),
        args.format,
        args.shard.as_deref(),
        max_shard_bytes,
        args.rng,
    )?;
    let naming = Naming {
        named: !args.name.is_empty()
            || args.preset.is_some()
            || args.layers.is_some()
            || args.spec.is_some()
            || args.like.is_some()
            || args.hf_config.is_some(),
        preset: args.preset,
    };
    let mut plan = Plan::new(&target, tensors, &naming, args.force, args.dry_run)?;
    if let (Some(bytes), Target::Shard(dir, _)) = (config_copy, &target) {
        plan.add_extra(dir.join("config.json"), bytes, args.force, args.dry_run)?;
    }
    if args.dry_run {
        return super::dry_run::print(&plan, args.report);
    }
    let options = FileOptions {
        force: args.force,
        fsync: args.fsync,
    };
    let reports = pool.install(|| write_all(&plan, options))?;
    for (path, bytes) in &plan.extras {
        if std::fs::read(path).ok().as_ref() != Some(bytes) {
            atomic::write_file(
                path,
                bytes,
                FileOptions {
                    force: true,
                    ..options
                },
            )?;
        }
    }
    let data_on_stdout = plan.items.iter().any(|(_, d)| *d == Destination::Stdout);
    emit_report(args.report, &reports, data_on_stdout)
}

impl GenArgs {
    /// One resolved spec per --shape (two for a preset: weight, then bias).
    fn tensor_specs(&self) -> Result<Vec<ResolvedTensor>> {
        if self.like.is_none()
            && self.spec.is_none()
            && (!self.rules.is_empty() || self.default_scheme.is_some())
        {
            return Err(Error::Usage(
                "--rule and --default choose schemes by tensor name for --like and --spec; \
                 with --shape, --layers or --preset give --scheme"
                    .into(),
            ));
        }
        if let Some(preset) = self.preset {
            return self.preset_specs(preset);
        }
        if let Some(layers) = &self.layers {
            return self.layer_specs(layers);
        }
        if let Some(path) = &self.like {
            return self.like_specs(path);
        }
        if let Some(path) = &self.spec {
            return self.spec_specs(path);
        }
        let scheme = self.scheme_spec()?;
        let shapes = self
            .shape
            .iter()
            .map(|s| s.parse::<Shape>())
            .collect::<Result<Vec<_>>>()?;
        let names = self.names(shapes.len())?;
        let seed = self.seed()?;
        shapes
            .into_iter()
            .zip(names)
            .map(|(shape, name)| {
                TensorSpec {
                    name,
                    shape,
                    layout: self.layout,
                    scheme: scheme.clone(),
                    dtype: self.dtype.unwrap_or_default(),
                    seed,
                    rng: self.rng,
                    jax: Default::default(),
                }
                .resolve()
            })
            .collect()
    }
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let threads = match threads {
        Some(0) => {
            return Err(Error::Usage(
                "--threads must be at least 1 (omit it to use all cores)".into(),
            ));
        }
        Some(n) if n > MAX_THREADS => {
            return Err(Error::Usage(format!(
                "--threads {n} is more than {MAX_THREADS}; more threads than cores only add \
                 start-up time (omit it to use all {} cores)",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            )));
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads} threads: {e}")))
}

/// Draws and writes every tensor, then the manifest.
fn write_all(plan: &Plan, options: FileOptions) -> Result<Vec<TensorReport>> {
    let mut bar = progress::Bar::default();
    let mut writer = TensorWriter::new(&mut bar);
    if !plan.containers.is_empty() {
        let mut reports = Vec::new();
        for (k, path) in plan.containers.iter().enumerate() {
            let tensors: Vec<&ResolvedTensor> = plan
                .items
                .iter()
                .filter(|(_, d)| *d == Destination::Member(k))
                .map(|(t, _)| t)
                .collect();
            let generated = writer.container(&tensors, path, plan.format, options)?;
            let label = path.display().to_string();
            reports.extend(
                tensors
                    .iter()
                    .zip(&generated)
                    .map(|(t, g)| TensorReport::new(t, g, label.clone())),
            );
        }
        return Ok(reports);
    }
    let mut reports = Vec::new();
    let mut entries = Vec::new();
    for (tensor, destination) in &plan.items {
        match destination {
            Destination::Stdout => {
                let stdout = std::io::stdout();
                let out = std::io::BufWriter::with_capacity(atomic::BUFFER, stdout);
                let generated = writer.stream(tensor, plan.format, out, "<stdout>")?;
                reports.push(TensorReport::new(tensor, &generated, "-".into()));
            }
            Destination::Member(_) => unreachable!("members are written by container"),
            Destination::File(path) => {
                let label = path.display().to_string();
                let mut file = AtomicFile::create(path, options)?;
                // Hash only for a manifest: SHA-256 would otherwise cost more than the write.
                let generated;
                let digest = if plan.manifest.is_some() {
                    let mut hashing = HashingWriter::new(file.writer());
                    generated = writer.stream(tensor, plan.format, &mut hashing, &label)?;
                    Some(hashing.digest())
                } else {
                    generated = writer.stream(tensor, plan.format, file.writer(), &label)?;
                    None
                };
                file.commit()?;
                if let Some((sha256, bytes)) = digest {
                    entries.push(ManifestEntry {
                        file: path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        format: plan.format,
                        sha256,
                        bytes,
                        meta: tensor.meta(),
                    });
                }
                reports.push(TensorReport::new(tensor, &generated, label));
            }
        }
    }
    if let Some(path) = &plan.manifest {
        atomic::write_file(path, &Manifest::new(entries).to_bytes(), options)?;
    }
    Ok(reports)
}

fn emit_report(mode: ReportMode, reports: &[TensorReport], data_on_stdout: bool) -> Result<()> {
    let text = match mode {
        ReportMode::None => return Ok(()),
        ReportMode::Human => render_human(reports),
        ReportMode::Json => {
            let consistent = reports.iter().all(|r| r.consistent);
            let total = crate::check::report::Total::of(reports);
            let doc =
                serde_json::json!({ "consistent": consistent, "total": total, "tensors": reports });
            let mut text = serde_json::to_string_pretty(&doc).expect("report serializes");
            text.push('\n');
            text
        }
    };
    let result = if mode == ReportMode::Json && !data_on_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    } else {
        std::io::stderr().lock().write_all(text.as_bytes())
    };
    result.map_err(|e| Error::io("<report>", e))
}
