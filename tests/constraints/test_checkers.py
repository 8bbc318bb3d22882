import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtt.constraints import IFEVAL_IDS, Verdict, check, describe


def spans_text(response, verdict):
    return [response[a:b] for a, b in verdict.spans]


# (id, kwargs, response, passed, spans) — spans worked out by hand
CASES = [
    # no_comma: every comma on fail
    ("punctuation:no_comma", {}, "Hi there.", True, []),
    ("punctuation:no_comma", {}, "a,b, c", False, [(1, 2), (3, 4)]),
    ("punctuation:no_comma", {}, ",,", False, [(0, 1), (1, 2)]),  # touching spans stay apart
    # existence: every occurrence of every found keyword, pass or fail
    ("keywords:existence", {"keywords": ["sea", "fish"]}, "The Sea has fish. sea!", True, [(4, 7), (12, 16), (18, 21)]),
    ("keywords:existence", {"keywords": ["sea", "sky"]}, "Seaside", False, [(0, 3)]),
    ("keywords:existence", {"keywords": ["data", "database"]}, "a database", True, [(2, 10)]),  # merged
    ("keywords:existence", {"keywords": ["a.b"]}, "axb a.b", True, [(4, 7)]),  # literal, not a regex
    # forbidden_words: whole-word occurrences on fail
    ("keywords:forbidden_words", {"forbidden_words": ["very"]}, "Everything is fine", True, []),
    (
        "keywords:forbidden_words",
        {"forbidden_words": ["very", "nice"]},
        "Very nice, very.",
        False,
        [(0, 4), (5, 9), (11, 15)],
    ),
    # frequency: every occurrence, pass or fail
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "less than"}, "Cat naps.", True, [(0, 3)]),
    (
        "keywords:frequency",
        {"keyword": "cat", "frequency": 2, "relation": "less than"},
        "Cat, cats!",
        False,
        [(0, 3), (5, 8)],
    ),
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "at least"}, "one cat", False, [(4, 7)]),
    (
        "keywords:frequency",
        {"keyword": "cat", "frequency": 2, "relation": "at least"},
        "cat cat",
        True,
        [(0, 3), (4, 7)],
    ),
    # regression: the keyword is stripped, as IFEval's build_description does (found by
    # test_official_agreement.py); " cat " used to need the spaces around it
    (
        "keywords:frequency",
        {"keyword": " cat\t", "frequency": 2, "relation": "at least"},
        "cat cats",
        True,
        [(0, 3), (4, 7)],
    ),
    ("keywords:frequency", {"keyword": "\ncat ", "frequency": 1, "relation": "less than"}, "A Cat.", False, [(2, 5)]),
    # english_lowercase: upper/titlecase characters on fail, whole response if no cased letter
    ("change_case:english_lowercase", {}, "the cat has been asleep on the sofa since this morning, 2 times!", True, []),
    ("change_case:english_lowercase", {}, "Hello World", False, [(0, 1), (6, 7)]),
    ("change_case:english_lowercase", {}, "123 !", False, [(0, 5)]),
    ("change_case:english_lowercase", {}, "", False, []),
    # english_capital: lower/titlecase characters on fail
    ("change_case:english_capital", {}, "THE CAT HAS BEEN ASLEEP ON THE SOFA SINCE THIS MORNING!", True, []),
    ("change_case:english_capital", {}, "ALL GOOD!", False, [(0, 9)]),  # langdetect: Catalan (IFEval too)
    ("change_case:english_capital", {}, "ALl gOOD", False, [(2, 3), (4, 5)]),
    ("change_case:english_capital", {}, "\u01c5X", False, [(0, 1)]),  # titlecase "Dž"
    # number_words: words past the limit ("less than"), every word ("at least")
    ("length_constraints:number_words", {"num_words": 3, "relation": "less than"}, "one two", True, []),
    (
        "length_constraints:number_words",
        {"num_words": 3, "relation": "less than"},
        "one, two. three four",
        False,
        [(10, 15), (16, 20)],
    ),
    ("length_constraints:number_words", {"num_words": 3, "relation": "at least"}, "a b c", True, []),
    ("length_constraints:number_words", {"num_words": 3, "relation": "at least"}, "hi, you!", False, [(0, 2), (4, 7)]),
    # title: the titles on pass
    ("detectable_format:title", {}, "<<Sea Song>>\nwaves", True, [(0, 12)]),
    ("detectable_format:title", {}, "<<  >> and <<\n>>", False, []),
    ("detectable_format:title", {}, "x <<A>> y\n<<B>>", True, [(2, 7), (10, 15)]),
    # end_checker: the matching tail on pass, a phrase-long tail on fail
    ("startend:end_checker", {"end_phrase": "Any questions?"}, "Hi. any QUESTIONS?  \n", True, [(4, 18)]),
    ("startend:end_checker", {"end_phrase": "Bye."}, '"Ok. bye."', True, [(5, 9)]),  # quotes stripped
    ("startend:end_checker", {"end_phrase": "Bye."}, "Bye. Ok then", False, [(8, 12)]),
    ("startend:end_checker", {"end_phrase": "Goodbye now."}, " Bye", False, [(1, 4)]),
    # postscript: the postscript line on pass
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi.\n\n  p. s. see you\nEnd", True, [(7, 20)]),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Hi.\nP.P.S later", True, [(4, 15)]),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi. PS bye", False, []),
    ("detectable_content:postscript", {"postscript_marker": "Note:"}, "x\nNOTE: y", True, [(2, 9)]),
    # regression: the marker is stripped first, as IFEval's build_description does, so a padded
    # " P.S. " still gets the lenient "P.S." pattern (found by test_official_agreement.py)
    ("detectable_content:postscript", {"postscript_marker": " P.S. "}, "Hi.\np. s. later", True, [(4, 15)]),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S\n"}, "Hi. p.p.s x", True, [(4, 11)]),
    # quotation: both quotes on pass, the non-quote ends on fail
    ("startend:quotation", {}, '  "Hello"\n', True, [(2, 3), (8, 9)]),
    ("startend:quotation", {}, ' "Hello', False, [(6, 7)]),
    ("startend:quotation", {}, "Hello", False, [(0, 1), (4, 5)]),
    ("startend:quotation", {}, ' " ', False, [(1, 2)]),
    ("startend:quotation", {}, "   ", False, []),
    # number_bullet_lists: every bullet line, pass or fail
    (
        "detectable_format:number_bullet_lists",
        {"num_bullets": 2},
        "Tips:\n* one\n  - two\n**bold**",
        True,
        [(6, 11), (14, 19)],
    ),
    ("detectable_format:number_bullet_lists", {"num_bullets": 3}, "* one\n* two", False, [(0, 5), (6, 11)]),
    # letter_frequency: every occurrence of the letter, any case, pass or fail
    (
        "keywords:letter_frequency",
        {"letter": "a", "let_frequency": 2, "let_relation": "at least"},
        "A cat.",
        True,
        [(0, 1), (3, 4)],
    ),
    (
        "keywords:letter_frequency",
        {"letter": "A", "let_frequency": 2, "let_relation": "less than"},
        "A cat.",
        False,
        [(0, 1), (3, 4)],
    ),
    ("keywords:letter_frequency", {"letter": "z", "let_frequency": 1, "let_relation": "at least"}, "A cat.", False, []),
    (
        "keywords:letter_frequency",
        {"letter": "ab", "let_frequency": 1, "let_relation": "less than"},
        "ab",
        True,
        [],
    ),  # not one character: never matches
    # number_paragraphs: the *** dividers; around a blank middle paragraph; the lone paragraph
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "One.\n***\nTwo.", True, [(5, 8)]),
    (
        "length_constraints:number_paragraphs",
        {"num_paragraphs": 2},
        "*** One. *** Two. ***",
        True,
        [(0, 3), (9, 12), (18, 21)],
    ),  # blank first and last pieces do not count
    (
        "length_constraints:number_paragraphs",
        {"num_paragraphs": 2},
        "One. *** *** Two.",
        False,
        [(5, 8), (9, 12)],
    ),  # an empty paragraph fails outright (IFEval)
    ("length_constraints:number_paragraphs", {"num_paragraphs": 3}, "One.\n***\nTwo.", False, [(5, 8)]),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, " One.\n\nTwo. ", False, [(1, 11)]),
    # nth_paragraph_first_word: the first word; the \n\n dividers on a wrong count
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "Hello"},
        'Hi.\n\n "Hello, you',
        True,
        [(7, 12)],
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "bye"},
        "Hi.\n\nBye",
        False,
        [(0, 2)],
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "bye"},
        "Hi.\n\nBye",
        False,
        [(3, 5)],
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "x"},
        "Hi.\n\nBye",
        False,
        [(3, 5), (5, 8)],
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "b"},
        "a\n\n\n\nb",
        False,
        [(1, 3), (3, 5)],
    ),  # IFEval indexes the raw pieces: piece 2 is blank
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 1, "nth_paragraph": 1, "first_word": "x"},
        "...",
        False,
        [(0, 3)],
    ),  # empty word
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 1, "nth_paragraph": 2, "first_word": "x"},
        "x",
        False,
        [(0, 1)],
    ),  # nth out of range
    # number_placeholders: every placeholder, pass or fail
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[a] and [b\n] [c]", True, [(0, 3), (13, 16)]),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name],", False, [(5, 11)]),
    # constrained_response: the option on pass
    ("detectable_format:constrained_response", {}, "  Well. My answer is maybe. ", True, [(8, 27)]),
    ("detectable_format:constrained_response", {}, "My answer is Yes.", False, []),
    # number_highlighted_sections: every counted highlight, pass or fail
    (
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 2},
        "*a* and **b c**",
        True,
        [(0, 3), (8, 15)],
    ),
    (
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 2},
        "* * and *x\ny* and ** **",
        False,
        [(12, 19)],
    ),  # blank ones and one across a newline do not count; "* and *" does (IFEval's regex)
    (
        "detectable_format:number_highlighted_sections",
        {"num_highlights": 3},
        "*a* ***c***",
        True,
        [(0, 3), (5, 10)],
    ),  # "***c***" counts twice, as in IFEval; spans merged
    # multiple_sections: every section header, pass or fail
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 2},
        "Section 1\nx\nSECTION 2\nSection 3 y",
        True,
        [(0, 9), (22, 31)],
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": " SECTION ", "num_sections": 2},
        "SECTION 1: a. SECTION two",
        False,
        [(0, 9)],
    ),
    # json_format: the JSON text on pass, the failing character on fail
    ("detectable_format:json_format", {}, ' ```json\n{"a": 1}\n``` ', True, [(9, 17)]),
    ("detectable_format:json_format", {}, "```JSON [1, 2]```", True, [(8, 14)]),
    ("detectable_format:json_format", {}, '{"a": 1,}', False, [(8, 9)]),
    ("detectable_format:json_format", {}, '{"a": 1', False, [(6, 7)]),  # ended early: the last character
    ("detectable_format:json_format", {}, "```\n```", False, []),
    # two_responses: the dividers; around a blank response; both identical responses
    ("combination:two_responses", {}, "A\n******\nB", True, [(2, 8)]),
    ("combination:two_responses", {}, "******A******B******", True, [(0, 6), (7, 13), (14, 20)]),
    ("combination:two_responses", {}, "A\n******\n A ", False, [(0, 1), (10, 11)]),
    ("combination:two_responses", {}, "A******\n******B", False, [(1, 7), (8, 14)]),
    ("combination:two_responses", {}, "A******B******C", False, [(1, 7), (8, 14)]),
    ("combination:two_responses", {}, " just one ", False, [(1, 9)]),
    # repeat_prompt: the repeated prefix on pass, the first differing character on fail
    ("combination:repeat_prompt", {"prompt_to_repeat": " Write a poem. "}, " write A POEM. Sure", True, [(1, 14)]),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a poem."}, "Write the poem.", False, [(6, 7)]),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a poem."}, " Write a\n", False, [(1, 8)]),
    # number_sentences (Punkt): sentences past the limit ("less than"), every sentence ("at least")
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "less than"},
        "One. Two. Three.",
        False,
        [(10, 16)],
    ),  # sentences (0,4) (5,9) (10,16); the third is past the limit
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": "less than"},
        "Dr. Smith came. He left.",
        True,
        [],
    ),  # "Dr." is an abbreviation: two sentences
    (
        "length_constraints:number_sentences",
        {"num_sentences": 2, "relation": "at least"},
        "Only one here.",
        False,
        [(0, 14)],
    ),
    ("length_constraints:number_sentences", {"num_sentences": 1, "relation": "at least"}, "", False, []),
    # capital_word_frequency (nltk.word_tokenize): every all-capitals token, pass or fail
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "at least"},
        'I said "HELLO" to NASA.',
        True,
        [(0, 1), (8, 13), (18, 22)],
    ),  # I, HELLO, NASA
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "less than"},
        "WE CAN'T stop.",
        False,
        [(0, 2), (3, 5), (5, 8)],
    ),  # WE, CA, N'T: word_tokenize splits CAN'T
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 1, "capital_relation": "less than"},
        "nothing Here",
        True,
        [],
    ),
    # response_language (langdetect, seed 0): the sentences in another language on fail
    ("language:response_language", {"language": "fr"}, "Le chat dort sur le canapé depuis ce matin.", True, []),
    (
        "language:response_language",
        {"language": "en"},
        "The market opens early. Le chat dort sur le canapé depuis ce matin. Nous irons au marché demain.",
        False,
        [(24, 67), (68, 96)],
    ),  # both French sentences; the English one is fine
    ("language:response_language", {"language": "de"}, "123 456", True, []),  # undetectable counts as followed
    # english_lowercase also asks for English
    ("change_case:english_lowercase", {}, "le chat dort sur le canapé depuis ce matin.", False, [(0, 43)]),
]


