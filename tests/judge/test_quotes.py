from hypothesis import given
from hypothesis import strategies as st

from rtt.judge.quotes import Located, locate_quotes, normalize

RESPONSE = "Dear Sam,\n\nThe  “quick” brown fox — it JUMPED over the lazy dog. The fox ran."


def spans_text(response: str, located: Located) -> list[str]:
    return [response[a:b] for a, b in located.spans]


def test_exact_quotes_mark_every_occurrence():
    located = locate_quotes(RESPONSE, ["fox"])
    assert spans_text(RESPONSE, located) == ["fox", "fox"] and (located.found, located.dropped) == (1, 0)


def test_case_whitespace_and_curly_quotes_are_forgiven_and_map_back_to_the_original():
    located = locate_quotes(RESPONSE, ['the "quick" brown fox - it jumped'])
    assert spans_text(RESPONSE, located) == ["The  “quick” brown fox — it JUMPED"]


def test_surrounding_quote_marks_and_ellipses():
    # the judge wraps its quote in quotes and elides the middle: both pieces are located
    located = locate_quotes(RESPONSE, ['"Dear Sam, ... the lazy dog."'])
    assert spans_text(RESPONSE, located) == ["Dear Sam,", "the lazy dog."]
    assert locate_quotes(RESPONSE, ["Dear Sam … a purple cat"]) == Located([], 0, 1)  # one piece missing: all dropped


def test_fuzzy_match_for_long_quotes_only():
    located = locate_quotes(RESPONSE, ["the lazy dgo. The fox ran"])  # a typo in a long quote
    assert spans_text(RESPONSE, located) == ["the lazy dog. The fox ran"]
    assert locate_quotes(RESPONSE, ["dgo"]).dropped == 1  # too short to match loosely
    assert locate_quotes(RESPONSE, ["an entirely different sentence"]).dropped == 1


def test_missing_and_empty_quotes_are_dropped_and_counted():
    located = locate_quotes(RESPONSE, ["Sam", "", '""', "unicorn", "brown"])
    assert (located.found, located.dropped) == (2, 3)
    assert spans_text(RESPONSE, located) == ["Sam", "brown"]


def test_overlapping_quotes_merge():
    located = locate_quotes(RESPONSE, ["brown fox", "quick” brown"])
    assert spans_text(RESPONSE, located) == ["quick” brown fox"]


def test_normalize_keeps_an_index_into_the_original():
    text, origin = normalize("A\t\n B İx")
    assert text == "a b İx" and origin == [0, 1, 4, 5, 6, 7]


@given(st.text(max_size=60), st.data())
def test_any_substring_is_found_where_it_is(response, data):
    start = data.draw(st.integers(0, len(response)))
    end = data.draw(st.integers(start, len(response)))
    quote = response[start:end]
    located = locate_quotes(response, [quote])
    if not quote.strip(" \t\r\n\"'“”‘’`«»") or "..." in quote or "…" in quote:
        return
    assert located.found == 1
    assert any(a <= start + quote.index(quote.strip(" \t\r\n\"'“”‘’`«»")) < b for a, b in located.spans)
