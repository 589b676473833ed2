#!/usr/bin/env python3
"""A model initialized shard by shard, the same at any parallelism (docs/parallel.md).

Start it with torchrun on one node or many (Slurm: `srun torchrun ...`), once per rank:

    torchrun --nproc-per-node 4 examples/parallel_init.py --config config.json --tp 2 --seed 0

Every rank builds the model on the meta device (no memory), shards it with PyTorch's own
FSDP2 (`fully_shard`) over tensor parallel (`parallelize_module`) when --tp > 1,
allocates its shards (`to_empty`), and fills them with `weightinit.torch.init_module`:
each rank draws only its own elements, with fans from the global shapes, so the
gathered model equals the one-device model and `weightinit gen --hf-config` bit for
bit. `check_module` then verifies, rank by rank, that the shards hold exactly those
weights. Uses gloo on CPU, NCCL on CUDA.
"""

import argparse
import json
import os
import tempfile

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import Replicate
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module
from transformers import AutoConfig, AutoModelForCausalLM

import weightinit.torch as wt


def tensor_parallel(model, mesh):
    """Megatron's split of a Llama block: q, k, v, gate, up by columns; o, down by rows."""
    column, row = ColwiseParallel(), RowwiseParallel()
    for layer in model.model.layers:
        parallelize_module(layer, mesh, {
            "self_attn.q_proj": column, "self_attn.k_proj": column, "self_attn.v_proj": column,
            "self_attn.o_proj": row, "mlp.gate_proj": column, "mlp.up_proj": column, "mlp.down_proj": row,
        })
    parallelize_module(model, mesh, {
        "model.embed_tokens": RowwiseParallel(input_layouts=Replicate()),
        "lm_head": ColwiseParallel(output_layouts=Replicate()),
    })


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True, help="a Hugging Face config.json")
    parser.add_argument("--tp", type=int, default=1, help="tensor-parallel degree (the rest is FSDP2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu"
    if cuda:
        torch.cuda.set_device(device)
    world = dist.get_world_size()

    with tempfile.TemporaryDirectory() as d:  # AutoConfig reads a directory
        with open(args.config) as f, open(os.path.join(d, "config.json"), "w") as g:
            g.write(f.read())
        config = AutoConfig.from_pretrained(d)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)

    mesh = init_device_mesh(device.split(":")[0], (world // args.tp, args.tp), mesh_dim_names=("dp", "tp"))
    if args.tp > 1:
        tensor_parallel(model, mesh["tp"])
    for layer in model.model.layers:
        fully_shard(layer, mesh=mesh["dp"])
    fully_shard(model, mesh=mesh["dp"])

    model.to_empty(device=device)
    report = wt.init_module(model, seed=args.seed)  # each rank fills only its shard
    mismatched = wt.check_module(model, seed=args.seed)  # and checks it, bit for bit

    local = sum(p.to_local().numel() for p in model.parameters())
    total = sum(p.numel() for p in model.parameters())
    if dist.get_rank() == 0:
        print(json.dumps({
            "ranks": world, "tp": args.tp, "tensors": len(report["tensors"]),
            "elements_on_rank_0": local, "elements": total, "mismatched": mismatched,
        }))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
