"""Where a torch tensor's values come from in its global tensor, and how they get there.

- :func:`region_of`: a DTensor's local tensor holds the global tensor's elements at the
  Cartesian product of one index list per axis. The lists are found by applying the
  DTensor's own placements (``Shard``, ``_StridedShard`` — FSDP2 over tensor parallel —,
  ``Replicate``) to each axis's index range with torch's own splitting code, on every
  mesh dimension in the order DTensor applies them, so uneven shards, empty shards and
  multi-dimensional meshes follow torch's rules exactly (``torch.chunk``'s sizes).
- :func:`fill_local`: writes the drawn values into the local tensor: straight into its
  memory when it is a contiguous CPU tensor; otherwise through a bounded host buffer
  (pinned, copied asynchronously, for CUDA), piece by piece, so a rank never holds more
  than its shard plus :data:`STAGING_BYTES` twice.

torch is imported lazily: no function here runs before a tensor exists.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Optional, Tuple

import numpy as np

from .errors import InvalidArgument

Tensor = Any

#: Axes of a region: for each axis of the global tensor, the global indices held.
Axes = List[List[int]]

#: Fills a host array (the local values of a region; bfloat16 as uint16 bits when the
#: flag is set) and says how it was made ("alone" or "whole:BYTES").
Filler = Callable[[Any, Optional[Axes], bool], str]

#: Bytes of one host staging buffer; two alternate (one copying while the other fills).
STAGING_BYTES = 16 << 20


def is_dtensor(tensor: Tensor) -> bool:
    """Whether ``tensor`` is a DTensor, without importing torch.distributed otherwise."""
    import sys

    module = sys.modules.get("torch.distributed.tensor")
    dtensor = getattr(module, "DTensor", None) if module is not None else None
    return dtensor is not None and isinstance(tensor, dtensor)


def region_of(dtensor: Tensor) -> Tuple[Tensor, List[int], Optional[Axes]]:
    """The local tensor of ``dtensor``, the global shape, and the global indices the local
    tensor holds along each axis (``None``: every index, the local tensor is the whole).
    """
    from torch.distributed.tensor.placement_types import Partial, Replicate, Shard

    try:
        from torch.distributed.tensor.placement_types import _StridedShard
    except ImportError:  # torch before _StridedShard: nothing to handle
        _StridedShard = ()  # type: ignore[misc, assignment]
    import torch

    local = dtensor._local_tensor
    shape = [int(n) for n in dtensor.shape]
    mesh = dtensor.device_mesh
    placements = tuple(dtensor.placements)
    coordinate = mesh.get_coordinate()
    if coordinate is None:  # this rank is not in the mesh: it holds nothing
        return local, shape, [[] for _ in shape]
    for p in placements:
        if isinstance(p, Partial):
            raise InvalidArgument(
                f"cannot initialize a DTensor with a Partial placement ({placements}): its local "
                "tensors are summed, so no rank holds values of its own; redistribute to "
                "Shard or Replicate first"
            )
        if not isinstance(p, (Shard, _StridedShard, Replicate)):
            raise InvalidArgument(f"cannot initialize a DTensor placed as {p!r}: Shard, _StridedShard or Replicate")
    indices = [torch.arange(n) for n in shape]
    for mesh_dim, placement in _in_order(dtensor, placements):
        # _StridedShard is no subclass of Shard in recent torch: test for both.
        if not isinstance(placement, (Shard, _StridedShard)):
            continue
        axis = placement.dim if placement.dim >= 0 else placement.dim + len(shape)
        # The same split on the axis's index list alone (as axis 0 of a 1-D tensor).
        if isinstance(placement, _StridedShard):
            along: Any = _StridedShard(0, split_factor=placement.split_factor)
        else:
            along = Shard(0)
        pieces = along._split_tensor(indices[axis], mesh.size(mesh_dim), with_padding=False)[0]
        indices[axis] = pieces[coordinate[mesh_dim]]
    axes = [ix.tolist() for ix in indices]
    if list(local.shape) != [len(a) for a in axes]:
        raise InvalidArgument(
            f"cannot place this rank's {tuple(local.shape)} shard of a {tuple(shape)} DTensor "
            f"({placements}): its placements give {tuple(len(a) for a in axes)}"
        )
    if all(a == list(range(n)) for a, n in zip(axes, shape)):
        return local, shape, None
    return local, shape, axes


def _in_order(dtensor: Tensor, placements: Tuple[Any, ...]) -> List[Tuple[int, Any]]:
    """(mesh dimension, placement) in the order DTensor applies them: left to right,
    unless the spec carries an explicit ``shard_order`` (torch 2.9 and later) that says
    which mesh dimension cuts an axis first."""
    spec = getattr(dtensor, "_spec", None)
    order = getattr(spec, "shard_order", None)
    if not order or getattr(spec, "use_strided_shard_as_shard_order", True):
        return list(enumerate(placements))
    ordered = [(m, placements[m]) for entry in order for m in entry.mesh_dims]
    return ordered + [(m, p) for m, p in enumerate(placements) if all(m != o for o, _ in ordered)]


def host_view(tensor: Tensor) -> Tuple[Any, bool]:
    """A NumPy view of a contiguous CPU tensor's memory, and whether it holds bfloat16
    bits (NumPy has no bfloat16: they are seen as uint16)."""
    import torch

    t = tensor.detach()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16), True
    return t.numpy(), False


FLOAT_DTYPES = ("torch.float32", "torch.float64", "torch.float16", "torch.bfloat16")


def check_fillable(tensor: Tensor, what: str) -> None:
    """Refuses, in one line, a tensor that cannot receive values: meta, or not a float."""
    if tensor.device.type == "meta":
        raise InvalidArgument(
            f"{what} is on the meta device and has no memory to fill: call "
            "module.to_empty(device=...) first (after parallelizing), then initialize"
        )
    if str(tensor.dtype) not in FLOAT_DTYPES:
        raise InvalidArgument(f"cannot fill {what} of {tensor.dtype}: use float32, float64, float16 or bfloat16")


def fill_local(local: Tensor, axes: Optional[Axes], fill: Filler) -> str:
    """Writes the values ``fill`` draws for the region ``axes`` into ``local`` (see the
    module's docstring for the two ways); returns how they were made."""
    import torch

    with torch.no_grad():
        if local.numel() == 0:
            return "alone"
        if local.device.type == "cpu" and local.is_contiguous():
            view, bf16 = host_view(local)
            return fill(view, axes, bf16)
        return _staged(local, axes, fill)


def _staged(local: Tensor, axes: Optional[Axes], fill: Filler) -> str:
    """Fills ``local`` piece by piece through two alternating host buffers of
    :data:`STAGING_BYTES`: pinned memory and asynchronous copies on CUDA (the next piece
    is drawn while the last one is copied; a buffer is reused only after its copy's
    event), plain memory and ordinary copies elsewhere (a CPU view, another device)."""
    import torch

    full = axes if axes is not None else [list(range(n)) for n in local.shape]
    cuda = local.device.type == "cuda"
    size = local.element_size()
    buffers = [
        torch.empty(STAGING_BYTES, dtype=torch.uint8, pin_memory=cuda),
        torch.empty(STAGING_BYTES, dtype=torch.uint8, pin_memory=cuda),
    ]
    events: List[Any] = [None, None]
    how = "alone"
    for k, (piece, piece_axes) in enumerate(pieces(local, full, STAGING_BYTES // size)):
        b = k % 2
        if events[b] is not None:
            events[b].synchronize()
        staging = buffers[b][: piece.numel() * size].view(local.dtype).view(piece.shape)
        view, bf16 = host_view(staging)
        made = fill(view, piece_axes, bf16)
        if made != "alone":
            how = made
        piece.copy_(staging, non_blocking=cuda)
        if cuda:
            event: Any = getattr(torch.cuda, "Event")()  # typed Any: torch may lack stubs
            event.record()
            events[b] = event
    for event in events:
        if event is not None:
            event.synchronize()
    return how


def pieces(local: Tensor, axes: Axes, limit: int, axis: int = 0) -> Iterator[Tuple[Tensor, Axes]]:
    """``local`` cut into views of at most ``limit`` elements (one element's worth more
    only where a single index already exceeds it), each with its region: along the
    first axis while a slice along it fits, then further axes."""
    n = local.numel()
    if n <= limit or axis >= local.dim():
        yield local, axes
        return
    count = local.shape[axis]
    per_index = n // count
    if per_index > limit:
        for i in range(count):
            sub = axes[:axis] + [[axes[axis][i]]] + axes[axis + 1 :]
            yield from pieces(local.narrow(axis, i, 1), sub, limit, axis + 1)
        return
    step = max(1, limit // per_index)
    for i in range(0, count, step):
        j = min(count, i + step)
        yield local.narrow(axis, i, j - i), axes[:axis] + [axes[axis][i:j]] + axes[axis + 1 :]
