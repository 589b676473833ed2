//! Running a [`GenRequest`]: its tensors from their source, a plan checked whole before
//! anything is drawn, then every tensor drawn and written atomically, with the variance
//! report's rows as the result.

use super::GenRequest;
use super::plan::{Destination, Naming, Plan, Target};
use crate::check::report::TensorReport;
use crate::error::{Error, Result};
use crate::output::HashingWriter;
use crate::output::atomic::{self, AtomicFile, FileOptions};
use crate::output::manifest::{Manifest, ManifestEntry};
use crate::pipeline::write::{Progress, TensorWriter};
use crate::tensor::ResolvedTensor;

/// The most worker threads `--threads` accepts: beyond this, starting the threads costs
/// more than any machine gains (5000 threads took 11 s for a 4x4 tensor).
pub const MAX_THREADS: usize = 1024;

/// What a run did.
#[derive(Debug)]
pub enum Outcome {
    /// `dry_run`: the checked plan; nothing was written.
    Planned(Plan),
    /// The files were written; one report row per tensor.
    Written {
        reports: Vec<TensorReport>,
        /// Whether the data went to stdout (a report must then go to stderr).
        data_on_stdout: bool,
    },
}

/// Runs `request`, reporting each tensor's progress to `progress`. A run that fails
/// leaves the disk as it found it: its temporary files and the directories it created
/// that are still empty go; a finished run keeps them.
pub fn run(request: &GenRequest, progress: &mut dyn Progress) -> Result<Outcome> {
    let result = run_checked(request, progress);
    match &result {
        Ok(_) => atomic::keep_created_dirs(),
        Err(_) => {
            atomic::remove_empty_created_dirs();
        }
    }
    result
}

impl GenRequest {
    /// The request's tensors, resolved, in the order a run writes them: what `gen` would
    /// draw, without drawing or planning any file. For callers that fill memory they own
    /// (the Python package's `init_module`, one shard per rank).
    pub fn tensors(&self) -> Result<Vec<ResolvedTensor>> {
        self.check_options()?;
        Ok(self.sourced()?.0)
    }

    /// The tensors from their source, μP-rescaled and JAX-keyed, with the bytes of the
    /// Hugging Face config a run copies beside them.
    fn sourced(&self) -> Result<(Vec<ResolvedTensor>, Option<Vec<u8>>)> {
        let (tensors, config_copy) = match &self.hf_config {
            Some(config) => {
                let (tensors, bytes) = self.hf_specs(config)?;
                (tensors, Some(bytes))
            }
            None => (self.tensor_specs()?, None),
        };
        let tensors = self.mup_rescaled(tensors)?;
        Ok((self.jax_keyed(tensors)?, config_copy))
    }
}

fn run_checked(args: &GenRequest, progress: &mut dyn Progress) -> Result<Outcome> {
    args.check_options()?;
    let (tensors, config_copy) = args.sourced()?;
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
        if out.as_os_str() != "-" && super::plan::is_directory_target(out) && args.shard.is_none() {
            max_shard_bytes.get_or_insert(u64::MAX);
        }
    }
    // Last of the checks: planning may create the output directory.
    let target = Target::from_options(
        output.as_deref(),
        args.format,
        args.shard.as_deref(),
        max_shard_bytes,
        args.rng,
        // `--hf-config --rng torch` replays transformers' draws: each tensor carries
        // its own generator state (request/torch_replay.rs).
        args.hf_config.is_some() && args.rng == crate::tensor::rng::RngMode::Torch,
        // `--shard auto` (and Python's `shard="auto"`) reads the launcher's variables
        // here, when the request resolves, so the request itself stays plain values.
        |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()),
    )?;
    // Shards are written by separate processes: without a seed each would draw its own,
    // and the files would not form one model. (A spec file may carry its own seed.)
    if args.shard.is_some() && args.seed.is_none() && args.spec.is_none() {
        return Err(Error::Usage(
            "--shard needs --seed: every process writing a shard must draw from the same seed, or the shards do not form one model"
                .into(),
        ));
    }
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
        return Ok(Outcome::Planned(plan));
    }
    let options = FileOptions {
        force: args.force,
        fsync: args.fsync,
    };
    let reports = pool.install(|| write_all(&plan, options, progress))?;
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
    Ok(Outcome::Written {
        reports,
        data_on_stdout,
    })
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
fn write_all(
    plan: &Plan,
    options: FileOptions,
    progress: &mut dyn Progress,
) -> Result<Vec<TensorReport>> {
    let mut writer = TensorWriter::new(progress);
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
