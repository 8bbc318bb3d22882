"""Rollouts with their tokens shaded by relevance, one block per rubric item.

`rtt show ROLLOUT_ID` prints ANSI colours in a terminal; `render_html` writes a self-contained page
(the GRPO stage logs one per round to MLflow); `render_labels_html` shows the discriminator's
predictions against the judge's evidence (the discriminator stage logs one per round). Relevance
comes from `token_scores` (what the GRPO step used) and, when absent, from the judge's gold token
labels; verdicts and scores that `rtt rescore` wrote beside the run's own are left out.

How a page reads, in the legend at its top and in `rtt show`'s first line:
- colour: green a satisfied item, red a violated one, grey unknown; violated items come first;
- shade: the token's score rescaled to its item's own range (min-max per item), so an item's most
  relevant tokens stand out even when all its scores are low (a discriminator early in training);
  each item prints its range, and an item whose tokens all score the same is shaded by the score;
- outline (underline in a terminal): the tokens inside the judge's evidence spans;
- hover a token for its exact score.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from rtt.data.catalog import query, quoted
from rtt.data.items import conversation_text
from rtt.data.store import Store
from rtt.detokenize import decode_with_offsets
from rtt.models import load_tokenizer
from rtt.pages import html_page

VERDICTS = {1: "satisfied", -1: "violated", 0: "unknown"}
COLOURS = {1: "22,163,74", -1: "220,38,38", 0: "107,114,128"}  # RGB: green, red, grey
MAX_ALPHA = 0.75  # the darkest shade, at which black text still reads
THRESHOLD = 0.5  # the discriminator's decision threshold, as its token F1 counts it


def order(verdict: int) -> int:
    """Violated items first, then unknown, then satisfied."""
    return {-1: 0, 0: 1, 1: 2}[verdict]


@dataclass
class ItemView:
    text: str
    verdict: int
    source: str
    scores: list[float]
    evidence: list[int]
    """1 where the token lies inside the judge's evidence spans (the verdict's token labels)."""
    has_spans: bool


@dataclass
class RolloutView:
    rollout: dict
    prompt: str
    """The request the response answers, as the judge reads it."""
    pieces: list[str]  # the characters of each response token
    items: list[ItemView]


def load_view(store: Store, rollout_id: str) -> RolloutView:
    safe = quoted([rollout_id])
    found = query(store, f"SELECT * FROM rollouts WHERE rollout_id = {safe}").to_pylist()
    if not found:
        raise ValueError(f"no rollout {rollout_id!r} in {store.root}")
    rollout = found[0]
    rows = query(
        store,
        f"""
        SELECT r.text AS item, v.verdict, v.token_labels, len(v.spans) > 0 AS has_spans, s.relevance, s.source
        FROM verdicts v JOIN rubrics r USING (item_id)
        LEFT JOIN token_scores s
            ON s.rollout_id = v.rollout_id AND s.item_id = v.item_id AND s.source NOT LIKE 'rescore:%'
        WHERE v.rollout_id = {safe} AND v.judge NOT LIKE 'rescore:%' ORDER BY r.item_index""",
    ).to_pylist()
    prompts = query(
        store,
        f"SELECT prompt, messages FROM prompts WHERE run_id = {quoted([rollout['run_id']])} "
        f"AND prompt_id = {quoted([rollout['prompt_id']])}",
    ).to_pylist()
    text, offsets = decode_with_offsets(load_tokenizer(rollout["policy"]), rollout["token_ids"])
    items = [
        ItemView(
            r["item"],
            r["verdict"],
            r["source"] or "gold labels",
            r["relevance"] or [float(x) for x in r["token_labels"]],
            list(r["token_labels"]),
            bool(r["has_spans"]),
        )
        for r in rows
    ]
    items.sort(key=lambda i: order(i.verdict))  # stable: rubric order within each verdict
    prompt = conversation_text(prompts[0]) if prompts else "(not in the prompts table)"
    return RolloutView(rollout, prompt, [text[s:e] for s, e in offsets], items)


def header(view: RolloutView) -> str:
    r = view.rollout
    return (
        f"rollout {r['rollout_id']}  prompt {r['prompt_id']}  round {r['round']} step {r['step']}  reward {r['reward']}"
    )


def shades(scores: list[float]) -> list[float]:
    """Each score's place in [0, 1] between its item's lowest and highest; all equal: the score
    itself, clipped to [0, 1] (so all-one gold labels stay dark and all-zero ones white)."""
    low, high = min(scores, default=0.0), max(scores, default=0.0)
    if high - low < 1e-6:
        return [min(1.0, max(0.0, s)) for s in scores]
    return [(s - low) / (high - low) for s in scores]


def score_range(scores: list[float]) -> str:
    return f"{min(scores, default=0.0):.3f}-{max(scores, default=0.0):.3f}"


def evidence_note(item: ItemView) -> str:
    if not item.has_spans:
        return "the judge gave no evidence spans"
    return f"{sum(item.evidence)} token(s) in the judge's evidence"


# -- terminal -------------------------------------------------------------------------------------

TERMINAL_LEGEND = (
    "legend: background = relevance rescaled to each item's own range (min->max, 5 steps; the brighter, "
    "the more relevant); green satisfied, red violated, grey unknown (violated items first); "
    "underlined = tokens in the judge's evidence"
)


def ansi(piece: str, shade: float, verdict: int, evidence: bool) -> str:
    """ANSI 256-colour background in 5 steps of `shade`, green / red / grey by verdict; underlined
    where the token is in the judge's evidence."""
    level = min(5, int(round(shade * 5)))
    codes = ["4"] if evidence else []
    if level:
        colour = {1: 16 + 6 * level, -1: 16 + 36 * level, 0: 238 + 3 * level}[verdict]
        codes.append(f"48;5;{colour}")
    return f"\x1b[{';'.join(codes)}m{piece}\x1b[0m" if codes else piece


