"""Verdicts and the span arithmetic every checker shares.

Spans are half-open character offsets into the response, sorted, non-overlapping (overlapping
ones are merged, empty ones dropped by `verdict`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """A checker's result: pass or fail, and the response characters that decided it."""

    passed: bool
    spans: list[tuple[int, int]]


def verdict(passed: bool, spans: list[tuple[int, int]]) -> Verdict:
    """Sort spans, drop empty ones, merge overlapping ones (touching ones stay apart)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return Verdict(passed, merged)


def matches(pattern: str, text: str, flags: int = 0) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(pattern, text, flags)]


def stripped_bounds(text: str) -> tuple[int, int]:
    """(a, b) with text[a:b] == text.strip()."""
    b = len(text.rstrip())
    return min(len(text) - len(text.lstrip()), b), b


def lower_origin(text: str) -> list[int]:
    """origin[j] = index in `text` of the character that produced text.lower()[j].

    Lower-casing can lengthen a character ("İ" -> "i̇"); the one context rule (final sigma) swaps
    one character for another, so per-character lengths add up to len(text.lower()).
    """
    return [i for i, c in enumerate(text) for _ in c.lower()]


def to_original(origin: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a non-empty span of text.lower() back to the characters of text that produced it."""
    return origin[start], origin[end - 1] + 1


def line_spans(text: str) -> list[tuple[int, int]]:
    """Every line of text, without its "\\n" (a text of n newlines has n + 1 lines)."""
    spans = []
    start = 0
    while (end := text.find("\n", start)) >= 0:
        spans.append((start, end))
        start = end + 1
    spans.append((start, len(text)))
    return spans


def whole_or(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """spans, or the stripped text when there are none."""
    return spans or [stripped_bounds(text)]
