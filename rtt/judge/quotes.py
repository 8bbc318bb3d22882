"""Locate an LLM judge's quotes in the response: character spans for discriminator labels.

METHOD.md section 7(b). A judge asked which parts of a response decided an item answers with
quotes; this module finds them in the response text the judge was shown. LLMs quote loosely, so
each quote is tried in three ways, first hit wins:

1. exact: every non-overlapping occurrence of the quote;
2. normalized: every occurrence after lower-casing, collapsing whitespace runs to one space and
   straightening curly quotes and dashes, on both sides (spans map back to the original text);
3. fuzzy (quotes of at least `MIN_FUZZY_CHARS` characters): the best-aligned substring of the
   normalized response by rapidfuzz's `partial_ratio_alignment`, if it scores `min_score` or more.

Surrounding whitespace and quote marks are stripped first, and a quote with an ellipsis ("..." or
"…") is located piece by piece. A quote is located only if all its pieces are; otherwise it is
dropped and counted, and contributes no spans, never a guessed one.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from rapidfuzz import fuzz

MIN_FUZZY_CHARS = 8
ELLIPSIS = re.compile(r"\.\.\.+|…")
SURROUNDING = " \t\r\n\"'“”‘’`«»"
TRANSLATE = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "\u00a0": " "})


class Located(NamedTuple):
    spans: list[tuple[int, int]]
    """Sorted, merged character spans of every located quote."""
    found: int
    dropped: int
    """Quotes located, and quotes not found (or empty) and so left out of the spans."""


def normalize(text: str) -> tuple[str, list[int]]:
    """(normalized text, origin): origin[i] is the index in `text` of normalized character i."""
    chars, origin = [], []
    for i, ch in enumerate(text.translate(TRANSLATE)):
        if ch.isspace():
            if chars and chars[-1] == " ":
                continue
            ch = " "
        lower = ch.lower()
        chars.append(lower if len(lower) == 1 else ch)  # keep lengths: "İ".lower() has two characters
        origin.append(i)
    return "".join(chars), origin


def occurrences(needle: str, haystack: str) -> list[tuple[int, int]]:
    spans, start = [], haystack.find(needle)
    while needle and start >= 0:
        spans.append((start, start + len(needle)))
        start = haystack.find(needle, start + len(needle))
    return spans


def locate_piece(
    piece: str, response: str, normalized: str, origin: list[int], min_score: float
) -> list[tuple[int, int]]:
    """Spans of one ellipsis-free piece of a quote in the response; [] if it is not there."""
    if spans := occurrences(piece, response):
        return spans
    needle = normalize(piece)[0].strip()
    if not needle:
        return []
    found = occurrences(needle, normalized)
    if not found and len(needle) >= MIN_FUZZY_CHARS:
        best = fuzz.partial_ratio_alignment(needle, normalized)
        if best is not None and best.score >= min_score and best.dest_end > best.dest_start:
            found = [(best.dest_start, best.dest_end)]
    return [(origin[a], origin[b - 1] + 1) for a, b in found]


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def locate_quotes(response: str, quotes: list[str], min_score: float = 90.0) -> Located:
    """Character spans in `response` of the judge's `quotes` (see the module docstring)."""
    normalized, origin = normalize(response)
    spans, found, dropped = [], 0, 0
    for quote in quotes:
        pieces = [p.strip(SURROUNDING) for p in ELLIPSIS.split(quote.strip(SURROUNDING))]
        pieces = [p for p in pieces if p]
        located = [locate_piece(p, response, normalized, origin, min_score) for p in pieces]
        if pieces and all(located):
            spans += [s for piece in located for s in piece]
            found += 1
        else:
            dropped += 1
    return Located(merge(spans), found, dropped)
