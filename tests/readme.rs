//! The documentation's examples, run as they are written, and its links followed.
//!
//! - The README's Usage block: every line, top to bottom, in an empty directory (with the
//!   binary on PATH), must succeed.
//! - Every `$ ` command of the "Bad input" block (docs/bad-input.md) prints exactly the
//!   error line shown under it and leaves nothing behind.
//! - Every command of every shell block of README.md, docs/guide.md, the other docs/*.md
//!   (in name order) and python/README.md, read in that order in one directory, runs as
//!   written, and a `$ ` command prints the output shown under it.
//! - Every relative link of README.md, docs/*.md and python/README.md names a file that
//!   exists, and its `#anchor` a heading of that file, by GitHub's rules for heading ids.
//!
//! The Python blocks are run by python/tests/test_readme.py.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[macro_use]
mod common;

use common::cli::BIN;

const README: &str = include_str!("../README.md");

/// The repository's root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// The documents whose examples run, in the order they are read: README.md, the user
/// guide, every other docs/*.md by name, then the Python package's readme. Later
/// documents may use files earlier ones made (the guide's mlp.safetensors, w.npy).
fn documents() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md") && name != "guide.md")
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    let mut all = vec!["README.md".to_string(), "docs/guide.md".to_string()];
    all.extend(docs);
    all.push("python/README.md".to_string());
    all
}

/// The body of the first fenced block (opened by exactly "```" + `info`) after `heading`
/// in `text`.
fn block_after<'a>(text: &'a str, heading: &str, info: &str) -> &'a str {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in the document"));
    let rest = &text[start..];
    let open = format!("\n```{info}\n");
    let body = &rest[rest.find(&open).expect("a fenced block") + open.len()..];
    &body[..body.find("\n```").expect("the block is closed")]
}

/// A fenced block: its info string and its lines.
struct Block<'a> {
    info: &'a str,
    lines: Vec<&'a str>,
}

/// The fenced blocks of a Markdown text, in order.
fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut found = Vec::new();
    let mut open: Option<Block> = None;
    for line in text.lines() {
        match (line.strip_prefix("```"), open.take()) {
            (Some(info), None) => {
                open = Some(Block {
                    info: info.trim(),
                    lines: Vec::new(),
                })
            }
            (Some(_), Some(block)) => found.push(block),
            (None, Some(mut block)) => {
                block.lines.push(line);
                open = Some(block);
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a fenced block is not closed");
    found
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

/// The input files the examples name but do not make: the spec file shown under the
/// guide's "Spec files", a small Llama config.json for "Training from scratch" and its
/// narrower base for the μP command.
fn write_inputs(dir: &Path) {
    std::fs::write(
        dir.join("net.toml"),
        block_after(&read("docs/guide.md"), "## Spec files", "toml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("config.json"),
        r#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128,
            "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "torch_dtype": "bfloat16"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("base_config.json"),
        r#"{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128,
            "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "torch_dtype": "bfloat16"}"#,
    )
    .unwrap();
}

#[test]
fn usage_block_runs_top_to_bottom_in_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    // The one input the block names: the spec file shown under "Spec files".
    std::fs::write(
        dir.path().join("net.toml"),
        block_after(&read("docs/guide.md"), "## Spec files", "toml"),
    )
    .unwrap();
    let block = block_after(README, "## Usage", "");
    assert!(block.lines().count() >= 10, "the Usage block is short");
    for line in block.lines() {
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
fn bad_input_examples_print_what_the_docs_show() {
    let dir = tempfile::tempdir().unwrap();
    let text = read("docs/bad-input.md");
    let block = block_after(&text, "# Bad input", "");
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

/// Every command of every shell block (fence info empty or `sh`) of every document, in
/// the order of `documents()`, in one directory: the documentation read top to bottom
/// works as written. Lines that are not commands (comments, output, syntax summaries
/// with FILE or `[...]` placeholders, commands of other tools such as `cargo`, `pip` or
/// `sbatch`) are passed over. A `$ ` command is followed by the output it prints (the
/// lines up to the next `$ ` or the end of the block): when that output is a
/// `weightinit: error:` line the command must exit 2, when it is `weightinit: NOT
/// consistent` exit 1, and its stderr must be exactly what is shown; otherwise it must
/// succeed, and every line shown must be a line of what it printed. Every other command
/// must succeed.
#[test]
fn every_command_runs_top_to_bottom_in_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let mut ran = 0;
    let mut ran_per_document = Vec::new();
    for document in documents() {
        let text = read(&document);
        let before = ran;
        for block in blocks(&text) {
            if !(block.info.is_empty() || block.info == "sh") {
                continue;
            }
            let mut i = 0;
            while i < block.lines.len() {
                let line = block.lines[i];
                i += 1;
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
                    full.push_str(block.lines.get(i).expect("a continued line").trim());
                    i += 1;
                }
                let mut output = Vec::new();
                if shown {
                    while i < block.lines.len() && !block.lines[i].starts_with("$ ") {
                        output.push(block.lines[i].trim_end());
                        i += 1;
                    }
                }
                let first = output.first().copied().unwrap_or("");
                let expected = if first.starts_with("weightinit: error:") {
                    2
                } else if first.starts_with("weightinit: NOT consistent") {
                    1
                } else {
                    0
                };
                let out = shell(dir.path(), &full);
                let stdout = String::from_utf8_lossy(&out.stdout);
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(
                    out.status.code(),
                    Some(expected),
                    "{document}: {full}\n{stderr}"
                );
                if expected != 0 {
                    assert_eq!(stderr.trim_end(), output.join("\n"), "{document}: {full}");
                } else {
                    let printed: Vec<&str> = stdout
                        .lines()
                        .chain(stderr.lines())
                        .map(str::trim_end)
                        .collect();
                    for line in output.iter().filter(|l| !l.is_empty()) {
                        assert!(
                            printed.contains(line),
                            "{document}: {full}\ndoes not print the line shown:\n{line}\n\
                             it printed:\n{stdout}{stderr}"
                        );
                    }
                }
                ran += 1;
            }
        }
        ran_per_document.push((document, ran - before));
    }
    println!("commands run per document: {ran_per_document:?}");
    assert!(ran >= 60, "only {ran} commands found: {ran_per_document:?}");
}

/// A heading's id as GitHub makes it: the rendered text (code spans and emphasis
/// markers dropped, a link's text kept), lower-cased, every character but letters,
/// digits, `_`, `-` and spaces removed, spaces turned into `-`.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // [text](target) → text
    while let Some(open) = rest.find('[') {
        match rest[open..].find("](") {
            Some(mid) => {
                let close = rest[open + mid..].find(')').map(|c| open + mid + c);
                let Some(close) = close else { break };
                text.push_str(&rest[..open]);
                text.push_str(&rest[open + 1..open + mid]);
                rest = &rest[close + 1..];
            }
            None => break,
        }
    }
    text.push_str(rest);
    text.to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// The ids of a Markdown text's headings (outside fenced blocks); a repeated id gets
/// `-1`, `-2`, … as on GitHub.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut ids = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        if fenced || !(1..=6).contains(&level) || !line[level..].starts_with(' ') {
            continue;
        }
        let base = slug(line[level..].trim());
        let n = seen.entry(base.clone()).or_insert(0);
        ids.push(if *n == 0 { base } else { format!("{base}-{n}") });
        *n += 1;
    }
    ids
}

/// The link targets of a Markdown text: `[text](target)` and `![alt](target)` outside
/// fenced blocks and code spans, and `[label]: target` definitions.
fn links(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Code spans hold no links.
        let prose: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, part)| part)
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(definition) = prose.trim_start().strip_prefix('[')
            && let Some((_, target)) = definition.split_once("]: ")
        {
            targets.push(target.split_whitespace().next().unwrap_or("").to_string());
        }
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').expect("a link is closed on its line");
            let target = after[..end].split_whitespace().next().unwrap_or("");
            targets.push(target.to_string());
            rest = &after[end..];
        }
    }
    targets
}

