"""The JAX checks of test_jax_sharding.py, run in a process of their own: JAX must see 8
CPU devices, which XLA_FLAGS gives only when set before jax is first imported.

Every check's outcome goes into a JSON report on the last line of stdout ({check: "ok"
or the failure}); the exit status is 0 when all passed.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import doctest  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple  # noqa: E402

import numpy as np  # noqa: E402

import weightinit as wi  # noqa: E402
import weightinit.jax as wj  # noqa: E402
from weightinit import _weightinit  # noqa: E402

# JAX typed Any: the checks type-check the same where JAX is not installed.
jax: Any = importlib.import_module("jax")
jnp: Any = jax.numpy
P: Any = jax.sharding.PartitionSpec
NamedSharding: Any = jax.sharding.NamedSharding
SingleDeviceSharding: Any = jax.sharding.SingleDeviceSharding

SEED = 20240
REPORT: Dict[str, str] = {}

#: Element counts of every block fill_region was asked for (wrapped below).
REQUESTS: List[int] = []
_fill_region = _weightinit.fill_region


def recording_fill_region(out: Any, *args: Any, **kwargs: Any) -> str:
    REQUESTS.append(int(out.size))
    return _fill_region(out, *args, **kwargs)


_weightinit.fill_region = recording_fill_region


def check(name: str, body: Callable[[], None]) -> None:
    try:
        body()
        REPORT[name] = "ok"
    except Exception:
        REPORT[name] = traceback.format_exc(limit=4)


def bits(a: Any) -> np.ndarray[Any, Any]:
    """The array's bits as unsigned integers, so equality is bit for bit."""
    a = np.asarray(a)
    viewed: np.ndarray[Any, Any] = a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize])
    return viewed


def same_bits(got: Any, want: Any, what: str) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, expected {want.dtype}"
    differ = int((bits(got) != bits(want)).sum())
    assert differ == 0, f"{what}: {differ} of {got.size} elements differ"


def distinct_blocks(sharding: Any, shape: Tuple[int, ...]) -> int:
    indices = sharding.addressable_devices_indices_map(shape).values()
    return len({tuple(s.indices(n) for s, n in zip(index, shape)) for index in indices})


def check_array(
    scheme: str,
    shape: Tuple[int, ...],
    sharding: Any,
    dtype: str,
    name: str,
    *,
    layout: str = "io",
    rng: str = "native",
    alone: bool = True,
) -> None:
    """init_array against generate: the sharding, the gathered values, every device's
    shard, and (for laws drawn block by block) the elements drawn."""
    REQUESTS.clear()
    got = wj.init_array(scheme, shape, sharding, seed=SEED, name=name, layout=layout, dtype=dtype, rng=rng)  # type: ignore[arg-type]
    requested = list(REQUESTS)
    want = wi.generate(scheme, shape, seed=SEED, name=name, layout=layout, rng=rng, dtype=dtype)  # type: ignore[arg-type]
    assert got.sharding == sharding, f"sharding {got.sharding}, expected {sharding}"
    assert got.shape == shape and str(got.dtype) == dtype, (got.shape, got.dtype)
    same_bits(got, want, "the gathered array")
    shards = got.addressable_shards
    assert len(shards) == len(sharding.addressable_devices), len(shards)
    for shard in shards:
        same_bits(shard.data, want[shard.index], f"the shard of {shard.device}")
    block = int(np.prod(sharding.shard_shape(shape)))
    if alone:
        expected = distinct_blocks(sharding, shape) * block
        assert sum(requested) == expected, (
            f"drew {sum(requested)} elements in {len(requested)} calls {requested}; "
            f"expected {expected} ({distinct_blocks(sharding, shape)} distinct blocks of {block})"
        )
    else:
        # Built whole: at most once for the first block and once whole, then cut.
        assert len(requested) <= 2, f"{len(requested)} fill calls {requested}"


def meshes() -> Dict[str, Any]:
    return {
        "8": jax.make_mesh((8,), ("x",)),
        "4x2": jax.make_mesh((4, 2), ("x", "y")),
        "2x2x2": jax.make_mesh((2, 2, 2), ("x", "y", "z")),
    }


