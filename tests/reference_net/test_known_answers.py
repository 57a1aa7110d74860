"""Known answers from the second article's worked numbers."""

import numpy as np
import pytest

from reference_net.activations import sigmoid
from reference_net.losses import binary_cross_entropy_from_probs, mse


def test_single_neuron():
    w, b, x = np.array([0.5, -0.6]), 0.1, np.array([2.0, 3.0])
    z = x @ w + b
    assert z == pytest.approx(-0.7)
    assert sigmoid(z) == pytest.approx(0.332, abs=5e-4)


def test_two_layer_forward():
    # "all weights [0, 1]": every neuron's weight vector is [0, 1], i.e. W1 = [[0, 0], [1, 1]]
    # in (n_in, n_out) layout; that reading reproduces both of the article's numbers.
    x = np.array([[2.0, 3.0]])
    W1, b1 = np.array([[0.0, 0.0], [1.0, 1.0]]), np.zeros(2)
    W2, b2 = np.array([[0.0], [1.0]]), np.zeros(1)
    a1 = sigmoid(x @ W1 + b1)
    y_hat = sigmoid(a1 @ W2 + b2)
    np.testing.assert_allclose(a1, [[0.9526, 0.9526]], atol=5e-5)
    np.testing.assert_allclose(y_hat, [[0.7216]], atol=5e-5)


@pytest.mark.parametrize(
    ("p", "bce", "squared"),
    [(0.9, 0.105, 0.01), (0.1, 2.302, 0.81)],
)
def test_bce_and_mse_for_label_one(p, bce, squared):
    assert binary_cross_entropy_from_probs(np.array([p]), np.array([1.0])) == pytest.approx(bce, abs=1e-3)
    assert mse(np.array([p]), np.array([1.0])) == pytest.approx(squared)


def test_hand_worked_backward_pass():
    # The article's given intermediates (not a consistent forward pass, but its arithmetic holds).
    x, y = np.array([[2.0, 3.0]]), 1.0
    a1, y_hat = np.array([[0.8, 0.6]]), 0.72
    W2 = np.array([[0.5], [-0.3]])
    dz2 = np.array([[y_hat - y]])
    da1 = dz2 @ W2.T
    dz1 = da1 * a1 * (1 - a1)
    dW1 = x.T @ dz1
    np.testing.assert_allclose(da1, [[-0.14, 0.084]])
    np.testing.assert_allclose(dz1, [[-0.0224, 0.02016]])
    np.testing.assert_allclose(dW1, [[-0.0448, 0.04032], [-0.0672, 0.06048]])
