"""Verifiable instruction checkers that also say which characters decided the verdict.

This is the rule-checker half of METHOD.md sections 1 and 7(a): each function grades one IFEval
instruction with the strict-mode semantics of google-research `instruction_following_eval`, and
returns the character spans of the response that made it pass or fail. Those spans become the
discriminator's token labels, so a docstring per checker says what they mean on pass and on fail.

Spans are half-open character offsets into the response, sorted, non-overlapping (overlapping
ones are merged, empty ones dropped).

Departures from IFEval, all deliberate:
- Keywords, forbidden words, the frequency keyword, a custom postscript marker and the section
  splitter are matched literally (`re.escape`); IFEval hands them to `re` as patterns. The result
  is the same on IFEval's own data (plain words, "Section" / "SECTION", and the markers "P.S." /
  "P.P.S", which keep IFEval's regexes).
- JSON nested too deep for Python's parser ("[" * 100000) fails; IFEval's checker raises
  RecursionError.
- Where IFEval's `build_description` would replace an out-of-range kwarg by a random one (a
  `letter` that is not one character, an `nth_paragraph` outside 1..num_paragraphs), the value
  is used as given, so the check is deterministic (such a letter never matches, such an
  nth_paragraph always fails).

Not a departure: like IFEval's `check_following`, a checker grades an empty or whitespace-only
response on its merits ("no commas" passes it); the judge fails it on every item (`rtt.judge.rule`).

Language identification is IFEval's (langdetect; `rtt.constraints.language` pins its random seed
to 0), and sentences and words are IFEval's (NLTK Punkt and `word_tokenize`,
`rtt.constraints.sentences`, which installs NLTK's punkt_tab data offline).
"""

from __future__ import annotations

import json
import re

from rtt.constraints.language import detect_language
from rtt.constraints.sentences import sentence_spans, word_tokens
from rtt.constraints.spans import (
    Verdict,
    line_spans,
    lower_origin,
    matches,
    stripped_bounds,
    to_original,
    verdict,
    whole_or,
)

# IFEval's ISO 639-1 codes (instructions_util.LANGUAGE_CODES) and their names
LANGUAGES = {
    "en": "English",
    "es": "Spanish",
    "pt": "Portuguese",
    "ar": "Arabic",
    "hi": "Hindi",
    "fr": "French",
    "ru": "Russian",
    "de": "German",
    "ja": "Japanese",
    "it": "Italian",
    "bn": "Bengali",
    "uk": "Ukrainian",
    "th": "Thai",
    "ur": "Urdu",
    "ta": "Tamil",
    "te": "Telugu",
    "bg": "Bulgarian",
    "ko": "Korean",
    "pl": "Polish",
    "he": "Hebrew",
    "fa": "Persian",
    "vi": "Vietnamese",
    "ne": "Nepali",
    "sw": "Swahili",
    "kn": "Kannada",
    "mr": "Marathi",
    "gu": "Gujarati",
    "pa": "Punjabi",
    "ml": "Malayalam",
    "fi": "Finnish",
}


def _in_language(text: str, language: str) -> bool:
    """IFEval's test: langdetect names `language`, or cannot name any language."""
    return detect_language(text) in (language, None)


def _other_language(response: str, language: str) -> list[tuple[int, int]]:
    """The sentences langdetect puts in another language; the whole stripped response if each
    sentence alone passes (the mix, not one sentence, tipped the verdict)."""
    spans = [(a, b) for a, b in sentence_spans(response) if not _in_language(response[a:b], language)]
    return spans or [stripped_bounds(response)]


def _count_verdict(found: list[tuple[int, int]], limit: int, relation: str) -> Verdict:
    """IFEval's "less than" / "at least" on a count of spans. "less than": fail marks the ones
    from number `limit` on (past the limit). "at least": fail marks all of them (the too-short
    text). Pass: no spans."""
    if relation == "less than":
        passed = len(found) < limit
        return verdict(passed, [] if passed else found[max(limit - 1, 0) :])
    passed = len(found) >= limit
    return verdict(passed, [] if passed else found)


