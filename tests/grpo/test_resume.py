"""A GRPO stage killed mid-round continues where it stopped and ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

import rtt.grpo.stage as grpo_stage
from rtt.checkpoints import grpo_state_dir, policy_dir
from rtt.data.store import Store
from rtt.runs import run_stage

RUN = "resume-1"
REAL_STEP = grpo_stage.grpo_step
SETTINGS = ["grpo.relevance=gold", "grpo.steps=3", "grpo.save_every=1"]


class Killed(BaseException):
    """Stands in for a process killed mid-step (not an Exception: nothing may swallow it)."""


def start(root) -> list[str]:
    overrides = [f"data_dir={root / 'data'}", f"tracking_uri={root / 'mlflow'}", *SETTINGS]
    run_stage("rubrics", "smoke", overrides, RUN)
    return overrides


def steps_run(monkeypatch, fail_at: int | None = None) -> list[int]:
    """Record the steps grpo_step runs; raise Killed at `fail_at`."""
    seen = []

    def step(cfg, run_id, round_, step_, *args):
        if step_ == fail_at:
            raise Killed
        seen.append(step_)
        return REAL_STEP(cfg, run_id, round_, step_, *args)

    monkeypatch.setattr(grpo_stage, "grpo_step", step)
    return seen


def test_killed_stage_resumes_exactly(tmp_path, monkeypatch):
    straight = start(tmp_path / "a")
    run_stage("grpo", "smoke", straight, RUN, 0)

    killed = start(tmp_path / "b")
    first = steps_run(monkeypatch, fail_at=2)
    with pytest.raises(Killed):
        run_stage("grpo", "smoke", killed, RUN, 0)
    store = Store(tmp_path / "b" / "data")
    assert first == [0, 1] and (grpo_state_dir(store, RUN, 0) / "trainer.pt").exists()
    assert not (policy_dir(store, RUN, 0) / "config.json").exists()

    second = steps_run(monkeypatch)
    summary = run_stage("grpo", "smoke", killed, RUN, 0)
    assert second == [2] and summary["resumed_at"] == 2
    assert not grpo_state_dir(store, RUN, 0).exists()

    a = load_file(policy_dir(Store(tmp_path / "a" / "data"), RUN, 0) / "model.safetensors")
    b = load_file(policy_dir(store, RUN, 0) / "model.safetensors")
    assert all(torch.equal(a[name], b[name]) for name in a)
    rows = [Store(tmp_path / x / "data").rows("train_steps", RUN) for x in ("a", "b")]
    key = lambda r: r["step"]  # noqa: E731
    assert [(r["step"], r["global_step"], r["reward_mean"], r["loss"]) for r in sorted(rows[0], key=key)] == [
        (r["step"], r["global_step"], r["reward_mean"], r["loss"]) for r in sorted(rows[1], key=key)
    ]
