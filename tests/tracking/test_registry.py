"""Each round's checkpoints as versions of a registered model, by reference, with alias `best` (the
highest metric, ties to the newer version); `latest` is MLflow's own, the newest version."""

import logging
import shutil

import pytest
from mlflow.tracking import MlflowClient

from rtt.tracking import (
    Tracker,
    model_versions,
    registered_model_name,
    registered_model_path,
    tracking_uri,
)


def checkpoints(tmp_path, n: int) -> list:
    out = []
    for r in range(n):
        folder = tmp_path / "runs" / "x" / "policy" / f"round_{r}"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        out.append(folder)
    return out


def stage_tracker(uri: str, round_: int) -> Tracker:
    return Tracker.open(uri, "exp", f"eval-r{round_}", tags={"rtt.run_id": "x", "rtt.stage": "eval"})


def test_versions_carry_tags_source_and_aliases(tmp_path):
    uri = str(tmp_path / "mlflow")
    folders = checkpoints(tmp_path, 3)
    trackers = []
    for round_, (folder, value) in enumerate(zip(folders, [0.3, 0.5, 0.4])):
        trackers.append(stage_tracker(uri, round_))
        version = trackers[-1].register_model(
            "x-policy", folder, "x", round_, "heldout_item_accuracy", value, 24, campaign="c1"
        )
        assert version == round_ + 1
    versions = model_versions(uri, "x-policy")
    # best: 0.5 is round 1's (version 2); latest: round 2's (version 3)
    assert [(v["version"], v["round"], v["value"], v["aliases"]) for v in versions] == [
        (1, 0, 0.3, []),
        (2, 1, 0.5, ["best"]),
        (3, 2, 0.4, ["latest"]),
    ]
    first = versions[0]
    assert first["source"] == folders[0].resolve().as_uri() and first["checkpoint"] == str(folders[0].resolve())
    assert (first["metric"], first["n"], first["run_id"], first["campaign"]) == ("heldout_item_accuracy", 24, "x", "c1")
    assert first["mlflow_run_id"] == trackers[0].run_id
    client = MlflowClient(tracking_uri(uri)[0])
    assert client.get_model_version("x-policy", "1").run_id == trackers[0].run_id  # the stage run that made it
    assert client.get_registered_model("x-policy").tags == {"rtt.run_id": "x", "rtt.campaign": "c1"}
    assert not any(client.list_artifacts(t.run_id) for t in trackers)  # by reference: no weights copied


def test_best_ties_go_to_the_newer_version_and_a_missing_metric_never_wins(tmp_path):
    uri = str(tmp_path / "mlflow")
    tracker = stage_tracker(uri, 0)
    for round_, (folder, value) in enumerate(zip(checkpoints(tmp_path, 3), [0.5, 0.5, None])):
        tracker.register_model("x-discriminator", folder, "x", round_, "heldout_token_f1", value)
    aliases = {v["version"]: v["aliases"] for v in model_versions(uri, "x-discriminator")}
    assert aliases == {1: [], 2: ["best"], 3: ["latest"]}


def test_rerunning_a_round_updates_its_version(tmp_path):
    uri = str(tmp_path / "mlflow")
    folders = checkpoints(tmp_path, 2)
    first = stage_tracker(uri, 0)
    first.register_model("x-policy", folders[0], "x", 0, "heldout_item_accuracy", 0.3, 24, campaign="c1")
    stage_tracker(uri, 1).register_model("x-policy", folders[1], "x", 1, "heldout_item_accuracy", 0.4, 24)
    rerun = stage_tracker(uri, 0)
    assert rerun.register_model("x-policy", folders[0], "x", 0, "heldout_item_accuracy", 0.6, 24) == 1
    versions = model_versions(uri, "x-policy")
    assert [(v["version"], v["value"], v["aliases"]) for v in versions] == [(1, 0.6, ["best"]), (2, 0.4, ["latest"])]
    assert versions[0]["mlflow_run_id"] == rerun.run_id and versions[0]["campaign"] is None  # rtt tags replaced


