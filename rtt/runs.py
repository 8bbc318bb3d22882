"""Running stages: config, store, tracking and the resolved config around one stage function.

Every stage function has the signature `(cfg, store, tracker, run_id, round_) -> summary` and
writes its data to the store. This module is what the Prefect flows (and tests) call; it never
imports Prefect. A pipeline run has one MLflow parent run; each stage gets a nested run.
"""

from __future__ import annotations

import datetime
import json
import logging
import secrets
import time
from dataclasses import dataclass

import torch

from rtt.config import Config, flat_params, load_config, save_config
from rtt.data.store import Store
from rtt.discriminator.stage import run_discriminator
from rtt.eval.stage import run_eval
from rtt.grpo.stage import run_grpo
from rtt.judge.stage import run_judge
from rtt.rollout.stage import run_rollouts
from rtt.rubrics.stage import run_rubrics
from rtt.tracking import Tracker

STAGES = {
    "rubrics": lambda cfg, store, tracker, run_id, round_: run_rubrics(cfg, store, tracker, run_id),
    "rollouts": run_rollouts,
    "judge": run_judge,
    "discriminator": run_discriminator,
    "grpo": run_grpo,
    "eval": run_eval,
}
ROUND_STAGES = ("rollouts", "judge", "discriminator", "grpo", "eval")
log = logging.getLogger(__name__)


@dataclass
class PipelineRun:
    cfg: Config
    run_id: str
    tracker: Tracker


def new_run_id(cfg: Config) -> str:
    return f"{cfg.name}-{datetime.datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def prepare(preset: str, overrides: list[str] | None, run_id: str | None) -> tuple[Config, Store, str]:
    """Load the config, apply torch settings, save the resolved config under the run's folder."""
    cfg = load_config(preset, overrides or [])
    run_id = run_id or new_run_id(cfg)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    store = Store(cfg.data_dir)
    save_config(cfg, store.run_dir(run_id) / "config.json")
    return cfg, store, run_id


def run_stage(stage: str, preset: str = "demo", overrides: list[str] | None = None, run_id: str | None = None,
              round_: int = 0, parent_tracking_id: str | None = None) -> dict:
    """Run one stage in its own (nested, when a parent is given) MLflow run; returns its summary."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages: {list(STAGES)}")
    cfg, store, run_id = prepare(preset, overrides, run_id)
    name = stage if stage == "rubrics" else f"{stage}-r{round_}"
    tracker = Tracker.open(cfg.tracking_uri, cfg.experiment, name, parent_tracking_id,
                           tags={"rtt.run_id": run_id, "rtt.stage": stage, "rtt.round": round_})
    tracker.log_params(flat_params(cfg))
    start = time.perf_counter()
    try:
        summary = STAGES[stage](cfg, store, tracker, run_id, round_)
    except BaseException:
        tracker.finish("FAILED")
        raise
    summary = {"run_id": run_id, "stage": stage, "round": round_, **summary, "wall_s": round(time.perf_counter() - start, 1)}
    tracker.log_dict(summary, "summary.json")
    tracker.finish()
    log.info("[%s] %s", name, json.dumps(summary))
    return summary


def start_pipeline(preset: str = "demo", overrides: list[str] | None = None, run_id: str | None = None) -> PipelineRun:
    cfg, store, run_id = prepare(preset, overrides, run_id)
    tracker = Tracker.open(cfg.tracking_uri, cfg.experiment, f"pipeline-{run_id}", tags={"rtt.run_id": run_id, "rtt.stage": "pipeline"})
    tracker.log_params(flat_params(cfg))
    tracker.log_artifact(store.run_dir(run_id) / "config.json")
    return PipelineRun(cfg, run_id, tracker)


def finish_pipeline(run: PipelineRun, summaries: dict[str, dict]) -> dict:
    wall = {name: s.get("wall_s") for name, s in summaries.items()}
    run.tracker.log_dict({"stages": summaries}, "pipeline_summary.json")
    run.tracker.log_metrics({f"wall_s_{name}": seconds for name, seconds in wall.items() if seconds is not None})
    run.tracker.finish()
    return {"run_id": run.run_id, "wall_s": wall, "stages": summaries}
