"""The reference network passes its own checker, in float64 and float32."""

import numpy as np
import pytest

from gradcheck import check_gradients
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
    assert result.n_loss_evals == 2 + 2 * sum(p.size for p in net.params.values())


def test_reference_network_binary_and_mse_heads():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(16, 5))
    for output, y in (("sigmoid", rng.integers(0, 2, (16, 1)).astype(float)),
                      ("linear", rng.normal(size=(16, 1)))):
        net = build_mlp((5, 4, 1), output=output, seed=0)
        result = check_gradients(lambda net=net, y=y: net.loss(X, y), net.params,
                                 lambda net=net, y=y: net.gradients(X, y))
        assert result.passed, str(result)
