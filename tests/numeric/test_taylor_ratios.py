"""The descent ratio's verdicts, as a table of labelled sweeps."""

import math

import pytest

from gradcheck.numeric.taylor import judge_ratios, loss_rounding


@pytest.mark.parametrize("ratios, noise, verdict", [
    ([0.9, 0.99, 0.999], [0.0, 0.0, 0.0], "agrees"),              # curvature fades: right
    ([-1.1, -1.01, -1.001], [0.0, 0.0, 0.0], "disagrees"),        # sign flipped
    ([0.55, 0.505, 0.5005], [0.0, 0.0, 0.0], "disagrees"),        # twice too large
    ([3.0, 1.8, 1.2], [0.0, 0.0, 0.0], "undecided"),              # still moving: no verdict
    ([0.5, 0.5], [0.2, 0.3], "undecided"),                        # only rounding: no verdict
    ([0.8, 1.03], [0.0, 0.04], "agrees"),                         # within its own noise
    ([float("nan"), 0.99], [0.0, 0.0], "agrees"),
])
def test_ratio_sweeps(ratios, noise, verdict):
    sweep = judge_ratios([10.0 ** -k for k in range(len(ratios))], ratios, noise)
    assert sweep.verdict == verdict


def test_the_limit_is_the_smallest_usable_step_and_nan_without_one():
    assert judge_ratios([1, 0.1, 0.01], [-1.2, -1.01, 7.0], [0, 0, 0.9]).limit == -1.01
    assert math.isnan(judge_ratios([1], [1.0], [1.0]).limit)


def test_float32_rounding_is_larger_than_float64s():
    assert loss_rounding(2.0, "float32") / loss_rounding(2.0, "float64") == pytest.approx(2.0 ** 29)
    assert loss_rounding(0.0, "float64") == loss_rounding(1.0, "float64")
