#!/usr/bin/env python3
"""Loads weightinit's .npz with NumPy and its .safetensors with the `safetensors` package
(tests/interop/numpy_and_safetensors.rs), and compares every tensor bit for bit with the .npy file of the
same name in a directory written by the same command.

Usage: check_containers.py DIR   (DIR holds model.npz, model.safetensors and files/)
Prints "ok npz N" and "ok safetensors N"; exits 1 on a mismatch. Without the safetensors
package it prints "SKIP safetensors: ..." and exits 3.
"""
import sys
from pathlib import Path

import numpy as np


def same(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def main():
    root = Path(sys.argv[1])
    files = {p.name[: -len(".npy")]: np.load(p) for p in (root / "files").glob("*.npy")}
    z = np.load(root / "model.npz")
    if sorted(z.files) != sorted(files):
        sys.exit(f"npz members {sorted(z.files)} vs files {sorted(files)}")
    for name, want in files.items():
        if not same(z[name], want):
            sys.exit(f"npz {name}: differs from {name}.npy")
    print(f"ok npz {len(files)}")
    try:
        from safetensors.numpy import load_file
    except ImportError as e:
        print(f"SKIP safetensors: {e}")
        sys.exit(3)
    tensors = load_file(str(root / "model.safetensors"))
    if sorted(tensors) != sorted(files):
        sys.exit(f"safetensors keys {sorted(tensors)} vs files {sorted(files)}")
    for name, want in files.items():
        if not same(tensors[name], want):
            sys.exit(f"safetensors {name}: differs from {name}.npy")
    print(f"ok safetensors {len(files)}")


if __name__ == "__main__":
    main()
