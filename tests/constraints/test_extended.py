import functools
import gc
import inspect
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtt.constraints import checkers
from rtt.constraints.extended import EXTENDED
from rtt.constraints.registry import REGISTRY
from rtt.constraints.spans import Verdict


def run(instruction_id, kwargs, response):
    return EXTENDED[instruction_id].checker(response, **kwargs)


def spans_text(response, verdict):
    return [response[a:b] for a, b in verdict.spans]


TABLE = "T\n| a | b |\n|---|:-:|\n| 1 | 2 |\n| 3 | 4 |\n\nend"
XML_DOC = '```xml\n<?xml version="1.0"?>\n<!-- <r> -->\n<doc k=">">x</doc>\n```'

# (id, kwargs, response, passed, spans) — spans worked out by hand
CASES = [
    # words_between: no spans on pass; the words after word max_words; every word when too few
    ("length:words_between", {"min_words": 2, "max_words": 3}, "one two three", True, []),  # at the max
    ("length:words_between", {"min_words": 2, "max_words": 2}, "a b", True, []),  # min == max
    ("length:words_between", {"min_words": 1, "max_words": 3}, "one, two. three four", False, [(16, 20)]),
    ("length:words_between", {"min_words": 0, "max_words": 2}, "a b c d", False, [(4, 5), (6, 7)]),
    ("length:words_between", {"min_words": 3, "max_words": 5}, "hi, you!", False, [(0, 2), (4, 7)]),
    ("length:words_between", {"min_words": 3, "max_words": 3}, "Ünïcödé wörds — naïve", True, []),
    ("length:words_between", {"min_words": 0, "max_words": 0}, "", True, []),
    ("length:words_between", {"min_words": 1, "max_words": 2}, "", False, []),  # nothing to point at
    # sentences_between: the sentences past the max (stripped); every sentence when too few
    ("length:sentences_between", {"min_sentences": 1, "max_sentences": 2}, "Hi. You there.  ", True, []),
    ("length:sentences_between", {"min_sentences": 1, "max_sentences": 2}, "I came. I saw. I won.", False, [(15, 21)]),
    (
        "length:sentences_between",
        {"min_sentences": 0, "max_sentences": 1},
        "\n\nFirst one. Second one.",
        False,
        [(13, 24)],
    ),
    ("length:sentences_between", {"min_sentences": 2, "max_sentences": 4}, "\n\nFirst one.", False, [(2, 12)]),
    ("length:sentences_between", {"min_sentences": 3, "max_sentences": 3}, "¿Qué tal? Muy bien. ¡Gracias!", True, []),
    ("length:sentences_between", {"min_sentences": 1, "max_sentences": 3}, "", False, []),
    ("length:sentences_between", {"min_sentences": 0, "max_sentences": 0}, "  ", True, []),
    # paragraphs_between: pieces between blank lines (stripped)
    ("length:paragraphs_between", {"min_paragraphs": 2, "max_paragraphs": 2}, "  First.\n\n\n  Second.\n", True, []),
    ("length:paragraphs_between", {"min_paragraphs": 2, "max_paragraphs": 2}, "One\nstill one\n\nTwo", True, []),
    ("length:paragraphs_between", {"min_paragraphs": 1, "max_paragraphs": 2}, "A\n\nB\n \n\nC", False, [(8, 9)]),
    ("length:paragraphs_between", {"min_paragraphs": 2, "max_paragraphs": 3}, " Only one\n", False, [(1, 9)]),
    ("length:paragraphs_between", {"min_paragraphs": 1, "max_paragraphs": 1}, "\n\n  \n", False, []),
    ("length:paragraphs_between", {"min_paragraphs": 1, "max_paragraphs": 1}, "a\r\n\r\nb", False, [(5, 6)]),
    ("length:paragraphs_between", {"min_paragraphs": 0, "max_paragraphs": 1}, "", True, []),
    # max_words_per_sentence: the words past the limit in each long sentence
    ("length:max_words_per_sentence", {"max_words": 2}, "One two three. Four.", False, [(8, 13)]),
    ("length:max_words_per_sentence", {"max_words": 2}, "We all went. They all came.", False, [(7, 11), (22, 26)]),
    ("length:max_words_per_sentence", {"max_words": 3}, "We all went. They all came.", True, []),  # at the limit
    ("length:max_words_per_sentence", {"max_words": 5}, "Café au lait s'il vous plaît.", False, [(18, 22), (23, 28)]),
    ("length:max_words_per_sentence", {"max_words": 0}, "Hi there.", False, [(0, 2), (3, 8)]),
    ("length:max_words_per_sentence", {"max_words": 0}, "", True, []),
    # max_characters: the characters past the limit
    ("length:max_characters", {"max_characters": 5}, "hello", True, []),  # at the limit
    ("length:max_characters", {"max_characters": 5}, "hello!", False, [(5, 6)]),
    ("length:max_characters", {"max_characters": 5}, "héllo wörld", False, [(5, 11)]),
    ("length:max_characters", {"max_characters": 0}, "ab", False, [(0, 2)]),
    ("length:max_characters", {"max_characters": 0}, "", True, []),
    # phrases:count: every occurrence, pass or fail
    (
        "phrases:count",
        {"phrase": "cat", "min_count": 2, "max_count": 3},
        "The cat sat. CAT! concat",
        True,
        [(4, 7), (13, 16), (21, 24)],
    ),
    (
        "phrases:count",
        {"phrase": "cat", "min_count": 0, "max_count": 2},
        "The cat sat. CAT! concat",
        False,
        [(4, 7), (13, 16), (21, 24)],
    ),
    (
        "phrases:count",
        {"phrase": " New York ", "min_count": 2, "max_count": 2},
        "new york, NEW  YORK, New York",
        True,
        [(0, 8), (21, 29)],
    ),
    ("phrases:count", {"phrase": "aa", "min_count": 2, "max_count": 2}, "aaaa", True, [(0, 2), (2, 4)]),
    (
        "phrases:count",
        {"phrase": "straße", "min_count": 3, "max_count": 5},
        "Straße STRASSE straße",
        False,
        [(0, 6), (15, 21)],
    ),
    ("phrases:count", {"phrase": "x", "min_count": 0, "max_count": 0}, "", True, []),
    ("phrases:count", {"phrase": "x", "min_count": 1, "max_count": 1}, "", False, []),
    # phrases:forbidden: every occurrence on fail, also inside words
    ("phrases:forbidden", {"phrases": ["very", "in my opinion"]}, "This is fine.", True, []),
    (
        "phrases:forbidden",
        {"phrases": ["very", " in my opinion "]},
        "In My Opinion, it is VERY good; very.",
        False,
        [(0, 13), (21, 25), (32, 36)],
    ),
    ("phrases:forbidden", {"phrases": ["very"]}, "Everything", False, [(1, 5)]),
    ("phrases:forbidden", {"phrases": ["abc", "bcd"]}, "abcd", False, [(0, 4)]),  # overlapping: merged
    ("phrases:forbidden", {"phrases": ["é"]}, "cafe\u0301 café", False, [(9, 10)]),  # no normalization
    ("phrases:forbidden", {"phrases": []}, "anything", True, []),
    ("phrases:forbidden", {"phrases": ["x"]}, "", True, []),
    # phrases:start_with: the head on pass; len(phrase) characters of the stripped response on fail
    ("phrases:start_with", {"phrase": "dear john"}, "  Dear John, hi", True, [(2, 11)]),
    ("phrases:start_with", {"phrase": " école "}, "\nÉCOLE first", True, [(1, 6)]),
    ("phrases:start_with", {"phrase": "Dear"}, "Hello there", False, [(0, 4)]),
    ("phrases:start_with", {"phrase": "Dear John"}, " Hi ", False, [(1, 3)]),
    ("phrases:start_with", {"phrase": "Dear"}, "   ", False, []),
    # order:phrases_in_order: every first occurrence on pass; the fewest to move on fail
    (
        "order:phrases_in_order",
        {"phrases": ["mix", "bake", "serve"]},
        "First mix, then bake, then serve.",
        True,
        [(6, 9), (16, 20), (27, 32)],
    ),
    ("order:phrases_in_order", {"phrases": ["mix", "bake"]}, "Mix, bake, then MIX.", True, [(0, 3), (5, 9)]),
    ("order:phrases_in_order", {"phrases": ["a", "b", "c"]}, "b then a then c", False, [(0, 1), (7, 8)]),
    ("order:phrases_in_order", {"phrases": ["one", "two", "three", "four"]}, "two three four one", False, [(15, 18)]),
    ("order:phrases_in_order", {"phrases": ["mix", "bake"]}, "Bake. MIX. bake", False, [(0, 4), (6, 9)]),
    ("order:phrases_in_order", {"phrases": ["new", "new york"]}, "new york is new", False, [(0, 8)]),
    ("order:phrases_in_order", {"phrases": ["mix", "bake", "serve"]}, "mix and serve", False, []),  # missing
    ("order:phrases_in_order", {"phrases": ["mix", "bake", "serve"]}, "serve then mix", False, [(0, 5), (11, 14)]),
    ("order:phrases_in_order", {"phrases": ["a", "b"]}, "", False, []),
    ("order:phrases_in_order", {"phrases": []}, "", True, []),
    # lists:numbered_items: every item on pass; all items or the misnumbered ones on fail
    (
        "lists:numbered_items",
        {"num_items": 3},
        "Steps:\n1. Mix\n2. Bake\n3) Serve",
        True,
        [(7, 13), (14, 21), (22, 30)],
    ),
    (
        "lists:numbered_items",
        {"num_items": 2},
        "  1.  Indented \n2.NoSpace\n1.5 liters\n2) ok",
        True,
        [(2, 14), (37, 42)],
    ),
    ("lists:numbered_items", {"num_items": 3}, "1. a\n2. b", False, [(0, 4), (5, 9)]),
    ("lists:numbered_items", {"num_items": 2}, "1. a\n3. b", False, [(5, 9)]),
    ("lists:numbered_items", {"num_items": 2}, "1. a\n1. b", False, [(5, 9)]),
    ("lists:numbered_items", {"num_items": 1}, "\u0661. a", False, [(0, 4)]),  # ASCII digits only
    ("lists:numbered_items", {"num_items": 2}, " No list here. ", False, [(1, 14)]),
    ("lists:numbered_items", {"num_items": 0}, "", True, []),
    ("lists:numbered_items", {"num_items": 1}, "", False, []),
    # lists:bullets_between: every bullet on pass; the ones past the max / all (or the text)
    (
        "lists:bullets_between",
        {"min_bullets": 1, "max_bullets": 2},
        "Tips:\n* one\n  - two\n**bold**",
        True,
        [(6, 11), (14, 19)],
    ),
    ("lists:bullets_between", {"min_bullets": 1, "max_bullets": 2}, "* a\n* b\n* c", False, [(8, 11)]),
    ("lists:bullets_between", {"min_bullets": 2, "max_bullets": 3}, "* a", False, [(0, 3)]),
    ("lists:bullets_between", {"min_bullets": 1, "max_bullets": 2}, " no bullets ", False, [(1, 11)]),
    ("lists:bullets_between", {"min_bullets": 2, "max_bullets": 2}, "*\n- x", True, [(0, 5)]),  # IFEval's regex
    ("lists:bullets_between", {"min_bullets": 0, "max_bullets": 0}, "", True, []),
    # tables:markdown: the table on pass; misshapen rows / the table / the pipe lines / the text
    ("tables:markdown", {"num_rows": 2, "num_columns": 2}, TABLE, True, [(2, 41)]),
    ("tables:markdown", {"num_rows": 3, "num_columns": 2}, TABLE, False, [(2, 41)]),
    (
        "tables:markdown",
        {"num_rows": 2, "num_columns": 3},
        TABLE,
        False,
        [(2, 11), (12, 21), (22, 31), (32, 41)],
    ),  # every row misshapen
    (
        "tables:markdown",
        {"num_rows": 2, "num_columns": 2},
        TABLE.replace("| 1 | 2 |", "| 1 | 2 | 5 |"),
        False,
        [(22, 35)],
    ),
    ("tables:markdown", {"num_rows": 1, "num_columns": 2}, "a | b\n1 | 2", False, [(0, 5), (6, 11)]),
    ("tables:markdown", {"num_rows": 1, "num_columns": 2}, "a | b\n--|--\n1 | 2", True, [(0, 17)]),
    ("tables:markdown", {"num_rows": 1, "num_columns": 2}, "| a \\| b | c |\n|---|---|\n| 1 | 2 |", True, [(0, 34)]),
    (
        "tables:markdown",
        {"num_rows": 1, "num_columns": 2},
        "| x |\n|---|\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        True,
        [(13, 42)],
    ),  # the second table fits
    ("tables:markdown", {"num_rows": 0, "num_columns": 2}, "|é|ü|\n|-|-|", True, [(0, 11)]),
    ("tables:markdown", {"num_rows": 1, "num_columns": 1}, " Just text. ", False, [(1, 11)]),
    ("tables:markdown", {"num_rows": 0, "num_columns": 1}, "", False, []),
    # structure:json_keys: the JSON text on pass; the error character or the JSON text on fail
    ("structure:json_keys", {"keys": ["name", "age"]}, '{"name": "x", "age": 3}', True, [(0, 23)]),
    ("structure:json_keys", {"keys": ["a"]}, ' ```json\n{"a": 1}\n``` ', True, [(9, 17)]),
    ("structure:json_keys", {"keys": ["é"]}, '{"é": "ü"}', True, [(0, 10)]),
    ("structure:json_keys", {"keys": ["a", "b"]}, '{"a": 1}', False, [(0, 8)]),
    ("structure:json_keys", {"keys": ["b"]}, '{"a": {"b": 1}}', False, [(0, 15)]),  # top level only
    ("structure:json_keys", {"keys": ["A"]}, '{"a": 1}', False, [(0, 8)]),  # case-sensitive
    ("structure:json_keys", {"keys": []}, "[1, 2]", False, [(0, 6)]),  # not an object
    ("structure:json_keys", {"keys": ["a"]}, '{"a": 1,}', False, [(8, 9)]),
    ("structure:json_keys", {"keys": ["a"]}, '{"a": 1', False, [(6, 7)]),  # ended early: the last character
    ("structure:json_keys", {"keys": ["a"]}, "", False, []),
    ("structure:json_keys", {"keys": []}, "[" * 100_000, False, [(0, 100_000)]),  # too deep for json
    # structure:xml: the XML text on pass; the error character or the root start tag on fail
    ("structure:xml", {"root": "doc"}, "<doc><a>x</a></doc>", True, [(0, 19)]),
    ("structure:xml", {"root": "r"}, '<s:r xmlns:s="u"/>', True, [(0, 18)]),  # local name
    ("structure:xml", {"root": "{u}r"}, '<r xmlns="u"/>', True, [(0, 14)]),  # or the namespaced tag
    ("structure:xml", {"root": "r"}, XML_DOC, False, [(42, 53)]),
    ("structure:xml", {"root": "r"}, "<r>\n  <a></b>\n</r>", False, [(11, 12)]),
    ("structure:xml", {"root": "r"}, "<r>é€😀<b></r>", False, [(11, 12)]),  # columns count characters
    ("structure:xml", {"root": "r"}, "<r>\r\n<a>\r\n</r>", False, [(12, 13)]),  # CRLF is one line break
    ("structure:xml", {"root": "r"}, "<r>", False, [(2, 3)]),  # ended early: the last character
    ("structure:xml", {"root": "r"}, "<r>\ud800</r>", False, [(3, 4)]),  # a lone surrogate
    ("structure:xml", {"root": "r"}, "``` ```", False, []),
    # structure:markdown_headings: every heading line, pass or fail
    (
        "structure:markdown_headings",
        {"min_headings": 2},
        "# Title\nText\n## Part  \n####### no\n#nospace",
        True,
        [(0, 7), (13, 20)],
    ),
    (
        "structure:markdown_headings",
        {"min_headings": 3},
        "# Title\nText\n## Part  \n####### no\n#nospace",
        False,
        [(0, 7), (13, 20)],
    ),
    ("structure:markdown_headings", {"min_headings": 1}, " # indented\n#\t Tab", True, [(12, 18)]),
    ("structure:markdown_headings", {"min_headings": 1}, "### Ünïcode", True, [(0, 11)]),
    ("structure:markdown_headings", {"min_headings": 0}, "", True, []),
    ("structure:markdown_headings", {"min_headings": 1}, "", False, []),
    # chars:no_digits: every digit on fail
    ("chars:no_digits", {}, "No digits here.", True, []),
    ("chars:no_digits", {}, "Room 101", False, [(5, 6), (6, 7), (7, 8)]),
    ("chars:no_digits", {}, "x² ٣ ½", False, [(1, 2), (3, 4)]),  # str.isdigit: not "½"
    ("chars:no_digits", {}, "", True, []),
    # chars:forbidden_characters: every occurrence on fail
    ("chars:forbidden_characters", {"characters": ",!"}, "Hello, world!", False, [(5, 6), (12, 13)]),
    ("chars:forbidden_characters", {"characters": "ïé"}, "naïve café", False, [(2, 3), (9, 10)]),
    ("chars:forbidden_characters", {"characters": "\t"}, "tab\there", False, [(3, 4)]),
    (
        "chars:forbidden_characters",
        {"characters": "-]^\\["},
        "a-b]c^d\\e[f",
        False,
        [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)],
    ),  # regex metacharacters are literal
    ("chars:forbidden_characters", {"characters": "A"}, "a", True, []),  # case-sensitive
    ("chars:forbidden_characters", {"characters": ""}, "Hello", True, []),
    ("chars:forbidden_characters", {"characters": "abc"}, "", True, []),
    # chars:ascii_only: every non-ASCII character on fail
    ("chars:ascii_only", {}, "plain text 123 ~\x7f", True, []),
    ("chars:ascii_only", {}, "café — ok", False, [(3, 4), (5, 6)]),
    ("chars:ascii_only", {}, "😀\u00a0", False, [(0, 1), (1, 2)]),
    ("chars:ascii_only", {}, "", True, []),
    # chars:max_line_length: the characters past the limit on each long line
    ("chars:max_line_length", {"max_characters": 5}, "short\nlines", True, []),  # at the limit
    ("chars:max_line_length", {"max_characters": 5}, "abcdefg\nab\r\nabcdef\r\n", False, [(5, 7), (17, 18)]),
    ("chars:max_line_length", {"max_characters": 4}, "ééééé\n", False, [(4, 5)]),
    ("chars:max_line_length", {"max_characters": 0}, "a", False, [(0, 1)]),
    ("chars:max_line_length", {"max_characters": 0}, "\n\n", True, []),
    ("chars:max_line_length", {"max_characters": 0}, "", True, []),
]