@pytest.mark.parametrize("instruction_id,kwargs,response,passed,spans", CASES)
def test_hand_cases(instruction_id, kwargs, response, passed, spans):
    assert check(instruction_id, kwargs, response) == Verdict(passed, spans)


def test_hand_cases_cover_every_ifeval_id():
    assert {c[0] for c in CASES} == set(IFEVAL_IDS)


def test_spans_point_at_the_deciding_text():
    verdict = check("keywords:forbidden_words", {"forbidden_words": ["very"]}, "It is VERY very good.")
    assert spans_text("It is VERY very good.", verdict) == ["VERY", "very"]
    response = "A note.\nP.S. call me"
    verdict = check("detectable_content:postscript", {"postscript_marker": "P.S."}, response)
    assert spans_text(response, verdict) == ["P.S. call me"]


def test_lowercasing_that_lengthens_keeps_offsets_on_the_original():
    # "İ".lower() is two characters; the span must still cover the original characters
    response = "İİ p.s. x"
    verdict = check("detectable_content:postscript", {"postscript_marker": "P.S."}, response)
    assert spans_text(response, verdict) == ["p.s. x"]
    verdict = check("startend:end_checker", {"end_phrase": "İ end"}, "Aİ END")
    assert verdict == Verdict(True, [(1, 6)])


