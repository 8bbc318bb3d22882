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