@pytest.mark.parametrize("instruction_id,kwargs,response,passed,spans", CASES)
def test_hand_cases(instruction_id, kwargs, response, passed, spans):
    assert run(instruction_id, kwargs, response) == Verdict(passed, spans)


def test_hand_cases_cover_every_id_three_times():
    counts = {i: sum(1 for c in CASES if c[0] == i) for i in EXTENDED}
    assert min(counts.values()) >= 3, counts


def test_spans_point_at_the_deciding_text():
    response = "Intro.\n\n1. Mix\n2. Bake"
    verdict = run("lists:numbered_items", {"num_items": 2}, response)
    assert spans_text(response, verdict) == ["1. Mix", "2. Bake"]
    verdict = run("structure:xml", {"root": "r"}, XML_DOC)
    assert spans_text(XML_DOC, verdict) == ['<doc k=">">']
    verdict = run("order:phrases_in_order", {"phrases": ["one", "two", "three", "four"]}, "two three four one")
    assert spans_text("two three four one", verdict) == ["one"]


# ---- the registry entries ----

IFEVAL_NAMESPACES = {
    "punctuation",
    "keywords",
    "change_case",
    "length_constraints",
    "detectable_format",
    "detectable_content",
    "startend",
    "combination",
    "language",
}
IFBENCH_NAMESPACES = {"count", "ratio", "words", "sentence", "format", "custom", "repeat"}


