"""Init recipes from Python (issue 25): ``write(..., hf_config=, recipe=)`` writes the
bytes ``weightinit gen --hf-config --recipe`` writes; an unknown recipe or one without
a config raises InvalidArgument; ``weightinit.torch.init_module(model, recipe=)`` fills
a transformers model with exactly that file (when torch and transformers are installed;
they are required when WEIGHTINIT_REQUIRE_TORCH=1, as in CI)."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

import weightinit as wi

LLAMA = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 96,
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "tie_word_embeddings": False,
    "dtype": "float32",
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA))
    return path


@pytest.mark.parametrize("recipe", ["torchtitan", "megatron", "olmo-mitchell", "zero-residual"])
def test_write_with_a_recipe_equals_gen(recipe: str, config: Path, tmp_path: Path, cli: Any) -> None:
    wi.write(str(tmp_path / "py") + "/", hf_config=str(config), recipe=recipe, seed=7)
    cli("gen", "--hf-config", config, "--recipe", recipe, "--seed", "7", "-o", str(tmp_path / "cli") + "/")
    ours = (tmp_path / "py" / "model.safetensors").read_bytes()
    assert ours == (tmp_path / "cli" / "model.safetensors").read_bytes()
    plain = tmp_path / "plain"
    wi.write(str(plain) + "/", hf_config=str(config), seed=7)
    assert ours != (plain / "model.safetensors").read_bytes(), "the recipe changed nothing"


def test_bad_recipes_raise_invalid_argument(config: Path, tmp_path: Path) -> None:
    with pytest.raises(wi.InvalidArgument, match="unknown recipe 'titan'.*torchtitan"):
        wi.write(str(tmp_path / "m") + "/", hf_config=str(config), recipe="titan", seed=0)
    with pytest.raises(wi.InvalidArgument, match="--recipe needs --hf-config"):
        wi.write(str(tmp_path / "w.npy"), "normal", (4, 4), recipe="megatron", seed=0)
    assert not (tmp_path / "m").exists()


def test_init_module_with_a_recipe_equals_the_file(config: Path, tmp_path: Path) -> None:
    required = os.environ.get("WEIGHTINIT_REQUIRE_TORCH") == "1"
    load = importlib.import_module if required else pytest.importorskip
    torch = load("torch")
    transformers = load("transformers")
    safetensors_torch = load("safetensors.torch")
    import weightinit.torch as wt

    wi.write(str(tmp_path / "gen") + "/", hf_config=str(config), recipe="torchtitan", seed=11)
    want = safetensors_torch.load_file(str(tmp_path / "gen" / "model.safetensors"))
    hf_config = transformers.AutoConfig.from_pretrained(str(config.parent))
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config)
    model.to_empty(device="cpu")
    report = wt.init_module(model, seed=11, recipe="torchtitan")
    assert report["unplaced"] == []
    state = {n: p.detach() for n, p in model.named_parameters()}
    assert set(state) == set(want)
    for name, value in want.items():
        assert torch.equal(state[name], value), name
    assert wt.check_module(model, seed=11, recipe="torchtitan") == []
    assert wt.check_module(model, seed=11) != [], "the family's own laws are other values"
    with pytest.raises(wi.InvalidArgument, match="recipe= applies to a model config"):
        wt.init_module(model, seed=11, rules={"*": "zeros"}, recipe="megatron")
