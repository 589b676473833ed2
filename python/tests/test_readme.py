"""The README's Python example, run as written (in an empty directory with a small
config.json; `torch_tensor` is a torch tensor where torch is installed, else a NumPy
array, which init_ fills the same way)."""

import json
import re

import numpy as np

from conftest import REPO


def python_block() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("\n## Python\n"):]
    block = re.search(r"\n```python\n(.*?)\n```", section, re.S)
    assert block, "no python block in the README's Python section"
    return block.group(1)


def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 96,
              "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
              "num_attention_heads": 4}
    (tmp_path / "config.json").write_text(json.dumps(config))
    try:
        import torch

        torch_tensor = torch.empty(128, 784)
    except ImportError:
        torch_tensor = np.empty((128, 784), dtype=np.float32)
    scope = {"torch_tensor": torch_tensor}
    exec(compile(python_block(), "README.md", "exec"), scope)
    assert scope["w"].shape == (784, 128) and scope["r"]["consistent"]
    assert scope["law"]["fan_in"] == 784
    assert (tmp_path / "model.safetensors").exists()
