"""`rtt compare` as a flow: every (arm, seed) run is a pipeline subflow, then the report.

Start it from the UI (deployment `compare-<preset>`, see flows/deploy.py) or `rtt compare`. Run
again with the same experiment id, it resumes: finished runs are skipped stage by stage."""

from __future__ import annotations

from prefect import flow

from flows.pipeline import pipeline
from rtt.compare import finish_experiment
from rtt.compare.experiment import plan_experiment, record
from rtt.data.store import Store


@flow(name="rtt-compare", log_prints=True)
def compare(
    config: str = "testbed",
    arms: list[str] | None = None,
    seeds: int = 1,
    seed: int = 0,
    overrides: list[str] | None = None,
    experiment_id: str | None = None,
    out: str | None = None,
    notes: str = "",
) -> dict:
    """Run arms x seeds on the same prompts and report which learned more.

    Args:
        config: preset name (testbed, learn, demo, smoke, gpu) or a YAML path on the worker
        arms: arms to run (empty: compare.default_arms, else all): rtt, rtt-gold, rtt-uniform, rtt-random,
            grpo-aon, grpo-csr, or arms of compare.arms
        seeds: seeds per arm
        seed: first seed (also the seed of the prompts)
        overrides: dotted settings for every arm, each `key=value`
        experiment_id: an experiment to resume; empty: a new one
        out: also write the report JSON to this path
        notes: markdown appended to the report pages (a reading of the numbers)
    """
    experiment = plan_experiment(config, overrides, arms, seeds, seed, experiment_id)
    store = Store(experiment.cfg.data_dir)
    print(
        f"experiment {experiment.experiment_id}: {len(experiment.runs)} runs "
        f"({', '.join(experiment.arms)} x seeds {experiment.seeds})"
    )
    for run in experiment.runs:
        record(store, experiment, run, "running")
        result = pipeline(config=config, overrides=run.overrides, run_id=run.run_id)
        record(store, experiment, run, "finished", round(sum(s for s in result["wall_s"].values() if s is not None), 1))
    return finish_experiment(store, experiment, out, notes)
