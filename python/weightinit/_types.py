"""The types of weightinit's arguments and of the dictionaries it returns.

The ``Literal`` types list the names the Rust side accepts (``parse_choice`` in
``python/src/lib.rs`` over the enums' clap names and aliases). The extension ignores case,
so ``"FLOAT32"`` works at run time too; the types name the lowercase spellings only.

The ``TypedDict`` types mirror the serde structs whose JSON the extension returns:
``resolve`` gives ``TensorMeta`` (``src/tensor/mod.rs``), ``verify`` gives
``Verification`` (``src/inspect/verify/``), ``schemes`` a list of ``SchemeInfo``
(``src/cli/schemes_cmd.rs``). A Rust ``Option`` is serialized as ``null``, so it is
``Optional`` here; a field serde leaves out (``skip_serializing_if``) sits in a
``total=False`` class, since ``NotRequired`` needs Python 3.11 and the package supports 3.9.
"""

from __future__ import annotations

import os
from typing import Any, List, Literal, Optional, Sequence, TypedDict, Union

import numpy as np

# --- arguments -------------------------------------------------------------------------

#: How a shape's axes map to inputs and outputs: ``"io"`` (in x out: Keras, JAX,
#: TensorFlow; aliases ``"keras"``, ``"jax"``, ``"tf"``) or ``"oi"`` (out x in: PyTorch;
#: aliases ``"torch"``, ``"pytorch"``).
Layout = Literal["io", "oi", "keras", "jax", "tf", "torch", "pytorch"]

#: The random stream: weightinit's own (``"native"``) or a framework's, bit for bit.
Stream = Literal["native", "numpy", "torch", "jax", "keras"]

#: A float type by name: ``float32`` (``f32``), ``float64`` (``f64``), ``float16``
#: (``f16``, ``half``) or ``bfloat16`` (``bf16``).
DTypeName = Literal["float32", "float64", "float16", "bfloat16", "f32", "f64", "f16", "half", "bf16"]

#: A dtype as a name, a NumPy dtype or a scalar type (``np.float32``, ``ml_dtypes.bfloat16``).
DTypeLike = Union[DTypeName, "np.dtype[Any]", type]

#: A shape: an int (one axis), a sequence of ints, or the command line's ``"784x128"``.
# (Subscripted NumPy types are strings: NumPy before 1.22 cannot subscript them at run time.)
ShapeLike = Union[int, "np.integer[Any]", Sequence[Union[int, "np.integer[Any]"]], str]

#: A file system path, as ``open`` takes it.
PathLike = Union[str, "os.PathLike[str]"]

# --- what the functions return ---------------------------------------------------------

#: How a dtype is written in reports (serde's lowercase of the Rust enum).
StoredDType = Literal["f32", "f64", "f16", "bf16"]

#: How a layout is written in reports.
StoredLayout = Literal["io", "oi"]


class Constant(TypedDict):
    kind: Literal["constant"]
    value: float


class Uniform(TypedDict):
    kind: Literal["uniform"]
    low: float
    high: float


class Normal(TypedDict):
    kind: Literal["normal"]
    mean: float
    std: float


class TruncatedNormal(TypedDict):
    """A normal of ``mean`` and ``std`` (before truncation) restricted to [low, high]."""

    kind: Literal["truncated-normal"]
    mean: float
    std: float
    low: float
    high: float


class _OrthogonalFields(TypedDict):
    kind: Literal["orthogonal"]
    gain: float


class Orthogonal(_OrthogonalFields, total=False):
    """``gain`` x a random (semi-)orthogonal matrix; ``blocks`` is present when above 1
    (one orthogonal matrix per block of the output side, as for LSTM gates)."""

    blocks: int


class Identity(TypedDict):
    kind: Literal["identity"]
    gain: float


class Dirac(TypedDict):
    kind: Literal["dirac"]
    gain: float
    groups: int


class DeltaOrthogonal(TypedDict):
    kind: Literal["delta-orthogonal"]
    gain: float


class LstmBias(TypedDict):
    kind: Literal["lstm-bias"]
    forget: float


class Sparse(TypedDict):
    """N(0, std^2) with ``zeros`` of each input unit's ``out`` weights set to 0."""

    kind: Literal["sparse"]
    std: float
    sparsity: float
    zeros: int
    out: int


#: The law every element (or the whole matrix) is drawn from; ``kind`` tells which.
Distribution = Union[
    Constant, Uniform, Normal, TruncatedNormal, Orthogonal, Identity, Dirac, DeltaOrthogonal, LstmBias, Sparse
]


class _TensorMetaFields(TypedDict):
    name: str
    shape: List[int]
    dtype: StoredDType
    layout: StoredLayout
    #: The canonical scheme, e.g. ``"he-normal:mode=fan-out"``.
    scheme: str
    scheme_name: str
    params: Any
    fan_in: Optional[int]
    fan_out: Optional[int]
    receptive_field: Optional[int]
    gain: Optional[float]
    fan_mode: Optional[str]
    fan: Optional[float]
    distribution: Distribution
    std: Optional[float]
    bound: Optional[float]
    seed: int
    rng: Stream
    stream: str
    generator: str


class TensorMeta(_TensorMetaFields, total=False):
    """What ``resolve`` returns: the metadata ``weightinit gen`` stores with a tensor.
    ``equivalent`` (the framework code that draws the same values) is present for the
    framework streams only."""

    equivalent: str


class SchemeInfo(TypedDict):
    """One row of ``schemes()``."""

    name: str
    aliases: List[str]
    params: List[str]
    formula: str
    #: As text: ``"sqrt(2)"``, ``"1"``, ``"-"`` for schemes without a gain.
    default_gain: str
    suits: str


class Theory(TypedDict):
    """The moments and support the law says the values should show."""

    mean: float
    variance: float
    std: float
    low: Optional[float]
    high: Optional[float]


class Observed(TypedDict):
    """Summary statistics of the values (``variance`` divides by n)."""

    mean: float
    variance: float
    min: float
    max: float


class Check(TypedDict):
    """One check of one tensor, with every number it used."""

    check: str
    status: Literal["pass", "fail", "skipped"]
    observed: Optional[float]
    expected: Optional[float]
    statistic: Optional[float]
    limit: Optional[float]
    detail: str


class TensorVerdict(TypedDict):
    name: str
    shape: List[int]
    dtype: StoredDType
    count: int
    distribution: Distribution
    fan_in: Optional[int]
    fan_out: Optional[int]
    receptive_field: Optional[int]
    gain: Optional[float]
    fan: Optional[float]
    theory: Optional[Theory]
    observed: Observed
    variance_resolution: Optional[float]
    checks: List[Check]
    notes: List[str]
    consistent: bool


class Skipped(TypedDict):
    name: str
    reason: str


class Limits(TypedDict):
    """The thresholds the checks used."""

    z: float
    ks_p: float
    chance_repeats: float


class Verification(TypedDict):
    """What ``verify`` returns: ``consistent`` is the answer, ``reason`` the first failed
    check (``None`` when consistent)."""

    file: str
    scheme: str
    layout: StoredLayout
    consistent: bool
    reason: Optional[str]
    tensors: List[TensorVerdict]
    skipped: List[Skipped]
    limits: Limits
