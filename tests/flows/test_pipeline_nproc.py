"""A smoke pipeline whose GRPO stage trains in 2 data-parallel processes (`grpo.nproc=2`, gloo on
this CPU): killed in the middle of its GRPO stage, rerun, it resumes from the saved state and ends
with the policy an uninterrupted 2-process stage ends with."""

from __future__ import annotations

import pytest
import torch
from mlflow.tracking import MlflowClient
from safetensors.torch import load_file

from rtt.checkpoints import policy_dir
from rtt.data.catalog import query
from rtt.data.store import Store
from rtt.runs import run_stage
from rtt.tracking import tracking_uri

RUN = "nproc-1"
SETTINGS = ["grpo.nproc=2", "grpo.relevance=gold", "grpo.steps=3", "grpo.save_every=1", "rounds=1"]


def overrides(root) -> list[str]:
    return [f"data_dir={root / 'data'}", f"tracking_uri={root / 'mlflow'}", *SETTINGS]


def test_a_two_process_grpo_stage_is_killed_resumes_and_ends_where_an_unbroken_one_does(harness, tmp_path, monkeypatch):
    from flows.pipeline import pipeline

    straight = tmp_path / "straight"
    run_stage("rubrics", "smoke", overrides(straight), RUN)
    assert run_stage("grpo", "smoke", overrides(straight), RUN, 0)["resumed_at"] == 0

    root = tmp_path / "killed"
    with monkeypatch.context() as env:
        # rank 0 writes 4 parts a step (rollouts, verdicts, token_scores, train_steps): the 6th is
        # step 1's verdicts, after step 0's state was saved. SIGKILL there; torchrun stops rank 1.
        env.setenv("RTT_CRASH_AT", "store.write:6")
        with pytest.raises(Exception, match="data-parallel processes failed"):
            pipeline(config="smoke", overrides=overrides(root), run_id=RUN)
    result = pipeline(config="smoke", overrides=overrides(root), run_id=RUN)
    assert result["stages"]["grpo-r0"]["resumed_at"] == 1 and set(result["stages"]) >= {"eval-r0"}

    a = load_file(policy_dir(Store(straight / "data"), RUN, 0) / "model.safetensors")
    b = load_file(policy_dir(Store(root / "data"), RUN, 0) / "model.safetensors")
    assert all(torch.equal(a[name], b[name]) for name in a)
    store = Store(root / "data")
    steps = query(store, "SELECT step, count(*) AS rollouts FROM rollouts WHERE step >= 0 GROUP BY step ORDER BY step")
    assert steps.to_pylist() == [{"step": s, "rollouts": 4} for s in range(3)]  # both ranks' groups, once each
    client = MlflowClient(tracking_uri(str(root / "mlflow"))[0])
    [grpo] = [
        r
        for r in client.search_runs(client.search_experiments()[0].experiment_id)
        if r.info.run_name == "grpo-r0" and r.info.status == "FINISHED"
    ]
    assert [m.step for m in client.get_metric_history(grpo.info.run_id, "reward_mean")] == [0, 1, 2]