/// `dir/relative`, with `.` and `..` resolved lexically.
fn resolve(dir: &Path, relative: &str) -> PathBuf {
    let mut path = dir.to_path_buf();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                path.pop();
            }
            _ => path.push(part),
        }
    }
    path
}

#[test]
fn every_relative_link_resolves() {
    let docs = documents();
    assert!(docs.len() >= 9, "documents: {docs:?}");
    let mut checked = 0;
    let mut anchored = 0;
    let mut broken = Vec::new();
    for document in &docs {
        let text = read(document);
        let here = root().join(document);
        for target in links(&text) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let path = if file.is_empty() {
                here.clone()
            } else {
                resolve(here.parent().unwrap(), file)
            };
            if !path.exists() {
                broken.push(format!("{document}: {target}: no such file"));
                continue;
            }
            if let Some(anchor) = anchor {
                anchored += 1;
                let target_text = std::fs::read_to_string(&path).unwrap_or_default();
                if !anchors(&target_text).iter().any(|id| id == anchor) {
                    broken.push(format!("{document}: {target}: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(
        checked >= 40 && anchored >= 25,
        "only {checked} links ({anchored} with an anchor) found"
    );
}

#[test]
fn slugs_follow_githubs_rules() {
    assert_eq!(
        slug("Whole networks: `--layers`"),
        "whole-networks---layers"
    );
    assert_eq!(slug("μP: `--mup-base`"), "μp---mup-base");
    assert_eq!(
        slug("Re-initializing a checkpoint's layout: `--like`"),
        "re-initializing-a-checkpoints-layout---like"
    );
    assert_eq!(slug("A [linked](x.md) *word*"), "a-linked-word");
    assert_eq!(
        anchors("# A\n```\n# not a heading\n```\n## A\n#no\n"),
        ["a", "a-1"]
    );
    assert_eq!(
        links("[a](x.md#y) `[b](not.md)` ![c](img.png)\n```\n[d](no.md)\n```\n[e]: def.md\n"),
        ["x.md#y", "img.png", "def.md"]
    );
}
