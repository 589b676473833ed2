"""``--rng torch`` with a Hugging Face config: the tensors of ``torch.manual_seed(S);
from_config(config).save_pretrained(dir)``, bit for bit.

- ``write(dir, hf_config=, rng="torch", seed=)`` writes the bytes
  ``weightinit gen --hf-config --rng torch --seed`` writes (no torch needed).
- Live, against transformers in this process: for one small config of each of the 15
  families ``--rng torch`` supports (Mamba and Mamba-2 are refused), from
  tests/fixtures/make_hf_fixtures.py's CASES, in float32 and bfloat16, seed 7, the file
  gen writes holds exactly the tensors save_pretrained writes (tied ones left out as it
  leaves them out), in both expert layouts for a mixture of experts.
  tests/streams/hf_torch.rs checks the same against the stored fixtures
  (tests/fixtures/hf_torch/, written by make_hf_torch_fixtures.py).

The live checks need torch, transformers and safetensors; they are skipped without them
unless WEIGHTINIT_REQUIRE_TORCH=1 (CI sets it, so a missing install fails instead).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any, Dict, List

import pytest

import weightinit as wi

REQUIRED = os.environ.get("WEIGHTINIT_REQUIRE_TORCH") == "1"
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
# The families whose experts save_pretrained converts back to the Hub's layout.
MOE = {"mixtral", "qwen3_moe", "olmoe", "deepseek_v3"}
FAMILIES = [
    "llama", "mistral", "qwen2", "qwen3", "gemma", "phi3", "gpt2", "bert", "mixtral",
    "qwen3_moe", "olmoe", "deepseek_v3", "olmo2", "gemma2", "gemma3_text",
]


def gen(cli: Any, cwd: Path, *args: str) -> None:
    """Runs `weightinit gen ARGS` in cwd; a failure shows gen's error line."""
    done = cli("gen", *args, check=False, cwd=cwd)
    assert done.returncode == 0, f"gen {' '.join(args)}: exit {done.returncode}: {done.stderr.decode()}"


def need(module: str) -> Any:
    if REQUIRED:
        return importlib.import_module(module)
    return pytest.importorskip(module)


def stored_config(family: str, dtype: str) -> Dict[str, Any]:
    """The first config of a family's stored fixture in that dtype (no torch needed)."""
    cases = json.loads((FIXTURES / "hf_torch" / f"{family}.json").read_text())["cases"]
    config: Dict[str, Any] = next(c["config"] for c in cases if c["config"]["torch_dtype"] == dtype)
    return config


@pytest.mark.parametrize(
    "family,dtype,experts",
    [("llama", "bfloat16", "original"), ("gpt2", "float32", "original"),
     ("mixtral", "float32", "original"), ("mixtral", "bfloat16", "fused")],
)
def test_write_with_rng_torch_equals_gen(family: str, dtype: str, experts: str, tmp_path: Path, cli: Any) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(stored_config(family, dtype)))
    # No extension: write() takes the path as the model's directory.
    wi.write(str(tmp_path / "py"), hf_config=str(config), rng="torch", seed=1234, hf_experts=experts)
    gen(cli, tmp_path, "--hf-config", "config.json", "--rng", "torch", "--seed", "1234",
        "--hf-experts", experts, "-o", "cli/")
    ours = (tmp_path / "py" / "model.safetensors").read_bytes()
    assert ours == (tmp_path / "cli" / "model.safetensors").read_bytes()
    # The seed matters.
    gen(cli, tmp_path, "--hf-config", "config.json", "--rng", "torch", "--seed", "1235",
        "--hf-experts", experts, "-o", "other/")
    assert ours != (tmp_path / "other" / "model.safetensors").read_bytes()


def cases() -> Any:
    """make_hf_fixtures.py's CASES (a script beside the fixtures, loaded from its file;
    it imports torch and transformers)."""
    spec = importlib.util.spec_from_file_location("make_hf_fixtures", FIXTURES / "make_hf_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


def differences(ours: Path, theirs: Path) -> List[str]:
    """What differs between two .safetensors files, tensor by tensor."""
    safetensors_torch = need("safetensors.torch")
    torch = need("torch")
    a = safetensors_torch.load_file(str(ours))
    b = safetensors_torch.load_file(str(theirs))
    found = [f"only ours: {n}" for n in sorted(set(a) - set(b))]
    found += [f"only transformers': {n}" for n in sorted(set(b) - set(a))]
    for name in sorted(set(a) & set(b)):
        x, y = a[name], b[name]
        if x.dtype != y.dtype or x.shape != y.shape:
            found.append(f"{name}: ours {x.dtype} {list(x.shape)}, transformers' {y.dtype} {list(y.shape)}")
        elif not torch.equal(x, y):
            found.append(f"{name}: ours {x.flatten()[:4].tolist()} vs transformers' {y.flatten()[:4].tolist()}")
    return found


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("family", FAMILIES)
def test_rng_torch_equals_transformers_live(family: str, dtype: str, tmp_path: Path, cli: Any) -> None:
    torch = need("torch")
    transformers = need("transformers")
    need("safetensors.torch")
    # The second case: in most families the richer one (biases, tied embeddings, a
    # padding row, grouped-query attention).
    config = {**cases()[family][1], "torch_dtype": dtype}
    (tmp_path / "config.json").write_text(json.dumps(config))
    auto = transformers.AutoModelForMaskedLM if family == "bert" else transformers.AutoModelForCausalLM
    torch.manual_seed(7)
    model = auto.from_config(transformers.AutoConfig.for_model(**config))
    layouts = [("original", True), ("fused", False)] if family in MOE else [("original", True)]
    for experts, original in layouts:
        model.save_pretrained(str(tmp_path / f"ref-{experts}"), save_original_format=original)
        gen(cli, tmp_path, "--hf-config", "config.json", "--rng", "torch", "--seed", "7",
            "--hf-experts", experts, "-o", f"ours-{experts}/")
        found = differences(tmp_path / f"ours-{experts}" / "model.safetensors",
                            tmp_path / f"ref-{experts}" / "model.safetensors")
        assert found == [], f"{family} {dtype} {experts}: " + "\n".join(found)
