"""The report of an experiment: a markdown page and a self-contained HTML page with the curves.

Per arm: held-out item and prompt accuracy (base, then the mean over seeds with a 95% t interval),
the item-accuracy gain over the base and over GRPO-AON with a paired bootstrap interval over
prompts, the smoothed final training reward, steps to the target reward, and wall time. The figures
(drawn as `rtt.pages` draws every page's) are the AON and CSR training reward by GRPO step (mean
over seeds, smoothed, raw values faint, the band spans the seeds) and held-out item accuracy per
arm with its interval, each with a caption.
"""

from __future__ import annotations

import html

import numpy as np

from rtt.pages import STEP_AXIS, Figure, draw_curves, draw_round_starts, finish_axes, new_figure
from rtt.pages import html_page as page


def fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def interval(row: dict) -> str:
    if row.get("low") is None:
        return fmt(row["mean"])
    return f"{fmt(row['mean'])} [{fmt(row['low'])}, {fmt(row['high'])}]"


def gain(row: dict | None) -> str:
    if not row:
        return "-"
    return f"{row['gain']:+.3f} [{row['low']:+.3f}, {row['high']:+.3f}]"


COLUMNS = [
    "arm",
    "seeds",
    "item acc. base",
    "item acc. final [95% CI, seeds]",
    "gain vs base [95% CI, prompts]",
    "gain vs grpo-aon [95% CI, prompts]",
    "prompt acc. base",
    "prompt acc. final [95% CI]",
    "final train AON",
    "steps to target",
    "wall s",
]


def table_rows(report: dict) -> list[list[str]]:
    rows = []
    for arm, s in report["summary"].items():
        steps = report["arms"][arm]["steps_to_target"]
        rows.append(
            [
                arm,
                str(len(report["arms"][arm]["seeds"])),
                fmt(s["item_accuracy"]["base"]),
                interval(s["item_accuracy"]),
                gain(s["item_gain_vs_base"]),
                gain(s.get("item_gain_vs_grpo_aon")),
                fmt(s["prompt_accuracy"]["base"]),
                interval(s["prompt_accuracy"]),
                fmt(s["final_train_aon"]),
                ", ".join("never" if x is None else str(x) for x in steps) + f" / {s['steps_total']}",
                fmt(s["wall_s"], 0),
            ]
        )
    return rows


def per_kind_table(report: dict) -> list[str]:
    arms = list(report["arms"])
    kinds = sorted({k for a in arms for k in report["arms"][a].get("per_kind", {})})
    base = {
        k: next(report["arms"][a]["per_kind"][k]["base"] for a in arms if k in report["arms"][a]["per_kind"])
        for k in kinds
    }
    lines = ["| kind | base | " + " | ".join(arms) + " |", "|---|---|" + "---|" * len(arms)]
    for k in kinds:
        finals = [[v for v in report["arms"][a]["per_kind"].get(k, {}).get("final", []) if v is not None] for a in arms]
        lines.append(
            f"| {k} | {fmt(base[k])} | " + " | ".join(fmt(float(np.mean(f))) if f else "-" for f in finals) + " |"
        )
    return lines


