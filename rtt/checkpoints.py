"""Where a run's checkpoints live, and which policy each round starts from.

    <data_dir>/runs/<run_id>/policy/round_<r>/          policy after round r's GRPO stage
    <data_dir>/runs/<run_id>/discriminator/round_<r>/   discriminator trained in round r
    <data_dir>/runs/<run_id>/config.json                 the resolved config
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rtt.config import Config
from rtt.data.store import Store
from rtt.models import resolve_policy


def policy_dir(store: Store, run_id: str, round_: int) -> Path:
    return store.run_dir(run_id) / "policy" / f"round_{round_}"


def discriminator_dir(store: Store, run_id: str, round_: int) -> Path:
    return store.run_dir(run_id) / "discriminator" / f"round_{round_}"


def base_policy(cfg: Config) -> str:
    return resolve_policy(cfg.model.policy, cfg.data_dir)


def starting_policy(cfg: Config, store: Store, run_id: str, round_: int) -> str:
    """Round 0 starts from the configured policy; round r from round r-1's checkpoint."""
    if round_ == 0:
        return base_policy(cfg)
    previous = policy_dir(store, run_id, round_ - 1)
    if not (previous / "config.json").exists():
        raise FileNotFoundError(f"round {round_} starts from {previous}, which does not exist: run round {round_ - 1} first")
    return str(previous)


def evaluated_policy(cfg: Config, store: Store, run_id: str, round_: int) -> str:
    """Round -1 is the starting policy; round r is the policy round r produced."""
    return base_policy(cfg) if round_ < 0 else str(policy_dir(store, run_id, round_))


def save_pretrained_atomic(model, tokenizer, out: str | os.PathLike) -> Path:
    """Save model + tokenizer so that a half-written checkpoint never takes the final name:
    write a temp folder, move any old checkpoint aside, swap the new one in."""
    out = Path(out)
    tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
    old = out.with_name(out.name + f".{os.getpid()}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if out.exists():  # os.replace cannot overwrite a non-empty folder
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
    return out
