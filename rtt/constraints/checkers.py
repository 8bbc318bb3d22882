"""Verifiable instruction checkers that also say which characters decided the verdict.

This is the rule-checker half of METHOD.md sections 1 and 7(a): each function grades one IFEval
instruction with the strict-mode semantics of google-research `instruction_following_eval`, and
returns the character spans of the response that made it pass or fail. Those spans become the
discriminator's token labels, so a docstring per checker says what they mean on pass and on fail.

Spans are half-open character offsets into the response, sorted, non-overlapping (overlapping
ones are merged, empty ones dropped).

Departures from IFEval, both deliberate:
- Keywords, forbidden words, the frequency keyword and a custom postscript marker are matched
  literally (`re.escape`); IFEval hands them to `re` as patterns. The result is the same on
  IFEval's own data (plain words, and the markers "P.S." / "P.P.S", which keep IFEval's regexes).
- `english_lowercase` / `english_capital` skip IFEval's langdetect "is it English" test, so that
  the package stays pure standard library. Only the case test is applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """A checker's result: pass or fail, and the response characters that decided it."""

    passed: bool
    spans: list[tuple[int, int]]


def _verdict(passed: bool, spans: list[tuple[int, int]]) -> Verdict:
    """Sort spans, drop empty ones, merge overlapping ones (touching ones stay apart)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return Verdict(passed, merged)


def _matches(pattern: str, text: str, flags: int = 0) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(pattern, text, flags)]


def _stripped_bounds(text: str) -> tuple[int, int]:
    """(a, b) with text[a:b] == text.strip()."""
    b = len(text.rstrip())
    return min(len(text) - len(text.lstrip()), b), b


def _lower_origin(text: str) -> list[int]:
    """origin[j] = index in `text` of the character that produced text.lower()[j].

    Lower-casing can lengthen a character ("İ" -> "i̇"); the one context rule (final sigma) swaps
    one character for another, so per-character lengths add up to len(text.lower()).
    """
    return [i for i, c in enumerate(text) for _ in c.lower()]


def _to_original(origin: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a non-empty span of text.lower() back to the characters of text that produced it."""
    return origin[start], origin[end - 1] + 1


def no_comma(response: str) -> Verdict:
    """Passes iff the response contains no ",". Fail: every comma. Pass: no spans."""
    commas = [(i, i + 1) for i, c in enumerate(response) if c == ","]
    return _verdict(not commas, commas)


def keywords_existence(response: str, keywords: list[str]) -> Verdict:
    """Passes iff every keyword occurs, case-insensitively, anywhere (also inside longer words).

    Pass and fail: every occurrence of every keyword that was found (a missing keyword has no
    characters to point at).
    """
    found = [_matches(re.escape(k), response, re.IGNORECASE) for k in keywords]
    return _verdict(all(found), [span for spans in found for span in spans])


def forbidden_words(response: str, forbidden_words: list[str]) -> Verdict:
    """Fails iff any forbidden word occurs as a whole word, case-insensitively.

    Fail: every whole-word occurrence. Pass: no spans.
    """
    hits = [
        span
        for word in forbidden_words
        for span in _matches(rf"\b{re.escape(word)}\b", response, re.IGNORECASE)
    ]
    return _verdict(not hits, hits)


def keyword_frequency(response: str, keyword: str, frequency: int, relation: str) -> Verdict:
    """Counts case-insensitive, non-overlapping occurrences of the keyword (also inside words).

    "less than": passes iff count < frequency; "at least": passes iff count >= frequency.
    Pass and fail: every occurrence (too many for "less than", the too few for "at least").
    """
    hits = _matches(re.escape(keyword), response, re.IGNORECASE)
    passed = len(hits) < frequency if relation == "less than" else len(hits) >= frequency
    return _verdict(passed, hits)


def english_lowercase(response: str) -> Verdict:
    """Passes iff response.islower(): some lowercase letter and no uppercase or titlecase one.

    Fail: every uppercase or titlecase character; if there is none (the response has no letter
    with a case at all), the whole response. Pass: no spans.
    """
    if response.islower():
        return _verdict(True, [])
    offenders = [(i, i + 1) for i, c in enumerate(response) if c.isupper() or c.istitle()]
    return _verdict(False, offenders or [(0, len(response))])


