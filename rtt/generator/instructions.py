"""The instruction table of the built-in prompt generator (`rtt.generator.builtin`).

`SPECS` holds one `InstructionSpec` per id: weight, kwargs sampler, imperative wordings, what the
item needs from a response (`Needs`) and what it limits; `hints` adds wording fields that are not
kwargs (a table's column names, taken from the topic's words). Adding an id is one more entry
there, plus rows in the conflict tables when it clashes with something.

Only compatible combinations are drawn. Three layers decide it, all data, each entry with its
reason next to it:

1. `CONFLICTS`: id pairs never drawn together.
2. `InstructionSpec.only_with`: a kind that shapes the whole response (JSON, XML, two responses,
   the repeated request, a constrained verdict) conflicts with every id outside its list, as
   IFEval's own INSTRUCTION_CONFLICTS does (more strictly). A new id is kept away from these kinds
   until it is added to their lists.
3. kwargs-level rules: `KWARG_CONFLICTS` (pairs), and over the whole set (`builtin.compatible`)
   the `limit`s: the needs of all the other items, plus `BASE_NEEDS`, add up, and each limiting
   item checks that the sum fits it (no comma in required text, a word cap above the others'
   floors, no forbidden character in their markup...).

What required text is matched against: a `limit` on case (english_lowercase / _capital) reads
`Needs.exact` only, the text that checkers match case-sensitively (section headers, JSON keys, the
constrained phrases). Keywords, opening, counted and ordered phrases are matched
case-insensitively, so they go in `Needs.text` and combine with either case.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from rtt.constraints import IFEVAL_IDS, INSTRUCTION_IDS
from rtt.generator.vocabulary import (
    BULLET_RANGES,
    CONSTRAINED_OPTIONS,
    END_PHRASES,
    FIRST_WORDS,
    FORBIDDEN_CHARACTERS,
    FORBIDDEN_PHRASES,
    FORBIDDEN_POOL,
    JSON_KEYS,
    LANGUAGES,
    PARAGRAPH_RANGES,
    PHRASE_COUNTS,
    QUESTIONS,
    SECTION_SPLITTERS,
    SENTENCE_RANGES,
    START_PHRASES,
    TABLE_COLUMNS,
    WORD_RANGES,
    XML_ROOTS,
)


class Context(NamedTuple):
    """What a kwargs sampler and a wording may use."""

    topic: str
    words: tuple[str, ...]
    """The topic's keyword pool."""
    task: str


Sampler = Callable[[Context, random.Random], dict]
"""A kwargs sampler: (context, rng) -> kwargs."""


@dataclass(frozen=True)
class Needs:
    """What one item needs from a response: literal text (with multiplicity; `exact` is the part
    its checker matches case-sensitively), the fewest words and sentences it adds, and the
    characters its markup is made of (`marks`: "*" of bullets, "<>" of a title, "|-" of a table)."""

    text: str = ""
    exact: str = ""
    words: int = 0
    sentences: int = 0
    marks: str = ""

    def __add__(self, other: Needs) -> Needs:
        return Needs(
            "\n".join(filter(None, (self.text, other.text))),
            "\n".join(filter(None, (self.exact, other.exact))),
            self.words + other.words,
            self.sentences + other.sentences,
            self.marks + other.marks,
        )

    @property
    def all_text(self) -> str:
        return "\n".join(filter(None, (self.text, self.exact)))


BASE_NEEDS = Needs(words=10, sentences=1)
"""Any answer: a sentence of content around the required bits (and enough English words for
langdetect, which the case checkers consult, to call it English)."""


