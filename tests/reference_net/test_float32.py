"""float32 stays float32 end to end, and the fast paths agree with the plain ones."""

import numpy as np
import pytest

from reference_net.layers import Dense
from reference_net.losses import SoftmaxCrossEntropy
from reference_net.network import build_mlp
from reference_net.optimizers import SGD, Adam, Momentum
from reference_net.training import train


def _data(n=24, n_in=6, k=3):
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (n, n_in)), rng.integers(0, k, n)  # float64 data, as load_mnist gives


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "sigmoid", "tanh"])
def test_float64_data_in_a_float32_network_is_computed_in_float32(hidden):
    X, y = _data()
    net = build_mlp((6, 5, 3), hidden=hidden, dtype=np.float32, l2=0.01, dropout=0.1, seed=0)
    assert net.logits(X).dtype == np.float32
    assert net.forward(X).dtype == np.float32
    assert isinstance(net.loss(X, y), float)
    grads = net.gradients(X, y)
    assert {name: g.dtype for name, g in grads.items()} == dict.fromkeys(net.params, np.float32)
    reference = build_mlp((6, 5, 3), hidden=hidden, dtype=np.float32, l2=0.01, dropout=0.1, seed=0)
    expected = reference.gradients(X.astype(np.float32), y)
    for name in grads:
        np.testing.assert_array_equal(grads[name], expected[name])


@pytest.mark.parametrize("optimizer", [SGD(0.1), Momentum(0.1), Adam(0.01)], ids=["sgd", "momentum", "adam"])
@pytest.mark.parametrize("batch_size", [None, 8])
def test_training_keeps_float32_parameters(optimizer, batch_size):
    X, y = _data()
    net = build_mlp((6, 5, 3), dtype=np.float32, seed=0)
    live = dict(net.params)
    train(net, X, y, optimizer=optimizer, epochs=3, batch_size=batch_size, X_val=X, y_val=y)
    for name, p in net.params.items():
        assert p is live[name] and p.dtype == np.float32, name
    assert all(layer.dW.dtype == np.float32 for layer in net.dense)


def test_training_on_float64_data_equals_training_on_float32_data():
    X, y = _data()
    nets = [build_mlp((6, 5, 3), dtype=np.float32, seed=0) for _ in range(2)]
    train(nets[0], X, y, optimizer=SGD(0.1), epochs=4, batch_size=8)
    train(nets[1], X.astype(np.float32), y, optimizer=SGD(0.1), epochs=4, batch_size=8)
    for name in nets[0].params:
        np.testing.assert_array_equal(nets[0].params[name], nets[1].params[name])


def test_dense_backward_without_the_input_gradient():
    rng = np.random.default_rng(1)
    X, dZ = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer = Dense(3, 2, rng=rng)
    layer.forward(X)
    dX = layer.backward(dZ)
    dW, db = layer.dW.copy(), layer.db.copy()
    assert layer.backward(dZ, need_dX=False) is None
    np.testing.assert_array_equal(layer.dW, dW)
    np.testing.assert_array_equal(layer.db, db)
    np.testing.assert_allclose(dX, dZ @ layer.W.T)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_integer_and_one_hot_labels_give_the_same_loss_and_gradient(dtype):
    rng = np.random.default_rng(2)
    logits, y = rng.normal(size=(5, 4)).astype(dtype), np.array([0, 3, 1, 3, 2])
    by_index, by_one_hot = SoftmaxCrossEntropy(), SoftmaxCrossEntropy()
    loss = by_index.forward(logits, y)
    assert loss == pytest.approx(by_one_hot.forward(logits, np.eye(4)[y]), rel=1e-6)
    d_index, d_one_hot = by_index.backward(), by_one_hot.backward()
    assert d_index.dtype == d_one_hot.dtype == dtype
    np.testing.assert_allclose(d_index, d_one_hot, rtol=1e-6, atol=1e-7)
