"""`rtt compare`: named arms x seeds on the same prompts, each an ordinary pipeline run, and a
report that says which learned more (METHOD.md's claim: RTT beats GRPO-AON and GRPO-CSR).

- `experiment`: the arms, the plan (run ids, overrides, seeds) and the `experiments` table rows.
- `results`: everything read back from the lake (evals, generations, train_steps) into the JSON.
- `rtt.stats` (shared with `rtt report`): intervals over seeds, the paired bootstrap over prompts,
  steps to a target reward.
- `page`: the markdown and HTML pages with the learning curves.

The Prefect flow `flows/compare.py` runs the plan (one pipeline subflow per run) and calls
`finish_experiment`; this package never imports Prefect.
"""

from __future__ import annotations

from pathlib import Path

from rtt.compare.experiment import Experiment
from rtt.compare.page import html_page, markdown
from rtt.compare.results import collect, dumps, summarize, target_reward, to_json
from rtt.data.store import Store
from rtt.tracking import Tracker


def report_paths(store: Store, experiment_id: str) -> dict[str, Path]:
    folder = store.state / "reports"
    return {ext: folder / f"compare-{experiment_id}.{ext}" for ext in ("json", "md", "html")}


def finish_experiment(store: Store, experiment: Experiment, out: str | None = None, notes: str = "") -> dict:
    """Collect the results, write the JSON, markdown and HTML under `<data>/reports/` (and the JSON
    to `out`), log them to MLflow; returns the report."""
    results = collect(store, experiment)
    target = target_reward(experiment, results)
    report = to_json(experiment, results, summarize(experiment, results, target), target)
    paths = report_paths(store, experiment.experiment_id)
    paths["json"].parent.mkdir(parents=True, exist_ok=True)
    paths["json"].write_text(dumps(report))
    paths["md"].write_text(markdown(report, notes))
    paths["html"].write_text(html_page(report, notes))
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(dumps(report))
    cfg = experiment.cfg
    tracker = Tracker.open(
        cfg.tracking_uri,
        cfg.experiment,
        f"compare-{experiment.experiment_id}",
        tags={"rtt.experiment_id": experiment.experiment_id, "rtt.stage": "compare"},
    )
    tracker.log_params(
        {
            "preset": experiment.preset,
            "arms": ",".join(experiment.arms),
            "seeds": ",".join(map(str, experiment.seeds)),
            "overrides": " ".join(experiment.overrides),
        }
    )
    for arm, row in report["summary"].items():
        tracker.log_metrics(
            {
                f"{arm}.item_accuracy": row["item_accuracy"]["mean"],
                f"{arm}.prompt_accuracy": row["prompt_accuracy"]["mean"],
                f"{arm}.item_gain_vs_base": row["item_gain_vs_base"]["gain"],
            }
        )
    for path in paths.values():
        tracker.log_artifact(path)
    tracker.finish()
    return report | {"paths": {k: str(v) for k, v in paths.items()}}
