"""Windows sent back to the wrong place: a layer's input gradient right for the output's first
entry and, for its last, the right values at other input entries."""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck
from gradcheck.checks.windows import misplaced_story


class Conv1D:
    """A valid 1-D convolution over (n, length) inputs with a kernel of ``k`` and a stride.
    ``bug``: ``"stride_ignored"`` (the backward places window i at i, not i * stride),
    ``"not_flipped"`` (the input gradient reads the kernel reversed), or ``"last_window_lost"``
    (the backward's loop stops one window short)."""

    def __init__(self, k=3, stride=2, bug=None, seed=0):
        self.W = np.random.default_rng(seed).normal(size=k)
        self.k, self.stride, self.bug = k, stride, bug

    def forward(self, X):
        self.X = X
        n_out = (X.shape[1] - self.k) // self.stride + 1
        return np.stack([X[:, i * self.stride:i * self.stride + self.k] @ self.W for i in range(n_out)], axis=1)

    def backward(self, dY):
        dX = np.zeros_like(self.X)
        W = self.W[::-1] if self.bug == "not_flipped" else self.W
        n_out = dY.shape[1] - (self.bug == "last_window_lost")
        for i in range(n_out):
            start = i if self.bug == "stride_ignored" else i * self.stride
            dX[:, start:start + self.k] += dY[:, i:i + 1] * W
        return dX


def _input_findings(layer):
    X = np.random.default_rng(1).normal(size=(2, 9))
    result = gradcheck.check_layer(layer.forward, layer.backward, X)
    return [f for f in result.findings if f.is_failure and f.subject.startswith("input")]


def test_a_backward_that_ignores_the_stride_misplaces_windows():
    found = _input_findings(Conv1D(bug="stride_ignored"))
    assert [f.data.get("how") for f in found] == ["misplaced_windows"]
    assert found[0].kind == "orientation"


@pytest.mark.parametrize("bug", ["not_flipped", "last_window_lost"])
def test_other_window_bugs_are_not_called_misplaced(bug):
    found = _input_findings(Conv1D(bug=bug))
    assert found and all(f.data.get("how") != "misplaced_windows" for f in found)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_correct_convolutions_pass(stride):
    assert _input_findings(Conv1D(stride=stride)) == []


def test_the_rule_needs_the_first_row_right_and_the_last_row_moved():
    N0 = np.array([0.0, 1.0, 2.0, 3.0, 0.0, 0.0])
    N1 = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 3.0])
    moved = np.array([0.0, 0.0, 1.0, 2.0, 3.0, 0.0])
    assert misplaced_story("x", {"first": (N0, N0), "last": (moved, N1)}, rtol=1e-5, atol=1e-8).kind == "orientation"
    # the first row wrong too: an orientation of the kernel, not a place
    assert misplaced_story("x", {"first": (N0[::-1], N0), "last": (moved, N1)}, rtol=1e-5, atol=1e-8) is None
    # the last row missing a value: not the same values moved
    lost = np.array([0.0, 0.0, 1.0, 2.0, 0.0, 0.0])
    assert misplaced_story("x", {"first": (N0, N0), "last": (lost, N1)}, rtol=1e-5, atol=1e-8) is None
    # both rows right
    assert misplaced_story("x", {"first": (N0, N0), "last": (N1, N1)}, rtol=1e-5, atol=1e-8) is None


def test_a_first_layer_returning_no_input_gradient_has_its_parameters_checked_when_allowed():
    class First(Conv1D):
        def backward(self, dY):
            self.dW = sum(dY[:, i:i + 1] * self.X[:, i * self.stride:i * self.stride + self.k]
                          for i in range(dY.shape[1])).sum(axis=0)
            return None

    layer = First()
    X = np.random.default_rng(2).normal(size=(2, 9))
    result = gradcheck.check_layer(layer.forward, layer.backward, X, {"W": layer.W},
                                   param_grads=lambda: {"W": layer.dW}, input_gradient=None)
    assert result.passed and [p.name for p in result.params] == ["W"]
    assert any("its input 'input' is not" in note for note in result.notes)
    with pytest.raises(gradcheck.InvalidArgumentError, match="returned None"):
        gradcheck.check_layer(layer.forward, layer.backward, X, {"W": layer.W},
                              param_grads=lambda: {"W": layer.dW})
    with pytest.raises(gradcheck.InvalidArgumentError, match="input_gradient"):
        gradcheck.check_layer(layer.forward, layer.backward, X, {"W": layer.W},
                              param_grads=lambda: {"W": layer.dW}, input_gradient=False)
