"""Discriminator training on a fixed data set, on one process or on each rank of a torchrun job,
for the test that data-parallel training ends with the single-process weights.

    python -m rtt.testing.disc_parallel MODEL_DIR OUT.pt
    python -m torch.distributed.run --nproc-per-node 2 -m rtt.testing.disc_parallel MODEL_DIR OUT.pt

The data: `TRAIN` training and `HELDOUT` held-out pairs of random responses and labels, drawn from
a fixed seed; every rank is given all of them (`train_discriminator` takes each rank's share). Rank
0 (or the single process) saves, per training setting of `SETTINGS`, the trained weights, every
step's loss and the held-out metric rows to OUT.pt.
"""

from __future__ import annotations

from pathlib import Path

import torch

from rtt.config import DiscriminatorConfig
from rtt.data_parallel import Ranks
from rtt.discriminator.model import init_discriminator
from rtt.discriminator.train import Pair, train_discriminator
from rtt.models import load_tokenizer
from rtt.testing.data_parallel import driver_main

TRAIN, HELDOUT = 13, 5
SETTINGS = {
    "packed_accumulated": {"batch_size": 4, "grad_accum": 2, "epochs": 3, "pack_length": 64},
    "lone_pair_top_layer": {"batch_size": 3, "grad_accum": 1, "epochs": 2, "pack_length": 0, "train_layers": 1},
}
"""Two paths: packed rows, two micro-batches a step (the last step's second micro-batch holds one
pair); one input per row, one micro-batch a step, only the top layer and the head trained. 13 pairs
in micro-batches of 3 end with a one-pair micro-batch: there rank 1 has no rows at all in a step."""


def pairs(vocab: int, n: int, seed: int) -> list[Pair]:
    """`n` pairs of random responses (5-20 tokens), each token labelled 1 with probability 0.3."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        length = int(torch.randint(5, 21, (1,), generator=g))
        response = torch.randint(3, vocab, (length,), generator=g).tolist()
        labels = (torch.rand(length, generator=g) < 0.3).long().tolist()
        out.append(Pair(f"p{i}", f"kind{i % 2}", f"Mark item {i % 3}", response, labels))
    return out


def train(model_dir: str, settings: dict, state_dir: Path, ranks: Ranks) -> dict:
    tokenizer = load_tokenizer(model_dir)
    torch.manual_seed(0)
    model = init_discriminator(model_dir, "cpu")
    for module in model.modules():  # the ranks' dropout masks are not one process's: compare without
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    losses = []
    cfg = DiscriminatorConfig(lr=1e-3, warmup_ratio=0.0, patience=0, **settings)
    history = train_discriminator(
        model,
        tokenizer,
        pairs(len(tokenizer), TRAIN, seed=1),
        pairs(len(tokenizer), HELDOUT, seed=2),
        cfg,
        "cpu",
        seed=3,
        on_step=lambda step, loss: losses.append(loss),
        state_dir=state_dir,
        ranks=ranks,
    )
    return {
        "weights": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "losses": losses,
        "history": history,
    }


def train_all(model_dir: str, out: str, ranks: Ranks) -> dict:
    """Every setting of `SETTINGS` trained, each with its state saved beside `out`."""
    return {
        name: train(model_dir, settings, Path(out).parent / f"state-{name}-{ranks.world}", ranks)
        for name, settings in SETTINGS.items()
    }


if __name__ == "__main__":
    driver_main(train_all)
