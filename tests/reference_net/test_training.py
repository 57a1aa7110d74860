"""Training: overfitting, real MNIST, dropout, clipping, optimisers, the non-finite guard."""

import numpy as np
import pytest

from reference_net.clipping import clip_by_global_norm, clip_by_value
from reference_net.data import load_mnist, train_test_split
from reference_net.errors import NonFiniteError
from reference_net.layers import Dropout
from reference_net.network import build_mlp
from reference_net.optimizers import SGD, Adam, Momentum
from reference_net.training import accuracy, train


@pytest.mark.parametrize("optimizer", [SGD(0.5), Momentum(0.1), Adam(0.02)],
                         ids=["sgd", "momentum", "adam"])
def test_overfits_a_tiny_data_set(optimizer):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 5)), np.arange(12) % 3
    net = build_mlp((5, 16, 3), seed=0)
    history = train(net, X, y, optimizer=optimizer, epochs=600)
    assert history.loss[-1] < 0.02
    assert accuracy(net, X, y) == 1.0


@pytest.fixture(scope="module")
def mnist_split():
    X, y = load_mnist()
    return train_test_split(X, y, n_test=1000, seed=0)


def test_mnist_minibatch_reaches_stated_accuracy(mnist_split):
    X_train, y_train, X_test, y_test = mnist_split
    net = build_mlp((784, 32, 10), seed=0)
    train(net, X_train, y_train, optimizer=Adam(3e-3), epochs=5, batch_size=64, seed=0)
    assert accuracy(net, X_test, y_test) >= 0.85


def test_minibatch_reshuffles_every_epoch():
    X = np.arange(8, dtype=float).reshape(8, 1)
    y = np.zeros(8, dtype=int)
    net = build_mlp((1, 2), seed=0)
    dense = net.layers[0]
    seen_orders = []
    forward = dense.forward

    def recording_forward(A):
        seen_orders.append(tuple(A[:, 0]))
        return forward(A)

    dense.forward = recording_forward
    train(net, X, y, optimizer=SGD(0.1), epochs=2, batch_size=8, seed=0)
    first, second = seen_orders[0], seen_orders[1]
    assert sorted(first) == sorted(second) == list(range(8))
    assert first != second


def test_inverted_dropout_keeps_expectation():
    drop = Dropout(0.5, rng=np.random.default_rng(0))
    drop.training = True
    X = np.ones((2000, 50))
    out = drop.forward(X)
    assert set(np.unique(out)) == {0.0, 2.0}
    assert out.mean() == pytest.approx(1.0, abs=0.02)
    drop.training = False
    np.testing.assert_array_equal(drop.forward(X), X)  # no test-time scaling


def test_clipping():
    grads = {"W": np.array([[3.0, -4.0]]), "b": np.array([0.5])}
    by_value = clip_by_value(grads, 1.0)
    np.testing.assert_array_equal(by_value["W"], [[1.0, -1.0]])
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(np.sqrt(25.25))
    total = np.sqrt(sum(np.sum(g**2) for g in clipped.values()))
    assert total == pytest.approx(1.0)
    np.testing.assert_array_equal(grads["W"], [[3.0, -4.0]])  # input untouched


def test_guard_names_layer_step_and_quantity():
    rng = np.random.default_rng(0)
    # raw pixels (no / 255) and a large step: the activations overflow within ~60 steps
    X, y = rng.uniform(0, 255, size=(64, 20)), rng.integers(0, 3, 64)
    net = build_mlp((20, 8, 3), hidden="leaky_relu", seed=0)
    with pytest.raises(NonFiniteError) as info:
        train(net, X, y, optimizer=SGD(10.0), epochs=200)
    err = info.value
    assert err.quantity == "activation"
    assert err.layer.startswith("dense") and 0 < err.step < 200
    assert f"step {err.step}" in str(err)


def test_dropout_network_trains_and_checks_deterministically():
    from gradcheck import check_gradients

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 3, 30)
    net = build_mlp((5, 16, 3), dropout=0.5, seed=0)
    assert net.loss(X, y) == net.loss(X, y)  # evaluation mode: no mask
    assert net.loss(X, y, training=True) != net.loss(X, y, training=True)  # a fresh mask each call
    result = check_gradients(lambda: net.loss(X, y), net.params, lambda: net.gradients(X, y))
    assert result.passed, str(result)
    history = train(net, X, y, optimizer=Adam(0.01), epochs=200)
    assert history.loss[-1] < history.loss[0]
