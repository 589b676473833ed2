"""The same weights at any parallelism (issue 24), in PyTorch's own distributed machinery:
a tiny Llama (vocabulary and widths that do not divide evenly) built on the meta device,
parallelized with FSDP2 on 2 and 4 ranks, tensor parallel on 2, FSDP2 over tensor
parallel on 2x2 (real torch.distributed, gloo, started by torchrun), ``to_empty``, then
``weightinit.torch.init_module`` on every rank. Gathered with ``full_tensor()``, every
layout must equal the single-process model and the file ``weightinit gen --hf-config``
writes, bit for bit; the RoPE buffers must equal eager ``from_config``'s.

Needs torch, transformers and safetensors; skipped without them unless
WEIGHTINIT_REQUIRE_TORCH=1 (CI sets it, so a missing install fails instead of skipping).
"""

from __future__ import annotations

from typing import Any, Dict, List

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import weightinit as wi
import weightinit.torch  # noqa: F401  (wi.torch)

REQUIRED = os.environ.get("WEIGHTINIT_REQUIRE_TORCH") == "1"


def need(module: str) -> Any:
    if REQUIRED:
        return importlib.import_module(module)
    return pytest.importorskip(module)


torch = need("torch")
transformers = need("transformers")
safetensors_torch = need("safetensors.torch")

WORKER = Path(__file__).with_name("dist_worker.py")
SEED = 1234

#: Widths that split unevenly on 2 and 4 ranks: vocabulary 101, MLP 71, 2 KV heads.
TINY_LLAMA = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 101,
    "hidden_size": 48,
    "intermediate_size": 71,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 64,
    "rms_norm_eps": 1e-5,
    "initializer_range": 0.02,
    "tie_word_embeddings": False,
    "dtype": "float32",
}


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tiny-llama")
    (d / "config.json").write_text(json.dumps(TINY_LLAMA))
    return Path(d)


@pytest.fixture(scope="module")
def gen_file(config_dir, tmp_path_factory) -> Dict[str, Any]:
    """The checkpoint weightinit writes for the config: the reference every layout meets."""
    out = tmp_path_factory.mktemp("gen")
    wi.write(str(out) + "/", hf_config=str(config_dir / "config.json"), seed=SEED)
    loaded: Dict[str, Any] = safetensors_torch.load_file(str(out / "model.safetensors"))
    return loaded


def torchrun(world: int, layouts: str, config_dir: Path, out: Path) -> Dict[str, Any]:
    out.mkdir(exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", RAYON_NUM_THREADS="1")
    # A launcher's variables from the machine running the tests must not leak in.
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={world}",
        str(WORKER), "--config", str(config_dir), "--out", str(out), "--seed", str(SEED), "--layouts", layouts,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-8000:]
    summary: Dict[str, Any] = json.loads((out / f"summary-{world}.json").read_text())
    return summary


def bits(t):
    return t.contiguous().view({2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()])


def assert_same(got: Dict[str, Any], want: Dict[str, Any], what: str) -> None:
    missing = sorted(set(want) - set(got))
    assert not missing, f"{what} lacks {missing}"
    for name, w in want.items():
        g = got[name]
        assert g.shape == w.shape and g.dtype == w.dtype, (what, name, g.shape, w.shape, g.dtype, w.dtype)
        assert torch.equal(bits(g), bits(w)), f"{what}: {name} differs"


def eager_buffers(config_dir: Path) -> Dict[str, Any]:
    config = transformers.AutoConfig.from_pretrained(str(config_dir))
    model = transformers.AutoModelForCausalLM.from_config(config)
    return {n: b.detach().clone() for n, b in model.named_buffers()}


def test_single_process_model_equals_the_gen_file_and_eager_buffers(config_dir, gen_file):
    config = transformers.AutoConfig.from_pretrained(str(config_dir))
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    with pytest.raises(ValueError, match="to_empty"):
        wi.torch.init_module(model, seed=SEED)
    model.to_empty(device="cpu")
    report = wi.torch.init_module(model, seed=SEED)
    assert report["unplaced"] == []
    state = {n: p.detach() for n, p in model.named_parameters()}
    assert_same(state, gen_file, "one process")
    assert set(state) == set(gen_file)
    buffers = {n: b for n, b in model.named_buffers()}
    assert_same(buffers, eager_buffers(config_dir), "RoPE buffers")
    assert all(report["tensors"][n]["kind"] == "buffer" for n in buffers)
    assert wi.torch.check_module(model, seed=SEED) == []
    with torch.no_grad():
        model.model.layers[1].mlp.up_proj.weight[3, 4] += 1
    assert wi.torch.check_module(model, seed=SEED) == ["model.layers.1.mlp.up_proj.weight"]
    # Another seed: every drawn tensor differs; the norms' ones do not.
    assert set(wi.torch.check_module(model, seed=SEED + 1)) == {n for n in gen_file if "norm" not in n}