def render_terminal(store: Store, rollout_id: str) -> str:
    view = load_view(store, rollout_id)
    out = [header(view), f"prompt: {view.prompt}", TERMINAL_LEGEND]
    for item in view.items:
        out.append(
            f"\n[{VERDICTS[item.verdict]}] {item.text}  (relevance: {item.source}, scores {score_range(item.scores)}; "
            f"{evidence_note(item)})"
        )
        out.append(
            "".join(
                ansi(p, s, item.verdict, bool(e)) for p, s, e in zip(view.pieces, shades(item.scores), item.evidence)
            )
        )
    return "\n".join(out)


# -- HTML -----------------------------------------------------------------------------------------

STYLE = (
    ".tokens{font-family:monospace;line-height:1.9;white-space:normal}"
    "section{border-top:1px solid #ccc;margin-top:1em}h3{margin:.6em 0 .2em}"
    ".satisfied{color:#166534}.violated{color:#991b1b}.unknown{color:#4b5563}"
    ".meta{font-size:13px;color:#444;margin:.2em 0}.ev{outline:2px solid #1d4ed8;outline-offset:-1px}"
    ".bar{display:inline-block;width:8em;height:.9em;vertical-align:middle;border:1px solid #999}"
    ".legend{background:#f6f6f6;padding:.4em 1em;font-size:14px}.legend p{margin:.4em 0}"
    "details pre{white-space:pre-wrap;background:#fafafa;padding:.5em}"
)


def bar(verdict: int) -> str:
    """A colour bar from white (no shade) to the darkest shade of a verdict's colour."""
    rgb = COLOURS[verdict]
    return (
        f'<span class="bar" style="background:linear-gradient(to right,rgba({rgb},0),rgba({rgb},{MAX_ALPHA}))"></span>'
    )


def scale(scores: list[float], verdict: int, what: str) -> str:
    """The item's colour scale, labelled with its lowest and highest score."""
    low, high = min(scores, default=0.0), max(scores, default=0.0)
    if high - low < 1e-6:
        return f"{what}: every token {low:.3f}"
    return f"{what}: {low:.3f} {bar(verdict)} {high:.3f}"


def html_token(piece: str, score: float, shade: float, verdict: int, evidence: bool) -> str:
    text = html.escape(piece).replace("\n", "↵<br>")
    title = f"score {score:.4f}" + (" (judge's evidence)" if evidence else "")
    outline = ' class="ev"' if evidence else ""
    return (
        f'<span{outline} title="{title}" style="background:rgba({COLOURS[verdict]},{MAX_ALPHA * shade:.3f})">'
        f"{text}</span>"
    )


