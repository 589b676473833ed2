#!/usr/bin/env python3
"""Live check of `--rng numpy` against the NumPy installed here (tests/interop/numpy_and_safetensors.rs).

Usage: check_numpy_mode.py RUNS.json, where RUNS.json lists weightinit runs:
[{"seed": 42, "tensors": [{"output": "path.npy", "equivalent": "w = rng...", "scheme": ...}]}]

For every run it creates rng = np.random.default_rng(seed) once and executes each
tensor's `equivalent` code (from weightinit's JSON report) in order, so the check covers
the documented expressions as well as the values. Elementwise tensors must be equal bit
for bit; orthogonal ones (LAPACK's QR vs faer's) within 1e-6. Prints "ok <path>" per
tensor; exits 1 on the first mismatch.
"""
import json
import sys

import numpy as np


def main():
    runs = json.load(open(sys.argv[1], encoding="utf-8"))
    for run in runs:
        rng = np.random.default_rng(run["seed"])
        for t in run["tensors"]:
            scope = {"np": np, "rng": rng}
            exec(t["equivalent"], scope)
            expected = scope["w"]
            got = np.load(t["output"])
            if got.shape != expected.shape or got.dtype != expected.dtype:
                sys.exit(f"{t['output']}: {got.dtype}{got.shape} vs NumPy {expected.dtype}{expected.shape}")
            if t["scheme"].startswith("orthogonal"):
                worst = float(np.abs(got.astype(np.float64) - expected.astype(np.float64)).max())
                if worst > 1e-6:
                    sys.exit(f"{t['output']}: max |diff| {worst:e} > 1e-6")
            else:
                width = np.uint32 if got.dtype == np.float32 else np.uint64
                differ = int((got.view(width) != expected.view(width)).sum())
                if differ:
                    sys.exit(f"{t['output']}: {differ} of {got.size} values differ from NumPy")
            print(f"ok {t['output']}")


if __name__ == "__main__":
    main()
