//! The README's examples, run as they are written: every line of the Usage block, top to
//! bottom, in an empty directory (with the binary on PATH), must succeed; every `$ `
//! command of the "Bad input" block must print exactly the error line shown under it.

use std::path::Path;
use std::process::Command;

#[macro_use]
mod common;

use common::cli::BIN;

const README: &str = include_str!("../README.md");

/// The body of the first fenced block (opened by exactly "```" + `info`) after `heading`.
fn block_after(heading: &str, info: &str) -> &'static str {
    let start = README
        .find(heading)
        .unwrap_or_else(|| panic!("README has no {heading:?}"));
    let rest = &README[start..];
    let open = format!("\n```{info}\n");
    let body = &rest[rest.find(&open).expect("a fenced block") + open.len()..];
    &body[..body.find("\n```").expect("the block is closed")]
}

/// `sh -c line` in `dir`, with the binary first on PATH.
fn shell(dir: &Path, line: &str) -> std::process::Output {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .args(["-c", line])
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("sh runs")
}

#[test]
fn usage_block_runs_top_to_bottom_in_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    // The one input the block names: the spec file shown under "Spec files".
    std::fs::write(
        dir.path().join("net.toml"),
        block_after("## Spec files", "toml"),
    )
    .unwrap();
    for line in block_after("## Usage", "").lines() {
        let out = shell(dir.path(), line);
        assert!(
            out.status.success(),
            "README line failed ({:?}): {line}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn bad_input_examples_print_what_the_readme_shows() {
    let dir = tempfile::tempdir().unwrap();
    let block = block_after("## Bad input", "");
    let mut examples = 0;
    for chunk in block.split("$ ").filter(|c| !c.trim().is_empty()) {
        let (command, expected) = chunk.split_once('\n').expect("a command and its output");
        let out = shell(dir.path(), command);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).trim_end(),
            expected.trim_end(),
            "{command}"
        );
        examples += 1;
    }
    assert!(examples >= 5, "only {examples} examples found");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

/// Every command of every shell block, in README order, in one empty directory: the
/// README read top to bottom works as written. A `$ ` command is followed by its output;
/// when that output is a `weightinit: error:` line the command must exit 2, when it is
/// `weightinit: NOT consistent` it must exit 1; every other command must succeed. Lines
/// that are not commands (comments, output, syntax summaries with FILE or `[...]`
/// placeholders, commands of other tools such as `cargo` or `sbatch`) are passed over.
#[test]
fn every_command_runs_top_to_bottom_in_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("net.toml"),
        block_after("## Spec files", "toml"),
    )
    .unwrap();
    // A small Llama config for the "Training from scratch" commands.
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128,
            "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "torch_dtype": "bfloat16"}"#,
    )
    .unwrap();
    // Its narrower base for the μP command.
    std::fs::write(
        dir.path().join("base_config.json"),
        r#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128,
            "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "torch_dtype": "bfloat16"}"#,
    )
    .unwrap();
    let mut ran = 0;
    let mut in_block = false;
    let mut shell_block = false;
    let mut lines = README.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            in_block = !in_block;
            shell_block = in_block && (info.is_empty() || info == "sh");
            continue;
        }
        if !shell_block {
            continue;
        }
        let (command, shown) = match line.strip_prefix("$ ") {
            Some(c) => (c, true),
            None => (line, false),
        };
        let is_command = command.starts_with("weightinit ") || command.starts_with("for ");
        if !is_command || command.contains(" FILE ") || command.contains(" [--") {
            continue;
        }
        // Continuation lines.
        let mut full = command.to_string();
        while full.ends_with('\\') {
            full.pop();
            full.push_str(lines.next().expect("a continued line").trim());
        }
        let expected = match lines.peek() {
            Some(next) if shown && next.starts_with("weightinit: error:") => 2,
            Some(next) if shown && next.starts_with("weightinit: NOT consistent") => 1,
            _ => 0,
        };
        let out = shell(dir.path(), &full);
        assert_eq!(
            out.status.code(),
            Some(expected),
            "README command: {full}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 40, "only {ran} commands found");
}
