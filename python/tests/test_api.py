"""The Python API against the command line, NumPy and PyTorch's own values."""

import doctest
import hashlib
import json
import math
import subprocess
import sys

import numpy as np
import pytest

import weightinit as wi
from conftest import console_script


def sha256(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    return hashlib.sha256(a.astype(a.dtype.newbyteorder("<")).tobytes()).hexdigest()


# --- generate: the same bytes as `weightinit gen` -------------------------------------


@pytest.mark.parametrize(
    "scheme, shape, extra",
    [
        ("he-normal", (784, 128), {}),
        ("xavier-uniform", (64, 3, 3, 3), {"layout": "oi"}),
        ("truncated-normal:std=0.02", (1000, 17), {"name": "embed"}),
        ("normal:std=0.02", (300, 200), {"rng": "numpy"}),
        ("xavier-uniform", (300, 200), {"rng": "numpy", "dtype": "float64"}),
        ("kaiming-uniform", (128, 784), {"rng": "torch", "layout": "oi"}),
        ("orthogonal", (96, 64), {}),
        ("uniform:low=-0.5,high=0.5", (65537,), {"dtype": "float16", "name": "fc.bias"}),
    ],
)
def test_generate_equals_the_command_lines_bytes(tmp_path, cli, scheme, shape, extra):
    kwargs = {"seed": 11, **extra}
    w = wi.generate(scheme, shape, **kwargs)
    out = tmp_path / "w.npy"
    flags = ["--seed", "11", "--scheme", scheme, "--shape", "x".join(map(str, shape)), "-o", out]
    for key, flag in [("layout", "--layout"), ("rng", "--rng"), ("dtype", "--dtype"), ("name", "--name")]:
        if key in extra:
            flags += [flag, extra[key]]
    cli("gen", *flags, "--report", "none")
    stored = np.load(out)
    assert w.shape == shape and w.dtype == stored.dtype
    assert w.tobytes() == stored.tobytes()
    assert w.flags["C_CONTIGUOUS"] and w.flags["WRITEABLE"]


def test_bfloat16_comes_back_as_ml_dtypes_bfloat16_with_the_files_bits(tmp_path, cli):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    from safetensors.numpy import load_file

    w = wi.generate("he-normal", (100, 30), seed=4, dtype="bfloat16")
    assert w.dtype == ml_dtypes.bfloat16
    out = tmp_path / "w.safetensors"
    cli("gen", "--scheme", "he-normal", "--shape", "100x30", "--seed", 4, "--dtype", "bf16",
        "-o", out, "--report", "none")
    # safetensors' NumPy loader has no bfloat16: compare the raw little-endian bits.
    header_len = int.from_bytes(out.read_bytes()[:8], "little")
    raw = out.read_bytes()[8 + header_len:]
    assert w.view(np.uint16).tobytes() == raw
    assert np.dtype(ml_dtypes.bfloat16) == w.dtype and callable(load_file)  # loader imported fine


def test_bfloat16_without_ml_dtypes_is_one_clear_line():
    code = (
        "import sys; sys.modules['ml_dtypes'] = None\n"
        "import weightinit as wi\n"
        "try:\n"
        "    wi.generate('he-normal', (4, 4), dtype='bfloat16')\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ml_dtypes" in out.stdout and "pip install ml_dtypes" in out.stdout, out
    assert out.stdout.count("\n") == 1


def test_torch_stream_equals_the_values_pytorch_drew(torch_reference):
    """torch.manual_seed(k); torch.nn.init.<scheme>_(torch.empty(shape)), recorded by
    tests/fixtures/make_fixtures.py with PyTorch itself."""
    cases = torch_reference["schemes"]
    assert len(cases) >= 30
    for case in cases:
        shape = tuple(int(d) for d in case["shape"].split("x"))
        dtypes: dict[str, wi.DTypeName] = {"f32": "float32", "f64": "float64"}
        dtype = dtypes[case["dtype"]]
        w = wi.generate(case["scheme"], shape, seed=case["seed"], rng="torch", layout="oi", dtype=dtype)
        assert sha256(w) == case["sha256"], case


@pytest.mark.parametrize("seed", [0, 7, 2**63 + 5])
def test_numpy_stream_equals_default_rng_live(seed):
    shape = (300, 200)  # layout io: fan_in 300, fan_out 200
    rng = np.random.default_rng(seed)
    expected = rng.standard_normal(shape, dtype=np.float32) * np.float32(math.sqrt(2 / 300))
    assert wi.generate("he-normal", shape, seed=seed, rng="numpy").tobytes() == expected.tobytes()

    rng = np.random.default_rng(seed)
    # The bound as torch.nn.init.xavier_uniform_ computes it, sqrt(3) * gain *
    # sqrt(2 / (fan_in + fan_out)); sqrt(6 / 500) rounds one ulp higher.
    bound = math.sqrt(3.0) * 1.0 * math.sqrt(2.0 / (300 + 200))
    expected = rng.uniform(-bound, bound, shape)
    got = wi.generate("xavier-uniform", shape, seed=seed, rng="numpy", dtype=np.float64)
    assert got.tobytes() == expected.tobytes()

    rng = np.random.default_rng(seed)
    expected = rng.normal(0.0, 0.02, shape)
    got = wi.generate("normal:std=0.02", shape, seed=seed, rng="numpy", dtype="float64")
    assert got.tobytes() == expected.tobytes()


def test_names_and_seeds_key_the_native_stream():
    a = wi.generate("he-normal", (50, 50), seed=1, name="a")
    assert np.array_equal(a, wi.generate("he-normal", (50, 50), seed=1, name="a"))
    assert not np.array_equal(a, wi.generate("he-normal", (50, 50), seed=1, name="b"))
    assert not np.array_equal(a, wi.generate("he-normal", (50, 50), seed=2, name="a"))
    # Without a seed, a fresh one each time.
    assert not np.array_equal(wi.generate("he-normal", (50, 50)), wi.generate("he-normal", (50, 50)))


def test_shapes_take_ints_and_numpy_integers():
    assert wi.generate("zeros", 5, seed=0).shape == (5,)
    assert wi.generate("ones", (np.int64(3), np.int32(2)), seed=0).shape == (3, 2)


# --- resolve and schemes ---------------------------------------------------------------


def test_resolve_gives_the_law_with_its_numbers():
    law = wi.resolve("he-normal", (784, 128))
    assert law["fan_in"] == 784 and law["fan_out"] == 128
    assert law["std"] == pytest.approx(math.sqrt(2 / 784), rel=1e-15)
    assert law["distribution"]["kind"] == "normal"
    oi = wi.resolve("xavier-uniform", (64, 3, 3, 3), layout="oi")
    assert (oi["fan_in"], oi["fan_out"], oi["receptive_field"]) == (27, 576, 9)
    assert oi["bound"] == pytest.approx(math.sqrt(6 / (27 + 576)), rel=1e-15)


def test_schemes_lists_the_table():
    table = wi.schemes()
    names = [s["name"] for s in table]
    assert {"he-normal", "xavier-uniform", "orthogonal", "truncated-normal"} <= set(names)
    he = table[names.index("he-normal")]
    assert set(he) >= {"name", "aliases", "params", "formula", "default_gain", "suits"}


def test_schemes_equals_the_command_lines_json(cli):
    assert wi.schemes() == json.loads(cli("schemes", "--json").stdout)


# --- verify ----------------------------------------------------------------------------


def test_verify_tells_right_from_wrong():
    w = wi.generate("he-normal", (784, 128), seed=1)
    right = wi.verify(w, "he-normal")
    assert right["consistent"] and right["reason"] is None
    assert right["tensors"][0]["fan_in"] == 784
    wrong = wi.verify(w, "xavier-normal")
    assert not wrong["consistent"] and "NOT consistent with xavier-normal" in (wrong["reason"] or "")
    # A NumPy draw of the right law passes too: verify judges values, not their origin.
    numpy_draw = np.random.default_rng(3).normal(0, math.sqrt(2 / 784), (784, 128)).astype(np.float32)
    assert wi.verify(numpy_draw, "he-normal")["consistent"]
    uniform = np.random.default_rng(3).uniform(-0.1, 0.1, (784, 128))
    assert not wi.verify(uniform, "he-normal")["consistent"]


def test_verify_reads_float16_and_bfloat16():
    pytest.importorskip("ml_dtypes")
    for dtype in ("float16", "bfloat16"):
        w = wi.generate("xavier-uniform", (256, 256), seed=2, dtype=dtype)
        report = wi.verify(w, "xavier-uniform")
        assert report["consistent"], report["reason"]
        assert report["tensors"][0]["dtype"] == {"float16": "f16", "bfloat16": "bf16"}[dtype]


# --- init_ -----------------------------------------------------------------------------


def test_init_fills_a_numpy_array_in_place_with_generates_values():
    a = np.empty((128, 784), dtype=np.float32)
    assert wi.init_(a, "kaiming-uniform", seed=0, rng="torch") is a
    assert a.tobytes() == wi.generate("kaiming-uniform", (128, 784), seed=0, rng="torch", layout="oi").tobytes()
    b = np.empty((30, 40), dtype=np.float64)
    wi.init_(b, "he-normal", seed=5, name="x", layout="io")
    assert np.array_equal(b, wi.generate("he-normal", (30, 40), seed=5, name="x", dtype="float64"))


def test_init_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="contiguous"):
        wi.init_(np.empty((10, 20), np.float32)[:, ::2], "he-normal", seed=0)
    frozen = np.zeros((4, 4), np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="cannot write"):
        wi.init_(frozen, "he-normal", seed=0)
    with pytest.raises(ValueError, match="int32"):
        wi.init_(np.zeros((4, 4), np.int32), "he-normal", seed=0)
    with pytest.raises(ValueError, match="list"):
        wi.init_([[0.0]], "he-normal", seed=0)


def test_init_writes_torch_tensors_in_place():
    torch = pytest.importorskip("torch")
    for dtype in (torch.float32, torch.float64, torch.bfloat16):
        lin = torch.nn.Linear(784, 128).to(dtype)
        ptr = lin.weight.data_ptr()
        assert wi.init_(lin.weight, "kaiming-uniform", seed=0, rng="torch" if dtype != torch.bfloat16 else "native") is lin.weight
        assert lin.weight.data_ptr() == ptr and lin.weight.requires_grad
    t = torch.empty(128, 784)
    wi.init_(t, "kaiming-uniform", seed=0, rng="torch")
    torch.manual_seed(0)
    expected = torch.nn.init.kaiming_uniform_(torch.empty(128, 784))
    assert torch.equal(t, expected)
    # A view is filled through a host buffer (test_torch_distributed.py covers more).
    view = torch.empty(20, 10).t()
    wi.init_(view, "he-normal", seed=0)
    assert torch.equal(view, torch.from_numpy(wi.generate("he-normal", (10, 20), seed=0, layout="oi")))
    with pytest.raises(ValueError, match="to_empty"):
        wi.init_(torch.empty(3, 3, device="meta"), "he-normal", seed=0)
    with pytest.raises(ValueError, match="int64"):
        wi.init_(torch.zeros(3, 3, dtype=torch.int64), "he-normal", seed=0)


# --- write -----------------------------------------------------------------------------


def test_write_equals_the_command_line(tmp_path, cli):
    wi.write(tmp_path / "py.npy", "he-normal", (784, 128), seed=42)
    cli("gen", "--scheme", "he-normal", "--shape", "784x128", "--seed", 42, "-o", tmp_path / "cli.npy",
        "--report", "none")
    assert (tmp_path / "py.npy").read_bytes() == (tmp_path / "cli.npy").read_bytes()
    # Several tensors, rules, a container.
    wi.write(tmp_path / "py.safetensors", "he-normal", layers="784-256-10", seed=1, dtype="bfloat16")
    cli("gen", "--layers", "784-256-10", "--seed", 1, "--scheme", "he-normal", "--dtype", "bf16",
        "-o", tmp_path / "cli.safetensors", "--report", "none")
    assert (tmp_path / "py.safetensors").read_bytes() == (tmp_path / "cli.safetensors").read_bytes()


def test_write_from_a_hugging_face_config(tmp_path, cli):
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 96,
              "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
              "num_attention_heads": 4, "torch_dtype": "float32"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    wi.write(tmp_path / "py", hf_config=tmp_path / "config.json", seed=0)
    cli("gen", "--hf-config", tmp_path / "config.json", "--seed", 0, "-o", f"{tmp_path / 'cli'}/", "--report", "none")
    for name in ("model.safetensors", "config.json"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    from safetensors.numpy import load_file

    tensors = load_file(tmp_path / "py" / "model.safetensors")
    assert "model.embed_tokens.weight" in tensors


LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS",
                      "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")


def test_write_shard_auto_reads_the_launchers_variables(tmp_path, cli, monkeypatch):
    # write() resolves shard="auto" from this process's environment, as gen does; the
    # test's own launcher (a CI job under Slurm) must not decide the shard.
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def write(directory: str) -> None:
        wi.write(f"{tmp_path / directory}/", layers="64-48-32-10", seed=4, max_shard_size="10KB",
                 shard="auto")

    with pytest.raises(ValueError, match="RANK and WORLD_SIZE") as info:
        write("none")
    assert "\n" not in str(info.value) and not (tmp_path / "none").exists()
    for rank in range(2):
        monkeypatch.setenv("SLURM_PROCID", str(rank))
        monkeypatch.setenv("SLURM_NTASKS", "2")
        write("py")
    cli("gen", "--layers", "64-48-32-10", "--seed", 4, "--max-shard-size", "10KB",
        "-o", f"{tmp_path / 'cli'}/", "--report", "none")
    files = sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert len(files) > 2 and files == sorted(p.name for p in (tmp_path / "py").iterdir())
    for name in files:
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name


def test_write_refuses_to_replace_without_force(tmp_path):
    out = tmp_path / "w.npy"
    wi.write(out, "zeros", (3,), seed=0)
    with pytest.raises(FileExistsError, match="force=True"):
        wi.write(out, "ones", (3,), seed=0)
    wi.write(out, "ones", (3,), seed=0, force=True)
    assert np.load(out).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(OSError):
        wi.write(tmp_path / "no" / "such" / "dir" / "w.npy", "zeros", (3,), seed=0)


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: wi.generate("he-nrmal", (3, 3)), "did you mean 'he-normal'"),
        (lambda: wi.generate("normal:std=-1", (3, 3)), "std"),
        (lambda: wi.generate("he-normal", (3, 0)), "0"),
        (lambda: wi.generate("he-normal", (3, -1)), "negative"),
        (lambda: wi.generate("he-normal", "abc"), "abc"),
        (lambda: wi.generate("he-normal", [[3]]), "invalid shape"),  # type: ignore[list-item]
        (lambda: wi.generate("he-normal", (3, 3), seed=-1), "seed -1"),
        (lambda: wi.generate("he-normal", (3, 3), seed=2**64), "seed"),
        (lambda: wi.generate("he-normal", (3, 3), layout="sideways"), "invalid layout 'sideways'"),  # type: ignore[arg-type]
        (lambda: wi.generate("he-normal", (3, 3), rng="mt19937"), "invalid rng 'mt19937'"),  # type: ignore[arg-type]
        (lambda: wi.generate("he-normal", (3, 3), dtype="int8"), "invalid dtype 'int8'"),  # type: ignore[arg-type]
        (lambda: wi.generate("truncated-normal", (3, 3), rng="numpy"), "truncated"),
        (lambda: wi.generate("kaiming-uniform", (3, 3), rng="torch"), "oi"),
        (lambda: wi.resolve("he-normal", (7,)), "he-normal"),
        (lambda: wi.verify(np.zeros((3, 3), np.int64), "zeros"), "int64"),
        (lambda: wi.write("w.npy", "he-normal", (3, 3), bogus=1), "--bogus"),
        (lambda: wi.write("w.npy", "he-normal", (3, 3), layers="3-2"), "--layers cannot be used with --shape"),
        (lambda: wi.write("w.npy", "he-normal", (3, 3), report="loud"), "report: 'loud'"),
    ],
)
def test_bad_input_is_a_value_error_of_one_line(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert fragment in message and "\n" not in message, message


def test_memory_budget_is_a_memory_error(tmp_path):
    # write() takes gen's --max-memory; the limit lasts for the process, so a child.
    code = (
        "import weightinit as wi\n"
        "try:\n"
        f"    wi.write({str(tmp_path / 'q.npy')!r}, 'orthogonal', (2048, 2048), seed=0, max_memory='1MiB')\n"
        "except MemoryError as e:\n"
        "    print('MemoryError', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("MemoryError") and "memory" in out.stdout, out
    assert not list(tmp_path.iterdir())


# --- the command and the docs ----------------------------------------------------------


def test_the_wheel_installs_the_command(tmp_path, cli):
    exe = console_script()
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"weightinit {wi.__version__}"
    out = tmp_path / "w.npy"
    subprocess.run([exe, "gen", "--scheme", "he-normal", "--shape", "784x128", "--seed", "3", "-o", str(out),
                    "--report", "none"], check=True)
    assert np.array_equal(np.load(out), wi.generate("he-normal", (784, 128), seed=3))
    bad = subprocess.run([exe, "gen", "--scheme", "nope", "--shape", "3"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("weightinit: error: unknown scheme 'nope'")
    module = subprocess.run([sys.executable, "-m", "weightinit", "schemes", "--json"], capture_output=True, check=True)
    assert module.stdout == cli("schemes", "--json").stdout


def test_docstring_examples_run():
    failures, tried = doctest.testmod(wi, optionflags=doctest.ELLIPSIS)
    assert tried >= 6 and failures == 0


def test_every_public_function_has_a_docstring_with_an_example():
    for name in ("generate", "resolve", "schemes", "verify", "init_", "write"):
        doc = getattr(wi, name).__doc__
        assert doc and "Example" in doc and ">>> " in doc, name
