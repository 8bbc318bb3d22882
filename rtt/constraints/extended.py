"""Further verifiable instruction kinds, in the style of IFBench, that also report their spans.

IFBench (allenai/IFBench) extends IFEval with new verifiable constraints graded by code. The
kinds here are of that sort, for training rather than for comparison with a benchmark: length
ranges, phrase counts and order, lists, tables, JSON / XML structure, headings and character
classes. None of them claims to reproduce an IFBench or IFEval checker, so their ids live in
namespaces of our own (length, phrases, order, lists, tables, structure, chars) that appear in
neither IFEval's (punctuation, keywords, change_case, length_constraints, detectable_format,
detectable_content, startend, combination, language) nor IFBench's (count, ratio, words,
sentence, format, custom, repeat). Once published, an id keeps its meaning.

Each checker grades one kind and returns the character spans of the response that decided the
verdict (half-open, sorted, non-overlapping; overlapping ones merged, empty ones dropped), which
become the discriminator's token labels; its docstring says what they mean on pass and on fail.
Kinds that bound a length (words, sentences, paragraphs, characters) have no spans on pass;
kinds about structure (lists, tables, headings, JSON, XML) point at that structure on pass too.

Shared conventions:
- Words are runs of \\w, as IFEval's number_words counts them. Sentences are NLTK Punkt English
  sentences (`sentence_spans`), reported without their surrounding whitespace.
- Phrases are matched literally and case-insensitively (`re.IGNORECASE`, so the spans are on
  the original characters), after stripping surrounding whitespace; a blank phrase is an error.
- Bad kwargs values (a min above its max, a negative count, a blank phrase) raise ValueError
  naming the key; `rtt.constraints.check` adds the instruction id.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from xml.parsers import expat

from rtt.constraints.checkers import bullet_spans, error_at, unfenced
from rtt.constraints.instruction import Instruction
from rtt.constraints.sentences import sentence_spans
from rtt.constraints.spans import Verdict, line_spans, matches, stripped_bounds, verdict, whole_or

Span = tuple[int, int]

_WORD = re.compile(r"\w+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_NUMBERED_ITEM = re.compile(r"^[ \t]*([0-9]{1,9})[.)][ \t]+\S.*", re.MULTILINE)
_SEPARATOR_CELL = re.compile(r"[ \t]*:?-+:?[ \t]*")
_CELL_DIVIDER = re.compile(r"(?<!\\)\|")
_HEADING = re.compile(r"^#{1,6}[ \t]+\S.*", re.MULTILINE)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_DIGIT = re.compile(r"[0-9]")
_XML_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what expat counts lines by
_XML_START_TAG = re.compile(r"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")


# ---- kwargs checks and shared helpers ----


def _non_negative(**counts: int) -> None:
    for key, value in counts.items():
        if value < 0:
            raise ValueError(f"{key} ({value}) must be >= 0")


def _range(low_key: str, low: int, high_key: str, high: int) -> None:
    _non_negative(**{low_key: low, high_key: high})
    if low > high:
        raise ValueError(f"{low_key} ({low}) must be <= {high_key} ({high})")


def _phrase(key: str, phrase: str) -> str:
    """The stripped phrase; ValueError when it is blank (it would match everywhere)."""
    stripped = phrase.strip()
    if not stripped:
        raise ValueError(f"{key} must not be blank, got {phrase!r}")
    return stripped


def _trim(text: str, start: int, end: int) -> Span:
    """text[start:end] without surrounding whitespace, as a span of text."""
    a, b = stripped_bounds(text[start:end])
    return start + a, start + b


def _in_range(items: list[Span], low: int, high: int) -> Verdict:
    """Passes (no spans) iff low <= len(items) <= high. Too many: the items after number high.
    Too few: every item."""
    if len(items) > high:
        return verdict(False, items[high:])
    return verdict(len(items) >= low, [] if len(items) >= low else items)


# ---- length ----


def words_between(response: str, min_words: int, max_words: int) -> Verdict:
    """Passes iff min_words <= (number of \\w runs) <= max_words.

    Pass: no spans. Fail with too many: the words after word number max_words. Fail with too
    few: every word (the too-short text; nothing when there is no word).
    """
    _range("min_words", min_words, "max_words", max_words)
    return _in_range([m.span() for m in _WORD.finditer(response)], min_words, max_words)


def sentences_between(response: str, min_sentences: int, max_sentences: int) -> Verdict:
    """Passes iff min_sentences <= (number of Punkt sentences) <= max_sentences.

    Pass: no spans. Fail with too many: the sentences after sentence number max_sentences.
    Fail with too few: every sentence. Sentences are reported without surrounding whitespace.
    """
    _range("min_sentences", min_sentences, "max_sentences", max_sentences)
    sentences = [_trim(response, a, b) for a, b in sentence_spans(response)]
    return _in_range(sentences, min_sentences, max_sentences)


def _paragraphs(text: str) -> list[Span]:
    """The non-blank pieces of text between blank lines (r"\\n\\s*\\n"), stripped."""
    pieces = []
    start = 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        pieces.append(_trim(text, start, m.start()))
        start = m.end()
    pieces.append(_trim(text, start, len(text)))
    return [(a, b) for a, b in pieces if b > a]


def paragraphs_between(response: str, min_paragraphs: int, max_paragraphs: int) -> Verdict:
    """Paragraphs are the non-blank pieces between one or more blank lines (r"\\n\\s*\\n").
    Passes iff min_paragraphs <= their number <= max_paragraphs.

    Pass: no spans. Fail with too many: the paragraphs after number max_paragraphs. Fail with
    too few: every paragraph. Paragraphs are reported without surrounding whitespace.
    """
    _range("min_paragraphs", min_paragraphs, "max_paragraphs", max_paragraphs)
    return _in_range(_paragraphs(response), min_paragraphs, max_paragraphs)


def max_words_per_sentence(response: str, max_words: int) -> Verdict:
    """Passes iff no Punkt sentence has more than max_words words (\\w runs).

    Pass: no spans. Fail: in every sentence that is too long, the words after its word number
    max_words (each word its own span).
    """
    _non_negative(max_words=max_words)
    past = []
    for start, end in sentence_spans(response):
        past.extend(m.span() for m in list(_WORD.finditer(response, start, end))[max_words:])
    return verdict(not past, past)


def max_characters(response: str, max_characters: int) -> Verdict:
    """Passes iff len(response) <= max_characters (code points, whitespace included).

    Pass: no spans. Fail: the characters after character number max_characters.
    """
    _non_negative(max_characters=max_characters)
    passed = len(response) <= max_characters
    return verdict(passed, [] if passed else [(max_characters, len(response))])


# ---- phrases and order ----


def phrase_count(response: str, phrase: str, min_count: int, max_count: int) -> Verdict:
    """Counts case-insensitive, non-overlapping, literal occurrences of the stripped phrase (also
    inside longer words). Passes iff min_count <= count <= max_count.

    Pass and fail: every occurrence (too many or too few of them; nothing when there is none).
    """
    _range("min_count", min_count, "max_count", max_count)
    hits = matches(re.escape(_phrase("phrase", phrase)), response, re.IGNORECASE)
    return verdict(min_count <= len(hits) <= max_count, hits)


def forbidden_phrases(response: str, phrases: list[str]) -> Verdict:
    """Fails iff some stripped phrase occurs as a case-insensitive literal substring (also
    inside longer words; several words allowed).

    Fail: every occurrence of every phrase. Pass: no spans.
    """
    hits = [
        span for phrase in phrases for span in matches(re.escape(_phrase("phrases", phrase)), response, re.IGNORECASE)
    ]
    return verdict(not hits, hits)


def start_with(response: str, phrase: str) -> Verdict:
    """Passes iff the stripped response starts with the stripped phrase, case-insensitively.

    Pass: the matching head. Fail: the first len(phrase.strip()) characters of the stripped
    response, where the phrase should have been (all of it when shorter; nothing when blank).
    """
    wanted = _phrase("phrase", phrase)
    a, b = stripped_bounds(response)
    head = re.compile(re.escape(wanted), re.IGNORECASE).match(response, a, b)
    if head:
        return verdict(True, [head.span()])
    return verdict(False, [(a, min(b, a + len(wanted)))])


def _out_of_order(starts: list[int]) -> list[int]:
    """The indices that some longest strictly increasing subsequence of starts leaves out: the
    fewest items to move to put the rest in order, and every candidate when there is a choice.

    Every longest subsequence takes exactly one item of each level (the length of the longest
    one ending at that item) among the items on some longest subsequence, so an item is on all
    of them iff it is on one and alone on its level.
    """
    n = len(starts)
    ending = [1] * n
    for i in range(n):
        ending[i] = 1 + max((ending[j] for j in range(i) if starts[j] < starts[i]), default=0)
    beginning = [1] * n
    for i in reversed(range(n)):
        beginning[i] = 1 + max((beginning[j] for j in range(i + 1, n) if starts[i] < starts[j]), default=0)
    longest = max(ending, default=0)
    on_some = [i for i in range(n) if ending[i] + beginning[i] - 1 == longest]
    level_sizes = Counter(ending[i] for i in on_some)
    on_all = {i for i in on_some if level_sizes[ending[i]] == 1}
    return [i for i in range(n) if i not in on_all]


def phrases_in_order(response: str, phrases: list[str]) -> Verdict:
    """Passes iff every stripped phrase occurs (case-insensitive, literal) and their first
    occurrences start strictly later phrase by phrase, in the order given.

    Pass: the first occurrence of each phrase. Fail: the first occurrences of the phrases out
    of order, i.e., among the phrases found, those left out by some longest subsequence (in the
    given order) whose first occurrences start strictly later one by one: the fewest phrases to
    move, and all candidates when several choices are equally few ("b a" for ["a", "b"] marks
    both; "b c d a" for ["a", "b", "c", "d"] marks only "a"; two phrases whose first
    occurrences start at the same character are out of order). A missing phrase has no
    characters to point at: with every found phrase in order, the spans are empty. Phrases
    must differ case-insensitively (a repeated phrase could never come after itself).
    """
    wanted = [_phrase("phrases", p) for p in phrases]
    if len({p.lower() for p in wanted}) < len(wanted):
        raise ValueError(f"phrases must differ case-insensitively, got {phrases!r}")
    firsts = [re.search(re.escape(p), response, re.IGNORECASE) for p in wanted]
    found = [m.span() for m in firsts if m]
    misplaced = _out_of_order([start for start, _ in found])
    if len(found) == len(wanted) and not misplaced:
        return verdict(True, found)
    return verdict(False, [found[i] for i in misplaced])


# ---- lists ----


def numbered_items(response: str, num_items: int) -> Verdict:
    """List items are lines "<n>. text" or "<n>) text": optional spaces or tabs, 1 to 9 ASCII
    digits, "." or ")", at least one space or tab, then non-blank text. Nested and separate
    lists all count, as one sequence. Passes iff there are exactly num_items items, numbered
    1, 2, ..., num_items in document order.

    Pass: every item, from its number to the end of its line (trailing whitespace excluded).
    Fail on the count: every item (the whole stripped response when there is none). Fail on
    the numbering only: the items whose number is not their position.
    """
    _non_negative(num_items=num_items)
    items = []
    for m in _NUMBERED_ITEM.finditer(response):
        items.append(((m.start(1), m.start() + len(m.group().rstrip())), int(m.group(1))))
    spans = [span for span, _ in items]
    if len(items) != num_items:
        return verdict(False, whole_or(response, spans))
    misnumbered = [span for position, (span, number) in enumerate(items, 1) if number != position]
    return verdict(not misnumbered, misnumbered or spans)


def bullets_between(response: str, min_bullets: int, max_bullets: int) -> Verdict:
    """Bullets are IFEval's: lines starting (after whitespace) with "*" not followed by "*", or
    with "-". Passes iff min_bullets <= their number <= max_bullets.

    Pass: every bullet, from its marker to the end of its line. Fail with too many: the bullets
    after number max_bullets. Fail with too few: every bullet (the whole stripped response when
    there is none).
    """
    _range("min_bullets", min_bullets, "max_bullets", max_bullets)
    bullets = bullet_spans(response)
    if len(bullets) > max_bullets:
        return verdict(False, bullets[max_bullets:])
    if len(bullets) < min_bullets:
        return verdict(False, whole_or(response, bullets))
    return verdict(True, bullets)


# ---- tables ----


def _cells(row: str) -> list[str]:
    """The cells of a table row: one leading and one trailing "|" dropped, split on "|" not
    preceded by a backslash."""
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return _CELL_DIVIDER.split(row)


def _is_separator(row: str) -> bool:
    return all(_SEPARATOR_CELL.fullmatch(cell) for cell in _cells(row))


def _pipe_blocks(text: str) -> list[list[Span]]:
    """Maximal runs of consecutive lines that contain "|", each line stripped."""
    blocks: list[list[Span]] = []
    current: list[Span] = []
    for start, end in line_spans(text):
        if "|" in text[start:end]:
            current.append(_trim(text, start, end))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def markdown_table(response: str, num_rows: int, num_columns: int) -> Verdict:
    """A table is a run of consecutive lines containing "|" whose second line is a separator
    row (every cell like "---", ":--", "--:", ":-:"): a header row, the separator, then body
    rows. Cells are split on unescaped "|", one leading and one trailing "|" optional. Passes
    iff some table has exactly num_rows body rows and num_columns cells in every row (header
    and separator included).

    Pass: the first such table, header to last row. Fail, when there are tables: in each one,
    the rows with a wrong number of cells, or the whole table when every row has num_columns
    cells (so the body row count is wrong). Fail, when there are "|" lines but no separator
    row: the first two lines of each run (the header and the line where the separator should
    be). Fail with no "|" line: the whole stripped response (nothing when blank).
    """
    _non_negative(num_rows=num_rows)
    if num_columns < 1:
        raise ValueError(f"num_columns ({num_columns}) must be >= 1")
    blocks = _pipe_blocks(response)
    tables = [rows for rows in blocks if len(rows) >= 2 and _is_separator(response[slice(*rows[1])])]
    if not tables:
        return verdict(False, whole_or(response, [row for rows in blocks for row in rows[:2]]))
    spans = []
    for rows in tables:
        misshapen = [(a, b) for a, b in rows if len(_cells(response[a:b])) != num_columns]
        if not misshapen and len(rows) - 2 == num_rows:
            return verdict(True, [(rows[0][0], rows[-1][1])])
        spans.extend(misshapen or [(rows[0][0], rows[-1][1])])
    return verdict(False, spans)


# ---- structure ----


def json_keys(response: str, keys: list[str]) -> Verdict:
    """Passes iff the response, stripped and unfenced as IFEval's json_format does (```json /
    ```Json / ```JSON / ``` before, ``` after), parses with json.loads as an object that has
    every key at its top level (exact, case-sensitive key strings).

    Pass: the JSON text. Fail: the character where parsing failed (the last character when the
    text ended early; nothing when there is no text); the whole JSON text when it parses but is
    not an object, lacks a key, or cannot be converted (a too long integer, too deep nesting).
    """
    a, b = unfenced(response, "json")
    try:
        value = json.loads(response[a:b])
    except json.JSONDecodeError as err:
        return verdict(False, error_at(a, b, err.pos))
    except (ValueError, RecursionError):
        return verdict(False, [(a, b)])
    return verdict(isinstance(value, dict) and all(key in value for key in keys), [(a, b)])


def _xml_offset(text: str, line: int, column: int) -> int:
    """The offset in text of expat's (1-based line, 0-based column in characters)."""
    start = 0
    for number, m in enumerate(_XML_LINE_BREAK.finditer(text), 2):
        if number > line:
            break
        start = m.end()
    return start + column