@pytest.mark.parametrize("world, layouts", [(2, "fsdp,tp"), (4, "fsdp,fsdp+tp")])
def test_every_layout_gathers_to_the_gen_file(config_dir, gen_file, tmp_path, world, layouts):
    summary = torchrun(world, layouts, config_dir, tmp_path)
    eager = eager_buffers(config_dir)
    for layout in layouts.split(","):
        got = safetensors_torch.load_file(str(tmp_path / f"{layout}.safetensors"))
        assert_same({n: got[n] for n in gen_file}, gen_file, f"{layout} on {world} ranks")
        assert_same({n: got[n] for n in eager}, eager, f"{layout} on {world} ranks, buffers")
        placements = summary[layout]["placements"]
        assert placements, f"{layout}: no parameter was a DTensor"
        report = summary[layout]["report"]
        # Each rank drew only its own part: no tensor of these laws was built whole.
        assert all(d["drawn"] == "alone" for d in report.values()), report
        if layout == "fsdp+tp":
            assert any("_S(" in p or "StridedShard" in p for p in placements.values()), placements
        if world == 4 and layout == "fsdp":
            # 101 rows on 4 ranks: torch.chunk gives 26, 26, 26, 23 — uneven.
            assert report["model.embed_tokens.weight"]["local_shape"][0] == 26
    assert summary["placements_checked"] > 0


def test_init_on_plain_tensors_views_and_staging_pieces(monkeypatch):
    from weightinit import _torch_regions

    want = torch.from_numpy(wi.generate("he-normal", (64, 40), seed=3, name="v", layout="oi"))
    # A transposed view is filled through the host buffer, with its own shape's fans.
    t = torch.empty(40, 64).t()
    wi.init_(t, "he-normal", seed=3, name="v")
    assert torch.equal(t, want)
    # Pieces smaller than a row: the buffer cut down to 7 elements.
    monkeypatch.setattr(_torch_regions, "STAGING_BYTES", 7 * 4)
    u = torch.empty(40, 64).t()
    wi.init_(u, "he-normal", seed=3, name="v")
    assert torch.equal(u, want)
    bf = torch.empty(40, 64, dtype=torch.bfloat16).t()
    wi.init_(bf, "he-normal", seed=3, name="v")
    want_bf = wi.generate("he-normal", (64, 40), seed=3, name="v", layout="oi", dtype="bfloat16")
    assert np.array_equal(bf.contiguous().view(torch.int16).numpy().view(np.uint16), want_bf.view(np.uint16))


def test_rules_and_strictness():
    net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.LayerNorm(4), torch.nn.Linear(4, 2))
    rules = {"1.weight": "ones", "*.weight": "he-normal", "*.bias": "zeros"}
    report = wi.torch.init_module(net, seed=0, rules=rules)
    assert report["unplaced"] == []
    w = torch.from_numpy(wi.generate("he-normal", (4, 8), seed=0, name="0.weight", layout="oi"))
    assert torch.equal(net[0].weight.detach(), w)
    law = report["tensors"]["0.weight"]["law"]
    assert law is not None and law["kind"] == "normal"
    assert torch.equal(net[1].weight.detach(), torch.ones(4))
    before = net[0].weight.detach().clone()
    with pytest.raises(ValueError, match=r"2\.bias \(no rule matches it\)"):
        wi.torch.init_module(net, seed=1, rules={"1.weight": "ones", "*.weight": "he-normal", "0.bias": "zeros", "1.bias": "zeros"})
    assert torch.equal(net[0].weight.detach(), before), "a refusal leaves the weights as they were"
    with pytest.raises(ValueError, match="1-D shape has no fan-in"):
        wi.torch.init_module(net, seed=0, rules={"*.weight": "he-normal", "*.bias": "zeros"})
    loose = wi.torch.init_module(net, seed=0, rules={"1.weight": "ones", "*.weight": "he-normal"}, strict=False)
    assert sorted(loose["unplaced"]) == ["0.bias (no rule matches it)", "1.bias (no rule matches it)", "2.bias (no rule matches it)"]
    with pytest.raises(ValueError, match="source of laws"):
        wi.torch.init_module(net, seed=0)
    with pytest.raises(ValueError, match="needs seed"):
        wi.torch.init_module(net, seed=None, rules={"*": "zeros"})  # type: ignore[arg-type]


