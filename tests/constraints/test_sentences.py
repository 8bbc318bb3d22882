import os

import nltk
from hypothesis import given, settings
from hypothesis import strategies as st

from rtt.constraints.sentences import install_punkt_tab, sentence_spans, word_tokens


def test_install_writes_punkt_tab_where_nltk_finds_it(tmp_path, monkeypatch):
    monkeypatch.setattr(nltk.data, "path", [])
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    folder = install_punkt_tab()
    assert folder == tmp_path / "tokenizers" / "punkt_tab" / "english"
    assert sorted(os.listdir(folder)) == [
        "abbrev_types.txt",
        "collocations.tab",
        "ortho_context.tab",
        "sent_starters.txt",
    ]
    assert os.listdir(folder.parent) == ["english"]  # no staging folder left behind
    tokenizer = nltk.tokenize.PunktTokenizer("english")  # found by NLTK itself
    assert tokenizer.tokenize("Dr. Smith came. He left.") == ["Dr. Smith came.", "He left."]
    assert install_punkt_tab() == folder  # the second call finds it


def test_sentence_spans_know_abbreviations():
    text = "Dr. Smith arrived at 5 p.m. on Monday. Then he left!  Why?"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Dr. Smith arrived at 5 p.m. on Monday.", "Then he left!", "Why?"]


def test_word_tokens_locate_nltk_tokens():
    text = 'He said "HELLO" and CAN\'T stop.'
    tokens = word_tokens(text)
    assert [t for t, _ in tokens] == nltk.word_tokenize(text)
    # ``/'' stand for the straight quotes they replaced
    assert [text[a:b] for _, (a, b) in tokens] == ["He", "said", '"', "HELLO", '"', "and", "CA", "N'T", "stop", "."]


PIECES = [
    "Dr.",
    "cat",
    "NASA",
    "U.S.",
    " ",
    "\n",
    ".",
    "...",
    "!",
    "?",
    '"',
    "'",
    "can't",
    "``",
    "''",
    "(",
    ")",
    "é",
    "İ",
    "3.5",
    "$",
    "--",
    ",",
    ":",
    "e.g.",
]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(PIECES), max_size=30).map("".join)))
def test_word_tokens_are_nltk_tokens_with_increasing_spans(text):
    tokens = word_tokens(text)
    assert [t for t, _ in tokens] == nltk.word_tokenize(text)
    previous_end = 0
    for token, span in tokens:
        assert span is not None
        start, end = span
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == token or token in ("``", "''")
        previous_end = end
