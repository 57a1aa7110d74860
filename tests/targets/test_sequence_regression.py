"""A regression at every step of a sequence: ``task="regression"`` with a ``sequence_length`` T gives
labels (n, T, k) of floats, from synthetic batches and from the user's data alike."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.adapters import cache_model
from gradcheck.errors import InvalidArgumentError
from gradcheck.targets.data import DataSet
from gradcheck.targets.tasks import Task, candidate_tasks
from tests.corpus.shapes import lstm


def _target(**declarations):
    model = lstm.build(seed=1, hidden=5, n_in=2, steps=3, loss="mse")
    return cache_model(model, input_shape=(3, 2), n_classes=3, **declarations)


def test_per_step_regression_labels_are_floats_n_by_T_by_k():
    task = Task("regression", 3, False, True, length=4)
    y = task.labels(5, np.random.default_rng(0))
    assert y.shape == (5, 4, 3) and y.dtype == np.float64 and len(np.unique(y)) == y.size
    assert task.label_text() == "(n, 4, 3) floats"


def test_a_declared_sequence_length_makes_the_regression_per_step():
    assert candidate_tasks(_target(task="regression", sequence_length=3)) == [
        Task("regression", 3, False, True, length=3)]
    assert candidate_tasks(_target(task="regression"))[0].length is None


@pytest.mark.parametrize("bad, argument", [
    ({"task": "regression", "sequence_length": 0}, "sequence_length"),
    ({"task": "multiclass", "sequence_length": 3}, "sequence_length"),
    ({"task": "regression", "sequence_length": 3, "null_token": 0}, "sequence_length"),
])
def test_a_sequence_length_without_a_task_that_takes_it_is_refused(bad, argument):
    with pytest.raises(InvalidArgumentError) as raised:
        _target(**bad)
    assert raised.value.argument == argument


def test_the_users_labels_per_step_are_taken_as_n_T_k_or_flat_rows():
    target = _target(task="regression", sequence_length=3)
    task = candidate_tasks(target)[0]
    X = np.random.default_rng(0).standard_normal((6, 6))
    y = np.random.default_rng(1).standard_normal((6, 3, 3))
    for given in (y, y.reshape(6, 9)):
        data = DataSet.from_arrays(X, given).fitted(target, "rows", task)
        Xb, yb = data.batch(4, seed=0, layout="rows", task=task, dtype=np.float64)
        assert Xb.shape == (4, 3, 2) and yb.shape == (4, 3, 3)
    with pytest.raises(InvalidArgumentError, match=r"expected \(n, 3, 3\)"):
        DataSet.from_arrays(X, y[:, :2]).fitted(target, "rows", task)