class _RootFound(Exception):
    pass


def _root_start_tag(text: str) -> Span:
    """The span in text of the root element's start tag, "<" to ">" (text is well-formed)."""
    parser = expat.ParserCreate()

    def start(name: str, attributes: dict) -> None:
        raise _RootFound(parser.CurrentLineNumber, parser.CurrentColumnNumber, name)

    parser.StartElementHandler = start
    try:
        parser.Parse(text, True)
    except _RootFound as found:
        line, column, name = found.args
    else:  # cannot happen for a document ElementTree parsed
        return 0, len(text)
    offset = _xml_offset(text, line, column)
    tag = _XML_START_TAG.match(text, offset)
    return tag.span() if tag else (offset, offset + 1 + len(name))


def xml_root(response: str, root: str) -> Verdict:
    """Passes iff the response, stripped and unfenced like json_keys (```xml / ```Xml / ```XML /
    ``` before, ``` after), is well-formed XML for xml.etree.ElementTree (namespaces included)
    and its root element is `root`: the tag, or its local name without a namespace.

    Pass: the XML text. Fail: the character at ElementTree's error position (the last
    character when the text ended early; nothing when there is no text; a lone surrogate
    itself); the root element's start tag, "<" to ">", when the document is well-formed but
    the root is another element.
    """
    a, b = unfenced(response, "xml")
    text = response[a:b]
    try:
        element = ElementTree.fromstring(text)
    except ElementTree.ParseError as err:
        return verdict(False, error_at(a, b, _xml_offset(text, *err.position)))
    except UnicodeEncodeError as err:  # a lone surrogate: expat only reads UTF-8
        return verdict(False, [(a + err.start, a + err.end)])
    if root in (element.tag, element.tag.rpartition("}")[2]):
        return verdict(True, [(a, b)])
    start, end = _root_start_tag(text)
    return verdict(False, [(a + start, a + end)])


