"""`rtt show`: a rollout's tokens coloured by relevance, one line block per rubric item.

Relevance comes from `token_scores` (what the GRPO step used) and, when absent, from the judge's
gold token labels. Background intensity = relevance; the verdict is printed with each item.
"""

from __future__ import annotations

from rtt.data.catalog import query
from rtt.data.store import Store
from rtt.detokenize import decode_with_offsets
from rtt.models import load_tokenizer


def shade(text: str, score: float, satisfied: bool) -> str:
    """ANSI 256-colour background: green for a satisfied item, red for a violated one."""
    level = min(5, int(round(score * 5)))
    if level == 0:
        return text
    color = 16 + (36 * level if not satisfied else 6 * level)
    return f"\x1b[48;5;{color}m{text}\x1b[0m"


def render_terminal(store: Store, rollout_id: str) -> str:
    safe = rollout_id.replace("'", "")
    rollout = query(store, f"SELECT * FROM rollouts WHERE rollout_id = '{safe}'").to_pylist()
    if not rollout:
        raise SystemExit(f"no rollout {rollout_id!r} in {store.root}")
    rollout = rollout[0]
    rows = query(store, f"""
        SELECT r.text AS item, v.verdict, v.token_labels, s.relevance, s.source
        FROM verdicts v JOIN rubrics r USING (item_id)
        LEFT JOIN token_scores s ON s.rollout_id = v.rollout_id AND s.item_id = v.item_id
        WHERE v.rollout_id = '{safe}' ORDER BY r.item_index""").to_pylist()
    tokenizer = load_tokenizer(rollout["policy"])
    text, offsets = decode_with_offsets(tokenizer, rollout["token_ids"])
    out = [f"rollout {rollout_id}  prompt {rollout['prompt_id']}  round {rollout['round']} step {rollout['step']}  "
           f"reward {rollout['reward']}"]
    for row in rows:
        scores = row["relevance"] or [float(x) for x in row["token_labels"]]
        source = row["source"] or "gold labels"
        verdict = {1: "satisfied", -1: "violated", 0: "unknown"}[row["verdict"]]
        out.append(f"\n[{verdict}] {row['item']}  (relevance: {source})")
        out.append("".join(shade(text[s:e], score, row["verdict"] > 0) for (s, e), score in zip(offsets, scores)))
    return "\n".join(out)
