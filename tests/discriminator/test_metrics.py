import math

import numpy as np
import pytest

from rtt.discriminator.metrics import average_ranks, token_metrics


def test_hand_worked_metrics():
    probs = np.array([0.9, 0.8, 0.3, 0.6, 0.2, 0.1])
    labels = np.array([1, 1, 1, 0, 0, 0])
    m = token_metrics(probs, labels)
    # predicted positive (>= 0.5): 0.9, 0.8, 0.6 -> tp 2, fp 1, fn 1 (the 0.3 positive)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    # positive/negative pairs ranked right: 0.9 and 0.8 beat all 3 negatives (6), 0.3 beats 0.2
    # and 0.1 (2): 8 of 9
    assert m["auroc"] == pytest.approx(8 / 9)
    # one token per bin: bins 9 (0.9,y1), 8 (0.8,y1), 3 (0.3,y1), 6 (0.6,y0), 2 (0.2,y0), 1 (0.1,y0)
    # |gaps| 0.1 + 0.2 + 0.7 + 0.6 + 0.2 + 0.1 = 1.9, each weighted 1/6
    assert m["ece"] == pytest.approx(1.9 / 6)
    assert m["n_tokens"] == 6 and m["positives"] == 3


def test_ece_shared_bin_and_edges():
    # 0.12 and 0.18 share bin 1: mean prob 0.15, positive rate 0.5 -> gap 0.35, weight 2/3;
    # 1.0 goes in the last bin with label 1 -> gap 0
    m = token_metrics(np.array([0.12, 0.18, 1.0]), np.array([0, 1, 1]))
    assert m["ece"] == pytest.approx(2 / 3 * 0.35)


def test_auroc_with_ties():
    # ranks of [0.5, 0.5, 0.5, 0.9]: the three ties share (1+2+3)/3 = 2, 0.9 is 4
    assert average_ranks(np.array([0.5, 0.5, 0.5, 0.9])).tolist() == [2, 2, 2, 4]
    # positives 0.5 (tie with both negatives) and 0.9 (beats both): pairs score 0.5+0.5+1+1 = 3 of 4
    m = token_metrics(np.array([0.5, 0.5, 0.5, 0.9]), np.array([1, 0, 0, 1]))
    assert m["auroc"] == pytest.approx(0.75)
    # all scores equal: a coin flip
    assert token_metrics(np.full(4, 0.3), np.array([1, 0, 1, 0]))["auroc"] == pytest.approx(0.5)


def test_one_class_gives_nan_auroc_and_zero_precision():
    m = token_metrics(np.array([0.1, 0.7]), np.array([0, 0]))
    assert math.isnan(m["auroc"])
    assert m["precision"] == 0.0 and m["recall"] == 0.0 and m["f1"] == 0.0
    assert m["positives"] == 0
    assert math.isnan(token_metrics(np.array([0.9]), np.array([1]))["auroc"])


def test_empty_input():
    m = token_metrics(np.zeros(0), np.zeros(0))
    assert m["n_tokens"] == 0 and math.isnan(m["auroc"]) and math.isnan(m["ece"])
