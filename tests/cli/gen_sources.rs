//! `gen` through the binary: where tensors come from besides `--shape` — `--preset`,
//! `--layers`, `--spec`, `--like` (with `--rule`/`--default`) and `--shard`.

#![allow(unused_imports)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::process::{Output, Stdio};

use assert_cmd::Command;
use ndarray::ArrayD;
use predicates::prelude::*;
use serde_json::Value;

use crate::common::cli::*;

/// `--preset torch-linear` names its files weight/bias (NAME.weight/NAME.bias with
/// --name), with PyTorch's shapes, and records the rng and the equivalent code.
#[test]
fn preset_torch_linear_writes_weight_and_bias() {
    let dir = tempdir();
    run_ok(
        dir.path(),
        &argv(
            "gen --rng torch --seed 0 --preset torch-linear --shape 784x128 --shape 128x10 --name fc1 --name fc2 -o net/",
        ),
    );
    let manifest = read_json(&dir.path().join("net/manifest.json"));
    let tensors = manifest["tensors"].as_array().expect("tensors");
    let names: Vec<&str> = tensors
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    let shapes: Vec<Value> = tensors.iter().map(|t| t["shape"].clone()).collect();
    assert_eq!(
        shapes,
        [
            serde_json::json!([128, 784]),
            serde_json::json!([128]),
            serde_json::json!([10, 128]),
            serde_json::json!([10])
        ]
    );
    for t in tensors {
        assert_eq!(t["rng"], "torch");
        assert!(
            t["equivalent"].as_str().unwrap().contains(".uniform_("),
            "{t}"
        );
        assert!(
            dir.path()
                .join("net")
                .join(t["file"].as_str().unwrap())
                .exists()
        );
    }
}

/// Reads every member of an .npz written by weightinit: name → (shape, f32 values).
fn read_npz_f32(path: &Path) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = zip::ZipArchive::new(file).expect("a zip archive");
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).unwrap();
        let name = member
            .name()
            .expect("member name")
            .strip_suffix(".npy")
            .expect(".npy member")
            .to_string();
        let mut bytes = Vec::new();
        member.read_to_end(&mut bytes).unwrap();
        let a: ArrayD<f32> = ndarray_npy::ReadNpyExt::read_npy(&bytes[..]).unwrap();
        out.insert(name, (a.shape().to_vec(), a.iter().copied().collect()));
    }
    out
}

