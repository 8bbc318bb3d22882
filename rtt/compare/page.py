"""The report of an experiment: a markdown page and a self-contained HTML page with the curves.

Per arm: held-out item and prompt accuracy (base, then the mean over seeds with a 95% t interval),
the item-accuracy gain over the base and over GRPO-AON with a paired bootstrap interval over
prompts, the smoothed final training reward, steps to the target reward, and wall time. The figure
draws the AON and CSR training reward by step (mean over seeds, smoothed, the band spans the seeds)
and held-out item accuracy per arm with its interval.
"""

from __future__ import annotations

import html

import numpy as np

from rtt.compare.stats import moving_average
from rtt.report import png_base64


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


def figure_png(report: dict) -> str:
    """Training reward curves and held-out accuracy, as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    window = report["smooth_steps"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    for ax, key, title in ((axes[0], "train_reward", "AON"), (axes[1], "train_reward_csr", "CSR")):
        for arm, a in report["arms"].items():
            curves = [moving_average(c, window) for c in a[key] if c]
            if not curves:
                continue
            length = min(map(len, curves))
            stack = np.array([c[:length] for c in curves])  # [seeds, steps]
            steps = np.arange(1, length + 1)
            (line,) = ax.plot(steps, stack.mean(0), label=arm)
            ax.fill_between(steps, stack.min(0), stack.max(0), color=line.get_color(), alpha=0.15)
        if key == "train_reward":
            ax.axhline(report["target_reward"], color="gray", linestyle="--", linewidth=0.8, label="target")
        ax.set(title=f"training reward ({title}, {window}-step mean; band: seeds)", xlabel="GRPO step")
    ax = axes[2]
    arms = list(report["summary"])
    means = [report["summary"][a]["item_accuracy"]["mean"] for a in arms]
    lows = [report["summary"][a]["item_accuracy"]["low"] for a in arms]
    highs = [report["summary"][a]["item_accuracy"]["high"] for a in arms]
    errors = np.array(
        [
            [m - lo if lo is not None else 0 for m, lo in zip(means, lows)],
            [hi - m if hi is not None else 0 for m, hi in zip(means, highs)],
        ]
    )  # [2, arms]
    ax.bar(arms, means, yerr=errors, capsize=4, color="tab:blue", alpha=0.7)
    base = report["summary"][arms[0]]["item_accuracy"]["base"]
    ax.axhline(base, color="black", linestyle="--", linewidth=0.8, label=f"base {base:.3f}")
    ax.set(title="held-out item accuracy (95% CI over seeds)")
    ax.tick_params(axis="x", rotation=30)
    return png_base64(fig, axes, legend_size=7, dpi=100)


def html_page(report: dict, notes: str = "") -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in table_rows(report))
    text = html.escape(markdown(report, notes).split("\n| ")[0])
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(report['experiment_id'])}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}</style></head><body>"
        f"<pre style='white-space:pre-wrap'>{text}</pre><table><tr>{head}</tr>{body}</table>"
        f"<p><img alt='learning curves' src='data:image/png;base64,{figure_png(report)}'></p>"
        f"<pre style='white-space:pre-wrap'>{html.escape(notes)}</pre></body></html>\n"
    )
