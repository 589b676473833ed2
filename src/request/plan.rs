//! `gen`'s outputs: `-o`, `--format` and `--shard` decided once into a [`Target`], then
//! a [`Plan`] giving every tensor its destination, checked whole before anything is
//! drawn.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::array::DType;
use crate::error::{Error, Result};
use crate::model::preset::Preset;
use crate::model::shard::{self, Launcher, Shard, ShardChoice};
use crate::output::Format;
use crate::output::atomic;
use crate::tensor::ResolvedTensor;
use crate::tensor::rng::RngMode;

/// Where the run's output goes, from `-o`, `--format` and `--shard`.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `-o -`: one tensor in a single-tensor format.
    Stdout(Format),
    /// `-o DIR/` (or an existing directory): one file per tensor plus `manifest.json`.
    Directory(PathBuf, Format),
    /// `-o FILE.npy` / `FILE.json`: one tensor.
    File(PathBuf, Format),
    /// `-o FILE.npz` / `FILE.safetensors`: every tensor in one file.
    Container(PathBuf, Format),
    /// No `-o`: `SCHEME_SHAPE.npy` (or `NAME.npy`) in the current directory.
    DefaultNames(Format),
    /// `--shard I/N` and/or `--max-shard-size S` with `-o DIR/`: Hugging Face sharded
    /// safetensors files (this process's share of them) and the index.
    Shard(PathBuf, Sharding),
}

/// How a sharded run splits the model and which files this process writes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sharding {
    /// `--max-shard-size`: files of at most this many bytes (else `--shard`'s N files).
    pub max_bytes: Option<u64>,
    /// `--shard I/N` (or `auto`): this process's share (else every file).
    pub machine: Option<Shard>,
    /// With `--shard auto`: the launcher whose variables named the share.
    pub launcher: Option<Launcher>,
}

impl Target {
    /// Decides the target from the flags alone (tensors are not needed for that);
    /// `--shard auto` reads the launcher's rank and world size through `env`. `replayed`:
    /// each tensor carries its own generator state (`--hf-config --rng torch`, where
    /// transformers' run of draws is replayed), so a sequential stream's tensors can
    /// still be drawn alone.
    pub fn from_options(
        output: Option<&Path>,
        format: Option<Format>,
        shard: Option<&str>,
        max_shard_bytes: Option<u64>,
        rng: RngMode,
        replayed: bool,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Target> {
        if shard.is_some() || max_shard_bytes.is_some() {
            let flag = if shard.is_some() {
                "--shard"
            } else {
                "--max-shard-size"
            };
            let choice = shard
                .map(|text| ShardChoice::parse(text, env))
                .transpose()?;
            let machine = choice.map(|c| c.shard);
            let launcher = choice.and_then(|c| c.launcher);
            let max_bytes = max_shard_bytes;
            // The native and JAX streams are counter-based: any tensor is drawn alone.
            if matches!(rng, RngMode::Numpy | RngMode::Torch) && !replayed {
                return Err(Error::Usage(format!(
                    "{flag} needs --rng native or jax: --rng {rng} draws every tensor from \
                     one generator in order, so shards could not be written independently"
                )));
            }
            if format.is_some_and(|f| f != Format::Safetensors) {
                return Err(Error::Usage(format!(
                    "{flag} writes Hugging Face sharded .safetensors; drop --format"
                )));
            }
            return match output {
                Some(path) if path.as_os_str() != "-" && is_directory_target(path) => {
                    let sharding = Sharding {
                        max_bytes,
                        machine,
                        launcher,
                    };
                    Ok(Target::Shard(path.to_path_buf(), sharding))
                }
                _ => Err(Error::Usage(format!(
                    "{flag} writes into a directory: give -o DIR/"
                ))),
            };
        }
        let one_file_only = |format: Format, what: &str| -> Result<Format> {
            if format.is_container() {
                return Err(Error::Usage(format!(
                    "--format {format} puts every tensor in one file, so it cannot go {what}; \
                     use -o FILE.{format}"
                )));
            }
            Ok(format)
        };
        let or_npy = format.unwrap_or(Format::Npy);
        Ok(match output {
            Some(path) if path.as_os_str() == "-" => {
                Target::Stdout(one_file_only(or_npy, "to stdout")?)
            }
            Some(path) if is_directory_target(path) => Target::Directory(
                path.to_path_buf(),
                one_file_only(or_npy, "into a directory")?,
            ),
            Some(path) => {
                let format = format.or_else(|| Format::from_path(path)).ok_or_else(|| {
                    Error::Usage(format!(
                        "cannot tell the format of '{}' from its extension; use .npy, .json, \
                         .npz or .safetensors, or pass --format",
                        crate::text::path(path)
                    ))
                })?;
                if format.is_container() {
                    Target::Container(path.to_path_buf(), format)
                } else {
                    Target::File(path.to_path_buf(), format)
                }
            }
            None => Target::DefaultNames(one_file_only(or_npy, "to a default file name")?),
        })
    }
}

/// What file names and messages need to know about where the tensors came from.
pub struct Naming {
    /// Tensors were named (by --name or their source): files are `NAME.EXT`.
    pub named: bool,
    /// The preset that made the tensors, for the "one file" message.
    pub preset: Option<Preset>,
}

/// Where one tensor's bytes go.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
    /// A member of container file `k` of the run (`Plan::containers[k]`).
    Member(usize),
}

