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


def save_pretrained_atomic(model, tokenizer, out: Path) -> Path:
    """Save a model folder so that a half-written checkpoint never takes the final name."""
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out
