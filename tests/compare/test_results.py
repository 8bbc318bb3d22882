import pytest

from rtt.compare.results import curve_ends, step_agreement


def response(*items):
    """One response's item rows: (verdict, relevance, gold token labels) per item."""
    return [{"verdict": v, "relevance": rel, "token_labels": labels} for v, rel, labels in items]


# One response, 3 tokens: item 0 violated at token 0; item 1 satisfied, no responsible token.
NOISY = response((-1, [0.9, 0.1, 0.05], [1, 0, 0]), (1, [0.02, 0.04, 0.03], [0, 0, 0]))


def test_step_agreement_hand_worked():
    # Used A_tok (tests/grpo/test_relevance.py) = [-1.3185, .9333, .3852]; gold's = [-.7071, .3536, .3536]:
    # dot 1.3985, norms 1.6607 and .8660: cosine 0.9724.
    assert step_agreement([NOISY], 1, "intra_sample", 0.0) == pytest.approx(0.9724, abs=1e-3)
    # Gated at 0.5 the used advantage is gold's exactly.
    assert step_agreement([NOISY], 1, "intra_sample", 0.5) == pytest.approx(1.0)


def test_step_agreement_extremes():
    exact = response((-1, [1.0, 0.0, 0.0], [1, 0, 0]), (1, [0.0, 1.0, 1.0], [0, 1, 1]))
    assert step_agreement([exact, NOISY], 2, "intra_sample", 0.0) > 0.9
    assert step_agreement([exact], 1, "intra_sample", 0.0) == pytest.approx(1.0)
    uniform = response((-1, [1.0, 1.0, 1.0], [1, 0, 0]))  # uniform relevance: no token advantage at all
    assert step_agreement([uniform], 1, "intra_sample", 0.0) == 0.0
    nothing = response((1, [0.2, 0.9, 0.1], [0, 0, 0]))  # gold has no responsible token: undefined
    assert step_agreement([nothing], 1, "intra_sample", 0.0) is None
    opposite = response((-1, [0.0, 1.0, 1.0], [1, 0, 0]))  # credit exactly where gold does not put it
    assert step_agreement([opposite], 1, "intra_sample", 0.0) == pytest.approx(-1.0)


def test_step_agreement_responses_of_different_lengths_and_item_counts():
    short = response((-1, [1.0, 0.0], [1, 0]))
    long = response((-1, [0.0, 0.0, 1.0, 0.0], [0, 0, 1, 0]), (1, [0.0, 0.0, 0.0, 0.0], [0, 0, 0, 0]))
    assert step_agreement([short, long], 2, "intra_sample", 0.0) == pytest.approx(1.0)


def test_curve_ends_skip_missing_values():
    ends = curve_ends([[1.0, None, 0.0, 0.5], [None, 1.0]], span=2)
    # first: 1.0, 1.0 (None left out); last: 0.0, 0.5, 1.0 (None left out of [None, 1.0]); all: 1, 0, .5, 1
    assert ends == {"first": 1.0, "last": pytest.approx(0.5), "all": pytest.approx(0.625)}