def test_ids_are_in_namespaces_of_our_own():
    namespaces = {i.split(":")[0] for i in EXTENDED}
    assert namespaces == {"length", "phrases", "order", "lists", "tables", "structure", "chars"}
    assert not namespaces & (IFEVAL_NAMESPACES | IFBENCH_NAMESPACES)
    assert not namespaces & {i.split(":")[0] for i in REGISTRY if i not in EXTENDED}  # also once merged


def test_kwargs_specs_match_the_checkers():
    for instruction_id, entry in EXTENDED.items():
        parameters = list(inspect.signature(entry.checker).parameters)
        assert parameters[0] == "response" and parameters[1:] == list(entry.kwargs), instruction_id
        assert all(kind in (int, str, list[str]) for kind in entry.kwargs.values()), instruction_id
        assert entry.checker.__doc__ and "Pass" in entry.checker.__doc__, instruction_id


def _quoted(words):
    return ", ".join(f'"{w}"' for w in words)


def test_every_template_formats():
    assert EXTENDED["order:phrases_in_order"].template.format(phrases=_quoted(["mix", "bake"])) == (
        'The response mentions these phrases in this order: "mix", "bake".'
    )
    assert EXTENDED["length:words_between"].template.format(min_words=50, max_words=80) == (
        "The response has between 50 and 80 words."
    )
    seen = set()
    for instruction_id, kwargs, *_ in CASES:
        shown = {k: _quoted(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        text = EXTENDED[instruction_id].template.format(**shown)
        assert text.startswith("The response ") and text.endswith("."), text
        assert "{" not in text or any("{" in str(v) for v in kwargs.values()), text
        seen.add(instruction_id)
    assert seen == set(EXTENDED)


# ---- bad kwargs values ----


@pytest.mark.parametrize(
    "instruction_id,kwargs,message",
    [
        ("length:words_between", {"min_words": 5, "max_words": 3}, "min_words (5) must be <= max_words (3)"),
        ("length:words_between", {"min_words": -1, "max_words": 3}, "min_words (-1) must be >= 0"),
        (
            "length:sentences_between",
            {"min_sentences": 2, "max_sentences": 1},
            "min_sentences (2) must be <= max_sentences (1)",
        ),
        ("length:sentences_between", {"min_sentences": 0, "max_sentences": -2}, "max_sentences (-2) must be >= 0"),
        (
            "length:paragraphs_between",
            {"min_paragraphs": 4, "max_paragraphs": 3},
            "min_paragraphs (4) must be <= max_paragraphs (3)",
        ),
        ("length:max_words_per_sentence", {"max_words": -1}, "max_words (-1) must be >= 0"),
        ("length:max_characters", {"max_characters": -5}, "max_characters (-5) must be >= 0"),
        ("phrases:count", {"phrase": "a", "min_count": 3, "max_count": 2}, "min_count (3) must be <= max_count (2)"),
        ("phrases:count", {"phrase": "  ", "min_count": 0, "max_count": 2}, "phrase must not be blank"),
        ("phrases:forbidden", {"phrases": ["ok", ""]}, "phrases must not be blank"),
        ("phrases:start_with", {"phrase": "\n"}, "phrase must not be blank"),
        ("order:phrases_in_order", {"phrases": ["a", " "]}, "phrases must not be blank"),
        ("order:phrases_in_order", {"phrases": ["Mix", "bake", "mix "]}, "phrases must differ"),
        ("lists:numbered_items", {"num_items": -1}, "num_items (-1) must be >= 0"),
        ("lists:bullets_between", {"min_bullets": 3, "max_bullets": 2}, "min_bullets (3) must be <= max_bullets (2)"),
        ("tables:markdown", {"num_rows": -1, "num_columns": 2}, "num_rows (-1) must be >= 0"),
        ("tables:markdown", {"num_rows": 1, "num_columns": 0}, "num_columns (0) must be >= 1"),
        ("structure:markdown_headings", {"min_headings": -3}, "min_headings (-3) must be >= 0"),
        ("chars:max_line_length", {"max_characters": -1}, "max_characters (-1) must be >= 0"),
    ],
)
def test_bad_values_raise_naming_the_key(instruction_id, kwargs, message):
    for response in ("", "Some text. 1. x\n| a |"):
        with pytest.raises(ValueError, match=re.escape(message)):
            run(instruction_id, kwargs, response)


# ---- properties ----

PIECES = [
    "a",
    "B",
    "cat",
    "Cat",
    "very",
    "VERY good",
    " ",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    ",",
    ".",
    ". ",
    "!",
    "*",
    "* ",
    "-",
    "- ",
    "#",
    "## ",
    "1. ",
    "2) ",
    "10. ",
    "|",
    "| a |",
    "|---|",
    ":-:",
    "\\|",
    "{",
    "}",
    '"a": 1',
    "[",
    "]",
    ":",
    "```json",
    "```xml",
    "```",
    "<r>",
    "</r>",
    "<a/>",
    "&",
    "7",
    "²",
    "٣",
    "½",
    "é",
    "İ",
    "ß",
    "😀",
    "\u00a0",
    "mix",
    "bake",
    "serve",
    "Hello there.",
    "I came.",
    "Dr. Smith",
]
responses = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
phrases = st.sampled_from(["cat", "very good", "mix", "bake", "serve", "a", "İ", "ß", "1.", " x "])


def bounds(low_key, high_key, top=6):
    return (
        st.tuples(st.integers(0, top), st.integers(0, top))
        .map(sorted)
        .map(lambda pair: {low_key: pair[0], high_key: pair[1]})
    )


def count(key, top=6, low=0):
    return st.integers(low, top).map(lambda n: {key: n})


KWARGS = {
    "length:words_between": bounds("min_words", "max_words"),
    "length:sentences_between": bounds("min_sentences", "max_sentences", 3),
    "length:paragraphs_between": bounds("min_paragraphs", "max_paragraphs", 3),
    "length:max_words_per_sentence": count("max_words", 4),
    "length:max_characters": count("max_characters", 40),
    "phrases:count": st.builds(
        lambda p, b: {"phrase": p, "min_count": b[0], "max_count": b[1]},
        phrases,
        st.tuples(st.integers(0, 3), st.integers(0, 3)).map(sorted),
    ),
    "phrases:forbidden": st.lists(phrases, max_size=3).map(lambda p: {"phrases": p}),
    "phrases:start_with": phrases.map(lambda p: {"phrase": p}),
    "order:phrases_in_order": st.lists(
        st.sampled_from(["mix", "bake", "serve", "cat", "a"]), max_size=4, unique=True
    ).map(lambda p: {"phrases": p}),
    "lists:numbered_items": count("num_items", 3),
    "lists:bullets_between": bounds("min_bullets", "max_bullets", 3),
    "tables:markdown": st.builds(lambda r, c: {"num_rows": r, "num_columns": c}, st.integers(0, 3), st.integers(1, 3)),
    "structure:json_keys": st.lists(st.sampled_from(["a", "b", "é"]), max_size=2).map(lambda k: {"keys": k}),
    "structure:xml": st.sampled_from(["r", "a", "doc"]).map(lambda r: {"root": r}),
    "structure:markdown_headings": count("min_headings", 3),
    "chars:no_digits": st.just({}),
    "chars:forbidden_characters": st.sampled_from(["", ",", "é!", "-]^", "\n"]).map(lambda c: {"characters": c}),
    "chars:ascii_only": st.just({}),
    "chars:max_line_length": count("max_characters", 8),
}


def test_property_strategies_cover_every_id():
    assert set(KWARGS) == set(EXTENDED)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), response=responses)
