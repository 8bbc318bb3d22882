import torch

from rtt.constraints import describe
from rtt.detokenize import decode_with_offsets
from rtt.discriminator.lexical import item_terms, term_spans
from rtt.grpo.relevance import relevance


def test_item_terms_are_the_quoted_strings_else_the_content_words():
    assert item_terms(describe("keywords:frequency", {"keyword": "tea", "frequency": 2, "relation": "at least"})) == [
        "tea"
    ]
    assert item_terms(describe("keywords:existence", {"keywords": ["Sea", "fish"]})) == ["sea", "fish"]
    assert item_terms(describe("punctuation:no_comma", {})) == ["commas"]
    assert item_terms(describe("change_case:english_lowercase", {})) == ["lowercase", "capital"]
    assert item_terms("Mentions the price.") == ["mentions", "price"]


def test_term_spans_are_whole_words_case_insensitive():
    #            0123456789012345
    assert term_spans("Tea time, TEA! teapot", ["tea"]) == [(0, 3), (10, 13)]  # not inside "teapot"
    assert term_spans("P.S. call me", ["p.s."]) == [(0, 4)]  # no word boundary after the final "."
    assert term_spans("nothing here", ["tea", "coffee"]) == []


def test_lexical_relevance_marks_the_tokens_of_the_term(tiny_tokenizer):
    response = "I like Tea and biscuits"
    ids = tiny_tokenizer(response, add_special_tokens=False)["input_ids"]
    items = [['The word "tea" appears at least 2 times in the response.', 'The word "scone" appears once.']]
    gold = torch.zeros(1, 2, len(ids) + 2)  # [N, K, T]: two padding positions
    rel = relevance("lexical", gold=gold, item_texts=items, responses=[ids], tokenizer=tiny_tokenizer)  # [1, 2, T]
    text, offsets = decode_with_offsets(tiny_tokenizer, ids)
    assert text == response
    marked = "".join(text[a:b] for (a, b), r in zip(offsets, rel[0, 0].tolist()) if r)
    assert "Tea" in marked and "biscuits" not in marked and "like" not in marked
    assert rel[0, 1].sum() == 0  # "scone" does not occur
    assert rel[0, :, len(ids) :].sum() == 0  # padding
