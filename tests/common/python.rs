//! The one way tests find Python: `$WEIGHTINIT_PYTHON` if set, else `.venv/bin/python` in
//! the crate root if it exists, else `python3`. A test that needs Python modules asks
//! [`require`]: under `CI=true` a missing interpreter or module fails the test (CI must
//! provide them: `.ci/run` does); elsewhere the test prints a visible skip line (written
//! past the harness's capture) and returns early.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The interpreter to use, by the rule in the module docs.
pub fn interpreter() -> PathBuf {
    if let Some(p) = std::env::var_os("WEIGHTINIT_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("python3")
}

/// Why `python` cannot import every one of `modules`, or None when it can.
pub fn missing(python: &Path, modules: &[&str]) -> Option<String> {
    let imports = format!("import {}", modules.join(", "));
    match Command::new(python).args(["-c", &imports]).output() {
        Err(e) => Some(format!("cannot run {}: {e}", python.display())),
        Ok(out) if !out.status.success() => Some(format!(
            "{} cannot `{imports}`: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .lines()
                .last()
                .unwrap_or("")
        )),
        Ok(_) => None,
    }
}

/// Whether CI is running the tests (`CI=true`, as `.ci/run` sets it).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A Python with `modules` for the test `test`, or None (after a visible skip line) when
/// there is none outside CI. Under CI a missing one fails the test.
pub fn require(test: &str, modules: &[&str]) -> Option<PathBuf> {
    let python = interpreter();
    let problem = missing(&python, modules)?;
    assert!(
        !in_ci(),
        "CI is set, so {test} needs Python with {}: {problem}; set WEIGHTINIT_PYTHON to one \
         (bash .ci/run makes .venv)",
        modules.join(", ")
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {problem} (set WEIGHTINIT_PYTHON to a Python with {})",
        modules.join(", ")
    );
    None
}