/// Every tensor with its destination and format, plus the manifest for a directory.
#[derive(Debug)]
pub struct Plan {
    pub items: Vec<(ResolvedTensor, Destination)>,
    pub format: Format,
    pub manifest: Option<PathBuf>,
    /// The .npz/.safetensors files that hold the tensors, for container formats: one,
    /// or this process's shard files.
    pub containers: Vec<PathBuf>,
    /// Small files written after the tensors when they differ from what is there: the
    /// shard index, and for --hf-config the copied config.json. An existing one that
    /// differs needs --force (checked when planning).
    pub extras: Vec<(PathBuf, Vec<u8>)>,
    /// A sharded run's split and this process's share, for a dry run to show (with
    /// `--shard auto`, which launcher named it).
    pub sharding: Option<Sharding>,
}

impl Plan {
    /// Gives every tensor its destination under `target` (creating a `-o DIR/` whose
    /// parent exists), refusing what cannot be written, then runs [`Plan::check`]. A dry
    /// run makes the same plan and the same checks without touching the disk: no
    /// directory is created and no stale temporary file removed.
    pub fn new(
        target: &Target,
        tensors: Vec<ResolvedTensor>,
        naming: &Naming,
        force: bool,
        dry: bool,
    ) -> Result<Plan> {
        let prepare = |dir: &Path| {
            if dry {
                check_directory(dir).map(|_| ())
            } else {
                prepare_directory(dir)
            }
        };
        let plan = match target {
            Target::Shard(dir, sharding) => Plan::shard(dir, sharding, tensors, force, prepare)?,
            Target::Container(path, format) => Plan {
                items: tensors
                    .into_iter()
                    .map(|t| (t, Destination::Member(0)))
                    .collect(),
                format: *format,
                manifest: None,
                containers: vec![path.clone()],
                extras: Vec::new(),
                sharding: None,
            },
            Target::Stdout(format) => Plan::stdout(*format, tensors)?,
            Target::File(path, format) => Plan::one_file(path, *format, tensors, naming)?,
            Target::Directory(dir, format) => {
                refuse_path_names(&tensors, naming, &dir.display().to_string())?;
                prepare(dir)?;
                let mut plan = Plan::files(Some(dir), *format, tensors, naming);
                plan.manifest = Some(dir.join("manifest.json"));
                plan
            }
            Target::DefaultNames(format) => {
                refuse_path_names(&tensors, naming, ".")?;
                Plan::files(None, *format, tensors, naming)
            }
        };
        plan.refuse_bf16_for_numpy()?;
        plan.check(force, dry)?;
        Ok(plan)
    }

    fn stdout(format: Format, tensors: Vec<ResolvedTensor>) -> Result<Plan> {
        let count = tensors.len();
        if count > 1 {
            return Err(Error::Usage(format!(
                "{count} tensors cannot all go to stdout; use -o DIR/ for one file each, or -o \
                 FILE.npz or FILE.safetensors for one file with them all"
            )));
        }
        if format == Format::Npy && std::io::stdout().is_terminal() {
            return Err(Error::Usage(
                "refusing to write binary .npy data to a terminal; redirect stdout or use \
                 --format json"
                    .into(),
            ));
        }
        Ok(Plan::simple(format, tensors, |_| Destination::Stdout))
    }

    fn one_file(
        path: &Path,
        format: Format,
        tensors: Vec<ResolvedTensor>,
        naming: &Naming,
    ) -> Result<Plan> {
        let count = tensors.len();
        if count > 1 {
            let why = match naming.preset {
                Some(preset) => format!("preset {} makes {count} tensors", preset.name()),
                None => format!("{count} shapes make {count} tensors"),
            };
            return Err(Error::Usage(format!(
                "-o '{}' is one file, but {why}; -o DIR/ writes one file each plus \
                 manifest.json, and -o FILE.npz or FILE.safetensors holds them all",
                crate::text::path(path)
            )));
        }
        Ok(Plan::simple(format, tensors, |_| {
            Destination::File(path.to_path_buf())
        }))
    }

