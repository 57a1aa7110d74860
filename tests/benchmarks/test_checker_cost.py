"""What a gradient check costs on the 784-10-10 reference network (run with `tox -e bench`).

The floor is 2n loss evaluations (n = 7,960 parameters); the ratio of a full check's time to
2n times one loss evaluation says how much the checker itself adds.
"""

import timeit

import numpy as np
import pytest

from gradcheck import check_gradients
from reference_net.data import load_mnist
from reference_net.network import build_mlp


def _problem(batch_size):
    net = build_mlp((784, 10, 10), seed=0)
    X, y = load_mnist()
    rows = np.random.default_rng(0).choice(len(y), size=batch_size, replace=False)
    return net, X[rows], y[rows]


@pytest.mark.parametrize("batch_size", [64, 256])
@pytest.mark.parametrize("mode", ["full", "sample", "directional"])
def test_check_cost(benchmark, mode, batch_size):
    net, X, y = _problem(batch_size)
    loss = lambda: net.loss(X, y)  # noqa: E731
    grads = net.gradients(X, y)
    n = sum(p.size for p in net.params.values())
    timer = timeit.Timer(loss)
    repeats, _ = timer.autorange()
    one_eval = min(timer.repeat(repeat=5, number=repeats)) / repeats
    result = benchmark.pedantic(
        lambda: check_gradients(loss, net.params, grads, mode=mode, samples=64),
        rounds=3 if mode == "full" else 10, iterations=1,
    )
    assert result.passed
    floor = result.n_loss_evals * one_eval
    benchmark.extra_info.update({
        "parameters": n,
        "loss_evals": result.n_loss_evals,
        "loss_evals_full": 2 * n + 2,
        "evals_fraction_of_full": result.n_loss_evals / (2 * n + 2),
        "one_loss_eval_s": one_eval,
        "ratio_to_eval_floor": benchmark.stats.stats.median / floor,
    })
