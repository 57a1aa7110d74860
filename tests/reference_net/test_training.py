"""Training: overfitting, real MNIST, dropout, clipping, optimisers, the non-finite guard."""

import io
import sys

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


@pytest.mark.slow
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


def _diverging(hidden="leaky_relu", sizes=(20, 8, 3), dropout=0.0, dtype=np.float64):
    """Raw pixels (no / 255) and a large step: values overflow within a few dozen steps."""
    rng = np.random.default_rng(0)
    X, y = rng.uniform(0, 255, size=(64, sizes[0])), rng.integers(0, sizes[-1], 64)
    return build_mlp(sizes, hidden=hidden, dropout=dropout, seed=0, dtype=dtype), X, y


def _backward_overflow(n=1):
    """Finite loss, infinite backward: dead ReLUs (b1 = -1000) hide a W2 of 1.5e308 from the
    forward pass, but dZ2 @ W2.T overflows, and inf * 0 (the ReLU mask) makes dW1 NaN at step 0."""
    rng = np.random.default_rng(0)
    X, y = rng.uniform(0, 1, size=(n, 4)), np.zeros(n, dtype=int)
    net = build_mlp((4, 3, 2), seed=0)
    net.params["b1"][:] = -1000.0
    net.params["W2"][:] = [-1.5e308, 1.5e308]
    net.params["b2"][:] = [-1000.0, 0.0]
    return net, X, y


GUARD_CASES = {
    "leaky_relu-full-batch": (lambda: _diverging(), dict(optimizer=SGD(10.0), epochs=200)),
    "leaky_relu-batch-16": (lambda: _diverging(), dict(optimizer=SGD(10.0), epochs=200, batch_size=16)),
    "momentum-batch-10": (lambda: _diverging(), dict(optimizer=Momentum(5.0), epochs=200, batch_size=10)),
    "dropout-batch-16": (lambda: _diverging(dropout=0.3), dict(optimizer=SGD(10.0), epochs=200, batch_size=16)),
    "clip-value": (lambda: _diverging(), dict(optimizer=SGD(10.0), epochs=200, clip_value=1e300)),
    "clip-norm-batch-32": (lambda: _diverging(), dict(optimizer=SGD(10.0), epochs=200, batch_size=32,
                                                      clip_norm=1e300)),
    "float32-batch-16": (lambda: _diverging(dtype=np.float32), dict(optimizer=SGD(10.0), epochs=200, batch_size=16)),
    "backward-overflow-full-batch": (_backward_overflow, dict(optimizer=SGD(0.1), epochs=3)),
    "backward-overflow-batch-1": (lambda: _backward_overflow(4), dict(optimizer=SGD(0.1), epochs=3, batch_size=1)),
}


@pytest.mark.parametrize("case", list(GUARD_CASES))
def test_loss_check_finds_what_checking_every_value_finds(case):
    """The default guard checks the loss each step and replays the epoch to say where; checking
    every activation and gradient at every step must name the same step, layer and quantity, and
    leave the same parameters."""
    make, options = GUARD_CASES[case]
    found = {}
    for every_step in (False, True):
        net, X, y = make()
        opts = dict(options, optimizer=type(options["optimizer"])(options["optimizer"].lr))
        with pytest.raises(NonFiniteError) as info:
            train(net, X, y, check_every_step=every_step, **opts)
        found[every_step] = (info.value, {name: p.copy() for name, p in net.params.items()})
    (fast, fast_params), (every, every_params) = found[False], found[True]
    assert (fast.step, fast.layer, fast.quantity, str(fast)) == (every.step, every.layer, every.quantity, str(every))
    for name in fast_params:
        np.testing.assert_array_equal(fast_params[name], every_params[name])


def test_backward_overflow_is_named_as_a_gradient_at_its_step():
    net, X, y = _backward_overflow(4)
    with pytest.raises(NonFiniteError) as info:
        train(net, X, y, optimizer=SGD(0.1), epochs=3, batch_size=1)
    assert (info.value.step, info.value.layer, info.value.quantity) == (0, "dense1", "gradient")
    assert "in dW1" in str(info.value)


@pytest.mark.slow
def test_training_equals_a_plain_numpy_loop_bit_for_bit(mnist_split):
    """Guard, history and layer objects cost no arithmetic: the weights after training are those of
    the plain loop the benchmarks compare against."""
    from tests.benchmarks.workloads import LR, plain_loop_trainer

    X_train, y_train = mnist_split[0][:1000], mnist_split[1][:1000]
    for sizes, batch_size, dtype in [((784, 10, 10), 32, np.float64), ((784, 16, 12, 10), None, np.float64),
                                     ((784, 10, 10), 100, np.float32)]:
        plain = plain_loop_trainer(sizes, dtype, batch_size, X_train, y_train, epochs=2)()
        net = build_mlp(sizes, seed=0, dtype=dtype)
        train(net, X_train, y_train, optimizer=SGD(LR), epochs=2, batch_size=batch_size, seed=0)
        for got, want in zip([p for d in net.dense for p in (d.W, d.b)], plain):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("batch_size", [None, 12], ids=["full-batch", "one-shuffled-batch"])
def test_history_accuracy_is_measured_before_the_update(batch_size):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(12, 5)), rng.integers(0, 3, 12)
    net = build_mlp((5, 7, 3), seed=0)
    before = accuracy(net, X, y)
    history = train(net, X, y, optimizer=SGD(0.5), epochs=3, batch_size=batch_size)
    assert history.step == [0, 1, 2]
    assert history.train_accuracy[0] == before


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


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_progress_bar_only_on_a_terminal(monkeypatch, terminal):
    stream = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 5)), rng.integers(0, 3, 12)
    history = train(build_mlp((5, 3), seed=0), X, y, optimizer=SGD(0.1), epochs=4, progress="warming up")
    assert len(history.epoch) == 4
    if terminal:
        assert "warming up" in stream.getvalue() and "epoch" in stream.getvalue()
    else:
        assert stream.getvalue() == ""
