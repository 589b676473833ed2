"""One rank of the distributed tests (test_torch_distributed.py), started by torchrun:

    python -m torch.distributed.run --standalone --nproc-per-node N dist_worker.py \\
        --config DIR --out DIR --seed S --layouts fsdp,tp,...

For each layout it builds the model of DIR/config.json on the meta device, parallelizes
it with PyTorch's own FSDP2 (``fully_shard``) and tensor parallel
(``parallelize_module``) on CPU (gloo), calls ``to_empty`` and
``weightinit.torch.init_module``, checks the model with ``check_module`` on every rank,
gathers every tensor with ``full_tensor()`` and, on rank 0, saves them to
OUT/LAYOUT.safetensors for the test to compare. Then it checks ``init_`` on DTensors of
many placements against ``distribute_tensor`` of the tensor drawn whole.
"""

from __future__ import annotations

from typing import Any, Dict

import argparse
import json
import os

import torch
import torch.distributed as dist
from safetensors.torch import save_file
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import DTensor, Replicate, Shard, distribute_tensor
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module
from transformers import AutoConfig, AutoModelForCausalLM

import weightinit as wi
import weightinit.torch as wt


def tensor_parallel(model, mesh) -> None:
    """Megatron-style tensor parallel, as torchtitan applies it to Llama: column-split
    q, k, v, gate, up (and the head, by vocabulary); row-split o, down (and the
    embedding, by vocabulary)."""
    for layer in model.model.layers:
        parallelize_module(
            layer,
            mesh,
            {
                "self_attn.q_proj": ColwiseParallel(),
                "self_attn.k_proj": ColwiseParallel(),
                "self_attn.v_proj": ColwiseParallel(),
                "self_attn.o_proj": RowwiseParallel(),
                "mlp.gate_proj": ColwiseParallel(),
                "mlp.up_proj": ColwiseParallel(),
                "mlp.down_proj": RowwiseParallel(),
            },
        )
    parallelize_module(
        model,
        mesh,
        {
            "model.embed_tokens": RowwiseParallel(input_layouts=Replicate()),
            "lm_head": ColwiseParallel(output_layouts=Replicate()),
        },
    )


def fsdp(model, mesh) -> None:
    for layer in model.model.layers:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)


def build(config_dir: str, layout: str, world: int):
    config = AutoConfig.from_pretrained(config_dir)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    if layout == "fsdp":
        fsdp(model, init_device_mesh("cpu", (world,)))
    elif layout == "tp":
        tensor_parallel(model, init_device_mesh("cpu", (world,)))
    elif layout == "fsdp+tp":
        mesh = init_device_mesh("cpu", (world // 2, 2), mesh_dim_names=("dp", "tp"))
        tensor_parallel(model, mesh["tp"])
        fsdp(model, mesh["dp"])
    elif layout != "none":
        raise SystemExit(f"unknown layout {layout}")
    model.to_empty(device="cpu")
    return model


def gathered(model) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        full = t.full_tensor() if isinstance(t, DTensor) else t
        out[name] = full.detach().clone().contiguous()
    return out


def placements_of(model) -> Dict[str, Any]:
    return {
        name: str(p.placements) for name, p in model.named_parameters() if isinstance(p, DTensor)
    }


def check_init_on_placements(seed: int, world: int) -> int:
    """init_ on DTensors of every kind of placement equals distribute_tensor (torch's own
    split) of the tensor drawn whole; returns how many were checked."""
    from torch.distributed.tensor.placement_types import _StridedShard

    meshes = [("1d", init_device_mesh("cpu", (world,)))]
    if world == 4:
        meshes.append(("2d", init_device_mesh("cpu", (2, 2))))
    checked = 0
    for mesh_name, mesh in meshes:
        one = [Shard(0)], [Shard(1)], [Replicate()], [Shard(2)]
        two = (
            [Shard(0), Shard(1)],
            [Shard(1), Shard(0)],
            [Shard(0), Shard(0)],
            [_StridedShard(0, split_factor=2), Shard(0)],
            [Replicate(), Shard(1)],
            [Shard(2), Replicate()],
        )
        for placements in one if mesh.ndim == 1 else two:
            for scheme, shape in (("he-normal", (37, 23, 3)), ("trunc-normal:std=0.02", (11, 7, 5)), ("orthogonal", (9, 6, 2))):
                for dtype in (torch.float32, torch.bfloat16):
                    name = f"{mesh_name}.t{checked}"
                    empty = distribute_tensor(torch.empty(shape, dtype=dtype), mesh, placements, src_data_rank=None)
                    wt.init_(empty, scheme, seed=seed, name=name)
                    if dtype == torch.bfloat16:
                        drawn = wi.generate(scheme, shape, seed=seed, name=name, layout="oi", dtype="bfloat16")
                        whole = torch.from_numpy(drawn.view("uint16")).view(torch.bfloat16)
                    else:
                        whole = torch.from_numpy(wi.generate(scheme, shape, seed=seed, name=name, layout="oi"))
                    want = distribute_tensor(whole, mesh, placements, src_data_rank=None).to_local()
                    have = empty.to_local()
                    assert have.shape == want.shape, (placements, have.shape, want.shape)
                    assert torch.equal(have.view(torch.int16 if dtype == torch.bfloat16 else torch.int32),
                                       want.view(torch.int16 if dtype == torch.bfloat16 else torch.int32)), (
                        name, placements)
                    # and gathered, the whole tensor
                    assert torch.equal(empty.full_tensor(), whole), (name, placements)
                    checked += 1
    return checked


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--layouts", required=True)
    args = parser.parse_args()
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    summary: Dict[str, Any] = {}
    for layout in args.layouts.split(","):
        model = build(args.config, layout, world)
        report = wt.init_module(model, seed=args.seed)
        mismatched = wt.check_module(model, seed=args.seed)
        assert mismatched == [], (layout, rank, mismatched)
        state = gathered(model)
        if rank == 0:
            save_file(state, os.path.join(args.out, f"{layout}.safetensors"))
            summary[layout] = {
                "placements": placements_of(model),
                "report": {n: {k: v for k, v in d.items() if k != "law"} for n, d in report["tensors"].items()},
            }
        dist.barrier()
    summary["placements_checked"] = check_init_on_placements(args.seed, world)
    if rank == 0:
        with open(os.path.join(args.out, f"summary-{world}.json"), "w") as f:
            json.dump(summary, f, indent=1)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
