"""A per-sample network's loss through the adapter: one batched call against one call per column.

    pytest tests/benchmarks/test_adapter_speed.py --benchmark-only

On a 784-30-10 Nielsen-style network (23,860 parameters) a full check is 2n = 47,720 loss
evaluations, so the cost of one evaluation decides whether the check fits the time guard.
"""

import os
import runpy
from pathlib import Path

import numpy as np
import pytest

from gradcheck import adapters

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NIELSEN = runpy.run_path(str(EXAMPLES / "_nielsen_cost_style.py"))


def _network(batched: bool):
    net = NIELSEN["Network"]([784, 30, 10])
    if not batched:
        feedforward = net.feedforward

        def one_column(a):  # code written for one example: the adapter falls back to a loop
            if a.shape[1] != 1:
                raise ValueError("one column at a time")
            return feedforward(a)

        net.feedforward = one_column
    return adapters.per_sample(net)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "per-column"])
def test_per_sample_loss_784_30_10(benchmark, batched):
    target = _network(batched)
    rng = np.random.default_rng(0)
    X, y = rng.uniform(0, 1, size=(784, 64)), rng.integers(0, 10, size=64)
    target.loss(X, y)  # the first call finds out whether batches work
    if hasattr(os, "getloadavg"):
        benchmark.extra_info["load"] = os.getloadavg()[0]
    benchmark.extra_info["full_check_evaluations"] = 2 * sum(p.size for p in target.params.values())
    value = benchmark(target.loss, X, y)
    assert np.isfinite(value)
