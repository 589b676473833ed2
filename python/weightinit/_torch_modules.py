"""Whole modules: ``init_module`` fills every parameter and buffer of an ``nn.Module`` by
name, each rank its own shard, and ``check_module`` compares a module with what
``init_module`` would put there, without gathering anything.

The laws come from the same source ``weightinit gen`` reads — a Hugging Face config (the
family rules of ``--hf-config``), a spec file, or name rules — resolved by the
extension (``_weightinit.Tensors``) against the *global* shapes, so a module filled
shard by shard on any number of ranks holds exactly the tensors of the file ``gen``
writes for the same source and seed.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, TypedDict, Union

from . import _weightinit
from ._args import checked_seed
from ._torch_regions import Axes, check_fillable, fill_local, host_view, is_dtensor, pieces, region_of
from ._types import PathLike
from .errors import InvalidArgument

Module = Any
Tensor = Any

#: A Hugging Face config: a path to config.json, its dict, or a transformers config
#: object (anything with ``to_json_string()``).
HFConfig = Union[PathLike, Mapping[str, Any], Any]


class TensorDone(TypedDict):
    """What ``init_module`` did to one parameter or buffer."""

    #: ``"drawn"`` (by ``law``), or ``"buffer"`` (a non-persistent buffer the model's own
    #: code recomputed, as eager construction does).
    kind: str
    #: The resolved law (``weightinit.resolve``'s ``distribution``) for drawn tensors.
    law: Optional[Dict[str, Any]]
    global_shape: List[int]
    local_shape: List[int]
    dtype: str
    #: ``"alone"``: only this rank's elements were drawn; ``"whole:BYTES"``: the law
    #: exists only as a whole matrix (orthogonal ...) and was built whole on this rank.
    drawn: str


class ModuleReport(TypedDict):
    """``init_module``'s result: per name what was done, and (with ``strict=False``)
    what could not be placed."""

    tensors: Dict[str, TensorDone]
    unplaced: List[str]


def init_module(
    module: Module,
    *,
    seed: int,
    hf_config: Optional[HFConfig] = None,
    spec: Optional[PathLike] = None,
    rules: Optional[Mapping[str, str]] = None,
    strict: bool = True,
    recipe: Optional[str] = None,
) -> ModuleReport:
    """Initialize every parameter and buffer of ``module`` in place, by name.

    The source of the laws is one of ``hf_config`` (a config.json path, dict or
    transformers config: the laws ``weightinit gen --hf-config`` gives each tensor),
    ``spec`` (a spec file) or ``rules`` (``{"*.weight": "he-normal", "*.bias":
    "zeros"}``, first match wins, shapes from the module); with none of them, a
    transformers model's own ``module.config``. ``recipe`` (with a config) replaces the
    laws transformers gives the weights it names by a pretraining codebase's init recipe
    (``"torchtitan"``, ``"megatron"``, ``"olmo-mitchell"``, …; ``weightinit recipes``
    lists them), as ``gen --hf-config --recipe`` does.

    Parameters may be DTensors (FSDP2 ``fully_shard``, tensor parallel, both): each rank
    fills only its shard, with fans from the global shape; the gathered model equals the
    one filled on one device, bit for bit, and the file ``gen`` writes. Tied parameters
    are filled once. Non-persistent buffers (RoPE ``inv_freq``, BERT ``position_ids``)
    are recomputed by the model's own ``_init_weights``, as eager construction computes
    them. Anything that cannot be placed — a parameter the source does not name, a
    tensor of the source the module lacks, a shape that differs — raises
    ``InvalidArgument`` naming it before any weight is drawn, or with ``strict=False`` is
    listed in the result's ``unplaced``.

    Example:
        >>> import torch, weightinit.torch as wt                              # doctest: +SKIP
        >>> net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.Linear(4, 2))  # doctest: +SKIP
        >>> wt.init_module(net, seed=0, rules={"*.weight": "he-normal", "*.bias": "zeros"})["unplaced"]  # doctest: +SKIP
        []
    """
    seed = _seed(seed)
    tensors, names = _source(module, seed, hf_config, spec, rules, recipe)
    copies = _retie(module)
    params, buffers = _named(module)
    unplaced: List[str] = []
    # Everything is placed before anything is drawn, so a refusal leaves the weights
    # as they were.
    plan: List[Tuple[int, str, Tensor, Any]] = []
    for index, (name, shape, _dtype, meta) in enumerate(tensors.entries()):
        if params.get(name, buffers.get(name)) is None:
            unplaced.append(f"{name} (in the source, not in the module)")
            continue
        # A tied parameter whose tie could not be restored gets the same values.
        for held in [name] + [t for t, source in copies.items() if source == name]:
            target = params.get(held, buffers.get(held))
            if target is None:
                continue
            placed_at = _placed(target, held)
            if placed_at[1] != list(shape):
                unplaced.append(f"{held} (module {tuple(placed_at[1])}, source {tuple(shape)})")
                continue
            check_fillable(placed_at[0], f"'{held}'")
            plan.append((index, held, placed_at, meta))
    placed = {held for _, held, _, _ in plan}
    unplaced += [f"{n} (no rule matches it)" for n in names]
    unplaced += [f"{n} (a parameter the source does not name)" for n in params if n not in placed and n not in names]
    buffers_left = [n for n in buffers if n not in placed]
    recomputed = list(_own_buffer_code(module, buffers_left, buffers))
    unplaced += [f"{n} (a buffer neither the source nor the model's _init_weights sets)" for n in buffers_left if n not in recomputed]
    if unplaced and strict:
        shown = ", ".join(unplaced[:8]) + (f" and {len(unplaced) - 8} more" if len(unplaced) > 8 else "")
        raise InvalidArgument(f"init_module cannot place {len(unplaced)} tensors: {shown} (strict=False lists them instead)")
    done: Dict[str, TensorDone] = {}
    for index, held, (local, global_shape, axes), meta in plan:

        def fill(out: Any, region: Optional[Axes], bf16: bool, index: int = index) -> str:
            return str(tensors.fill(index, out, region, bf16))

        done[held] = {
            "kind": "drawn",
            "law": json.loads(meta).get("distribution"),
            "global_shape": global_shape,
            "local_shape": list(local.shape),
            "dtype": str(local.dtype).replace("torch.", ""),
            "drawn": fill_local(local, axes, fill),
        }
    for name in recomputed:
        local, global_shape, _ = _placed(buffers[name], name)
        done[name] = {
            "kind": "buffer",
            "law": None,
            "global_shape": global_shape,
            "local_shape": list(local.shape),
            "dtype": str(local.dtype).replace("torch.", ""),
            "drawn": "alone",
        }
    return {"tensors": done, "unplaced": unplaced}


def check_module(
    module: Module,
    *,
    seed: int,
    hf_config: Optional[HFConfig] = None,
    spec: Optional[PathLike] = None,
    rules: Optional[Mapping[str, str]] = None,
    recipe: Optional[str] = None,
) -> List[str]:
    """The names of the parameters whose values differ, bit for bit, from what
    :func:`init_module` puts there for the same source and seed (an empty list: the
    module holds exactly those weights). Each rank draws and compares only its own
    shard, piece by piece in bounded host memory; nothing is gathered. Parameters the
    source does not name are not compared; tensors of the source the module lacks, or
    holds in another shape, are listed as mismatching.
    """
    import torch

    seed = _seed(seed)
    tensors, _ = _source(module, seed, hf_config, spec, rules, recipe)
    copies = _broken_ties(module)
    params, buffers = _named(module)
    differ: List[str] = []
    for index, (name, shape, _dtype, _meta) in enumerate(tensors.entries()):
        for held in [name] + [t for t, source in copies.items() if source == name]:
            target = params.get(held, buffers.get(held))
            if target is None or not _holds(tensors, index, target, held, list(shape)):
                differ.append(held)
    return differ


def _holds(tensors: Any, index: int, target: Tensor, name: str, shape: List[int]) -> bool:
    """Whether ``target`` (this rank's part) holds tensor ``index`` bit for bit, compared
    piece by piece in bounded host memory."""
    import torch

    local, global_shape, axes = _placed(target, name)
    if global_shape != shape:
        return False
    check_fillable(local, f"'{name}'")
    full = axes if axes is not None else [list(range(n)) for n in local.shape]
    with torch.no_grad():
        for piece, piece_axes in pieces(local, full, (16 << 20) // local.element_size()):
            want = torch.empty(piece.shape, dtype=piece.dtype)
            view, bf16 = host_view(want)
            tensors.fill(index, view, piece_axes, bf16)
            if not _same_bits(want, piece.detach().to("cpu").contiguous()):
                return False
    return True


def _same_bits(a: Tensor, b: Tensor) -> bool:
    """Equal bit for bit (NaNs and signed zeros compared as stored)."""
    import torch

    as_int = {2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
    return bool(torch.equal(a.view(as_int), b.view(as_int)))


def _retie(module: Module) -> Dict[str, str]:
    """Restores the ties ``to_empty`` broke, and returns those it could not restore.

    A transformers model ties parameters (its head to its embedding, BERT's decoder bias
    to the prediction bias): one ``nn.Parameter`` under two names, which the file ``gen``
    writes holds once. ``module.to_empty()`` allocates each name apart, so the two stop
    being one. For a plain module the model's own ``tie_weights()`` ties them again; for
    a sharded one (DTensor parameters) re-tying is the parallelizer's business, so the
    copies are returned (target name → source name) and receive the same values."""
    broken = _broken_ties(module)
    if not broken:
        return {}
    get = module.get_parameter
    if not any(is_dtensor(get(n)) for pair in broken.items() for n in pair) and hasattr(module, "tie_weights"):
        module.tie_weights()
    return _broken_ties(module)


def _broken_ties(module: Module) -> Dict[str, str]:
    """The ties of a transformers model (``all_tied_weights_keys``: target → source) whose
    two names no longer hold one parameter."""
    keys = getattr(module, "all_tied_weights_keys", None)
    if not keys:
        return {}

    def get(name: str) -> Any:
        try:
            return module.get_parameter(name)
        except AttributeError:
            return None

    return {t: s for t, s in dict(keys).items() if get(t) is not None and get(s) is not None and get(t) is not get(s)}


def _seed(seed: Optional[int]) -> int:
    checked = checked_seed(seed)
    if checked is None:
        raise InvalidArgument("init_module needs seed=: every rank must draw from the same seed")
    return checked


def _named(module: Module) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
    """Parameters (tied ones once, under their first name) and buffers, by name."""
    params = dict(module.named_parameters(remove_duplicate=True))
    buffers = dict(module.named_buffers(remove_duplicate=True))
    return params, buffers


def _placed(target: Tensor, name: str) -> Tuple[Tensor, List[int], Optional[Axes]]:
    """The local tensor, the global shape and the region of a parameter or buffer."""
    if is_dtensor(target):
        return region_of(target)
    return target, [int(n) for n in target.shape], None


def _source(
    module: Module,
    seed: int,
    hf_config: Optional[HFConfig],
    spec: Optional[PathLike],
    rules: Optional[Mapping[str, str]],
    recipe: Optional[str] = None,
) -> Tuple[Any, List[str]]:
    """The resolved tensors of the one source given (with the recipe, for a config),
    and the module's names no rule matched (rules only)."""
    given = [k for k, v in (("hf_config", hf_config), ("spec", spec), ("rules", rules)) if v is not None]
    if len(given) > 1:
        raise InvalidArgument(f"give one source of laws, not {' and '.join(given)}")
    if recipe is not None and (spec is not None or rules is not None):
        raise InvalidArgument("recipe= applies to a model config (hf_config= or the model's own), not to spec= or rules=")
    if rules is not None:
        params, buffers = _named(module)
        wanted = [
            (name, [int(n) for n in t.shape], str(t.dtype).replace("torch.", ""))
            for name, t in params.items()
            if str(t.dtype) in ("torch.float32", "torch.float64", "torch.float16", "torch.bfloat16")
        ]
        tensors = _weightinit.Tensors.from_rules(list(rules.items()), wanted, seed)
        return tensors, list(tensors.unmatched())
    if spec is not None:
        return _weightinit.Tensors.from_options({"spec": os.fspath(spec), "seed": str(seed)}), []
    if hf_config is None:
        hf_config = getattr(module, "config", None)
        if hf_config is None or not hasattr(hf_config, "to_json_string"):
            raise InvalidArgument(
                "init_module needs a source of laws: hf_config=, spec= or rules= "
                "(only a transformers model carries its own config)"
            )
    with _config_file(hf_config) as path:
        # A live transformers 5 model holds a mixture of experts' experts fused
        # (experts.gate_up_proj, experts.down_proj), not per expert as gen writes them
        # by default (save_pretrained's Hub layout): fill it from the fused layout.
        options = {"hf_config": path, "seed": str(seed), "hf_experts": "fused"}
        if recipe is not None:
            options["recipe"] = recipe
        return _weightinit.Tensors.from_options(options), []


class _config_file:
    """A config as a path: the path itself, or a temporary config.json of a dict or a
    transformers config, removed on exit."""

    def __init__(self, config: HFConfig) -> None:
        self.config = config
        self.temporary: Optional[str] = None

    def __enter__(self) -> str:
        if isinstance(self.config, (str, os.PathLike)):
            return os.fspath(self.config)
        if isinstance(self.config, Mapping):
            text = json.dumps(dict(self.config))
        elif hasattr(self.config, "to_json_string"):
            text = self.config.to_json_string(use_diff=False)
        else:
            raise InvalidArgument(
                f"hf_config must be a path, a dict or a transformers config, not {type(self.config).__name__}"
            )
        handle, self.temporary = tempfile.mkstemp(suffix=".json", prefix="weightinit-config-")
        with os.fdopen(handle, "w") as f:
            f.write(text)
        return self.temporary

    def __exit__(self, *exc: object) -> None:
        if self.temporary is not None:
            os.unlink(self.temporary)


def _own_buffer_code(module: Module, names: List[str], buffers: Dict[str, Tensor]) -> Iterator[str]:
    """Recomputes the buffers ``names`` with the model's own ``_init_weights`` (transformers
    resets non-persistent buffers there: RoPE ``inv_freq``, ``position_ids`` ...) and
    yields those it set. Parameters are flagged ``_is_hf_initialized`` meanwhile, so
    ``_init_weights`` leaves every weight as it is; the flags are restored after.

    A buffer counts as set when it no longer holds the marker written into it before
    (NaN for floats, the type's lowest value for integers): ``to_empty`` leaves garbage,
    which cannot be told from values."""
    import torch

    init_weights = getattr(module, "_init_weights", None)
    if not names or init_weights is None:
        return
    owners: Dict[int, Any] = {}
    by_module = {id(m): (prefix, m) for prefix, m in module.named_modules()}
    for name in names:
        prefix, _, leaf = name.rpartition(".")
        owner = module.get_submodule(prefix) if prefix else module
        owners[id(owner)] = owner
    markers: Dict[str, Any] = {}
    with torch.no_grad():
        for name in names:
            b = buffers[name]
            if b.device.type == "meta":
                continue
            marker = float("nan") if b.is_floating_point() else torch.iinfo(b.dtype).min if b.dtype != torch.bool else False
            b.fill_(marker)
            markers[name] = marker
        flagged = []
        for p in module.parameters():
            flagged.append((p, getattr(p, "_is_hf_initialized", None)))
            p._is_hf_initialized = True
        try:
            for key in owners:
                init_weights(by_module[key][1])
        finally:
            for p, before in flagged:
                if before is None:
                    del p._is_hf_initialized
                else:
                    p._is_hf_initialized = before
        for name, marker in markers.items():
            b = buffers[name]
            if isinstance(marker, float):
                untouched = bool(torch.isnan(b).all())
            else:
                untouched = bool((b == marker).all())
            if not untouched:
                yield name
