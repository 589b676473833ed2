"""The in-memory functions: draw a new array, fill one in place, resolve a law, list the
schemes, check an array. NumPy arrays here; torch tensors are handed to
:mod:`weightinit.torch`."""

from __future__ import annotations

import json
from typing import Any, List, Optional, cast

import numpy as np
import numpy.typing as npt

from . import _weightinit
from ._args import checked_seed, dtype_name, shape_dims
from ._types import DTypeLike, Layout, SchemeInfo, ShapeLike, Stream, TensorMeta, Verification
from .errors import InvalidArgument


def generate(
    scheme: str,
    shape: ShapeLike,
    *,
    seed: Optional[int] = None,
    name: str = "w0",
    layout: Layout = "io",
    rng: Stream = "native",
    dtype: DTypeLike = "float32",
) -> npt.NDArray[Any]:
    """Draw a tensor initialized by ``scheme`` as a new NumPy array of ``shape``.

    The array is built in Rust on all cores (the GIL is released) and handed to NumPy
    without a copy. The values are exactly those of
    ``weightinit gen --scheme SCHEME --shape AxB --seed SEED --name NAME`` for the same
    arguments.

    Formulas (fan_in, fan_out from the shape and ``layout``; gain from the scheme):
    he-normal draws N(0, gain^2 / fan_in) with gain = sqrt(2) (He et al. 2015);
    xavier-uniform draws U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))
    (Glorot & Bengio 2010). ``schemes()`` lists every scheme with its formula.

    Args:
        scheme: a scheme with optional parameters: ``"he-normal"``,
            ``"normal:std=0.02"``, ``"kaiming-uniform:nonlinearity=tanh"``.
        shape: the dimensions, e.g. ``(784, 128)``; an int is one axis; ``"784x128"``
            as on the command line.
        seed: 0 to 2**64-1. ``None`` draws a fresh seed from the operating system.
        name: the tensor's name; with the seed it keys the native stream, so two
            tensors of one seed differ by name.
        layout: ``"io"`` (in x out, Keras/JAX, the default) or ``"oi"`` (out x in,
            PyTorch); decides which axis is fan-in.
        rng: ``"native"`` (weightinit's counter-based stream), ``"numpy"``
            (``np.random.default_rng(seed)``), ``"torch"`` (PyTorch's CPU generator
            after ``torch.manual_seed(seed)``; needs ``layout="oi"`` for fan-based schemes),
            ``"jax"`` (the JAX initializer of that name with ``jax.random.key(seed)``)
            or ``"keras"`` (Keras 3's initializer ``keras.initializers.X(seed=seed)`` on
            the JAX backend).
        dtype: float32 (default), float64, float16 or bfloat16 (returned as
            ``ml_dtypes.bfloat16``; needs the ml_dtypes package).

    Returns:
        A C-contiguous ``numpy.ndarray`` of ``shape`` and ``dtype``.

    Raises:
        InvalidArgument (a ValueError): an unknown scheme, a bad parameter, shape, seed
            or dtype.
        MemoryBudgetExceeded (a MemoryError): the array would exceed the memory budget.

    Example:
        >>> import weightinit as wi
        >>> w = wi.generate("he-normal", (784, 128), seed=42)
        >>> w.shape, w.dtype
        ((784, 128), dtype('float32'))
    """
    return _weightinit.generate(
        scheme, shape_dims(shape), checked_seed(seed), name, layout, rng, dtype_name(dtype)
    )


def resolve(
    scheme: str,
    shape: ShapeLike,
    *,
    layout: Layout = "io",
    name: str = "w0",
    seed: Optional[int] = None,
    rng: Stream = "native",
    dtype: DTypeLike = "float32",
) -> TensorMeta:
    """The law ``scheme`` resolves to for ``shape``, without drawing anything.

    The dictionary is the metadata ``weightinit gen`` stores with every tensor: the
    fans (``fan_in``, ``fan_out``, ``receptive_field``), ``gain``, the ``fan`` used,
    the ``distribution`` with every number filled in, ``std`` (the standard deviation of
    one element, for elementwise schemes) and ``bound`` (the half-width of a symmetric
    uniform law), plus the name, shape, dtype, layout, seed and random stream.

    For he-normal, std = gain / sqrt(fan_in) with gain = sqrt(2) (He et al. 2015).

    Example:
        >>> import weightinit as wi
        >>> law = wi.resolve("he-normal", (784, 128))
        >>> law["fan_in"], round(law["std"], 6)
        (784, 0.050508)
    """
    text = _weightinit.resolve(
        scheme, shape_dims(shape), checked_seed(seed), name, layout, rng, dtype_name(dtype)
    )
    return cast(TensorMeta, json.loads(text))