def markdown_headings(response: str, min_headings: int) -> Verdict:
    """ATX headings are lines that start (no indentation) with 1 to 6 "#", then spaces or tabs,
    then text. Passes iff there are at least min_headings of them.

    Pass and fail: every heading line, from its first "#" to its last non-space character.
    """
    _non_negative(min_headings=min_headings)
    headings = [(m.start(), m.start() + len(m.group().rstrip())) for m in _HEADING.finditer(response)]
    return verdict(len(headings) >= min_headings, headings)


# ---- characters ----


def no_digits(response: str) -> Verdict:
    """Passes iff no character is a digit (str.isdigit: also "²", "٣"; not "½").

    Fail: every digit. Pass: no spans.
    """
    if response.isascii():  # the usual case, without a Python-level loop
        digits = [m.span() for m in _ASCII_DIGIT.finditer(response)]
    else:
        digits = [(i, i + 1) for i, c in enumerate(response) if c.isdigit()]
    return verdict(not digits, digits)


def forbidden_characters(response: str, characters: str) -> Verdict:
    """Passes iff no character of the response is one of `characters` (exact code points,
    case-sensitive, whitespace included; an empty string forbids nothing).

    Fail: every occurrence. Pass: no spans.
    """
    if not characters:
        return verdict(True, [])
    banned = "[" + "".join(re.escape(c) for c in sorted(set(characters))) + "]"
    hits = matches(banned, response)
    return verdict(not hits, hits)