def no_comma(response: str) -> Verdict:
    """Passes iff the response contains no ",". Fail: every comma. Pass: no spans."""
    commas = [(i, i + 1) for i, c in enumerate(response) if c == ","]
    return verdict(not commas, commas)


def keywords_existence(response: str, keywords: list[str]) -> Verdict:
    """Passes iff every keyword occurs, case-insensitively, anywhere (also inside longer words).

    Pass and fail: every occurrence of every keyword that was found (a missing keyword has no
    characters to point at).
    """
    found = [matches(re.escape(k), response, re.IGNORECASE) for k in keywords]
    return verdict(all(found), [span for spans in found for span in spans])


def forbidden_words(response: str, forbidden_words: list[str]) -> Verdict:
    """Fails iff any forbidden word occurs as a whole word, case-insensitively.

    Fail: every whole-word occurrence. Pass: no spans.
    """
    hits = [span for word in forbidden_words for span in matches(rf"\b{re.escape(word)}\b", response, re.IGNORECASE)]
    return verdict(not hits, hits)


def keyword_frequency(response: str, keyword: str, frequency: int, relation: str) -> Verdict:
    """Counts case-insensitive, non-overlapping occurrences of the stripped keyword (also inside
    words; IFEval strips it in build_description).

    "less than": passes iff count < frequency; "at least": passes iff count >= frequency.
    Pass and fail: every occurrence (too many for "less than", the too few for "at least").
    """
    hits = matches(re.escape(keyword.strip()), response, re.IGNORECASE)
    passed = len(hits) < frequency if relation == "less than" else len(hits) >= frequency
    return verdict(passed, hits)


def english_lowercase(response: str) -> Verdict:
    """Passes iff response.islower() (some lowercase letter, no uppercase or titlecase one) and
    the response is English (langdetect says "en" or cannot tell).

    Fail on case: every uppercase or titlecase character; if there is none (no letter with a
    case at all), the whole response. Fail on language: the sentences in another language (see
    response_language). Pass: no spans.
    """
    if not response.islower():
        offenders = [(i, i + 1) for i, c in enumerate(response) if c.isupper() or c.istitle()]
        return verdict(False, offenders or [(0, len(response))])
    if not _in_language(response, "en"):
        return verdict(False, _other_language(response, "en"))
    return verdict(True, [])


def english_capital(response: str) -> Verdict:
    """Passes iff response.isupper() (some uppercase letter, no lowercase or titlecase one) and
    the response is English (langdetect says "en" or cannot tell).

    Fail on case: every lowercase or titlecase character; if there is none (no letter with a
    case at all), the whole response. Fail on language: the sentences in another language.
    Pass: no spans.
    """
    if not response.isupper():
        offenders = [(i, i + 1) for i, c in enumerate(response) if c.islower() or (c.istitle() and not c.isupper())]
        return verdict(False, offenders or [(0, len(response))])
    if not _in_language(response, "en"):
        return verdict(False, _other_language(response, "en"))
    return verdict(True, [])


def response_language(response: str, language: str) -> Verdict:
    """Passes iff langdetect names `language` for the whole response, or cannot name any
    language (IFEval counts that as followed).

    Fail: the sentences langdetect puts in another language when each is tested alone; the
    whole stripped response when every sentence alone passes. Pass: no spans.
    """
    if _in_language(response, language):
        return verdict(True, [])
    return verdict(False, _other_language(response, language))


def number_sentences(response: str, num_sentences: int, relation: str) -> Verdict:
    """Counts sentences with NLTK's English Punkt tokenizer, as IFEval does.

    "less than": passes iff count < num_sentences; fail: the sentences from number
    num_sentences on. "at least": passes iff count >= num_sentences; fail: every sentence (the
    too-short text). Pass: no spans.
    """
    return _count_verdict(sentence_spans(response), num_sentences, relation)