/// `--layers 784-256-128-10` into .npz and .safetensors: fcI.weight/fcI.bias with the
/// right shapes, He-normal weights for ReLU, zero biases, and the same values a
/// directory of .npy files gets (names key the stream, so they are the same tensors).
#[test]
fn layers_into_npz_and_safetensors_hold_the_same_tensors_as_npy_files() {
    let dir = tempdir();
    let line = "gen --layers 784-256-128-10 --activation relu --seed 3";
    run_ok(dir.path(), &argv(&format!("{line} -o mlp.npz")));
    run_ok(dir.path(), &argv(&format!("{line} -o mlp.safetensors")));
    run_ok(dir.path(), &argv(&format!("{line} -o files/")));
    let npz = read_npz_f32(&dir.path().join("mlp.npz"));
    let names: Vec<&String> = npz.keys().collect();
    assert_eq!(names.len(), 6, "{names:?}");
    let bytes = std::fs::read(dir.path().join("mlp.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).expect("valid safetensors");
    for (name, (shape, values)) in &npz {
        let npy = read_f32(&dir.path().join("files").join(format!("{name}.npy")));
        assert_eq!(&npy.shape().to_vec(), shape, "{name}");
        assert_eq!(
            npy.iter().copied().collect::<Vec<_>>(),
            *values,
            "{name} in .npz"
        );
        let view = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(view.shape(), &shape[..], "{name}");
        assert_eq!(view.dtype(), safetensors::Dtype::F32);
        let st_values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(st_values, *values, "{name} in .safetensors");
        if name.ends_with(".bias") {
            assert!(values.iter().all(|&x| x == 0.0), "{name} must be zeros");
        } else {
            // He normal: std √(2/fan_in), checked loosely (the statistics tests are exact).
            let fan_in = shape[0] as f64;
            let var =
                values.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / values.len() as f64;
            let want = 2.0 / fan_in;
            assert!(
                (var / want - 1.0).abs() < 0.1,
                "{name}: variance {var} vs {want}"
            );
        }
    }
    assert_eq!(npz["fc1.weight"].0, vec![256, 128], "io layout: in x out");
}

bad_input!(bad_layers_zero_width: "gen --layers 784-0-10 -o m.npz" => 2, ["784-0-10", "positive width"]);
bad_input!(bad_layers_single_width: "gen --layers 784 -o m.npz" => 2, ["784", "two widths"]);
bad_input!(bad_npz_to_stdout:
    "gen --scheme he-normal --shape 4x4 --format npz -o -" => 2, ["npz", "stdout"]);
bad_input!(bad_safetensors_into_directory:
    "gen --scheme he-normal --shape 4x4 --format safetensors -o out/" => 2, ["safetensors", "directory"]);

/// `--spec net.toml`: tensors, rules and defaults from the file, into one .safetensors;
/// the same spec as JSON gives the same bytes.
#[test]
fn spec_file_toml_and_json_give_the_same_model() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("net.toml"),
        r#"
seed = 42
layout = "oi"
scheme = "he-normal"

[[rule]]
match = "*.bias"
scheme = "zeros"

[[tensor]]
name = "embed.weight"
shape = [100, 16]
scheme = "normal:std=0.02"

[[tensor]]
name = "fc.weight"
shape = "10x16"

[[tensor]]
name = "fc.bias"
shape = [10]
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("net.json"),
        r#"{"seed": 42, "layout": "oi", "scheme": "he-normal",
            "rule": [{"match": "*.bias", "scheme": "zeros"}],
            "tensor": [{"name": "embed.weight", "shape": [100, 16], "scheme": "normal:std=0.02"},
                       {"name": "fc.weight", "shape": [10, 16]},
                       {"name": "fc.bias", "shape": [10]}]}"#,
    )
    .unwrap();
    run_ok(dir.path(), &argv("gen --spec net.toml -o a.safetensors"));
    run_ok(dir.path(), &argv("gen --spec net.json -o b.safetensors"));
    let a = std::fs::read(dir.path().join("a.safetensors")).unwrap();
    let b = std::fs::read(dir.path().join("b.safetensors")).unwrap();
    assert_eq!(a, b, "TOML and JSON specs must give the same file");
    let st = safetensors::SafeTensors::deserialize(&a).unwrap();
    let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
    names.sort();
    assert_eq!(names, ["embed.weight", "fc.bias", "fc.weight"]);
    assert_eq!(st.tensor("fc.weight").unwrap().shape(), &[10, 16]);
    assert!(st.tensor("fc.bias").unwrap().data().iter().all(|&b| b == 0));
    // --seed overrides the file's seed.
    run_ok(
        dir.path(),
        &argv("gen --spec net.toml --seed 43 -o c.safetensors"),
    );
    let c = std::fs::read(dir.path().join("c.safetensors")).unwrap();
    assert_ne!(a, c);
}

bad_input!(bad_spec_unknown_key: ["gen", "--spec", "bad.toml", "-o", "m.npz"] => 2, ["bad.toml"]);

/// `--like` on files written by the real safetensors library and by np.savez
/// (tests/fixtures/like/): the same names and shapes, float dtypes kept (f32, f64, f16),
/// the int64 buffer left out with a note, schemes by --rule then --default.
#[test]
fn like_rebuilds_the_layout_of_safetensors_and_npz_files() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/like");
    for source in ["model.safetensors", "model.npz"] {
        let dir = tempdir();
        let src = fixtures.join(source);
        let out = run_ok(
            dir.path(),
            &[
                "gen",
                "--like",
                src.to_str().unwrap(),
                "--rule",
                "*.bias=zeros",
                "--rule",
                "*norm*.weight=ones",
                "--rule",
                "embed*=normal:std=0.02",
                "--default",
                "he-normal",
                "--layout",
                "oi",
                "--seed",
                "5",
                "-o",
                "fresh.safetensors",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("'position_ids'") && stderr.contains("left out"),
            "{stderr}"
        );
        assert!(!stderr.contains("written as"), "{stderr}");
        let bytes = std::fs::read(dir.path().join("fresh.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut names: Vec<String> = st.names().into_iter().map(|s| s.to_string()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "block.0.fc.bias",
                "block.0.fc.weight",
                "block.0.norm.weight",
                "embed.weight",
                "head.weight"
            ],
            "{source}"
        );
        let t = |n: &str| st.tensor(n).unwrap();
        assert_eq!(t("embed.weight").shape(), &[50, 8]);
        assert_eq!(
            t("block.0.fc.weight").dtype(),
            safetensors::Dtype::F64,
            "{source}: f64 kept"
        );
        assert_eq!(t("head.weight").dtype(), safetensors::Dtype::F16);
        assert!(t("block.0.fc.bias").data().iter().all(|&b| b == 0));
        let ones: Vec<f32> = t("block.0.norm.weight")
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(ones, vec![1.0; 8]);
    }
}

