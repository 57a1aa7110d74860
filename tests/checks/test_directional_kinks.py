"""Directional mode among kinks: a step along a random direction moves every entry at once and
crosses every kink at the point (ReLU inputs at 0, tied maxima in a pooling window), so a
disagreement along a direction is a bug only when the entries say so."""

import numpy as np
import pytest

from gradcheck import adapters, check_gradients, run_suite
from gradcheck.checks.entries import FOLLOW_UP_FULL, FOLLOW_UP_KINKS
from tests.corpus.shapes import conv_pool, layer_library


def _relus_at_zero(size, seed=0, wrong_at=None):
    """loss = sum c_i relu(x_i), every x_i on its kink but one; analytic relu'(0) = 0."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal(size)
    x = np.zeros(size)
    x[size // 2] = 1.0  # one entry in the smooth part

    def loss():
        return float(np.sum(c * np.maximum(x, 0.0)))

    def grads():
        g = c * (x > 0)
        if wrong_at is not None:
            g = g.copy()
            g[wrong_at] *= 2.0
        return {"x": g}

    return loss, {"x": x}, grads


def test_relu_inputs_on_their_kinks_pass_along_random_directions():
    size = 3 * FOLLOW_UP_FULL
    loss, params, grads = _relus_at_zero(size)
    result = check_gradients(loss, params, grads, mode="directional", directions=8)
    assert result.passed, str(result)
    assert not any("outside the" in f.text for f in result.findings)


def test_a_wrong_entry_among_kinks_is_still_found_along_random_directions():
    size = 3 * FOLLOW_UP_FULL
    loss, params, grads = _relus_at_zero(size, wrong_at=size // 2)
    result = check_gradients(loss, params, grads, mode="directional", directions=8)
    assert result.failed == ["x"]


def test_a_parameter_too_large_to_follow_up_entry_by_entry_is_not_failed_by_kinks():
    loss, params, grads = _relus_at_zero(FOLLOW_UP_KINKS + 100, seed=3)
    result = check_gradients(loss, params, grads, mode="directional", directions=8)
    assert result.passed, str(result)
    assert not any(f.is_failure for f in result.findings)


@pytest.mark.parametrize("seed", [0, 1])
def test_max_pooling_after_relu_passes_its_layer_check_in_directional_mode(seed):
    net = conv_pool.build(seed=seed)
    target = adapters.layer_objects(net.layers, net.criterion, input_shape=net.input_shape[1:])
    suite = run_suite(target, groups=("gradients",), mode="directional")
    assert suite.verdict.status != "failed", [o.name for o in suite.outcomes if o.status == "failed"]


def test_max_pooling_that_routes_to_every_entry_fails_in_directional_mode():
    net = conv_pool.build(seed=0, bug="pool_gradient_to_all")
    target = adapters.layer_objects(net.layers, net.criterion, input_shape=net.input_shape[1:])
    suite = run_suite(target, groups=("gradients",), mode="directional")
    assert "layer5_maxpool.input" in suite.verdict.wrong_gradients


def test_batch_norm_then_relu_at_batch_one_passes_in_directional_mode():
    """At batch 1 batch norm's output is its shift, 0 here: every ReLU input sits on its kink."""
    net = layer_library.build("batchnorm", seed=0)
    target = adapters.layer_objects(net.layers, net.loss_function)
    suite = run_suite(target, groups=("gradients",), mode="directional",
                      select=lambda check: check.name == "check_gradients_batch1")
    assert [o.status for o in suite.outcomes] == ["passed"]
