"""The stages of a run, in pipeline order: the one table the runner (`rtt.runs`), the CLI and the
Prefect flows (`flows/stages.py`) read.

A stage is a function `(StageContext) -> summary` that reads the tables earlier stages wrote and
writes its own (part names: `rtt.data.partitions`); stages never import one another.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    function: str
    """`module:function` of its `(StageContext) -> summary`, imported when the stage runs (so that
    reading this table, as the CLI does at start, loads neither torch nor transformers)."""
    description: str
    """One line: what the stage makes (the CLI's help, the Prefect flow's description)."""
    pool: str
    """The work pool its deployment runs on (`prefect.yaml`: `rtt-<stage>/<stage>-<pool>`): `gpu`
    for the stages that run a model, `cpu` for those that only read tables and call endpoints."""
    per_round: bool = True
    """Runs once per round; rubrics runs once per run."""
    relevance_only: bool = False
    """Only feeds GRPO's discriminator relevance: a run that does not score relevance with the
    discriminator skips it (`rtt.runs.round_stages`)."""

    @property
    def run(self) -> Callable:
        module, name = self.function.split(":")
        return getattr(importlib.import_module(module), name)


STAGES = (
    Stage(
        "rubrics",
        "rtt.rubrics.stage:run_rubrics",
        "the run's prompts (train/eval) and rubric items: built-in, imported or LLM-written",
        "cpu",
        per_round=False,
    ),
    Stage(
        "rollouts",
        "rtt.rollout.stage:run_rollouts",
        "offline samples of the round's starting policy, for the discriminator",
        "gpu",
        relevance_only=True,
    ),
    Stage(
        "judge",
        "rtt.judge.stage:run_judge",
        "a verdict and evidence tokens per (offline rollout, rubric item)",
        "cpu",
        relevance_only=True,
    ),
    Stage(
        "discriminator",
        "rtt.discriminator.stage:run_discriminator",
        "the token relevance discriminator, trained on the judge's evidence",
        "gpu",
        relevance_only=True,
    ),
    Stage("grpo", "rtt.grpo.stage:run_grpo", "online RTT-GRPO updates of the policy", "gpu"),
    Stage("eval", "rtt.eval.stage:run_eval", "held-out rubric accuracy (and IFEval) of the round's policy", "gpu"),
)
STAGE_NAMES = tuple(s.name for s in STAGES)
BY_NAME = {s.name: s for s in STAGES}


def get_stage(name: str) -> Stage:
    if name not in BY_NAME:
        raise ValueError(f"unknown stage {name!r}; stages: {list(STAGE_NAMES)}")
    return BY_NAME[name]


def stage_name(stage: str, round_: int) -> str:
    """The name of one stage run (`judge-r2`): MLflow run names, completion markers, artifact keys."""
    return stage if not get_stage(stage).per_round else f"{stage}-r{round_}"