def capital_word_frequency(response: str, capital_frequency: int, capital_relation: str) -> Verdict:
    """Counts the tokens of `nltk.word_tokenize(response)` that are all capitals (str.isupper),
    as IFEval does: "NASA", "U.S.", "I", and each half of "CAN'T" ("CA", "N'T").

    "less than": passes iff count < capital_frequency; "at least": passes iff count >=
    capital_frequency. Pass and fail: every capital word.
    """
    # a token without an uppercase letter is not upper: skip tokenizing text that has none
    tokens = word_tokens(response) if any(c.isupper() for c in response) else []
    capitals = [span for token, span in tokens if token.isupper()]
    if capital_relation == "less than":
        passed = len(capitals) < capital_frequency
    else:
        passed = len(capitals) >= capital_frequency
    return verdict(passed, [span for span in capitals if span is not None])


def number_words(response: str, num_words: int, relation: str) -> Verdict:
    """Counts words as runs of \\w (IFEval's nltk RegexpTokenizer(r"\\w+"), same regex).

    "less than": passes iff count < num_words; fail: the words from number num_words on (the
    ones past the limit). "at least": passes iff count >= num_words; fail: every word (the
    too-short text). Pass: no spans.
    """
    return _count_verdict(matches(r"\w+", response), num_words, relation)


def title(response: str) -> Verdict:
    """Passes iff some <<...>> on one line has non-blank text inside.

    Pass: every such title, brackets included. Fail: no spans.
    """
    titles = [m.span() for m in re.finditer(r"<<[^\n]+>>", response) if m.group().lstrip("<").rstrip(">").strip()]
    return verdict(bool(titles), titles)


def end_checker(response: str, end_phrase: str) -> Verdict:
    """Passes iff the response, stripped of surrounding whitespace and then of surrounding '"',
    ends with the stripped end phrase, case-insensitively.

    Pass: the matching tail. Fail: the last len(end_phrase.strip()) characters of that stripped
    response, where the phrase should have been.
    """
    a, b = stripped_bounds(response)
    while a < b and response[a] == '"':
        a += 1
    while b > a and response[b - 1] == '"':
        b -= 1
    value = response[a:b].lower()
    phrase = end_phrase.strip().lower()
    if value.endswith(phrase):
        if not phrase:
            return verdict(True, [])
        start, end = to_original(lower_origin(response[a:b]), len(value) - len(phrase), len(value))
        return verdict(True, [(a + start, a + end)])
    return verdict(False, [(max(a, b - len(end_phrase.strip())), b)])


def postscript(response: str, postscript_marker: str) -> Verdict:
    """Passes iff the lower-cased response has the marker followed by the rest of its line.

    The marker is stripped first (IFEval strips it in build_description). "P.P.S" and "P.S." use
    IFEval's lenient patterns ("p. p. s", "p. s."); any other marker is matched literally,
    lower-cased. Pass: every postscript, from its marker to the end of its line. Fail: no spans.
    """
    postscript_marker = postscript_marker.strip()
    if postscript_marker == "P.P.S":
        marker = r"p\.\s?p\.\s?s"
    elif postscript_marker == "P.S.":
        marker = r"p\.\s?s\."
    else:
        marker = re.escape(postscript_marker.lower())
    lowered = response.lower()
    origin = lower_origin(response)
    spans = []
    for m in re.finditer(r"\s*" + marker + r".*$", lowered, re.MULTILINE):
        start = m.start() + len(m.group()) - len(m.group().lstrip())
        if start < m.end():
            spans.append(to_original(origin, start, m.end()))
    return verdict(bool(spans), spans)


def quotation(response: str) -> Verdict:
    """Passes iff the stripped response is longer than one character and starts and ends with '"'.

    Pass: the opening and closing quote. Fail: whichever of the first and last non-space
    characters is not a quote (a lone '"' itself; nothing for a blank response).
    """
    a, b = stripped_bounds(response)
    value = response[a:b]
    if len(value) > 1 and value[0] == '"' and value[-1] == '"':
        return verdict(True, [(a, a + 1), (b - 1, b)])
    ends = [(i, i + 1) for i in {a, b - 1} if a < b and response[i] != '"']
    return verdict(False, ends or [(a, b)])


