"""`rtt report RUN_ID [RUN_ID ...]`: runs side by side, and a page of their learning curves.

From the `evals` table (every checkpoint each run evaluated: round -1 is the starting policy) and
`train_steps` (every GRPO step): a text table of the headline metrics per checkpoint, the settings
in which the runs differ (from each run's saved `runs/<id>/config.json`: what makes a run the
baseline of another, e.g. `grpo.token_weight`), and a
self-contained HTML page with the curves and the per-kind breakdown (item accuracy per checker,
IFEval accuracy per instruction id). The CLI also logs the page to MLflow.

The curves (matplotlib, drawn as `rtt.pages` draws every page's): training reward and item pass
rate by GRPO step counted across rounds, with each round's start; held-out and IFEval accuracy
after each round on the same step axis, with 95% Wilson intervals and their n. Runs whose settings
differ only in `seed` are one line (their mean) with a band spanning them.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from rtt.config import dotted
from rtt.data.catalog import query, quoted
from rtt.data.store import Store
from rtt.pages import (
    STEP_AXIS,
    Figure,
    draw_curves,
    draw_round_starts,
    finish_axes,
    html_page,
    html_table,
    new_figure,
    smoothing_window,
)
from rtt.stats import wilson_interval

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


@dataclass
class Report:
    run_ids: list[str]
    evals: list[dict]
    """(run_id, round, benchmark, metric, value, n) rows, sorted."""
    steps: list[dict]
    """(run_id, round, step, reward_mean, item_pass_rate) rows, sorted."""
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
        f"SELECT run_id, round, step, reward_mean, item_pass_rate FROM train_steps "
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


def arms(report: Report) -> dict[str, list[str]]:
    """Line label -> run ids, in the order asked. Runs whose saved settings are the same but for
    `seed` are one arm, drawn as their mean with a band; a run without saved settings is its own."""
    groups: dict[str, list[str]] = {}
    for run_id in report.run_ids:
        settings = report.settings[run_id]
        key = json.dumps({k: v for k, v in settings.items() if k != "seed"}, sort_keys=True) if settings else run_id
        groups.setdefault(key, []).append(run_id)
    return {arm_label(run_ids): run_ids for run_ids in groups.values()}


def arm_label(run_ids: list[str]) -> str:
    if len(run_ids) == 1:
        return run_ids[0]
    stem = re.sub(r"[-_]*(seed|s)?$", "", os.path.commonprefix(run_ids)) or run_ids[0]
    return f"{stem} ({len(run_ids)} runs)"


def steps_per_round(report: Report, run_id: str) -> int:
    """`grpo.steps` of the run (saved settings; else its longest round in `train_steps`)."""
    saved = report.settings[run_id].get("grpo.steps")
    if saved:
        return int(saved)
    return max(Counter(s["round"] for s in report.steps if s["run_id"] == run_id).values(), default=1)


def training_figure(report: Report, column: str, what: str, ylabel: str) -> Figure | None:
    """`column` of `train_steps` by GRPO step counted across rounds, one line per arm. The step is
    round x grpo.steps + step, what `train_steps.global_step` holds; lakes written before that
    column counted so held the trainer's optimizer steps there, restarting every round."""
    groups = {
        label: [[s for s in report.steps if s["run_id"] == r] for r in ids] for label, ids in arms(report).items()
    }
    lengths = {label: min(map(len, runs)) for label, runs in groups.items()}
    if not any(lengths.values()):
        return None
    window = smoothing_window(max(lengths.values()))
    fig, ax = new_figure()
    for label, runs in groups.items():
        if lengths[label]:
            per_round = steps_per_round(report, runs[0][0]["run_id"])
            steps = [run[: lengths[label]] for run in runs]
            x = [s["round"] * per_round + s["step"] for s in steps[0]]
            draw_curves(ax, x, [[s[column] for s in run] for run in steps], label, window)
    rounds = 1 + max((s["round"] for s in report.steps), default=0)
    draw_round_starts(ax, steps_per_round(report, report.run_ids[0]), rounds)
    finish_axes(ax, f"{what} by GRPO step", STEP_AXIS, ylabel)
    smoothing = f"a {window}-step trailing mean (solid) over" if window > 1 else "unsmoothed (too few steps to smooth):"
    seeds = any(len(runs) > 1 for runs in groups.values())
    caption = (
        f"{what.capitalize()} at each GRPO step, {smoothing} the raw per-step values (faint dots)."
        + ROUNDS_NOTE * (rounds > 1)
        + SEEDS_NOTE * seeds
    )
    return Figure(column, caption, fig)


ROUNDS_NOTE = " Dotted lines: where a round starts; the steps count on across rounds."
SEEDS_NOTE = " Runs whose settings differ only in their seed are one line, their mean; the shaded band spans them."
ACCURACY_PLOTS = [
    ("heldout_rubrics", "held-out rubric accuracy", [("item_accuracy", "items"), ("prompt_accuracy", "prompts")]),
    ("ifeval", "IFEval accuracy (strict)", [("instruction_strict", "instructions"), ("prompt_strict", "prompts")]),
]


