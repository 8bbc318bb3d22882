"""The whole pipeline: rubrics, a baseline eval, then R rounds of
rollouts -> judge -> discriminator -> grpo -> eval, each round starting from the last policy
(the first three only when GRPO scores relevance with the discriminator: `rtt.runs.round_stages`).

Rerun with the same run id, it resumes: stages an earlier attempt completed are skipped (their
recorded summaries stand), the rest run (see `rtt.runs`)."""

from __future__ import annotations

from prefect import flow

from flows.stages import FLOWS
from rtt.runs import finish_pipeline, pipeline_run, round_stages


@flow(name="rtt-pipeline", log_prints=True)
def pipeline(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None) -> dict:
    with pipeline_run(config, overrides, run_id) as run:
        args = {"config": config, "overrides": overrides, "run_id": run.run_id, "parent_run": run.tracker.run_id}

        def stage(name: str, round_: int = 0) -> dict:
            return run.completed(name, round_) or FLOWS[name](**args, round=round_)

        summaries = {"rubrics": stage("rubrics"), "eval-base": stage("eval", -1)}
        for round_ in range(run.cfg.rounds):
            for name in round_stages(run.cfg):
                summaries[f"{name}-r{round_}"] = stage(name, round_)
        return finish_pipeline(run, summaries)
