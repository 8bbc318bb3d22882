"""One Prefect flow per stage, each publishing its summary as artifacts (`flows.artifacts`).

Parameters (the UI's Run form): the preset, overrides, the run and the round. `parent_run` is the
MLflow parent run id when a stage runs inside the pipeline.
"""

from __future__ import annotations

from prefect import flow

from flows.artifacts import publish_stage
from rtt.runs import run_stage

PARAMETERS = """
    Args:
        config: preset name (demo, smoke, gpu, learn, testbed) or a YAML path on the worker
        overrides: dotted settings, each `key=value`, e.g. `grpo.lr=1e-6`
        run_id: the run whose data the stage reads and writes
        round: the round (eval: -1 is the starting policy)
        parent_run: MLflow parent run id (set by the pipeline; leave empty)
"""


def stage_flow(name: str):
    """`@flow` for the `name` stage, with the parameter descriptions the UI's Run form shows."""
    def wrap(fn):
        fn.__doc__ = f"Run the {name} stage of a run.\n{PARAMETERS}"
        return flow(name=f"rtt-{name}", log_prints=True, description=f"rtt: the {name} stage of a run")(fn)
    return wrap


def stage(name: str, config: str, overrides: list[str] | None, run_id: str | None, round_: int, parent_run: str | None) -> dict:
    return publish_stage(run_stage(name, config, overrides, run_id, round_, parent_run), config, overrides)


@stage_flow("rubrics")
def rubrics(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
            parent_run: str | None = None) -> dict:
    return stage("rubrics", config, overrides, run_id, round, parent_run)


@stage_flow("rollouts")
def rollouts(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
             parent_run: str | None = None) -> dict:
    return stage("rollouts", config, overrides, run_id, round, parent_run)


@stage_flow("judge")
def judge(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
          parent_run: str | None = None) -> dict:
    return stage("judge", config, overrides, run_id, round, parent_run)


@stage_flow("discriminator")
def discriminator(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
                  parent_run: str | None = None) -> dict:
    return stage("discriminator", config, overrides, run_id, round, parent_run)


@stage_flow("grpo")
def grpo(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
         parent_run: str | None = None) -> dict:
    return stage("grpo", config, overrides, run_id, round, parent_run)


@stage_flow("eval")
def evaluate(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
             parent_run: str | None = None) -> dict:
    return stage("eval", config, overrides, run_id, round, parent_run)


FLOWS = {"rubrics": rubrics, "rollouts": rollouts, "judge": judge, "discriminator": discriminator, "grpo": grpo,
         "eval": evaluate}
