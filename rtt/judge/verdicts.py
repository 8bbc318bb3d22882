"""Verdicts for a batch of responses: each (response, item) pair to the rule checker or the LLM judge.

`judge.mode`: `rule` (checkers only; an item without one is unknown), `llm` (every item to the
LLM, the verifiable ones too), `auto` (the checker where there is one, else the LLM). All LLM
requests of a batch go out together, concurrently (`rtt.llm.client`). Every pair gets exactly one
verdict row: a failed request or an answer that is not clearly YES/NO gives verdict 0 (unknown)
with the reason and the raw answer in `reason`. With `judge.quotes`, the quotes the LLM gives are
located in the response (`rtt.judge.quotes`) and become the row's spans and token labels; quotes
not found are counted in `quotes_dropped`.

An empty or whitespace-only response is never sent to the LLM, in any mode: every item of it gets
the rule judge's row (`rtt.judge.rule`: verdict -1, judge "rule", reason `EMPTY`, every response
token labelled 1), as IFEval's evaluation fails every instruction of a blank response. Unknown
(0) is left for non-empty responses only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rtt.config import Config, JudgeConfig
from rtt.data.items import RubricItem
from rtt.data.store import state_root
from rtt.detokenize import decode_with_offsets
from rtt.judge.llm import (
    batch_messages,
    item_messages,
    parse_batch,
    parse_item,
    verdict_of,
)
from rtt.judge.quotes import locate_quotes
from rtt.judge.rule import is_empty, verdict_record, verdict_row
from rtt.llm.cache import answer_cache
from rtt.llm.client import Answer, ChatClient

RAW_CHARS = 2000


@dataclass
class Case:
    """One response to judge on its items."""

    rollout_id: str
    prompt: str
    text: str
    offsets: list[tuple[int, int]]
    """Character span of each response token in `text` (`rtt.detokenize`)."""
    items: list[RubricItem]


@dataclass
class Question:
    """One LLM request: the case it is about and which of its items it grades."""

    case: int
    items: list[int]
    body: dict


class Judge:
    """Grades cases with the configured mode; the LLM client is made on first use, so a run that
    never needs the LLM needs no endpoint."""

    def __init__(self, cfg: JudgeConfig, cache_dir: str | Path | None = None, seed: int = 0):
        self.cfg, self.cache_dir, self.seed = cfg, cache_dir, seed
        self._client: ChatClient | None = None

    @classmethod
    def for_run(cls, cfg: Config) -> Judge:
        """The run's judge (`cfg.judge`), sharing the run's answer cache."""
        return cls(cfg.judge, state_root(cfg.data_dir) / "cache", cfg.seed)

    @property
    def client(self) -> ChatClient:
        if self._client is None:
            self._client = ChatClient(self.cfg.llm, answer_cache(self.cfg.llm.cache, self.cache_dir), self.seed)
        return self._client

    def uses_llm(self, case: Case, item: RubricItem) -> bool:
        """Whether the LLM grades this item of this case; never for an empty response (the rule judge fails it)."""
        return not is_empty(case.text) and (
            self.cfg.mode == "llm" or (self.cfg.mode == "auto" and item.checker is None)
        )

    def questions(self, cases: list[Case]) -> list[Question]:
        out = []
        for c, case in enumerate(cases):
            llm_items = [k for k, item in enumerate(case.items) if self.uses_llm(case, item)]
            if self.cfg.batch_items and llm_items:
                messages = batch_messages(case.prompt, case.text, [case.items[k] for k in llm_items], self.cfg.quotes)
                out.append(Question(c, llm_items, self.client.request(messages)))
            elif not self.cfg.batch_items:
                out += [
                    Question(
                        c,
                        [k],
                        self.client.request(item_messages(case.prompt, case.text, case.items[k], self.cfg.quotes)),
                    )
                    for k in llm_items
                ]
        return out

    def judge(
        self, run_id: str, round_: int, step: int, cases: list[Case], desc: str = "judge"
    ) -> tuple[list[list[dict]], list[Answer]]:
        """(verdict rows per case, in item order; the LLM answers, one per request made)."""
        rows: list[list[dict | None]] = [[None] * len(case.items) for case in cases]
        for c, case in enumerate(cases):
            for k, item in enumerate(case.items):
                if not self.uses_llm(case, item):
                    rows[c][k] = verdict_row(
                        run_id, round_, step, case.rollout_id, item, case.text, case.offsets, case.prompt
                    )
        questions = self.questions(cases)
        answers = self.client.complete_all([q.body for q in questions], desc) if questions else []
        judge_name = f"llm:{self.cfg.llm.model}"
        for q, answer in zip(questions, answers):
            case = cases[q.case]
            if answer.content is None:
                parsed = [(None, [])] * len(q.items)
                reason = f"request failed: {answer.error}"
            else:
                parsed = (
                    parse_batch(answer.content, len(q.items))
                    if self.cfg.batch_items
                    else [parse_item(answer.content, self.cfg.quotes)]
                )
                reason = answer.content[:RAW_CHARS]
            for k, (met, quotes) in zip(q.items, parsed):
                item = case.items[k]
                verdict = verdict_of(met, item)
                located = locate_quotes(case.text, quotes)
                why = reason if verdict != 0 or answer.content is None else f"no clear YES/NO for this item: {reason}"
                rows[q.case][k] = verdict_record(
                    run_id,
                    round_,
                    step,
                    case.rollout_id,
                    item,
                    verdict,
                    judge_name,
                    why,
                    located.spans if verdict != 0 else [],
                    case.offsets,
                    located.dropped,
                )
        return rows, answers


def llm_summary(answers: list[Answer], rows: list[dict]) -> dict:
    """What the LLM judge cost and how it went (empty when it was not called)."""
    if not answers:
        return {}
    fresh = [a for a in answers if not a.cached]
    latencies = sorted(a.latency_s for a in fresh if a.content is not None)
    return {
        "llm_requests": len(answers),
        "llm_cached": len(answers) - len(fresh),
        "llm_failed": sum(a.content is None for a in answers),
        "llm_retries": sum(max(a.attempts - 1, 0) for a in fresh),
        "prompt_tokens": sum(a.prompt_tokens for a in answers),
        "completion_tokens": sum(a.completion_tokens for a in answers),
        "llm_latency_p50_s": round(latencies[len(latencies) // 2], 3) if latencies else 0.0,
        "quotes_dropped": sum(r["quotes_dropped"] for r in rows),
    }


def rollout_cases(rollouts: list[dict], prompt_text: dict[str, str], rubrics: dict, tokenizer) -> list[Case]:
    """Stored rollouts as the judge's cases: the response text and offsets of their token ids, their items."""
    return [
        Case(
            r["rollout_id"],
            prompt_text[r["prompt_id"]],
            *decode_with_offsets(tokenizer, r["token_ids"]),
            rubrics.get(r["prompt_id"], []),
        )
        for r in rollouts
    ]


def verdict_summary(rows: list[dict], answers: list[Answer]) -> dict:
    """How many verdicts, unknown, the pass rate of the known ones, and what the LLM judge cost."""
    known = [r for r in rows if r["verdict"] != 0]
    return {
        "verdicts": len(rows),
        "unknown": len(rows) - len(known),
        "pass_rate": round(sum(r["verdict"] > 0 for r in known) / max(len(known), 1), 3),
        **llm_summary(answers, rows),
    }
