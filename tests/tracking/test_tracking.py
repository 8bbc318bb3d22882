import logging

from mlflow.tracking import MlflowClient

from rtt.tracking import Tracker, tracking_uri


def test_parent_and_nested_runs_in_a_real_local_store(tmp_path):
    parent = Tracker.open(str(tmp_path / "mlflow"), "exp", "pipeline-x", tags={"rtt.run_id": "x"})
    parent.log_params({"grpo.lr": 1e-6, "seed": 0})
    child = parent.child("grpo-r0", tags={"rtt.stage": "grpo"})
    for step in range(3):
        child.log_metrics({"reward_mean": 0.1 * step}, step=step)
    child.log_dict({"steps": 3}, "summary.json")
    child.finish()
    parent.finish()

    client = MlflowClient(tracking_uri(str(tmp_path / "mlflow"))[0])
    run = client.get_run(child.run_id)
    assert run.data.tags["mlflow.parentRunId"] == parent.run_id
    assert [m.value for m in client.get_metric_history(child.run_id, "reward_mean")] == [0.0, 0.1, 0.2]
    assert client.get_run(parent.run_id).data.params["grpo.lr"] == "1e-06"
    assert [a.path for a in client.list_artifacts(child.run_id)] == ["summary.json"]
    assert run.info.status == "FINISHED"


def test_a_tracking_failure_warns_and_never_raises(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with caplog.at_level(logging.WARNING):
        tracker = Tracker.open(str(blocker / "mlflow"), "exp", "run")
        tracker.log_metrics({"x": 1.0})
        tracker.child("stage").log_params({"a": 1})
        tracker.finish()
    assert not tracker.enabled
    assert "tracking disabled" in caplog.text


def test_a_failure_mid_run_disables_the_tracker(tmp_path, caplog):
    tracker = Tracker.open(str(tmp_path / "mlflow"), "exp", "run")
    with caplog.at_level(logging.WARNING):
        tracker.log_metrics({"bad": float("nan"), "x": "not a number"})  # type error inside log_batch
    tracker.log_metrics({"y": 1.0})  # a no-op now, and no exception
    assert not tracker.enabled
