#!/usr/bin/env python3
"""Issue 24's figures: `weightinit.torch.init_module` on N CPU ranks against what people run
today, side by side in one run.

    python bench/init_module_bench.py [--config bench/configs/tinyllama-1.1b.json]
                                      [--ranks 1,2,4] [--runs 3] [--threads 1]

For each N in --ranks, torchrun starts N ranks (gloo); each builds the model on the meta
device, shards it with FSDP2 (`fully_shard` per layer and at the root; N = 1: no
sharding), calls `to_empty(device="cpu")`, and then, timed separately and alternately:

- weightinit: `init_module(model, seed=k)` — each rank draws only its shard;
- torchtitan-style: each rank's local shard of every parameter through torch's own
  `trunc_normal_` (std 0.02, ±2σ: torchtitan's Llama `init_weights`), norms `ones_`.

Then, in one process (N = 1), transformers' own way, `AutoModelForCausalLM.from_config`
(torch's default inits in construction order, then `_init_weights`: `normal_` per
weight).

Each rank reports wall seconds (perf_counter) and CPU seconds (process_time, all its
threads). Every contender gets --threads threads per rank (torch.set_num_threads and
RAYON_NUM_THREADS), so N ranks on N cores is a fair split; beyond the machine's cores
ranks share cores and wall time stops falling, which the CPU seconds still show. Prints
Markdown tables: best and median over --runs of the slowest rank's time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def worker(config_dir: str, runs: int, threads: int, out: str) -> None:
    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor import DTensor
    from transformers import AutoConfig, AutoModelForCausalLM

    import weightinit.torch as wt

    torch.set_num_threads(threads)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    config = AutoConfig.from_pretrained(config_dir)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    if world > 1:
        mesh = init_device_mesh("cpu", (world,))
        for layer in model.model.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
    model.to_empty(device="cpu")
    local_elements = sum(
        (p._local_tensor if isinstance(p, DTensor) else p).numel() for p in model.parameters()
    )

    def torchtitan_style() -> None:
        with torch.no_grad():
            for name, p in model.named_parameters():
                local = p._local_tensor if isinstance(p, DTensor) else p
                if "norm" in name:
                    local.fill_(1.0)
                else:
                    torch.nn.init.trunc_normal_(local, mean=0.0, std=0.02, a=-0.04, b=0.04)

    times: dict = {"weightinit": [], "torchtitan-style": []}
    for k in range(runs):
        for contender in ("weightinit", "torchtitan-style"):
            dist.barrier()
            w0, c0 = time.perf_counter(), time.process_time()
            if contender == "weightinit":
                wt.init_module(model, seed=k)
            else:
                torchtitan_style()
            w1, c1 = time.perf_counter(), time.process_time()
            times[contender].append((w1 - w0, c1 - c0))
    gathered = [None] * world
    dist.all_gather_object(gathered, {"times": times, "local_elements": local_elements})
    if rank == 0:
        Path(out).write_text(json.dumps(gathered))
    dist.barrier()
    dist.destroy_process_group()


def from_config_times(config_dir: str, runs: int, threads: int) -> list:
    code = f"""
import time, torch, json
from transformers import AutoConfig, AutoModelForCausalLM
torch.set_num_threads({threads})
config = AutoConfig.from_pretrained({config_dir!r})
out = []
for k in range({runs}):
    torch.manual_seed(k)
    w0, c0 = time.perf_counter(), time.process_time()
    model = AutoModelForCausalLM.from_config(config)
    out.append((time.perf_counter() - w0, time.process_time() - c0))
    del model
print(json.dumps(out))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def summary(pairs: list) -> tuple:
    walls = [w for w, _ in pairs]
    cpus = [c for _, c in pairs]
    return min(walls), statistics.median(walls), min(cpus), statistics.median(cpus)


def main() -> None:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(here / "configs" / "tinyllama-1.1b.json"))
    parser.add_argument("--ranks", default="1,2,4")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-from-config", action="store_true")
    parser.add_argument("--worker", nargs=4, metavar=("CONFIG_DIR", "RUNS", "THREADS", "OUT"))
    args = parser.parse_args()
    if args.worker:
        config_dir, runs, threads, out = args.worker
        worker(config_dir, int(runs), int(threads), out)
        return
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(args.config, Path(d) / "config.json")
        print(f"config {args.config}, {os.cpu_count()} cores, {args.threads} thread(s) per rank, {args.runs} runs\n")
        rows = []
        per_rank: dict = {}
        for n in [int(x) for x in args.ranks.split(",")]:
            out = Path(d) / f"times-{n}.json"
            env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
            for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
                env.pop(var, None)
            subprocess.run(
                [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={n}",
                 __file__, "--worker", d, str(args.runs), str(args.threads), str(out)],
                check=True, env=env,
            )
            ranks = json.loads(out.read_text())
            for contender in ("weightinit", "torchtitan-style"):
                # Per run, the slowest rank: the model is ready when the last rank is.
                slowest = [
                    max((r["times"][contender][k] for r in ranks), key=lambda t: t[0])
                    for k in range(args.runs)
                ]
                per_rank[(contender, n)] = summary(slowest)
                rows.append((contender, n, ranks[0]["local_elements"], *per_rank[(contender, n)], slowest))
        if not args.skip_from_config:
            pairs = from_config_times(d, args.runs, args.threads)
            rows.append(("transformers from_config", 1, None, *summary(pairs), pairs))
        print("| contender | ranks | elements on rank 0 | wall best | wall median | CPU best | CPU median | runs (wall) |")
        print("|---|---|---|---|---|---|---|---|")
        for contender, n, elements, wb, wm, cb, cm, runs in rows:
            shown = " ".join(f"{w:.2f}" for w, _ in runs)
            print(f"| {contender} | {n} | {elements or '–'} | {wb:.2f} | {wm:.2f} | {cb:.2f} | {cm:.2f} | {shown} |")
        base = per_rank.get(("weightinit", 1))
        if base:
            print("\nweightinit per rank against its one-process time (the target: at most 1.3 x 1/N):")
            for (contender, n), (wb, wm, cb, cm) in sorted(per_rank.items()):
                if contender == "weightinit":
                    print(f"- N = {n}: wall best {wb / base[0]:.3f} of one process (1/N = {1 / n:.3f}), "
                          f"CPU best {cb / base[2]:.3f}")
            print("\nspeed-up of weightinit per rank (best against best, wall):")
            for (contender, n), (wb, _, _, _) in sorted(per_rank.items()):
                if contender == "torchtitan-style":
                    print(f"- N = {n}: torchtitan-style / weightinit = {wb / per_rank[('weightinit', n)][0]:.1f}x")
            fc = [r for r in rows if r[0] == "transformers from_config"]
            if fc:
                print(f"- N = 1: transformers from_config / weightinit = {fc[0][3] / base[0]:.1f}x")


if __name__ == "__main__":
    main()
