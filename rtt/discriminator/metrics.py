"""Token-level classification metrics for the relevance discriminator (METHOD.md section 7).

Plain numpy: precision, recall and F1 at a threshold; AUROC as the Mann-Whitney U statistic on
average ranks (ties count one half); expected calibration error over equal-width bins. Conventions:
precision (recall) is 0 when nothing is predicted (labelled) positive; AUROC is NaN when one class
is absent; ECE is NaN on an empty input.
"""

from __future__ import annotations

import numpy as np


def token_metrics(probs: np.ndarray, labels: np.ndarray, threshold: float = 0.5, bins: int = 10) -> dict:
    probs = np.asarray(probs, dtype=np.float64).ravel()  # [n]
    labels = np.asarray(labels).ravel().astype(bool)  # [n]
    pred = probs >= threshold
    tp = int(np.sum(pred & labels))
    fp = int(np.sum(pred & ~labels))
    fn = int(np.sum(~pred & labels))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "auroc": auroc(probs, labels),
        "ece": ece(probs, labels, bins),
        "n_tokens": int(labels.size),
        "positives": int(labels.sum()),
    }


def average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of x; tied values share the mean of the ranks they span."""
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    # group boundaries of equal values in sorted order
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], x.size]  # exclusive
    group_rank = (starts + 1 + ends) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def auroc(probs: np.ndarray, labels: np.ndarray) -> float:
    labels = np.asarray(labels).astype(bool)
    n_pos = int(labels.sum())
    n_neg = int(labels.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = average_ranks(np.asarray(probs, dtype=np.float64))
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """sum over bins of (bin size / n) * |mean prob - positive rate|; bins split [0, 1] evenly."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    if probs.size == 0:
        return float("nan")
    index = np.minimum((probs * bins).astype(int), bins - 1)  # prob 1.0 goes in the last bin
    total = 0.0
    for b in range(bins):
        in_bin = index == b
        if in_bin.any():
            total += in_bin.mean() * abs(probs[in_bin].mean() - labels[in_bin].mean())
    return float(total)
