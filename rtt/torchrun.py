"""A stage's training in N data-parallel processes started by torchrun (`grpo.nproc`,
`discriminator.nproc`): the launch from the stage's own process, and the start of each process.

`launch` writes the resolved config beside the stage's resumable state, runs
`python -m torch.distributed.run --standalone --nproc-per-node N -m MODULE CONFIG RUN_ID ROUND` and
waits. MODULE is the stage's module, whose `__main__` is `rank_main(train)`: each process joins the
process group (`rtt.data_parallel.join`), takes its share of the threads and, on GPUs, its own GPU
(`rank_device`), and runs `train(ctx, ranks)`. Rank 0 writes the tables and checkpoints; the stage's
process reads them back, and logs to MLflow (the processes' tracker logs nowhere).
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import torch
import yaml

from rtt.config import config_dict, load_config
from rtt.data.store import Store
from rtt.data_parallel import Ranks, join
from rtt.stage_context import StageContext
from rtt.tracking import Tracker

log = logging.getLogger(__name__)


def launch(ctx: StageContext, stage: str, module: str, nproc: int, state_dir: Path) -> None:
    """Run `module`'s `rank_main` in `nproc` torchrun processes for `ctx`'s run and round, and wait.
    The config they read is written beside `state_dir` (the stage's resumable state) and removed once
    they succeed; a failure raises RuntimeError (the processes' output is above it)."""
    config = state_dir.parent / f"nproc_config_r{ctx.round}.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(yaml.safe_dump(config_dict(ctx.cfg)))
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        module,
        str(config),
        ctx.run_id,
        str(ctx.round),
    ]
    log.info("%s round %d: %d data-parallel processes: %s", stage, ctx.round, nproc, shlex.join(command))
    done = subprocess.run(command)
    if done.returncode != 0:
        raise RuntimeError(
            f"{stage} round {ctx.round}: the {nproc} data-parallel processes failed (exit "
            f"{done.returncode}; their output is above); rerun the stage to continue from its saved state"
        )
    config.unlink()


def rank_main(train: Callable[[StageContext, Ranks], object], argv: list[str] | None = None) -> None:
    """One data-parallel process of a stage: `python -m MODULE CONFIG RUN_ID ROUND` under torchrun
    runs `train(ctx, ranks)`."""
    config, run_id, round_ = argv or sys.argv[1:]
    cfg = load_config(config)
    ranks = join()
    torch.set_num_threads(max(1, (cfg.threads or os.cpu_count() or 1) // ranks.world))
    torch.manual_seed(cfg.seed)
    logging.basicConfig(level=logging.INFO if ranks.leader else logging.WARNING, format="%(message)s")
    train(StageContext(cfg, Store(cfg.data_dir), Tracker(), run_id, int(round_)), ranks)
    torch.distributed.destroy_process_group()


def rank_device(device: torch.device, ranks: Ranks) -> torch.device:
    """`device`; data-parallel on GPUs, this process's GPU (torchrun's LOCAL_RANK)."""
    if ranks.active and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    return device
