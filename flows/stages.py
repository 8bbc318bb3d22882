"""One thin Prefect flow per stage of `rtt.stages.STAGES`, each publishing its summary as artifacts
(`flows.artifacts`). Each flow is this module's attribute of the stage's name, so its entrypoint is
`flows/stages.py:<stage>` (`prefect.yaml`).

Parameters (the UI's Run form): the preset, overrides, the run and the round. `parent_run` is the
MLflow parent run id when a stage runs inside the pipeline, and `lock_token` the run lock's token
when the pipeline sent the stage to its work pool (`flows/pools.py`).
"""

from __future__ import annotations

from prefect import Flow, flow

from flows.artifacts import publish_stage
from rtt.runs import run_stage
from rtt.stages import STAGES, Stage

PARAMETERS = """
    Args:
        config: preset name (demo, smoke, gpu, learn, testbed) or a YAML path on the worker
        overrides: dotted settings, each `key=value`, e.g. `grpo.lr=1e-6`
        run_id: the run whose data the stage reads and writes
        round: the round (eval: -1 is the starting policy)
        parent_run: MLflow parent run id (set by the pipeline; leave empty)
        lock_token: the run lock's token, from a pipeline that sent this stage to its pool (leave empty)
"""


def stage_flow(stage: Stage) -> Flow:
    """The `rtt-<stage>` flow, with the parameter descriptions the UI's Run form shows."""

    def run(
        config: str = "demo",
        overrides: list[str] | None = None,
        run_id: str | None = None,
        round: int = 0,
        parent_run: str | None = None,
        lock_token: str | None = None,
    ) -> dict:
        summary = run_stage(stage.name, config, overrides, run_id, round, parent_run, lock_token)
        return publish_stage(summary, config, overrides)

    run.__name__ = run.__qualname__ = stage.name  # what a deployment's entrypoint names (Prefect imports it back)
    run.__doc__ = f"Run the {stage.name} stage of a run: {stage.description}.\n{PARAMETERS}"
    return flow(name=f"rtt-{stage.name}", log_prints=True, description=f"rtt: {stage.description}")(run)


FLOWS = {stage.name: stage_flow(stage) for stage in STAGES}
globals().update(FLOWS)
