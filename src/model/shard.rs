//! Sharded output: a model's tensors split into `.safetensors` files in the Hugging Face
//! layout (`model-0000k-of-0000K.safetensors` and `model.safetensors.index.json`).
//!
//! Two splits, each depending only on the tensor list:
//! * `--shard I/N` alone: N files balanced by bytes ([`assign`]), file I written by
//!   machine I.
//! * `--max-shard-size S`: files of at most S bytes as `save_pretrained` makes them
//!   ([`split_by_size`]); one run writes them all, or with `--shard I/N` machine I writes
//!   files I, I + N, I + 2N, …
//!
//! Since every tensor's bytes depend only on (seed, name, scheme, shape, layout, dtype)
//! with the native stream, any file can be written anywhere and the files together
//! equal one run doing everything.

use std::collections::BTreeMap;

use crate::error::{Error, Result, Subject};
use crate::tensor::ResolvedTensor;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;

    fn from_str(text: &str) -> Result<Shard> {
        let bad = || Error::Invalid {
            of: Subject::Shard,
            value: text.to_string(),
            reason: "write I/N with 1 ≤ I ≤ N ≤ 99999, e.g. 3/64, or auto (the rank and \
                     world size a launcher sets: torchrun, Slurm, Open MPI)"
                .into(),
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count || count > MAX_COUNT {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// A launcher that starts one process per rank and tells each its rank and the world
/// size in two environment variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Launcher {
    /// How messages name it: `torchrun`, `Slurm`, `Open MPI`.
    pub name: &'static str,
    /// The variable with the process's rank, 0-based.
    pub rank: &'static str,
    /// The variable with the number of processes.
    pub size: &'static str,
}

/// The launchers `--shard auto` reads, in the order it looks. torchrun comes first:
/// started under Slurm it sees Slurm's variables too, and its RANK is the process's own
/// while SLURM_PROCID is that of the task that ran torchrun.
pub const LAUNCHERS: [Launcher; 3] = [
    Launcher {
        name: "torchrun",
        rank: "RANK",
        size: "WORLD_SIZE",
    },
    Launcher {
        name: "Slurm",
        rank: "SLURM_PROCID",
        size: "SLURM_NTASKS",
    },
    Launcher {
        name: "Open MPI",
        rank: "OMPI_COMM_WORLD_RANK",
        size: "OMPI_COMM_WORLD_SIZE",
    },
];

/// The most shards a model is split into (five digits in the file names).
const MAX_COUNT: usize = 99_999;

/// `--shard`'s value: `I/N`, or `auto` with the launcher that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardChoice {
    pub shard: Shard,
    /// Set for `auto`: whose variables named the shard.
    pub launcher: Option<Launcher>,
}

impl ShardChoice {
    /// Reads `--shard`'s text: `I/N`, or `auto`, which asks [`Shard::from_launcher`]
    /// with `env` (the process's environment, or a test's table).
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<ShardChoice> {
        if text.trim() == "auto" {
            let (shard, launcher) = Shard::from_launcher(env)?;
            return Ok(ShardChoice {
                shard,
                launcher: Some(launcher),
            });
        }
        Ok(ShardChoice {
            shard: text.parse()?,
            launcher: None,
        })
    }
}

impl Shard {
    /// `--shard auto`: shard rank + 1 of the world size, from the first launcher of
    /// [`LAUNCHERS`] whose variables `env` has. A launcher with only one of its two
    /// variables set is refused rather than passed over: a half-set pair means a launcher
    /// went wrong, and guessing another's would write the wrong shard silently.
    pub fn from_launcher(env: impl Fn(&str) -> Option<String>) -> Result<(Shard, Launcher)> {
        let bad = |reason: String| Error::Invalid {
            of: Subject::Shard,
            value: "auto".into(),
            reason,
        };
        // An empty variable counts as unset: `RANK= cmd` is how a shell clears one.
        let get = |name: &str| env(name).filter(|value| !value.is_empty());
        for launcher in LAUNCHERS {
            let (rank, size) = match (get(launcher.rank), get(launcher.size)) {
                (None, None) => continue,
                (Some(rank), Some(size)) => (rank, size),
                (rank, _) => {
                    let (set, missing) = if rank.is_some() {
                        (launcher.rank, launcher.size)
                    } else {
                        (launcher.size, launcher.rank)
                    };
                    return Err(bad(format!(
                        "{set} is set but {missing} is not; {} sets both, and --shard auto \
                         needs both (or give --shard I/N)",
                        launcher.name
                    )));
                }
            };
            let number = |name: &str, value: &str| -> Result<usize> {
                value.parse().map_err(|_| {
                    bad(format!(
                        "{name}='{}' is not a whole number; {} sets {} (the rank, from 0) \
                         and {} (the number of processes, 1 to {MAX_COUNT})",
                        crate::text::value(value),
                        launcher.name,
                        launcher.rank,
                        launcher.size
                    ))
                })
            };
            let count = number(launcher.size, &size)?;
            let rank = number(launcher.rank, &rank)?;
            if count == 0 || count > MAX_COUNT {
                return Err(bad(format!(
                    "{}={count}: the number of processes must be 1 to {MAX_COUNT}",
                    launcher.size
                )));
            }
            if rank >= count {
                return Err(bad(format!(
                    "{}={rank} is not below {}={count}: ranks run from 0 to {}",
                    launcher.rank,
                    launcher.size,
                    count - 1
                )));
            }
            let shard = Shard {
                index: rank + 1,
                count,
            };
            return Ok((shard, launcher));
        }
        let pairs: Vec<String> = LAUNCHERS
            .iter()
            .map(|l| format!("{} and {} ({})", l.rank, l.size, l.name))
            .collect();
        Err(bad(format!(
            "no launcher's rank and world size in the environment; it reads {}; or give \
             --shard I/N",
            pairs.join(", ")
        )))
    }

    /// The shard's file name in the Hugging Face layout.
    pub fn file_name(self) -> String {
        format!("model-{:05}-of-{:05}.safetensors", self.index, self.count)
    }
}

/// The shard (1-based) of every tensor, balanced by bytes, order kept: shard k starts
/// at the first tensor whose first byte lies at or past (k−1)/N of the model's bytes,
/// moved so that every shard holds at least one tensor.
pub fn assign(tensors: &[ResolvedTensor], count: usize) -> Result<Vec<usize>> {
    let n = tensors.len();
    if n < count {
        return Err(Error::Usage(format!(
            "{count} shards for {n} tensors: every shard needs at least one tensor"
        )));
    }
    let mut starts = Vec::with_capacity(n);
    let mut total = 0u128;
    for t in tensors {
        starts.push(total);
        total += u128::from(t.data_bytes());
    }
    let mut first = vec![0usize; count];
    for k in 1..count {
        let target = total * k as u128 / count as u128;
        first[k] = starts
            .partition_point(|&s| s < target)
            .max(first[k - 1] + 1)
            .min(n - (count - k));
    }
    Ok((0..n).map(|i| first.partition_point(|&f| f <= i)).collect())
}

/// The file (1-based) of every tensor and the number of files, split as
/// `huggingface_hub.split_state_dict_into_shards_factory` (what `save_pretrained` calls)
/// does: tensors in order fill the current file until the next would take it past
/// `max_bytes`, which then starts a new file; a tensor larger than `max_bytes` gets a
/// file of its own, placed at once — before the file being filled, which is closed only
/// later (huggingface_hub's own order, kept so that the file names match).
pub fn split_by_size(tensors: &[ResolvedTensor], max_bytes: u64) -> (Vec<usize>, usize) {
    // Files in the order they are closed; each holds tensor indices.
    let mut files: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_bytes = 0u64;
    for (i, t) in tensors.iter().enumerate() {
        let bytes = t.data_bytes();
        if bytes > max_bytes {
            files.push(vec![i]);
            continue;
        }
        if current_bytes + bytes > max_bytes && !current.is_empty() {
            files.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current.push(i);
        current_bytes += bytes;
    }
    if !current.is_empty() {
        files.push(current);
    }
    let mut file_of = vec![0usize; tensors.len()];
    for (k, members) in files.iter().enumerate() {
        for &i in members {
            file_of[i] = k + 1;
        }
    }
    (file_of, files.len())
}

/// The name of file `index` (1-based) of `count`: `model-0000k-of-0000K.safetensors`,
/// or `model.safetensors` when there is only one (as `save_pretrained` names it, with no
/// index beside it).
pub fn file_name(index: usize, count: usize) -> String {
    if count == 1 {
        "model.safetensors".to_string()
    } else {
        Shard { index, count }.file_name()
    }
}

/// `model.safetensors.index.json`: total size and which file holds each tensor.
pub fn index_json(tensors: &[ResolvedTensor], shards: &[usize], count: usize) -> Vec<u8> {
    let total: u64 = tensors.iter().map(|t| t.data_bytes()).sum();
    let weight_map: BTreeMap<&str, String> = tensors
        .iter()
        .zip(shards)
        .map(|(t, &k)| (t.spec.name.as_str(), file_name(k, count)))
        .collect();
    let doc = serde_json::json!({
        "metadata": {"total_size": total, "generator": concat!("weightinit ", env!("CARGO_PKG_VERSION"))},
        "weight_map": weight_map,
    });
    let mut text = serde_json::to_vec_pretty(&doc).expect("index serializes");
    text.push(b'\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::dtype::DType;
    use crate::array::fan::Layout;
    use crate::tensor::TensorSpec;
    use crate::tensor::rng::RngMode;

    /// huggingface_hub's rule on a model with an oversized tensor in the middle: the big
    /// one gets file 1 at once, the file being filled is closed later.
    #[test]
    fn size_split_follows_huggingface_hub() {
        // f32 sizes in bytes: 40, 40, 400 (over 100), 40, 40, 40
        let model = tensors(&[10, 10, 100, 10, 10, 10]);
        let (file_of, count) = split_by_size(&model, 100);
        assert_eq!((file_of, count), (vec![2, 2, 1, 3, 3, 4], 4));
        // Exactly full files close when the next tensor would overflow them.
        let (file_of, count) = split_by_size(&tensors(&[10, 15, 10, 25]), 100);
        assert_eq!((file_of, count), (vec![1, 1, 2, 3], 3));
        // Everything fits: one file, named without a shard suffix.
        let (file_of, count) = split_by_size(&tensors(&[1, 2, 3]), 1 << 20);
        assert_eq!((file_of, count), (vec![1, 1, 1], 1));
        assert_eq!(file_name(1, 1), "model.safetensors");
        assert_eq!(file_name(2, 3), "model-00002-of-00003.safetensors");
    }

    fn tensors(sizes: &[usize]) -> Vec<ResolvedTensor> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                TensorSpec {
                    name: format!("t{i}"),
                    shape: n.to_string().parse().unwrap(),
                    layout: Layout::Io,
                    scheme: "zeros".parse().unwrap(),
                    dtype: DType::F32,
                    seed: 0,
                    rng: RngMode::Native,
                    jax: Default::default(),
                }
                .resolve()
                .unwrap()
            })
            .collect()
    }

    /// An environment holding exactly `vars`.
    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn auto_reads_the_launchers_rank_and_world_size() {
        let launched = |vars: &[(&str, &str)]| {
            Shard::from_launcher(env(vars)).map(|(shard, l)| (shard.index, shard.count, l.name))
        };
        assert_eq!(
            launched(&[("RANK", "0"), ("WORLD_SIZE", "4")]).unwrap(),
            (1, 4, "torchrun")
        );
        assert_eq!(
            launched(&[("SLURM_PROCID", "63"), ("SLURM_NTASKS", "64")]).unwrap(),
            (64, 64, "Slurm")
        );
        assert_eq!(
            launched(&[("OMPI_COMM_WORLD_RANK", "2"), ("OMPI_COMM_WORLD_SIZE", "3")]).unwrap(),
            (3, 3, "Open MPI")
        );
        // torchrun under Slurm: RANK is the process's own, SLURM_PROCID its task's.
        let both = [
            ("SLURM_PROCID", "1"),
            ("SLURM_NTASKS", "2"),
            ("RANK", "5"),
            ("WORLD_SIZE", "8"),
        ];
        assert_eq!(launched(&both).unwrap(), (6, 8, "torchrun"));
        // An empty variable is unset.
        let cleared = [("RANK", ""), ("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1")];
        assert_eq!(launched(&cleared).unwrap(), (1, 1, "Slurm"));
        // `auto` through --shard's parser; I/N as before.
        let choice = ShardChoice::parse("auto", env(&[("RANK", "1"), ("WORLD_SIZE", "2")]));
        assert_eq!(choice.unwrap().shard, Shard { index: 2, count: 2 });
        let choice = ShardChoice::parse("2/3", env(&[("RANK", "0"), ("WORLD_SIZE", "2")]));
        let choice = choice.unwrap();
        assert_eq!(
            (choice.shard, choice.launcher),
            (Shard { index: 2, count: 3 }, None)
        );
    }

    #[test]
    fn auto_refuses_in_one_line_naming_the_variables() {
        let refused = |vars: &[(&str, &str)]| {
            let err = Shard::from_launcher(env(vars)).unwrap_err();
            assert!(err.is_usage(), "{err}");
            let text = err.to_string();
            assert!(!text.contains('\n'), "{text}");
            text
        };
        let none = refused(&[]);
        for name in [
            "RANK",
            "WORLD_SIZE",
            "SLURM_PROCID",
            "SLURM_NTASKS",
            "OMPI_COMM_WORLD_RANK",
            "OMPI_COMM_WORLD_SIZE",
            "--shard I/N",
        ] {
            assert!(none.contains(name), "{none}");
        }
        // Half a pair names the missing one, even when a later launcher is complete.
        let half = refused(&[("RANK", "1"), ("SLURM_PROCID", "0"), ("SLURM_NTASKS", "2")]);
        assert!(half.contains("WORLD_SIZE is not"), "{half}");
        let half = refused(&[("SLURM_NTASKS", "4")]);
        assert!(half.contains("SLURM_PROCID is not"), "{half}");
        let bad = refused(&[("RANK", "two"), ("WORLD_SIZE", "4")]);
        assert!(bad.contains("RANK='two' is not a whole number"), "{bad}");
        let bad = refused(&[("RANK", "-1"), ("WORLD_SIZE", "4")]);
        assert!(bad.contains("'-1'"), "{bad}");
        let zero = refused(&[("OMPI_COMM_WORLD_RANK", "0"), ("OMPI_COMM_WORLD_SIZE", "0")]);
        assert!(zero.contains("OMPI_COMM_WORLD_SIZE=0"), "{zero}");
        let over = refused(&[("RANK", "4"), ("WORLD_SIZE", "4")]);
        assert!(over.contains("RANK=4 is not below WORLD_SIZE=4"), "{over}");
        let huge = refused(&[("RANK", "0"), ("WORLD_SIZE", "100000")]);
        assert!(huge.contains("1 to 99999"), "{huge}");
    }

    #[test]
    fn balanced_ordered_and_never_empty() {
        assert_eq!(
            assign(&tensors(&[10, 10, 10, 10]), 2).unwrap(),
            [1, 1, 2, 2]
        );
        assert_eq!(
            assign(&tensors(&[10, 10, 10, 10]), 4).unwrap(),
            [1, 2, 3, 4]
        );
        // A huge tensor first: the small ones are spread so no shard is empty.
        assert_eq!(assign(&tensors(&[1000, 1, 1, 1]), 3).unwrap(), [1, 2, 3, 3]);
        assert_eq!(assign(&tensors(&[1, 1, 1, 1000]), 2).unwrap(), [1, 1, 1, 2]);
        assert!(assign(&tensors(&[1, 1]), 3).is_err());
        assert_eq!(
            "3/64".parse::<Shard>().unwrap(),
            Shard {
                index: 3,
                count: 64
            }
        );
        for bad in ["0/4", "5/4", "x/4", "4", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(
            Shard {
                index: 3,
                count: 64
            }
            .file_name(),
            "model-00003-of-00064.safetensors"
        );
    }
}