def test_hf_style_none_kwargs_count_as_absent():
    kwargs = {"end_phrase": "bye", "num_words": None, "keywords": None}
    assert check("startend:end_checker", kwargs, "ok bye").passed


def test_describe_every_id():
    assert describe("punctuation:no_comma", {}) == "The response does not contain any commas."
    assert describe("length_constraints:number_words", {"num_words": 40, "relation": "less than"}) == (
        "The response has less than 40 words."
    )
    assert describe("keywords:existence", {"keywords": ["sea", "fish"]}) == (
        'The response includes each of these words: "sea", "fish".'
    )
    for instruction_id, kwargs, *_ in CASES:
        text = describe(instruction_id, kwargs)
        assert text.startswith("The ") and "{" not in text


# ---- bad input ----


@pytest.mark.parametrize(
    "instruction_id,kwargs,key",
    [
        ("keywords:existence", {}, "keywords"),
        ("keywords:existence", {"keywords": "sea"}, "keywords"),
        ("keywords:existence", {"keywords": ["sea", 3]}, "keywords"),
        ("keywords:frequency", {"keyword": "a", "frequency": "2", "relation": "at least"}, "frequency"),
        ("keywords:frequency", {"keyword": "a", "frequency": True, "relation": "at least"}, "frequency"),
        ("keywords:frequency", {"keyword": "a", "frequency": 2, "relation": "at most"}, "relation"),
        ("length_constraints:number_words", {"num_words": 2.0, "relation": "less than"}, "num_words"),
        ("startend:end_checker", {"end_phrase": None}, "end_phrase"),
        ("punctuation:no_comma", {"extra": 1}, "extra"),
        ("detectable_format:number_bullet_lists", {"num_bullets": 2, "bullets": 2}, "bullets"),
        ("keywords:letter_frequency", {"letter": "a", "let_frequency": 2, "let_relation": "most"}, "let_relation"),
        ("keywords:letter_frequency", {"letter": "a", "let_frequency": 2}, "let_relation"),
        ("length_constraints:number_paragraphs", {"num_paragraphs": "3"}, "num_paragraphs"),
        (
            "length_constraints:nth_paragraph_first_word",
            {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": 3},
            "first_word",
        ),
        ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "first_word": "a"}, "nth_paragraph"),
        ("detectable_content:number_placeholders", {"num_placeholders": 1.5}, "num_placeholders"),
        ("detectable_format:constrained_response", {"options": ["yes"]}, "options"),
        ("detectable_format:number_highlighted_sections", {"num_highlights": None}, "num_highlights"),
        ("detectable_format:multiple_sections", {"section_spliter": 1, "num_sections": 2}, "section_spliter"),
        ("detectable_format:json_format", {"strict": True}, "strict"),
        ("combination:two_responses", {"separator": "***"}, "separator"),
        ("combination:repeat_prompt", {"prompt_to_repeat": ["Write"]}, "prompt_to_repeat"),
    ],
)
def test_bad_kwargs_name_id_and_key(instruction_id, kwargs, key):
    for call in (lambda: check(instruction_id, kwargs, "text"), lambda: describe(instruction_id, kwargs)):
        with pytest.raises(ValueError) as err:
            call()
        assert instruction_id in str(err.value) and key in str(err.value)