def bullet_spans(text: str) -> list[tuple[int, int]]:
    """IFEval's bullets, each from its marker to the end of its line, in document order.

    IFEval finds them with re.finditer(r"^\\s*\\*[^\\*].*$") and (r"^\\s*-.*$") (MULTILINE), which
    is quadratic in the number of consecutive blank lines; this is the same result in one pass.
    A line counts when its first non-space character is "-", or is "*" followed by something
    other than "*". A "*" that ends its line takes the next line with it (r"[^\\*]" matches the
    newline), and that next line then cannot start a "*" bullet of its own; a "*" that ends the
    text is no bullet.
    """
    bullets = []
    lines = line_spans(text)
    taken = -1  # the line a "*" bullet ran on into
    for k, (start, end) in enumerate(lines):
        line = text[start:end]
        first = start + len(line) - len(line.lstrip())
        if first == end:
            continue
        if text[first] == "-":
            bullets.append((first, end))
        elif text[first] == "*" and k != taken:
            if first + 1 < end:
                if text[first + 1] != "*":
                    bullets.append((first, end))
            elif k + 1 < len(lines):
                bullets.append((first, lines[k + 1][1]))
                taken = k + 1
    return sorted(bullets)


def number_bullet_lists(response: str, num_bullets: int) -> Verdict:
    """Passes iff the number of markdown bullets (`bullet_spans`) equals num_bullets.

    Pass and fail: every bullet, from its marker to the end of its line.
    """
    bullets = bullet_spans(response)
    return verdict(len(bullets) == num_bullets, bullets)


def letter_frequency(response: str, letter: str, let_frequency: int, let_relation: str) -> Verdict:
    """Counts the characters of response.lower() equal to letter.strip().lower().

    "less than": passes iff count < let_frequency; "at least": passes iff count >= let_frequency.
    Pass and fail: every occurrence. A letter that is not one character never matches (IFEval
    draws a random letter instead).
    """
    target = letter.strip().lower()
    lowered = response.lower()
    origin = lower_origin(response)
    hits = [to_original(origin, j, j + 1) for j, c in enumerate(lowered) if c == target]
    passed = len(hits) < let_frequency if let_relation == "less than" else len(hits) >= let_frequency
    return verdict(passed, hits)


