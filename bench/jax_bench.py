"""`--rng jax` against JAX itself in one process: 100M float32 normals
(`jax.random.normal(jax.random.key(seed), (n,), jnp.float32)`), drawn fresh each time.

    python bench/jax_bench.py [--runs 7] [--n 100000000]

Needs jax and the weightinit package (pip install .) in the same environment. JAX's
function is compiled once before timing (its first call includes compilation) and timed
to `block_until_ready()`; weightinit's `generate(..., rng="jax")` returns a NumPy array.
The runs are interleaved so drift in the machine's speed hits both alike, and the first
run's values are compared bit for bit. Prints best and median seconds and the ratio as a
Markdown table.
"""

import argparse
import gc
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import weightinit as wi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--n", type=int, default=100_000_000)
    args = parser.parse_args()
    n = args.n

    def jax_run(seed):
        return jax.random.normal(jax.random.key(seed), (n,), jnp.float32).block_until_ready()

    def weightinit_run(seed):
        return wi.generate("normal", (n,), seed=seed, rng="jax")

    # Compile JAX's kernel, warm both up, and check they agree.
    theirs = np.asarray(jax_run(0))
    ours = weightinit_run(0)
    same = np.array_equal(theirs.view(np.uint32), ours.view(np.uint32))
    del theirs, ours
    gc.collect()
    times = {"weightinit --rng jax": [], "jax.random.normal": []}
    for k in range(args.runs):
        for name, run in (("weightinit --rng jax", weightinit_run), ("jax.random.normal", jax_run)):
            start = time.perf_counter()
            result = run(k + 1)
            times[name].append(time.perf_counter() - start)
            del result
            gc.collect()
    print(f"{n} float32 normals, {args.runs} runs each, jax {jax.__version__}; "
          f"values identical: {same}")
    print("| contender | best s | median s | best vs weightinit |")
    print("|---|---|---|---|")
    base = min(times["weightinit --rng jax"])
    for name, ts in times.items():
        print(f"| {name} | {min(ts):.3f} | {statistics.median(ts):.3f} | {min(ts) / base:.2f}x |")


if __name__ == "__main__":
    main()