def test_unknown_id():
    with pytest.raises(ValueError, match="keywords:nope"):
        check("keywords:nope", {}, "text")
    with pytest.raises(ValueError, match="keywords:nope"):
        describe("keywords:nope", {})


# ---- properties ----

PIECES = [
    "a",
    "B",
    "cat",
    "Cat",
    "concat",
    " ",
    "\n",
    ",",
    ".",
    "*",
    "-",
    '"',
    "<<",
    ">>",
    "P.S.",
    "p. s.",
    "P.P.S",
    "very",
    "VERY",
    "bye",
    "İ",
    "\u01c5",
    "ß",
    "7",
    "_",
    "\t",
    "é",
    "***",
    "******",
    "\n\n",
    "[",
    "]",
    "{",
    "}",
    ":",
    "```json",
    "```",
    "'",
    "Section 2",
    "SECTION",
    "My answer is yes.",
    "Write a poem.",
]
responses = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(PIECES), max_size=25).map("".join))
words = st.sampled_from(["cat", "bye", "very", "a", "p.s.", "İ", "x y"])

KWARGS = {
    "punctuation:no_comma": st.just({}),
    "keywords:existence": st.lists(words, min_size=1, max_size=3).map(lambda w: {"keywords": w}),
    "keywords:forbidden_words": st.lists(words, min_size=1, max_size=3).map(lambda w: {"forbidden_words": w}),
    "keywords:frequency": st.builds(
        lambda k, f, r: {"keyword": k, "frequency": f, "relation": r},
        words,
        st.integers(0, 4),
        st.sampled_from(["less than", "at least"]),
    ),
    "change_case:english_lowercase": st.just({}),
    "change_case:english_capital": st.just({}),
    "length_constraints:number_words": st.builds(
        lambda n, r: {"num_words": n, "relation": r}, st.integers(0, 8), st.sampled_from(["less than", "at least"])
    ),
    "detectable_format:title": st.just({}),
    "startend:end_checker": words.map(lambda w: {"end_phrase": w}),
    "detectable_content:postscript": st.sampled_from(["P.S.", "P.P.S", "Note:", "(x"]).map(
        lambda m: {"postscript_marker": m}
    ),
    "startend:quotation": st.just({}),
    "detectable_format:number_bullet_lists": st.integers(0, 4).map(lambda n: {"num_bullets": n}),
    "keywords:letter_frequency": st.builds(
        lambda k, f, r: {"letter": k, "let_frequency": f, "let_relation": r},
        st.sampled_from(["a", "B", "i", "*", "ab", " "]),
        st.integers(0, 4),
        st.sampled_from(["less than", "at least"]),
    ),
    "length_constraints:number_paragraphs": st.integers(0, 4).map(lambda n: {"num_paragraphs": n}),
    "length_constraints:nth_paragraph_first_word": st.builds(
        lambda n, k, w: {"num_paragraphs": n, "nth_paragraph": k, "first_word": w},
        st.integers(0, 4),
        st.integers(-1, 5),
        words,
    ),
    "detectable_content:number_placeholders": st.integers(0, 4).map(lambda n: {"num_placeholders": n}),
    "detectable_format:constrained_response": st.just({}),
    "detectable_format:number_highlighted_sections": st.integers(0, 4).map(lambda n: {"num_highlights": n}),
    "detectable_format:multiple_sections": st.builds(
        lambda w, n: {"section_spliter": w, "num_sections": n},
        st.sampled_from(["Section", "SECTION", " ", "a.b"]),
        st.integers(0, 4),
    ),
    "detectable_format:json_format": st.just({}),
    "combination:two_responses": st.just({}),
    "combination:repeat_prompt": st.sampled_from(["Write a poem.", "", "İ a", " cat "]).map(
        lambda p: {"prompt_to_repeat": p}
    ),
    "language:response_language": st.sampled_from(["en", "fr", "de", "ja", "hi"]).map(lambda c: {"language": c}),
    "length_constraints:number_sentences": st.builds(
        lambda n, r: {"num_sentences": n, "relation": r}, st.integers(0, 5), st.sampled_from(["less than", "at least"])
    ),
    "change_case:capital_word_frequency": st.builds(
        lambda n, r: {"capital_frequency": n, "capital_relation": r},
        st.integers(0, 5),
        st.sampled_from(["less than", "at least"]),
    ),
}


