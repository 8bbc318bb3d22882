"""Rule judge: verifiable items graded by their checker, with evidence spans and token labels.

An empty or whitespace-only response (`text.strip() == ""`) violates every item, with or without a
checker, pitfalls included, as IFEval's evaluation fails every instruction of a blank response
(`response.strip() and check_following(...)`). The rule lives here, not in `rtt.constraints.check`,
which stays the pure checker that agrees with IFEval's `check_following` (by which "no commas" or
"fewer than 50 words" pass an empty text); without it, the empty answer would earn a policy the
reward of every negative item. Its evidence is the whole response: the span (0, len(text)) and
every response token labelled 1 (EOS included, whose character span is empty), so gold relevance
and the discriminator put the negative credit on the tokens the policy produced.
"""

from __future__ import annotations

from rtt.constraints import check
from rtt.data.items import RubricItem
from rtt.data.store import stable_id
from rtt.detokenize import spans_to_token_labels

NO_CHECKER = "no rule checker for this item (judge.mode=rule)"
EMPTY = "empty response: every item is violated (as IFEval's evaluation does)"


def is_empty(text: str) -> bool:
    """A response with nothing but whitespace in it (Python's `str.strip`, as IFEval's evaluation)."""
    return not text.strip()


def judge_item(item: RubricItem, response: str, prompt: str | None = None) -> tuple[int, list[tuple[int, int]], str]:
    """(verdict in {+1, -1, 0}, evidence spans, reason). An empty response violates every item, its
    whole text the evidence. Otherwise items without a checker are unknown (0), and so is an item
    whose checker raises on this response: one bad case never stops a stage."""
    if is_empty(response):
        return -1, [(0, len(response))], EMPTY
    if item.checker is None:
        return 0, [], NO_CHECKER
    try:
        result = check(item.checker, item.kwargs, response, prompt)
    except Exception as err:  # noqa: BLE001 - a boundary: the reason keeps what went wrong
        return 0, [], f"checker error: {type(err).__name__}: {err}"[:500]
    return (1 if result.passed else -1), list(result.spans), ""


def verdict_record(
    run_id: str,
    round_: int,
    step: int,
    rollout_id: str,
    item: RubricItem,
    verdict: int,
    judge: str,
    reason: str,
    spans: list[tuple[int, int]],
    offsets: list[tuple[int, int]],
    quotes_dropped: int = 0,
) -> dict:
    """A `verdicts` row; the evidence spans are also mapped onto the response tokens."""
    return {
        "run_id": run_id,
        "verdict_id": stable_id(rollout_id, item.item_id),
        "rollout_id": rollout_id,
        "item_id": item.item_id,
        "prompt_id": item.prompt_id,
        "round": round_,
        "step": step,
        "verdict": verdict,
        "judge": judge,
        "reason": reason,
        "spans": [{"start": s, "end": e} for s, e in spans],
        "token_labels": spans_to_token_labels(offsets, spans),
        "quotes_dropped": quotes_dropped,
    }


def verdict_row(
    run_id: str,
    round_: int,
    step: int,
    rollout_id: str,
    item: RubricItem,
    text: str,
    offsets: list[tuple[int, int]],
    prompt: str | None = None,
) -> dict:
    """The rule judge's `verdicts` row; an empty response's row labels every response token 1."""
    verdict, spans, reason = judge_item(item, text, prompt)
    row = verdict_record(run_id, round_, step, rollout_id, item, verdict, "rule", reason, spans, offsets)
    if is_empty(text):
        row["token_labels"] = [1] * len(offsets)  # EOS too: its span is empty, so no span maps onto it
    return row
