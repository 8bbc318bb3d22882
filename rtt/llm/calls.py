"""`llm_calls` rows: one per answer a stage got from an LLM endpoint (cost, latency, retries, errors)."""

from __future__ import annotations

from rtt.llm.client import Answer


def call_rows(run_id: str, stage: str, round_: int, step: int, model: str, answers: list[Answer]) -> list[dict]:
    """`llm_calls` rows for a stage's answers."""
    return [
        {
            "run_id": run_id,
            "stage": stage,
            "round": round_,
            "step": step,
            "request_key": a.key,
            "model": model,
            "cached": a.cached,
            "attempts": a.attempts,
            "latency_s": a.latency_s,
            "prompt_tokens": a.prompt_tokens,
            "completion_tokens": a.completion_tokens,
            "error": a.error,
        }
        for a in answers
    ]
