"""Shared fixtures: the repository root, the standalone binary to compare against, and
the fixture files written by NumPy and PyTorch themselves (tests/fixtures/)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


def binary() -> str:
    """The Rust binary (`cargo build --release` puts it in target/release), which the
    package's values must equal byte for byte; WEIGHTINIT_BIN overrides."""
    explicit = os.environ.get("WEIGHTINIT_BIN")
    if explicit:
        return explicit
    built = REPO / "target" / "release" / "weightinit"
    if built.exists():
        return str(built)
    pytest.fail("no weightinit binary: run `cargo build --release` or set WEIGHTINIT_BIN")


@pytest.fixture(scope="session")
def cli():
    """Runs the standalone binary; returns the completed process (stdout as bytes)."""
    exe = binary()

    def run(*args, check=True, cwd=None):
        return subprocess.run([exe, *map(str, args)], capture_output=True, check=check, cwd=cwd)

    return run


@pytest.fixture(scope="session")
def torch_reference():
    """Values PyTorch drew (tests/fixtures/make_fixtures.py), so no torch is needed here."""
    return json.loads((FIXTURES / "torch_reference.json").read_text())


def console_script() -> str:
    """The wheel's `weightinit` command, next to this Python."""
    import sys

    found = Path(sys.executable).with_name("weightinit")
    if found.exists():
        return str(found)
    on_path = shutil.which("weightinit")
    assert on_path, "the wheel's weightinit command is not installed"
    return on_path