#: (mesh, spec, global shape)
LAYOUTS: List[Tuple[str, Any, Tuple[int, ...]]] = [
    ("8", P("x"), (64, 24)),
    ("8", P(None, "x"), (24, 64)),
    ("8", P(), (16, 8)),
    ("4x2", P("x"), (32, 12)),
    ("4x2", P(None, "y"), (12, 32)),
    ("4x2", P("x", "y"), (32, 24)),
    ("4x2", P("y", "x"), (16, 24)),
    ("4x2", P(("x", "y"),), (64, 8)),
    ("4x2", P(), (8, 8)),
    ("2x2x2", P("x", "y", "z"), (4, 6, 8)),
    ("2x2x2", P(("z", "x"), None, "y"), (8, 3, 4)),
    ("2x2x2", P(None, "y"), (3, 6, 5)),
]

SCHEMES = ["he-normal", "trunc-normal:std=0.02", "orthogonal"]
DTYPES = ["float32", "bfloat16"]


def array_checks() -> None:
    mesh = meshes()
    for i, (mesh_name, spec, shape) in enumerate(LAYOUTS):
        sharding = NamedSharding(mesh[mesh_name], spec)
        for scheme in SCHEMES:
            for dtype in DTYPES:
                label = f"array mesh={mesh_name} spec={spec} shape={shape} {scheme} {dtype}"
                name = f"layer{i}.{scheme.split(':')[0]}"
                check(label, lambda: check_array(scheme, shape, sharding, dtype, name, alone=scheme != "orthogonal"))
    devices = jax.devices()
    check("array SingleDeviceSharding(device 3)", lambda: check_array("he-normal", (20, 10), SingleDeviceSharding(devices[3]), "float32", "single"))
    s = NamedSharding(mesh["4x2"], P("x", "y"))
    check("array float16, layout oi", lambda: check_array("xavier-uniform", (16, 12), s, "float16", "half", layout="oi"))
    check("array rng=numpy (built whole, cut)", lambda: check_array("he-normal", (16, 12), s, "float32", "np", rng="numpy", alone=False))
    check("array uniform law", lambda: check_array("uniform:low=-1,high=2", (16, 12), s, "bfloat16", "u"))


def raises(body: Callable[[], Any], *fragments: str) -> None:
    try:
        body()
    except wi.InvalidArgument as e:
        text = str(e)
        assert "\n" not in text, f"a message of several lines: {text!r}"
        for fragment in fragments:
            assert fragment in text, f"{fragment!r} not in {text!r}"
        return
    raise AssertionError(f"no InvalidArgument (expected one saying {fragments})")


def error_checks() -> None:
    s = NamedSharding(meshes()["4x2"], P("x"))
    check("error: no seed", lambda: raises(lambda: wj.init_array("he-normal", (8, 4), s, seed=None, name="w"), "seed", "'w'"))
    check("error: uneven split", lambda: raises(lambda: wj.init_array("he-normal", (7, 4), s, seed=1, name="w"), "(7, 4)"))
    check("error: not a sharding", lambda: raises(lambda: wj.init_array("he-normal", (8, 4), "x", seed=1, name="w"), "jax.sharding.Sharding", "str"))
    check("error: float64 without x64", lambda: raises(lambda: wj.init_array("he-normal", (8, 4), s, seed=1, name="w", dtype="float64"), "jax_enable_x64"))
    check("error: integer dtype", lambda: raises(lambda: wj.init_array("he-normal", (8, 4), s, seed=1, name="w", dtype="int32"), "int32", "float32"))  # type: ignore[arg-type]
    check("error: unknown scheme", lambda: raises(lambda: wj.init_array("he-nromal", (8, 4), s, seed=1, name="w"), "he-nromal"))


class Pair(NamedTuple):
    """A pytree node whose keys are attribute names (GetAttrKey)."""

    scale: Any
    shift: Any


