"""Every Python example of the documentation, run as written: each ```python block of
README.md, docs/*.md and python/README.md, in an empty directory of its own.

A block gets only what the HTML comment on the line just before its fence names:

    <!-- needs: torch_tensor, config.json -->      set-up from NEEDS below, comma-separated
    <!-- needs: weightinit gen ARGS -->            a command of the binary, run first in
                                                   the block's directory
    <!-- not run: REASON -->                       shown, not run (for blocks that need
                                                   torch, JAX or transformers, which CI
                                                   does not install); counted

The shell examples are run by tests/readme.rs.
"""

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import pytest

from conftest import REPO, binary

DOCUMENTS = ["README.md", *sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md")),
             "python/README.md"]

BLOCK = re.compile(r"(?:^<!-- (?P<directive>[^\n]*?) -->\n)?^```python\n(?P<code>.*?)\n```$", re.S | re.M)


def torch_tensor(_dir: Path) -> Any:
    """A CPU torch tensor of PyTorch's Linear(784, 128) weight shape where torch is
    installed, else a NumPy array, which init_ fills the same way."""
    try:
        import torch

        return torch.empty(128, 784)
    except ImportError:
        return np.empty((128, 784), dtype=np.float32)


def config_json(directory: Path) -> None:
    """A small Hugging Face Llama config.json in the block's directory."""
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 96,
              "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
              "num_attention_heads": 4}
    (directory / "config.json").write_text(json.dumps(config))


# name → (scope variable or None, set-up function of the block's directory)
NEEDS: Dict[str, Tuple[Optional[str], Callable[[Path], Any]]] = {"torch_tensor": ("torch_tensor", torch_tensor), "config.json": (None, config_json)}


Block = Tuple[str, int, Optional[str], str]


def python_blocks() -> List[Block]:
    """(document, number, directive or None, code) of every ```python block."""
    found: List[Block] = []
    for document in DOCUMENTS:
        text = (REPO / document).read_text()
        assert text.count("```python\n") == len(BLOCK.findall(text)), document
        for number, match in enumerate(BLOCK.finditer(text), 1):
            found.append((document, number, match.group("directive"), match.group("code")))
    return found


BLOCKS = python_blocks()


def run_block(
    document: str,
    number: int,
    directive: Optional[str],
    code: str,
    directory: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Dict[str, Any]:
    """Sets up what the directive names in `directory`, then runs the block there;
    returns its namespace."""
    monkeypatch.chdir(directory)
    scope: Dict[str, Any] = {"__name__": "__doc_example__"}
    if directive is not None:
        kind, _, what = directive.partition(": ")
        assert kind == "needs", f"{document} block {number}: unknown directive {directive!r}"
        if what.startswith("weightinit "):
            subprocess.run([binary(), *shlex.split(what)[1:]], check=True, capture_output=True)
        else:
            for need in (n.strip() for n in what.split(",")):
                assert need in NEEDS, f"{document} block {number}: unknown need {need!r}"
                variable, setup = NEEDS[need]
                value = setup(directory)
                if variable is not None:
                    scope[variable] = value
    exec(compile(code, f"{document} (python block {number})", "exec"), scope)
    return scope


RUN = [b for b in BLOCKS if not (b[2] or "").startswith("not run:")]


@pytest.mark.parametrize("document,number,directive,code", RUN, ids=[f"{b[0]}#{b[1]}" for b in RUN])
def test_every_python_example_runs(document, number, directive, code, tmp_path, monkeypatch):
    run_block(document, number, directive, code, tmp_path, monkeypatch)


def test_the_examples_are_found_and_the_skipped_ones_say_why():
    skipped = [b for b in BLOCKS if b not in RUN]
    for document, number, directive, _ in skipped:
        assert directive is not None and directive[len("not run:"):].strip(), f"{document} block {number} gives no reason"
    ran = len(RUN)
    print(f"{len(BLOCKS)} python blocks: {ran} run, {len(skipped)} not run")
    assert ran >= 3, f"only {ran} python blocks run"
    assert any(d == "python/README.md" for d, *_ in BLOCKS)


def test_the_package_readme_api_example_does_what_its_comments_say(tmp_path, monkeypatch):
    (block,) = [b for b in BLOCKS if b[0] == "python/README.md" and "wi.write(" in b[3]]
    document, number, directive, code = block
    scope = run_block(document, number, directive, code, tmp_path, monkeypatch)
    assert scope["w"].shape == (784, 128) and scope["r"]["consistent"]
    assert scope["law"]["fan_in"] == 784
    assert (tmp_path / "model.safetensors").exists()
