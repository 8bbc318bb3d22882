"""Running stages: config, store, tracking and the resolved config around one stage function.

Every stage (`rtt.stages.STAGES`) is a function `(StageContext) -> summary` that writes its data to
the store; this module builds the context. It is what the Prefect flows (and tests) call; it never
imports Prefect. A pipeline run has one MLflow parent run; each stage gets a nested run.

Resume. Each stage that completes records its summary in `runs/<id>/stages/<name>.json`. Running
the pipeline again with the same run id skips the recorded stages, reruns the interrupted one (GRPO
and discriminator training continue from their saved state), reuses the run's MLflow parent run
and marks the runs the dead process left RUNNING as KILLED. It refuses a config that differs from
the run's saved `config.json` in anything but where the run lives and how many rounds it has.
A single stage run (`rtt run judge --run-id ...`) always runs: it is how a user re-scores.

One process at a time per run (`rtt.run_lock`): the pipeline and each stage hold the run's lock.
Ctrl-C ends the stage where it is, marks its MLflow runs KILLED and leaves the run resumable.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import secrets
import shlex
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from rtt.checkpoints import recover_atomic_dirs
from rtt.config import Config, config_dict, dotted, flat_params, load_config, save_config
from rtt.data.store import Store, is_url
from rtt.run_lock import run_lock
from rtt.stage_context import StageContext
from rtt.stages import STAGES, get_stage, stage_name
from rtt.tracking import Tracker

log = logging.getLogger(__name__)


# Settings a resumed pipeline may change: where the run lives, and how many rounds it runs
# (round r's data does not depend on the number of rounds: a run can be extended).
RESUMABLE_CHANGES = (
    "data_dir",
    "tracking_uri",
    "tracking_ui",
    "rounds",
    "compare",
    "registry",
    "stage_retries",
    "stage_retry_delay_s",
    "stages_on_pools",
)
"""Settings (and sections) a run may be resumed under changed: where it writes, how many rounds,
`compare`, which configures experiments, not the run, and what happens around its stages (model
registry, retries, which process runs them)."""


class ConfigMismatch(ValueError):
    """Resuming a run under other settings than it started with (it would mix two runs)."""


@dataclass
class PipelineRun:
    cfg: Config
    run_id: str
    tracker: Tracker
    store: Store
    lock_token: str
    """The run lock's token: a stage run in another process runs under the pipeline's lock with it."""

    def completed(self, stage: str, round_: int = 0) -> dict | None:
        """The summary of `stage` if an earlier attempt of this run completed it (logged as skipped)."""
        summary = completed_summary(self.store, self.run_id, stage, round_)
        if summary is not None:
            log.info("[%s] skipped: completed by an earlier attempt of run %s", stage_name(stage, round_), self.run_id)
        return summary


def round_stages(cfg: Config) -> tuple[str, ...]:
    """The pipeline's stages of one round. The offline rollouts, their judging and discriminator
    training only feed GRPO's token relevance: a run that does not score relevance with the
    discriminator (plain GRPO, or gold, uniform, random, lexical relevance) skips them; any of them
    can still be run by hand (`rtt run rollouts ...`)."""
    relevance = cfg.grpo.token_weight != 0 and cfg.grpo.relevance == "discriminator"
    return tuple(s.name for s in STAGES if s.per_round and (relevance or not s.relevance_only))


def new_run_id(cfg: Config) -> str:
    return f"{cfg.name}-{datetime.datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def marker_path(store: Store, run_id: str, stage: str, round_: int) -> Path:
    return store.run_dir(run_id) / "stages" / f"{stage_name(stage, round_)}.json"


def completed_summary(store: Store, run_id: str, stage: str, round_: int) -> dict | None:
    path = marker_path(store, run_id, stage, round_)
    return json.loads(path.read_text()) if path.exists() else None


def write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as handle:
        handle.write(json.dumps(data, indent=2, default=str) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def within(key: str, names: tuple[str, ...]) -> bool:
    """True if dotted `key` is one of `names` or lies in one of them taken as a section."""
    return any(key == name or key.startswith(f"{name}.") for name in names)


def config_differences(cfg: Config, saved: dict, allowed: tuple[str, ...] = ()) -> list[str]:
    """Dotted keys whose value in `cfg` differs from the saved config, as `key: saved -> now`.

    `allowed` keys, and the keys of `allowed` sections, are left out. A key the saved config lacks
    is a setting added to the code since: at its default it changes nothing and is no difference.
    """
    now, before, default = dotted(config_dict(cfg)), dotted(saved), dotted(config_dict(Config()))
    keys = sorted(k for k in set(now) | set(before) if not within(k, allowed))
    return [f"{k}: {before.get(k)!r} -> {now.get(k)!r}" for k in keys if now.get(k) != before.get(k, default.get(k))]


def check_resumable(cfg: Config, run_id: str) -> None:
    """Raise ConfigMismatch if run `run_id` exists with other settings than `cfg`."""
    path = Store(cfg.data_dir).run_dir(run_id) / "config.json"
    if not path.exists():
        return
    differences = config_differences(cfg, json.loads(path.read_text()), RESUMABLE_CHANGES)
    if differences:
        raise ConfigMismatch(
            f"run {run_id} was started with other settings ({path}); resuming it under these would "
            f"mix two runs. Differences (saved -> now): {'; '.join(differences)}. "
            "Use the saved settings, or a new run id."
        )


def resume_command(
    preset: str, overrides: list[str] | None, run_id: str, stage: str = "pipeline", round_: int = 0
) -> str:
    """The command line that continues this run (or reruns this stage)."""
    words = [
        "rtt",
        "run",
        stage,
        "--config",
        preset,
        *[w for o in overrides or [] for w in ("--set", o)],
        "--run-id",
        run_id,
    ]
    return shlex.join(words + (["--round", str(round_)] if stage != "pipeline" and get_stage(stage).per_round else []))


def recover_partial_writes(store: Store, run_id: str) -> None:
    """Complete or remove what a dead process of this run left half-saved (call with the run's lock held)."""
    finished = recover_atomic_dirs(store.run_dir(run_id))
    if finished:
        log.info("completed %d checkpoint save(s) interrupted mid-swap: %s", len(finished), [str(p) for p in finished])
    store.remove_temp_files(run_id)


def prepare(preset: str, overrides: list[str] | None, run_id: str | None) -> tuple[Config, Store, str]:
    """Load the config, apply torch settings, save the resolved config under the run's folder (a
    run's first config stays: a stage rerun under other settings warns, its MLflow run has them)."""
    cfg = load_config(preset, overrides or [])
    run_id = run_id or new_run_id(cfg)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    store = Store(cfg.data_dir)
    path = store.run_dir(run_id) / "config.json"
    differences = config_differences(cfg, json.loads(path.read_text()), RESUMABLE_CHANGES) if path.exists() else []
    if differences:
        log.warning(
            "run %s: this stage runs with settings that differ from the run's %s: %s",
            run_id,
            path,
            "; ".join(differences),
        )
    else:
        save_config(cfg, path)
    return cfg, store, run_id


def run_stage(
    stage: str,
    preset: str = "demo",
    overrides: list[str] | None = None,
    run_id: str | None = None,
    round_: int = 0,
    parent_tracking_id: str | None = None,
    lock_token: str | None = None,
) -> dict:
    """Run one stage in its own (nested, when a parent is given) MLflow run, holding the run's lock
    (or, given the holder's `lock_token`, under a pipeline's lock: `rtt.run_lock`); record and
    return its summary."""
    run = get_stage(stage).run
    cfg = load_config(preset, overrides or [])
    run_id = run_id or new_run_id(cfg)
    with run_lock(cfg.data_dir, run_id, token=lock_token):
        cfg, store, run_id = prepare(preset, overrides, run_id)
        recover_partial_writes(store, run_id)
        name = stage_name(stage, round_)
        tracker = Tracker.open(
            cfg.tracking_uri,
            cfg.experiment,
            name,
            parent_tracking_id,
            tags={"rtt.run_id": run_id, "rtt.stage": stage, "rtt.round": round_, **campaign_tags(cfg)},
            artifacts=mlflow_artifacts(cfg),
        )
        tracker.log_params(flat_params(cfg))
        log.info("[%s] started", name)
        start = time.perf_counter()
        try:
            summary = run(StageContext(cfg, store, tracker, run_id, round_))
        except KeyboardInterrupt:
            # A save the interrupt cut short may have left its temp folder (seen once in ~10 runs of
            # the kill test under load): this process holds the run, and its stage has unwound.
            recover_partial_writes(store, run_id)
            tracker.finish("KILLED")
            if parent_tracking_id is None:  # inside a pipeline, the pipeline says how to resume
                log.warning(
                    "[%s] interrupted; rerun it with: %s",
                    name,
                    resume_command(preset, overrides, run_id, stage, round_),
                )
            raise
        except BaseException:
            tracker.finish("FAILED")
            raise
        summary = {
            "run_id": run_id,
            "stage": stage,
            "round": round_,
            **summary,
            "wall_s": round(time.perf_counter() - start, 1),
            "mlflow_run_id": tracker.run_id,
            "mlflow_experiment_id": tracker.experiment_id,
        }
        tracker.log_dict(summary, "summary.json")
        write_json_atomic(marker_path(store, run_id, stage, round_), summary)
        tracker.finish()
        log.info("[%s] %s", name, json.dumps(summary))
        return summary


def campaign_tags(cfg: Config, continuation: int | None = None) -> dict[str, object]:
    """MLflow tags naming the campaign (and continuation) a run belongs to; none for a run on its own."""
    tags = {"rtt.campaign": cfg.campaign} if cfg.campaign else {}
    return tags | ({"rtt.continuation": continuation} if continuation is not None else {})


def mlflow_artifacts(cfg: Config) -> str | None:
    """Where a new MLflow experiment keeps its artifacts: beside a lake on an object store
    (`<data_dir>/mlflow`); None (the tracking store's own place) for a lake in a folder."""
    return f"{cfg.data_dir.rstrip('/')}/mlflow" if is_url(cfg.data_dir) else None


@contextmanager
def pipeline_run(
    preset: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, continuation: int | None = None
) -> Iterator[PipelineRun]:
    """A new or resumed pipeline run, holding the run's lock, in its MLflow parent run; the parent
    ends KILLED on Ctrl-C (and says how to resume), FAILED on an error. `finish_pipeline` ends it well.
    Each `continuation` of a campaign has a parent run of its own."""
    cfg = load_config(preset, overrides or [])
    run_id = run_id or new_run_id(cfg)
    with run_lock(cfg.data_dir, run_id) as lock_token:
        check_resumable(cfg, run_id)
        cfg, store, run_id = prepare(preset, overrides, run_id)
        recover_partial_writes(store, run_id)
        name = f"pipeline-{run_id}" if continuation is None else f"{run_id}-c{continuation}"
        tracker = Tracker.resume_or_open(
            cfg.tracking_uri,
            cfg.experiment,
            name,
            tags={"rtt.run_id": run_id, "rtt.stage": "pipeline", **campaign_tags(cfg, continuation)},
            artifacts=mlflow_artifacts(cfg),
        )
        params = flat_params(cfg)
        # MLflow refuses to change a logged param: a resumed parent keeps its first values of these
        tracker.log_params({k: v for k, v in params.items() if not (tracker.resumed and within(k, RESUMABLE_CHANGES))})
        tracker.log_artifact(store.run_dir(run_id) / "config.json")
        try:
            yield PipelineRun(cfg, run_id, tracker, store, lock_token)
        except KeyboardInterrupt:
            tracker.finish("KILLED")
            log.warning(
                "pipeline %s interrupted; resume it with: %s", run_id, resume_command(preset, overrides, run_id)
            )
            raise
        except BaseException:
            tracker.finish("FAILED")
            raise


def finish_pipeline(run: PipelineRun, summaries: dict[str, dict]) -> dict:
    wall = {name: s.get("wall_s") for name, s in summaries.items()}
    run.tracker.log_dict({"stages": summaries}, "pipeline_summary.json")
    run.tracker.log_metrics({f"wall_s_{name}": seconds for name, seconds in wall.items() if seconds is not None})
    run.tracker.finish()
    return {"run_id": run.run_id, "wall_s": wall, "stages": summaries}