def quoted(items: list[str], conjunction: str) -> str:
    """'"a"', '"a" and "b"', '"a", "b" and "c"'."""
    quoted = [f'"{w}"' for w in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" {conjunction} " + quoted[-1]


def _no_needs(kwargs: dict) -> Needs:
    return Needs()


@dataclass(frozen=True)
class InstructionSpec:
    weight: float
    """How often the id is drawn, relative to the others."""
    sample: Sampler
    """kwargs for `rtt.constraints.check` / `describe`."""
    wordings: tuple[str, ...]
    """Imperative texts for the prompt, one drawn per prompt; `str.format`ted with the kwargs
    (lists as 'the words "a" and "b"', relations as "fewer than" / "at least", language codes as
    names, nth_paragraph also as {nth_ordinal}) and {topic}."""
    needs: Callable[[dict], Needs] = _no_needs
    limit: Callable[[dict, Needs], bool] | None = None
    """Whether the needs of all the other items of a prompt (plus BASE_NEEDS) fit this one."""
    only_with: frozenset[str] | None = None
    """When set, every id outside it conflicts with this one."""
    tasks: tuple[str, ...] = ()
    """When set, a prompt whose first item is this id takes its task from here; later in a
    prompt the id is not drawn."""
    hints: Callable[[dict, Context, random.Random, Callable[[str], bool]], dict] | None = None
    """Further wording fields that are not kwargs (a table's column names): hints(kwargs, ctx,
    rng, allowed), where allowed(text) says whether the prompt's other items let the reply
    contain text (the wording asks for it, so it counts as required text)."""


def _words_in(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _sentences_in(text: str) -> int:
    return max(1, len(re.findall(r"[.!?]+(?:\s|$)", text)))


def _caps_in(text: str) -> int:
    """All-caps tokens ("I", "P.S.", "SECTION"), as capital_word_frequency would count them."""
    return sum(1 for token in re.findall(r"[\w.']+", text) if token.isupper())


def _relation(rng: random.Random, p_less: float) -> str:
    return "less than" if rng.random() < p_less else "at least"


# samplers


def _keywords(ctx: Context, rng: random.Random) -> dict:
    return {"keywords": rng.sample(ctx.words, rng.choice((1, 1, 2, 2, 3)))}


def _forbidden(ctx: Context, rng: random.Random) -> dict:
    if rng.random() < 0.35:  # avoid a word the topic invites
        return {"forbidden_words": [rng.choice(ctx.words)]}
    return {"forbidden_words": rng.sample(FORBIDDEN_POOL, rng.choice((1, 2, 2, 3)))}


def _frequency(ctx: Context, rng: random.Random) -> dict:
    relation = _relation(rng, 0.3)
    frequency = rng.choice((2, 3) if relation == "less than" else (2, 2, 3, 4))
    return {"keyword": rng.choice(ctx.words), "frequency": frequency, "relation": relation}


def _letter(ctx: Context, rng: random.Random) -> dict:
    if rng.random() < 0.3:
        return {"letter": rng.choice("qxzj"), "let_frequency": rng.choice((2, 3)), "let_relation": "less than"}
    return {
        "letter": rng.choice("aeinorstl"),
        "let_frequency": rng.choice((5, 8, 10, 12, 15)),
        "let_relation": "at least",
    }


def _number_words(ctx: Context, rng: random.Random) -> dict:
    if rng.random() < 0.75:
        return {"num_words": rng.choice((30, 40, 40, 50, 60, 60, 80, 100, 150)), "relation": "less than"}
    return {"num_words": rng.choice((20, 30, 50, 80, 120, 200, 300)), "relation": "at least"}


def _number_sentences(ctx: Context, rng: random.Random) -> dict:
    relation = _relation(rng, 0.6)
    choices = (3, 4, 5, 6, 8) if relation == "less than" else (2, 3, 4, 5, 6, 8, 10)
    return {"num_sentences": rng.choice(choices), "relation": relation}


def _capital_words(ctx: Context, rng: random.Random) -> dict:
    relation = _relation(rng, 0.4)
    choices = (3, 4, 5) if relation == "less than" else (2, 3, 4, 5)
    return {"capital_frequency": rng.choice(choices), "capital_relation": relation}


def _nth_paragraph(ctx: Context, rng: random.Random) -> dict:
    num = rng.choice((2, 3, 3, 4))
    return {"num_paragraphs": num, "nth_paragraph": rng.randint(1, num), "first_word": rng.choice(FIRST_WORDS)}


def _constant(**kwargs) -> Sampler:
    return lambda ctx, rng: dict(kwargs)


def _one_of(key: str, values: tuple) -> Sampler:
    return lambda ctx, rng: {key: rng.choice(values)}


# limits: do the other items' needs fit this one?


def _limit_no_comma(kwargs: dict, others: Needs) -> bool:
    return "," not in others.all_text


def _limit_forbidden(kwargs: dict, others: Needs) -> bool:
    return not any(re.search(rf"\b{re.escape(w)}\b", others.all_text, re.IGNORECASE) for w in kwargs["forbidden_words"])


def _limit_frequency(kwargs: dict, others: Needs) -> bool:
    if kwargs["relation"] != "less than":
        return True
    return others.all_text.lower().count(kwargs["keyword"].strip().lower()) < kwargs["frequency"]


def _limit_letter(kwargs: dict, others: Needs) -> bool:
    if kwargs["let_relation"] != "less than":
        return True
    return others.all_text.lower().count(kwargs["letter"].strip().lower()) < kwargs["let_frequency"]


def _limit_capital_words(kwargs: dict, others: Needs) -> bool:
    return kwargs["capital_relation"] != "less than" or _caps_in(others.all_text) < kwargs["capital_frequency"]


def _limit_number_words(kwargs: dict, others: Needs) -> bool:
    return kwargs["relation"] != "less than" or others.words < kwargs["num_words"]


def _limit_number_sentences(kwargs: dict, others: Needs) -> bool:
    return kwargs["relation"] != "less than" or others.sentences < kwargs["num_sentences"]


def _limit_lowercase(kwargs: dict, others: Needs) -> bool:
    return others.exact == others.exact.lower()


def _limit_capital(kwargs: dict, others: Needs) -> bool:
    return others.exact == others.exact.upper()


# needs


def text_needs(text: str, *, exact: bool = False, sentences: int = 0) -> Needs:
    return Needs(text="" if exact else text, exact=text if exact else "", words=_words_in(text), sentences=sentences)


def _needs_frequency(kwargs: dict) -> Needs:
    if kwargs["relation"] == "less than":
        return Needs()
    return text_needs(" ".join([kwargs["keyword"]] * kwargs["frequency"]))


def _needs_letter(kwargs: dict) -> Needs:
    return Needs(words=kwargs["let_frequency"] if kwargs["let_relation"] == "at least" else 0)


def _needs_number_words(kwargs: dict) -> Needs:
    if kwargs["relation"] == "less than":
        return Needs()
    return Needs(words=kwargs["num_words"], sentences=math.ceil(kwargs["num_words"] / 30))


def _needs_number_sentences(kwargs: dict) -> Needs:
    if kwargs["relation"] == "less than":
        return Needs()
    return Needs(words=4 * kwargs["num_sentences"], sentences=kwargs["num_sentences"])


def _needs_sections(kwargs: dict) -> Needs:
    headers = " ".join(f"{kwargs['section_spliter']} {i}" for i in range(1, kwargs["num_sections"] + 1))
    return Needs(exact=headers, words=8 * kwargs["num_sections"], sentences=kwargs["num_sections"])


# rtt's further kinds (rtt.constraints.extended): samplers


def _range(low_key: str, high_key: str, ranges: tuple[tuple[int, int], ...]) -> Sampler:
    """{low_key: low, high_key: high}, one of the (low, high) ranges."""

    def sample(ctx: Context, rng: random.Random) -> dict:
        low, high = rng.choice(ranges)
        return {low_key: low, high_key: high}

    return sample


def _phrase_count(ctx: Context, rng: random.Random) -> dict:
    low, high = rng.choice(PHRASE_COUNTS)
    return {"phrase": rng.choice(ctx.words), "min_count": low, "max_count": high}


def _start_phrase(ctx: Context, rng: random.Random) -> dict:
    if rng.random() < 0.35:
        return {"phrase": rng.choice(ctx.words).capitalize()}
    return {"phrase": rng.choice(START_PHRASES)}


def _phrases_in_order(ctx: Context, rng: random.Random) -> dict:
    """2 or 3 of the topic's words, none inside another ("sun", "sunflower"): a mention of the
    longer one mentions the shorter one, which could then never come after it."""
    chosen: list[str] = []
    for word in rng.sample(ctx.words, len(ctx.words)):
        if not any(word in other or other in word for other in chosen):
            chosen.append(word)
    return {"phrases": chosen[: rng.choice((2, 2, 3))]}


def _json_keys(ctx: Context, rng: random.Random) -> dict:
    """A topic word and one or two generic keys ("tips", "summary")."""
    return {"keys": [rng.choice(ctx.words), *rng.sample(JSON_KEYS, rng.choice((1, 1, 2)))]}


def _forbidden_characters(ctx: Context, rng: random.Random) -> dict:
    return {"characters": "".join(rng.sample(FORBIDDEN_CHARACTERS, rng.choice((1, 1, 2))))}


def _table_hints(kwargs: dict, ctx: Context, rng: random.Random, allowed: Callable[[str], bool]) -> dict:
    """Column names: a topic word (what the rows are) and generic ones, each allowed by the
    prompt's other items."""
    generic = [c for c in rng.sample(TABLE_COLUMNS, len(TABLE_COLUMNS)) if allowed(c)]
    topical = [w.capitalize() for w in rng.sample(ctx.words, len(ctx.words)) if allowed(w)]
    columns = (topical[:1] + generic)[: kwargs["num_columns"]]
    if len(columns) < kwargs["num_columns"]:
        return {"columns": f"{kwargs['num_columns']} columns"}
    return {"columns": "the columns " + quoted(columns, "and")}


# limits


def _limit_at_most(key: str, field: str) -> Callable[[dict, Needs], bool]:
    """The others need at most kwargs[key] words or sentences (field of Needs)."""
    return lambda kwargs, others: getattr(others, field) <= kwargs[key]


def _sentence_pieces(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+|\n", text)


def _limit_sentence_words(kwargs: dict, others: Needs) -> bool:
    return all(_words_in(piece) <= kwargs["max_words"] for piece in _sentence_pieces(others.all_text))


CHARACTERS_PER_WORD = 9
"""What a needed word costs in characters, spaces and markup included (a table, with its
separator row, costs the most)."""


def _limit_max_characters(kwargs: dict, others: Needs) -> bool:
    return CHARACTERS_PER_WORD * others.words <= kwargs["max_characters"]


def _limit_phrase_count(kwargs: dict, others: Needs) -> bool:
    return others.all_text.lower().count(kwargs["phrase"].strip().lower()) <= kwargs["max_count"]


def _limit_forbidden_phrases(kwargs: dict, others: Needs) -> bool:
    text = others.all_text.lower()
    return not any(phrase.lower() in text for phrase in kwargs["phrases"])


def _limit_no_digits(kwargs: dict, others: Needs) -> bool:
    return not any(c.isdigit() for c in others.all_text + others.marks)


def _limit_forbidden_characters(kwargs: dict, others: Needs) -> bool:
    return not set(kwargs["characters"]) & set(others.all_text + others.marks)


def _limit_ascii(kwargs: dict, others: Needs) -> bool:
    return (others.all_text + others.marks).isascii()


def _limit_line_length(kwargs: dict, others: Needs) -> bool:
    return all(len(line) <= kwargs["max_characters"] for line in others.all_text.splitlines())


# needs


def _needs_phrase_count(kwargs: dict) -> Needs:
    return text_needs(" ".join([kwargs["phrase"]] * kwargs["min_count"]))


def _needs_numbered(kwargs: dict) -> Needs:
    """Items of a number and two words; Punkt may end a sentence at every "2." (it does in
    capitals), so a list of n items may count as n + 1 sentences with the text after it."""
    return Needs(words=3 * kwargs["num_items"], sentences=kwargs["num_items"] + 1, marks="1.")


def _needs_table(kwargs: dict) -> Needs:
    """The table and a sentence after it (a reply does not end on a row)."""
    return Needs(words=(kwargs["num_rows"] + 1) * kwargs["num_columns"] + 4, sentences=1, marks="|-")


def _needs_json_keys(kwargs: dict) -> Needs:
    keys = " ".join(kwargs["keys"])
    return Needs(exact=keys, words=2 * len(kwargs["keys"]), marks='{}":,')


ID = {  # short names for the ids used in the tables below
    "no_comma": "punctuation:no_comma",
    "existence": "keywords:existence",
    "forbidden": "keywords:forbidden_words",
    "frequency": "keywords:frequency",
    "letter": "keywords:letter_frequency",
    "lowercase": "change_case:english_lowercase",
    "capital": "change_case:english_capital",
    "capital_words": "change_case:capital_word_frequency",
    "number_words": "length_constraints:number_words",
    "sentences": "length_constraints:number_sentences",
    "paragraphs": "length_constraints:number_paragraphs",
    "nth_paragraph": "length_constraints:nth_paragraph_first_word",
    "title": "detectable_format:title",
    "bullets": "detectable_format:number_bullet_lists",
    "highlights": "detectable_format:number_highlighted_sections",
    "sections": "detectable_format:multiple_sections",
    "json": "detectable_format:json_format",
    "constrained": "detectable_format:constrained_response",
    "postscript": "detectable_content:postscript",
    "placeholders": "detectable_content:number_placeholders",
    "end": "startend:end_checker",
    "quotation": "startend:quotation",
    "two_responses": "combination:two_responses",
    "repeat": "combination:repeat_prompt",
    "language": "language:response_language",
    # rtt's further kinds
    "words_between": "length:words_between",
    "sentences_between": "length:sentences_between",
    "paragraphs_between": "length:paragraphs_between",
    "sentence_words": "length:max_words_per_sentence",
    "max_characters": "length:max_characters",
    "phrase_count": "phrases:count",
    "forbidden_phrases": "phrases:forbidden",
    "start_with": "phrases:start_with",
    "in_order": "order:phrases_in_order",
    "numbered": "lists:numbered_items",
    "bullets_between": "lists:bullets_between",
    "table": "tables:markdown",
    "json_keys": "structure:json_keys",
    "xml": "structure:xml",
    "headings": "structure:markdown_headings",
    "no_digits": "chars:no_digits",
    "forbidden_chars": "chars:forbidden_characters",
    "ascii": "chars:ascii_only",
    "line_length": "chars:max_line_length",
}


def _ids(*names: str) -> frozenset[str]:
    return frozenset(ID[n] for n in names)


INSIDE_STRUCTURE = _ids(
    "existence",
    "forbidden",
    "frequency",
    "letter",
    "lowercase",
    "number_words",
    "placeholders",
    "language",
    "words_between",
    "max_characters",
    "phrase_count",
    "forbidden_phrases",
    "no_digits",
    "forbidden_chars",
    "ascii",
)
"""What fits inside the strings of a JSON object or the text of an XML document. Titles, markdown,
lists, tables, postscripts, start/end rules, section headers and phrase order do not; no_comma would
allow a single field only, english_capital upper-case keys; sentence counts and line lengths are not
about JSON; the two JSON kinds exclude each other."""


SPECS: dict[str, InstructionSpec] = {
    ID["no_comma"]: InstructionSpec(
        3,
        _constant(),
        (
            "Do not use any commas.",
            "Avoid commas entirely in your reply.",
            "Your reply must not contain a single comma.",
        ),
        limit=_limit_no_comma,
    ),
    ID["existence"]: InstructionSpec(
        3,
        _keywords,
        (
            "Include {keywords}.",
            "Make sure to use {keywords} somewhere in your reply.",
            "Mention {keywords} at least once.",
        ),
        needs=lambda kw: text_needs(" ".join(kw["keywords"])),
    ),
    ID["number_words"]: InstructionSpec(
        3,
        _number_words,
        ("Use {relation} {num_words} words in total.", "Your reply should be {relation} {num_words} words long."),
        needs=_needs_number_words,
        limit=_limit_number_words,
    ),
    ID["lowercase"]: InstructionSpec(
        2,
        _constant(),
        (
            "Write everything in lowercase letters, with no capital letters.",
            "Use only lowercase letters; no capitals anywhere.",
        ),
        limit=_limit_lowercase,
    ),
    ID["end"]: InstructionSpec(
        2,
        _one_of("end_phrase", END_PHRASES),
        (
            'Your reply must end with the exact words "{end_phrase}" and nothing after them.',
            'Your very last words must be "{end_phrase}", with nothing after them.',
        ),
        needs=lambda kw: text_needs(kw["end_phrase"], sentences=_sentences_in(kw["end_phrase"])),
    ),
    ID["title"]: InstructionSpec(
        2,
        _constant(),
        (
            "Give your answer a title in double angular brackets, like <<my title>>.",
            "Put a title at the top, wrapped in double angular brackets such as <<a good day>>.",
        ),
        needs=lambda kw: Needs(words=3, marks="<>"),
    ),
    ID["postscript"]: InstructionSpec(
        2,
        lambda ctx, rng: {"postscript_marker": "P.S." if rng.random() < 0.7 else "P.P.S"},
        (
            'After your main text, add a short postscript beginning with "{postscript_marker}".',
            'Finish with a short postscript on its own line that begins with "{postscript_marker}".',
        ),
        needs=lambda kw: Needs(text=kw["postscript_marker"], words=5, sentences=2),
    ),
    ID["forbidden"]: InstructionSpec(
        1,
        _forbidden,
        ("Do not use {forbidden_words}.", "Avoid {forbidden_words} completely.", "Never write {forbidden_words}."),
        limit=_limit_forbidden,
    ),
    ID["frequency"]: InstructionSpec(
        1,
        _frequency,
        (
            'Use the word "{keyword}" {relation} {frequency} times.',
            'The word "{keyword}" should appear {relation} {frequency} times in your reply.',
        ),
        needs=_needs_frequency,
        limit=_limit_frequency,
    ),
    ID["capital"]: InstructionSpec(
        1,
        _constant(),
        ("Write everything in capital letters.", "Write your whole reply in uppercase English letters."),
        needs=lambda kw: Needs(words=10),  # langdetect, which the checker consults, is unsure of short all-caps text
        limit=_limit_capital,
    ),
    ID["quotation"]: InstructionSpec(
        1,
        _constant(),
        (
            "Enclose your whole reply in double quotation marks.",
            "Put your entire reply inside one pair of double quotation marks.",
        ),
        needs=lambda kw: Needs(marks='"'),
    ),
    ID["bullets"]: InstructionSpec(
        1,
        _one_of("num_bullets", (2, 3, 3, 4, 5)),
        (
            "Use exactly {num_bullets} bullet points, each a line starting with *.",
            'Include a list of exactly {num_bullets} markdown bullet points (lines starting with "* ").',
        ),
        needs=lambda kw: Needs(words=2 * kw["num_bullets"], sentences=1, marks="*"),
    ),
    ID["letter"]: InstructionSpec(
        0.5,
        _letter,
        (
            'Use the letter "{letter}" {let_relation} {let_frequency} times.',
            'The letter "{letter}" should appear {let_relation} {let_frequency} times in your reply.',
        ),
        needs=_needs_letter,
        limit=_limit_letter,
    ),
    ID["sentences"]: InstructionSpec(
        0.6,
        _number_sentences,
        (
            "Write {relation} {num_sentences} sentences in total.",
            "Use {relation} {num_sentences} sentences in your reply.",
        ),
        needs=_needs_number_sentences,
        limit=_limit_number_sentences,
    ),
    ID["placeholders"]: InstructionSpec(
        0.5,
        _one_of("num_placeholders", (2, 2, 3, 4)),
        (
            "Leave at least {num_placeholders} fill-in spots in square brackets, such as [name].",
            "Leave at least {num_placeholders} blanks for the reader to fill in, "
            "written in square brackets like [date].",
        ),
        needs=lambda kw: Needs(words=kw["num_placeholders"], marks="[]"),
    ),
    ID["highlights"]: InstructionSpec(
        0.5,
        _one_of("num_highlights", (2, 2, 3, 4)),
        (
            "Emphasize at least {num_highlights} key phrases with single asterisks, like *this*.",
            "Mark at least {num_highlights} important parts with single asterisks, for example *key idea*.",
        ),
        needs=lambda kw: Needs(words=kw["num_highlights"], marks="*"),
    ),
    ID["paragraphs"]: InstructionSpec(
        0.4,
        _one_of("num_paragraphs", (2, 3, 3, 4, 5)),
        (
            "Write exactly {num_paragraphs} paragraphs, separated from each other by a line containing only ***.",
            "Split your reply into exactly {num_paragraphs} paragraphs and put the markdown divider *** between them.",
        ),
        needs=lambda kw: Needs(words=8 * kw["num_paragraphs"], sentences=kw["num_paragraphs"], marks="*"),
    ),
    ID["nth_paragraph"]: InstructionSpec(
        0.25,
        _nth_paragraph,
        (
            "Write exactly {num_paragraphs} paragraphs separated by blank lines, and start the {nth_ordinal} "
            'paragraph with the word "{first_word}".',
            "Use {num_paragraphs} paragraphs with a blank line between them; paragraph {nth_paragraph} must begin "
            'with the word "{first_word}".',
        ),
        needs=lambda kw: Needs(text=kw["first_word"], words=8 * kw["num_paragraphs"], sentences=kw["num_paragraphs"]),
    ),
    ID["sections"]: InstructionSpec(
        0.3,
        lambda ctx, rng: {"section_spliter": rng.choice(SECTION_SPLITTERS), "num_sections": rng.choice((2, 3, 3, 4))},
        (
            "Organize your reply into {num_sections} sections, "
            'each beginning with a header line "{section_spliter} N", '
            "N being the section number.",
            'Use {num_sections} numbered sections, starting them with "{section_spliter} 1", "{section_spliter} 2" '
            "and so on.",
        ),
        needs=_needs_sections,
    ),
    ID["capital_words"]: InstructionSpec(
        0.3,
        _capital_words,
        (
            "Use {capital_relation} {capital_frequency} words written entirely in capital letters.",
            "Include {capital_relation} {capital_frequency} all-caps words.",
        ),
        needs=lambda kw: Needs(words=kw["capital_frequency"] if kw["capital_relation"] == "at least" else 0),
        limit=_limit_capital_words,
    ),
    ID["json"]: InstructionSpec(
        0.25,
        _constant(),
        (
            "Format your entire reply as valid JSON.",
            "Reply only with a JSON object, optionally inside a ```json code block.",
        ),
        needs=lambda kw: Needs(words=2, marks='{}":'),
        only_with=INSIDE_STRUCTURE,
    ),
    ID["constrained"]: InstructionSpec(
        0.25,
        _constant(),
        (
            'Give your reason in a sentence or two, then include one of these exact phrases: "My answer is yes.", '
            '"My answer is no.", or "My answer is maybe."',
            'Say what you think in a few words and settle it with one of these exact sentences: "My answer is yes.", '
            '"My answer is no.", "My answer is maybe."',
        ),
        needs=lambda kw: text_needs(CONSTRAINED_OPTIONS[1], exact=True, sentences=1),
        # a short verdict, not a document
        only_with=_ids(
            "no_comma",
            "existence",
            "forbidden",
            "frequency",
            "letter",
            "title",
            "number_words",
            "sentences",
            "end",
            "postscript",
            "quotation",
            "sentence_words",
            "max_characters",
            "forbidden_phrases",
            "no_digits",
            "forbidden_chars",
            "ascii",
        ),
        tasks=QUESTIONS,
    ),
    ID["two_responses"]: InstructionSpec(
        0.25,
        _constant(),
        (
            "Write two different answers and put a line of six asterisks (******) between them.",
            "Write two distinct versions of your answer and separate them with ******.",
        ),
        needs=lambda kw: Needs(words=8, sentences=2, marks="*"),
        # rules about the whole text: counts and start/end rules would be ambiguous across two answers,
        # and "***" dividers clash with "******"
        only_with=_ids(
            "no_comma",
            "existence",
            "forbidden",
            "title",
            "lowercase",
            "capital",
            "language",
            "forbidden_phrases",
            "no_digits",
            "forbidden_chars",
            "ascii",
            "line_length",
        ),
    ),
    ID["repeat"]: InstructionSpec(
        0.3,
        lambda ctx, rng: {"prompt_to_repeat": ctx.task},
        (
            "Start by restating the request above exactly as written, with nothing before it; then answer it. "
            "Do not restate these instructions.",
            "Begin by copying the request above exactly as written (without these instructions), then answer it.",
        ),
        needs=lambda kw: text_needs(kw["prompt_to_repeat"], sentences=_sentences_in(kw["prompt_to_repeat"])),
        # the reply starts with the request: no quotation, JSON, case change, other language, opening
        # phrase or paragraph/section layout
        only_with=_ids(
            "no_comma",
            "existence",
            "forbidden",
            "frequency",
            "letter",
            "title",
            "number_words",
            "end",
            "postscript",
            "bullets",
            "highlights",
            "placeholders",
            "words_between",
            "phrase_count",
            "forbidden_phrases",
            "numbered",
            "bullets_between",
            "no_digits",
            "forbidden_chars",
            "ascii",
        ),
    ),
    ID["language"]: InstructionSpec(
        0.25,
        _one_of("language", LANGUAGES),
        ("Write your entire reply in {language}, with no other language.", "Respond only in {language}."),
        needs=lambda kw: Needs(words=14, sentences=2),
    ),
    # rtt's further kinds
    ID["words_between"]: InstructionSpec(
        1,
        _range("min_words", "max_words", WORD_RANGES),
        (
            "Write between {min_words} and {max_words} words.",
            "Keep your reply between {min_words} and {max_words} words long.",
        ),
        needs=lambda kw: Needs(words=kw["min_words"], sentences=math.ceil(kw["min_words"] / 30)),
        limit=_limit_at_most("max_words", "words"),
    ),
    ID["start_with"]: InstructionSpec(
        1,
        _start_phrase,
        (
            'Start your reply with "{phrase}".',
            'The first words of your reply must be "{phrase}".',
            'Open your reply with "{phrase}", with nothing before it.',
        ),
        needs=lambda kw: text_needs(kw["phrase"]),
    ),
    ID["forbidden_phrases"]: InstructionSpec(
        0.8,
        lambda ctx, rng: {"phrases": rng.sample(FORBIDDEN_PHRASES, rng.choice((1, 2, 2)))},
        ("Avoid {phrases} entirely.", "Keep {phrases} out of your reply."),
        limit=_limit_forbidden_phrases,
    ),
    ID["numbered"]: InstructionSpec(
        0.8,
        _one_of("num_items", (3, 3, 4, 5)),
        (
            "Include a numbered list of exactly {num_items} items, numbered 1., 2., 3. and so on.",
            "Give exactly {num_items} points as a numbered list (1., 2., ...).",
        ),
        needs=_needs_numbered,
    ),
    ID["sentences_between"]: InstructionSpec(
        0.6,
        _range("min_sentences", "max_sentences", SENTENCE_RANGES),
        (
            "Write between {min_sentences} and {max_sentences} sentences.",
            "Use at least {min_sentences} and at most {max_sentences} sentences.",
        ),
        needs=lambda kw: Needs(words=4 * kw["min_sentences"], sentences=kw["min_sentences"]),
        limit=_limit_at_most("max_sentences", "sentences"),
    ),
    ID["phrase_count"]: InstructionSpec(
        0.6,
        _phrase_count,
        (
            'Use the word "{phrase}" at least {min_count} and at most {max_count} times.',
            'Mention "{phrase}" between {min_count} and {max_count} times.',
        ),
        needs=_needs_phrase_count,
        limit=_limit_phrase_count,
    ),
    ID["bullets_between"]: InstructionSpec(
        0.6,
        _range("min_bullets", "max_bullets", BULLET_RANGES),
        (
            'Include between {min_bullets} and {max_bullets} bullet points, each a line starting with "- ".',
            "Use a bulleted list of {min_bullets} to {max_bullets} items, each on its own line starting with a dash.",
        ),
        needs=lambda kw: Needs(words=2 * kw["min_bullets"], sentences=1, marks="-"),
    ),
    ID["no_digits"]: InstructionSpec(
        0.6,
        _constant(),
        ("Do not use any digits; write numbers out in words.", "Your reply must not contain a single digit."),
        limit=_limit_no_digits,
    ),
    ID["forbidden_chars"]: InstructionSpec(
        0.6,
        _forbidden_characters,
        ("Do not use {characters} anywhere in your reply.", "Avoid {characters} completely."),
        limit=_limit_forbidden_characters,
    ),
    ID["paragraphs_between"]: InstructionSpec(
        0.5,
        _range("min_paragraphs", "max_paragraphs", PARAGRAPH_RANGES),
        (
            "Write between {min_paragraphs} and {max_paragraphs} paragraphs, separated by blank lines.",
            "Use {min_paragraphs} to {max_paragraphs} paragraphs with a blank line between them.",
        ),
        needs=lambda kw: Needs(words=8 * kw["min_paragraphs"], sentences=kw["min_paragraphs"]),
    ),
    ID["sentence_words"]: InstructionSpec(
        0.5,
        _one_of("max_words", (12, 15, 15, 20, 25)),
        ("Keep every sentence to {max_words} words or fewer.", "No sentence may be longer than {max_words} words."),
        limit=_limit_sentence_words,
    ),
    ID["max_characters"]: InstructionSpec(
        0.5,
        _one_of("max_characters", (400, 500, 600, 800, 1000, 1200)),
        (
            "Your reply must not exceed {max_characters} characters, spaces included.",
            "Use at most {max_characters} characters in total.",
        ),
        limit=_limit_max_characters,
    ),
    ID["in_order"]: InstructionSpec(
        0.5,
        _phrases_in_order,
        ("Mention {phrases} in this order.", "Bring up {phrases} in exactly that order (first mentions count)."),
        needs=lambda kw: text_needs(" ".join(kw["phrases"])),
    ),
    ID["headings"]: InstructionSpec(
        0.5,
        _one_of("min_headings", (2, 2, 3)),
        (
            "Use at least {min_headings} markdown headings (lines starting with #).",
            'Organize your reply under at least {min_headings} markdown headings, each a line starting with "#".',
        ),
        needs=lambda kw: Needs(words=6 * kw["min_headings"], sentences=kw["min_headings"], marks="#"),
    ),
    ID["table"]: InstructionSpec(
        0.4,
        lambda ctx, rng: {"num_rows": rng.choice((2, 3, 3, 4)), "num_columns": rng.choice((2, 3))},
        (
            "Include a markdown table with {columns}: a header row, then {num_rows} rows.",
            "Add a markdown table about {topic} with {columns}, and {num_rows} rows below its header row.",
        ),
        needs=_needs_table,
        hints=_table_hints,
    ),
    ID["ascii"]: InstructionSpec(
        0.4,
        _constant(),
        (
            "Use only plain ASCII characters: no accents, emoji or curly quotes.",
            "Stick to plain ASCII characters in your reply.",
        ),
        limit=_limit_ascii,
    ),
    ID["line_length"]: InstructionSpec(
        0.4,
        _one_of("max_characters", (60, 70, 80, 100)),
        (
            "Keep every line at most {max_characters} characters long, breaking lines where needed.",
            "No line of your reply may be longer than {max_characters} characters.",
        ),
        limit=_limit_line_length,
    ),
    ID["json_keys"]: InstructionSpec(
        0.3,
        _json_keys,
        ("Reply only with a JSON object that has {keys}.", "Format your whole reply as one JSON object with {keys}."),
        needs=_needs_json_keys,
        only_with=INSIDE_STRUCTURE,
    ),
    ID["xml"]: InstructionSpec(
        0.3,
        _one_of("root", XML_ROOTS),
        (
            "Format your whole reply as a well-formed XML document whose root element is <{root}>.",
            "Reply only with XML: a single <{root}> element wrapping everything.",
        ),
        needs=lambda kw: Needs(exact=kw["root"], words=2, marks="</>"),
        only_with=INSIDE_STRUCTURE | _ids("line_length"),  # XML text may break lines
    ),
}

CONFLICTS: tuple[tuple[str, str, str], ...] = (
    (ID["lowercase"], ID["capital"], "opposite cases"),
    (ID["lowercase"], ID["capital_words"], "no capital letters at all vs a count of all-caps words"),
    (ID["capital"], ID["capital_words"], "every word is capital: a cap contradicts it, a floor is void"),
    (ID["lowercase"], ID["constrained"], 'the phrases are case-sensitive ("My answer is yes.")'),
    (ID["capital"], ID["constrained"], 'the phrases are case-sensitive ("My answer is yes.")'),
    (ID["quotation"], ID["end"], "both claim the last character"),
    (ID["quotation"], ID["postscript"], "the P.S. would follow the closing quote"),
    (ID["end"], ID["postscript"], "both claim the last line"),
    (ID["paragraphs"], ID["nth_paragraph"], "paragraphs split by *** vs by blank lines: two different counts"),
    (ID["sections"], ID["nth_paragraph"], "section headers open the paragraphs whose first word is prescribed"),
    (ID["language"], ID["lowercase"], "english_lowercase requires English text"),
    (ID["language"], ID["capital"], "english_capital requires English text"),
    (ID["language"], ID["existence"], "English keywords in a non-English reply"),
    (ID["language"], ID["frequency"], "an English keyword in a non-English reply"),
    (ID["language"], ID["forbidden"], "English forbidden words are void in a non-English reply"),
    (ID["language"], ID["end"], "an English closing phrase"),
    (ID["language"], ID["nth_paragraph"], "an English first word"),
    (ID["language"], ID["sections"], "English section headers"),
    (ID["language"], ID["letter"], "letter counts aim at English spelling"),
    # rtt's further kinds
    (ID["words_between"], ID["number_words"], "two word counts for one reply"),
    (ID["sentences_between"], ID["sentences"], "two sentence counts for one reply"),
    (ID["paragraphs_between"], ID["paragraphs"], "paragraphs split by blank lines vs by ***"),
    (ID["paragraphs_between"], ID["nth_paragraph"], "two paragraph counts for one reply"),
    (ID["bullets_between"], ID["bullets"], "two counts of the same bullets"),
    (ID["numbered"], ID["bullets"], "two lists: which items belong to which count"),
    (ID["numbered"], ID["bullets_between"], "two lists: which items belong to which count"),
    (ID["headings"], ID["sections"], "two kinds of section headers"),
    (ID["sentence_words"], ID["sentences_between"], "caps on sentences and on words per sentence bound the length"),
    (ID["sentence_words"], ID["bullets"], "Punkt reads list items without a full stop as one sentence"),
    (ID["sentence_words"], ID["bullets_between"], "Punkt reads list items without a full stop as one sentence"),
    (ID["sentence_words"], ID["numbered"], "Punkt reads list items without a full stop as one sentence"),
    (ID["sentence_words"], ID["table"], "Punkt reads a table's rows as one sentence"),
    (ID["start_with"], ID["quotation"], "the opening quote would come first"),
    (ID["start_with"], ID["title"], "the title would come first"),
    (ID["numbered"], ID["no_digits"], "list numbers are digits"),
    (ID["ascii"], ID["language"], "Spanish, French, German, Italian and Portuguese have accents"),
    (ID["language"], ID["start_with"], "an English opening phrase"),
    (ID["language"], ID["phrase_count"], "an English word in a non-English reply"),
    (ID["language"], ID["in_order"], "English words in a non-English reply"),
    (ID["language"], ID["forbidden_phrases"], "English phrases are void in a non-English reply"),
    (ID["language"], ID["table"], "English column names"),
)

KWARG_CONFLICTS: tuple[tuple[str, str, Callable[[dict, dict], bool], str], ...] = (
    (ID["constrained"], ID["number_words"], lambda a, b: b["relation"] == "at least", "a verdict is short"),
    (ID["constrained"], ID["sentences"], lambda a, b: b["relation"] == "at least", "a verdict is short"),
    (
        ID["title"],
        ID["nth_paragraph"],
        lambda a, b: b["nth_paragraph"] == 1,
        "the title would be the first word of paragraph 1",
    ),
    (
        ID["start_with"],
        ID["nth_paragraph"],
        lambda a, b: b["nth_paragraph"] == 1,
        "the first word of paragraph 1 is prescribed twice",
    ),
    (
        ID["start_with"],
        ID["in_order"],
        lambda a, b: any(p.lower() in a["phrase"].lower() for p in b["phrases"][1:]),
        "a later phrase of the order would open the reply",
    ),
    (
        ID["sentence_words"],
        ID["sentences"],
        lambda a, b: b["relation"] == "less than",
        "caps on sentences and on words per sentence bound the length",
    ),
)
"""(id a, id b, conflicts(kwargs of a, kwargs of b), why)."""


def _conflicting_ids() -> frozenset[frozenset[str]]:
    pairs = {frozenset({a, b}) for a, b, _ in CONFLICTS}
    for a, spec in SPECS.items():
        if spec.only_with is not None:
            pairs |= {frozenset({a, b}) for b in SPECS if b != a and b not in spec.only_with}
    return frozenset(pairs)


CONFLICTING_IDS = _conflicting_ids()
"""Id pairs never drawn together: `CONFLICTS` and the `only_with` lists."""

POOLS: dict[str, tuple[str, ...]] = {
    "ifeval": tuple(i for i in SPECS if i in INSTRUCTION_IDS and i in IFEVAL_IDS),
    "all": tuple(i for i in SPECS if i in INSTRUCTION_IDS),
}
"""The ids drawn for each `kinds`: IFEval's, or every spec whose checker is registered."""
POOL = POOLS["all"]
WEIGHTS = {i: SPECS[i].weight for i in POOL}