def _pieces(text: str, dividers: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (start, end) of the pieces of text between the given sorted dividers."""
    starts = [0] + [end for _, end in dividers]
    ends = [start for start, _ in dividers] + [len(text)]
    return list(zip(starts, ends))


def number_paragraphs(response: str, num_paragraphs: int) -> Verdict:
    """Paragraphs are the pieces between markdown dividers (IFEval's split on r"\\s?\\*\\*\\*\\s?").

    A blank first or last piece does not count; a blank piece between two dividers fails outright.
    Passes iff the count equals num_paragraphs. Pass: every "***" divider. Fail on a blank middle
    piece: the dividers on both sides of it. Fail on the count: every divider; with none, the
    whole stripped response (the one paragraph).
    """
    dividers = list(re.finditer(r"\s?\*\*\*\s?", response))
    stars = [(m.start() + m.group().index("***"), m.start() + m.group().index("***") + 3) for m in dividers]
    pieces = _pieces(response, [m.span() for m in dividers])
    blank = [i for i, (a, b) in enumerate(pieces) if not response[a:b].strip()]
    inner = [i for i in blank if 0 < i < len(pieces) - 1]
    if inner:
        return verdict(False, [stars[j] for i in inner for j in (i - 1, i)])
    passed = len(pieces) - len(blank) == num_paragraphs
    return verdict(passed, stars if passed else whole_or(response, stars))


def _first_word(text: str, start: int, end: int) -> tuple[str, tuple[int, int]]:
    """IFEval's first word of the non-blank text[start:end] and its span.

    The first whitespace-separated token, with leading "'" and then leading '"' stripped, cut at
    the first of . , ? ! ' " and lower-cased character by character. The span is the characters
    that made the word, or the whole token when the word is empty.
    """
    token_start = start + len(text[start:end]) - len(text[start:end].lstrip())
    token = text[token_start:end].split()[0]
    word = token.lstrip("'")
    word = word.lstrip('"')
    skipped = len(token) - len(word)
    cut = next((i for i, c in enumerate(word) if c in ".,?!'\""), len(word))
    if cut == 0:
        return "", (token_start, token_start + len(token))
    first = "".join(c.lower() for c in word[:cut])
    return first, (token_start + skipped, token_start + skipped + cut)


def nth_paragraph_first_word(response: str, num_paragraphs: int, nth_paragraph: int, first_word: str) -> Verdict:
    """Paragraphs are the non-blank pieces of IFEval's split on "\\n\\n". Passes iff there are
    num_paragraphs of them and the first word of piece number nth_paragraph (counted over all
    pieces, blank ones included, as IFEval indexes them) equals first_word.lower().

    The first word is IFEval's: first token, leading quotes stripped, cut at punctuation.
    Pass: that first word. Fail: the first word when it differs; every "\\n\\n" divider (or the
    whole stripped response when there is none) when the count differs or the nth piece is
    missing or blank. Departure: IFEval replaces an nth_paragraph outside 1..num_paragraphs by
    a random one; here it is used as given, so it always fails.
    """
    dividers = matches(r"\n\n", response)
    pieces = _pieces(response, dividers)
    count = sum(1 for a, b in pieces if response[a:b].strip())
    if not 1 <= nth_paragraph <= min(count, num_paragraphs):
        return verdict(False, whole_or(response, dividers))
    start, end = pieces[nth_paragraph - 1]
    if not response[start:end].strip():
        return verdict(False, whole_or(response, dividers))
    word, word_span = _first_word(response, start, end)
    if count == num_paragraphs and word == first_word.lower():
        return verdict(True, [word_span])
    spans = [] if count == num_paragraphs else whole_or(response, dividers)
    return verdict(False, spans + ([] if word == first_word.lower() else [word_span]))


def number_placeholders(response: str, num_placeholders: int) -> Verdict:
    """Passes iff there are at least num_placeholders placeholders, IFEval's r"\\[.*?\\]" (one line).

    Pass and fail: every placeholder, brackets included.
    """
    placeholders = matches(r"\[.*?\]", response)
    return verdict(len(placeholders) >= num_placeholders, placeholders)


CONSTRAINED_RESPONSES = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


def constrained_response(response: str) -> Verdict:
    """Passes iff the stripped response contains one of CONSTRAINED_RESPONSES (case-sensitive).

    Pass: every occurrence of an option. Fail: no spans.
    """
    hits = [span for option in CONSTRAINED_RESPONSES for span in matches(re.escape(option), response)]
    return verdict(bool(hits), hits)


def number_highlighted_sections(response: str, num_highlights: int) -> Verdict:
    """Counts IFEval's highlights: r"\\*[^\\n\\*]*\\*" and r"\\*\\*[^\\n\\*]*\\*\\*" matches with
    non-blank text inside (a "***a***" counts twice, once per pattern, as in IFEval).

    Passes iff the count is at least num_highlights. Pass and fail: every counted highlight,
    asterisks included.
    """
    singles = [m.span() for m in re.finditer(r"\*[^\n\*]*\*", response) if m.group().strip("*").strip()]
    doubles = [m.span() for m in re.finditer(r"\*\*[^\n\*]*\*\*", response) if m.group()[2:-2].strip()]
    return verdict(len(singles) + len(doubles) >= num_highlights, singles + doubles)


def multiple_sections(response: str, section_spliter: str, num_sections: int) -> Verdict:
    """Counts section headers: the stripped section_spliter followed by a number (IFEval's
    r"\\s?" + spliter + r"\\s?\\d+\\s?", case-sensitive), i.e. len(re.split(...)) - 1.

    Passes iff the count is at least num_sections. Pass and fail: every header, e.g. "SECTION 2".
    """
    headers = []
    for m in re.finditer(r"\s?" + re.escape(section_spliter.strip()) + r"\s?\d+\s?", response):
        text = m.group()
        headers.append((m.start() + len(text) - len(text.lstrip()), m.end() - len(text) + len(text.rstrip())))
    return verdict(len(headers) >= num_sections, headers)


def unfenced(response: str, language: str) -> tuple[int, int]:
    """The stripped response without a leading ```language and a trailing ```, stripped again.

    As IFEval's json_format: the prefixes ```language, ```Language, ```LANGUAGE and ``` are
    removed in that order, each when present, then one trailing ```.
    """
    a, b = stripped_bounds(response)
    for fence in (f"```{language}", f"```{language.capitalize()}", f"```{language.upper()}", "```"):
        if response.startswith(fence, a, b):
            a += len(fence)
    if response.endswith("```", a, b):
        b -= 3
    inner_a, inner_b = stripped_bounds(response[a:b])
    return a + inner_a, a + inner_b


def error_at(a: int, b: int, offset: int) -> list[tuple[int, int]]:
    """The character at a + offset, kept inside [a, b) (the last one when the text ended early);
    nothing when the text is empty."""
    at = min(a + offset, b - 1)
    return [(at, at + 1)] if a < b else []


def json_format(response: str) -> Verdict:
    """Passes iff json.loads accepts the response once stripped, then stripped of a leading
    "```json" / "```Json" / "```JSON" / "```" and a trailing "```" (IFEval's order), then stripped.

    Pass: the JSON text. Fail: the character where parsing failed (the last character when the
    text ended early; nothing when there is no text).
    """
    a, b = unfenced(response, "json")
    try:
        json.loads(response[a:b])
    except json.JSONDecodeError as err:
        return verdict(False, error_at(a, b, err.pos))
    except (ValueError, RecursionError):  # a 5000-digit integer, 100k nested brackets
        return verdict(False, [(a, b)])
    return verdict(True, [(a, b)])


def two_responses(response: str) -> Verdict:
    """Splits on "******" (IFEval's str.split); blank first and last pieces are ignored, a blank
    piece between two dividers fails outright. Passes iff exactly two pieces are left and they
    differ once stripped.

    Pass: every divider. Fail on a blank middle piece: the dividers on both sides of it. Fail on
    the count: every divider (with none, the whole stripped response). Fail on identical
    responses: both responses, stripped.
    """
    dividers = matches(r"\*{6}", response)
    pieces = _pieces(response, dividers)
    blank = [i for i, (a, b) in enumerate(pieces) if not response[a:b].strip()]
    inner = [i for i in blank if 0 < i < len(pieces) - 1]
    if inner:
        return verdict(False, [dividers[j] for i in inner for j in (i - 1, i)])
    kept = [(a, b) for i, (a, b) in enumerate(pieces) if i not in blank]
    if len(kept) != 2:
        return verdict(False, whole_or(response, dividers))
    texts = [response[a:b] for a, b in kept]
    if texts[0].strip() == texts[1].strip():
        return verdict(False, [(a + s, a + e) for (a, _), (s, e) in zip(kept, map(stripped_bounds, texts))])
    return verdict(True, dividers)


def repeat_prompt(response: str, prompt_to_repeat: str) -> Verdict:
    """Passes iff the stripped response starts with the stripped prompt_to_repeat, both lower-cased.

    Pass: the repeated prefix. Fail: the first response character that differs from the prompt;
    if the response stops before the prompt does, the whole stripped response.
    """
    a, b = stripped_bounds(response)
    value = response[a:b].lower()
    prompt = prompt_to_repeat.strip().lower()
    origin = lower_origin(response[a:b])
    if value.startswith(prompt):
        if not prompt:
            return verdict(True, [])
        start, end = to_original(origin, 0, len(prompt))
        return verdict(True, [(a + start, a + end)])
    differ = next((j for j, (x, y) in enumerate(zip(value, prompt)) if x != y), None)
    if differ is None:
        return verdict(False, [(a, b)])
    start, end = to_original(origin, differ, differ + 1)
    return verdict(False, [(a + start, a + end)])
