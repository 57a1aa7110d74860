"""Time to a verdict on a 28x28 one-channel CNN, every entry of every parameter differenced (full
mode), the gradient checks only, on 2 worker processes.

    pytest tests/benchmarks/test_cnn_verdict.py --benchmark-only

The network is the shapes corpus's conv/pool layer objects (conv 3x3 -> ReLU -> conv 3x3 stride 2
-> ReLU -> max-pool 2 -> linear, 4 filters, 10 classes: 2,158 parameters) plugged in with its glue.
The verdict is made of the whole network's checks at full size (one example, 20 examples, 20
lacking two classes), whose loss reuses the outputs of the layers a perturbed entry cannot change
(:mod:`gradcheck.adapters.prefix`), and of each layer's own check on the smallest corner of its
input it takes (:mod:`gradcheck.targets.shrinking`). The target is under 10 s; ``extra_info`` holds
the parameter count, the loss evaluations and the machine's load while it ran.

The companion benchmark writes each conv/pool bug of the corpus into the same network and checks
that the same path flags it on exactly the parameters it makes wrong.
"""

import os

import pytest

from gradcheck import run_suite
from tests.corpus.shapes import conv_pool, glue
from tests.corpus.shapes.catalogue import BUGS

SIZE, FILTERS, CLASSES = 28, 4, 10
#: The corpus harness's names for the conv/pool parameters -> the glued target's.
GLUE_NAMES = {"layers.0.W": "W1", "layers.0.b": "b1", "layers.2.W": "W2", "layers.2.b": "b2",
              "layers.5.W": "W3", "layers.5.b": "b3"}


def _network(bug=None):
    return conv_pool.build(seed=0, size=SIZE, channels=1, filters=FILTERS, classes=CLASSES, stride=2,
                           bug=bug)


def _record_load(benchmark):
    if hasattr(os, "getloadavg"):
        benchmark.extra_info["load"] = os.getloadavg()[0]


@pytest.mark.parametrize("threads", [1])
def test_full_mode_verdict_on_a_28x28_cnn(benchmark, threads):
    def verdict():
        target = glue.conv_pool(_network())
        return target, run_suite(target, mode="full", groups=("gradients",), jobs=2)

    target, suite = benchmark.pedantic(verdict, rounds=1, iterations=1)
    benchmark.extra_info["parameters"] = sum(p.size for p in target.params.values())
    benchmark.extra_info["loss_evaluations"] = sum(
        p.n_loss_evals for o in suite.outcomes if o.result is not None for p in getattr(o.result, "params", []))
    _record_load(benchmark)
    assert suite.verdict.status == "passed", suite.verdict.headline
    assert len(suite.outcomes) == 9 and target._memo.note is None


CONV_POOL_BUGS = [b for b in BUGS if b.module == "conv_pool"]


@pytest.mark.parametrize("threads", [1])
@pytest.mark.parametrize("bug", CONV_POOL_BUGS, ids=[b.name for b in CONV_POOL_BUGS])
def test_a_bug_in_the_28x28_cnn_is_flagged_on_exactly_its_parameters(benchmark, threads, bug):
    target = glue.conv_pool(_network(bug.name))
    suite = benchmark.pedantic(lambda: run_suite(target, mode="full", groups=("gradients",), jobs=2),
                               rounds=1, iterations=1)
    _record_load(benchmark)
    wrong = {GLUE_NAMES[name] for name in bug.wrong if name != "input"}
    network = [o for o in suite.outcomes if o.subject == "network" and o.result is not None
               and o.result.params]
    assert {o.name for o in network} >= {"check_gradients_batch1", "check_gradients_batch20"}
    for outcome in network:
        assert set(outcome.result.failed) == wrong, (outcome.name, outcome.result.failed)
    layers = [o for o in suite.outcomes if o.subject not in ("network", "")]
    assert any(not o.passed for o in layers), "no layer's own check flagged it"
    assert suite.verdict.status == "failed"
