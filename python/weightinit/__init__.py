"""weightinit: initial weights for neural-network layers, exactly reproducible.

The same library as the ``weightinit`` command, with NumPy arrays in and out::

    import weightinit as wi
    w = wi.generate("he-normal", (784, 128), seed=42)   # == weightinit gen ... --seed 42
    wi.resolve("he-normal", (784, 128))["std"]           # 0.050507627227610534
    wi.verify(w, "he-normal")["consistent"]              # True

Every value equals the one ``weightinit gen`` writes for the same scheme, shape, seed,
name, layout, random stream and dtype. ``rng="numpy"`` reproduces
``np.random.default_rng(seed)``, ``rng="torch"`` PyTorch's CPU generator after
``torch.manual_seed(seed)`` and ``rng="jax"`` ``jax.nn.initializers`` with
``jax.random.key(seed)``, bit for bit.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _weightinit

__version__: str = _weightinit.__version__

__all__ = ["generate", "resolve", "schemes", "verify", "init_", "write", "__version__"]

ShapeLike = Union[int, Sequence[int]]
DTypeLike = Union[str, np.dtype, type]


def _shape(shape: ShapeLike) -> List[int]:
    """A shape as a list of ints: an int is one axis; numpy integers and the command
    line's text ("784x128") are accepted."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        if isinstance(shape, str):
            shape = shape.split("x")
        dims = [int(d) for d in shape]
    except (TypeError, ValueError):
        raise ValueError(f"invalid shape {shape!r}: give a tuple of positive ints, e.g. (784, 128)") from None
    for d in dims:
        if d < 0:
            raise ValueError(f"invalid shape {tuple(dims)}: dimension {d} is negative")
    return dims


def _seed(seed: Optional[int]) -> Optional[int]:
    if seed is None:
        return None
    seed = int(seed)
    if not 0 <= seed < 2**64:
        raise ValueError(f"invalid seed {seed}: use an integer from 0 to 2**64-1")
    return seed


def _dtype_name(dtype: DTypeLike) -> str:
    """'float32', np.float32, np.dtype('float16'), ml_dtypes.bfloat16 -> a name the library takes."""
    if isinstance(dtype, str):
        return dtype
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"invalid dtype {dtype!r}: use float32, float64, float16 or bfloat16") from None


def generate(
    scheme: str,
    shape: ShapeLike,
    *,
    seed: Optional[int] = None,
    name: str = "w0",
    layout: str = "io",
    rng: str = "native",
    dtype: DTypeLike = "float32",
) -> np.ndarray:
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
            after ``torch.manual_seed(seed)``; needs ``layout="oi"`` for fan-based schemes)
            or ``"jax"`` (the JAX initializer of that name with ``jax.random.key(seed)``).
        dtype: float32 (default), float64, float16 or bfloat16 (returned as
            ``ml_dtypes.bfloat16``; needs the ml_dtypes package).

    Returns:
        A C-contiguous ``numpy.ndarray`` of ``shape`` and ``dtype``.

    Raises:
        ValueError: an unknown scheme, a bad parameter, shape, seed or dtype.
        MemoryError: the array would exceed the memory budget.

    Example:
        >>> import weightinit as wi
        >>> w = wi.generate("he-normal", (784, 128), seed=42)
        >>> w.shape, w.dtype
        ((784, 128), dtype('float32'))
    """
    return _weightinit.generate(
        scheme, _shape(shape), _seed(seed), name, layout, rng, _dtype_name(dtype)
    )


def resolve(
    scheme: str,
    shape: ShapeLike,
    *,
    layout: str = "io",
    name: str = "w0",
    seed: Optional[int] = None,
    rng: str = "native",
    dtype: DTypeLike = "float32",
) -> Dict[str, Any]:
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
    text = _weightinit.resolve(scheme, _shape(shape), _seed(seed), name, layout, rng, _dtype_name(dtype))
    return json.loads(text)


def schemes() -> List[Dict[str, Any]]:
    """Every scheme as a dict: ``name``, ``aliases``, ``params``, ``formula``,
    ``default_gain`` and ``suits`` (what it is for), as ``weightinit schemes --json``.

    Example:
        >>> import weightinit as wi
        >>> "he-normal" in [s["name"] for s in wi.schemes()]
        True
    """
    return json.loads(_weightinit.schemes())


def _torch_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch.Tensor, without importing torch when it is not loaded."""
    torch = __import__("sys").modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _bfloat16_array(a: np.ndarray) -> bool:
    return a.dtype.name == "bfloat16"


