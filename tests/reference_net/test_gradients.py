"""Every layer's and loss's backward against central finite differences."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_net.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, sigmoid, softmax
from reference_net.layers import Dense
from reference_net.losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy
from reference_net.network import build_mlp
from tests.reference_net.finite_differences import numeric_gradient, rel_error

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("activation", [ReLU(), LeakyReLU(0.1), Sigmoid(), Tanh(), Softmax()],
                         ids=lambda a: type(a).__name__)
def test_activation_backward(activation):
    Z = RNG.normal(size=(4, 5))
    Z[np.abs(Z) < 1e-3] = 0.5  # keep ReLU's kink away from the finite-difference step
    dA = RNG.normal(size=Z.shape)
    activation.forward(Z)
    analytic = activation.backward(dA)
    numeric = numeric_gradient(lambda: float(np.sum(activation.forward(Z) * dA)), Z)
    assert rel_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("loss,y", [
    (SoftmaxCrossEntropy(), np.array([0, 2, 1, 2])),
    (BinaryCrossEntropy(), np.array([[1.0], [0.0], [1.0], [0.0]])),
    (MSE(), RNG.normal(size=(4, 3))),
], ids=["softmax_ce", "bce", "mse"])
def test_loss_backward(loss, y):
    width = 1 if isinstance(loss, BinaryCrossEntropy) else 3
    pred = RNG.normal(size=(4, width))
    loss.forward(pred, y)
    analytic = loss.backward()
    numeric = numeric_gradient(lambda: loss.forward(pred, y), pred)
    assert rel_error(analytic, numeric) < 1e-6


def test_dense_backward():
    layer = Dense(3, 4, rng=np.random.default_rng(1))
    X, dZ = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 4))
    layer.forward(X)
    dX = layer.backward(dZ)
    surrogate = lambda: float(np.sum(layer.forward(X) * dZ))  # noqa: E731
    assert rel_error(layer.dW, numeric_gradient(surrogate, layer.W)) < 1e-6
    assert rel_error(layer.db, numeric_gradient(surrogate, layer.b)) < 1e-6
    assert rel_error(dX, numeric_gradient(surrogate, X)) < 1e-6


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_network_gradients(hidden, l2):
    net = build_mlp((6, 5, 4, 3), hidden=hidden, l2=l2, seed=2)
    X, y = RNG.normal(size=(7, 6)), np.array([0, 1, 2, 0, 1, 2, 2])
    grads = net.gradients(X, y)
    assert set(grads) == set(net.params) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    for name, p in net.params.items():
        numeric = numeric_gradient(lambda: net.loss(X, y), p)
        assert grads[name].shape == p.shape
        assert rel_error(grads[name], numeric) < 1e-5, name


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
