//! `gen --shard auto`: the rank and world size from the launcher's environment (torchrun,
//! Slurm, Open MPI), one process per rank, the files together the same bytes as one run;
//! and every way the environment can be wrong refused in one line, exit code 2, nothing
//! written.

use std::process::Output;

use serde_json::Value;

use crate::common::cli::*;

/// Every variable `--shard auto` reads. Each run here starts with none of them, so a
/// test machine that itself runs under Slurm or torchrun does not change the outcome.
const LAUNCHER_VARS: [&str; 6] = [
    "RANK",
    "WORLD_SIZE",
    "SLURM_PROCID",
    "SLURM_NTASKS",
    "OMPI_COMM_WORLD_RANK",
    "OMPI_COMM_WORLD_SIZE",
];

/// Launcher variables and their values.
type Vars = Vec<(&'static str, String)>;

/// Runs the binary in `dir` with exactly the launcher variables `vars`.
fn launched(dir: &std::path::Path, line: &str, vars: &[(&str, String)]) -> Output {
    let mut cmd = wi(dir);
    for name in LAUNCHER_VARS {
        cmd.env_remove(name);
    }
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let out = cmd.args(argv(line)).output().expect("binary runs");
    assert_no_panic(&out);
    out
}

fn launched_ok(dir: &std::path::Path, line: &str, vars: &[(&str, String)]) -> Output {
    let out = launched(dir, line, vars);
    assert!(
        out.status.success(),
        "{vars:?} weightinit {line} failed with {:?}\n{}",
        out.status.code(),
        stderr(&out)
    );
    out
}

/// Rank `rank` of `size` as `launcher` ("torchrun", "slurm" or "ompi") tells it.
fn rank_vars(launcher: &str, rank: usize, size: usize) -> Vars {
    let (r, s) = match launcher {
        "torchrun" => ("RANK", "WORLD_SIZE"),
        "slurm" => ("SLURM_PROCID", "SLURM_NTASKS"),
        "ompi" => ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
        other => unreachable!("no launcher {other}"),
    };
    vec![(r, rank.to_string()), (s, size.to_string())]
}

/// With `--max-shard-size`, every launcher's ranks together write exactly the files one
/// run writes, byte for byte, index included — also when there are more ranks than
/// files (Open MPI's 4 ranks for 3 files: the last writes only the index).
#[test]
fn auto_ranks_together_equal_one_run() {
    let dir = tempdir();
    // Three files: each layer's 256 KiB weight and its bias.
    let model = "gen --layers 256-256-256-256 --seed 3 --max-shard-size 300KB --report none";
    launched_ok(dir.path(), &format!("{model} -o one/"), &[]);
    let one = listing(&dir.path().join("one"));
    assert_eq!(one.len(), 4, "{one:?}");
    for (launcher, size) in [("torchrun", 2), ("slurm", 3), ("ompi", 4)] {
        let out = format!("{launcher}/");
        for rank in 0..size {
            launched_ok(
                dir.path(),
                &format!("{model} --shard auto -o {out}"),
                &rank_vars(launcher, rank, size),
            );
        }
        assert_eq!(listing(&dir.path().join(launcher)), one, "{launcher}");
        for file in &one {
            assert_eq!(
                std::fs::read(dir.path().join("one").join(file)).unwrap(),
                std::fs::read(dir.path().join(launcher).join(file)).unwrap(),
                "{launcher}: {file}"
            );
        }
    }
}

/// Without `--max-shard-size`, `--shard auto` splits a Hugging Face model into the
/// world size's files as `--shard I/N` does: the same files as I/N with I = rank + 1,
/// every tensor in one of them with one run's bytes, config.json copied alike.
#[test]
fn auto_splits_an_hf_config_like_explicit_shards() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128,
            "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "torch_dtype": "bfloat16"}"#,
    )
    .unwrap();
    let model = "gen --hf-config config.json --seed 5 --report none";
    launched_ok(dir.path(), &format!("{model} -o one/"), &[]);
    for rank in 0..3 {
        let vars = rank_vars("slurm", rank, 3);
        launched_ok(dir.path(), &format!("{model} --shard auto -o auto/"), &vars);
        let explicit = format!("{model} --shard {}/3 -o explicit/", rank + 1);
        launched_ok(dir.path(), &explicit, &[]);
    }
    let files = listing(&dir.path().join("auto"));
    assert_eq!(files, listing(&dir.path().join("explicit")));
    assert_eq!(
        files.len(),
        5,
        "three shards, the index, config.json: {files:?}"
    );
    for file in &files {
        assert_eq!(
            std::fs::read(dir.path().join("auto").join(file)).unwrap(),
            std::fs::read(dir.path().join("explicit").join(file)).unwrap(),
            "{file}"
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("one/config.json")).unwrap(),
        std::fs::read(dir.path().join("auto/config.json")).unwrap()
    );
    let one_bytes = std::fs::read(dir.path().join("one/model.safetensors")).unwrap();
    let one = safetensors::SafeTensors::deserialize(&one_bytes).unwrap();
    let mut seen = 0;
    for file in files.iter().filter(|f| f.starts_with("model-")) {
        let bytes = std::fs::read(dir.path().join("auto").join(file)).unwrap();
        let shard = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        for name in shard.names() {
            let (a, b) = (shard.tensor(name).unwrap(), one.tensor(name).unwrap());
            assert_eq!((a.dtype(), a.shape()), (b.dtype(), b.shape()), "{name}");
            assert_eq!(a.data(), b.data(), "{name} in {file}");
            seen += 1;
        }
    }
    assert_eq!(seen, one.names().len(), "every tensor in exactly one shard");
}

