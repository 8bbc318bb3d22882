"""The whole pipeline as a real Prefect flow run (test harness), on the tiny model."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from rtt.data.catalog import query
from rtt.data.store import Store
from rtt.tracking import tracking_uri

TABLES = (
    "prompts",
    "rubrics",
    "rollouts",
    "verdicts",
    "token_scores",
    "train_steps",
    "disc_metrics",
    "evals",
    "generations",
)


@pytest.fixture(scope="module")
def smoke_run(harness, tmp_path_factory):
    from flows.pipeline import pipeline

    root = tmp_path_factory.mktemp("pipeline")
    overrides = [f"data_dir={root / 'data'}", f"tracking_uri={root / 'mlflow'}"]
    result = pipeline(config="smoke", overrides=overrides, run_id="smoke-1")
    return root, overrides, result


def counts(store: Store) -> dict[str, int]:
    return {t: query(store, f"SELECT count(*) AS n FROM {t}").to_pylist()[0]["n"] for t in TABLES}


def test_pipeline_fills_every_table(smoke_run):
    root, _, result = smoke_run
    n = counts(Store(root / "data"))
    assert all(v > 0 for v in n.values()), n
    assert set(result["wall_s"]) == {"rubrics", "eval-base"} | {
        f"{s}-r{r}" for r in (0, 1) for s in ("rollouts", "judge", "discriminator", "grpo", "eval")
    }
    steps = query(Store(root / "data"), "SELECT round, step FROM train_steps ORDER BY round, step").to_pylist()
    assert [(r["round"], r["step"]) for r in steps] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    same = query(Store(root / "data"), "SELECT bool_and(abs(reward_mean - reward_aon) < 1e-6) AS ok FROM train_steps")
    assert same.to_pylist() == [{"ok": True}]  # the smoke preset trains on the all-or-nothing reward
    evals = query(Store(root / "data"), "SELECT DISTINCT round FROM evals ORDER BY round").to_pylist()
    assert [r["round"] for r in evals] == [-1, 0, 1]


def test_rounds_chain_checkpoints(smoke_run):
    root, _, _ = smoke_run
    run = root / "data" / "runs" / "smoke-1"
    assert (run / "config.json").exists()
    for round_ in (0, 1):
        assert (run / "policy" / f"round_{round_}" / "model.safetensors").exists()
        assert (run / "discriminator" / f"round_{round_}" / "model.safetensors").exists()
    assert not (run / "disc_state").exists() or not any((run / "disc_state").iterdir())  # removed once saved
    policies = query(Store(root / "data"), "SELECT DISTINCT round, policy FROM rollouts ORDER BY round").to_pylist()
    assert policies[-1]["policy"].endswith("policy/round_0")  # round 1 samples from round 0's policy


def test_mlflow_has_one_parent_with_nested_stage_runs(smoke_run):
    root, _, result = smoke_run
    client = MlflowClient(tracking_uri(str(root / "mlflow"))[0])
    experiment = client.get_experiment_by_name("rtt")
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    parents = [r for r in runs if r.data.tags.get("rtt.stage") == "pipeline"]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) == len(result["wall_s"]) == 12
    assert all(c.info.status == "FINISHED" and c.data.params["grpo.token_norm"] == "intra_sample" for c in children)
    grpo = next(c for c in children if c.info.run_name == "grpo-r0")
    assert "reward_mean" in grpo.data.metrics
    disc = next(c for c in children if c.info.run_name == "discriminator-r0")
    assert {"disc_train_loss", "disc_loss", "disc_f1", "disc_auroc"} <= set(disc.data.metrics)


def test_rerunning_a_stage_replaces_its_rows(smoke_run):
    from flows.stages import judge

    root, overrides, _ = smoke_run
    store = Store(root / "data")
    before = counts(store)
    judge(config="smoke", overrides=overrides, run_id="smoke-1", round=0)
    assert counts(store) == before


def test_show_shades_every_item_of_a_grpo_rollout(smoke_run):
    from rtt.relevance_view import render_html, render_terminal

    root, _, _ = smoke_run
    store = Store(root / "data")
    rollout = query(store, "SELECT rollout_id FROM rollouts WHERE step = 0 ORDER BY rollout_id LIMIT 1").to_pylist()[0]
    items = query(
        store,
        f"""SELECT r.text FROM verdicts v JOIN rubrics r USING (item_id)
                             WHERE v.rollout_id = '{rollout["rollout_id"]}'""",
    ).to_pylist()
    page = render_terminal(store, rollout["rollout_id"])
    assert items and all(i["text"] in page for i in items)
    assert "relevance: discriminator" in page
    html_page = render_html(store, [rollout["rollout_id"]])
    assert html_page.startswith("<!doctype html>") and html_page.count("<h3") == len(items)


def artifacts_per_stage_run(root, stage: str) -> list[list[str]]:
    """The artifact paths of each MLflow run of `stage`."""
    client = MlflowClient(tracking_uri(str(root / "mlflow"))[0])
    runs = client.search_runs([client.get_experiment_by_name("rtt").experiment_id], f"tags.`rtt.stage` = '{stage}'")
    return [[a.path for a in client.list_artifacts(run.info.run_id)] for run in runs]


def test_each_round_logs_a_relevance_page(smoke_run):
    root, _, _ = smoke_run
    per_run = artifacts_per_stage_run(root, "grpo")
    assert len(per_run) == 2
    assert all(any(path.startswith("relevance_round") for path in paths) for paths in per_run)


def test_each_discriminator_stage_logs_its_labels_page(smoke_run):
    root, _, _ = smoke_run
    per_run = artifacts_per_stage_run(root, "discriminator")
    assert len(per_run) == 2
    assert all(any(path.startswith("discriminator_round") for path in paths) for paths in per_run)
    page = (root / "data" / "runs" / "smoke-1" / "discriminator_round0.html").read_text()
    assert 1 <= page.count("<section>") <= 12
    assert (
        page.count("<small>gold labels</small>")
        == page.count("<section>")
        == page.count("<small>discriminator</small>")
    )


def test_every_flow_becomes_a_deployment():
    from flows.deploy import deployments

    made = deployments("smoke", ["grpo.steps=1"], cron="0 3 * * *")
    assert [d.name for d in made] == ["pipeline-smoke"] + [
        f"{s}-smoke"
        for s in ("rubrics", "rollouts", "judge", "discriminator", "grpo", "eval", "compare", "campaign-start")
    ] + ["campaign-continue-smoke"]
    assert made[0].parameters == {"config": "smoke", "overrides": ["grpo.steps=1"]}
    assert made[0].schedules and not made[1].schedules


def test_a_failed_stage_is_retried_when_configured(harness, tmp_path, monkeypatch):
    from flows.pipeline import pipeline
    from rtt.eval import stage

    calls = []
    run_eval = stage.run_eval

    def flaky(ctx):
        calls.append(ctx.round)
        if len(calls) == 1:
            raise RuntimeError("a transient failure")
        return run_eval(ctx)

    monkeypatch.setattr(stage, "run_eval", flaky)  # the stage table imports it by name when the stage runs
    overrides = [
        f"data_dir={tmp_path / 'data'}",
        f"tracking_uri={tmp_path / 'mlflow'}",
        "grpo.relevance=gold",
        "rounds=1",
        "stage_retries=1",
        "stage_retry_delay_s=0",
    ]
    result = pipeline(config="smoke", overrides=overrides, run_id="retry-1")
    assert calls == [-1, -1, 0]  # the base eval failed once and was retried; round 0's ran once
    assert set(result["wall_s"]) == {"rubrics", "eval-base", "grpo-r0", "eval-r0"}