def tokens_html(pieces: list[str], scores: list[float], verdict: int, evidence: list[int]) -> str:
    return "".join(
        html_token(p, float(s), shade, verdict, bool(e))
        for p, s, shade, e in zip(pieces, scores, shades(scores), evidence)
    )


def legend(guide: str, shaded: str) -> str:
    """The reading guide and colour legend at the top of a page."""
    return (
        f'<div class="legend"><p><b>How to read this page.</b> {guide} Hover a token for its exact score.</p>'
        f"<p>Colour: {bar(-1)} violated item &nbsp; {bar(1)} satisfied &nbsp; {bar(0)} unknown (the judge could "
        f"not tell).</p><p>Shade: {shaded}, rescaled to its item's own range (min-max normalisation per item): "
        "the item's least relevant token is white and its most relevant the darkest, even when all of the "
        "item's scores are low. Each item prints its range; an item whose tokens all score the same is shaded "
        'by that score.</p><p><span class="ev">Outlined</span>: tokens inside the judge\'s evidence spans '
        "(rule checkers give spans; an LLM judge gives them when asked for quotes).</p></div>"
    )


def render_html(store: Store, rollout_ids: list[str], title: str = "rtt: token relevance") -> str:
    guide = (
        "Each section is one sampled response; under it, one line per rubric item, violated items first, with "
        "the response's tokens shaded by how relevant each is to that item: the relevance the GRPO step used "
        "for its token-level advantage."
    )
    blocks = []
    for rollout_id in rollout_ids:
        view = load_view(store, rollout_id)
        items = "".join(
            f'<h3 class="{VERDICTS[i.verdict]}">[{VERDICTS[i.verdict]}] {html.escape(i.text)}</h3>'
            f'<p class="meta">{scale(i.scores, i.verdict, f"relevance ({html.escape(i.source)})")} &middot; '
            f"{evidence_note(i)}</p>"
            f'<p class="tokens">{tokens_html(view.pieces, i.scores, i.verdict, i.evidence)}</p>'
            for i in view.items
        )
        prompt = f"<details><summary>the prompt</summary><pre>{html.escape(view.prompt)}</pre></details>"
        blocks.append(f"<section><h2>{html.escape(header(view))}</h2>{prompt}{items}</section>")
    return html_page(title, legend(guide, "the token's relevance score") + "".join(blocks), STYLE)


@dataclass
class LabelExample:
    """A held-out (response, item) pair with the discriminator's scores beside the judge's labels."""

    kind: str
    item: str
    verdict: int
    pieces: list[str]
    gold: list[int]
    predicted: list[float]


def render_labels_html(title: str, examples: list[LabelExample], held_out: bool = True) -> str:
    """One section per example, violated items first: the tokens shaded by the discriminator's
    score, the judge's evidence (what it learns to predict) outlined."""
    prompts = "prompts the discriminator did not train on" if held_out else "its training prompts (none were held out)"
    guide = (
        f"Each section is one (response, rubric item) pair from {prompts}, "
        "violated items first. Tokens are shaded by the discriminator's relevance score and the judge's "
        "evidence tokens (the gold labels it learns to predict) are outlined: where it has learned, the darkest "
        f"tokens are the outlined ones. Its token F1 counts a score of {THRESHOLD} or more as relevant."
    )
    blocks = []
    for e in sorted(examples, key=lambda e: order(e.verdict)):
        chosen = [s >= THRESHOLD for s in e.predicted]
        hits = sum(c and bool(g) for c, g in zip(chosen, e.gold))
        blocks.append(
            f'<section><h3 class="{VERDICTS[e.verdict]}">[{VERDICTS[e.verdict]}] {html.escape(e.item)} '
            f"<small>({html.escape(e.kind)})</small></h3>"
            f'<p class="meta">{scale(e.predicted, e.verdict, "discriminator")} &middot; {sum(e.gold)} token(s) in '
            f"the judge's evidence; {sum(chosen)} scored {THRESHOLD} or more, {hits} of them in it</p>"
            f'<p class="tokens">{tokens_html(e.pieces, e.predicted, e.verdict, e.gold)}</p></section>'
        )
    return html_page(title, legend(guide, "the discriminator's score") + "".join(blocks), STYLE)