def tree_checks() -> None:
    mesh = meshes()["4x2"]

    def sds(shape: Tuple[int, ...], dtype: Any, spec: Optional[Any]) -> Any:
        return jax.ShapeDtypeStruct(shape, dtype, sharding=None if spec is None else NamedSharding(mesh, spec))

    tree = {
        "params": {
            "Dense_0": {"kernel": sds((16, 8), jnp.float32, P(None, "y")), "bias": sds((8,), jnp.float32, P("y"))},
            "Dense_1": {"kernel": sds((8, 4), jnp.bfloat16, P("x")), "bias": sds((4,), jnp.float32, P())},
        },
        "embed": [sds((32, 16), jnp.float32, P("x", "y")), sds((12, 16), jnp.float32, None)],
        "norm": Pair(sds((16,), jnp.float32, P()), sds((16,), jnp.float32, P("x"))),
    }
    rules = {"*.kernel": "he-normal", "*.bias": "zeros", "embed.*": "normal:std=0.02", "norm.scale": "ones", "norm.*": "uniform:low=0,high=1"}
    expected = {
        "params.Dense_0.kernel": "he-normal",
        "params.Dense_0.bias": "zeros",
        "params.Dense_1.kernel": "he-normal",
        "params.Dense_1.bias": "zeros",
        "embed.0": "normal:std=0.02",
        "embed.1": "normal:std=0.02",
        "norm.scale": "ones",
        "norm.shift": "uniform:low=0,high=1",
    }

    def body() -> None:
        out = wj.init_tree(tree, rules, seed=SEED)
        assert jax.tree_util.tree_structure(out) == jax.tree_util.tree_structure(tree)
        leaves = jax.tree_util.tree_flatten_with_path(out)[0]
        shapes = dict(zip((p for p, _ in leaves), jax.tree_util.tree_leaves(tree)))
        names = set()
        for path, array in leaves:
            name = ".".join(str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path)
            names.add(name)
            spec = shapes[path]
            want_sharding = spec.sharding if spec.sharding is not None else SingleDeviceSharding(jax.devices()[0])
            assert array.sharding == want_sharding, f"{name}: {array.sharding}"
            want = wi.generate(expected[name], spec.shape, seed=SEED, name=name, dtype=str(spec.dtype))  # type: ignore[arg-type]
            same_bits(array, want, name)
            for shard in array.addressable_shards:
                same_bits(shard.data, want[shard.index], f"{name} on {shard.device}")
        assert names == set(expected), names

    check("tree: names, laws, shardings, values", body)

    def from_eval_shape() -> None:
        sharding = NamedSharding(mesh, P("x", "y"))
        init = jax.jit(lambda: {"w": jnp.zeros((8, 6)), "b": jnp.zeros((6,))}, out_shardings={"w": sharding, "b": NamedSharding(mesh, P())})
        shapes = jax.eval_shape(init)
        assert shapes["w"].sharding == sharding
        out = wj.init_tree(shapes, {"w": "lecun-normal", "b": "zeros"}, seed=7, layout="io")
        assert out["w"].sharding == sharding
        same_bits(out["w"], wi.generate("lecun-normal", (8, 6), seed=7, name="w"), "w")

    check("tree: from jax.eval_shape of a jit with out_shardings", from_eval_shape)
    check(
        "tree error: unmatched leaves named",
        lambda: raises(lambda: wj.init_tree(tree, {"*.kernel": "he-normal"}, seed=1), "params.Dense_0.bias", "embed.0", "norm.shift", "6 leaves"),
    )
    many = {f"w{i}": sds((4,), jnp.float32, None) for i in range(11)}
    check("tree error: at most 8 unmatched listed", lambda: raises(lambda: wj.init_tree(many, {"x": "zeros"}, seed=1), "11 leaves", "and 3 more"))
    check("tree error: no seed", lambda: raises(lambda: wj.init_tree(tree, rules, seed=None), "seed"))
    check("tree error: a leaf that is no array", lambda: raises(lambda: wj.init_tree({"a": 3}, rules, seed=1), "'a'", "int"))


def docstring_checks() -> None:
    """The module's examples, run for real (they are marked +SKIP for the package's
    doctest run, where JAX may be missing)."""
    for name in wj.__all__:
        function = getattr(wj, name)

        def body(function: Any = function) -> None:
            text = function.__doc__.replace("# doctest: +SKIP", "")
            test = doctest.DocTestParser().get_doctest(text, {}, name, None, 0)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
            result = runner.run(test, out=lambda s: sys.stderr.write(s))
            assert result.attempted >= 3 and result.failed == 0, result

        check(f"docstring example of {name}", body)


def docs_check() -> None:
    """docs/python.md's JAX example (marked not run for test_readme.py, whose process
    has one device and maybe no JAX), run here as written."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "python.md").read_text()
    section = text.split("## JAX: sharded arrays", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"^```python\n(.*?)\n```$", section, re.S | re.M)

    def body() -> None:
        exec(compile(code, "docs/python.md (JAX example)", "exec"), {"__name__": "__doc_example__"})

    check("docs/python.md JAX example", body)


def main() -> int:
    assert jax.device_count() == 8, f"JAX sees {jax.device_count()} devices: XLA_FLAGS came too late"
    array_checks()
    error_checks()
    tree_checks()
    docstring_checks()
    docs_check()
    failed = [k for k, v in REPORT.items() if v != "ok"]
    for k in failed:
        print(f"FAILED {k}:\n{REPORT[k]}", file=sys.stderr)
    print(json.dumps(REPORT))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
