"""The instruction registry: id -> (checker, kwargs spec, rubric-item template), and the two
entry points `check` and `describe` that validate kwargs against it.

IFEval's 25 ids come first, with IFEval's kwargs names (rtt.constraints.checkers); then our own
further kinds (rtt.constraints.extended). Keys whose value is None count as absent (the Hugging Face
copy of IFEval pads every kwargs dict with nulls for the keys it does not use).
"""

from __future__ import annotations

from rtt.constraints import checkers
from rtt.constraints.extended import EXTENDED
from rtt.constraints.instruction import RELATIONS, Instruction
from rtt.constraints.spans import Verdict

REGISTRY: dict[str, Instruction] = {
    "punctuation:no_comma": Instruction(checkers.no_comma, {}, "The response does not contain any commas."),
    "keywords:existence": Instruction(
        checkers.keywords_existence,
        {"keywords": list[str]},
        "The response includes each of these words: {keywords}.",
    ),
    "keywords:forbidden_words": Instruction(
        checkers.forbidden_words,
        {"forbidden_words": list[str]},
        "The response uses none of these words: {forbidden_words}.",
    ),
    "keywords:frequency": Instruction(
        checkers.keyword_frequency,
        {"keyword": str, "frequency": int, "relation": RELATIONS},
        'The word "{keyword}" appears {relation} {frequency} times in the response.',
    ),
    "change_case:english_lowercase": Instruction(
        checkers.english_lowercase,
        {},
        "The entire response is in lowercase letters, with no capital letters.",
    ),
    "change_case:english_capital": Instruction(
        checkers.english_capital, {}, "The entire response is in capital letters."
    ),
    "length_constraints:number_words": Instruction(
        checkers.number_words,
        {"num_words": int, "relation": RELATIONS},
        "The response has {relation} {num_words} words.",
    ),
    "detectable_format:title": Instruction(
        checkers.title,
        {},
        "The response has a title wrapped in double angular brackets, such as <<my title>>.",
    ),
    "startend:end_checker": Instruction(
        checkers.end_checker,
        {"end_phrase": str},
        'The response ends with the exact phrase "{end_phrase}", with nothing after it.',
    ),
    "detectable_content:postscript": Instruction(
        checkers.postscript,
        {"postscript_marker": str},
        'The response ends with a postscript starting with "{postscript_marker}".',
    ),
    "startend:quotation": Instruction(
        checkers.quotation, {}, "The entire response is wrapped in double quotation marks."
    ),
    "detectable_format:number_bullet_lists": Instruction(
        checkers.number_bullet_lists,
        {"num_bullets": int},
        "The response has exactly {num_bullets} markdown bullet points (lines starting with * or -).",
    ),
    "keywords:letter_frequency": Instruction(
        checkers.letter_frequency,
        {"letter": str, "let_frequency": int, "let_relation": RELATIONS},
        'The letter "{letter}" appears {let_relation} {let_frequency} times in the response.',
    ),
    "length_constraints:number_paragraphs": Instruction(
        checkers.number_paragraphs,
        {"num_paragraphs": int},
        "The response has exactly {num_paragraphs} paragraphs, separated by the markdown divider ***.",
    ),
    "length_constraints:nth_paragraph_first_word": Instruction(
        checkers.nth_paragraph_first_word,
        {"num_paragraphs": int, "nth_paragraph": int, "first_word": str},
        "The response has exactly {num_paragraphs} paragraphs, separated by blank lines, and "
        'paragraph {nth_paragraph} starts with the word "{first_word}".',
    ),
    "detectable_content:number_placeholders": Instruction(
        checkers.number_placeholders,
        {"num_placeholders": int},
        "The response has at least {num_placeholders} placeholders in square brackets, such as [address].",
    ),
    "detectable_format:constrained_response": Instruction(
        checkers.constrained_response,
        {},
        'The response answers with one of "My answer is yes.", "My answer is no.", "My answer is maybe.".',
    ),
    "detectable_format:number_highlighted_sections": Instruction(
        checkers.number_highlighted_sections,
        {"num_highlights": int},
        "The response highlights at least {num_highlights} sections with markdown, such as *highlighted section*.",
    ),
    "detectable_format:multiple_sections": Instruction(
        checkers.multiple_sections,
        {"section_spliter": str, "num_sections": int},
        'The response has at least {num_sections} sections, each starting with "{section_spliter} X", '
        "X being the section number.",
    ),
    "detectable_format:json_format": Instruction(
        checkers.json_format,
        {},
        "The entire response is valid JSON, optionally wrapped in ``` markdown fences.",
    ),
    "combination:two_responses": Instruction(
        checkers.two_responses,
        {},
        "The response gives two different answers, separated by six asterisks: ******.",
    ),
    "language:response_language": Instruction(
        checkers.response_language,
        {"language": tuple(checkers.LANGUAGES)},
        lambda kwargs: f"The entire response is in {checkers.LANGUAGES[kwargs['language']]}, with no other language.",
    ),
    "length_constraints:number_sentences": Instruction(
        checkers.number_sentences,
        {"num_sentences": int, "relation": RELATIONS},
        "The response has {relation} {num_sentences} sentences.",
    ),
    "change_case:capital_word_frequency": Instruction(
        checkers.capital_word_frequency,
        {"capital_frequency": int, "capital_relation": RELATIONS},
        "The response has {capital_relation} {capital_frequency} words in all capital letters.",
    ),
    "combination:repeat_prompt": Instruction(
        checkers.repeat_prompt,
        {"prompt_to_repeat": str},
        "The response first repeats the request word for word, then answers it.",
    ),
}

