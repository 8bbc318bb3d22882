"""`rtt report RUN_ID [RUN_ID ...]`: runs side by side, and a page of their learning curves.

From the `evals` table (every checkpoint each run evaluated: round -1 is the starting policy) and
`train_steps` (every GRPO step): a text table of the headline metrics per checkpoint, the settings
in which the runs differ (from each run's saved `runs/<id>/config.json`: what makes a run the
baseline of another, e.g. `grpo.token_weight`), and a
self-contained HTML page with the curves (reward and item pass rate by GRPO step; held-out and
IFEval accuracy by round, drawn with matplotlib) and the per-kind breakdown (item accuracy per
checker, IFEval accuracy per instruction id). The CLI also logs the page to MLflow.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass

from rtt.config import dotted
from rtt.data.catalog import query
from rtt.data.store import Store

HEADLINE = [
    ("heldout_rubrics", "prompt_accuracy"),
    ("heldout_rubrics", "item_accuracy"),
    ("heldout_rubrics_judge2", "prompt_accuracy"),
    ("heldout_rubrics_judge2", "item_accuracy"),
    ("ifeval", "prompt_strict"),
    ("ifeval", "instruction_strict"),
    ("ifeval", "prompt_loose"),
    ("ifeval", "instruction_loose"),
]
CURVES = [("reward_mean", "reward (configured mode)"), ("item_pass_rate", "item pass rate")]


@dataclass
class Report:
    run_ids: list[str]
    evals: list[dict]
    """(run_id, round, benchmark, metric, value, n) rows, sorted."""
    steps: list[dict]
    """(run_id, round, step, global_step, reward_mean, item_pass_rate) rows, sorted."""
    settings: dict[str, dict]
    """run_id -> its resolved config flattened to dotted keys ({} where the run saved none)."""

    def checkpoints(self) -> list[tuple[str, int]]:
        return sorted({(r["run_id"], r["round"]) for r in self.evals}, key=lambda c: (self.run_ids.index(c[0]), c[1]))

    def value(self, run_id: str, round_: int, benchmark: str, metric: str) -> float | None:
        return next(
            (
                r["value"]
                for r in self.evals
                if (r["run_id"], r["round"], r["benchmark"], r["metric"]) == (run_id, round_, benchmark, metric)
            ),
            None,
        )


def quoted(run_ids: list[str]) -> str:
    return ", ".join("'" + run_id.replace("'", "''") + "'" for run_id in run_ids)


def load_report(store: Store, run_ids: list[str]) -> Report:
    """The runs' evaluations and GRPO steps; ValueError naming a run with no evaluation."""
    evals = query(
        store,
        f"SELECT run_id, round, benchmark, metric, value, n FROM evals WHERE run_id IN ({quoted(run_ids)}) "
        "ORDER BY run_id, round, benchmark, metric",
    ).to_pylist()
    missing = [r for r in run_ids if r not in {e["run_id"] for e in evals}]
    if missing:
        raise ValueError(f"no evaluations for run(s) {missing} in {store.root}: run the eval stage (rtt run eval)")
    steps = query(
        store,
        f"SELECT run_id, round, step, global_step, reward_mean, item_pass_rate FROM train_steps "
        f"WHERE run_id IN ({quoted(run_ids)}) ORDER BY run_id, round, step",
    ).to_pylist()
    return Report(run_ids, evals, steps, {r: saved_settings(store, r) for r in run_ids})


def saved_settings(store: Store, run_id: str) -> dict:
    path = store.run_dir(run_id) / "config.json"
    return dotted(json.loads(path.read_text())) if path.exists() else {}


def setting_differences(report: Report) -> tuple[list[str], list[dict]]:
    """(columns, rows): one row per setting whose value is not the same in every run, one column per run."""
    rows = []
    for key in sorted({k for settings in report.settings.values() for k in settings}):
        values = {r: json.dumps(report.settings[r][key]) if key in report.settings[r] else None for r in report.run_ids}
        if len(set(values.values())) > 1:
            rows.append({"setting": key, **values})
    return ["setting", *report.run_ids], rows


def label(run_id: str, round_: int) -> str:
    return f"{run_id} {'base' if round_ < 0 else f'r{round_}'}"


def side_by_side(report: Report, metrics: list[tuple[str, str]] | None = None) -> tuple[list[str], list[dict]]:
    """(columns, rows): one row per metric any checkpoint has, one column per checkpoint."""
    present = {(r["benchmark"], r["metric"]) for r in report.evals}
    metrics = [m for m in (metrics or HEADLINE) if m in present]
    checkpoints = report.checkpoints()
    columns = ["benchmark", "metric", *(label(*c) for c in checkpoints)]
    rows = [
        {"benchmark": b, "metric": m, **{label(*c): report.value(*c, b, m) for c in checkpoints}} for b, m in metrics
    ]
    return columns, rows


def breakdown(report: Report) -> tuple[list[str], list[dict]]:
    """Per-kind metrics (`item_accuracy/<checker>`, `instruction_strict/<id>`), side by side."""
    kinds = sorted({(r["benchmark"], r["metric"]) for r in report.evals if "/" in r["metric"]})
    return side_by_side(report, kinds)


def figure_png(report: Report) -> str:
    """The learning curves as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    headline = [m for m in HEADLINE if any((r["benchmark"], r["metric"]) == m for r in report.evals)]
    fig, axes = plt.subplots(1, len(CURVES) + 1, figsize=(5 * (len(CURVES) + 1), 3.6))
    for ax, (column, title) in zip(axes, CURVES):
        for run_id in report.run_ids:
            steps = [s for s in report.steps if s["run_id"] == run_id]
            ax.plot([s["global_step"] for s in steps], [s[column] for s in steps], marker=".", label=run_id)
        ax.set(title=f"{title} by GRPO step", xlabel="optimizer step")
    ax = axes[-1]
    for run_id in report.run_ids:
        for benchmark, metric in headline:
            points = sorted(
                (r["round"], r["value"])
                for r in report.evals
                if (r["run_id"], r["benchmark"], r["metric"]) == (run_id, benchmark, metric)
            )
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"{run_id} {benchmark} {metric}")
    ax.set(title="accuracy by round (-1 = base)", xlabel="round")
    return png_base64(fig, axes, legend_size=6, dpi=110)


def png_base64(fig, axes, legend_size: int, dpi: int) -> str:
    """A finished figure (gridded axes with legends) as a base64 PNG for an inline <img>; closes it."""
    import matplotlib.pyplot as plt

    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=legend_size)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def html_table(columns: list[str], rows: list[dict]) -> str:
    def cell(value) -> str:
        return "" if value is None else html.escape(f"{value:.4f}" if isinstance(value, float) else str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(row[c])}</td>" for c in columns) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_report(report: Report) -> str:
    title = "rtt report: " + ", ".join(report.run_ids)
    style = (
        "body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}img{max-width:100%}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style>"
        f"</head><body><h1>{html.escape(title)}</h1><h2>Headline</h2>{html_table(*side_by_side(report))}"
        f"<h2>Settings that differ</h2>{html_table(*setting_differences(report))}"
        f"<h2>Learning curves</h2><img alt='learning curves' src='data:image/png;base64,{figure_png(report)}'>"
        f"<h2>Per kind</h2>{html_table(*breakdown(report))}</body></html>"
    )
