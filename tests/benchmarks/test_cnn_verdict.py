"""Time to a verdict on a 28x28 one-channel CNN, every entry of every parameter differenced (full
mode), the gradient checks only, on 2 worker processes.

    pytest tests/benchmarks/test_cnn_verdict.py --benchmark-only

The network is the shapes corpus's conv/pool layer objects (conv 3x3 -> ReLU -> conv 3x3 stride 2
-> ReLU -> max-pool 2 -> linear, 4 filters, 10 classes: 2,158 parameters) plugged in with its glue;
the single-layer checks (each layer on its own, with its input gradient) are part of the verdict.
The target is under 10 s; ``extra_info`` holds the parameter count, the loss evaluations and the
machine's load while it ran.
"""

import os

import pytest

from gradcheck import run_suite
from tests.corpus.shapes import conv_pool, glue

SIZE, FILTERS, CLASSES = 28, 4, 10


@pytest.mark.parametrize("threads", [1])
def test_full_mode_verdict_on_a_28x28_cnn(benchmark, threads):
    def verdict():
        net = conv_pool.build(seed=0, size=SIZE, channels=1, filters=FILTERS, classes=CLASSES, stride=2)
        return glue.conv_pool(net), run_suite(glue.conv_pool(net), mode="full", groups=("gradients",), jobs=2)

    target, suite = benchmark.pedantic(verdict, rounds=1, iterations=1)
    benchmark.extra_info["parameters"] = sum(p.size for p in target.params.values())
    benchmark.extra_info["loss_evaluations"] = sum(
        p.n_loss_evals for o in suite.outcomes if o.result is not None for p in getattr(o.result, "params", []))
    if hasattr(os, "getloadavg"):
        benchmark.extra_info["load"] = os.getloadavg()[0]
    assert suite.verdict.status == "passed", suite.verdict.headline
