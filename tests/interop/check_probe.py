"""Recompute `weightinit probe` in NumPy and compare every per-layer number.

Usage: check_probe.py WEIGHTS.npz INPUT.npy GRADIENT.npy PROBE.json

WEIGHTS.npz is `weightinit gen --layers ... --bias none` (fcI.weight, in x out, f32),
INPUT.npy and GRADIENT.npy are `weightinit gen --scheme normal --dtype f64 --name
probe.input / probe.output-gradient` with the probe's seed, PROBE.json is `weightinit
probe --json` for one or more schemes (only the first scheme is checked; it must be the
one the weights were written with). The reference is written from the definitions in
src/probe/mod.rs (forward with the activation after every hidden layer, the last layer
linear; loss = sum(g * y); gradient = dloss/dz), in float64 NumPy.

Prints "ok" and exits 0 when every statistic agrees to 1e-4 relative and the counts
agree exactly; else prints the differences. (weightinit multiplies in float32 with
exact power-of-two rescaling, ~1e-6 relative per product; NumPy here in float64.)
"""

import json
import math
import sys

import numpy as np

SELU_ALPHA = 1.6732632423543772
SELU_LAMBDA = 1.0507009873554805


def activation(name, z):
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(np.float64)
    if name == "leaky-relu":
        return np.where(z > 0, z, 0.01 * z), np.where(z > 0, 1.0, 0.01)
    if name == "tanh":
        t = np.tanh(z)
        return t, 1.0 - t * t
    if name == "sigmoid":
        s = np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))
        return s, s * (1.0 - s)
    if name == "linear":
        return z, np.ones_like(z)
    if name == "selu":
        e = np.exp(np.minimum(z, 0.0))
        return (
            np.where(z > 0, SELU_LAMBDA * z, SELU_LAMBDA * SELU_ALPHA * (e - 1.0)),
            np.where(z > 0, SELU_LAMBDA, SELU_LAMBDA * SELU_ALPHA * e),
        )
    if name == "gelu":
        cdf = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))
        pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        return z * cdf, cdf + z * pdf
    raise SystemExit(f"unknown activation {name}")


MAX_SLOPE = {"relu": 1.0, "leaky-relu": 1.0, "tanh": 1.0, "linear": 1.0, "sigmoid": 0.25,
             "selu": SELU_LAMBDA * SELU_ALPHA}


def main():
    weights_path, input_path, gradient_path, probe_path = sys.argv[1:5]
    probe = json.load(open(probe_path))
    act = probe["activation"]
    stored = np.load(weights_path)
    depth = len(probe["widths"]) - 1
    weights = [stored[f"fc{i}.weight"].astype(np.float64) for i in range(depth)]
    x = np.load(input_path)
    g = np.load(gradient_path)
    max_slope = MAX_SLOPE.get(act)
    if max_slope is None:  # gelu: the slope's peak at sqrt(2)
        max_slope = activation("gelu", np.array([math.sqrt(2.0)]))[1][0]

    expected = []
    slopes = []
    h = x
    for i, w in enumerate(weights):
        z = h @ w
        dead = 0
        if i + 1 < depth:
            z, d = activation(act, z)
            slopes.append(d)
            dead = int(np.sum(np.all(np.abs(d) <= 1e-6 * max_slope, axis=0)))
        distinct = len({col.tobytes() for col in (z + 0.0).T})  # + 0.0 folds -0 into +0
        expected.append({
            "layer": i + 1,
            "width": z.shape[1],
            "activation_mean": float(z.mean()),
            "activation_variance": float(z.var()),
            "dead_fraction": dead / z.shape[1],
            "distinct_units": distinct,
        })
        h = z
    delta = g
    for i in range(depth - 1, -1, -1):
        expected[i]["gradient_variance"] = float(delta.var())
        if i > 0:
            delta = (delta @ weights[i].T) * slopes[i - 1]

    problems = []
    got_layers = probe["schemes"][0]["layers"]
    if abs(probe["input_variance"] - float(x.var())) > 1e-12 * float(x.var()):
        problems.append(f"input variance {probe['input_variance']} vs {x.var()}")
    for want, got in zip(expected, got_layers):
        for key, value in want.items():
            have = got[key]
            if isinstance(value, int) and not isinstance(value, bool) and key != "dead_fraction":
                if have != value:
                    problems.append(f"layer {want['layer']} {key}: {have} vs {value}")
            else:
                scale = max(abs(value), 1e-300)
                if key == "activation_mean":  # cancellation: judge against the spread
                    scale = max(scale, math.sqrt(want["activation_variance"]))
                if have is None or abs(have - value) > 1e-4 * scale + 1e-300:
                    problems.append(f"layer {want['layer']} {key}: {have} vs {value}")
    if len(expected) != len(got_layers):
        problems.append(f"{len(got_layers)} layers vs {len(expected)}")
    if problems:
        print("\n".join(problems[:20]))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
