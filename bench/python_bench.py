"""wi.generate against NumPy and PyTorch in one process: a he-normal 16384x16384 float32
array (1 GiB), drawn fresh each time.

    python bench/python_bench.py [--runs 7] [--size 16384]

Needs the package installed (pip install .); PyTorch is timed when importable. Each
contender is warmed up once (a process's first GiB from the OS is slow for everyone),
then the runs are interleaved so drift in the machine's speed hits all of them alike.
Prints best and median seconds and the ratios to weightinit, as a Markdown table.
"""

import argparse
import gc
import math
import statistics
import time

import numpy as np

import weightinit as wi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", type=int, default=16384)
    args = parser.parse_args()
    n = args.size
    std = math.sqrt(2.0 / n)  # he-normal: gain sqrt(2), fan_in n

    def weightinit_run(k):
        return wi.generate("he-normal", (n, n), seed=k)

    def numpy_run(k):
        return np.random.default_rng(k).standard_normal((n, n), dtype=np.float32) * np.float32(std)

    contenders = {"weightinit": weightinit_run, "numpy": numpy_run}
    try:
        import torch

        def torch_run(k):
            torch.manual_seed(k)
            return torch.nn.init.kaiming_normal_(torch.empty(n, n))

        contenders["torch"] = torch_run
        torch_note = f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        torch_note = "PyTorch not installed"

    times = {name: [] for name in contenders}
    for name, run in contenders.items():
        run(0)
        gc.collect()
    for k in range(args.runs):
        for name, run in contenders.items():
            start = time.perf_counter()
            out = run(k + 1)
            times[name].append(time.perf_counter() - start)
            del out
            gc.collect()

    base = min(times["weightinit"])
    print(f"he-normal {n}x{n} float32 ({n * n * 4 / 2**30:.2f} GiB), {args.runs} runs each; "
          f"weightinit {wi.__version__}, NumPy {np.__version__}, {torch_note}\n")
    print("| contender | best s | median s | best / weightinit's best | runs |")
    print("|---|---|---|---|---|")
    for name, ts in times.items():
        runs = " ".join(f"{t:.3f}" for t in ts)
        print(f"| {name} | {min(ts):.3f} | {statistics.median(ts):.3f} | {min(ts) / base:.1f}× | {runs} |")


if __name__ == "__main__":
    main()
