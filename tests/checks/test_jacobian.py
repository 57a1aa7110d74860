"""The Jacobian's diagonal only: a layer's input gradient that passes each output's gradient to its
own input alone while the forward mixes entries is named ``jacobian``; an elementwise forward, a
wrong elementwise derivative, a wrong diagonal or a backward that mixes entries is not."""

import numpy as np
import pytest

from gradcheck import check_function_layer, check_gradients, check_layer
from gradcheck.checks.jacobian import Probe, diagonal_story, explain_diagonal

DTYPES = [np.float64, np.float32]


def softmax(X):
    e = np.exp(X - X.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Layer:
    """A parameter-free layer object: ``forward`` keeps its input and output for ``backward``."""

    def __init__(self, forward, backward):
        self._forward, self._backward = forward, backward

    def forward(self, X):
        self.X, self.Y = X, self._forward(X)
        return self.Y

    def backward(self, dY):
        return self._backward(dY, self.X, self.Y)


def _softmax_layer(backward):
    return Layer(softmax, backward)


def full_softmax(dY, X, s):
    return s * (dY - np.sum(dY * s, axis=-1, keepdims=True))


def diagonal_softmax(dY, X, s):
    return dY * s * (1 - s)


def _input(dtype, shape=(4, 5), seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _kinds(result):
    return [f.kind for f in result.findings if f.is_failure]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("classes", [3, 6])
def test_a_softmax_backward_with_the_diagonal_only_is_named(dtype, classes):
    layer = _softmax_layer(diagonal_softmax)
    X = _input(dtype, (4, classes))
    before = X.copy()
    result = check_layer(layer.forward, layer.backward, X)
    assert _kinds(result) == ["jacobian"]
    finding = result.findings[0]
    # one input of a softmax row moves every other output of its row, and no other row
    assert finding.data["outputs_moved"] == [classes - 1, classes - 1]
    assert f"moves {classes - 1} other outputs" in finding.message
    assert "-s_i s_j" in finding.hint and "diagonal" in finding.message
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_right_softmax_backward_passes(dtype):
    layer = _softmax_layer(full_softmax)
    result = check_layer(layer.forward, layer.backward, _input(dtype))
    assert result.passed and "jacobian" not in _kinds(result)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("forward, backward", [
    (np.tanh, lambda dY, X, Y: dY * (1 - X ** 2)),  # tanh' taken on the input, not the output
    (lambda X: np.maximum(X, 0), lambda dY, X, Y: dY * Y),  # relu' taken as the output
    (lambda X: X ** 3, lambda dY, X, Y: dY * 2 * X ** 2),  # a wrong factor that varies by entry
], ids=["tanh_of_input", "relu_as_output", "cube"])
def test_a_wrong_derivative_of_an_elementwise_forward_is_not_named_jacobian(dtype, forward, backward):
    layer = Layer(forward, backward)
    result = check_layer(layer.forward, layer.backward, _input(dtype, seed=3))
    assert not result.passed and "jacobian" not in _kinds(result)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backward", [
    lambda dY, X, s: dY * s,  # elementwise, but not even the diagonal: the slope is s(1 - s)
    lambda dY, X, s: s * (dY - np.sum(dY * s, axis=0, keepdims=True)),  # mixes, over the wrong axis
], ids=["wrong_diagonal", "wrong_axis"])
def test_other_wrong_softmax_backwards_are_not_named_jacobian(dtype, backward):
    layer = _softmax_layer(backward)
    result = check_layer(layer.forward, layer.backward, _input(dtype))
    assert not result.passed and "jacobian" not in _kinds(result)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_layer_norm_with_only_its_elementwise_factor_is_not_named_jacobian(dtype):
    # dX = dY / std misses the mean and variance terms; its diagonal is not the true one either
    def forward(X):
        return (X - X.mean(axis=-1, keepdims=True)) / X.std(axis=-1, keepdims=True)

    layer = Layer(forward, lambda dY, X, Y: dY / X.std(axis=-1, keepdims=True))
    result = check_layer(layer.forward, layer.backward, _input(dtype, (4, 6)))
    assert not result.passed and "jacobian" not in _kinds(result)


