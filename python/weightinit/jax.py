"""weightinit for JAX: sharded ``jax.Array``s, each device's block drawn on its own.

The native stream makes element i of a tensor a pure function of (seed, name, i), so a
device's block of a global tensor can be drawn without the rest. ``init_array`` builds a
``jax.Array`` of any ``jax.sharding.Sharding`` with ``jax.make_array_from_callback``:
the host draws each distinct block once (replicas share it), with fans from the global
shape, and the array equals ``weightinit.generate`` of the global shape bit for bit.
``init_tree`` does the same for every leaf of a pytree of ``jax.ShapeDtypeStruct``s
(``jax.eval_shape`` of a model's init), the laws picked by name rules.

jax is imported only inside the functions, so ``import weightinit`` needs no JAX (nor
does type-checking: JAX objects are typed ``Any`` here).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from . import _weightinit
from ._args import checked_seed, dtype_name, shape_dims
from ._types import DTypeLike, Layout, ShapeLike, Stream
from .errors import InvalidArgument

__all__ = ["init_array", "init_tree"]

#: A ``jax.Array``, ``jax.sharding.Sharding`` or pytree; ``Any`` so that the package
#: type-checks where JAX is not installed.
Array = Any
Sharding = Any
PyTree = Any

#: The global indices held along each axis (``None``: the whole tensor).
Axes = Optional[List[List[int]]]

#: Fills a host array with the global tensor's elements at ``Axes`` (bfloat16 as uint16
#: bits when the flag is set); returns ``"alone"`` or ``"whole:BYTES"``.
Filler = Callable[[Any, Axes, bool], str]

#: The dtype names the library takes, to the NumPy type of a block.
_DTYPES: Dict[str, str] = {
    "float32": "float32",
    "f32": "float32",
    "float64": "float64",
    "f64": "float64",
    "float16": "float16",
    "f16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
}


def init_array(
    scheme: str,
    shape: ShapeLike,
    sharding: Sharding,
    *,
    seed: Optional[int],
    name: str,
    layout: Layout = "io",
    dtype: DTypeLike = "float32",
    rng: Stream = "native",
) -> Array:
    """A ``jax.Array`` of the global ``shape``, laid out by ``sharding``, holding the
    tensor ``weightinit.generate(scheme, shape, seed=seed, name=name, ...)`` draws, bit
    for bit, whatever the sharding.

    Built with ``jax.make_array_from_callback``: for each block a device of this
    process holds, the host draws only that block (fans come from the global shape) and
    hands it to JAX; devices holding the same block (replicated mesh axes) share one
    draw. Any ``jax.sharding.Sharding`` works: a ``NamedSharding`` over any ``Mesh`` and
    ``PartitionSpec`` (one array axis split over several mesh axes, replicated axes),
    a ``SingleDeviceSharding``; each sharded axis must divide evenly, as JAX requires.
    Laws that exist only as a whole matrix (orthogonal, sparse, identity, dirac) and the
    framework streams (``rng="numpy"`` ...) are built whole on the host: once for the
    first block, and once more, kept, to cut every other block from.

    Args:
        scheme: a scheme with optional parameters (``"he-normal"``,
            ``"trunc-normal:std=0.02"``).
        shape: the global dimensions.
        sharding: the ``jax.sharding.Sharding`` of the result.
        seed: 0 to 2**64-1; required: every process must draw from the same seed.
        name: the tensor's name; with the seed it keys the native stream.
        layout: ``"io"`` (in x out, JAX's, the default) or ``"oi"``.
        dtype: float32 (default), bfloat16, float16, or float64 (needs
            ``jax_enable_x64``).
        rng: the random stream, as for ``weightinit.generate``.

    Returns:
        A ``jax.Array`` of ``shape`` and ``dtype`` whose ``.sharding`` is ``sharding``.

    Raises:
        InvalidArgument (a ValueError): no seed, a sharding that does not fit the
            shape, an unknown scheme, a bad parameter, shape, dtype, layout or stream.

    Example:
        >>> import jax, weightinit.jax as wj                              # doctest: +SKIP
        >>> from jax.sharding import NamedSharding, PartitionSpec as P    # doctest: +SKIP
        >>> mesh = jax.make_mesh((jax.device_count(),), ("x",))           # doctest: +SKIP
        >>> w = wj.init_array("he-normal", (1024, 512), NamedSharding(mesh, P(None, "x")),
        ...                   seed=0, name="dense.kernel")                # doctest: +SKIP
        >>> w.shape, w.dtype                                              # doctest: +SKIP
        ((1024, 512), dtype('float32'))
    """
    checked = checked_seed(seed)
    if checked is None:
        raise InvalidArgument(f"initializing array '{name}' needs seed=: every process must draw from the same seed")
    dims = shape_dims(shape)
    kind = _dtype_kind(dtype, f"array '{name}'")
    # Checks the scheme, shape, layout and stream once, before any device asks for a block.
    _weightinit.resolve(scheme, dims, checked, name, layout, rng, kind)

    def fill(out: Any, axes: Axes, bf16: bool) -> str:
        return _weightinit.fill_region(out, scheme, dims, axes, checked, name, layout, rng, bf16)

    return _sharded(dims, sharding, kind, fill, f"array '{name}'")


def init_tree(
    tree: PyTree,
    rules: Mapping[str, str],
    *,
    seed: Optional[int],
    layout: Layout = "io",
    rng: Stream = "native",
) -> PyTree:
    """Every leaf of ``tree`` drawn as a sharded ``jax.Array``, its law chosen by name.

    ``tree`` is a pytree whose leaves are ``jax.ShapeDtypeStruct``s (or arrays: anything
    with ``.shape`` and ``.dtype``), usually ``jax.eval_shape`` of a model's init with
    the shardings set (``jax.eval_shape(jax.jit(init, out_shardings=...))``); a leaf
    without ``.sharding`` goes to the first device, ``jax.devices()[0]``. A leaf's name
    is its path, the keys joined by ``"."`` (a dict key, an attribute name, a sequence
    index): ``{"params": {"Dense_0": {"kernel": ...}}}`` names the leaf
    ``"params.Dense_0.kernel"``; a container that adds a key of its own (a wrapper's
    ``value`` attribute) adds it to the name. ``rules`` maps glob patterns (``*``,
    ``?``, ``[...]``, ``{a,b}``, as the command line's ``--rule``) to schemes; the
    first pattern a name matches gives its law. Each leaf is then exactly
    ``init_array(scheme, leaf.shape, leaf.sharding, seed=seed, name=name,
    layout=layout, dtype=leaf.dtype, rng=rng)``: the same values as
    ``weightinit.generate`` of each global tensor, at any sharding.

    Returns:
        A pytree of the same structure holding ``jax.Array``s.

    Raises:
        InvalidArgument (a ValueError): no seed; leaves no rule matches (named, up to
            8); a leaf that is not a float array; a bad rule, scheme or sharding.

    Example:
        >>> import jax, jax.numpy as jnp, weightinit.jax as wj            # doctest: +SKIP
        >>> shapes = {"params": {"Dense_0": {"kernel": jax.ShapeDtypeStruct((784, 128), jnp.float32),
        ...                                  "bias": jax.ShapeDtypeStruct((128,), jnp.float32)}}}  # doctest: +SKIP
        >>> params = wj.init_tree(shapes, {"*.kernel": "he-normal", "*.bias": "zeros"},
        ...                       seed=0)                                 # doctest: +SKIP
        >>> params["params"]["Dense_0"]["kernel"].shape                   # doctest: +SKIP
        (784, 128)
    """
    jax = _jax()
    checked = checked_seed(seed)
    if checked is None:
        raise InvalidArgument("init_tree needs seed=: every process must draw from the same seed")
    if not isinstance(rules, Mapping):
        raise InvalidArgument(f"rules must map glob patterns to schemes, e.g. {{'*.kernel': 'he-normal'}}, not {type(rules).__name__}")
    leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
    named: List[Tuple[str, List[int], str, Any]] = []
    for path, leaf in leaves:
        name = _path_name(path)
        if not (hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
            raise InvalidArgument(
                f"leaf '{name}' is of type {type(leaf).__name__}: init_tree takes leaves with .shape and .dtype (jax.ShapeDtypeStruct)"
            )
        dims = [int(d) for d in leaf.shape]
        named.append((name, dims, _dtype_kind(leaf.dtype, f"leaf '{name}'"), getattr(leaf, "sharding", None)))
    seen: Dict[str, int] = {}
    for name, *_ in named:
        seen[name] = seen.get(name, 0) + 1
    twice = [n for n, k in seen.items() if k > 1]
    if twice:
        raise InvalidArgument(f"two leaves are named '{twice[0]}': the names (tree paths joined by '.') must differ")
    tensors = _weightinit.Tensors.from_rules(
        [(str(p), str(s)) for p, s in rules.items()],
        [(n, d, k) for n, d, k, _ in named],
        checked,
        layout,
        rng,
    )
    unmatched = tensors.unmatched()
    if unmatched:
        listed = ", ".join(unmatched[:8]) + (f" and {len(unmatched) - 8} more" if len(unmatched) > 8 else "")
        count = "leaf" if len(unmatched) == 1 else f"{len(unmatched)} leaves"
        raise InvalidArgument(f"no rule matches {count}: {listed}; add a pattern for them to rules")
    index = {entry[0]: i for i, entry in enumerate(tensors.entries())}
    arrays = []
    for name, dims, kind, sharding in named:
        if sharding is None:
            sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])

        def fill(out: Any, axes: Axes, bf16: bool, i: int = index[name]) -> str:
            return tensors.fill(i, out, axes, bf16)

        arrays.append(_sharded(dims, sharding, kind, fill, f"leaf '{name}'"))
    return jax.tree_util.tree_unflatten(treedef, arrays)


def _jax() -> Any:
    """The jax module, imported on first use (typed ``Any``: JAX may be missing where the
    package is type-checked)."""
    return importlib.import_module("jax")


def _dtype_kind(dtype: DTypeLike, what: str) -> str:
    """The NumPy name of the float type ``dtype`` (``"float32"`` ... ``"bfloat16"``)."""
    try:
        text = dtype_name(dtype)
    except InvalidArgument:
        text = str(dtype)
    kind = _DTYPES.get(text.lower())
    if kind is None:
        raise InvalidArgument(f"invalid dtype {text!r} for {what}: use float32, float64, float16 or bfloat16")
    return kind


def _path_name(path: Tuple[Any, ...]) -> str:
    """A pytree path's keys joined by ``"."``: a dict key, an attribute name, an index."""
    parts = []
    for key in path:
        for field in ("key", "name", "idx"):
            if hasattr(key, field):
                parts.append(str(getattr(key, field)))
                break
        else:
            parts.append(str(key))
    return ".".join(parts)


def _positions(index: Tuple[Any, ...], dims: List[int], what: str) -> Tuple[Tuple[int, int, int], ...]:
    """The (start, stop, step) of each axis a block index (a tuple of slices) selects."""
    if len(index) != len(dims):
        raise InvalidArgument(f"JAX asked {what} for a block of {len(index)} axes; the array has {len(dims)}")
    ranges = []
    for part, n in zip(index, dims):
        if not isinstance(part, slice):
            raise InvalidArgument(f"JAX asked {what} for a block indexed by {part!r}; expected slices")
        ranges.append(part.indices(n))
    return tuple(ranges)


def _sharded(dims: List[int], sharding: Sharding, kind: str, fill: Filler, what: str) -> Array:
    """The ``jax.Array`` of global ``dims`` and ``sharding``, each distinct block drawn
    once on the host by ``fill``."""
    jax = _jax()

    if not isinstance(sharding, jax.sharding.Sharding):
        raise InvalidArgument(f"sharding for {what} must be a jax.sharding.Sharding, not {type(sharding).__name__}")
    if kind == "float64" and not jax.config.jax_enable_x64:
        raise InvalidArgument(
            f"{what} is float64, which JAX stores as float32 unless jax.config.update('jax_enable_x64', True)"
        )
    shape = tuple(dims)
    try:
        sharding.shard_shape(shape)
    except ValueError as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InvalidArgument(f"the sharding does not fit {what} of shape {shape}: {reason}") from None
    bf16 = kind == "bfloat16"
    host = np.dtype(np.uint16) if bf16 else np.dtype(kind)
    blocks: Dict[Tuple[Tuple[int, int, int], ...], Any] = {}
    whole: List[Any] = []

    def block(index: Tuple[Any, ...]) -> Any:
        ranges = _positions(index, dims, what)
        done = blocks.get(ranges)
        if done is not None:
            return done
        if whole:
            # The law exists only whole: it was built once, every block is cut from it.
            out = np.ascontiguousarray(whole[0][tuple(slice(*r) for r in ranges)])
        else:
            axes: Axes = [list(range(*r)) for r in ranges]
            if all(r == (0, n, 1) for r, n in zip(ranges, dims)):
                axes = None
            out = np.empty([len(range(*r)) for r in ranges], dtype=host)
            how = fill(out, axes, bf16)
            if how.startswith("whole:") and axes is not None:
                full = np.empty(shape, dtype=host)
                fill(full, None, bf16)
                whole.append(full)
        if bf16:
            import ml_dtypes

            out = out.view(ml_dtypes.bfloat16)
        blocks[ranges] = out
        return out

    return jax.make_array_from_callback(shape, sharding, block)
