#!/usr/bin/env python3
"""Load the MLP written by examples/mlp.sh and push a batch through it.

    examples/mlp.sh mlp && python3 examples/load_mlp.py mlp

Prints each layer's shape, weight std vs the He formula sqrt(2/fan_in), and the
activation variance layer by layer: with He init and ReLU it stays of the same order
instead of shrinking or growing geometrically. Needs NumPy.
"""
import sys
from pathlib import Path

import numpy as np

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "mlp")
layers = []
i = 0
while (folder / f"fc{i}.weight.npy").exists():
    w = np.load(folder / f"fc{i}.weight.npy")
    b = np.load(folder / f"fc{i}.bias.npy")
    layers.append((w, b))
    i += 1
if not layers:
    sys.exit(f"no fc0.weight.npy in {folder}; run examples/mlp.sh {folder} first")

rng = np.random.default_rng(0)
x = rng.standard_normal((4096, layers[0][0].shape[0])).astype(np.float32)
print(f"input: mean square {np.mean(x**2):.3f}")
for i, (w, b) in enumerate(layers):
    fan_in = w.shape[0]
    z = x @ w + b
    print(f"fc{i}: {w.shape} {w.dtype}  weight std {w.std():.5f} "
          f"(He: {np.sqrt(2 / fan_in):.5f})  pre-activation variance {z.var():.3f}")
    x = np.maximum(z, 0) if i < len(layers) - 1 else z
