"""An experiment: named arms x seeds, each an ordinary pipeline run, on the same prompts.

An arm is a set of settings (dotted overrides) applied on top of the experiment's preset and
`--set` overrides. The built-in arms are one setting away from each other:

| arm | settings |
|---|---|
| `rtt` | token relevance from the trained discriminator (the method) |
| `rtt-gold` | relevance = the rule checkers' evidence spans (what a perfect discriminator gives) |
| `rtt-uniform` | relevance 1 on every token (A_tok is 0 under intra-sample normalization) |
| `rtt-random` | relevance U(0, 1) |
| `grpo-aon` | no token advantage, all-or-nothing response reward (GRPO) |
| `grpo-csr` | no token advantage, constraint satisfaction rate reward (GRPO) |

Every run of an experiment gets `rubrics.seed` = the experiment's first seed, so all arms and seeds
train and are evaluated on the same prompts; the run's own `seed` (sampling, initialization,
discriminator split) is `first seed + i`. Run ids are `<experiment id>-<arm>-s<seed>`, so running
the same experiment id again resumes it: finished runs are skipped by the pipeline itself.
Each run is a row of the `experiments` table (experiment id, arm, seed, run id, the arm's settings,
status, wall time).
"""

from __future__ import annotations

import datetime
import json
import secrets
from dataclasses import dataclass, field

from rtt.config import Config, load_config
from rtt.data.partitions import EXPERIMENT
from rtt.data.store import Store

BUILTIN_ARMS: dict[str, dict[str, object]] = {
    "rtt": {"grpo.relevance": "discriminator"},
    "rtt-gold": {"grpo.relevance": "gold"},
    "rtt-uniform": {"grpo.relevance": "uniform"},
    "rtt-random": {"grpo.relevance": "random"},
    "grpo-aon": {"grpo.token_weight": 0.0, "grpo.reward_mode": "all_or_nothing"},
    "grpo-csr": {"grpo.token_weight": 0.0, "grpo.reward_mode": "satisfaction_rate"},
}


@dataclass
class ArmRun:
    arm: str
    seed: int
    run_id: str
    settings: dict[str, object]
    """The arm's own settings (dotted keys)."""
    overrides: list[str]
    """Everything the run is given on top of the preset: the user's `--set`, the arm, the seeds."""


@dataclass
class Experiment:
    experiment_id: str
    preset: str
    overrides: list[str]
    cfg: Config
    """The experiment's settings before any arm (the preset and `--set`)."""
    arms: dict[str, dict[str, object]]
    seeds: list[int]
    runs: list[ArmRun] = field(default_factory=list)


def arm_table(cfg: Config) -> dict[str, dict[str, object]]:
    """Every arm this config knows: the built-in ones, then the config's own (`compare.arms`)."""
    return {**BUILTIN_ARMS, **cfg.compare.arms}


def as_override(key: str, value: object) -> str:
    return f"{key}={json.dumps(value)}"


def new_experiment_id(cfg: Config) -> str:
    return f"cmp-{cfg.name}-{datetime.datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def plan_experiment(
    preset: str,
    overrides: list[str] | None = None,
    arms: list[str] | None = None,
    seeds: int = 1,
    first_seed: int = 0,
    experiment_id: str | None = None,
) -> Experiment:
    """The runs of an experiment; every run's config is loaded here, so an unknown arm, a bad arm
    setting or a bad override fails before anything runs (ValueError naming it)."""
    overrides = list(overrides or [])
    cfg = load_config(preset, overrides)
    known = arm_table(cfg)
    names = arms or cfg.compare.default_arms or list(known)
    unknown = [a for a in names if a not in known]
    if unknown:
        raise ValueError(f"unknown arm(s) {unknown}; arms: {sorted(known)} (add more under compare.arms)")
    if len(set(names)) != len(names):
        raise ValueError(f"arms named twice: {names}")
    if seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {seeds}")
    experiment_id = experiment_id or new_experiment_id(cfg)
    experiment = Experiment(
        experiment_id, preset, overrides, cfg, {a: known[a] for a in names}, list(range(first_seed, first_seed + seeds))
    )
    for arm in names:
        for seed in experiment.seeds:
            run_overrides = [
                *overrides,
                *(as_override(k, v) for k, v in known[arm].items()),
                f"seed={seed}",
                f"rubrics.seed={first_seed}",
            ]
            load_config(preset, run_overrides)  # fail now, not after hours of other arms
            experiment.runs.append(ArmRun(arm, seed, f"{experiment_id}-{arm}-s{seed}", known[arm], run_overrides))
    return experiment


def record(store: Store, experiment: Experiment, run: ArmRun, status: str, wall_s: float | None = None) -> None:
    """The run's `experiments` row (replaced as its status changes)."""
    store.write(
        "experiments",
        [
            {
                "experiment_id": experiment.experiment_id,
                "name": experiment.cfg.name,
                "preset": experiment.preset,
                "arm": run.arm,
                "seed": run.seed,
                "run_id": run.run_id,
                "settings": json.dumps(run.settings, sort_keys=True),
                "overrides": json.dumps(experiment.overrides),
                "status": status,
                "wall_s": wall_s,
                "recorded_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            }
        ],
        run.run_id,
        EXPERIMENT,
    )