def _softmax_forward(x):
    s = softmax(x)
    return s, s


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_function_pair_softmax_with_the_diagonal_only_is_named(dtype):
    x = _input(dtype, (3, 4), seed=5)
    wrong = check_function_layer(_softmax_forward, lambda dout, s: dout * s * (1 - s), x)
    assert _kinds(wrong) == ["jacobian"]
    assert wrong.findings[0].data["outputs_moved"] == [3, 3]
    right = check_function_layer(_softmax_forward,
                                 lambda dout, s: s * (dout - np.sum(dout * s, axis=-1, keepdims=True)), x)
    assert right.passed


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_function_pair_with_an_elementwise_forward_is_not_named_jacobian(dtype):
    def forward(x):
        out = np.tanh(x)
        return out, (x, out)

    result = check_function_layer(forward, lambda dout, cache: dout * (1 - cache[0] ** 2),
                                  _input(dtype, (3, 4), seed=6))
    assert not result.passed and "jacobian" not in _kinds(result)


def test_a_forward_that_draws_anew_at_every_call_names_nothing():
    # a mixing forward whose output changes from call to call has no Jacobian to compare with
    rng = np.random.default_rng(7)
    X = _input(np.float64)
    s = softmax(X)
    dY = np.random.default_rng(0).standard_normal(X.shape)
    result = check_gradients(lambda: float(np.sum(softmax(X) * dY)), {"input": X},
                             {"input": diagonal_softmax(dY, X, s)})
    assert _kinds(result) == ["mismatch"]
    noisy = Layer(lambda X: softmax(X) * (1 + 1e-3 * rng.standard_normal(X.shape)), diagonal_softmax)
    kept = explain_diagonal(result, "input", noisy.forward, noisy.backward, X, {"input": X}, seed=0)
    assert _kinds(kept) == ["mismatch"]
    plain = _softmax_layer(diagonal_softmax)
    named = explain_diagonal(result, "input", plain.forward, plain.backward, X, {"input": X}, seed=0)
    assert _kinds(named) == ["jacobian"]


def _diagonal_numbers(shape=(4, 5), seed=0):
    rng = np.random.default_rng(seed)
    s = softmax(rng.standard_normal(shape))
    dY1, dY2 = rng.standard_normal(shape), rng.standard_normal(shape)
    slope = (s * (1 - s)).reshape(-1)
    probes = [Probe(i, float(slope[i]), shape[-1] - 1) for i in range(3)]
    return (dY1, dY2), (dY1 * s * (1 - s), dY2 * s * (1 - s)), probes, s


def test_the_rule_needs_every_piece_of_evidence():
    upstream, dX, probes, s = _diagonal_numbers()
    assert diagonal_story("x", upstream, dX, probes, rtol=1e-7, atol=1e-9).kind == "jacobian"
    # a forward that moves no other output: an elementwise layer
    still = [Probe(p.index, p.diagonal, 0) for p in probes]
    assert diagonal_story("x", upstream, dX, still, rtol=1e-7, atol=1e-9) is None
    # the backward's diagonal differs from the forward's own slope
    off = [Probe(p.index, 1.5 * p.diagonal, p.moved) for p in probes]
    assert diagonal_story("x", upstream, dX, off, rtol=1e-7, atol=1e-9) is None
    # the backward mixes entries: the ratio changes with the upstream gradient
    full = tuple(full_softmax(dY, None, s) for dY in upstream)
    assert diagonal_story("x", upstream, full, probes, rtol=1e-7, atol=1e-9) is None
    # one entry off the elementwise relation is enough to say nothing
    telling = np.flatnonzero((np.abs(upstream[0]) >= 0.1) & (np.abs(upstream[1]) >= 0.1))
    bent = (dX[0], dX[1].copy())
    bent[1].reshape(-1)[telling[-1]] *= 1.01
    assert diagonal_story("x", upstream, bent, probes, rtol=1e-7, atol=1e-9) is None
    # a backward that returns zeros has no ratio to tell
    zeros = (np.zeros_like(dX[0]), np.zeros_like(dX[1]))
    zero_probes = [Probe(p.index, 0.0, p.moved) for p in probes]
    assert diagonal_story("x", upstream, zeros, zero_probes, rtol=1e-7, atol=1e-9) is None
