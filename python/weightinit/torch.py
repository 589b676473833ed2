"""weightinit for PyTorch tensors: fill them in place, check them.

``weightinit.init_`` and ``weightinit.verify`` take torch tensors too and come here for
them; import this module to say so in code that works on tensors only. torch itself is
imported only when a tensor is handled, so the package needs no torch to import (or to
type-check: a tensor is typed ``Any`` here).
"""

from __future__ import annotations

import sys
from typing import Any, Optional

import numpy as np

from . import _weightinit
from ._args import checked_seed
from ._arrays import verify_array
from ._torch_modules import ModuleReport, TensorDone, check_module, init_module
from ._torch_regions import Axes, check_fillable, fill_local, is_dtensor, region_of
from ._types import Layout, Stream, Verification
from .errors import InvalidArgument

__all__ = ["init_", "verify", "is_tensor", "init_module", "check_module", "ModuleReport", "TensorDone"]

#: A ``torch.Tensor``; ``Any`` so that the package type-checks where torch is not installed.
Tensor = Any


def is_tensor(x: object) -> bool:
    """Whether ``x`` is a torch.Tensor, without importing torch when it is not loaded
    (no tensor can exist before it is)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def init_(
    tensor: Tensor,
    scheme: str,
    *,
    seed: Optional[int] = None,
    name: str = "w0",
    layout: Layout = "oi",
    rng: Stream = "native",
) -> Tensor:
    """Fill a torch tensor in place with the values ``weightinit.generate`` draws for its
    shape, and return it, as ``torch.nn.init.*_`` do. Autograd is left out of it (as
    under ``torch.no_grad()``).

    - A contiguous CPU tensor (float32, float64, float16 or bfloat16) is written
      directly; any other tensor (a non-contiguous view, a CUDA tensor) through a
      bounded host buffer, piece by piece (pinned, copied asynchronously on CUDA).
    - A **DTensor** (any ``Shard``, ``_StridedShard`` or ``Replicate`` placement on any
      mesh, uneven shards too) receives, on each rank, the global tensor's elements at
      this rank's positions: fans come from the global shape, and the gathered tensor
      (``full_tensor()``) equals the tensor drawn on one device, bit for bit, at any
      parallelism. Give a ``seed``: every rank must draw from the same one.
    - A meta tensor has no memory: call ``module.to_empty(device=...)`` first.

    The default layout is ``"oi"``, PyTorch's out x in, so fans are those
    ``torch.nn.init`` computes; with ``rng="torch"`` and a seed the values equal
    ``torch.manual_seed(seed)`` and the matching ``torch.nn.init`` call (He et al. 2015
    for kaiming_uniform_: U(-b, b) with b = gain * sqrt(3 / fan_in)). With the native
    stream only this rank's elements are drawn; laws built as a whole matrix
    (orthogonal, sparse, identity, dirac) and the framework streams build the whole
    tensor on each rank first, within the memory budget.

    Example:
        >>> import torch, weightinit.torch as wt                         # doctest: +SKIP
        >>> lin = torch.nn.Linear(784, 128)                              # doctest: +SKIP
        >>> wt.init_(lin.weight, "kaiming-uniform", seed=0, rng="torch") is lin.weight  # doctest: +SKIP
        True
    """
    checked = checked_seed(seed)
    if not is_tensor(tensor):
        raise InvalidArgument(f"weightinit.torch.init_ fills a torch.Tensor, not {type(tensor).__name__}")
    if is_dtensor(tensor):
        if checked is None:
            raise InvalidArgument(
                f"initializing DTensor '{name}' needs seed=: every rank must draw from the same seed"
            )
        local, shape, axes = region_of(tensor)
    else:
        local, shape, axes = tensor, list(tensor.shape), None
    check_fillable(local, f"tensor '{name}'")

    def fill(out: Any, region: Optional[Axes], bf16: bool) -> str:
        return _weightinit.fill_region(out, scheme, shape, region, checked, name, layout, rng, bf16)

    fill_local(local, axes, fill)
    return tensor


def verify(tensor: Tensor, scheme: str, *, layout: Layout = "io", name: str = "array") -> Verification:
    """``weightinit.verify`` for a CPU torch tensor: whether its values look drawn from
    ``scheme`` for its shape (mean and variance within 5 standard errors, a
    Kolmogorov-Smirnov test, bounds, orthogonality ...); ``report["consistent"]`` is the
    answer.

    Example:
        >>> import torch, weightinit.torch as wt                         # doctest: +SKIP
        >>> t = wt.init_(torch.empty(128, 784), "he-normal", seed=0)   # doctest: +SKIP
        >>> wt.verify(t, "he-normal", layout="oi")["consistent"]        # doctest: +SKIP
        True
    """
    import torch

    if not is_tensor(tensor):
        raise InvalidArgument(f"weightinit.torch.verify reads a torch.Tensor, not {type(tensor).__name__}")
    t = tensor.detach()
    if t.device.type != "cpu":
        raise InvalidArgument(f"verify reads CPU tensors; this one is on {t.device} (call .cpu() first)")
    if t.dtype == torch.bfloat16:
        bits = t.contiguous().view(torch.int16).numpy().view(np.uint16)
        return verify_array(bits, scheme, layout, name, bfloat16=True)
    return verify_array(t.numpy(), scheme, layout, name, bfloat16=False)