def test_spans_are_sorted_disjoint_and_inside(data, response):
    for instruction_id, strategy in KWARGS.items():
        verdict = run(instruction_id, data.draw(strategy), response)
        assert isinstance(verdict.passed, bool)
        previous_end = 0
        for start, end in verdict.spans:
            assert previous_end <= start < end <= len(response), instruction_id
            previous_end = end


@settings(max_examples=150, deadline=None)
@given(
    response=st.lists(st.sampled_from(["mix", "bake", "serve", "cat", "a", " ", "Mix"]), max_size=12).map("".join),
    wanted=st.lists(st.sampled_from(["mix", "bake", "serve", "cat"]), min_size=1, max_size=4, unique=True),
)
def test_order_marks_the_fewest_phrases_to_move(response, wanted):
    verdict = run("order:phrases_in_order", {"phrases": wanted}, response)
    firsts = [response.lower().find(p) for p in wanted]
    found = [f for f in firsts if f >= 0]
    assert verdict.passed == (len(found) == len(wanted) and found == sorted(set(found)))
    # what is not marked is in order, and nothing in order is marked when all are in order
    kept = [f for f in found if not any(a <= f < b for a, b in verdict.spans)]
    assert kept == sorted(set(kept))
    if found == sorted(set(found)):
        assert verdict.passed or verdict.spans == []


