"""The reference network passes its own checker, in float64 and float32."""

import numpy as np
import pytest

from gradcheck import check_gradients
from gradcheck.checks.evaluation import ROUNDING_SAMPLES
from reference_net.network import build_mlp


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden,l2", [("relu", 0.0), ("tanh", 0.01), ("sigmoid", 0.0)])
def test_reference_network_passes_full_mode(dtype, hidden, l2):
    net = build_mlp((20, 16, 10), hidden=hidden, l2=l2, seed=0, dtype=dtype)
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, size=(32, 20)).astype(dtype)
    y = rng.integers(0, 10, 32)
    result = check_gradients(lambda: net.loss(X, y), net.params, lambda: net.gradients(X, y))
    assert result.passed, str(result)
    # a float32 loss is sampled 6 times around a few entries of each parameter to measure its rounding
    measuring = 6 * ROUNDING_SAMPLES * len(net.params) if dtype == np.float32 else 0
    assert result.n_loss_evals == 2 + measuring + 2 * sum(p.size for p in net.params.values())


def test_reference_network_binary_and_mse_heads():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(16, 5))
    for output, y in (("sigmoid", rng.integers(0, 2, (16, 1)).astype(float)),
                      ("linear", rng.normal(size=(16, 1)))):
        net = build_mlp((5, 4, 1), output=output, seed=0)
        result = check_gradients(lambda net=net, y=y: net.loss(X, y), net.params,
                                 lambda net=net, y=y: net.gradients(X, y))
        assert result.passed, str(result)


def _mnist_batch(seed, dtype, size=64):
    from reference_net.data import load_mnist

    X, y = load_mnist()
    rows = np.random.default_rng(seed).choice(len(y), size=size, replace=False)
    return X[rows].astype(dtype), y[rows]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_article_network_on_real_mnist_passes_in_float32(seed):
    net = build_mlp((784, 10, 10), seed=seed, dtype=np.float32)
    X, y = _mnist_batch(seed, np.float32)
    result = check_gradients(lambda: net.loss(X, y), net.params, lambda: net.gradients(X, y))
    assert result.passed, str(result)


def test_directional_mode_catches_bugs_on_the_article_network_cheaply():
    net = build_mlp((784, 10, 10), seed=0)
    X, y = _mnist_batch(0, np.float64)
    n_full = 2 + 2 * sum(p.size for p in net.params.values())
    clean = check_gradients(lambda: net.loss(X, y), net.params, lambda: net.gradients(X, y),
                            mode="directional")
    assert clean.passed and clean.n_loss_evals / n_full < 0.01
    grads = net.gradients(X, y)
    broken = {"W1": grads["W1"] * 64, "b1": np.full_like(grads["b1"], grads["b1"].sum()),
              "W2": grads["W2"].T.copy(), "b2": -grads["b2"]}
    result = check_gradients(lambda: net.loss(X, y), net.params, broken, mode="directional",
                             batch_size=64)
    kinds = {name: result[name].findings[0].kind for name in result.failed}
    assert kinds == {"W1": "scale", "b1": "reduction", "W2": "transpose", "b2": "sign"}
