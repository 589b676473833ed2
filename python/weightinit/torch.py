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

from ._args import checked_seed
from ._arrays import fill_array, verify_array
from ._types import Layout, Stream, Verification
from .errors import InvalidArgument

__all__ = ["init_", "verify", "is_tensor"]

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
    """Fill a CPU, contiguous torch tensor (float32, float64, float16 or bfloat16) in
    place with the values ``weightinit.generate`` draws for its shape, and return it, as
    ``torch.nn.init.*_`` do. Its memory is written directly, with autograd left out of
    it (as under ``torch.no_grad()``). The default layout is ``"oi"``, PyTorch's
    out x in, so fans are those ``torch.nn.init`` computes; with ``rng="torch"`` and a
    seed the values equal ``torch.manual_seed(seed)`` and the matching
    ``torch.nn.init`` call (He et al. 2015 for kaiming_uniform_: U(-b, b) with
    b = gain * sqrt(3 / fan_in)).

    Example:
        >>> import torch, weightinit.torch as wt                         # doctest: +SKIP
        >>> lin = torch.nn.Linear(784, 128)                              # doctest: +SKIP
        >>> wt.init_(lin.weight, "kaiming-uniform", seed=0, rng="torch") is lin.weight  # doctest: +SKIP
        True
    """
    import torch

    seed = checked_seed(seed)
    if not is_tensor(tensor):
        raise InvalidArgument(f"weightinit.torch.init_ fills a torch.Tensor, not {type(tensor).__name__}")
    if tensor.device.type != "cpu":
        raise InvalidArgument(f"init_ writes CPU tensors; this one is on {tensor.device}")
    if not tensor.is_contiguous():
        raise InvalidArgument("init_ writes contiguous tensors; this one is not (call .contiguous() first)")
    if tensor.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        raise InvalidArgument(f"cannot fill a tensor of {tensor.dtype}: use float32, float64, float16 or bfloat16")
    with torch.no_grad():
        view = tensor.detach()
        if tensor.dtype == torch.bfloat16:
            # NumPy has no bfloat16: the extension fills the bits through a uint16 view.
            bits = view.view(torch.int16).numpy().view(np.uint16)
            fill_array(bits, scheme, seed, name, layout, rng, bfloat16=True)
        else:
            fill_array(view.numpy(), scheme, seed, name, layout, rng, bfloat16=False)
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
