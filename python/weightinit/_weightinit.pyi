# Type stubs for the extension module; the documented API is weightinit/__init__.py.
from typing import List, Optional

import numpy as np

__version__: str

def generate(
    scheme: str,
    shape: List[int],
    seed: Optional[int] = None,
    name: str = "w0",
    layout: str = "io",
    rng: str = "native",
    dtype: str = "float32",
) -> np.ndarray: ...
def fill(
    out: np.ndarray,
    scheme: str,
    seed: Optional[int] = None,
    name: str = "w0",
    layout: str = "io",
    rng: str = "native",
    bfloat16: bool = False,
) -> None: ...
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
    values: np.ndarray,
    scheme: str,
    layout: str = "io",
    name: str = "array",
    bfloat16: bool = False,
) -> str: ...
def run_quietly(args: List[str]) -> None: ...
def cancel() -> None: ...
def main(args: List[str]) -> int: ...
