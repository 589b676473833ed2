"""Every family ``gen --hf-config`` supports, loaded back by transformers: for every small
config of every family (the fixtures tests/fixtures/make_hf_fixtures.py wrote with
transformers), the directory the standalone binary writes loads with
``from_pretrained(dir, output_loading_info=True)`` with no missing, unexpected or
mismatched keys and no errors, and the loaded model holds exactly the file's tensors
(names, dtypes and values: nothing was converted or drawn again).

A mixture of experts' case is checked in both layouts: gen's default (the Hub's
per-expert tensors, as save_pretrained writes by default), which from_pretrained fuses
as it loads (so the loaded model, converted back by transformers' own
revert_weight_conversion as save_pretrained does, holds the file's tensors), and
``--hf-experts fused`` (save_original_format=False's), loaded as it is.

Needs torch, transformers and safetensors; skipped without them unless
WEIGHTINIT_REQUIRE_TORCH=1 (CI sets it, so a missing install fails instead of skipping).
"""

from __future__ import annotations

from typing import Any, List

import importlib
import json
import math
import os
from pathlib import Path

import pytest

REQUIRED = os.environ.get("WEIGHTINIT_REQUIRE_TORCH") == "1"


def need(module: str) -> Any:
    if REQUIRED:
        return importlib.import_module(module)
    return pytest.importorskip(module)


torch = need("torch")
transformers = need("transformers")
safetensors_torch = need("safetensors.torch")

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "hf"
# The families whose experts save_pretrained converts back to the Hub's layout.
MOE = {"mixtral", "qwen3_moe", "olmoe", "deepseek_v3"}


def family_cases() -> List[Any]:
    cases = []
    for path in sorted(FIXTURES.glob("*.json")):
        for k, case in enumerate(json.loads(path.read_text())["cases"]):
            cases.append(pytest.param(case["config"], "original", id=f"{path.stem}-{k}"))
            if "tensors_fused" in case:
                cases.append(pytest.param(case["config"], "fused", id=f"{path.stem}-{k}-fused"))
    return cases


def test_the_fixtures_cover_every_family() -> None:
    families = {p.stem for p in FIXTURES.glob("*.json")}
    fused = {p.stem for p in FIXTURES.glob("*.json") if all("tensors_fused" in c for c in json.loads(p.read_text())["cases"])}
    assert fused == MOE, fused
    assert {"llama", "mixtral", "qwen3_moe", "olmoe", "deepseek_v3", "olmo2", "gemma2", "gemma3_text"} <= families


def rescaled_on_load(config: Any, name: str) -> float:
    """What from_pretrained divides a loaded tensor by. transformers 5.25's Mamba and
    Mamba-2 `_init_weights` divide `out_proj.weight` by √num_hidden_layers in place when
    `rescale_prenorm_residual` is set, and from_pretrained runs it on the mixers after
    loading, so a loaded checkpoint's out_proj comes back divided once more: its own
    save_pretrained/from_pretrained round trip does the same (checked in
    test_mamba_out_proj_is_rescaled_on_load_by_transformers_itself)."""
    mamba = config["model_type"] in ("mamba", "mamba2")
    if mamba and config.get("rescale_prenorm_residual") and name.endswith("mixer.out_proj.weight"):
        return math.sqrt(config["num_hidden_layers"])
    return 1.0


def test_mamba_out_proj_is_rescaled_on_load_by_transformers_itself(tmp_path) -> None:
    config = transformers.MambaConfig(vocab_size=64, hidden_size=32, num_hidden_layers=4,
                                      state_size=4, rescale_prenorm_residual=True)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.save_pretrained(str(tmp_path))
    loaded = transformers.AutoModelForCausalLM.from_pretrained(str(tmp_path))
    name = "backbone.layers.0.mixer.out_proj.weight"
    assert torch.equal(loaded.state_dict()[name], model.state_dict()[name] / math.sqrt(4))


@pytest.mark.parametrize("config,experts", family_cases())
def test_gen_output_loads_with_from_pretrained(config, experts, cli, tmp_path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(config))
    cli("gen", "--hf-config", "config.json", "--hf-experts", experts, "--seed", "7", "-o", "out/", cwd=tmp_path)
    out = tmp_path / "out"
    auto = transformers.AutoModelForMaskedLM if config["model_type"] == "bert" else transformers.AutoModelForCausalLM
    model, info = auto.from_pretrained(str(out), output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    assert problems == {}, problems
    written = safetensors_torch.load_file(str(out / "model.safetensors"))
    state = model.state_dict()
    if experts == "original":
        # What save_pretrained would write from the loaded model (per-expert tensors
        # cut from the fused ones it loaded): the file, value for value.
        from transformers.core_model_loading import revert_weight_conversion

        state = dict(revert_weight_conversion(model, dict(state)))
        if config["model_type"] in MOE:
            assert any(".experts.0." in n for n in written), sorted(written)[:8]
    assert set(written) <= set(state), sorted(set(written) - set(state))
    for name, tensor in written.items():
        loaded = state[name]
        assert loaded.dtype == tensor.dtype, (name, loaded.dtype, tensor.dtype)
        assert torch.equal(loaded, tensor / rescaled_on_load(config, name)), name
    # What the file lacks is only what transformers ties to a tensor it holds.
    ties = dict(getattr(model, "all_tied_weights_keys", {}) or {})
    assert set(state) - set(written) <= set(ties), sorted(set(state) - set(written) - set(ties))
