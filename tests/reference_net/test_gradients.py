"""Every layer's and loss's backward against central finite differences."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradcheck import check_gradients, check_layer
from reference_net.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, sigmoid, softmax
from reference_net.layers import Dense
from reference_net.losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from reference_net.network import build_mlp

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("activation", [ReLU(), LeakyReLU(0.1), Sigmoid(), Tanh(), Softmax()],
                         ids=lambda a: type(a).__name__)
def test_activation_backward(activation):
    Z = RNG.normal(size=(4, 5))
    result = check_layer(activation.forward, activation.backward, Z)
    assert result.passed, str(result)


@pytest.mark.parametrize("loss,y", [
    (SoftmaxCrossEntropy(), np.array([0, 2, 1, 2])),
    (BinaryCrossEntropy(), np.array([[1.0], [0.0], [1.0], [0.0]])),
    (MSE(), RNG.normal(size=(4, 3))),
], ids=["softmax_ce", "bce", "mse"])
def test_loss_backward(loss, y):
    width = 1 if isinstance(loss, BinaryCrossEntropy) else 3
    pred = RNG.normal(size=(4, width))

    def grads():
        loss.forward(pred, y)
        return {"pred": loss.backward()}

    result = check_gradients(lambda: loss.forward(pred, y), {"pred": pred}, grads)
    assert result.passed, str(result)


def test_dense_backward():
    layer = Dense(3, 4, rng=np.random.default_rng(1))
    X = RNG.normal(size=(5, 3))
    result = check_layer(layer.forward, layer.backward, X, {"W": layer.W, "b": layer.b},
                         param_grads=lambda: {"W": layer.dW, "b": layer.db})
    assert result.passed, str(result)
    assert [p.name for p in result.params] == ["input", "W", "b"]


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_network_gradients(hidden, l2):
    net = build_mlp((6, 5, 4, 3), hidden=hidden, l2=l2, seed=2)
    X, y = RNG.normal(size=(7, 6)), np.array([0, 1, 2, 0, 1, 2, 2])
    assert set(net.params) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    result = check_gradients(lambda: net.loss(X, y), net.params, lambda: net.gradients(X, y))
    assert result.passed, str(result)


@given(st.floats(-1e4, 1e4), st.integers(1, 6))
def test_stable_functions_are_finite_and_exact(z, width):
    Z = np.full((2, width), z)
    Z[0, 0] = -z
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        s = sigmoid(Z)
        p = softmax(Z, axis=1)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(sigmoid(-Z), 1 - s, atol=1e-12)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_sigmoid_extremes_emit_no_warning():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out = sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 1.0])