def test_property_strategies_cover_every_ifeval_id():
    assert set(KWARGS) == set(IFEVAL_IDS)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), response=responses)
def test_spans_are_sorted_disjoint_and_inside(data, response):
    for instruction_id in IFEVAL_IDS:
        verdict = check(instruction_id, data.draw(KWARGS[instruction_id]), response)
        previous_end = 0
        for start, end in verdict.spans:
            assert previous_end <= start < end <= len(response)
            previous_end = end


def mutate_outside(response, spans, pick, rng):
    """Replace every character outside the spans by pick(original character)."""
    inside = {i for a, b in spans for i in range(a, b)}
    return "".join(c if i in inside else pick(c, rng) for i, c in enumerate(response))


WORD_CHARS, OTHER_CHARS = "abzXY_09é", " .!?-\n\t"


def same_class(c, rng):
    """A character of the same \\w class, so word boundaries stay where they are."""
    return rng.choice(WORD_CHARS if re.match(r"\w", c) else OTHER_CHARS)


def keep_newlines(c, rng):
    return "\n" if c == "\n" else rng.choice("ab .é-")


def letters_or_space(c, rng):
    """A letter, digit or space: never a marker character (* < > [ ] " , newline)."""
    return rng.choice("abzXY09 é")


# Failing verdicts whose spans are the whole reason, IFEval's and our own kinds: with the text
# outside them rewritten, the response still fails. (Not meaningful where the failure is an
# absence (a missing keyword, too few words), where counts are exact (bullets, paragraphs), or for
# langdetect and Punkt, whose decisions depend on all of the text.)
FAIL_INVARIANT = [
    ("punctuation:no_comma", {}, lambda c, rng: rng.choice("aZ .\n*é")),
    ("keywords:forbidden_words", {"forbidden_words": ["cat", "very"]}, same_class),
    ("keywords:frequency", {"keyword": "cat", "frequency": 1, "relation": "less than"}, same_class),
    ("keywords:letter_frequency", {"letter": "b", "let_frequency": 2, "let_relation": "less than"}, same_class),
    ("length_constraints:number_words", {"num_words": 3, "relation": "less than"}, same_class),
    ("change_case:english_lowercase", {}, lambda c, rng: rng.choice("aZ .,\n7ßİ")),
    ("change_case:english_capital", {}, lambda c, rng: rng.choice("aZ .,\n7ßİ")),
    ("startend:quotation", {}, letters_or_space),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a poem."}, letters_or_space),
    ("chars:no_digits", {}, lambda c, rng: rng.choice("aZ .,\n-é")),
    ("chars:forbidden_characters", {"characters": "!,é"}, lambda c, rng: rng.choice("aZ .\n-")),
    ("chars:ascii_only", {}, lambda c, rng: rng.choice("aZ .\n-7")),
    ("phrases:forbidden", {"phrases": ["cat", "very good"]}, same_class),
    ("length:max_characters", {"max_characters": 10}, lambda c, rng: rng.choice("aZ .\n-é")),
    ("chars:max_line_length", {"max_characters": 6}, keep_newlines),
    ("length:words_between", {"min_words": 3, "max_words": 5}, same_class),
]