    /// One file per tensor in `dir` (or the current directory): `NAME.EXT` for named
    /// tensors, `SCHEME_SHAPE.EXT` for a lone unnamed one, `wI_SHAPE.EXT` otherwise.
    fn files(
        dir: Option<&Path>,
        format: Format,
        tensors: Vec<ResolvedTensor>,
        naming: &Naming,
    ) -> Plan {
        let count = tensors.len();
        let file = |t: &ResolvedTensor| {
            let stem = if naming.named {
                t.spec.name.clone()
            } else if count == 1 {
                format!("{}_{}", t.spec.scheme.name(), t.spec.shape)
            } else {
                format!("{}_{}", t.spec.name, t.spec.shape)
            };
            let name = format!("{stem}.{format}");
            Destination::File(dir.map_or_else(|| PathBuf::from(&name), |d| d.join(&name)))
        };
        Plan::simple(format, tensors, file)
    }

    fn simple(
        format: Format,
        tensors: Vec<ResolvedTensor>,
        destination: impl Fn(&ResolvedTensor) -> Destination,
    ) -> Plan {
        Plan {
            items: tensors
                .into_iter()
                .map(|t| {
                    let d = destination(&t);
                    (t, d)
                })
                .collect(),
            format,
            manifest: None,
            containers: Vec::new(),
            extras: Vec::new(),
            sharding: None,
        }
    }

    /// A sharded run: the model split into files (by `--max-shard-size`, else into
    /// `--shard`'s N), this process's files among them, and the index every process
    /// writes alike (none for a single `model.safetensors`).
    fn shard(
        dir: &Path,
        sharding: &Sharding,
        tensors: Vec<ResolvedTensor>,
        force: bool,
        prepare: impl Fn(&Path) -> Result<()>,
    ) -> Result<Plan> {
        let (file_of, count) = match (sharding.max_bytes, sharding.machine) {
            (Some(max), _) => shard::split_by_size(&tensors, max),
            (None, Some(machine)) => (shard::assign(&tensors, machine.count)?, machine.count),
            (None, None) => unreachable!("a sharded target has --shard or --max-shard-size"),
        };
        // File k (1-based) is this process's when it has no --shard, or k ≡ I (mod N).
        let mine = |k: usize| {
            sharding
                .machine
                .is_none_or(|m| (k - 1) % m.count == m.index - 1)
        };
        prepare(dir)?;
        let index_path = dir.join("model.safetensors.index.json");
        let shard_index = if count > 1 {
            let index = shard::index_json(&tensors, &file_of, count);
            // Every process writes the same index; one already there must be that one.
            if let Ok(existing) = std::fs::read(&index_path)
                && existing != index
                && !force
            {
                return Err(Error::Usage(format!(
                    "{} exists and lists a different model; use --force to replace it",
                    index_path.display()
                )));
            }
            Some((index_path, index))
        } else {
            None
        };
        let files: Vec<usize> = (1..=count).filter(|&k| mine(k)).collect();
        let items = tensors
            .into_iter()
            .zip(file_of)
            .filter_map(|(t, k)| {
                let local = files.iter().position(|&f| f == k)?;
                Some((t, Destination::Member(local)))
            })
            .collect();
        Ok(Plan {
            items,
            format: Format::Safetensors,
            manifest: None,
            containers: files
                .iter()
                .map(|&k| dir.join(shard::file_name(k, count)))
                .collect(),
            // The index, the same for every process.
            extras: shard_index.into_iter().collect(),
            sharding: Some(*sharding),
        })
    }

    /// Adds a small file to write after the tensors (e.g. the copied config.json); an
    /// existing file with other content needs `force`.
    pub fn add_extra(
        &mut self,
        path: PathBuf,
        bytes: Vec<u8>,
        force: bool,
        dry: bool,
    ) -> Result<()> {
        if let Ok(existing) = std::fs::read(&path)
            && existing != bytes
            && !force
        {
            return Err(Error::Usage(format!(
                "{} exists with other content; use --force to replace it",
                path.display()
            )));
        }
        // A dry run's -o DIR/ may not exist yet; then neither does the file.
        if !dry || crate::output::target::parent_dir(&path).is_dir() {
            atomic::check_target(&path, true)?;
        }
        self.extras.push((path, bytes));
        Ok(())
    }

