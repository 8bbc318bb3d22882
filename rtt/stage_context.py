"""What every stage function is given: the run's settings, its lake, the stage's MLflow run, the run and round."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rtt.config import Config
from rtt.data.store import Store
from rtt.tracking import Tracker


@dataclass
class StageContext:
    cfg: Config
    """The run's resolved settings."""
    store: Store
    """The lake the stage reads and writes (`cfg.data_dir`)."""
    tracker: Tracker
    """The stage's MLflow run (nested under the pipeline's parent)."""
    run_id: str
    round: int = 0
    """The round the stage works on (eval: -1 is the starting policy; rubrics: always 0)."""

    @property
    def cache_dir(self) -> Path:
        """Where LLM answers are cached across stages and runs."""
        return self.store.state / "cache"


def global_step(cfg: Config, round_: int, step: int) -> int:
    """GRPO step `step` of round `round_` counted across rounds (and a campaign's continuations,
    which extend one run by rounds): `train_steps.global_step`, the x axis of every curve, MLflow's
    step for every metric of the policy, and the prompt cursor's clock. The rollouts and judge
    stages log at their round's first step; eval logs at the step its policy had reached (round r:
    `global_step(cfg, r + 1, 0)`, the base policy 0)."""
    return round_ * cfg.grpo.steps + step