def ascii_only(response: str) -> Verdict:
    """Passes iff every character is ASCII (code point below 128).

    Fail: every non-ASCII character. Pass: no spans.
    """
    hits = [m.span() for m in _NON_ASCII.finditer(response)]
    return verdict(not hits, hits)


def max_line_length(response: str, max_characters: int) -> Verdict:
    """Lines are the pieces between "\\n"s, without a "\\r" just before the "\\n" (or at the end).
    Passes iff no line has more than max_characters characters.

    Pass: no spans. Fail: on every long line, the characters after its character number
    max_characters.
    """
    _non_negative(max_characters=max_characters)
    past = []
    for start, end in line_spans(response):
        if end > start and response[end - 1] == "\r":
            end -= 1
        if end - start > max_characters:
            past.append((start + max_characters, end))
    return verdict(not past, past)


EXTENDED: dict[str, Instruction] = {
    "length:words_between": Instruction(
        words_between,
        {"min_words": int, "max_words": int},
        "The response has between {min_words} and {max_words} words.",
    ),
    "length:sentences_between": Instruction(
        sentences_between,
        {"min_sentences": int, "max_sentences": int},
        "The response has between {min_sentences} and {max_sentences} sentences.",
    ),
    "length:paragraphs_between": Instruction(
        paragraphs_between,
        {"min_paragraphs": int, "max_paragraphs": int},
        "The response has between {min_paragraphs} and {max_paragraphs} paragraphs, separated by blank lines.",
    ),
    "length:max_words_per_sentence": Instruction(
        max_words_per_sentence,
        {"max_words": int},
        "The response has no sentence longer than {max_words} words.",
    ),
    "length:max_characters": Instruction(
        max_characters,
        {"max_characters": int},
        "The response is at most {max_characters} characters long.",
    ),
    "phrases:count": Instruction(
        phrase_count,
        {"phrase": str, "min_count": int, "max_count": int},
        'The response contains the phrase "{phrase}" at least {min_count} and at most {max_count} times.',
    ),
    "phrases:forbidden": Instruction(
        forbidden_phrases,
        {"phrases": list[str]},
        "The response contains none of these phrases: {phrases}.",
    ),
    "phrases:start_with": Instruction(
        start_with,
        {"phrase": str},
        'The response starts with the phrase "{phrase}".',
    ),
    "order:phrases_in_order": Instruction(
        phrases_in_order,
        {"phrases": list[str]},
        "The response mentions these phrases in this order: {phrases}.",
    ),
    "lists:numbered_items": Instruction(
        numbered_items,
        {"num_items": int},
        "The response has a numbered list of exactly {num_items} items, numbered 1., 2., 3. and so on.",
    ),
    "lists:bullets_between": Instruction(
        bullets_between,
        {"min_bullets": int, "max_bullets": int},
        "The response has between {min_bullets} and {max_bullets} markdown bullet points (lines starting with * or -).",
    ),
    "tables:markdown": Instruction(
        markdown_table,
        {"num_rows": int, "num_columns": int},
        "The response contains a markdown table with a header row, {num_rows} rows below it and {num_columns} columns.",
    ),
    "structure:json_keys": Instruction(
        json_keys,
        {"keys": list[str]},
        "The response is one JSON object, optionally wrapped in ``` markdown fences, with these "
        "top-level keys: {keys}.",
    ),
    "structure:xml": Instruction(
        xml_root,
        {"root": str},
        "The response is a well-formed XML document, optionally wrapped in ``` markdown fences, "
        "whose root element is <{root}>.",
    ),
    "structure:markdown_headings": Instruction(
        markdown_headings,
        {"min_headings": int},
        "The response has at least {min_headings} markdown headings (lines starting with # to ######).",
    ),
    "chars:no_digits": Instruction(no_digits, {}, "The response does not contain any digits."),
    "chars:forbidden_characters": Instruction(
        forbidden_characters,
        {"characters": str},
        'The response does not use any of the characters in "{characters}".',
    ),
    "chars:ascii_only": Instruction(ascii_only, {}, "The response uses only ASCII characters."),
    "chars:max_line_length": Instruction(
        max_line_length,
        {"max_characters": int},
        "The response has no line longer than {max_characters} characters.",
    ),
}
