"""Known answers for the numeric core: differences, steps, Richardson and tolerances."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.numeric.differences import (
    directional_difference,
    entry_differences,
    richardson,
    step_sizes,
)
from gradcheck.numeric.model import entries_pass, noise_floor, relative_error, tolerance_for


def _cubic_loss(x):
    """L = sum(x^3): dL/dx_i = 3 x_i^2, d3L/dx_i^3 = 6."""
    return lambda: float(np.sum(x ** 3))


def test_central_difference_of_a_cubic_has_the_textbook_error():
    # (f(x+h) - f(x-h)) / 2h = 3x^2 + h^2 exactly for f = x^3: the O(h^2) term is h^2 * f'''/6
    x = np.array([0.5, 2.0, -3.0])
    h = step_sizes(x, 1e-3)
    d = entry_differences(_cubic_loss(x), x, np.arange(3), 1e-3, float(np.sum(x ** 3)))
    np.testing.assert_allclose(d.central, 3 * x ** 2 + d.h_plus ** 2, rtol=1e-8)
    np.testing.assert_allclose(d.h_plus, h, rtol=1e-12)
    assert np.array_equal(x, [0.5, 2.0, -3.0])  # every entry restored


def test_one_sided_differences_are_the_left_and_right_slopes():
    x = np.array([1.0])
    f0 = 1.0
    d = entry_differences(_cubic_loss(x), x, np.arange(1), 1e-4, f0)
    np.testing.assert_allclose(d.forward, 3 + 3 * 1e-4, rtol=1e-6)   # 3x^2 + 3xh + h^2
    np.testing.assert_allclose(d.backward, 3 - 3 * 1e-4, rtol=1e-6)


@pytest.mark.parametrize("x, base, expected", [
    (0.0, 1e-3, 1e-3),       # absolute near zero
    (0.5, 1e-3, 1e-3),
    (-4.0, 1e-3, 4e-3),      # relative for large entries
    (1e6, 6e-6, 6.0),
])
def test_step_is_base_times_max_of_one_and_the_entry(x, base, expected):
    assert step_sizes(np.array([x]), base)[0] == pytest.approx(expected)


def test_richardson_cancels_the_h_squared_term():
    # central differences of x^3 at h and h/2: 3 + h^2 and 3 + h^2/4; extrapolated, exactly 3
    h = 1e-2
    assert richardson(np.array([3 + h ** 2]), np.array([3 + h ** 2 / 4]))[0] == pytest.approx(3.0)


def test_directional_difference_of_a_quadratic_is_exact_and_restores():
    x = np.array([1.0, -2.0, 0.5])
    v = np.array([0.0, 1.0, 2.0])
    before = x.copy()
    derivative, _, _ = directional_difference(lambda: float(x @ x), x, v, 1e-3)
    assert derivative == pytest.approx(2 * x @ v, rel=1e-9)   # <grad, v> with grad = 2x
    assert np.array_equal(x, before)


@pytest.mark.parametrize("dtype, rtol, atol, step", [
    (np.float64, 1e-4, 1e-8, 6.055454e-06),
    (np.float32, 2e-2, 1e-4, 4.921566e-03),
])
def test_default_tolerances_by_dtype(dtype, rtol, atol, step):
    tol = tolerance_for(dtype)
    assert (tol.rtol, tol.atol) == (rtol, atol)
    assert tol.step_base == pytest.approx(step, rel=1e-6)  # cbrt of the machine epsilon


@pytest.mark.parametrize("rel, tier", [(0.0, "excellent"), (1e-7, "excellent"), (1e-6, "good"),
                                       (5e-5, "suspicious"), (2e-4, "wrong"), (np.nan, "wrong")])
def test_tiers_of_float64(rel, tier):
    assert tolerance_for(np.float64).tier(rel) == tier


def test_relative_error_and_pass_mask_known_values():
    a = np.array([1.0, 1.0, 0.0, 1e-12, np.nan])
    n = np.array([1.0, 1.1, 0.0, 0.0, 1.0])
    rel = relative_error(a, n, atol=1e-8)
    np.testing.assert_allclose(rel[:4], [0.0, 0.1 / 1.1, 0.0, 1e-12 / 1e-8])
    tol = tolerance_for(np.float64)
    assert entries_pass(a, n, tol, tol.atol).tolist() == [True, False, True, True, False]


def test_noise_floor_is_32_epsilons_of_the_loss_over_the_step():
    assert noise_floor(2.0, 1e-5, np.float64) == pytest.approx(32 * 2.220446049250313e-16 * 2 / 1e-5)
    assert noise_floor(0.1, 1e-5, np.float64) == pytest.approx(32 * 2.220446049250313e-16 / 1e-5)
