"""One `PolicyTrainer.update` of a fixed global batch, on one process or on each rank of a torchrun
job, for the test that data-parallel updates equal the single-process update.

    python -m rtt.testing.data_parallel MODEL_DIR OUT.pt
    python -m torch.distributed.run --nproc-per-node 2 -m rtt.testing.data_parallel MODEL_DIR OUT.pt

The global batch: `GROUPS` groups of `GROUP` responses of random lengths and advantages, drawn from
a fixed seed. Under torchrun each rank takes its block of whole groups (`rtt.data_parallel.block`);
rank 0 (or the single process) saves, per trainer setting of `SETTINGS`, the updated weights and the
update's statistics to OUT.pt.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from rtt.config import GRPOConfig
from rtt.data_parallel import Ranks, barrier, block, join
from rtt.grpo.logprobs import pack
from rtt.grpo.trainer import PolicyTrainer
from rtt.models import load_causal_lm, load_tokenizer

GROUPS, GROUP = 5, 3
SETTINGS = {
    "two_minis_seq_mean": {"updates_per_batch": 2, "loss_agg": "seq_mean_token_mean"},
    "one_step_token_mean": {"updates_per_batch": 1, "loss_agg": "token_mean"},
}
"""Two paths of the trainer: mini-batches drawn over the global rows with shares by sequence, and one
optimizer step whose own forward gives the old logprobs, with shares by token."""


def global_batch(vocab: int) -> list[tuple[list[int], list[int], float]]:
    """(prompt ids, response ids, advantage) per response, group after group."""
    g = torch.Generator().manual_seed(7)
    rows = []
    for _ in range(GROUPS):
        prompt = torch.randint(3, vocab, (int(torch.randint(4, 9, (1,), generator=g)),), generator=g).tolist()
        for _ in range(GROUP):
            length = int(torch.randint(1, 12, (1,), generator=g))
            response = torch.randint(3, vocab, (length,), generator=g).tolist()
            rows.append((prompt, response, float(torch.randn(1, generator=g))))
    return rows


def update(model_dir: str, settings: dict, ranks: Ranks) -> dict:
    torch.manual_seed(0)
    tokenizer = load_tokenizer(model_dir)
    model = load_causal_lm(model_dir, torch.device("cpu"))
    groups = [global_batch(len(tokenizer))[i * GROUP : (i + 1) * GROUP] for i in range(GROUPS)]
    mine = [row for group in block(groups, ranks) for row in group]
    batch = pack([r[0] for r in mine], [r[1] for r in mine], tokenizer.pad_token_id)
    advantages = torch.tensor([r[2] for r in mine])[:, None] * batch.response_mask  # [n, T]
    cfg = GRPOConfig(micro_batch_size=2, lr=1e-3, max_new_tokens=12, **settings)
    trainer = PolicyTrainer(model, cfg, torch.device("cpu"), seed=3, ranks=ranks)
    stats = trainer.update(batch, advantages)
    return {
        "weights": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "stats": stats,
        "rows": len(mine),
    }


def update_all(model_dir: str, out: str, ranks: Ranks) -> dict:
    """Every setting of `SETTINGS`, one update each."""
    return {name: update(model_dir, settings, ranks) for name, settings in SETTINGS.items()}


def driver_main(compute: Callable[[str, str, Ranks], dict]) -> None:
    """A driver's `__main__`: `MODEL_DIR OUT.pt` from the command line, the ranks joined under
    torchrun (else one process), `compute(model_dir, out, ranks)` saved to OUT.pt by rank 0."""
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("out")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ranks = join() if "WORLD_SIZE" in os.environ else Ranks()
    result = compute(args.model_dir, args.out, ranks)
    if ranks.leader:
        torch.save(result, args.out)
    barrier(ranks)


def run_driver(module: str, model_dir: str, out: Path, nproc: int, crash_at: str | None = None) -> dict | None:
    """`python -m MODULE MODEL_DIR OUT` in one process, or in `nproc` gloo ranks under torchrun;
    what it saved (AssertionError with its output if it failed). With `crash_at` (an RTT_CRASH_AT
    spec), the run must die there instead: None."""
    launch = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"] if nproc > 1 else []
    env = {**os.environ, "RTT_DIST_BACKEND": "gloo", "OMP_NUM_THREADS": "1", "RTT_CRASH_AT": crash_at or ""}
    command = [sys.executable, *launch, "-m", module, model_dir, str(out)]
    done = subprocess.run(command, env=env, timeout=300, capture_output=True, text=True)
    output = f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
    if crash_at:
        assert done.returncode != 0 and not out.exists(), output
        return None
    assert done.returncode == 0, output
    return torch.load(out, weights_only=False)


if __name__ == "__main__":
    driver_main(update_all)
