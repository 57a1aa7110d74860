"""Fault injection: the user's loss or backward misbehaves at some call.

Whatever the call, every user array is bit-for-bit what it was before, and the result or the
error says what happened. KeyboardInterrupt propagates, after the arrays are restored.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcheck import UserCodeError, check_gradients, check_layer
from tests.system.reliability.helpers import bits
from tests.zoo.networks import Correct

MODES = st.sampled_from(["full", "sample", "directional"])
METHODS = st.sampled_from(["central", "richardson"])
CALLS = st.integers(1, 120)


def small_net() -> Correct:
    """24 entries, a kink-free point; a negative zero whose sign must survive too."""
    net = Correct(n_in=3, hidden=3, k=3, m=4, seed=1)
    net.params["b1"][0] = -0.0
    return net


class Faulty:
    """The network's loss, with ``fault(call, value)`` deciding each call's fate."""

    def __init__(self, net, fault):
        self.net, self.fault, self.calls = net, fault, 0

    def __call__(self):
        self.calls += 1
        return self.fault(self.calls, self.net)


def raising_at(at, exc):
    def fault(call, net):
        if call == at:
            raise exc
        return net.loss()

    return fault


def kinds(result) -> set[str]:
    return {f.kind for f in result.findings}


@given(at=CALLS, mode=MODES, method=METHODS)
def test_loss_raising_at_any_call_is_named_and_restored(at, mode, method):
    net = small_net()
    before = bits(net.params)
    loss = Faulty(net, raising_at(at, ValueError("boom")))
    try:
        result = check_gradients(loss, net.params, net.gradients(), mode=mode, method=method)
    except UserCodeError as err:
        assert "ValueError: boom at " in str(err) and f"(call {at}, " in str(err)  # the user's line too
        assert "restored" in str(err)
        assert isinstance(err.__cause__, ValueError)
    else:
        assert at > result.n_loss_evals and result.passed
    assert bits(net.params) == before


@given(at=CALLS, mode=MODES)
def test_keyboard_interrupt_propagates_after_restoring(at, mode):
    net = small_net()
    before = bits(net.params)
    loss = Faulty(net, raising_at(at, KeyboardInterrupt()))
    try:
        result = check_gradients(loss, net.params, net.gradients(), mode=mode)
    except KeyboardInterrupt:
        assert loss.calls == at
    else:
        assert at > result.n_loss_evals
    assert bits(net.params) == before


def test_backward_raising_fails_the_check_and_restores():
    net = small_net()
    before = bits(net.params)

    def grads():
        net.params["W1"] *= 2  # half-way through an in-place update
        raise RuntimeError("backward failed")

    result = check_gradients(net.loss, net.params, grads)
    assert not result.passed
    assert "gradients: raised RuntimeError: backward failed" in str(result)
    assert bits(net.params) == before


def test_interrupt_in_backward_propagates_and_restores():
    net = small_net()
    before = bits(net.params)

    def grads():
        net.params["W1"] *= 2
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_gradients(net.loss, net.params, grads)
    assert bits(net.params) == before


@given(at=CALLS, mode=MODES, method=METHODS)
def test_loss_returning_nan_once_is_reported(at, mode, method):
    net = small_net()
    before = bits(net.params)

    def fault(call, net):
        return float("nan") if call == at else net.loss()

    result = check_gradients(Faulty(net, fault), net.params, net.gradients(), mode=mode, method=method)
    if at <= result.n_loss_evals:
        assert kinds(result) & {"nonfinite", "nondeterministic"}
        assert "nan" in str(result).lower()
    else:
        assert result.passed
    assert bits(net.params) == before


@given(scale=st.floats(1e-6, 1.0), mode=MODES)
def test_random_loss_is_nondeterministic(scale, mode):
    net = small_net()
    before = bits(net.params)
    rng = np.random.default_rng(0)
    result = check_gradients(Faulty(net, lambda call, net: net.loss() + scale * rng.random()),
                             net.params, net.gradients(), mode=mode)
    assert not result.passed and "nondeterministic" in kinds(result) and result.n_loss_evals == 2
    assert bits(net.params) == before


@given(at=CALLS, mode=MODES)
def test_loss_drifting_from_some_call_on_is_reported_when_it_fails(at, mode):
    net = small_net()
    before = bits(net.params)
    result = check_gradients(Faulty(net, lambda call, net: net.loss() + (0.5 if call >= at else 0.0)),
                             net.params, net.gradients(), mode=mode)
    assert result.passed or "nondeterministic" in kinds(result)
    if at == 2:  # the two calls at the start disagree (from call 1 on, it is just a constant)
        assert "nondeterministic" in kinds(result) and result.n_loss_evals == 2
    assert bits(net.params) == before


@given(at=CALLS, mode=MODES)
def test_loss_writing_into_the_parameters_is_a_mutation(at, mode):
    net = small_net()
    before = bits(net.params)

    def fault(call, net):
        if call == at:
            for array in net.params.values():
                array *= 1.5  # e.g. an SGD step left inside the loss
        return net.loss()

    result = check_gradients(Faulty(net, fault), net.params, net.gradients(), mode=mode)
    if at <= result.n_loss_evals:
        assert "mutation" in kinds(result) and not result.passed
    else:
        assert result.passed
    assert bits(net.params) == before


def test_backward_writing_into_the_parameters_is_a_mutation():
    net = small_net()
    before = bits(net.params)

    def grads():
        g = net.gradients()
        for name, array in net.params.items():
            array -= 0.1 * g[name]  # the SGD step taken inside backward
        return g

    result = check_gradients(net.loss, net.params, grads)
    assert "mutation" in kinds(result) and "calling grads changed its values" in str(result)
    assert bits(net.params) == before


# -- check_layer -------------------------------------------------------------------------------
class Dense:
    def __init__(self):
        rng = np.random.default_rng(3)
        self.W, self.b = rng.normal(size=(3, 2)), rng.normal(size=2)
        self.calls = 0

    def forward(self, X):
        self.X = X
        return X @ self.W + self.b

    def backward(self, dY):
        return dY @ self.W.T, {"W": self.X.T @ dY, "b": dY.sum(axis=0)}


X = np.random.default_rng(4).normal(size=(4, 3))


@given(at=st.integers(1, 60), exc=st.sampled_from([ValueError("forward broke"), KeyboardInterrupt()]),
       mode=MODES)
def test_layer_forward_raising_at_any_call(at, exc, mode):
    layer = Dense()
    params = {"W": layer.W, "b": layer.b}
    before, x_before = bits(params), bits({"X": X})
    calls = {"n": 0}

    def forward(X_):
        calls["n"] += 1
        if calls["n"] == at:
            raise exc
        return layer.forward(X_)

    try:
        result = check_layer(forward, layer.backward, X, params, mode=mode)
    except UserCodeError as err:
        assert "the forward function raised ValueError: forward broke" in str(err)
    except KeyboardInterrupt:
        assert calls["n"] == at
    else:
        assert result.passed and at > calls["n"]
    assert bits(params) == before and bits({"X": X}) == x_before


@pytest.mark.parametrize("target", ["X", "W"])
def test_layer_backward_writing_into_its_inputs_is_a_mutation(target):
    layer = Dense()
    params = {"W": layer.W, "b": layer.b}
    before = bits(params)

    def backward(dY):
        out = layer.backward(dY)
        (layer.X if target == "X" else layer.W)[0, 0] += 1.0  # an in-place update inside backward
        return out

    result = check_layer(layer.forward, backward, X, params)
    assert "mutation" in kinds(result) and "calling backward changed its values" in str(result)
    assert bits(params) == before


def test_layer_backward_interrupted_restores_the_parameters():
    layer = Dense()
    params = {"W": layer.W, "b": layer.b}
    before = bits(params)

    def backward(dY):
        layer.W[:] = 0.0
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check_layer(layer.forward, backward, X, params)
    assert bits(params) == before
