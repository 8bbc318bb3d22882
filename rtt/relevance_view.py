"""Rollouts with their tokens shaded by relevance, one block per rubric item.

`rtt show ROLLOUT_ID` prints ANSI colours in a terminal; `render_html` writes a self-contained page
(the GRPO stage logs one per round to MLflow); `render_labels_html` sets the discriminator's
predictions beside the gold labels (the discriminator stage logs one per round). Relevance comes
from `token_scores` (what the GRPO step used) and, when absent, from the judge's gold token
labels; verdicts and scores that `rtt rescore`
wrote beside the run's own are left out. Green: a satisfied item, red: a
violated one; the stronger the shade, the more relevant the token. Hover a token for its value.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from rtt.data.catalog import query
from rtt.data.store import Store
from rtt.detokenize import decode_with_offsets
from rtt.models import load_tokenizer

VERDICTS = {1: "satisfied", -1: "violated", 0: "unknown"}


@dataclass
class ItemView:
    text: str
    verdict: int
    source: str
    scores: list[float]


@dataclass
class RolloutView:
    rollout: dict
    pieces: list[str]  # the characters of each response token
    items: list[ItemView]


def load_view(store: Store, rollout_id: str) -> RolloutView:
    safe = rollout_id.replace("'", "")
    found = query(store, f"SELECT * FROM rollouts WHERE rollout_id = '{safe}'").to_pylist()
    if not found:
        raise ValueError(f"no rollout {rollout_id!r} in {store.root}")
    rollout = found[0]
    rows = query(
        store,
        f"""
        SELECT r.text AS item, v.verdict, v.token_labels, s.relevance, s.source
        FROM verdicts v JOIN rubrics r USING (item_id)
        LEFT JOIN token_scores s
            ON s.rollout_id = v.rollout_id AND s.item_id = v.item_id AND s.source NOT LIKE 'rescore:%'
        WHERE v.rollout_id = '{safe}' AND v.judge NOT LIKE 'rescore:%' ORDER BY r.item_index""",
    ).to_pylist()
    text, offsets = decode_with_offsets(load_tokenizer(rollout["policy"]), rollout["token_ids"])
    items = [
        ItemView(
            r["item"],
            r["verdict"],
            r["source"] or "gold labels",
            r["relevance"] or [float(x) for x in r["token_labels"]],
        )
        for r in rows
    ]
    return RolloutView(rollout, [text[s:e] for s, e in offsets], items)


def header(view: RolloutView) -> str:
    r = view.rollout
    return (
        f"rollout {r['rollout_id']}  prompt {r['prompt_id']}  round {r['round']} step {r['step']}  reward {r['reward']}"
    )


def ansi(piece: str, score: float, satisfied: bool) -> str:
    """ANSI 256-colour background: green for a satisfied item, red for a violated one."""
    level = min(5, int(round(score * 5)))
    if level == 0:
        return piece
    color = 16 + (6 * level if satisfied else 36 * level)
    return f"\x1b[48;5;{color}m{piece}\x1b[0m"


def render_terminal(store: Store, rollout_id: str) -> str:
    view = load_view(store, rollout_id)
    out = [header(view)]
    for item in view.items:
        out.append(f"\n[{VERDICTS[item.verdict]}] {item.text}  (relevance: {item.source})")
        out.append("".join(ansi(p, s, item.verdict > 0) for p, s in zip(view.pieces, item.scores)))
    return "\n".join(out)


def html_token(piece: str, score: float, satisfied: bool) -> str:
    rgb = "22,163,74" if satisfied else "220,38,38"
    text = html.escape(piece).replace("\n", "↵<br>")
    return f'<span title="{score:.3f}" style="background:rgba({rgb},{score:.3f})">{text}</span>'


STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:auto}.tokens{font-family:monospace;line-height:1.7}"
    "section{border-top:1px solid #ccc;margin-top:1em}.satisfied{color:#166534}.violated{color:#991b1b}"
)


def page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def render_labels_html(title: str, examples: list[tuple[str, str, list[str], list[int], list[float]]]) -> str:
    """One section per (kind, item text, token pieces, gold labels, predicted relevance): the gold
    labels shaded on one line, the prediction on the next (hover a token for its value)."""
    blocks = []
    for kind, item, pieces, gold, predicted in examples:
        lines = "".join(
            f'<p><small>{name}</small><br><span class="tokens">'
            f"{''.join(html_token(p, float(s), True) for p, s in zip(pieces, scores))}</span></p>"
            for name, scores in (("gold labels", gold), ("discriminator", predicted))
        )
        blocks.append(f"<section><h3>{html.escape(item)} <small>({html.escape(kind)})</small></h3>{lines}</section>")
    return page(title, "".join(blocks))


def render_html(store: Store, rollout_ids: list[str], title: str = "rtt: token relevance") -> str:
    blocks = []
    for rollout_id in rollout_ids:
        view = load_view(store, rollout_id)
        items = "".join(
            f'<h3 class="{VERDICTS[i.verdict]}">[{VERDICTS[i.verdict]}] {html.escape(i.text)} '
            f"<small>(relevance: {html.escape(i.source)})</small></h3>"
            f'<p class="tokens">{"".join(html_token(p, s, i.verdict > 0) for p, s in zip(view.pieces, i.scores))}</p>'
            for i in view.items
        )
        blocks.append(f"<section><h2>{html.escape(header(view))}</h2>{items}</section>")
    return page(title, "".join(blocks))
