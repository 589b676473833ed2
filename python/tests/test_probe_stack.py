"""`weightinit probe --hf-config` against transformers' own forward pass.

The probe's stack model leaves out the mixing of tokens by attention (each token attends
to itself alone) and positions; for sequences of ONE token that is no simplification at
all (softmax over one key is 1, rotary phases at position 0 are the identity). So for a
batch of one-token sequences, transformers' forward pass in float64 on the very weights
`gen --hf-config --recipe R --seed S` writes must give the probe's numbers: the residual
stream's variance after every layer and the logits' std. Every case of every family the
probe runs (tests/fixtures/hf/*.json, written by transformers), under the family's own
init and megatron's. GPT-2 is left out: its learned position embedding (wpe row 0) is
added in transformers and not in the probe, by design.

Needs torch and transformers (required when WEIGHTINIT_REQUIRE_TORCH=1, as in CI).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any, List

import pytest

from conftest import binary

REQUIRED = os.environ.get("WEIGHTINIT_REQUIRE_TORCH") == "1"


def need(module: str) -> Any:
    if REQUIRED:
        return importlib.import_module(module)
    return pytest.importorskip(module)


torch = need("torch")
transformers = need("transformers")

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "hf"
FAMILIES = ["llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "olmo2", "phi3",
            "mixtral", "qwen3_moe", "olmoe", "deepseek_v3"]


def cases() -> List[Any]:
    out = []
    for family in FAMILIES:
        for k, case in enumerate(json.loads((FIXTURES / f"{family}.json").read_text())["cases"]):
            for recipe in ("family", "megatron"):
                out.append(pytest.param(case["config"], recipe, id=f"{family}-{k}-{recipe}"))
    return out


@pytest.mark.parametrize("config,recipe", cases())
def test_probe_equals_transformers_on_one_token_sequences(config: Any, recipe: str, tmp_path: Path) -> None:
    exe = binary()
    (tmp_path / "config.json").write_text(json.dumps(config))
    probe = json.loads(subprocess.run(
        [exe, "probe", "--hf-config", "config.json", "--recipe", recipe, "--seed", "3", "--batch", "48", "--json"],
        cwd=tmp_path, capture_output=True, text=True, check=True).stdout)
    gen = [exe, "gen", "--hf-config", "config.json", "--seed", "3", "-o", "m/"]
    if recipe != "family":
        gen += ["--recipe", recipe]
    subprocess.run(gen, cwd=tmp_path, capture_output=True, check=True)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(tmp_path / "m"), dtype=torch.float32, experts_implementation="eager").double().eval()
    ids = torch.tensor(probe["token_ids"]).view(-1, 1)
    with torch.no_grad():
        out = model(input_ids=ids, output_hidden_states=True)
    ours = probe["recipes"][0]
    layers = probe["layers"]
    # hidden_states[l + 1] is the stream after layer l (the last one is after the final
    # norm in transformers, so it is not compared); the probe's row 2l + 1 is after
    # layer l's MLP.
    for layer in range(layers - 1):
        theirs = out.hidden_states[layer + 1].var(unbiased=False).item()
        mine = ours["rows"][2 * layer + 1]["stream_variance"]
        assert abs(mine / theirs - 1) < 1e-6, (layer, mine, theirs)
    theirs = out.logits.std(unbiased=False).item()
    assert abs(ours["logits_std"] / theirs - 1) < 1e-6, (ours["logits_std"], theirs)
