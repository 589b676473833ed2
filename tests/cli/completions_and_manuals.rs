//! The conventions of an installed command: shell completions and manual pages,
//! generated from the same clap definitions as `--help`.

#![allow(unused_imports)]

use std::process::Command;

use crate::common::cli::*;

/// Bash completes `weightinit gen --sch` to `--scheme` with the generated script, and
/// `weightinit ge` to the subcommand.
#[test]
fn bash_completion_completes_flags_and_subcommands() {
    let dir = tempdir();
    let script = run_stdout(dir.path(), &argv("completions bash"));
    std::fs::write(dir.path().join("wi.bash"), script).unwrap();
    let complete = |line: &str| -> Vec<String> {
        let words: Vec<&str> = line.split(' ').collect();
        let probe = format!(
            "source wi.bash; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; \
             COMP_POINT=${{#COMP_LINE}}; _weightinit weightinit '{cur}' '{prev}'; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            words = words.join(" "),
            cword = words.len() - 1,
            cur = words[words.len() - 1],
            prev = words[words.len() - 2],
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(probe)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    };
    assert_eq!(complete("weightinit gen --sch"), ["--scheme"]);
    assert!(complete("weightinit ge").contains(&"gen".to_string()));
    assert!(complete("weightinit gen --hf").contains(&"--hf-config".to_string()));
}

/// Every shell gets a script that knows the flags.
#[test]
fn every_shell_gets_a_completion_script() {
    let dir = tempdir();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = run_stdout(dir.path(), &["completions", shell]);
        assert!(
            script.contains("scheme") && script.contains("max-shard-size"),
            "{shell}"
        );
    }
    assert_bad_in(dir.path(), &argv("completions tcsh"), 2, &["tcsh"]);
}

/// Every manual page renders with `man -l` and names its command and its flags;
/// `--out-dir` writes them all and replaces none without --force.
#[test]
fn manual_pages_render_with_man() {
    let dir = tempdir();
    for (command, needle) in [
        (None, "completions"),
        (Some("gen"), "--hf-config"),
        (Some("schemes"), "schemes"),
        (Some("recipes"), "--json"),
        (Some("probe"), "probe"),
        (Some("verify"), "verify"),
        (Some("hist"), "hist"),
        (Some("completions"), "SHELL"),
        (Some("man"), "--out-dir"),
    ] {
        let mut args = vec!["man"];
        args.extend(command);
        let page = run_stdout(dir.path(), &args);
        let path = dir.path().join("page.1");
        std::fs::write(&path, &page).unwrap();
        let rendered = Command::new("man")
            .args(["-l", "-P", "cat"])
            .arg(&path)
            .env("MANWIDTH", "100")
            .output()
            .expect("man is installed");
        assert!(
            rendered.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        let text = String::from_utf8_lossy(&rendered.stdout);
        let title = match command {
            Some(c) => format!("weightinit-{c}"),
            None => "weightinit".into(),
        };
        assert!(
            text.contains(&title) && text.contains(needle),
            "{title}:\n{text}"
        );
    }
    run_ok(dir.path(), &argv("man --out-dir pages"));
    assert_eq!(listing(&dir.path().join("pages")).len(), 9);
    assert_bad_in(
        dir.path(),
        &argv("man --out-dir pages"),
        2,
        &["weightinit.1", "--force"],
    );
    run_ok(dir.path(), &argv("man --out-dir pages --force"));
    assert_bad_in(
        dir.path(),
        &argv("man nope"),
        2,
        &["nope", "weightinit-gen"],
    );
}