    fn refuse_bf16_for_numpy(&self) -> Result<()> {
        if matches!(self.format, Format::Npy | Format::Npz)
            && let Some((t, _)) = self.items.iter().find(|(t, _)| t.spec.dtype == DType::Bf16)
        {
            return Err(Error::Usage(format!(
                "tensor '{}' is bf16, which NumPy has no dtype for; write .safetensors (or .json)",
                t.spec.name
            )));
        }
        Ok(())
    }
}

impl Plan {
    /// Every check that can fail before a byte is drawn: each target can be written
    /// (only regular files are replaced, and only with --force), stale temporary files of
    /// an earlier killed run go, each tensor that is built in memory fits the memory
    /// budget, and each file system has room for what goes onto it.
    pub fn check(&self, force: bool, dry: bool) -> Result<()> {
        let started = std::time::SystemTime::now();
        let mut files: Vec<(&Path, u64)> = Vec::new();
        let min_bytes = |t: &ResolvedTensor| match self.format {
            // JSON writes at least a digit and a separator per value.
            Format::Json => t.spec.shape.len() as u64 * 2,
            _ => t.data_bytes(),
        };
        for (tensor, destination) in &self.items {
            crate::pipeline::generate::check_memory(tensor)?;
            if let Destination::File(path) = destination {
                files.push((path, min_bytes(tensor)));
            }
        }
        for (k, path) in self.containers.iter().enumerate() {
            let total = self
                .items
                .iter()
                .filter(|(_, d)| *d == Destination::Member(k))
                .map(|(t, _)| min_bytes(t))
                .sum::<u64>();
            files.push((path, total));
        }
        for path in self
            .manifest
            .iter()
            .chain(self.extras.iter().map(|(p, _)| p))
        {
            files.push((path, 0));
        }
        let mut per_dir: Vec<(PathBuf, u64)> = Vec::new();
        for (path, bytes) in files {
            // The shard index is rewritten only when it differs; --shard checked that.
            // The extras are rewritten only when they differ; planning checked that.
            let is_index = self.extras.iter().any(|(p, _)| p == path);
            // A dry run does not create `-o DIR/`: files in it would be new regular files.
            let in_new_dir = dry && !crate::output::target::parent_dir(path).is_dir();
            if !in_new_dir {
                let kind = atomic::check_target(path, force || is_index)?;
                if self.format == Format::Npz
                    && self.containers.iter().any(|c| c == path)
                    && !kind.is_seekable()
                {
                    return Err(Error::Usage(format!(
                        "'{}' is not seekable, and an .npz archive must be; write .npz to a \
                         regular file, or use --format npy or json",
                        crate::text::path(path)
                    )));
                }
                if !kind.uses_disk_space() {
                    continue;
                }
            }
            let stale = if dry {
                Vec::new()
            } else {
                crate::output::target::remove_stale_temporaries(path, started)
            };
            for removed in stale {
                eprintln!(
                    "weightinit: removed '{}', a temporary file left by an earlier run that \
                     was killed",
                    crate::text::escape_control(&removed.display().to_string())
                );
            }
            let dir = crate::output::target::parent_dir(path).to_path_buf();
            match per_dir.iter_mut().find(|(d, _)| *d == dir) {
                Some((_, total)) => *total = total.saturating_add(bytes),
                None => per_dir.push((dir, bytes)),
            }
        }
        for (dir, bytes) in per_dir {
            // A dry run's -o DIR/ may not exist yet: its parent's file system counts.
            let dir = if dir.is_dir() {
                dir
            } else {
                existing_parent(&dir)
            };
            crate::output::target::check_space(&dir, bytes)?;
        }
        Ok(())
    }
}

pub fn is_directory_target(path: &Path) -> bool {
    let text = path.as_os_str().to_string_lossy();
    text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) || path.is_dir()
}

/// Creates the output directory if its parent exists (like `mkdir`, not `mkdir -p`).
fn prepare_directory(path: &Path) -> Result<()> {
    let Some(trimmed) = check_directory(path)? else {
        return Ok(());
    };
    std::fs::create_dir(&trimmed).map_err(|e| Error::io(&trimmed, e))?;
    atomic::record_created_dir(&trimmed);
    Ok(())
}

/// A directory of one file per tensor names its files after the tensors: a name with `/`
/// (a TensorFlow- or Flax-style path) cannot be one file there.
fn refuse_path_names(tensors: &[ResolvedTensor], naming: &Naming, dir: &str) -> Result<()> {
    match tensors
        .iter()
        .find(|t| !crate::tensor::names_a_file(&t.spec.name))
    {
        Some(t) if naming.named => Err(Error::Usage(format!(
            "tensor name '{}' holds '/', which cannot name one file in '{}'; write all \
             tensors to one -o FILE.safetensors or FILE.npz instead",
            crate::text::value(&t.spec.name),
            crate::text::value(dir)
        ))),
        _ => Ok(()),
    }
}