/// --like refusals: a tensor no rule covers, a file that is not a model, a truncated or
/// hostile safetensors header (nothing is written in any case).
#[test]
fn bad_like_inputs() {
    let dir = tempdir();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/like/model.npz");
    std::fs::copy(&fixture, dir.path().join("model.npz")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
    let mut hostile = u64::MAX.to_le_bytes().to_vec();
    hostile.extend_from_slice(b"{}");
    std::fs::write(dir.path().join("hostile.safetensors"), &hostile).unwrap();
    std::fs::write(dir.path().join("short.safetensors"), b"abc").unwrap();
    for (args, needles) in [
        (
            argv("gen --like model.npz -o x.npz"),
            vec!["matches no --rule"],
        ),
        (
            argv("gen --like notes.txt --default zeros -o x.npz"),
            vec!["notes.txt", ".safetensors or .npz"],
        ),
        (
            argv("gen --like hostile.safetensors --default zeros -o x.npz"),
            vec!["hostile.safetensors", "limit"],
        ),
        (
            argv("gen --like short.safetensors --default zeros -o x.npz"),
            vec!["short.safetensors", "shorter"],
        ),
    ] {
        assert_bad_in(dir.path(), &args, 2, &needles);
    }
}

/// `--shard I/N` from N separate processes: the shards together hold exactly the
/// tensors, byte for byte, of one run writing everything, and every shard writes the
/// same index.
#[test]
fn shards_from_separate_processes_equal_one_run() {
    let dir = tempdir();
    let model = "gen --layers 64-48x3-10 --activation tanh --bias normal:std=0.1 --seed 21";
    for i in 1..=3 {
        run_ok(
            dir.path(),
            &argv(&format!("{model} --shard {i}/3 -o shards/")),
        );
    }
    run_ok(dir.path(), &argv(&format!("{model} -o one.safetensors")));
    let one_bytes = std::fs::read(dir.path().join("one.safetensors")).unwrap();
    let one = safetensors::SafeTensors::deserialize(&one_bytes).unwrap();
    let index = read_json(&dir.path().join("shards/model.safetensors.index.json"));
    let weight_map = index["weight_map"].as_object().expect("weight_map");
    assert_eq!(weight_map.len(), one.names().len());
    let total: u64 = one
        .tensors()
        .iter()
        .map(|(_, v)| v.data().len() as u64)
        .sum();
    assert_eq!(index["metadata"]["total_size"], total);
    let mut seen = 0;
    for i in 1..=3 {
        let file = format!("model-{i:05}-of-00003.safetensors");
        let bytes = std::fs::read(dir.path().join("shards").join(&file)).unwrap();
        let shard = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert!(!shard.names().is_empty(), "{file} is empty");
        for name in shard.names() {
            assert_eq!(weight_map[name], file.as_str(), "{name}");
            assert_eq!(
                shard.tensor(name).unwrap().data(),
                one.tensor(name).unwrap().data(),
                "{name} in {file}"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, one.names().len(), "every tensor in exactly one shard");
}

bad_input!(bad_shard_out_of_range: "gen --layers 8-4-2 --shard 4/3 -o s/" => 2, ["4/3"]);
bad_input!(bad_shard_framework_rng: "gen --layers 8-4-2 --rng numpy --shard 1/2 -o s/" => 2, ["--shard", "numpy"]);
bad_input!(bad_shard_needs_directory: "gen --layers 8-4-2 --shard 1/2 -o m.safetensors" => 2, ["--shard", "DIR/"]);
bad_input!(bad_shard_without_seed: "gen --layers 8-4-2 --shard 1/2 -o s/" => 2, ["--shard needs --seed"]);

/// `--rule`/`--default` extend a spec file (after its own rules and scheme), and are
/// refused where tensors are not chosen by name.
#[test]
fn rules_and_default_from_the_command_line() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("net.toml"),
        "[[rule]]\nmatch = \"*.bias\"\nscheme = \"zeros\"\n\
         [[tensor]]\nname = \"a.weight\"\nshape = [8, 4]\n\
         [[tensor]]\nname = \"a.bias\"\nshape = [8]\n\
         [[tensor]]\nname = \"a.scale\"\nshape = [8]\n",
    )
    .unwrap();
    let out = run_ok(
        dir.path(),
        &argv(
            "gen --spec net.toml --rule *.scale=ones --rule *.bias=constant:value=3 --default he-normal -o m.npz --report json",
        ),
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let schemes: Vec<&str> = doc["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["scheme"].as_str().unwrap())
        .collect();
    // The file's *.bias rule comes before the command line's.
    assert_eq!(schemes, ["he-normal", "zeros", "ones"]);
    assert_bad(
        &argv("gen --scheme zeros --shape 3 --default he-normal -o w.npy"),
        2,
        &["--default", "--like"],
    );
}

/// `--dry-run` works for every source: it prints the plan (a table, or JSON with
/// `--report json`), exits 0 and writes nothing — no file, no `-o DIR/` directory.
#[test]
fn dry_run_prints_the_plan_of_every_source_and_writes_nothing() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("net.toml"),
        "seed = 1\nscheme = \"he-normal\"\n[[tensor]]\nname = \"a.weight\"\nshape = [8, 4]\n\
         [[tensor]]\nname = \"a.bias\"\nshape = [8]\nscheme = \"zeros\"\n",
    )
    .unwrap();
    run_ok(
        dir.path(),
        &argv("gen --scheme he-normal --shape 6x5 --name like.w -o like.npz"),
    );
    let before = listing(dir.path());
    let cases: [(&str, usize, u64); 6] = [
        (
            "gen --scheme he-normal --shape 784x128 --dry-run",
            1,
            784 * 128,
        ),
        (
            "gen --scheme he-normal --shape 3x4 --shape 5x6 -o out/ --dry-run",
            2,
            12 + 30,
        ),
        (
            "gen --layers 784-256-10 --dry-run -o mlp.safetensors",
            4,
            784 * 256 + 256 + 2560 + 10,
        ),
        (
            "gen --preset torch-linear --rng torch --shape 10x4 --dry-run -o lin/",
            2,
            44,
        ),
        ("gen --spec net.toml --dry-run -o net.npz", 2, 40),
        (
            "gen --like like.npz --default xavier-uniform --dry-run -o again.safetensors",
            1,
            30,
        ),
    ];
    for (line, tensors, elements) in cases {
        let human = run_stdout(dir.path(), &argv(line));
        assert!(
            human.contains("dry run: nothing written")
                && human.contains(&format!("{elements} parameters")),
            "{line}:\n{human}"
        );
        let json: Value = serde_json::from_str(&run_stdout(
            dir.path(),
            &[argv(line), vec!["--report", "json"]].concat(),
        ))
        .expect("the JSON plan parses");
        assert_eq!(json["dry_run"], true, "{line}");
        assert_eq!(json["total"]["tensors"], tensors as u64, "{line}");
        assert_eq!(json["total"]["elements"], elements, "{line}");
        assert_eq!(json["tensors"].as_array().unwrap().len(), tensors, "{line}");
        assert!(json["tensors"][0]["law"].is_string() && json["tensors"][0]["file"].is_string());
        assert_eq!(listing(dir.path()), before, "{line} wrote something");
    }
}

/// A dry run makes the checks a run makes: an existing file without --force, bf16 into
/// .npy, a job larger than the disk — each refused with its one line, nothing written.
#[test]
fn dry_run_refuses_what_the_run_would_refuse() {
    let dir = tempdir();
    run_ok(
        dir.path(),
        &argv("gen --scheme zeros --shape 2 -o taken.npy"),
    );
    let before = listing(dir.path());
    assert_bad_in(
        dir.path(),
        &argv("gen --scheme zeros --shape 2 -o taken.npy --dry-run"),
        2,
        &["taken.npy", "--force"],
    );
    assert_bad_in(
        dir.path(),
        &argv("gen --scheme zeros --shape 2 --dtype bf16 -o h.npy --dry-run"),
        2,
        &["bf16"],
    );
    assert_bad_in(
        dir.path(),
        &argv("gen --scheme he-normal --shape 99999999x99999 -o big.npy --dry-run"),
        1,
        &["free"],
    );
    assert_eq!(listing(dir.path()), before);
}

/// Tensor names as TensorFlow- and Flax-converted checkpoints have them (`a/b/kernel`)
/// are accepted wherever the format holds names — .safetensors, .npz, one JSON tensor —
/// including through `--like`, and refused with a reason for a directory of one file per
/// tensor, before anything is written.
#[test]
fn path_like_names_work_where_the_format_holds_names() {
    let dir = tempdir();
    run_ok(
        dir.path(),
        &argv(
            "gen --scheme he-normal --shape 4x3 --shape 5x3 --name bert/encoder/kernel --name bert/encoder/query -o m.safetensors --seed 1",
        ),
    );
    let bytes = std::fs::read(dir.path().join("m.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
    names.sort();
    assert_eq!(names, ["bert/encoder/kernel", "bert/encoder/query"]);
    // --like keeps the names; .npz holds them as member names.
    run_ok(
        dir.path(),
        &argv("gen --like m.safetensors --default xavier-uniform -o again.npz"),
    );
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(dir.path().join("again.npz")).unwrap()).unwrap();
    let members: BTreeSet<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    assert!(members.contains("bert/encoder/kernel.npy"), "{members:?}");
    run_ok(
        dir.path(),
        &argv("gen --scheme zeros --shape 2 --name a/b -o a.json"),
    );
    assert_eq!(read_json(&dir.path().join("a.json"))["name"], "a/b");
    // A directory of one file per tensor cannot hold them.
    let before = listing(dir.path());
    assert_bad_in(
        dir.path(),
        &argv("gen --like m.safetensors --default zeros -o out/"),
        2,
        &["bert/encoder/kernel", "'/'", "FILE.safetensors"],
    );
    assert_eq!(
        listing(dir.path()),
        before,
        "nothing written, no out/ created"
    );
    // Malformed paths stay refused.
    for bad in ["a//b", "/a", "a/", "a/../b", "a/./b"] {
        assert_bad_in(
            dir.path(),
            &[
                "gen",
                "--scheme",
                "zeros",
                "--shape",
                "2",
                "--name",
                bad,
                "-o",
                "x.safetensors",
            ],
            2,
            &["invalid tensor name"],
        );
    }
}

/// `--max-shard-size`: Hugging Face sharded safetensors as `save_pretrained` splits them
/// (files of at most SIZE bytes, a bigger tensor alone in its own), with a valid index;
/// the same files, byte for byte, when machines write their share with `--shard I/N`;
/// one `model.safetensors` and no index when everything fits.
#[test]
fn max_shard_size_writes_save_pretrained_style_shards() {
    let dir = tempdir();
    let model = "gen --layers 1024-1024-1024-1024 --seed 3 --max-shard-size 5MB";
    run_ok(dir.path(), &argv(&format!("{model} -o all/")));
    let index = read_json(&dir.path().join("all/model.safetensors.index.json"));
    let weight_map = index["weight_map"].as_object().expect("weight_map");
    assert_eq!(weight_map.len(), 6);
    let files: BTreeSet<&str> = weight_map.values().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(
        files.iter().copied().collect::<Vec<_>>(),
        [
            "model-00001-of-00003.safetensors",
            "model-00002-of-00003.safetensors",
            "model-00003-of-00003.safetensors"
        ]
    );
    let mut total = 0u64;
    for file in &files {
        let bytes = std::fs::read(dir.path().join("all").join(file)).unwrap();
        let shard = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let data: u64 = shard
            .tensors()
            .iter()
            .map(|(_, t)| t.data().len() as u64)
            .sum();
        assert!(data <= 5_000_000, "{file} holds {data} bytes");
        for name in shard.names() {
            assert_eq!(weight_map[name], *file, "{name}");
        }
        total += data;
    }
    assert_eq!(index["metadata"]["total_size"], total);
    // Two machines, files 1, 3 and 2: the same bytes as the single run.
    for i in 1..=2 {
        run_ok(
            dir.path(),
            &argv(&format!("{model} --shard {i}/2 -o split/")),
        );
    }
    for file in &files {
        assert_eq!(
            std::fs::read(dir.path().join("all").join(file)).unwrap(),
            std::fs::read(dir.path().join("split").join(file)).unwrap(),
            "{file}"
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("all/model.safetensors.index.json")).unwrap(),
        std::fs::read(dir.path().join("split/model.safetensors.index.json")).unwrap()
    );
    // Everything fits in one file: model.safetensors, no index.
    run_ok(
        dir.path(),
        &argv("gen --layers 1024-1024-1024-1024 --seed 3 --max-shard-size 1GB -o one/"),
    );
    assert_eq!(listing(&dir.path().join("one")), ["model.safetensors"]);
}

bad_input!(bad_max_shard_size_value: "gen --layers 8-4-2 --max-shard-size 5parsecs -o s/" => 2, ["--max-shard-size", "5parsecs"]);
bad_input!(bad_max_shard_size_needs_directory: "gen --layers 8-4-2 --max-shard-size 5GB -o m.safetensors" => 2, ["--max-shard-size", "DIR/"]);
bad_input!(bad_max_shard_size_framework_rng: "gen --layers 8-4-2 --rng numpy --max-shard-size 5GB -o s/" => 2, ["--max-shard-size", "numpy"]);
