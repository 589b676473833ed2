# Type stubs for the extension module (python/src/lib.rs); the documented API is the
# package around it. Names are plain str here: the package's signatures carry the
# Literal types, and the extension checks the values itself.
from typing import Any, Dict, List, Optional, Tuple

import numpy.typing as npt

__version__: str

def generate(
    scheme: str,
    shape: List[int],
    seed: Optional[int] = None,
    name: str = "w0",
    layout: str = "io",
    rng: str = "native",
    dtype: str = "float32",
) -> npt.NDArray[Any]: ...
def fill(
    out: npt.NDArray[Any],
    scheme: str,
    seed: Optional[int] = None,
    name: str = "w0",
    layout: str = "io",
    rng: str = "native",
    bfloat16: bool = False,
) -> None: ...
def fill_region(
    out: npt.NDArray[Any],
    scheme: str,
    shape: List[int],
    axes: Optional[List[List[int]]] = None,
    seed: Optional[int] = None,
    name: str = "w0",
    layout: str = "io",
    rng: str = "native",
    bfloat16: bool = False,
) -> str: ...

class Tensors:
    """A model's tensors, resolved as gen resolves them, each fillable by region."""

    @staticmethod
    def from_options(options: Dict[str, Any]) -> Tensors: ...
    @staticmethod
    def from_rules(
        rules: List[Tuple[str, str]],
        tensors: List[Tuple[str, List[int], str]],
        seed: int,
        layout: str = "oi",
        rng: str = "native",
    ) -> Tensors: ...
    def __len__(self) -> int: ...
    def unmatched(self) -> List[str]: ...
    def entries(self) -> List[Tuple[str, List[int], str, str]]: ...
    def fill(
        self,
        index: int,
        out: npt.NDArray[Any],
        axes: Optional[List[List[int]]] = None,
        bfloat16: bool = False,
    ) -> str: ...

def resolve(
    scheme: str,
    shape: List[int],
    seed: Optional[int] = None,
    name: str = "w0",
    layout: str = "io",
    rng: str = "native",
    dtype: str = "float32",
) -> str: ...
def schemes() -> str: ...
def verify(
    values: npt.NDArray[Any],
    scheme: str,
    layout: str = "io",
    name: str = "array",
    bfloat16: bool = False,
) -> str: ...

class CancelToken:
    """The cancel handle of one write run."""

    def __init__(self) -> None: ...
    def cancel(self) -> bool: ...
    @property
    def committed(self) -> bool: ...

def write(output: str, options: Dict[str, Any], token: CancelToken) -> None: ...
def main(args: List[str]) -> int: ...