/// Checks that `path` is a directory or can be made one (its parent exists); returns
/// the directory to create, if any.
fn check_directory(path: &Path) -> Result<Option<PathBuf>> {
    if path.is_dir() {
        return Ok(None);
    }
    if path.exists() {
        return Err(Error::Usage(format!(
            "'{}' exists and is not a directory",
            crate::text::path(path)
        )));
    }
    let trimmed = PathBuf::from(path.as_os_str().to_string_lossy().trim_end_matches('/'));
    let parent = existing_parent(&trimmed);
    if !parent.is_dir() {
        return Err(Error::MissingDir(parent));
    }
    Ok(Some(trimmed))
}

/// The directory `path` would be created in (`.` for a bare name).
fn existing_parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(output: Option<&str>, format: Option<Format>) -> Result<Target> {
        Target::from_options(
            output.map(Path::new),
            format,
            None,
            None,
            RngMode::Native,
            false,
            no_env,
        )
    }

    /// An environment with no variables set.
    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn flags_decide_the_target_once() {
        assert_eq!(
            target(None, None).unwrap(),
            Target::DefaultNames(Format::Npy)
        );
        assert_eq!(
            target(Some("-"), None).unwrap(),
            Target::Stdout(Format::Npy)
        );
        assert_eq!(
            target(Some("w.json"), None).unwrap(),
            Target::File("w.json".into(), Format::Json)
        );
        assert_eq!(
            target(Some("m.bin"), Some(Format::Npz)).unwrap(),
            Target::Container("m.bin".into(), Format::Npz)
        );
        assert_eq!(
            target(Some("out/"), Some(Format::Json)).unwrap(),
            Target::Directory("out/".into(), Format::Json)
        );
        for (output, format) in [
            (Some("-"), Format::Npz),
            (Some("out/"), Format::Safetensors),
        ] {
            let err = target(output, Some(format)).unwrap_err().to_string();
            assert!(err.contains("puts every tensor in one file"), "{err}");
        }
        let err = target(Some("w.bin"), None).unwrap_err().to_string();
        assert!(err.contains("cannot tell the format of 'w.bin'"), "{err}");
    }

    #[test]
    fn shards_need_a_directory_the_native_stream_and_safetensors() {
        let shard = |output: &str, format, rng| {
            Target::from_options(
                Some(Path::new(output)),
                format,
                Some("2/4"),
                None,
                rng,
                false,
                no_env,
            )
        };
        assert!(matches!(
            shard("out/", None, RngMode::Native),
            Ok(Target::Shard(_, _))
        ));
        for (output, format, rng, needle) in [
            (
                "out/",
                None,
                RngMode::Torch,
                "--shard needs --rng native or jax",
            ),
            ("out/", Some(Format::Npy), RngMode::Native, "drop --format"),
            ("m.safetensors", None, RngMode::Native, "give -o DIR/"),
        ] {
            let err = shard(output, format, rng).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        let by_size = |bytes| {
            Target::from_options(
                Some(Path::new("out/")),
                None,
                None,
                Some(bytes),
                RngMode::Native,
                false,
                no_env,
            )
        };
        assert_eq!(
            by_size(5_000_000_000).unwrap(),
            Target::Shard(
                "out/".into(),
                Sharding {
                    max_bytes: Some(5_000_000_000),
                    machine: None,
                    launcher: None,
                }
            )
        );
        // --shard auto: the launcher's rank and world size, through the lookup given.
        let slurm = |name: &str| match name {
            "SLURM_PROCID" => Some("2".to_string()),
            "SLURM_NTASKS" => Some("4".to_string()),
            _ => None,
        };
        let Target::Shard(_, sharding) = Target::from_options(
            Some(Path::new("out/")),
            None,
            Some("auto"),
            None,
            RngMode::Native,
            false,
            slurm,
        )
        .unwrap() else {
            panic!("--shard auto is a sharded target")
        };
        assert_eq!(sharding.machine, Some(Shard { index: 3, count: 4 }));
        assert_eq!(sharding.launcher.map(|l| l.name), Some("Slurm"));
        let err = crate::budget::parse_byte_count("5 parsecs", "--max-shard-size")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--max-shard-size '5 parsecs' is not a size"),
            "{err}"
        );
    }
}
