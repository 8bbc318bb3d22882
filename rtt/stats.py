"""The statistics of comparisons and pages: intervals over seeds, a paired bootstrap over prompts,
steps to a target reward, an interval for one run's accuracy, and the curves' moving average.

- `mean_interval`: mean and a two-sided 95% Student-t interval over seeds (with 2 seeds the t
  quantile is 12.7: an honest, wide interval; with 1 seed there is none).
- `bootstrap_gain`: the held-out item accuracy of one set of answers minus another's, on the same
  prompts, with a percentile interval from resampling prompts (paired: a resampled prompt brings
  both its answers). It measures prompt-sampling noise only; seeds are averaged first.
- `steps_to_target`: the first step at which the trailing moving average of a reward curve reaches
  a target (None if never); the average tames the noise of a small batch's reward.
- `wilson_interval`: a 95% interval for one run's accuracy over n graded items (Wilson's score
  interval: it stays inside [0, 1] and is not empty at 0 or n passes, unlike the normal one).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float | None, float | None]:
    """(mean, low, high); low and high are None with fewer than 2 values."""
    if not values:
        raise ValueError("mean_interval of no values")
    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, None, None
    sem = float(np.std(values, ddof=1)) / math.sqrt(len(values))
    half = float(stats.t.ppf(0.5 + confidence / 2, df=len(values) - 1)) * sem
    return mean, mean - half, mean + half


def bootstrap_gain(
    passed_a: np.ndarray,
    passed_b: np.ndarray,
    totals: np.ndarray,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Item accuracy of answers A minus answers B over the same prompts, (gain, low, high).

    passed_a, passed_b: [P] items passed per prompt (may be fractional: a mean over seeds);
    totals: [P] items per prompt. Accuracy is pooled over items: sum(passed) / sum(totals).
    """
    if not (passed_a.shape == passed_b.shape == totals.shape) or totals.ndim != 1 or not len(totals):
        raise ValueError(f"need three equal 1-D arrays, got {passed_a.shape}, {passed_b.shape}, {totals.shape}")
    diff = passed_a - passed_b  # [P]
    gain = float(diff.sum() / totals.sum())
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(totals), size=(resamples, len(totals)))  # [R, P]
    gains = diff[picks].sum(1) / totals[picks].sum(1)  # [R]
    low, high = np.quantile(gains, [(1 - confidence) / 2, (1 + confidence) / 2])
    return gain, float(low), float(high)


def moving_average(curve: list[float], window: int) -> list[float]:
    """Trailing mean over the last `window` values (fewer at the start)."""
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    sums = np.cumsum([0.0, *curve])  # [S + 1]
    return [float((sums[i + 1] - sums[max(0, i + 1 - window)]) / min(window, i + 1)) for i in range(len(curve))]


def steps_to_target(curve: list[float], target: float, window: int = 1) -> int | None:
    """Steps taken (1-based) when the moving average first reaches `target`; None if it never does."""
    for step, value in enumerate(moving_average(curve, window), start=1):
        if value >= target - 1e-12:
            return step
    return None


def wilson_interval(accuracy: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """(low, high) of Wilson's score interval for a pass rate `accuracy` over `n` items."""
    if n <= 0:
        raise ValueError("wilson_interval over no items")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    shrink = 1 + z * z / n
    center = (accuracy + z * z / (2 * n)) / shrink
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / shrink
    low = 0.0 if accuracy <= 0 else max(0.0, center - half)  # exact at the ends (no rounding past them)
    high = 1.0 if accuracy >= 1 else min(1.0, center + half)
    return low, high
