"""Judge stage: one verdict row per (rollout, rubric item) of the round's offline rollouts.

Rule checkers and/or the LLM judge per `judge.mode` (`rtt.judge.verdicts`); the LLM requests,
answered or cached, are recorded in `llm_calls`.
"""

from __future__ import annotations

from pathlib import Path

from rtt.checkpoints import starting_policy
from rtt.config import Config
from rtt.data.store import Store
from rtt.detokenize import decode_with_offsets
from rtt.judge.verdicts import Case, Judge, call_rows
from rtt.llm.client import Answer
from rtt.models import load_tokenizer
from rtt.rubrics.items import conversation_text, load_prompts, load_rubrics
from rtt.tracking import Tracker


def llm_summary(answers: list[Answer], rows: list[dict]) -> dict:
    """What the LLM judge cost and how it went (empty when it was not called)."""
    if not answers:
        return {}
    fresh = [a for a in answers if not a.cached]
    latencies = sorted(a.latency_s for a in fresh if a.content is not None)
    return {"llm_requests": len(answers), "llm_cached": len(answers) - len(fresh),
            "llm_failed": sum(a.content is None for a in answers), "llm_retries": sum(max(a.attempts - 1, 0) for a in fresh),
            "prompt_tokens": sum(a.prompt_tokens for a in answers), "completion_tokens": sum(a.completion_tokens for a in answers),
            "llm_latency_p50_s": round(latencies[len(latencies) // 2], 3) if latencies else 0.0,
            "quotes_dropped": sum(r["quotes_dropped"] for r in rows)}


def rollout_cases(rollouts: list[dict], prompt_text: dict[str, str], rubrics: dict, tokenizer) -> list[Case]:
    """Stored rollouts as the judge's cases: the response text and offsets of their token ids, their items."""
    return [Case(r["rollout_id"], prompt_text[r["prompt_id"]], *decode_with_offsets(tokenizer, r["token_ids"]),
                 rubrics.get(r["prompt_id"], [])) for r in rollouts]


def verdict_summary(rows: list[dict], answers: list[Answer]) -> dict:
    """How many verdicts, unknown, the pass rate of the known ones, and what the LLM judge cost."""
    known = [r for r in rows if r["verdict"] != 0]
    return {"verdicts": len(rows), "unknown": len(rows) - len(known),
            "pass_rate": round(sum(r["verdict"] > 0 for r in known) / max(len(known), 1), 3),
            **llm_summary(answers, rows)}


def run_judge(cfg: Config, store: Store, tracker: Tracker, run_id: str, round_: int) -> dict:
    rollouts = store.rows("rollouts", run_id, f"round{round_}")
    if not rollouts:
        raise FileNotFoundError(f"judge: no rollouts for run {run_id} round {round_}: run the rollouts stage first")
    rubrics = load_rubrics(store, run_id)
    prompt_text = {p["prompt_id"]: conversation_text(p) for p in load_prompts(store, run_id)}
    tokenizer = load_tokenizer(starting_policy(cfg, store, run_id, round_))
    cases = rollout_cases(rollouts, prompt_text, rubrics, tokenizer)
    per_case, answers = Judge(cfg.judge, Path(cfg.data_dir) / "cache", cfg.seed).judge(run_id, round_, -1, cases)
    rows = [row for case_rows in per_case for row in case_rows]
    store.write("verdicts", rows, run_id, f"round{round_}")
    if answers:
        store.write("llm_calls", call_rows(run_id, "judge", round_, -1, cfg.judge.llm.model, answers), run_id, f"judge_round{round_}")
    summary = verdict_summary(rows, answers)
    tracker.log_metrics(summary, step=round_)
    return summary