/// A dry run says which shard the launcher gave and where it read it; nothing written.
#[test]
fn dry_run_shows_the_launchers_shard() {
    let dir = tempdir();
    let line = "gen --layers 256-256-256-256 --seed 3 --max-shard-size 300KB --shard auto \
                --dry-run -o out/";
    let vars = rank_vars("torchrun", 1, 2);
    let human = stdout(&launched_ok(dir.path(), line, &vars));
    assert!(
        human.contains(
            "this process is shard 2 of 2 (--shard auto: RANK=1, WORLD_SIZE=2 from torchrun)"
        ),
        "{human}"
    );
    assert!(
        human.contains("out/model-00002-of-00003.safetensors"),
        "{human}"
    );
    let json = launched_ok(dir.path(), &format!("{line} --report json"), &vars);
    let json: Value = serde_json::from_slice(&json.stdout).expect("the JSON plan parses");
    assert_eq!(json["shard"]["index"], 2);
    assert_eq!(json["shard"]["count"], 2);
    assert_eq!(
        json["shard"]["from"],
        "--shard auto: RANK=1, WORLD_SIZE=2 from torchrun"
    );
    assert!(listing(dir.path()).is_empty(), "a dry run wrote something");
}

/// No launcher, half a pair, a value that is not a whole number, a world of 0, a rank
/// past the world: one line naming the variables (and the value), exit code 2, nothing
/// written.
#[test]
fn auto_refuses_a_wrong_environment_in_one_line() {
    let line = "gen --layers 8-4-2 --seed 1 --shard auto -o s/";
    let var = |name: &'static str, value: &str| (name, value.to_string());
    let cases: Vec<(Vars, Vec<&str>)> = vec![
        (
            vec![],
            vec![
                "--shard 'auto'",
                "RANK and WORLD_SIZE (torchrun)",
                "SLURM_PROCID and SLURM_NTASKS (Slurm)",
                "OMPI_COMM_WORLD_RANK and OMPI_COMM_WORLD_SIZE (Open MPI)",
                "--shard I/N",
            ],
        ),
        (
            vec![var("RANK", "0")],
            vec!["RANK is set but WORLD_SIZE is not", "torchrun"],
        ),
        (
            // Half of torchrun's pair is an error even beside a whole Slurm pair.
            vec![
                var("WORLD_SIZE", "4"),
                var("SLURM_PROCID", "0"),
                var("SLURM_NTASKS", "4"),
            ],
            vec!["WORLD_SIZE is set but RANK is not"],
        ),
        (
            vec![var("SLURM_NTASKS", "4")],
            vec!["SLURM_NTASKS is set but SLURM_PROCID is not", "Slurm"],
        ),
        (
            vec![
                var("OMPI_COMM_WORLD_RANK", "x1"),
                var("OMPI_COMM_WORLD_SIZE", "4"),
            ],
            vec![
                "OMPI_COMM_WORLD_RANK='x1' is not a whole number",
                "Open MPI",
            ],
        ),
        (
            vec![var("RANK", "0"), var("WORLD_SIZE", "four")],
            vec!["WORLD_SIZE='four'", "1 to 99999"],
        ),
        (
            vec![var("SLURM_PROCID", "0"), var("SLURM_NTASKS", "0")],
            vec!["SLURM_NTASKS=0", "1 to 99999"],
        ),
        (
            vec![var("RANK", "4"), var("WORLD_SIZE", "4")],
            vec!["RANK=4 is not below WORLD_SIZE=4", "0 to 3"],
        ),
        (
            vec![var("RANK", "-1"), var("WORLD_SIZE", "4")],
            vec!["RANK='-1'"],
        ),
    ];
    for (vars, needles) in cases {
        let dir = tempdir();
        let out = launched(dir.path(), line, &vars);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{vars:?}: {err}");
        assert!(out.stdout.is_empty(), "{vars:?}: {}", stdout(&out));
        assert_eq!(err.lines().count(), 1, "{vars:?}: not one line:\n{err}");
        assert!(err.starts_with("weightinit: error: "), "{vars:?}: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{vars:?}: no '{needle}' in\n{err}");
        }
        assert!(listing(dir.path()).is_empty(), "{vars:?}: files written");
    }
}