IFEVAL_BULLETS = (r"^\s*\*[^\*].*$", r"^\s*-.*$")


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(alphabet=" \t\n\r\x0b\x1c\x85\u2028\u00a0*-ab", max_size=30),
        st.lists(st.sampled_from(["*", "-", "**", " ", "\n", "\n\n", "x", "\r\n"]), max_size=20).map("".join),
    )
)
def test_bullets_are_ifevals(text):
    expected = []
    for pattern in IFEVAL_BULLETS:
        for m in re.finditer(pattern, text, re.MULTILINE):
            expected.append((m.start() + len(m.group()) - len(m.group().lstrip()), m.end()))
    assert checkers.bullet_spans(text) == sorted(expected)


def cpu_seconds(fn) -> float:
    """CPU time of this process for one call (other processes' load does not count), GC paused."""
    gc.disable()
    try:
        start = time.process_time()
        fn()
        return time.process_time() - start
    finally:
        gc.enable()


def test_long_degenerate_responses_grow_linearly():
    """No checker is quadratic on degenerate input: 8x the text costs well under 64x the CPU time.

    Linear work grows 8x; the bound 24x (plus 2 ms for timer and allocator noise) leaves a 3x margin
    for cache effects and is far below the 64x of quadratic work. CPU time, not wall time, so a busy
    machine does not fail it; the absolute speed is measured in bench/bench_checks.py.
    """
    from rtt.constraints.sentences import sentence_spans

    sentence_spans("Load Punkt first. It takes a second, once per process.")  # not what is measured here
    samples = {instruction_id: kwargs for instruction_id, kwargs, *_ in reversed(CASES)}  # the first per id
    for unit, n in (("\n", 2_500), ("*\n", 1_250), ("| a | b |\n", 250), ("[", 2_500), (" \n", 1_250)):
        for instruction_id, kwargs in samples.items():
            small = cpu_seconds(functools.partial(run, instruction_id, kwargs, unit * n))
            large = cpu_seconds(functools.partial(run, instruction_id, kwargs, unit * (8 * n)))
            assert large <= 24 * small + 0.002, (instruction_id, unit, small, large)