def round_values(rows: list[dict], run_ids: list[str], metric: str) -> tuple[list[int], np.ndarray, list[int]]:
    """(the rounds every run evaluated, their values [rounds, runs], n per round) of one metric."""
    found: dict[int, list[dict]] = {}
    for r in rows:
        if r["run_id"] in run_ids and r["metric"] == metric:
            found.setdefault(r["round"], []).append(r)
    rounds = sorted(k for k, v in found.items() if len(v) == len(run_ids))
    values = np.array([[r["value"] for r in found[k]] for k in rounds])  # [rounds, runs]
    return rounds, values, [found[k][0]["n"] for k in rounds]


def accuracy_figure(report: Report, benchmark: str, what: str, metrics: list[tuple[str, str]]) -> Figure | None:
    """A benchmark's metrics after each round, at the GRPO step the evaluated policy had reached
    (round r: (r + 1) x steps per round; the base policy: 0)."""
    rows = [r for r in report.evals if r["benchmark"] == benchmark]
    if not rows:
        return None
    fig, ax = new_figure()
    groups = arms(report)
    ticks: dict[int, str] = {}
    for arm, (label, run_ids) in enumerate(groups.items()):
        per_round = steps_per_round(report, run_ids[0])
        for m, ((metric, unit), style) in enumerate(zip(metrics, ("o-", "s--"))):
            rounds, values, ns = round_values(rows, run_ids, metric)
            if not rounds:
                continue
            x = [(r + 1) * per_round for r in rounds]
            ticks |= {step: "base" if r < 0 else f"after r{r}" for step, r in zip(x, rounds)}
            name, color = f"{label}: {unit} (n={ns[-1]})", f"C{arm * len(metrics) + m}"
            if len(run_ids) == 1:
                bounds = np.array([wilson_interval(v, n) for v, n in zip(values[:, 0], ns)])  # [rounds, 2]
                errors = [values[:, 0] - bounds[:, 0], bounds[:, 1] - values[:, 0]]
                bars = ax.errorbar(x, values[:, 0], yerr=errors, fmt=style, color=color, capsize=3, label=name)
                bars.lines[0].set_gid("data")
            else:
                ax.plot(x, values.mean(1), style, color=color, label=name, gid="data")
                ax.fill_between(x, values.min(1), values.max(1), color=color, alpha=0.15)
    draw_round_starts(ax, steps_per_round(report, report.run_ids[0]), 1 + max(r["round"] for r in rows))
    ax.set_xticks(list(ticks), [f"{step}\n{name}" for step, name in ticks.items()])
    ax.set_ylim(-0.02, 1.02)
    finish_axes(ax, f"{what} after each round", STEP_AXIS, "accuracy (fraction passed)", steps=False)
    caption = (
        f"{what.capitalize()} of the policy before training (base) and after each round, placed at the GRPO step "
        "it had reached. Items: the fraction of rubric items passed; prompts: the fraction of prompts with every "
        "item passed; n is how many there were. "
        + (
            "Error bars: 95% Wilson intervals over those n."
            if all(len(ids) == 1 for ids in groups.values())
            else "Error bars: 95% Wilson intervals over those n (single runs)." + SEEDS_NOTE
        )
    )
    return Figure(benchmark, caption, fig)


def figures(report: Report) -> list[Figure]:
    """The report's plots: training reward and item pass rate by step, then each benchmark by round."""
    found = [
        training_figure(report, "reward_mean", "training reward", "mean reward of the step's responses (0-1)"),
        training_figure(report, "item_pass_rate", "item pass rate", "fraction of rubric items satisfied"),
        *(accuracy_figure(report, *plot) for plot in ACCURACY_PLOTS),
    ]
    return [f for f in found if f is not None]


def render_report(report: Report) -> str:
    guide = (
        "<p class='guide'>The tables give every held-out metric of each run before training (base) and after "
        "each round (r0, r1, ...); the plots show the same runs over GRPO steps counted across rounds. "
        "The training reward is in each run's configured <code>grpo.reward_mode</code>.</p>"
    )
    plots = "".join(f.html() for f in figures(report))
    columns, rows = setting_differences(report)
    differences = html_table(columns, rows) if rows else "<p>None: one run, or runs with the same settings.</p>"
    return html_page(
        "rtt report: " + ", ".join(report.run_ids),
        f"{guide}<h2>Headline</h2>{html_table(*side_by_side(report))}"
        f"<h2>Settings that differ</h2>{differences}"
        f"<h2>Learning curves</h2>{plots}"
        f"<h2>Per kind</h2>{html_table(*breakdown(report))}",
    )
