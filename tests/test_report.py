"""`rtt report`: two runs side by side, the HTML page, and its MLflow artifact."""

import pytest
from mlflow.tracking import MlflowClient

from flows.cli import main
from rtt.config import load_config, save_config
from rtt.data.schemas import SCHEMAS
from rtt.report import arms, breakdown, figures, load_report, render_report, setting_differences, side_by_side
from rtt.tracking import tracking_uri


def write_run(store, run_id: str, accuracies: list[float], old_steps: bool = False) -> None:
    """Rounds -1.. with held-out accuracy from `accuracies`, IFEval at the base only, 2 GRPO steps a
    round. `old_steps`: `global_step` as lakes written before it counted across rounds held it (the
    trainer's optimizer steps, 2 per GRPO step, restarting every round: 2, 4, 2, 4)."""
    evals = []
    for round_, acc in enumerate(accuracies, start=-1):
        evals += [
            {
                "run_id": run_id,
                "round": round_,
                "checkpoint": f"c{round_}",
                "benchmark": "heldout_rubrics",
                "metric": m,
                "value": v,
                "n": 12,
            }
            for m, v in (
                ("prompt_accuracy", acc / 2),
                ("item_accuracy", acc),
                ("item_accuracy/punctuation:no_comma", acc + 0.1),
            )
        ]
    evals.append(
        {
            "run_id": run_id,
            "round": -1,
            "checkpoint": "c-1",
            "benchmark": "ifeval",
            "metric": "prompt_strict",
            "value": 0.15,
            "n": 541,
        }
    )
    store.write("evals", evals, run_id, "all")
    zero = {c: 0 for c in SCHEMAS["train_steps"].names}
    steps = [
        {
            **zero,
            "run_id": run_id,
            "round": r,
            "step": s,
            "global_step": 2 * (s + 1) if old_steps else 2 * r + s,
            "reward_mean": 0.1 * (2 * r + s),
            "item_pass_rate": 0.3,
        }
        for r in range(len(accuracies) - 1)
        for s in range(2)
    ]
    store.write("train_steps", steps, run_id, "all")


def test_side_by_side_and_breakdown(store):
    write_run(store, "a", [0.3, 0.4, 0.5])
    write_run(store, "b", [0.3, 0.35])
    report = load_report(store, ["b", "a"])
    columns, rows = side_by_side(report)
    assert columns == ["benchmark", "metric", "b base", "b r0", "a base", "a r0", "a r1"]  # runs in the order asked
    by_metric = {r["metric"]: r for r in rows}
    assert by_metric["item_accuracy"]["a r1"] == pytest.approx(0.5) and by_metric["item_accuracy"][
        "b r0"
    ] == pytest.approx(0.35)
    assert by_metric["prompt_strict"]["a base"] == pytest.approx(0.15) and by_metric["prompt_strict"]["a r0"] is None
    assert list(by_metric) == ["prompt_accuracy", "item_accuracy", "prompt_strict"]  # headline order, only present ones
    _, kinds = breakdown(report)
    assert [k["metric"] for k in kinds] == ["item_accuracy/punctuation:no_comma"]
    page = render_report(report)
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page and "punctuation:no_comma" in page


def test_settings_that_differ_name_the_baseline(store):
    write_run(store, "rtt", [0.3, 0.4])
    write_run(store, "grpo", [0.3, 0.35])
    write_run(store, "unsaved", [0.3])
    save_config(load_config("demo", ["grpo.token_weight=0.5"]), store.run_dir("rtt") / "config.json")
    save_config(
        load_config("demo", ["grpo.token_weight=0", "grpo.relevance=uniform"]), store.run_dir("grpo") / "config.json"
    )
    report = load_report(store, ["rtt", "grpo"])
    columns, rows = setting_differences(report)
    assert columns == ["setting", "rtt", "grpo"]
    assert rows == [
        {"setting": "grpo.relevance", "rtt": '"discriminator"', "grpo": '"uniform"'},
        {"setting": "grpo.token_weight", "rtt": "0.5", "grpo": "0.0"},
    ]
    assert "grpo.token_weight" in render_report(report)
    with_unsaved = setting_differences(load_report(store, ["rtt", "unsaved"]))[1]
    assert {r["setting"] for r in with_unsaved} >= {
        "grpo.token_weight",
        "seed",
    }  # a run with no saved config differs everywhere
    assert all(r["unsaved"] is None for r in with_unsaved)


def test_a_run_without_evaluations_is_named(store):
    write_run(store, "a", [0.3])
    with pytest.raises(ValueError, match=r"\['nope'\]"):
        load_report(store, ["a", "nope"])


def test_cli_prints_writes_and_logs_the_page(store, tmp_path, capsys):
    write_run(store, "a", [0.3, 0.4])
    out = tmp_path / "r.html"
    mlflow_dir = tmp_path / "mlflow"
    assert (
        main(["report", "a", "--data-dir", str(store.root), "--html", str(out), "--tracking-uri", str(mlflow_dir)]) == 0
    )
    printed = capsys.readouterr().out
    assert "a base" in printed and "a r0" in printed and f"wrote {out}" in printed
    assert "settings that differ" not in printed  # one run: nothing to compare
    assert out.read_text().startswith("<!doctype html>")
    client = MlflowClient(tracking_uri(str(mlflow_dir))[0])
    [run] = client.search_runs([client.get_experiment_by_name("rtt").experiment_id])
    assert run.data.tags["rtt.report_runs"] == "a" and [a.path for a in client.list_artifacts(run.info.run_id)] == [
        "r.html"
    ]
    assert main(["report", "missing", "--data-dir", str(store.root), "--html", str(out)]) == 2


@pytest.fixture(autouse=True)
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_seeds_of_one_setting_are_one_line_with_a_band(store):
    for seed, run_id in enumerate(["x-s0", "x-s1"]):
        write_run(store, run_id, [0.3, 0.4, 0.5])
        save_config(load_config("demo", [f"seed={seed}", "grpo.steps=2"]), store.run_dir(run_id) / "config.json")
    write_run(store, "y", [0.3, 0.35, 0.4])
    save_config(load_config("demo", ["grpo.token_weight=0", "grpo.steps=2"]), store.run_dir("y") / "config.json")
    report = load_report(store, ["x-s0", "x-s1", "y"])
    assert arms(report) == {"x (2 runs)": ["x-s0", "x-s1"], "y": ["y"]}
    reward = figures(report)[0]
    assert [line.get_label() for line in reward.lines("data") if not line.get_label().startswith("_")] == [
        "x (2 runs)",
        "y",
    ]
    assert len(reward.fig.axes[0].collections) == 1  # one band: the arm of two seeds
    assert "differ only in their seed" in reward.caption and "round starts" in reward.caption


def test_steps_of_a_lake_written_before_global_steps_still_count_across_rounds(store):
    write_run(store, "old", [0.3, 0.4, 0.5], old_steps=True)
    reward, _, heldout, ifeval = figures(load_report(store, ["old"]))
    assert [list(line.get_xdata()) for line in reward.lines("data")] == [[0, 1, 2, 3]] * 2  # smoothed, raw
    assert list(heldout.lines("data")[0].get_xdata()) == [0, 2, 4]
    assert heldout.fig.axes[0].get_legend_handles_labels()[1] == ["old: items (n=12)", "old: prompts (n=12)"]
    assert "Wilson" in heldout.caption
    assert [list(line.get_xdata()) for line in ifeval.lines("data")] == [[0]]  # evaluated at the base only
