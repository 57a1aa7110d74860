"""Every adapter takes task=, validated, and the run uses the labels of that task."""

import sys
from pathlib import Path

import numpy as np
import pytest

import gradcheck
from gradcheck.engine import run_suite
from gradcheck.errors import InvalidArgumentError
from gradcheck.targets.batches import describe

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from _tasks_style import BinaryNet, RegressionNet  # noqa: E402


def _functional(net, **options):
    """The network's own functions behind the functional adapter (its params are the live arrays)."""
    return gradcheck.adapters.functional(net.params, loss=lambda p, X, y: net.loss(X, y),
                                         gradients=lambda p, X, y: net.gradients(X, y), **options)


def test_functional_adapter_declares_the_task():
    target = _functional(BinaryNet(), task="binary")
    layout, task = describe(target)
    assert (task.name, task.declared) == ("binary", True)
    assert run_suite(target, groups=("gradients",)).passed


def test_a_declared_regression_is_checked_on_real_valued_targets():
    net = RegressionNet()
    seen = []
    target = gradcheck.adapters.functional(
        net.params, loss=lambda p, X, y: seen.append(np.asarray(y).copy()) or net.loss(X, y),
        gradients=lambda p, X, y: net.gradients(X, y), task="regression")
    assert run_suite(target, groups=("gradients",), batch_size=6).passed
    assert any(len(np.unique(y)) > 2 for y in seen)  # not 0/1 labels


@pytest.mark.parametrize("make", [
    lambda: _functional(BinaryNet(), task="classification"),
    lambda: gradcheck.adapters.layer_objects([object()], object(), task="logistic"),
    lambda: gradcheck.adapters.per_sample(object(), task=3),
    lambda: gradcheck.adapters.cache_model(object(), task="sigmoid"),
])
def test_an_unknown_task_names_the_keyword(make):
    with pytest.raises(InvalidArgumentError) as info:
        make()
    assert info.value.argument == "task" and "expected one of 'multiclass'" in str(info.value)
