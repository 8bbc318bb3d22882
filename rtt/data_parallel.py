"""Data-parallel training over torch.distributed, for `grpo.nproc` and `discriminator.nproc`: each
rank trains on its share of every optimizer step's rows; gradients are summed across ranks before
every optimizer step; rank 0 writes. The processes are started by `rtt.torchrun`.

What it implements: DDP's algorithm. Every rank holds a full replica of the model and of the
optimizer, and the same gradient reaches every replica's optimizer, so the replicas stay equal.
An optimizer step is the single-process step on the global batch:
- every rank knows the global batch's plan (mini- and micro-batches come from generators and seeds
  that every rank sets alike);
- each rank's share of a step's loss is taken against the global token or sequence count;
- the accumulated gradients are summed (`all_reduce`) before clipping and AdamW.
`tests/grpo/test_data_parallel.py` and `tests/discriminator/test_data_parallel.py` check the
weights after training against one process.

Departure: it is not the `DistributedDataParallel` wrapper. That wrapper syncs gradients inside
each backward, in buckets, and needs every rank to run the same number of backward passes. Here a
rank holds whatever rows of a mini-batch fall to it, possibly none. So the sum is one
`all_reduce` per weight after the micro-batches, the collective DDP runs. Sharding (FSDP2) does not
pay at the sizes this runs at: a replica and its AdamW states (16 bytes per parameter) fit on one
device up to about 3 B parameters on 80 GB (docs/SCALING.md).

The stages' shares. GRPO: a rank's prompts are a contiguous block of the step's prompts (`block`),
and all G responses of a prompt are sampled on that rank, so groups never straddle ranks and group
statistics are local and exact. Discriminator: rank r takes every world-th pair of each micro-batch
of the batch plan, which every rank builds alike from the seed (rtt/discriminator/train.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

RANK_SEED_STRIDE = 7_919
"""Added per rank to a seed whose draws must differ between processes (GRPO's sampling and
relevance RNG, the discriminator's dropout), so they draw different streams; rank 0 (and one
process) keeps the seeds a run always had."""


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def leader(self) -> bool:
        """Rank 0: the one that writes tables and checkpoints."""
        return self.rank == 0


def join() -> Ranks:
    """Join the process group torchrun set up (gloo on CPU, nccl on GPUs)."""
    backend = "nccl" if torch.cuda.is_available() and os.environ.get("RTT_DIST_BACKEND") != "gloo" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return Ranks(dist.get_rank(), dist.get_world_size())


def block(items: list, ranks: Ranks) -> list:
    """This rank's contiguous share of `items` (sizes differ by at most one); ranks in order
    concatenate back to `items`."""
    size, extra = divmod(len(items), ranks.world)
    start = ranks.rank * size + min(ranks.rank, extra)
    return items[start : start + size + (ranks.rank < extra)]


def wire_device(value: torch.Tensor) -> torch.device:
    """Where a collective on `value` runs: its own device, but nccl takes CUDA tensors only, so a
    CPU value goes through this process's GPU there."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else value.device


def all_reduce(value: torch.Tensor, ranks: Ranks, op=dist.ReduceOp.SUM) -> torch.Tensor:
    """`value` reduced over ranks (itself on one process), on its own device."""
    if not ranks.active:
        return value
    out = value.to(wire_device(value), copy=True)
    dist.all_reduce(out, op=op)
    return out.to(value.device)


def broadcast(value: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    """Rank 0's `value` on every rank (itself on one process), on the device `value` is on."""
    if not ranks.active:
        return value
    out = value.to(wire_device(value), copy=True)
    dist.broadcast(out, src=0)
    return out.to(value.device)


def all_sum(value: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    """The sum of `value` over ranks (itself on one process)."""
    return all_reduce(value, ranks)


def all_keys(values: dict, ranks: Ranks) -> list[list]:
    """Every rank's keys of `values`, on every rank."""
    keys = [list(values)] * ranks.world
    if ranks.active:
        dist.all_gather_object(keys, list(values))
    return keys


def row_offset(n: int, ranks: Ranks) -> tuple[int, int]:
    """(the global index of this rank's first row, the global row count)."""
    counts = [n] * ranks.world
    if ranks.active:
        dist.all_gather_object(counts, n)
    return sum(counts[: ranks.rank]), sum(counts)


def sum_gradients(params: list[torch.Tensor], ranks: Ranks) -> None:
    """Sum every weight's accumulated gradient over ranks (a rank with no rows adds zeros)."""
    if not ranks.active:
        return
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        dist.all_reduce(p.grad)


def gather(value, ranks: Ranks) -> list | None:
    """Every rank's `value`, in rank order, on rank 0 (None elsewhere); [value] on one process."""
    if not ranks.active:
        return [value]
    out = [None] * ranks.world if ranks.leader else None
    dist.gather_object(value, out, dst=0)
    return out


def from_leader(value, ranks: Ranks):
    """Rank 0's `value`, on every rank (`value` itself on one process)."""
    if not ranks.active:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_weights(model: torch.nn.Module, ranks: Ranks) -> None:
    """Every weight and buffer of `model` set to rank 0's, as DDP does when it wraps a model: the
    replicas start equal whatever each process's loading or initialisation drew."""
    if not ranks.active:
        return
    for value in model.state_dict().values():
        value.copy_(broadcast(value, ranks))


def concat_ranks(parts: list[tuple[torch.Tensor, ...]]) -> tuple[torch.Tensor, ...]:
    """Each position's tensors of every rank concatenated along rows, padded with zeros (False)
    along their other dimensions to the largest (ranks' K and T differ)."""
    out = []
    for tensors in zip(*parts):
        shape = [max(x.shape[d] for x in tensors) for d in range(1, tensors[0].dim())]
        padded = []
        for x in tensors:
            pad = [p for d in reversed(range(1, x.dim())) for p in (0, shape[d - 1] - x.shape[d])]
            padded.append(torch.nn.functional.pad(x, pad) if any(pad) else x)
        out.append(torch.cat(padded))
    return tuple(out)


def barrier(ranks: Ranks) -> None:
    if ranks.active:
        dist.barrier()
