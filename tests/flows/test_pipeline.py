"""The whole pipeline as a real Prefect flow run (test harness), on the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from rtt.data.catalog import query
from rtt.data.store import Store
from rtt.testing.browser import check_pages, chromium
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


def test_mlflow_steps_count_grpo_steps_across_rounds(smoke_run):
    """2 rounds of 2 GRPO steps: the policy's metrics share one step axis in MLflow."""
    root, _, _ = smoke_run
    client = MlflowClient(tracking_uri(str(root / "mlflow"))[0])
    runs = client.search_runs([client.get_experiment_by_name("rtt").experiment_id], max_results=100)
    by_name = {r.info.run_name: r.info.run_id for r in runs}

    def steps(run_name: str, metric: str) -> list[int]:
        return [m.step for m in client.get_metric_history(by_name[run_name], metric)]

    assert steps("grpo-r0", "reward_mean") == [0, 1] and steps("grpo-r1", "reward_mean") == [2, 3]
    assert steps("rollouts-r1", "rollouts") == steps("judge-r1", "verdicts") == [2]  # where round 1 starts
    # each evaluation at the steps its policy had trained: base 0, after round 0 2, after round 1 4
    assert [steps(f"eval-r{r}", "eval_item_accuracy") for r in (-1, 0, 1)] == [[0], [2], [4]]


def test_report_curves_count_steps_across_rounds(smoke_run):
    """The plotted x values only grow, and round 1's start is drawn between steps 1 and 2."""
    import matplotlib.pyplot as plt

    from rtt.report import figures, load_report

    root, _, _ = smoke_run
    found = {f.name: f for f in figures(load_report(Store(root / "data"), ["smoke-1"]))}
    assert list(found) == ["reward_mean", "item_pass_rate", "heldout_rubrics"]
    for name, figure in found.items():
        xs = [list(line.get_xdata()) for line in figure.lines("data")]
        assert xs and all(all(b > a for a, b in zip(x, x[1:])) for x in xs), (name, xs)
        assert [list(line.get_xdata()) for line in figure.lines("round")] == [[1.5, 1.5]], name
        plt.close(figure.fig)
    assert xs[0] == [0, 2, 4]  # held-out accuracy: base, after round 0, after round 1


def test_rerunning_a_stage_replaces_its_rows(smoke_run):
    from flows.stages import judge

    root, overrides, _ = smoke_run
    store = Store(root / "data")
    before = counts(store)
    judge(config="smoke", overrides=overrides, run_id="smoke-1", round=0)
    assert counts(store) == before


def test_show_shades_every_item_of_a_grpo_rollout(smoke_run):
    from rtt.relevance_view import TERMINAL_LEGEND, load_view, order, render_html, render_terminal

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
    assert "relevance: discriminator, scores " in page and page.splitlines()[2] == TERMINAL_LEGEND
    html_page = render_html(store, [rollout["rollout_id"]])
    assert html_page.startswith("<!doctype html>") and html_page.count("<h3") == len(items)
    assert 'class="legend"' in html_page and "<summary>the prompt</summary>" in html_page
    verdicts = [v.verdict for v in load_view(store, rollout["rollout_id"]).items]
    assert verdicts == sorted(verdicts, key=order)  # violated first


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
    assert 1 <= page.count("<section>") <= 12 and 'class="legend"' in page
    assert page.count("<section>") == page.count('<p class="meta">discriminator: ') == page.count('<p class="tokens">')


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


@pytest.mark.browser
@pytest.mark.skipif(chromium() is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_every_page_of_a_run_passes_in_a_real_browser(smoke_run, tmp_path):
    """scripts/check_pages.py on the run's pages, with one page beside them that it must fail."""
    root, _, _ = smoke_run
    reports = root / "data" / "reports"
    reports.mkdir(exist_ok=True)
    odd = reports / "odd.html"
    odd.write_text("<!doctype html><title>odd</title><p>x</p><script>console.error('drawn wrong')</script>")
    try:
        done, pages = check_pages(root / "data", "smoke-1", tmp_path)
    finally:
        odd.unlink()
    assert done.returncode == 1, done.stdout + done.stderr
    results = {Path(r["page"]).name: r for r in pages}
    assert sorted(results) == sorted(
        ["discriminator_round0.html", "discriminator_round1.html", "relevance_round0.html"]
        + ["relevance_round1.html", "report-smoke-1.html", "odd.html"]
    )
    assert results.pop("odd.html")["failed"] == [
        "a page of unknown kind 'odd': add its checks to KINDS",
        "console: drawn wrong",
    ]
    assert {name: r["failed"] for name, r in results.items()} == {name: [] for name in results}
    assert all(Path(r["screenshot"]).read_bytes()[:4] == b"\x89PNG" for r in results.values())
    assert "has the legend and its colour scale" in results["relevance_round1.html"]["checks"]
    assert "every plot has a caption" in results["report-smoke-1.html"]["checks"]
