"""Hints said in the terms of the code that was checked: per-example backprop has no batch axis and
no 1/m of its own, a summed loss is not told to keep one 1/m, and float32's noisy numeric values
still let a common factor or an L2 term be named."""

import numpy as np
import pytest

from gradcheck.checks.diagnosis import CodeContext, diagnose_shape, diagnose_values


def _diagnose(name, analytic, numeric, **options):
    everywhere = np.ones(analytic.shape, dtype=bool)
    return diagnose_values(name, analytic, numeric, everywhere, ~everywhere, **options)


@pytest.fixture
def gradient():
    return np.random.default_rng(0).normal(size=(4, 3))


def test_a_bias_summed_to_one_number_in_per_example_code_is_told_delta_itself(gradient):
    numeric = gradient[:, :1]
    batch_code = _diagnose("b1", np.full_like(numeric, numeric.sum()), numeric, reduced_to_scalar=True)
    assert batch_code.kind == "reduction" and "examples axis" in batch_code.hint
    per_example = _diagnose("b1", np.full_like(numeric, numeric.sum()), numeric,
                            reduced_to_scalar=True, context=CodeContext(per_example=True))
    assert "delta itself" in per_example.hint and "examples axis" not in per_example.hint
    assert per_example.message == batch_code.message and per_example.kind == "reduction"


def test_per_example_code_off_by_the_batch_size_is_not_told_about_a_1_over_m(gradient):
    finding = _diagnose("W1", 2 * gradient, gradient, context=CodeContext(batch_size=2))
    assert "1/m" in finding.message
    fitted = _diagnose("W1", 2 * gradient, gradient,
                       context=CodeContext(batch_size=2, per_example=True))
    assert "1/m" not in fitted.message + fitted.hint and "batch size" not in fitted.message + fitted.hint
    assert "2x too large" in fitted.message and "factor 2" in fitted.hint


@pytest.mark.parametrize("reduction, factor, says, never", [
    ("sum", 1 / 8, "loss sums over the examples", "keep only one 1/m"),
    ("mean", 1 / 8, "keep only one 1/m", "sums over the examples (no 1/m)"),
    ("mean", 8, "divide the loss gradient by the batch size", "drop the 1/m from the loss"),
])
def test_a_batch_size_factor_is_told_in_the_losss_own_reduction(gradient, reduction, factor, says, never):
    fitted = _diagnose("W1", factor * gradient, gradient,
                       context=CodeContext(batch_size=8, reduction=reduction))
    assert says in fitted.hint and never not in fitted.hint


def test_findings_the_code_style_does_not_change_read_the_same_in_every_context(gradient):
    plain = _diagnose("W1", -gradient, gradient, context=CodeContext(batch_size=8))
    fitted = _diagnose("W1", -gradient, gradient,
                       context=CodeContext(batch_size=8, per_example=True, reduction="sum"))
    assert fitted == plain


def test_a_whole_factor_with_no_batch_size_given_is_told_it_may_be_the_batch():
    gradient = np.random.default_rng(0).normal(size=(4, 3))
    finding = _diagnose("W2", 32 * gradient, gradient)
    assert finding.kind == "scale" and "if the batch holds 32 examples" in finding.message
    assert "batch_size=32" in finding.hint
    told = _diagnose("W2", 32 * gradient, gradient, context=CodeContext(batch_size=32))
    assert "exactly the batch size 32" in told.message


def test_a_transposed_gradient_shape_is_told_the_order_of_the_product():
    mismatch = diagnose_shape("W1", (5, 6), (6, 5))
    finding = mismatch.finding()
    assert mismatch.how == "transpose" and "wrong order" in finding.hint and finding.data["transposed"]
    per_example = diagnose_shape("W1", (5, 6), (6, 5), CodeContext(per_example=True)).finding()
    assert "delta @ activation.T" in per_example.hint and "rows = examples" not in per_example.hint
    rows = diagnose_shape("W1", (5, 6), (6, 5), CodeContext(layout="rows")).finding()
    assert "X.T @ dZ" in rows.hint and "dZ @ X.T" not in rows.hint
    other = diagnose_shape("b1", (8, 1), (1, 6)).finding()
    assert "axis and keepdims" in other.hint and not other.data["transposed"]


def test_a_shape_whose_values_are_right_once_aligned_says_so_in_its_one_finding():
    mismatch = diagnose_shape("W1", (5, 6), (6, 5))
    assert "its values are correct" in mismatch.finding(values_right=True).message
    assert "its values are correct" not in mismatch.finding(values_right=False).message


def test_a_factor_under_float32_noise_is_a_scale_within_the_checks_tolerance(gradient):
    noisy = gradient * (1 + 0.01 * np.random.default_rng(1).uniform(-1, 1, gradient.shape))
    strict = _diagnose("W1", 8 * gradient, noisy, context=CodeContext(batch_size=8))
    assert strict.kind == "mismatch"  # at float64's precision the factor does not fit
    loose = _diagnose("W1", 8 * gradient, noisy, context=CodeContext(batch_size=8), rtol=2e-2, atol=1e-4)
    assert loose.kind == "scale" and "exactly the batch size 8" in loose.message


def test_noise_beyond_the_tolerance_is_not_called_a_scale(gradient):
    noisy = gradient * (1 + 0.3 * np.random.default_rng(1).uniform(-1, 1, gradient.shape))
    assert _diagnose("W1", 8 * gradient, noisy, rtol=2e-2, atol=1e-4).kind == "mismatch"


@pytest.mark.parametrize("l2, says", [(0.0, "missing"), (2.0, "too many")])
def test_an_l2_term_on_a_gradient_that_is_the_penalty_alone_is_named(l2, says):
    W = np.random.default_rng(2).normal(size=(5, 6))
    numeric = 0.1 * W + 1e-6 * np.random.default_rng(3).normal(size=W.shape)  # data term ~ 0
    analytic = numeric - 0.1 * W + l2 * 0.1 * W
    finding = _diagnose("W1", analytic, numeric, context=CodeContext(batch_size=2), values=W)
    assert finding.kind == "scale" and says in finding.message and "1/m" not in finding.message
    assert finding.data["l2_coefficient"] == pytest.approx(0.1 * (l2 - 1), rel=1e-3)