def test_the_documented_torchrun_example_runs(config_dir):
    """examples/parallel_init.py, as docs/parallel.md shows it: FSDP2 over 2-way tensor
    parallel on 4 ranks; every rank's check_module finds its shards exact."""
    example = Path(__file__).resolve().parents[2] / "examples" / "parallel_init.py"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=4", str(example),
         "--config", str(config_dir / "config.json"), "--tp", "2", "--seed", "0"],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-8000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["mismatched"] == [] and result["ranks"] == 4 and result["tp"] == 2
    assert result["elements_on_rank_0"] < result["elements"] / 3


def family_cases() -> List[Any]:
    """Every small config of every family `--hf-config` supports (the fixtures that
    tests/fixtures/make_hf_fixtures.py wrote with transformers)."""
    fixtures = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "hf"
    cases = []
    for path in sorted(fixtures.glob("*.json")):
        for k, case in enumerate(json.loads(path.read_text())["cases"]):
            cases.append(pytest.param(case["config"], id=f"{path.stem}-{k}"))
    return cases


@pytest.mark.parametrize("config", family_cases())
def test_every_family_filled_by_init_module_equals_its_gen_file(config, tmp_path):
    """One process, each family's own config: the module filled by init_module equals
    the file gen writes, and its buffers equal eager from_config's."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    # A live transformers 5 model holds a mixture of experts' experts fused, as gen's
    # --hf-experts fused writes them (its default is the Hub's per-expert layout).
    wi.write(str(tmp_path / "gen") + "/", hf_config=str(tmp_path / "config.json"), seed=SEED, hf_experts="fused")
    want = safetensors_torch.load_file(str(tmp_path / "gen" / "model.safetensors"))
    hf_config = transformers.AutoConfig.from_pretrained(str(tmp_path))
    auto = transformers.AutoModelForMaskedLM if config["model_type"] == "bert" else transformers.AutoModelForCausalLM
    with torch.device("meta"):
        model = auto.from_config(hf_config)
    model.to_empty(device="cpu")
    report = wi.torch.init_module(model, seed=SEED)
    assert report["unplaced"] == []
    # The file holds the parameters and the persistent buffers save_pretrained writes
    # (DeepSeek-V3's router e_score_correction_bias).
    persistent = set(model.state_dict())
    state = dict(model.named_parameters())
    state.update({n: b for n, b in model.named_buffers() if n in persistent})
    assert set(state) == set(want), (sorted(set(state) ^ set(want)))
    assert_same({n: p.detach() for n, p in state.items()}, want, config["model_type"])
    eager = auto.from_config(hf_config)
    assert_same({n: b for n, b in model.named_buffers()}, dict(eager.named_buffers()), "buffers")
    # to_empty allocated tied names apart; init_module tied them again, as eager is.
    ties = dict(getattr(eager, "all_tied_weights_keys", {}) or {})
    for target, source in ties.items():
        assert model.get_parameter(target) is model.get_parameter(source), (target, source)
    assert wi.torch.check_module(model, seed=SEED) == []


def test_tied_embeddings_under_fsdp2_stay_tied_and_equal_the_gen_file(tmp_path):
    """tie_word_embeddings: the head and the embedding are one parameter (FSDP2 keeps the
    tie through to_empty); gen writes it once; 2 ranks gather to that file."""
    config = dict(TINY_LLAMA, tie_word_embeddings=True)
    (tmp_path / "config.json").write_text(json.dumps(config))
    wi.write(str(tmp_path / "gen") + "/", hf_config=str(tmp_path / "config.json"), seed=SEED)
    want = safetensors_torch.load_file(str(tmp_path / "gen" / "model.safetensors"))
    assert "lm_head.weight" not in want
    torchrun(2, "fsdp", tmp_path, tmp_path / "out")
    got = safetensors_torch.load_file(str(tmp_path / "out" / "fsdp.safetensors"))
    assert set(got) - {n for n in got if "rotary" in n} == set(want)
    assert_same({n: got[n] for n in want}, want, "tied, fsdp on 2 ranks")
