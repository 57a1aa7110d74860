"""Hints that name the cause the numbers show: a factor that is a keep probability names dropout's
rescale, a gradient that fits ½ of the loss names the loss's ½, a small error the same on every
entry names two epsilons, gradient where the loss does not move names a mask, and a division by
zero on large inputs is not sent to log-softmax."""

import numpy as np
import pytest

from gradcheck.checks.diagnosis import diagnose_values
from gradcheck.probes.training import _hint_for


def _diagnose(name, analytic, numeric, **options):
    checked = np.ones(analytic.shape, dtype=bool)
    ok = np.isclose(analytic, numeric, rtol=1e-7, atol=0.0)
    return diagnose_values(name, analytic, numeric, checked, ok, **options)


@pytest.fixture
def gradient():
    return np.random.default_rng(3).normal(size=(5, 4))


@pytest.mark.parametrize("keep", [0.86, 0.75, 0.6])
def test_a_factor_equal_to_a_keep_probability_names_dropouts_rescale(gradient, keep):
    finding = _diagnose("W1", keep * gradient, gradient)
    assert finding.kind == "scale"
    assert f"keep_prob = {keep:g}" in finding.hint and "1/keep_prob" in finding.hint
    assert "learning rate" not in finding.hint


def test_one_over_a_keep_probability_names_a_rescale_the_forward_does_not_apply(gradient):
    finding = _diagnose("W1", gradient / 0.8, gradient)
    assert finding.kind == "scale" and "keep_prob = 0.8" in finding.hint


def test_a_gradient_that_fits_half_the_loss_names_the_losss_half(gradient):
    finding = _diagnose("W1", 0.5 * gradient, gradient)
    assert "fits ½ of the loss" in finding.message
    assert "put the ½ into the loss" in finding.hint and "lambda*W" not in finding.hint


def test_a_penalty_gradient_half_of_the_losss_names_the_missing_half_before_adding_a_term():
    rng = np.random.default_rng(1)
    W, data = rng.normal(size=(6, 5)), rng.normal(size=(6, 5)) * 1e-3
    lam = 0.1
    # the backward adds lam * W (for lam/2 * sum(W^2)); the loss computed lam * sum(W^2)
    finding = _diagnose("W1", data + lam * W, data + 2 * lam * W, values=W)
    assert finding.kind == "scale"
    assert "lacks the ½" in finding.hint and "do not change the gradient" in finding.hint


@pytest.mark.parametrize("factor", [1.002, 0.997])
def test_a_small_constant_relative_error_names_mismatched_epsilons(gradient, factor):
    finding = _diagnose("W2", factor * gradient, gradient)
    assert finding.kind == "scale" and "% off on every entry" in finding.message
    assert "epsilon" in finding.hint and "learning rate" not in finding.hint


def test_small_errors_in_one_direction_that_are_not_one_factor_name_mismatched_epsilons(gradient):
    spread = np.random.default_rng(4).uniform(0.002, 0.04, gradient.shape)
    finding = _diagnose("W2", gradient * (1 + spread), gradient)
    assert finding.kind == "mismatch" and "epsilon" in finding.hint


def test_errors_in_both_directions_keep_the_chain_rule_hint(gradient):
    noise = np.random.default_rng(5).normal(size=gradient.shape)
    finding = _diagnose("W2", gradient + noise, gradient)
    assert finding.kind == "mismatch" and "epsilon" not in finding.hint
    assert "chain rule" in finding.hint and "mask" not in finding.hint


def test_gradient_where_the_loss_does_not_move_names_a_missing_mask(gradient):
    numeric = gradient.copy()
    numeric[:, 1] = 0.0  # a unit the forward's ReLU switched off for every example
    analytic = gradient + 0.3 * np.random.default_rng(6).normal(size=gradient.shape)
    finding = _diagnose("W1", analytic, numeric)
    assert finding.kind == "mismatch"
    assert "mask" in finding.hint and "activation derivative" in finding.hint


@pytest.mark.parametrize("warning, says, never", [
    ("divide by zero encountered in divide", "1/(1 - p)", "log-softmax"),
    ("divide by zero encountered in log", "log-softmax", "1/(1 - p)"),
    ("overflow encountered in exp", "Z - Z.max", "1/(1 - p)"),
])
def test_a_non_finite_value_on_large_inputs_is_hinted_by_the_operation_that_made_it(warning, says, never):
    hint = _hint_for(warning, "gradients")
    assert says in hint and never not in hint


def test_a_keep_probability_beside_a_penalty_term_still_names_dropouts_rescale():
    rng = np.random.default_rng(7)
    W, data = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    reg = 0.1
    # the data gradient passed a dropout backward without its rescale, the L2 term did not
    finding = _diagnose("W1", 0.75 * data + reg * W, data + reg * W, values=W)
    assert finding.kind == "scale" and "a penalty's" in finding.message
    assert "keep_prob = 0.75" in finding.hint
