"""What the HTML pages share (`rtt report`, `rtt compare`, the relevance and discriminator pages):
the page shell, tables, figures with captions, and the drawing of learning curves.

Curves follow one convention on every page: x is the GRPO step counted across rounds
(`train_steps.global_step`, MLflow's step), each round's start is drawn, each run (or arm of
several seeds: their mean, the band spanning the seeds) is one line, smoothed by a trailing moving
average with the raw per-step values faint behind it. Held-out accuracy sits on the same axis, at
the step the evaluated policy had reached (the base policy at 0). Every figure is an inline PNG in
a <figure> with a caption saying what it shows, so a page is one self-contained file.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import numpy as np

from rtt.stats import moving_average

CSS = (
    "body{font-family:sans-serif;margin:1em 2em;max-width:80em}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
    "th{background:#f3f3f3}figure{margin:1em 0}figure img{max-width:100%}"
    "figcaption{font-size:13px;color:#333;max-width:60em}.guide{background:#f6f6f6;padding:.5em 1em}"
)


def html_page(title: str, body: str, css: str = "") -> str:
    """A self-contained page: its title as <title> and <h1>, then `body`."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}{css}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n"
    )


def html_table(columns: list[str], rows: list[dict]) -> str:
    def cell(value) -> str:
        return "" if value is None else html.escape(f"{value:.4f}" if isinstance(value, float) else str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(row[c])}</td>" for c in columns) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


@dataclass
class Figure:
    name: str
    caption: str
    """What the plot shows, in a sentence or three: printed under it."""
    fig: object
    """A matplotlib figure; its data lines have gid "data", its round boundaries gid "round"."""

    def lines(self, gid: str) -> list:
        """The plot's lines of one kind: "data" (what was measured) or "round" (where a round starts)."""
        return [line for line in self.fig.axes[0].lines if line.get_gid() == gid]

    def html(self, dpi: int = 100) -> str:
        """The plot as an inline PNG with its caption (closes the figure)."""
        import matplotlib.pyplot as plt

        self.fig.tight_layout()
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=dpi)
        plt.close(self.fig)
        png = base64.b64encode(buffer.getvalue()).decode()
        return (
            f"<figure><img alt='{html.escape(self.name)}' src='data:image/png;base64,{png}'>"
            f"<figcaption>{html.escape(self.caption)}</figcaption></figure>"
        )


def new_figure(width: float = 10, height: float = 4.2):
    """(figure, axes) for one plot, drawn off-screen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def smoothing_window(n_steps: int) -> int:
    """The moving average's window for a curve of n steps: about a fifth of it, 1 to 10 steps."""
    return max(1, min(10, n_steps // 5))


def draw_curves(ax, x: list[int], curves: list[list[float]], label: str, window: int) -> None:
    """One run or arm on `ax`: `curves` is [seeds][len(x)]. The seeds' mean smoothed over `window`
    steps (solid), their raw mean (faint, with a dot per step), and with several seeds the band from
    the lowest to the highest seed's smoothed curve. Data lines carry gid "data"."""
    raw = np.array(curves, dtype=float)  # [seeds, steps]
    smooth = np.array([moving_average(list(c), window) for c in raw])  # [seeds, steps]
    marker = "." if window == 1 else None  # unsmoothed: the solid line is the raw one, dots and all
    (line,) = ax.plot(x, smooth.mean(0), label=label, linewidth=1.8, marker=marker, gid="data")
    ax.plot(x, raw.mean(0), color=line.get_color(), alpha=0.3, linewidth=0.8, marker=".", markersize=5, gid="data")
    if len(raw) > 1:
        ax.fill_between(x, smooth.min(0), smooth.max(0), color=line.get_color(), alpha=0.15)


def draw_round_starts(ax, steps_per_round: int, rounds: int) -> None:
    """With several rounds: a dotted line before the first step of each round after the first (gid
    "round"), and each round's name at the top of the plot, over the middle of its steps."""
    if rounds < 2:
        return
    top = ax.get_xaxis_transform()  # x in data, y in axes coordinates
    for r in range(rounds):
        start = r * steps_per_round - 0.5
        if r:
            ax.axvline(start, color="gray", linestyle=":", linewidth=1, gid="round")
        middle = start + steps_per_round / 2
        ax.text(middle, 1.01, f"round {r}", transform=top, fontsize=8, color="gray", ha="center", va="bottom")


def finish_axes(ax, title: str, xlabel: str, ylabel: str, steps: bool = True) -> None:
    """Title, axis labels, a grid, whole-number ticks on a step axis, and the legend to the right of
    the plot, where it hides no data."""
    from matplotlib.ticker import MaxNLocator

    ax.set_title(title, pad=14)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    if steps:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)


STEP_AXIS = "GRPO step, counted across rounds (each: sample, judge, grpo.updates_per_batch updates)"
