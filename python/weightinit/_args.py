"""Normalizing the arguments every function takes (shapes, seeds, dtypes) before they
cross into the extension, with the package's one-line errors."""

from __future__ import annotations

from typing import Any, List, Optional

import numpy as np

from ._types import DTypeLike, ShapeLike
from .errors import InvalidArgument


def shape_dims(shape: ShapeLike) -> List[int]:
    """A shape as a list of ints: an int is one axis; numpy integers and the command
    line's text ("784x128") are accepted."""
    items: Any = shape
    if isinstance(items, (int, np.integer)):
        items = (items,)
    try:
        if isinstance(items, str):
            items = items.split("x")
        dims = [int(d) for d in items]
    except (TypeError, ValueError):
        raise InvalidArgument(f"invalid shape {shape!r}: give a tuple of positive ints, e.g. (784, 128)") from None
    for d in dims:
        if d < 0:
            raise InvalidArgument(f"invalid shape {tuple(dims)}: dimension {d} is negative")
    return dims


def checked_seed(seed: Optional[int]) -> Optional[int]:
    """The seed as an int in 0..2**64-1, or None (a fresh one from the operating system)."""
    if seed is None:
        return None
    seed = int(seed)
    if not 0 <= seed < 2**64:
        raise InvalidArgument(f"invalid seed {seed}: use an integer from 0 to 2**64-1")
    return seed


def dtype_name(dtype: DTypeLike) -> str:
    """'float32', np.float32, np.dtype('float16'), ml_dtypes.bfloat16 -> a name the library takes."""
    if isinstance(dtype, str):
        return dtype
    try:
        return str(np.dtype(dtype).name)
    except TypeError:
        raise InvalidArgument(f"invalid dtype {dtype!r}: use float32, float64, float16 or bfloat16") from None
