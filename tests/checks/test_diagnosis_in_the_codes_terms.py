"""Diagnoses in the code's own terms, read from the numbers: sum or mean losses, L2 terms,
entries never written, one-row biases, arrays the loss does not read, reused buffers."""

import numpy as np

from gradcheck import check_gradients
from gradcheck.results.verdict import gradient_verdict


class Softmax:
    """Rows = examples, W (4, 3), b (1, 3), optional L2; ``reduce`` is "mean" or "sum"."""

    def __init__(self, n=6, reduce="mean", reg=0.0, seed=0):
        rng = np.random.default_rng(seed)
        self.X = rng.normal(size=(n, 4))
        self.y = rng.integers(0, 3, n)
        self.W = rng.normal(size=(4, 3))
        self.b = rng.normal(size=(1, 3)) * 0.1
        self.reduce, self.reg = reduce, reg

    def scores(self):
        return self.X @ self.W + self.b

    def loss(self):
        Z = self.scores()
        Z = Z - Z.max(axis=1, keepdims=True)
        logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
        picked = -logp[np.arange(len(self.y)), self.y]
        data = picked.sum() if self.reduce == "sum" else picked.mean()
        return float(data + 0.5 * self.reg * np.sum(self.W ** 2))

    def dZ(self):
        Z = self.scores()
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        P[np.arange(len(self.y)), self.y] -= 1
        return P if self.reduce == "sum" else P / len(self.y)

    def grads(self, dZ=None, l2=1.0):
        dZ = self.dZ() if dZ is None else dZ
        return {"W": self.X.T @ dZ + l2 * self.reg * self.W, "b": dZ.sum(axis=0, keepdims=True)}

    def check(self, grads, **options):
        return check_gradients(self.loss, {"W": self.W, "b": self.b}, grads, **options)


def _failure(result, name):
    return next(f for f in result[name].findings if f.is_failure)


def test_a_sum_loss_whose_gradient_averages_is_not_told_to_keep_one_one_over_m():
    net = Softmax(reduce="sum")
    result = net.check(lambda: net.grads(net.dZ() / 6), batch_size=6)
    finding = _failure(result, "W")
    assert finding.kind == "scale"
    assert "one 1/m more than the loss" in finding.message
    assert "keep only one 1/m" not in finding.hint and "same reduction" in finding.hint


def test_a_missing_l2_gradient_is_named_from_the_error_proportional_to_w():
    net = Softmax(reg=0.3)
    finding = _failure(net.check(lambda: net.grads(l2=0.0)), "W")
    assert "regularisation term" in finding.message and "missing" in finding.message
    assert finding.data["l2_coefficient"] == np.float64(finding.data["l2_coefficient"])
    assert abs(finding.data["l2_coefficient"] + 0.3) < 1e-4


def test_a_doubled_l2_gradient_is_a_term_too_many():
    net = Softmax(reg=0.3)
    finding = _failure(net.check(lambda: net.grads(l2=2.0)), "W")
    assert "too many" in finding.message and abs(finding.data["l2_coefficient"] - 0.3) < 1e-4


def test_entries_never_written_are_zero_not_a_plain_mismatch():
    net = Softmax()

    def grads():
        g = net.grads()
        g["W"][2:] = 0.0
        return g

    finding = _failure(net.check(grads), "W")
    assert finding.kind == "zero" and finding.data["never_written"] == 6


def test_a_one_row_bias_is_not_told_only_row_0_is_wrong():
    net = Softmax()

    def grads():
        g = net.grads()
        g["b"] = g["b"] * np.array([[1.0, 1.5, 1.0]])
        return g

    finding = _failure(net.check(grads), "b")
    assert "only row 0" not in finding.message


def test_a_bias_summed_over_every_axis_and_one_summed_over_another_are_told_apart():
    net = Softmax()
    every = _failure(net.check(lambda: {**net.grads(), "b": np.full((1, 3), net.dZ().sum())}), "b")
    other = _failure(net.check(lambda: {**net.grads(), "b": np.full((1, 3), net.dZ()[:, 0].sum())}), "b")
    assert every.kind == other.kind == "reduction"
    assert every.data["every_axis"] and "summed over every axis" in every.hint
    assert not other.data["every_axis"] and "another axis" in other.hint


def test_parameters_that_are_copies_are_not_the_arrays_the_loss_reads():
    net = Softmax()
    params = {"W": net.W.copy(), "b": net.b.copy()}
    result = check_gradients(net.loss, params, net.grads)
    finding = _failure(result, "W")
    assert "not the arrays your loss reads" in finding.message and finding.data["not_read"]


def test_gradient_buffers_the_next_forward_zeroes_fail_as_a_mutation_of_those_parameters():
    net = Softmax()
    buffer = {"W": np.zeros((4, 3)), "b": np.zeros((1, 3))}

    def loss():
        value = net.loss()
        buffer["W"][...] = 0.0  # the next forward clears the gradient buffers
        return value

    def grads():
        g = net.grads()
        buffer["W"][...] = g["W"]
        buffer["b"][...] = g["b"]
        return buffer

    result = check_gradients(loss, {"W": net.W, "b": net.b}, grads)
    assert not result.passed
    [failure] = [f for f in result.findings if f.kind == "mutation"]
    assert failure.subject == "W" and failure.is_failure and failure.data["zeroed"]
    assert "zeroed it in place" in failure.message
    # the values were right when returned: no parameter is called wrong
    assert all(report.passed for report in result.params)
    assert gradient_verdict(result) == ("FAILED: the gradient arrays returned for W change when the "
                                        "loss runs again")