def test_registry_failures_warn_and_never_raise(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    [folder] = checkpoints(tmp_path, 1)
    with caplog.at_level(logging.WARNING):
        assert (
            Tracker.open(str(blocker / "mlflow"), "exp", "run").register_model("x-policy", folder, "x", 0, "m", 0.5)
            is None
        )
        working = stage_tracker(str(tmp_path / "mlflow"), 0)
        assert working.register_model("bad/name", folder, "x", 0, "m", 0.5) is None  # the registry refuses the name
    assert "could not register bad/name" in caplog.text
    assert working.enabled  # the stage's other tracking goes on
    assert model_versions(str(tmp_path / "mlflow"), "nothing-here") == []


def test_names_and_ui_path():
    assert registered_model_name("smoke-1", "policy") == "smoke-1-policy"
    assert registered_model_path("a b-policy") == "#/models/a%20b-policy"


def test_smoke_stages_register_the_discriminator_and_the_policy_which_loads_by_alias(tmp_path, tiny_model_dir):
    import mlflow
    import mlflow.artifacts
    from transformers import AutoModelForCausalLM

    from rtt.checkpoints import policy_dir
    from rtt.data.catalog import query
    from rtt.data.store import Store
    from rtt.runs import run_stage

    args = [f"data_dir={tmp_path / 'data'}", f"tracking_uri={tmp_path / 'mlflow'}", f"model.policy={tiny_model_dir}"]
    run_stage("rubrics", "smoke", args, "reg-1")
    for stage in ("rollouts", "judge"):
        run_stage(stage, "smoke", args, "reg-1", 0)
    disc = run_stage("discriminator", "smoke", args, "reg-1", 0)
    [version] = model_versions(str(tmp_path / "mlflow"), "reg-1-discriminator")
    assert (version["round"], version["aliases"], version["metric"]) == (0, ["best", "latest"], "heldout_token_f1")
    assert (
        version["value"] == pytest.approx(disc["heldout_f1"], abs=1e-4) and version["checkpoint"] == disc["checkpoint"]
    )

    store = Store(tmp_path / "data")
    shutil.copytree(tiny_model_dir, policy_dir(store, "reg-1", 0))  # stands in for round 0's GRPO stage
    run_stage("eval", "smoke", args, "reg-1", -1)  # the starting policy: not registered
    assert model_versions(str(tmp_path / "mlflow"), "reg-1-policy") == []
    summary = run_stage("eval", "smoke", args, "reg-1", 0)
    [version] = model_versions(str(tmp_path / "mlflow"), "reg-1-policy")
    [row] = query(
        store,
        "SELECT value, n FROM evals WHERE round = 0 AND benchmark = 'heldout_rubrics' AND metric = 'item_accuracy'",
    ).to_pylist()
    assert (version["round"], version["aliases"], version["metric"]) == (0, ["best", "latest"], "heldout_item_accuracy")
    assert (version["value"], version["n"]) == (pytest.approx(row["value"]), row["n"])
    assert version["checkpoint"] == summary["checkpoint"]
    stage_runs = MlflowClient(tracking_uri(str(tmp_path / "mlflow"))[0]).get_run(version["mlflow_run_id"])
    assert stage_runs.data.tags["rtt.stage"] == "eval" and stage_runs.data.tags["rtt.round"] == "0"
    mlflow.set_tracking_uri(tracking_uri(str(tmp_path / "mlflow"))[0])
    path = mlflow.artifacts.download_artifacts("models:/reg-1-policy@best")  # a local source: the folder itself
    assert (
        path.rstrip("/") == summary["checkpoint"] == mlflow.artifacts.download_artifacts("models:/reg-1-policy/latest")
    )
    assert AutoModelForCausalLM.from_pretrained(path).config.num_hidden_layers == 2