def schemes() -> List[SchemeInfo]:
    """Every scheme as a dict: ``name``, ``aliases``, ``params``, ``formula``,
    ``default_gain`` and ``suits`` (what it is for), as ``weightinit schemes --json``.

    Example:
        >>> import weightinit as wi
        >>> "he-normal" in [s["name"] for s in wi.schemes()]
        True
    """
    return cast(List[SchemeInfo], json.loads(_weightinit.schemes()))


def is_bfloat16(a: npt.NDArray[Any]) -> bool:
    """Whether ``a`` holds ml_dtypes.bfloat16 (which NumPy knows only by name)."""
    return bool(a.dtype.name == "bfloat16")


def verify_array(
    values: npt.NDArray[Any], scheme: str, layout: Layout, name: str, *, bfloat16: bool
) -> Verification:
    """``verify`` for a NumPy array; ``bfloat16``: ``values`` are uint16 bfloat16 bits."""
    return cast(Verification, json.loads(_weightinit.verify(values, scheme, layout, name, bfloat16)))


def verify(
    values: Any,
    scheme: str,
    *,
    layout: Layout = "io",
    name: str = "array",
) -> Verification:
    """Whether ``values`` look drawn from ``scheme`` for their shape: ``weightinit
    verify``'s report as a dict; ``report["consistent"]`` is the answer and
    ``report["reason"]`` the first failed check.

    The checks: mean and variance within 5 standard errors of the law's, the bounds of
    uniform and truncated laws, a Kolmogorov-Smirnov test against the law rounded to the
    array's dtype (p >= 1e-6), exact values for constant laws, W^T W = gain^2 I for
    orthogonal, and no identical rows or columns for random laws.

    Args:
        values: a NumPy array (float32, float64, float16 or ml_dtypes.bfloat16) or a CPU
            torch tensor (see :func:`weightinit.torch.verify`).
        scheme: the scheme the values should come from, with parameters.
        layout: ``"io"`` or ``"oi"``, how the shape's axes are read (as for generate).
        name: what the report calls the array.

    Example:
        >>> import weightinit as wi
        >>> w = wi.generate("he-normal", (784, 128), seed=1)
        >>> wi.verify(w, "he-normal")["consistent"], wi.verify(w, "xavier-normal")["consistent"]
        (True, False)
    """
    from . import torch as torch_support  # not at the top: weightinit.torch imports this module

    if torch_support.is_tensor(values):
        return torch_support.verify(values, scheme, layout=layout, name=name)
    array = np.asarray(values)
    if is_bfloat16(array):
        return verify_array(array.view(np.uint16), scheme, layout, name, bfloat16=True)
    return verify_array(array, scheme, layout, name, bfloat16=False)


def fill_array(
    out: npt.NDArray[Any],
    scheme: str,
    seed: Optional[int],
    name: str,
    layout: Layout,
    rng: Stream,
    *,
    bfloat16: bool,
) -> None:
    """Fills ``out`` in place; ``bfloat16``: ``out`` holds uint16 bfloat16 bits."""
    _weightinit.fill(out, scheme, seed, name, layout, rng, bfloat16)


def init_(
    tensor: Any,
    scheme: str,
    *,
    seed: Optional[int] = None,
    name: str = "w0",
    layout: Layout = "oi",
    rng: Stream = "native",
) -> Any:
    """Fill ``tensor`` in place with the values ``generate`` draws for its shape, and
    return it (as ``torch.nn.init.*_`` do).

    ``tensor`` is a torch tensor (float32, float64, float16 or bfloat16: on any device,
    a view, or a **DTensor**, of which each rank fills its own shard with the global
    tensor's values; see :func:`weightinit.torch.init_`) or a writable C-contiguous NumPy
    array; autograd is left out of it (as under ``torch.no_grad()``). The default layout is ``"oi"``, PyTorch's out x in, so fans are
    what ``torch.nn.init`` computes for the same tensor; pass ``layout="io"`` for a
    Keras/JAX-shaped array.

    With ``rng="torch"`` and a seed, the values equal ``torch.manual_seed(seed)``
    followed by the matching ``torch.nn.init`` call (kaiming_uniform_, xavier_normal_ ...).

    Example:
        >>> import numpy as np, weightinit as wi
        >>> w = np.empty((128, 784), dtype=np.float32)
        >>> wi.init_(w, "kaiming-uniform", seed=0, rng="torch") is w
        True
    """
    from . import torch as torch_support  # not at the top: weightinit.torch imports this module

    checked = checked_seed(seed)
    if torch_support.is_tensor(tensor):
        return torch_support.init_(tensor, scheme, seed=checked, name=name, layout=layout, rng=rng)
    if isinstance(tensor, np.ndarray):
        if is_bfloat16(tensor):
            fill_array(tensor.view(np.uint16), scheme, checked, name, layout, rng, bfloat16=True)
        else:
            fill_array(tensor, scheme, checked, name, layout, rng, bfloat16=False)
        return tensor
    raise InvalidArgument(f"init_ fills a torch.Tensor or a numpy.ndarray, not {type(tensor).__name__}")
