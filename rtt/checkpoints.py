"""Where a run's checkpoints live, and which policy each round starts from.

<data_dir>/runs/<run_id>/policy/round_<r>/          policy after round r's GRPO stage
<data_dir>/runs/<run_id>/discriminator/round_<r>/   discriminator trained in round r
<data_dir>/runs/<run_id>/grpo_state/round_<r>/      resumable state of an unfinished GRPO stage
<data_dir>/runs/<run_id>/disc_state/round_<r>/      resumable state of an unfinished discriminator stage
<data_dir>/runs/<run_id>/config.json                 the resolved config
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rtt.config import Config
from rtt.data.store import Store, state_root
from rtt.faults import crash_point
from rtt.models import SMOLLM2_HUB_ID, build_tiny_model, convert_smollm2_gguf, hub_reachable
from rtt.testbed import build_testbed_model


def policy_dir(store: Store, run_id: str, round_: int) -> Path:
    return store.run_dir(run_id) / "policy" / f"round_{round_}"


def discriminator_dir(store: Store, run_id: str, round_: int) -> Path:
    return store.run_dir(run_id) / "discriminator" / f"round_{round_}"


def grpo_state_dir(store: Store, run_id: str, round_: int) -> Path:
    return store.run_dir(run_id) / "grpo_state" / f"round_{round_}"


def disc_state_dir(store: Store, run_id: str, round_: int) -> Path:
    return store.run_dir(run_id) / "disc_state" / f"round_{round_}"


def resolve_policy(name: str, data_dir: str | os.PathLike) -> str:
    """A loadable folder or hub id for a policy name (the built-in names: `rtt.models`)."""
    models = state_root(data_dir) / "models"
    if name == "tiny":
        return str(build_tiny_model(models / "tiny"))
    if name == "testbed":
        return str(build_testbed_model(models / "testbed"))
    if name == "smollm2-135m-instruct":
        if hub_reachable():
            return SMOLLM2_HUB_ID
        return str(convert_smollm2_gguf(models / "smollm2-135m-instruct"))
    return name


def base_policy(cfg: Config) -> str:
    return resolve_policy(cfg.model.policy, cfg.data_dir)


def starting_policy(cfg: Config, store: Store, run_id: str, round_: int) -> str:
    """Round 0 starts from the configured policy; round r from round r-1's checkpoint."""
    if round_ == 0:
        return base_policy(cfg)
    previous = policy_dir(store, run_id, round_ - 1)
    if not (previous / "config.json").exists():
        raise FileNotFoundError(
            f"round {round_} starts from {previous}, which does not exist: run round {round_ - 1} first"
        )
    return str(previous)


def evaluated_policy(cfg: Config, store: Store, run_id: str, round_: int) -> str:
    """Round -1 is the starting policy; round r is the policy round r produced."""
    return base_policy(cfg) if round_ < 0 else str(policy_dir(store, run_id, round_))


@contextmanager
def atomic_dir(out: str | os.PathLike) -> Iterator[Path]:
    """Write a folder so that a half-written one never takes the final name: the caller fills a
    temp folder, then any old folder is moved aside and the new one swapped in."""
    out = Path(out)
    tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
    old = out.with_name(out.name + f".{os.getpid()}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        crash_point("checkpoint.save")
        if out.exists():  # os.replace cannot overwrite a non-empty folder
            os.replace(out, old)
            crash_point("checkpoint.swap")
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:  # an error or Ctrl-C while filling or swapping it: the previous folder stays
        if old.exists() and not out.exists():
            os.replace(old, out)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        raise


def recover_atomic_dirs(root: str | os.PathLike) -> list[Path]:
    """Finish or discard what `atomic_dir` saves left behind under `root` when their process died.

    A `<name>.<pid>.old` folder means that process had filled `<name>.<pid>.tmp` completely and was
    swapping it in: the new folder takes the name. Any other `.tmp` was being filled: removed.
    Call it only while no other process writes under `root` (the run lock). Returns what it moved."""
    finished = []
    for old in sorted(Path(root).glob("**/*.old")):
        name, pid = old.name[: -len(".old")].rsplit(".", 1)
        tmp, out = old.with_name(f"{name}.{pid}.tmp"), old.with_name(name)
        if tmp.is_dir() and not out.exists():
            os.replace(tmp, out)
            finished.append(out)
        shutil.rmtree(old, ignore_errors=True)
    for tmp in sorted(Path(root).glob("**/*.tmp")):
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
    return finished


def save_pretrained_atomic(model, tokenizer, out: str | os.PathLike) -> Path:
    """Save model + tokenizer as one transformers folder, atomically."""
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return Path(out)
