"""The whole pipeline: rubrics, a baseline eval, then R rounds of
rollouts -> judge -> discriminator -> grpo -> eval, each round starting from the last policy
(the first three only when GRPO scores relevance with the discriminator: `rtt.runs.round_stages`).
Each stage runs in this flow run's process, or with `stages_on_pools: true` on its work pool
(`flows/pools.py`).

Rerun with the same run id, it resumes: stages an earlier attempt completed are skipped (their
recorded summaries stand), the rest run (see `rtt.runs`). A stage that fails is retried
`stage_retries` times (Prefect retries; safe, as a rerun of a stage is)."""

from __future__ import annotations

from prefect import flow

from flows.artifacts import publish_pipeline
from flows.pools import run_on_pool
from flows.stages import FLOWS
from rtt.runs import finish_pipeline, pipeline_run, round_stages
from rtt.stages import stage_name


@flow(name="rtt-pipeline", log_prints=True, description="rtt: rubrics, a baseline eval, then R rounds of training")
def pipeline(
    config: str = "demo",
    overrides: list[str] | None = None,
    run_id: str | None = None,
    rounds: int | None = None,
    continuation: int | None = None,
    stages_on_pools: bool = False,
) -> dict:
    """Run (or resume) the whole pipeline.

    Args:
        config: preset name (demo, smoke, gpu, learn, testbed) or a YAML path on the worker
        overrides: dotted settings, each `key=value`, e.g. `grpo.lr=1e-6`
        run_id: a run to resume or extend; empty: a new run
        rounds: rounds of training (empty: the preset's)
        continuation: the campaign continuation this is (set by the campaign flows; leave empty)
        stages_on_pools: send each stage to its work pool (GRPO, rollouts, discriminator, eval: gpu;
            rubrics, judge: cpu) instead of running it here; the `stages_on_pools` setting
    """
    overrides = [
        *(overrides or []),
        *([f"rounds={rounds}"] if rounds is not None else []),
        *(["stages_on_pools=true"] if stages_on_pools else []),
    ]
    with pipeline_run(config, overrides, run_id, continuation) as run:
        args = {"config": config, "overrides": overrides, "run_id": run.run_id, "parent_run": run.tracker.run_id}
        retry = {"retries": run.cfg.stage_retries, "retry_delay_seconds": run.cfg.stage_retry_delay_s}

        def stage(name: str, round_: int = 0) -> dict:
            if done := run.completed(name, round_):
                return done
            if run.cfg.stages_on_pools:
                return run_on_pool(run, name, round_, args)
            return FLOWS[name].with_options(**retry)(**args, round=round_)

        summaries = {"rubrics": stage("rubrics"), "eval-base": stage("eval", -1)}
        for round_ in range(run.cfg.rounds):
            for name in round_stages(run.cfg):
                summaries[stage_name(name, round_)] = stage(name, round_)
        return publish_pipeline(finish_pipeline(run, summaries), run.cfg.data_dir)
