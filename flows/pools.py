"""A pipeline's stages sent to their work pools (`stages_on_pools: true`).

Each stage runs as a flow run of its deployment, `rtt-<stage>/<stage>-<pool>` (`prefect.yaml`; the
pool is `rtt.stages.Stage.pool`), started with `run_deployment` as a subflow of the pipeline's flow
run, so the UI shows it under the pipeline. The pipeline waits for it, then reads the summary the
stage recorded in the run's folder (which is why the workers' hosts must share that folder). The
stage runs under the pipeline's run lock: it gets the lock's token (`rtt.run_lock`), checked when
the stage starts. So if the pipeline dies, a stage already sent runs to its end on its worker: let
it (or cancel it in the UI) before resuming the run. A stage that ends other than Completed is sent
again `stage_retries` times, as an in-process stage is retried.
"""

from __future__ import annotations

import logging
import time

from prefect.deployments import run_deployment

from rtt.runs import PipelineRun, completed_summary, marker_path
from rtt.stages import get_stage, stage_name

log = logging.getLogger(__name__)
POLL_S = 2.0  # how often the pipeline asks the API whether its stage's flow run has ended


def deployment_name(stage: str) -> str:
    """`rtt-grpo/grpo-gpu`: the stage's deployment on its pool, as `prefect.yaml` names it."""
    return f"rtt-{stage}/{stage}-{get_stage(stage).pool}"


def run_on_pool(run: PipelineRun, stage: str, round_: int, parameters: dict) -> dict:
    """Run `stage` of round `round_` on its pool and wait; its summary, or RuntimeError saying why not."""
    name, deployment = stage_name(stage, round_), deployment_name(stage)
    parameters = {**parameters, "round": round_, "lock_token": run.lock_token}
    for attempt in range(run.cfg.stage_retries + 1):
        if attempt:
            time.sleep(run.cfg.stage_retry_delay_s)
        log.info("[%s] sent to pool %s (deployment %s)", name, get_stage(stage).pool, deployment)
        flow_run = run_deployment(deployment, parameters=parameters, timeout=None, poll_interval=POLL_S)
        if flow_run.state.is_completed():
            break
        log.warning("[%s] flow run %s ended %s: %s", name, flow_run.name, flow_run.state.name, flow_run.state.message)
    else:
        raise RuntimeError(
            f"{name}: flow run {flow_run.name} of {deployment} ended {flow_run.state.name} "
            f"after {run.cfg.stage_retries + 1} attempt(s); its logs are in the Prefect UI"
        )
    summary = completed_summary(run.store, run.run_id, stage, round_)
    if summary is None:
        raise RuntimeError(
            f"{name}: flow run {flow_run.name} of {deployment} completed, but its summary is not at "
            f"{marker_path(run.store, run.run_id, stage, round_)}: the pipeline's host must see the "
            "run folder of the worker's host (a lake folder on a shared file system, or RTT_STATE_DIR)"
        )
    return summary
