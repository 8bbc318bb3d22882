"""Judge stage: one verdict row per (rollout, rubric item) of the round's offline rollouts."""

from __future__ import annotations

from rtt.checkpoints import starting_policy
from rtt.config import Config
from rtt.data.store import Store
from rtt.detokenize import decode_with_offsets
from rtt.judge.rule import verdict_row
from rtt.models import load_tokenizer
from rtt.rubrics.items import load_prompts, load_rubrics
from rtt.tracking import Tracker


def run_judge(cfg: Config, store: Store, tracker: Tracker, run_id: str, round_: int) -> dict:
    rollouts = store.rows("rollouts", run_id, f"round{round_}")
    if not rollouts:
        raise FileNotFoundError(f"judge: no rollouts for run {run_id} round {round_}: run the rollouts stage first")
    rubrics = load_rubrics(store, run_id)
    prompt_text = {p["prompt_id"]: p["prompt"] for p in load_prompts(store, run_id)}
    tokenizer = load_tokenizer(starting_policy(cfg, store, run_id, round_))
    rows = []
    for r in rollouts:
        text, offsets = decode_with_offsets(tokenizer, r["token_ids"])
        for item in rubrics.get(r["prompt_id"], []):
            rows.append(verdict_row(run_id, round_, -1, r["rollout_id"], item, text, offsets, prompt_text[r["prompt_id"]]))
    store.write("verdicts", rows, run_id, f"round{round_}")
    known = [r for r in rows if r["verdict"] != 0]
    summary = {"verdicts": len(rows), "unknown": len(rows) - len(known),
               "pass_rate": round(sum(r["verdict"] > 0 for r in known) / max(len(known), 1), 3)}
    tracker.log_metrics(summary, step=round_)
    return summary
