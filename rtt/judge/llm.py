"""LLM judge: prompts that ask whether a response meets a rubric item, and strict parsing of answers.

Two modes (`judge.batch_items`):
- per item (the RTT setup): the request, the response and one item; the answer is YES or NO
  (with `judge.quotes`, a JSON object `{"verdict": "YES", "quotes": [...]}`);
- batched (as in Chasing the Tail): all of a response's LLM-graded items, numbered, in one call;
  the answer is a JSON object `{"verdicts": [{"id": 1, "verdict": "YES", "quotes": [...]}, ...]}`.

The judge is asked whether the response *meets* each criterion; for a pitfall item (a criterion
that names a fault, `RubricItem.pitfall`) meeting it is a violation, as in HealthBench's grading.
Parsing never guesses: an answer that is not clearly YES or NO (both words, neither, a refusal,
broken JSON, a missing item) gives `None`, which the caller records as an unknown verdict with the
raw text kept.
"""

from __future__ import annotations

import json
import re

from rtt.data.items import RubricItem

SYSTEM = (
    "You are a strict grader. You are given a user's request, an AI assistant's response and "
    "grading criteria. Judge only what the response actually contains. If a criterion is only "
    "partly met, or you are not sure it is met, it is not met."
)
QUOTES_RULE = (
    'In "quotes", copy the exact substrings of the response that decided it (shortest '
    "spans that show it; an empty list when the criterion is about something missing)."
)
WORD = re.compile(r"\b(YES|NO)\b")
LEADING = re.compile(r"^[\s*_#>`\"'(\[]*(YES|NO)\b")
FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def item_messages(prompt: str, response: str, item: RubricItem, quotes: bool) -> list[dict]:
    """One (response, item) question: answer YES or NO (or a JSON object with quotes)."""
    if quotes:
        ask = (
            "Does the response meet the criterion? Answer with only a JSON object: "
            '{"verdict": "YES" or "NO", "quotes": [...]}. ' + QUOTES_RULE
        )
    else:
        ask = "Does the response meet the criterion? Answer with exactly one word: YES or NO."
    user = f"[Request]\n{prompt}\n\n[Response]\n{response}\n\n[Criterion]\n{item.text}\n\n{ask}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def batch_messages(prompt: str, response: str, items: list[RubricItem], quotes: bool) -> list[dict]:
    """All items of one response in one question, answered as JSON."""
    listed = "\n".join(f"{n}. {item.text}" for n, item in enumerate(items, 1))
    entry = '{"id": <number>, "verdict": "YES" or "NO"' + (', "quotes": [...]}' if quotes else "}")
    ask = (
        f"For each criterion, does the response meet it? Answer with only a JSON object: "
        f'{{"verdicts": [{entry}, ...]}} with one entry per criterion.' + (" " + QUOTES_RULE if quotes else "")
    )
    user = f"[Request]\n{prompt}\n\n[Response]\n{response}\n\n[Criteria]\n{listed}\n\n{ask}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def yes_no(value) -> bool | None:
    """True for YES, False for NO (any case, markdown and punctuation ignored): the answer's first
    word when it is one of them, else the only one of the two words it contains; None otherwise."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    text = value.upper()
    if first := LEADING.match(text):
        return first.group(1) == "YES"
    words = set(WORD.findall(text))
    return words.pop() == "YES" if len(words) == 1 else None


def json_object(text: str) -> dict | None:
    """The JSON object an answer holds: the whole text, fenced or not, else its outermost {...}."""
    text = FENCE.sub("", text.strip())
    for candidate in (text, text[text.find("{") : text.rfind("}") + 1]):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def quote_list(value) -> list[str]:
    return [q for q in value if isinstance(q, str)] if isinstance(value, list) else []


def parse_item(answer: str, quotes: bool) -> tuple[bool | None, list[str]]:
    """(met, quotes) of a per-item answer; met is None when the answer is not clearly YES or NO."""
    obj = json_object(answer) if quotes or "{" in answer else None
    if obj is not None:
        return yes_no(obj.get("verdict")), quote_list(obj.get("quotes"))
    return yes_no(answer), []


def parse_batch(answer: str, n_items: int) -> list[tuple[bool | None, list[str]]]:
    """(met, quotes) per item 1..n_items of a batched answer; (None, []) for an item it lacks."""
    out: list[tuple[bool | None, list[str]]] = [(None, [])] * n_items
    obj = json_object(answer)
    entries = obj.get("verdicts") if obj is not None else None
    if not isinstance(entries, list):
        return out
    seen: set[int] = set()
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), int) or isinstance(entry.get("id"), bool):
            continue
        index = entry["id"] - 1
        if 0 <= index < n_items:
            # an item answered twice is answered ambiguously
            out[index] = (
                (None, []) if index in seen else (yes_no(entry.get("verdict")), quote_list(entry.get("quotes")))
            )
            seen.add(index)
    return out


def verdict_of(met: bool | None, item: RubricItem) -> int:
    """+1 satisfied / -1 violated / 0 unknown; meeting a pitfall item is a violation."""
    if met is None:
        return 0
    return (-1 if met else 1) if item.pitfall else (1 if met else -1)
