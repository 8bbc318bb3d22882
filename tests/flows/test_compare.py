"""`rtt compare` as a real Prefect flow run: a 1-seed, few-step version of the testbed comparison."""

from __future__ import annotations

import json

import pytest
from mlflow.tracking import MlflowClient

from rtt.data.catalog import query
from rtt.data.store import Store
from rtt.testing.browser import check_pages, chromium
from rtt.tracking import tracking_uri

PRESET = "testbed"
ARMS = ["rtt", "rtt-gold", "grpo-aon"]
STEPS = 3
NOTES = "## Reading\n\nGold & discriminator <agree>."


@pytest.fixture(scope="module")
def experiment(harness, tmp_path_factory):
    from flows.compare import compare

    root = tmp_path_factory.mktemp("compare")
    overrides = [f"data_dir={root / 'data'}", f"tracking_uri={root / 'mlflow'}", f"grpo.steps={STEPS}"]
    report = compare(
        config=PRESET,
        arms=ARMS,
        seeds=1,
        seed=3,
        overrides=overrides,
        experiment_id="e1",
        out=str(root / "out.json"),
        notes=NOTES,
    )
    return root, overrides, report


def test_report_json_has_the_documented_shape(experiment):
    root, _, report = experiment
    saved = json.loads((root / "out.json").read_text())
    assert set(saved) >= {"name", "policy", "budget", "arms", "summary", "target_reward"}
    assert list(saved["arms"]) == ARMS
    for arm in ARMS:
        a = saved["arms"][arm]
        assert a["seeds"] == [3]
        assert len(a["heldout_item_accuracy"]["final"]) == len(a["heldout_prompt_accuracy"]["final"]) == 1
        assert len(a["train_reward"]) == 1 and len(a["train_reward"][0]) == STEPS
        assert all(0 <= r <= 1 for r in a["train_reward"][0] + a["train_reward_csr"][0])
        assert len(a["steps_to_target"]) == 1 and len(a["wall_s"]) == 1 and a["wall_s"][0] > 0
    bases = {saved["arms"][a]["heldout_item_accuracy"]["base"] for a in ARMS}
    assert len(bases) == 1  # same prompts, same starting policy, greedy: one base for all arms
    assert saved["budget"]["grpo_steps_per_round"] == STEPS and saved["budget"]["heldout_prompts"] > 0


def test_each_arm_is_an_ordinary_run_recorded_in_experiments(experiment):
    root, _, _ = experiment
    store = Store(root / "data")
    rows = query(store, "SELECT arm, seed, run_id, status, settings FROM experiments ORDER BY arm").to_pylist()
    assert [(r["arm"], r["status"]) for r in rows] == sorted((a, "finished") for a in ARMS)
    assert json.loads(next(r for r in rows if r["arm"] == "grpo-aon")["settings"])["grpo.token_weight"] == 0
    prompts = query(store, "SELECT run_id, list_sort(list(prompt_id)) AS ids FROM prompts GROUP BY run_id").to_pylist()
    assert len(prompts) == len(ARMS) and len({tuple(p["ids"]) for p in prompts}) == 1  # the same prompts
    stages = query(store, "SELECT run_id, count(*) AS n FROM disc_metrics GROUP BY run_id").to_pylist()
    assert [s["run_id"] for s in stages] == ["e1-rtt-s3"]  # only the discriminator arm trains one
    steps = query(store, "SELECT run_id, count(*) AS n FROM train_steps GROUP BY run_id ORDER BY run_id").to_pylist()
    assert [s["n"] for s in steps] == [STEPS] * len(ARMS)


def test_pages_are_written_and_logged_to_mlflow(experiment):
    root, _, report = experiment
    page = (root / "data" / "reports" / "compare-e1.html").read_text()
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page and all(a in page for a in ARMS)
    md = (root / "data" / "reports" / "compare-e1.md").read_text()
    assert "| arm |" in md and "grpo-aon" in md and md.rstrip().endswith(NOTES)
    assert "Gold &amp; discriminator &lt;agree&gt;." in page  # the notes, escaped
    assert "Credit agreement" in md and "- `rtt-gold`: 1.000 -> 1.000 (1.000)" in md
    client = MlflowClient(tracking_uri(str(root / "mlflow"))[0])
    runs = client.search_runs([client.get_experiment_by_name("rtt").experiment_id], "tags.`rtt.stage` = 'compare'")
    assert len(runs) == 1
    assert {a.path for a in client.list_artifacts(runs[0].info.run_id)} == {
        "compare-e1.json",
        "compare-e1.md",
        "compare-e1.html",
    }


def test_running_the_experiment_again_resumes_it(experiment):
    from flows.compare import compare

    root, overrides, report = experiment
    before = query(Store(root / "data"), "SELECT count(*) AS n FROM train_steps").to_pylist()
    again = compare(config=PRESET, arms=ARMS, seeds=1, seed=3, overrides=overrides, experiment_id="e1")
    assert query(Store(root / "data"), "SELECT count(*) AS n FROM train_steps").to_pylist() == before
    assert again["arms"] == report["arms"]


@pytest.mark.browser
@pytest.mark.skipif(chromium() is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_the_comparison_page_passes_in_a_real_browser(experiment, tmp_path):
    root, _, _ = experiment
    done, pages = check_pages(root / "data", "e1-rtt-s3", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    kinds = sorted(r["kind"] for r in pages)
    assert kinds == ["compare", "discriminator", "relevance", "report"]
