"""One Prefect flow per stage. Parameters: preset name or YAML path, overrides, run id, round.

`parent_run` is the MLflow parent run id when a stage runs inside the pipeline.
"""

from __future__ import annotations

from prefect import flow

from rtt.runs import run_stage


@flow(name="rtt-rubrics", log_prints=True)
def rubrics(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
            parent_run: str | None = None) -> dict:
    return run_stage("rubrics", config, overrides, run_id, round, parent_run)


@flow(name="rtt-rollouts", log_prints=True)
def rollouts(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
             parent_run: str | None = None) -> dict:
    return run_stage("rollouts", config, overrides, run_id, round, parent_run)


@flow(name="rtt-judge", log_prints=True)
def judge(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
          parent_run: str | None = None) -> dict:
    return run_stage("judge", config, overrides, run_id, round, parent_run)


@flow(name="rtt-discriminator", log_prints=True)
def discriminator(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
                  parent_run: str | None = None) -> dict:
    return run_stage("discriminator", config, overrides, run_id, round, parent_run)


@flow(name="rtt-grpo", log_prints=True)
def grpo(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
         parent_run: str | None = None) -> dict:
    return run_stage("grpo", config, overrides, run_id, round, parent_run)


@flow(name="rtt-eval", log_prints=True)
def evaluate(config: str = "demo", overrides: list[str] | None = None, run_id: str | None = None, round: int = 0,
             parent_run: str | None = None) -> dict:
    return run_stage("eval", config, overrides, run_id, round, parent_run)


FLOWS = {"rubrics": rubrics, "rollouts": rollouts, "judge": judge, "discriminator": discriminator, "grpo": grpo,
         "eval": evaluate}