def markdown(report: dict, notes: str = "") -> str:
    b = report["budget"]
    lines = [
        f"# Comparison `{report['experiment_id']}`",
        "",
        f"Preset `{report['preset']}` (policy `{report['policy']}`), overrides {report['overrides'] or 'none'}. "
        f"Budget per run: {b['rounds']} round(s) x {b['grpo_steps_per_round']} GRPO steps of "
        f"{b['prompts_per_step']} prompts x {b['group_size']} responses, {b['max_new_tokens']} new tokens, "
        f"lr {b['lr']}; "
        f"held-out: {b['heldout_prompts']} prompts, {b['heldout_items']} items (greedy answers, rule judge).",
        "",
        f"Target training reward (AON, {report['smooth_steps']}-step moving average): {report['target_reward']:.3f}.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(report)]
    disc = {arm: s["discriminator_f1"] for arm, s in report["summary"].items() if "discriminator_f1" in s}
    if disc:
        lines += [
            "",
            "Discriminator token F1 (threshold 0.5) on its own held-out split, and on the rollouts the "
            "policy sampled while training (first and last 3 steps), which it never saw:",
            "",
        ]
        lines += [
            f"- `{arm}`: held-out {fmt(d['heldout'])}, on-policy {fmt(d['on_policy_first'])} -> "
            f"{fmt(d['on_policy_last'])}"
            for arm, d in disc.items()
        ]
    credit = {arm: s["credit_agreement"] for arm, s in report["summary"].items() if "credit_agreement" in s}
    if credit:
        lines += [
            "",
            "Credit agreement: cosine between the token advantage each arm trained on and the one exact "
            "relevance (the rule judge's evidence tokens) gives the same rollouts (1 for `rtt-gold`; 0: unrelated), "
            "mean over the first 3 steps -> the last 3 (all steps):",
            "",
        ]
        lines += [f"- `{arm}`: {fmt(c['first'])} -> {fmt(c['last'])} ({fmt(c['all'])})" for arm, c in credit.items()]
    lines += ["", "Held-out item accuracy per kind (base -> mean of the final policies over seeds):", ""]
    lines += per_kind_table(report)
    lines += [
        "",
        "Intervals: over seeds, Student t; over prompts, a paired bootstrap "
        "(each resampled prompt brings its answers from both policies; seeds averaged first).",
        "Settings of each arm (on top of the preset):",
        "",
    ]
    lines += [f"- `{arm}`: {a['settings']}, run ids {', '.join(a['run_ids'])}" for arm, a in report["arms"].items()]
    if notes:
        lines += ["", notes]
    return "\n".join(lines) + "\n"


def figures(report: dict) -> list[Figure]:
    """The AON and CSR training reward by GRPO step, and the held-out item accuracy per arm."""
    budget, window = report["budget"], report["smooth_steps"]
    found = []
    for key, reward in (("train_reward", "all-or-nothing (AON)"), ("train_reward_csr", "satisfaction-rate (CSR)")):
        fig, ax = new_figure()
        for arm, a in report["arms"].items():
            curves = [c for c in a[key] if c]
            if curves:
                length = min(map(len, curves))
                draw_curves(ax, list(range(length)), [c[:length] for c in curves], arm, window)
        if key == "train_reward":
            ax.axhline(report["target_reward"], color="gray", linestyle="--", linewidth=0.8, label="target")
        draw_round_starts(ax, budget["grpo_steps_per_round"], budget["rounds"])
        finish_axes(ax, f"training reward, {reward}", STEP_AXIS, "mean reward of the step's responses (0-1)")
        caption = (
            f"Training reward of each arm in {reward} terms, whatever reward the arm trained on, so the arms "
            f"compare: the mean over seeds, a {window}-step trailing mean (solid) over the raw per-step values "
            "(faint dots); the band spans the seeds' smoothed curves."
            + (" Dashed: the target reward of 'steps to target'." if key == "train_reward" else "")
            + (" Dotted lines: where a round starts." if budget["rounds"] > 1 else "")
        )
        found.append(Figure(key, caption, fig))
    found.append(accuracy_figure(report))
    return found


def accuracy_figure(report: dict) -> Figure:
    fig, ax = new_figure()
    arms = list(report["summary"])
    accuracy = [report["summary"][a]["item_accuracy"] for a in arms]
    means = np.array([a["mean"] for a in accuracy])  # [arms]
    # t intervals over 2-3 seeds can reach past [0, 1]: drawn clipped, printed whole in the table
    lows = np.array([a["mean"] if a["low"] is None else max(a["low"], 0.0) for a in accuracy])
    highs = np.array([a["mean"] if a["high"] is None else min(a["high"], 1.0) for a in accuracy])
    ax.bar(arms, means, yerr=[means - lows, highs - means], capsize=4, color="tab:blue", alpha=0.7)
    base = accuracy[0]["base"]
    ax.axhline(base, color="black", linestyle="--", linewidth=0.8, label=f"base policy {base:.3f}")
    ax.set_ylim(0, 1)
    ax.tick_params(axis="x", rotation=20)
    n = report["budget"]["heldout_items"]
    finish_axes(
        ax, f"held-out item accuracy after training (n={n} items)", "arm", "fraction of items passed", steps=False
    )
    caption = (
        f"Held-out item accuracy of each arm's final policy: the mean over its seeds, with the 95% t interval "
        f"over seeds (clipped to [0, 1]; the table has it whole), on the same {n} items "
        f"({report['budget']['heldout_prompts']} prompts) for every arm. Dashed: the policy before training."
    )
    return Figure("heldout", caption, fig)


def html_page(report: dict, notes: str = "") -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in table_rows(report))
    text = html.escape(markdown(report, notes).split("\n| ")[0].split("\n", 1)[1])  # below its "# Comparison" title
    plots = "".join(f.html() for f in figures(report))
    return page(
        f"Comparison {report['experiment_id']}",
        f"<pre style='white-space:pre-wrap'>{text}</pre><table><tr>{head}</tr>{body}</table>{plots}"
        f"<pre style='white-space:pre-wrap'>{html.escape(notes)}</pre>",
    )