IFEVAL_IDS: tuple[str, ...] = tuple(REGISTRY)
"""IFEval's 25 instruction ids."""
REGISTRY.update(EXTENDED)
INSTRUCTION_IDS: tuple[str, ...] = tuple(REGISTRY)
"""Every registered id: IFEval's, then our own further kinds."""


def _fits(value: object, kind: object) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is str:
        return isinstance(value, str)
    if kind == list[str]:
        return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    return isinstance(value, str) and value in kind  # a tuple of allowed strings


def kind_name(kind: object) -> str:
    """A kwargs type as people read it: int, str, list[str], one of 'a', 'b'."""
    if isinstance(kind, tuple):
        return "one of " + ", ".join(repr(k) for k in kind)
    return "list[str]" if kind == list[str] else kind.__name__


def _validated(instruction_id: str, kwargs: dict) -> tuple[Instruction, dict]:
    """The registry entry and kwargs without None values; ValueError naming id and key."""
    if instruction_id not in REGISTRY:
        raise ValueError(f"unknown instruction id {instruction_id!r}")
    entry = REGISTRY[instruction_id]
    if not isinstance(kwargs, dict):
        raise ValueError(f"{instruction_id}: kwargs must be a dict, got {type(kwargs).__name__}")
    given = {k: v for k, v in kwargs.items() if v is not None}
    unexpected = sorted(given.keys() - entry.kwargs.keys())
    if unexpected:
        raise ValueError(f"{instruction_id}: unexpected kwargs {', '.join(map(repr, unexpected))}")
    for key, kind in entry.kwargs.items():
        if key not in given:
            raise ValueError(f"{instruction_id}: missing kwarg {key!r}")
        if not _fits(given[key], kind):
            raise ValueError(f"{instruction_id}: kwarg {key!r} must be {kind_name(kind)}, got {given[key]!r}")
    return entry, given


def _run(instruction_id: str, entry: Instruction, given: dict, response: str) -> Verdict:
    try:
        return entry.checker(response, **given)
    except ValueError as err:  # a kwargs value out of range, e.g. min_words above max_words
        raise ValueError(f"{instruction_id}: {err}") from err


def check(instruction_id: str, kwargs: dict, response: str, prompt: str | None = None) -> Verdict:
    """Grade `response` on one instruction; the verdict carries the deciding character spans.

    `prompt` is for checkers that need the user's message; none of the current ones do
    (combination:repeat_prompt takes it as its kwarg prompt_to_repeat, as IFEval does).
    """
    entry, given = _validated(instruction_id, kwargs)
    return _run(instruction_id, entry, given, response)


def _quoted(words: list[str]) -> str:
    return ", ".join(f'"{w}"' for w in words)


def describe(instruction_id: str, kwargs: dict) -> str:
    """The rubric item in natural language, e.g. "The response does not contain any commas.".

    Validates the kwargs fully, so that importers reject a bad item up front: types and names
    here, value ranges (a min above its max) by grading an empty response once.
    """
    entry, given = _validated(instruction_id, kwargs)
    _run(instruction_id, entry, given, "")
    shown = {k: _quoted(v) if isinstance(v, (list, tuple)) else v for k, v in given.items()}
    return entry.template(shown) if callable(entry.template) else entry.template.format(**shown)