def english_capital(response: str) -> Verdict:
    """Passes iff response.isupper(): some uppercase letter and no lowercase or titlecase one.

    Fail: every lowercase or titlecase character; if there is none (the response has no letter
    with a case at all), the whole response. Pass: no spans.
    """
    if response.isupper():
        return _verdict(True, [])
    offenders = [
        (i, i + 1)
        for i, c in enumerate(response)
        if c.islower() or (c.istitle() and not c.isupper())
    ]
    return _verdict(False, offenders or [(0, len(response))])


def number_words(response: str, num_words: int, relation: str) -> Verdict:
    """Counts words as runs of \\w (IFEval's nltk RegexpTokenizer(r"\\w+"), same regex).

    "less than": passes iff count < num_words; fail: the words from number num_words on (the
    ones past the limit). "at least": passes iff count >= num_words; fail: every word (the
    too-short text). Pass: no spans.
    """
    words = _matches(r"\w+", response)
    if relation == "less than":
        passed = len(words) < num_words
        return _verdict(passed, [] if passed else words[max(num_words - 1, 0):])
    passed = len(words) >= num_words
    return _verdict(passed, [] if passed else words)


def title(response: str) -> Verdict:
    """Passes iff some <<...>> on one line has non-blank text inside.

    Pass: every such title, brackets included. Fail: no spans.
    """
    titles = [
        m.span()
        for m in re.finditer(r"<<[^\n]+>>", response)
        if m.group().lstrip("<").rstrip(">").strip()
    ]
    return _verdict(bool(titles), titles)


def end_checker(response: str, end_phrase: str) -> Verdict:
    """Passes iff the response, stripped of surrounding whitespace and then of surrounding '"',
    ends with the stripped end phrase, case-insensitively.

    Pass: the matching tail. Fail: the last len(end_phrase.strip()) characters of that stripped
    response, where the phrase should have been.
    """
    a, b = _stripped_bounds(response)
    while a < b and response[a] == '"':
        a += 1
    while b > a and response[b - 1] == '"':
        b -= 1
    value = response[a:b].lower()
    phrase = end_phrase.strip().lower()
    if value.endswith(phrase):
        if not phrase:
            return _verdict(True, [])
        start, end = _to_original(_lower_origin(response[a:b]), len(value) - len(phrase), len(value))
        return _verdict(True, [(a + start, a + end)])
    return _verdict(False, [(max(a, b - len(end_phrase.strip())), b)])


def postscript(response: str, postscript_marker: str) -> Verdict:
    """Passes iff the lower-cased response has the marker followed by the rest of its line.

    "P.P.S" and "P.S." use IFEval's lenient patterns ("p. p. s", "p. s."); any other marker is
    matched literally, lower-cased. Pass: every postscript, from its marker to the end of its
    line. Fail: no spans.
    """
    if postscript_marker == "P.P.S":
        marker = r"p\.\s?p\.\s?s"
    elif postscript_marker == "P.S.":
        marker = r"p\.\s?s\."
    else:
        marker = re.escape(postscript_marker.lower())
    lowered = response.lower()
    origin = _lower_origin(response)
    spans = []
    for m in re.finditer(r"\s*" + marker + r".*$", lowered, re.MULTILINE):
        start = m.start() + len(m.group()) - len(m.group().lstrip())
        if start < m.end():
            spans.append(_to_original(origin, start, m.end()))
    return _verdict(bool(spans), spans)


def quotation(response: str) -> Verdict:
    """Passes iff the stripped response is longer than one character and starts and ends with '"'.

    Pass: the opening and closing quote. Fail: whichever of the first and last non-space
    characters is not a quote (a lone '"' itself; nothing for a blank response).
    """
    a, b = _stripped_bounds(response)
    value = response[a:b]
    if len(value) > 1 and value[0] == '"' and value[-1] == '"':
        return _verdict(True, [(a, a + 1), (b - 1, b)])
    ends = [(i, i + 1) for i in {a, b - 1} if a < b and response[i] != '"']
    return _verdict(False, ends or [(a, b)])


def number_bullet_lists(response: str, num_bullets: int) -> Verdict:
    """Passes iff the number of markdown bullets equals num_bullets.

    A bullet is a line starting (after whitespace) with "*" not followed by "*", or with "-".
    Pass and fail: every bullet, from its marker to the end of its line.
    """
    bullets = []
    for pattern in (r"^\s*\*[^\*].*$", r"^\s*-.*$"):
        for m in re.finditer(pattern, response, re.MULTILINE):
            bullets.append((m.start() + len(m.group()) - len(m.group().lstrip()), m.end()))
    return _verdict(len(bullets) == num_bullets, bullets)
