"""One factor per unit: with one example and one time step, an activation's derivative taken on
the wrong value scales each unit's gradient by a factor of its own, the same in every parameter
feeding the unit, kept when the label changes and moved by the input."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck.checks.unit_factor import derivative_names, other_label, unit_factors
from gradcheck.targets.tasks import Task
from tests.checks.test_through_time import TinyRNN, _failures


def _outer(r, dz, x):
    """(W, b) gradients of one example: dW = x (x) (r * dz) with units on axis 1, db = r * dz."""
    return {"W": np.outer(x, r * dz), "b": r * dz}


def test_a_factor_per_unit_shared_by_a_weight_and_a_bias_is_found():
    rng = np.random.default_rng(0)
    dz, x, r = rng.normal(size=5), rng.normal(size=3), rng.uniform(0.3, 2.0, 5)
    found = unit_factors(_outer(r, dz, x), _outer(np.ones(5), dz, x))
    assert found is not None
    length, factors, names = found
    assert length == 5 and sorted(names) == ["W", "b"]
    np.testing.assert_allclose(factors, r, rtol=1e-9)


def test_an_error_that_is_no_factor_per_unit_is_not_one():
    rng = np.random.default_rng(1)
    dz, x = rng.normal(size=5), rng.normal(size=3)
    right = _outer(np.ones(5), dz, x)
    wrong = dict(right, W=right["W"] + 0.1 * rng.normal(size=(3, 5)))
    assert unit_factors(wrong, right) is None


def test_the_weight_and_the_bias_must_agree_on_each_units_factor():
    rng = np.random.default_rng(2)
    dz, x = rng.normal(size=5), rng.normal(size=3)
    right = _outer(np.ones(5), dz, x)
    analytic = {"W": _outer(rng.uniform(0.3, 2, 5), dz, x)["W"], "b": _outer(rng.uniform(0.3, 2, 5), dz, x)["b"]}
    assert unit_factors(analytic, right) is None


def test_a_gradient_where_the_numeric_one_is_zero_is_no_factor():
    right = {"b": np.array([1.0, 2.0, 0.0, 3.0])}
    assert unit_factors({"b": np.array([2.0, 1.0, 0.5, 3.0])}, right) is None


@pytest.mark.parametrize("y, task, expected", [
    (np.array([[0], [4]]), Task("sequence", 5, False, True, 1), [[1], [0]]),
    (np.array([[0.0], [1.0]]), Task("binary", 1, False), [[1.0], [0.0]]),
    (np.array([[0.5, -2.0]]), Task("regression", 2, False), [[1.5, -1.0]]),
])
def test_another_label_differs_everywhere_and_keeps_the_form(y, task, expected):
    other = other_label(y, task)
    assert other.tolist() == expected and other.dtype == y.dtype


def test_a_tanh_derivative_on_the_hidden_state_is_named_and_the_correct_rnn_names_nothing():
    """1 - h where the derivative is 1 - h**2: named on the parameters it reaches at the first
    step (the recurrent weight meets only the zero initial state there)."""
    rnn = TinyRNN("dtanh_not_squared")
    X = np.random.default_rng(0).integers(0, rnn.vocab, (6, 1))
    y = np.random.default_rng(1).integers(0, rnn.vocab, (6, 1))
    task = Task("sequence", rnn.vocab, False, True, 1)
    assert derivative_names(rnn, X, y, ["Wxh", "Whh", "bh"], task) == ["Wxh", "bh"]
    assert derivative_names(TinyRNN(), X, y, ["Wxh", "Whh", "bh"], task) == []
    findings = _failures(rnn)
    assert {f.data.get("how") for f in findings["bh"]} >= {"unit_factor"}
    assert all(f.kind == "derivative" for f in findings["bh"] if f.data.get("how") == "unit_factor")


@pytest.mark.parametrize("bug", ["missing_dhnext", "whh_untransposed"])
def test_errors_in_what_reaches_the_units_are_no_derivative(bug):
    """At one step these bugs vanish; a mistake in the gradient arriving at the units would change
    with the label, so nothing here is called a derivative."""
    kinds = {f.data.get("how") for fs in _failures(TinyRNN(bug)).values() for f in fs}
    assert "unit_factor" not in kinds


def test_a_fixed_factor_per_unit_that_the_input_does_not_move_is_no_derivative():
    """A gain of each unit's own left in the backward (the same whatever the input) is a factor
    per unit that stays with the label: only a factor that also moves with the input is a
    derivative's."""

    class Gained(TinyRNN):
        def gradients(self, X, y):
            g = super().gradients(X, y)
            gain = np.linspace(0.5, 2.0, self.params["bh"].size)
            return dict(g, Wxh=g["Wxh"] * gain, bh=g["bh"] * gain, Whh=g["Whh"] * gain)

    rnn = Gained()
    X = np.random.default_rng(0).integers(0, rnn.vocab, (6, 1))
    y = np.random.default_rng(1).integers(0, rnn.vocab, (6, 1))
    assert derivative_names(rnn, X, y, ["Wxh", "Whh", "bh"], Task("sequence", rnn.vocab, False, True, 1)) == []


def _lstm(bug):
    from tests.corpus.shapes import glue
    from tests.corpus.shapes.catalogue import BUGS, CORRECT

    if bug is None:
        entry = next(c for c in CORRECT if c.module == "lstm")
        return glue.target(entry, np.float64)
    entry = next(b for b in BUGS if b.id == f"lstm.{bug}")
    return glue.target(entry, np.float64, bug)


@pytest.mark.parametrize("bug, named", [
    # a gate that multiplies the previous cell state has no gradient at the first step (the state
    # is 0 there): its wrong derivative shows on what only the second step reads
    ("forget_gate_derivative_wrong", True),
    # the last step's own gradient is right when only what later steps send back is missing
    ("missing_dc_next", False),
    (None, False),
])
def test_on_two_steps_only_the_entries_the_first_step_ignores_are_compared(bug, named):
    from gradcheck.targets.batches import fresh_last_step
    from gradcheck.targets.inputs import input_spec

    target = _lstm(bug)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(4, 4, 3)), rng.integers(0, 3, (4, 4))
    task = Task("sequence", 3, False, True, 4)
    fresh = fresh_last_step(X, y, task, input_spec(target), "rows")
    names = derivative_names(target, fresh.X, fresh.y, ["Wx", "Wh", "b"], task,
                             first_steps=(fresh.X[:, :1], fresh.y[:, :1]))
    assert bool(names) is named
