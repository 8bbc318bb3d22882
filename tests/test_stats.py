"""Intervals, the paired bootstrap and steps to target, on hand-worked numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtt.stats import bootstrap_gain, mean_interval, moving_average, steps_to_target, wilson_interval


def test_mean_interval_by_hand():
    # values 0.2, 0.4: mean 0.3, sd = sqrt(((-.1)^2 + .1^2) / 1) = 0.14142, sem = 0.1,
    # t(0.975, df=1) = 12.7062 -> half width 1.27062
    mean, low, high = mean_interval([0.2, 0.4])
    assert mean == pytest.approx(0.3)
    assert low == pytest.approx(0.3 - 1.270620, abs=1e-5) and high == pytest.approx(0.3 + 1.270620, abs=1e-5)


def test_mean_interval_of_one_value_has_no_interval():
    assert mean_interval([0.5]) == (0.5, None, None)
    with pytest.raises(ValueError):
        mean_interval([])


def test_bootstrap_gain_point_estimate_by_hand():
    # prompts with 2, 1, 3 items; A passes 2, 1, 1; B passes 1, 0, 1 -> gain (1 + 1 + 0) / 6 = 0.3333
    a, b, totals = np.array([2.0, 1, 1]), np.array([1.0, 0, 1]), np.array([2.0, 1, 3])
    gain, low, high = bootstrap_gain(a, b, totals, resamples=500)
    assert gain == pytest.approx(1 / 3)
    assert low <= gain <= high


def test_bootstrap_interval_excludes_zero_only_for_a_consistent_gain():
    totals = np.full(48, 2.0)
    better = np.full(48, 1.0)
    assert bootstrap_gain(better + 1, better, totals)[1] > 0  # every prompt gains one item
    mixed = np.tile([2.0, 0.0], 24)  # half the prompts gain, half lose: no signal
    assert bootstrap_gain(mixed, 2 - mixed, totals)[1] < 0 < bootstrap_gain(mixed, 2 - mixed, totals)[2]


def test_bootstrap_rejects_mismatched_arrays():
    with pytest.raises(ValueError):
        bootstrap_gain(np.ones(3), np.ones(2), np.ones(3))


def test_moving_average_and_steps_to_target_by_hand():
    curve = [0.0, 0.5, 1.0, 0.5, 1.0]
    # trailing 2-step means: 0, .25, .75, .75, .75
    assert moving_average(curve, 2) == pytest.approx([0.0, 0.25, 0.75, 0.75, 0.75])
    assert steps_to_target(curve, 0.75, window=2) == 3
    assert steps_to_target(curve, 1.0, window=1) == 3
    assert steps_to_target(curve, 1.0, window=2) is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.integers(1, 8))
def test_moving_average_stays_within_the_curve(curve, window):
    smooth = moving_average(curve, window)
    assert len(smooth) == len(curve)
    assert all(min(curve) - 1e-9 <= v <= max(curve) + 1e-9 for v in smooth)
    assert math.isclose(smooth[0], curve[0])


def test_wilson_interval_by_hand():
    # z = 1.95996, z^2 = 3.84146. 2 of 4: center (0.5 + 3.84146/8) / (1 + 3.84146/4) = 0.5, half
    # 1.95996 * sqrt(0.0625 + 3.84146/64) / 1.96037 = 0.34996: (0.150, 0.850)
    assert wilson_interval(0.5, 4) == pytest.approx((0.15004, 0.84996), abs=1e-4)
    # 0 of 10: center (3.84146/20) / 1.38415 = 0.13876, half 1.95996 * sqrt(3.84146/400) / 1.38415
    # = 0.13876: (0, 0.2775), not the normal interval's empty [0, 0]
    assert wilson_interval(0.0, 10) == pytest.approx((0.0, 0.27753), abs=1e-4)


@given(st.integers(1, 500), st.data())
def test_wilson_interval_holds_the_rate_inside_0_1(n, data):
    passed = data.draw(st.integers(0, n))
    low, high = wilson_interval(passed / n, n)
    assert 0.0 <= low <= passed / n <= high <= 1.0 and high - low > 0
