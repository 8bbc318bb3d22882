import pytest

from rtt.eval.stage import accuracy_metrics


def test_accuracy_metrics_hand_worked():
    graded = [
        [("no_comma", True), ("title", True)],  # all satisfied -> counts at prompt level
        [("no_comma", False), ("title", True)],
        [("no_comma", True)],  # all satisfied
    ]
    m = accuracy_metrics(graded)
    assert m["prompt_accuracy"] == pytest.approx((2 / 3, 3))
    assert m["item_accuracy"] == pytest.approx((4 / 5, 5))
    assert m["item_accuracy/no_comma"] == pytest.approx((2 / 3, 3))
    assert m["item_accuracy/title"] == pytest.approx((1.0, 2))
