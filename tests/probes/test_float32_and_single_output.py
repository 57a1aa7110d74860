"""Probes ask the one numeric model for their tolerances in float32, and know networks with one
output (binary with a sigmoid, regression)."""

import numpy as np
import pytest

from gradcheck.adapters import per_sample
from gradcheck.probes import probe_example_order, probe_shapes
from gradcheck.probes.descent import Descent, descent_finding
from gradcheck.results import ProbeResult
from tests.corpus.book_program import book_binary, book_float32_program, book_regression
from tests.corpus.networks import PerSampleNetwork, _cross_entropy_cost, batch


@pytest.mark.parametrize("seed", range(4))
def test_a_float32_network_on_float64_data_is_not_order_dependent_by_its_rounding(seed):
    """The loss of a float32 program moves by a few float32 ulps when its examples are reordered
    (7e-8 relative): that is float32 rounding, even though the batch is float64."""
    X, y = batch(8, seed, np.float32)
    target = book_float32_program(seed, np.float32, X, y)
    result = probe_example_order(target, seed=seed, dtype=np.float64)
    assert result.passed, [f.message for f in result.findings]
    tolerance = result.series["loss_difference_tolerance"][0]
    assert tolerance > 1e-6  # float32's, not float64's 1e-12


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_per_example_network_with_one_sigmoid_output_has_its_shapes_checked(cost, dtype):
    net = PerSampleNetwork((5, 6, 1), np.random.default_rng(0), dtype, cost=cost)
    target = per_sample(net, cost=_cross_entropy_cost if cost == "cross_entropy" else None)
    assert not hasattr(target, "n_classes")
    result = probe_shapes(target, seed=0, dtype=dtype)
    assert result.passed, [f.message for f in result.findings]


@pytest.mark.parametrize("build", [book_binary, book_regression])
def test_layer_objects_with_one_output_pass_the_contract_probes(build):
    X, y = batch(8, 0)
    target = build(0, np.float64, X, y)
    for probe in (probe_shapes, probe_example_order):
        result = probe(target, seed=0)
        assert result.passed, [f.message for f in result.findings]


def test_a_descent_test_that_cannot_decide_in_float32_leaves_the_probe_inconclusive():
    undecided = Descent("undecided", loss=1.0, grad_norm=1.0, dtype="float32")
    alone = descent_finding("learning rate", undecided, decisive=True)
    assert alone.inconclusive and "float64 would decide it" in alone.remedy
    assert ProbeResult("learning_rate", "learning rate", [alone]).inconclusive
    # a gradient check of the same run judged the gradients, or the test ran in float64: a warning
    assert not descent_finding("learning rate", undecided).inconclusive
    wide = Descent("undecided", loss=1.0, grad_norm=1.0, dtype="float64")
    assert not descent_finding("learning rate", wide, decisive=True).inconclusive