# Passing verdicts whose spans are what satisfied them: rewriting everything else keeps the pass.
PASS_INVARIANT = [
    ("keywords:existence", {"keywords": ["cat", "p.s."]}, letters_or_space),
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "at least"}, letters_or_space),
    ("keywords:letter_frequency", {"letter": "b", "let_frequency": 2, "let_relation": "at least"}, letters_or_space),
    ("detectable_format:title", {}, letters_or_space),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, letters_or_space),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, letters_or_space),
    ("detectable_format:constrained_response", {}, letters_or_space),
    ("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 1}, letters_or_space),
]

# responses that often fail / pass those
failing = st.builds(
    lambda a, t, b: a + t + b,
    responses,
    st.sampled_from(
        [
            ",",
            " cat",
            "VERY.",
            "B",
            "",
            "bbb",
            "one two three four",
            "7",
            "!",
            "é",
            "😀",
            "VERY GOOD",
            "long line here",
            "a b c d e f",
        ]
    ),
    responses,
)
passing = st.builds(
    lambda a, t, b: a + t + b,
    responses,
    st.sampled_from(["cat p.s. cat", "<<Title>>", "\nP.S. bye", "[a] [b]", "My answer is no.", "Section 1", "bb"]),
    responses,
)


@pytest.mark.parametrize("instruction_id,kwargs,pick", FAIL_INVARIANT)
@settings(max_examples=100, deadline=None)
@given(response=failing, seed=st.integers(0, 2**32))
def test_changing_text_outside_failing_spans_keeps_the_fail(instruction_id, kwargs, pick, response, seed):
    verdict = check(instruction_id, kwargs, response)
    if verdict.passed:
        return
    mutated = mutate_outside(response, verdict.spans, pick, random.Random(seed))
    assert not check(instruction_id, kwargs, mutated).passed