def verify(
    values: Any,
    scheme: str,
    *,
    layout: str = "io",
    name: str = "array",
) -> Dict[str, Any]:
    """Whether ``values`` look drawn from ``scheme`` for their shape: ``weightinit
    verify``'s report as a dict; ``report["consistent"]`` is the answer and
    ``report["reason"]`` the first failed check.

    The checks: mean and variance within 5 standard errors of the law's, the bounds of
    uniform and truncated laws, a Kolmogorov-Smirnov test against the law rounded to the
    array's dtype (p >= 1e-6), exact values for constant laws, W^T W = gain^2 I for
    orthogonal, and no identical rows or columns for random laws.

    Args:
        values: a NumPy array (float32, float64, float16 or ml_dtypes.bfloat16) or a CPU
            torch tensor.
        scheme: the scheme the values should come from, with parameters.
        layout: ``"io"`` or ``"oi"``, how the shape's axes are read (as for generate).
        name: what the report calls the array.

    Example:
        >>> import weightinit as wi
        >>> w = wi.generate("he-normal", (784, 128), seed=1)
        >>> wi.verify(w, "he-normal")["consistent"], wi.verify(w, "xavier-normal")["consistent"]
        (True, False)
    """
    bfloat16 = False
    if _torch_tensor(values):
        import torch

        t = values.detach()
        if t.device.type != "cpu":
            raise ValueError(f"verify reads CPU tensors; this one is on {t.device} (call .cpu() first)")
        if t.dtype == torch.bfloat16:
            values, bfloat16 = t.contiguous().view(torch.int16).numpy().view(np.uint16), True
        else:
            values = t.numpy()
    else:
        values = np.asarray(values)
        if _bfloat16_array(values):
            values, bfloat16 = values.view(np.uint16), True
    return json.loads(_weightinit.verify(values, scheme, layout, name, bfloat16))


def init_(
    tensor: Any,
    scheme: str,
    *,
    seed: Optional[int] = None,
    name: str = "w0",
    layout: str = "oi",
    rng: str = "native",
) -> Any:
    """Fill ``tensor`` in place with the values ``generate`` draws for its shape, and
    return it (as ``torch.nn.init.*_`` do).

    ``tensor`` is a CPU, contiguous torch tensor (float32, float64, float16 or
    bfloat16) or a writable C-contiguous NumPy array; its memory is written directly,
    with autograd left out of it (as under ``torch.no_grad()``). The default layout is
    ``"oi"``, PyTorch's out x in, so fans are what ``torch.nn.init`` computes for the same
    tensor; pass ``layout="io"`` for a Keras/JAX-shaped array.

    With ``rng="torch"`` and a seed, the values equal ``torch.manual_seed(seed)``
    followed by the matching ``torch.nn.init`` call (kaiming_uniform_, xavier_normal_ ...).

    Example:
        >>> import numpy as np, weightinit as wi
        >>> w = np.empty((128, 784), dtype=np.float32)
        >>> wi.init_(w, "kaiming-uniform", seed=0, rng="torch") is w
        True
    """
    seed = _seed(seed)
    if _torch_tensor(tensor):
        import torch

        if tensor.device.type != "cpu":
            raise ValueError(f"init_ writes CPU tensors; this one is on {tensor.device}")
        if not tensor.is_contiguous():
            raise ValueError("init_ writes contiguous tensors; this one is not (call .contiguous() first)")
        if tensor.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
            raise ValueError(f"cannot fill a tensor of {tensor.dtype}: use float32, float64, float16 or bfloat16")
        with torch.no_grad():
            view = tensor.detach()
            if tensor.dtype == torch.bfloat16:
                bits = view.view(torch.int16).numpy().view(np.uint16)
                _weightinit.fill(bits, scheme, seed, name, layout, rng, True)
            else:
                _weightinit.fill(view.numpy(), scheme, seed, name, layout, rng, False)
        return tensor
    if isinstance(tensor, np.ndarray):
        if _bfloat16_array(tensor):
            _weightinit.fill(tensor.view(np.uint16), scheme, seed, name, layout, rng, True)
        else:
            _weightinit.fill(tensor, scheme, seed, name, layout, rng, False)
        return tensor
    raise ValueError(f"init_ fills a torch.Tensor or a numpy.ndarray, not {type(tensor).__name__}")


