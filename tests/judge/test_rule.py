from rtt.judge.rule import NO_CHECKER, judge_item, verdict_row
from rtt.rubrics.items import RubricItem


def item(checker, kwargs=None):
    return RubricItem("i1", "p1", 0, "text", 1.0, "rule" if checker else "llm", checker, kwargs or {})


def test_verdicts_and_spans():
    assert judge_item(item("punctuation:no_comma"), "a, b, c") == (-1, [(1, 2), (4, 5)], "")
    assert judge_item(item("punctuation:no_comma"), "a b c") == (1, [], "")
    assert judge_item(item(None), "anything") == (0, [], NO_CHECKER)


def test_verdict_row_maps_spans_to_token_labels():
    # "a, b" tokenized as ["a", ",", " b", EOS] -> offsets below; the comma token is the evidence
    offsets = [(0, 1), (1, 2), (2, 4), (4, 4)]
    row = verdict_row("run", 0, 3, "r1", item("punctuation:no_comma"), "a, b", offsets)
    assert row["verdict"] == -1 and row["spans"] == [{"start": 1, "end": 2}]
    assert row["token_labels"] == [0, 1, 0, 0]
    assert row["step"] == 3 and row["judge"] == "rule"
    again = verdict_row("run", 0, 3, "r1", item("punctuation:no_comma"), "a, b", offsets)
    assert again["verdict_id"] == row["verdict_id"]


def test_a_checker_that_raises_gives_unknown_with_the_reason():
    # describe() rejects such an item at import; one that reaches the judge anyway must not stop the stage
    verdict, spans, reason = judge_item(item("length:words_between", {"min_words": 5, "max_words": 3}), "a b c")
    assert (verdict, spans) == (0, [])
    assert reason == "checker error: ValueError: length:words_between: min_words (5) must be <= max_words (3)"
