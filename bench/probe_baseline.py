"""The work of `weightinit probe` in NumPy (float64, OpenBLAS matrix products), as the
speed baseline of bench/probe.sh.

Usage: probe_baseline.py LAYERS BATCH SCHEMES [float64|float32]   e.g. 784-512x50-10 1024 5

float32 multiplies float32 copies of the signal by the float32 weights, as weightinit
does (without its power-of-two rescaling, so exploding runs overflow to inf here; the
timing is what this measures), and keeps the signals and statistics in float64.

Per scheme: draw the weights (standard normals scaled by a per-scheme std; the five
issue-6 schemes all draw normals or zeros), forward with ReLU after every hidden layer,
per-layer mean/variance, dead and distinct units, backward from a standard-normal
output gradient with per-layer gradient variance. Same matrix products and
elementwise passes as weightinit's probe; the statistics are not compared here
(tests/interop/check_probe.py does that on shared weights).
"""

import sys
import warnings
import time

import numpy as np


def widths_of(text):
    out = []
    for token in text.split("-"):
        w, _, k = token.partition("x")
        out += [int(w)] * int(k or 1)
    return out


def main():
    warnings.simplefilter("ignore")  # overflow in the float32 variant is expected
    widths = widths_of(sys.argv[1])
    batch = int(sys.argv[2])
    schemes = int(sys.argv[3])
    products = sys.argv[4] if len(sys.argv) > 4 else "float64"
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    x = rng.standard_normal((batch, widths[0]))
    g = rng.standard_normal((batch, widths[-1]))
    stds = [lambda a, b: (2 / a) ** 0.5, lambda a, b: (2 / (a + b)) ** 0.5,
            lambda a, b: 0.01, lambda a, b: 1.0, lambda a, b: 0.0]
    for s in range(schemes):
        std = stds[s % len(stds)]
        ws = [(rng.standard_normal((a, b), dtype=np.float32) * np.float32(std(a, b)))
              for a, b in zip(widths[:-1], widths[1:])]
        if products == "float64":
            ws = [w.astype(np.float64) for w in ws]

        def mul(h, w):
            if products == "float64":
                return h @ w
            return (h.astype(np.float32) @ w).astype(np.float64)

        h = x
        slopes = []
        stats = []
        for i, w in enumerate(ws):
            z = mul(h, w)
            if i + 1 < len(ws):
                d = (z > 0).astype(np.float64)
                z = np.maximum(z, 0.0)
                slopes.append(d)
                dead = int(np.sum(~d.any(axis=0)))
            else:
                dead = 0
            distinct = len({col.tobytes() for col in np.asfortranarray(z).T})
            stats.append((z.mean(), z.var(), dead, distinct))
            h = z
        delta = g
        for i in range(len(ws) - 1, 0, -1):
            delta = mul(delta, ws[i].T) * slopes[i - 1]
            stats[i - 1] += (delta.var(),)
    print(f"{time.perf_counter() - started:.3f}")


if __name__ == "__main__":
    main()
