"""weightinit: initial weights for neural-network layers, exactly reproducible.

The same library as the ``weightinit`` command, with NumPy arrays in and out::

    import weightinit as wi
    w = wi.generate("he-normal", (784, 128), seed=42)   # == weightinit gen ... --seed 42
    wi.resolve("he-normal", (784, 128))["std"]           # 0.050507627227610534
    wi.verify(w, "he-normal")["consistent"]              # True

Every value equals the one ``weightinit gen`` writes for the same scheme, shape, seed,
name, layout, random stream and dtype. ``rng="numpy"`` reproduces
``np.random.default_rng(seed)``, ``rng="torch"`` PyTorch's CPU generator after
``torch.manual_seed(seed)``, ``rng="jax"`` ``jax.nn.initializers`` with
``jax.random.key(seed)`` and ``rng="keras"`` Keras 3's initializers with ``seed=seed``
(JAX backend), bit for bit.

The package: ``_arrays`` (generate, resolve, schemes, verify, init_ on NumPy arrays),
``torch`` (the same for torch tensors, DTensors included, and ``init_module`` /
``check_module`` for whole modules, public as ``weightinit.torch``; its parts are
``_torch_regions``, where a shard's values come from and how they reach the tensor, and
``_torch_modules``, modules by name), ``jax``
(init_array and init_tree: sharded ``jax.Array``s, each device's block drawn alone;
public as ``weightinit.jax``, which ``import weightinit`` does not load), ``_write``
(write, and its Ctrl-C handling), ``errors`` (the exception hierarchy), ``_types`` (the
argument and result types), ``_args`` (argument checks) and ``_weightinit`` (the Rust
extension).
"""

from __future__ import annotations

from . import _weightinit
from ._arrays import generate, init_, resolve, schemes, verify
from ._types import (
    Distribution,
    DTypeLike,
    DTypeName,
    Layout,
    SchemeInfo,
    ShapeLike,
    Stream,
    TensorMeta,
    Verification,
)
from ._write import write
from .errors import (
    FileError,
    InterruptedAfterWrite,
    InvalidArgument,
    MemoryBudgetExceeded,
    NumericalError,
    OutputExists,
    WeightinitError,
)

__version__: str = _weightinit.__version__

__all__ = [
    "generate",
    "resolve",
    "schemes",
    "verify",
    "init_",
    "write",
    "__version__",
    # exceptions
    "WeightinitError",
    "InvalidArgument",
    "FileError",
    "OutputExists",
    "MemoryBudgetExceeded",
    "NumericalError",
    "InterruptedAfterWrite",
    # types
    "Layout",
    "Stream",
    "DTypeName",
    "DTypeLike",
    "ShapeLike",
    "TensorMeta",
    "Distribution",
    "SchemeInfo",
    "Verification",
]

# The public functions live in submodules; they are documented (help(), reprs) as
# weightinit's own, and doctest.testmod(weightinit) runs their examples via __test__.
for _function in (generate, resolve, schemes, verify, init_, write):
    _function.__module__ = __name__
__test__ = {f.__name__: f for f in (generate, resolve, schemes, verify, init_, write)}
del _function
