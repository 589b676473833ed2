"""The same weights at any sharding, in JAX (issue 24): ``weightinit.jax.init_array`` and
``init_tree`` on 8 CPU devices — meshes (8,), (4, 2) and (2, 2, 2), PartitionSpecs that
split one axis, the other, both, one axis over two mesh axes, none (replicated), 3-D
tensors; float32 and bfloat16; he-normal, trunc-normal and orthogonal. Every result has
exactly the sharding asked for, and gathered (and shard by shard) equals
``weightinit.generate`` of the global shape bit for bit; each distinct block is drawn once,
alone.

JAX sees 8 CPU devices only when XLA_FLAGS is set before it is first imported, and
other test files of the session may import it first, so the checks run in a process of
their own (jax_worker.py); the tests here read its report. Needs jax (and ml_dtypes);
skipped without it unless WEIGHTINIT_REQUIRE_JAX=1 (CI sets it, so a missing install
fails instead of skipping).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

import weightinit.jax as wj

if os.environ.get("WEIGHTINIT_REQUIRE_JAX") != "1":
    pytest.importorskip("jax")
    pytest.importorskip("ml_dtypes")

WORKER = Path(__file__).with_name("jax_worker.py")


@pytest.fixture(scope="module")
def report() -> Dict[str, str]:
    """{check: "ok" or its failure} from one run of the worker on 8 CPU devices."""
    env = dict(
        os.environ,
        XLA_FLAGS="--xla_force_host_platform_device_count=8",
        JAX_PLATFORMS="cpu",
        RAYON_NUM_THREADS="2",
    )
    done = subprocess.run([sys.executable, str(WORKER)], env=env, capture_output=True, text=True, timeout=900)
    lines = done.stdout.strip().splitlines()
    assert lines, f"the worker printed nothing (exit {done.returncode}):\n{done.stderr[-4000:]}"
    found: Dict[str, str] = json.loads(lines[-1])
    assert done.returncode == (1 if any(v != "ok" for v in found.values()) else 0), done.stderr[-4000:]
    return found


def failures(report: Dict[str, str], prefix: str) -> Dict[str, str]:
    checks = {k: v for k, v in report.items() if k.startswith(prefix)}
    assert checks, f"no check starts with {prefix!r}"
    return {k: v for k, v in checks.items() if v != "ok"}


def test_every_mesh_spec_scheme_and_dtype_equals_generate_bit_for_bit(report: Dict[str, str]) -> None:
    arrays = [k for k in report if k.startswith("array mesh=")]
    # 12 layouts x 3 schemes x 2 dtypes
    assert len(arrays) == 72, len(arrays)
    for mesh in ("mesh=8 ", "mesh=4x2 ", "mesh=2x2x2 "):
        assert any(mesh in k for k in arrays), mesh
    assert failures(report, "array") == {}


def test_errors_are_one_line_invalid_arguments(report: Dict[str, str]) -> None:
    assert failures(report, "error:") == {}


def test_init_tree_names_leaves_by_path_and_draws_them_sharded(report: Dict[str, str]) -> None:
    assert failures(report, "tree") == {}


def test_docstring_examples_run_with_jax(report: Dict[str, str]) -> None:
    assert failures(report, "docstring example") == {}


def test_the_docs_example_runs_on_8_devices(report: Dict[str, str]) -> None:
    assert failures(report, "docs/python.md") == {}


def test_every_public_function_has_a_docstring_with_an_example() -> None:
    for name in wj.__all__:
        doc = getattr(wj, name).__doc__
        assert doc and "Example" in doc and ">>> " in doc, name


def test_importing_weightinit_does_not_import_jax() -> None:
    code = "import sys, weightinit, weightinit.jax; assert 'jax' not in sys.modules, 'jax imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