def _flag_value(key: str, value: Any) -> List[str]:
    """One keyword argument of write() as gen's flags."""
    flag = "--" + key.replace("_", "-")
    if value is None or value is False:
        return []
    if value is True:
        return [flag]
    if key == "shape":
        if isinstance(value, str):
            return [flag, value]
        if isinstance(value, (int, np.integer)) or (
            isinstance(value, (tuple, list)) and all(isinstance(d, (int, np.integer)) for d in value)
        ):
            value = [value]
        return [a for s in value for a in (flag, "x".join(str(d) for d in _shape(s)))]
    if key in ("rule", "rules", "name", "names") and isinstance(value, (list, tuple)):
        flag = "--rule" if key.startswith("rule") else "--name"
        return [a for v in value for a in (flag, str(v))]
    if key == "dtype":
        value = _dtype_name(value)
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    return [flag, str(value)]


def write(path: Union[str, "os.PathLike[str]"], scheme: Optional[str] = None, shape: Any = None, **options: Any) -> None:
    """Generate tensors straight to a file or directory, streaming in bounded memory.

    This is ``weightinit gen`` in this process: ``path`` is ``--output``, and every
    keyword argument is one of gen's flags with ``_`` for ``-`` (``seed=0`` is
    ``--seed 0``, ``hf_config="config.json"`` is ``--hf-config config.json``,
    ``max_shard_size="5GB"``, ``force=True``, ``rule=["*.bias=zeros", ...]``); a shape is
    a tuple, or a list of tuples for several tensors. Any source gen takes works: a
    scheme and shape, ``layers=``, ``spec=``, ``like=``, ``hf_config=``. The file is
    written to a temporary name and renamed when complete; an existing file is replaced
    only with ``force=True``. ``path`` is a directory when it ends with ``/``, already is
    one, or (for ``hf_config``) has no extension: a model goes there as
    ``model.safetensors`` (or its shards) beside a copy of config.json. No report is
    printed (``report="human"`` prints gen's).

    Example:
        >>> import weightinit as wi
        >>> wi.write("w.npy", "he-normal", (784, 128), seed=42)          # doctest: +SKIP
        >>> wi.write("model", hf_config="config.json", seed=0)          # doctest: +SKIP

    Ctrl-C stops the run at its next write and removes its temporary files before the
    KeyboardInterrupt propagates; nothing half-written is left.

    Raises:
        ValueError: bad arguments (the message is gen's, naming the flag).
        FileExistsError: the output exists and ``force`` was not given.
        OSError: the file system refused.
    """
    target = os.fspath(path)
    # gen takes a directory when the path ends with a separator; a Hugging Face model
    # always goes to one, and an existing directory is one.
    if (options.get("hf_config") is not None and not os.path.splitext(target)[1]) or os.path.isdir(target):
        target = os.path.join(target, "")
    args = ["weightinit", "gen", "--output", target]
    options.setdefault("report", "none")
    if scheme is not None:
        options["scheme"] = scheme
    if shape is not None:
        options["shape"] = shape
    for key, value in options.items():
        args += _flag_value(key, value)
    # The run goes on a worker thread so that Ctrl-C (KeyboardInterrupt, delivered to the
    # main thread) can stop it: cancel() fails its next write, which removes its
    # temporary files, and the interrupt is raised once it has stopped.
    outcome: List[BaseException] = []

    def run() -> None:
        try:
            _weightinit.run_quietly(args)
        except BaseException as e:  # handed to the caller's thread below
            outcome.append(e)

    worker = threading.Thread(target=run, name="weightinit-write")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.05)
    except KeyboardInterrupt:
        _weightinit.cancel()
        worker.join()
        raise
    if outcome:
        raise outcome[0]
