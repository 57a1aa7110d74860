"""The precision a loss computes in, measured from the loss itself, not read off its parameters."""

import numpy as np
import pytest

from gradcheck import check_gradients
from gradcheck.checks.evaluation import LossEvaluator
from gradcheck.numeric.model import (
    LossPrecision,
    eps_of,
    measured_precision,
    moved_enough,
    sixth_difference_noise,
)

POINTS = np.linspace(-3, 3, 7) * 1e-3


def _samples(function, centres, dtype=np.float64):
    """7 values of ``function`` around each centre, the points rounded to ``dtype`` as a step is."""
    out = []
    for c in centres:
        x = (c + POINTS).astype(dtype).astype(np.float64)
        out.append((np.array([function(v) for v in x]), x))
    return out


def test_the_sixth_difference_of_a_quintic_is_zero_and_of_noise_its_spread():
    x = np.linspace(0, 1, 7)
    assert sixth_difference_noise(1 + x - 3 * x ** 5) == pytest.approx(0.0, abs=1e-13)
    rng = np.random.default_rng(0)
    estimates = [sixth_difference_noise(rng.normal(0, 1e-3, 7)) for _ in range(2000)]
    assert np.sqrt(np.mean(np.square(estimates))) == pytest.approx(1e-3, rel=0.1)


def test_unequal_points_are_allowed_for():
    x = np.array([0.0, 0.9, 2.1, 3.0, 3.95, 5.1, 6.0])
    assert sixth_difference_noise(2 * x ** 3 - x, x) == pytest.approx(0.0, abs=1e-9)


def test_a_loss_that_computes_in_float64_over_float32_parameters_is_float64():
    samples = _samples(lambda v: float(np.exp(np.float64(v)) + 0.3), [0.1, 0.2, 0.3, 0.4, 0.5], np.float32)
    found = measured_precision(samples, 1.3, np.float32)
    assert found.dtype == np.float64 and found.sigma < 1e-14


def test_a_float32_loss_is_float32_with_its_measured_rounding():
    samples = _samples(lambda v: float(np.float32(np.exp(np.float32(3 * v))) + np.float32(0.3)),
                       [0.1, 0.2, 0.3, 0.4, 0.5], np.float32)
    found = measured_precision(samples, 1.3, np.float32)
    assert found.dtype == np.float32
    assert found.rounding >= 2 * eps_of(np.float32) * 1.3
    assert found.rounding < LossPrecision.modelled(1.3, np.float32).rounding  # sharper than the bound


def test_values_exact_in_the_parameters_dtype_say_nothing_about_a_wider_loss():
    # a piecewise-linear float32 loss computes exactly: no rounding shows, yet it is float32
    samples = _samples(lambda v: float(np.float32(2 * np.float32(v))), [0.1, 0.2, 0.3, 0.4, 0.5], np.float32)
    assert measured_precision(samples, 1.0, np.float32).dtype == np.float32


def test_a_loss_that_did_not_move_is_judged_by_the_model():
    flat = [(np.full(7, 1.0), None)] * 5
    assert not moved_enough(flat[0][0], 1.0, np.float32)
    found = measured_precision(flat, 1.0, np.float32)
    assert found == LossPrecision.modelled(1.0, np.float32)


def test_a_float32_value_caps_the_precision():
    samples = _samples(lambda v: float(np.exp(v)), [0.1, 0.2, 0.3, 0.4, 0.5], np.float32)
    assert measured_precision(samples, 1.3, np.float32, returned=np.dtype(np.float32)).dtype == np.float32


def test_the_evaluator_records_the_dtype_the_loss_returns():
    evaluate = LossEvaluator(lambda: np.float32(1.5))
    evaluate()
    assert evaluate.returned == np.float32
    assert LossEvaluator(lambda: 1.5).returned is None


class UpcastingNet:
    """float32 parameters, a float64 input: the loss (and its gradient) compute in float64."""

    def __init__(self, bug=1.0):
        rng = np.random.default_rng(0)
        self.W = rng.normal(size=(4, 3)).astype(np.float32)
        self.X = rng.normal(size=(6, 4))
        self.bug = bug

    def loss(self):
        return float(np.mean(np.tanh(self.X @ self.W) ** 2))

    def grads(self):
        T = np.tanh(self.X @ self.W)
        return {"W": (self.bug * self.X.T @ (2 * T * (1 - T ** 2)) / T.size).astype(np.float32)}


def test_float32_parameters_of_a_float64_loss_are_judged_in_float64():
    net = UpcastingNet()
    result = check_gradients(net.loss, {"W": net.W}, net.grads)
    assert result.passed, str(result)
    assert result.dtype == "float32" and result.precision == "float64"
    assert any("computes in float64" in note for note in result.notes)


def test_an_error_inside_float32s_tolerance_fails_when_the_loss_is_float64():
    net = UpcastingNet(bug=1.005)  # 0.5 %: float32's rtol of 2e-2 would pass it
    result = check_gradients(net.loss, {"W": net.W}, net.grads)
    assert result.failed == ["W"] and result["W"].findings[0].kind == "scale"
