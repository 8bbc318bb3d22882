"""The whole pipeline: rubrics, a baseline eval, then R rounds of
rollouts -> judge -> discriminator -> grpo -> eval, each round starting from the last policy."""

from __future__ import annotations

from prefect import flow

from flows.stages import FLOWS
from rtt.runs import ROUND_STAGES, finish_pipeline, start_pipeline


@flow(name="rtt-pipeline", log_prints=True)
def pipeline(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None) -> dict:
    run = start_pipeline(config, overrides, run_id)
    args = {"config": config, "overrides": overrides, "run_id": run.run_id, "parent_run": run.tracker.run_id}
    summaries = {"rubrics": FLOWS["rubrics"](**args), "eval-base": FLOWS["eval"](**args, round=-1)}
    for round_ in range(run.cfg.rounds):
        for stage in ROUND_STAGES:
            summaries[f"{stage}-r{round_}"] = FLOWS[stage](**args, round=round_)
    return finish_pipeline(run, summaries)