@pytest.mark.parametrize("instruction_id,kwargs,pick", PASS_INVARIANT)
@settings(max_examples=100, deadline=None)
@given(response=passing, seed=st.integers(0, 2**32))
def test_changing_text_outside_passing_spans_keeps_the_pass(instruction_id, kwargs, pick, response, seed):
    verdict = check(instruction_id, kwargs, response)
    if not verdict.passed:
        return
    mutated = mutate_outside(response, verdict.spans, pick, random.Random(seed))
    assert check(instruction_id, kwargs, mutated).passed


def test_out_of_range_kwargs_name_id_and_key():
    with pytest.raises(ValueError, match=r"^length:words_between: min_words \(5\) must be <= max_words \(3\)"):
        check("length:words_between", {"min_words": 5, "max_words": 3}, "text")


def test_extended_kinds_are_registered_after_ifeval():
    from rtt.constraints import INSTRUCTION_IDS

    assert INSTRUCTION_IDS[: len(IFEVAL_IDS)] == IFEVAL_IDS and len(IFEVAL_IDS) == 25
    assert describe("order:phrases_in_order", {"phrases": ["first", "then"]}).startswith("The response ")
    assert check("chars:no_digits", {}, "room 101") == Verdict(False, [(5, 6), (6, 7), (7, 8)])


def test_describe_rejects_out_of_range_kwargs_too():
    with pytest.raises(ValueError, match=r"^lists:bullets_between: min_bullets \(3\) must be <= max_bullets \(2\)"):
        describe("lists:bullets_between", {"min_bullets": 3, "max_bullets": 2})
