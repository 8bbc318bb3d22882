import importlib.util
import sys
from pathlib import Path

import pytest

from rtt.constraints import check
from rtt.data.items import RubricItem
from rtt.detokenize import decode_with_offsets
from rtt.judge.rule import EMPTY, NO_CHECKER, judge_item, verdict_row


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


# ---------------------------------------------------------------- empty responses

# Items an empty text passes under the pure checker (as under IFEval's `check_following`), one
# positive item it fails, and one without a checker.
EMPTY_HOLE = [
    ("punctuation:no_comma", {}),
    ("keywords:forbidden_words", {"forbidden_words": ["tea"]}),
    ("length_constraints:number_words", {"num_words": 50, "relation": "less than"}),
    ("keywords:frequency", {"keyword": "tea", "frequency": 2, "relation": "less than"}),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"}),
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "less than"}),
]
EMPTY_ITEMS = EMPTY_HOLE + [("keywords:existence", {"keywords": ["tea"]}), (None, {})]


@pytest.mark.parametrize("checker, kwargs", EMPTY_HOLE)
def test_the_checker_alone_passes_an_empty_response_as_ifevals_check_following_does(checker, kwargs):
    # `check` stays IFEval's checker; the blank-response gate is the judge's (below)
    assert check(checker, kwargs, "").passed and check(checker, kwargs, "  \n").passed


@pytest.mark.parametrize("checker, kwargs", EMPTY_ITEMS)
def test_an_empty_response_violates_every_item_with_the_whole_response_as_evidence(tiny_tokenizer, checker, kwargs):
    # the tiny tokenizer: "" + EOS -> offsets [(0, 0)] (EOS has no characters, so no span maps onto it);
    # "  \n" + EOS -> [(0, 1), (1, 2), (2, 3), (3, 3)]; every one of those tokens is labelled 1
    for text, n_tokens in (("", 1), ("  \n", 4)):
        ids = tiny_tokenizer(text, add_special_tokens=False)["input_ids"] + [tiny_tokenizer.eos_token_id]
        decoded, offsets = decode_with_offsets(tiny_tokenizer, ids)
        assert decoded == text and len(offsets) == n_tokens
        assert judge_item(item(checker, kwargs), text) == (-1, [(0, len(text))], EMPTY)
        row = verdict_row("run", 0, 0, "r1", item(checker, kwargs), text, offsets, "Write about tea.")
        assert (row["verdict"], row["judge"], row["reason"]) == (-1, "rule", EMPTY)
        assert row["spans"] == [{"start": 0, "end": len(text)}]
        assert row["token_labels"] == [1] * n_tokens


def test_a_non_empty_response_is_graded_as_before():
    assert judge_item(item("punctuation:no_comma"), "Tea then cake.") == (1, [], "")
    assert judge_item(item("keywords:existence", {"keywords": ["tea"]}), "Tea then cake.") == (1, [(0, 3)], "")
    assert judge_item(item(None), " x ") == (0, [], NO_CHECKER)  # unknown stays unknown when there is text
    row = verdict_row("run", 0, 0, "r1", item("punctuation:no_comma"), "a b", [(0, 1), (1, 3), (3, 3)])
    assert (row["verdict"], row["token_labels"]) == (1, [0, 0, 0])


def _corpus_module():
    """tests/ is not a package: load tests/constraints/corpus.py by path (as test_official_agreement does)."""
    path = Path(__file__).parents[1] / "constraints" / "corpus.py"
    spec = importlib.util.spec_from_file_location("_rtt_constraints_corpus", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_on_the_corpus_blank_responses_the_judge_equals_the_official_strict_harness():
    """The agreement corpus's empty and whitespace-only responses (\"\", "\\n", "\\xa0", "\\u2028", ...,
    ~10 per IFEval id): the judge's verdict equals the official evaluation's strict verdict
    (`response.strip() and check_following(...)`, i.e. not followed) on every one, while the bare
    checker passes some of them."""
    pytest.importorskip("eval_framework", reason="llm-eval-framework (the official IFEval checker) is not installed")
    from rtt.constraints import IFEVAL_IDS
    from rtt.eval.ifeval import official_evaluation, seeded_random

    blank = [c for c in _corpus_module().build_corpus() if not c.response.strip()]
    assert {c.instruction_id for c in blank} == set(IFEVAL_IDS) and {"", "\n", " "} <= {c.response for c in blank}
    evaluation = official_evaluation()
    checker_passes = 0
    for n, case in enumerate(blank):
        inp = evaluation.InputExample(n, [case.instruction_id], case.prompt, [case.kwargs])
        with seeded_random():
            [official] = evaluation.test_instruction_following_strict(
                inp, {case.prompt: case.response}
            ).follow_instruction_list
        verdict, _, _ = judge_item(item(case.instruction_id, case.kwargs), case.response, case.prompt)
        assert (verdict == 1) == official, case
        checker_passes += check(case.instruction_id, case.kwargs, case.response, case.prompt).passed
    assert checker_passes > 0  # the hole the judge closes
