"""Shape contracts at any batch size and the loss's independence of example order."""

import numpy as np
import pytest

from gradcheck.engine import ConformanceFailure, iter_checks
from gradcheck.probes.contracts import probe_example_order, probe_shapes
from reference_net.network import build_mlp


class SoftmaxRegression:
    """X (n, 6) -> softmax(X @ W + b) over 3 classes, mean cross-entropy; correct."""

    layout = "rows"

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": rng.normal(0, 0.5, (6, 3)), "b": np.zeros(3)}

    def forward(self, X):
        Z = X @ self.params["W"] + self.params["b"]
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)

    def picked(self, P, y):
        return P[np.arange(len(y)), y]

    def loss(self, X, y):
        return float(-np.mean(np.log(self.picked(self.forward(X), y))))

    def delta(self, X, y):
        dZ = self.forward(X)
        dZ[np.arange(len(y)), y] -= 1
        return dZ / len(y)

    def gradients(self, X, y):
        dZ = self.delta(X, y)
        return {"W": X.T @ dZ, "b": dZ.sum(axis=0)}


class BiasGradientKeepsBatchAxis(SoftmaxRegression):
    def gradients(self, X, y):
        dZ = self.delta(X, y)
        return {"W": X.T @ dZ, "b": dZ}


class SqueezedForward(SoftmaxRegression):
    """np.squeeze on the output: a batch of one loses its examples axis."""

    def forward(self, X):
        return np.squeeze(super().forward(X))

    def picked(self, P, y):
        return P.reshape(len(y), -1)[np.arange(len(y)), y]


class HardCodedBatch(SoftmaxRegression):
    """The bias gradient sums a fixed 5 rows: right at batch 5, a broadcast error elsewhere."""

    def gradients(self, X, y):
        dZ = self.delta(X, y)
        return {"W": X.T @ dZ, "b": dZ.reshape(5, 3).sum(axis=0)}


class LabelsIndexRows(SoftmaxRegression):
    """P[y] instead of P[range(n), y]: picks whole rows by label value."""

    def picked(self, P, y):
        return P[y]


class GradientsTakeAStep(SoftmaxRegression):
    """gradients() also updates the parameters, in place."""

    def gradients(self, X, y):
        grads = super().gradients(X, y)
        for name, g in grads.items():
            self.params[name] -= 0.1 * g
        return grads


def _kinds(result):
    return [f.kind for f in result.findings]


@pytest.mark.parametrize("target", [SoftmaxRegression(), build_mlp((12, 7, 4), seed=1)],
                         ids=["softmax_regression", "reference_mlp"])
def test_correct_networks_pass_both_contracts(target):
    shapes = probe_shapes(target)
    order = probe_example_order(target)
    assert shapes.passed and order.passed, (shapes.findings, order.findings)
    assert shapes.series["batch_size"] == [1.0, 2.0, 3.0, 5.0, 64.0]
    assert shapes.series["passed"] == [1.0] * 5
    assert max(order.series["loss_difference"]) < 1e-12


@pytest.mark.parametrize("target, breaks_at, words", [
    (BiasGradientKeepsBatchAxis(), 1,
     "only singleton axes differ, but b - lr * db then has shape (1, 3), seen with a batch of 1 example"),
    (SqueezedForward(), 1, "forward(X) has shape (3,) for 1 example, expected (1, 3)"),
    (HardCodedBatch(), 1, "gradients(X, y) raised ValueError"),
])
def test_shape_bugs_are_named_at_the_first_batch_size_that_breaks(target, breaks_at, words):
    result = probe_shapes(target)
    assert not result.passed
    assert words in result.findings[0].message
    assert result.series["batch_size"][-1] == breaks_at
    assert result.series["passed"][-1] == 0.0


def test_a_batch_of_five_hides_a_hard_coded_batch_size_that_others_expose():
    assert probe_shapes(HardCodedBatch(), batch_sizes=[5]).passed
    assert not probe_shapes(HardCodedBatch(), batch_sizes=[5, 64]).passed


def test_labels_indexing_rows_depends_on_example_order():
    result = probe_example_order(LabelsIndexRows())
    assert _kinds(result) == ["order_variance"]
    assert "in another order" in result.findings[0].message
    assert result.series["loss_difference"][-1] > 1e-6


@pytest.mark.parametrize("probe", [probe_shapes, probe_example_order])
def test_parameters_are_restored_and_the_mutation_reported(probe):
    target = GradientsTakeAStep()
    before = {name: arr.copy() for name, arr in target.params.items()}
    result = probe(target)
    for name, arr in target.params.items():
        assert arr.tobytes() == before[name].tobytes()
    if probe is probe_shapes:
        assert _kinds(result) == ["mutation"]
        assert "W, b" in result.findings[0].message


def test_the_conformance_suite_runs_both_and_fails_with_the_diagnosis():
    checks = {c.name: c for c in iter_checks(BiasGradientKeepsBatchAxis(), groups=("probes",))}
    assert checks["check_loss_example_order"]().passed
    with pytest.raises(ConformanceFailure, match=r"b - lr \* db then has shape \(1, 3\)"):
        checks["check_shapes_any_batch_size"]()


class SeededDropout(SoftmaxRegression):
    """Inverted dropout on the inputs with its mask reseeded on every call (cs231n's test
    setup): repeatable, but the mask belongs to the batch position, not the example."""

    def forward(self, X):
        np.random.seed(3)  # noqa: NPY002 (the global generator is what the probe watches)
        mask = (np.random.rand(*X.shape) < 0.5) / 0.5  # noqa: NPY002
        return super().forward(X * mask)

    def gradients(self, X, y):
        np.random.seed(3)  # noqa: NPY002 (the global generator is what the probe watches)
        mask = (np.random.rand(*X.shape) < 0.5) / 0.5  # noqa: NPY002
        dZ = self.delta(X, y)
        return {"W": (X * mask).T @ dZ, "b": dZ.sum(axis=0)}


class UnseededDropout(SeededDropout):
    def forward(self, X):
        mask = (np.random.rand(*X.shape) < 0.5) / 0.5  # noqa: NPY002
        return SoftmaxRegression.forward(self, X * mask)


def test_a_dropout_mask_fixed_by_a_seed_warns_with_the_reason_instead_of_failing():
    result = probe_example_order(SeededDropout())
    assert result.passed
    [warning] = result.findings
    assert warning.severity == "warning" and "random" in warning.data["reason"]


def test_labels_indexing_rows_still_fails_next_to_the_dropout_rule():
    result = probe_example_order(LabelsIndexRows())
    assert not result.passed and result.findings[0].is_failure


def test_a_loss_that_is_not_repeatable_skips_the_order_probe_with_the_reason():
    result = probe_example_order(UnseededDropout())
    assert result.passed
    [skipped] = result.findings
    assert skipped.data["skipped"] and "same order" in skipped.message


def test_a_functional_target_without_outputs_skips_the_forward_shapes_with_the_reason():
    from gradcheck.adapters import functional

    net = SoftmaxRegression()
    target = functional(net.params, loss=lambda p, X, y: net.loss(X, y),
                        gradients=lambda p, X, y: net.gradients(X, y))
    result = probe_shapes(target)
    assert result.passed
    [skipped] = result.findings
    assert skipped.severity == "info" and "no output function" in skipped.message
    assert result.series["passed"] == [1.0] * len(result.series["batch_size"])


class RowBiasWithFlatGradient(SoftmaxRegression):
    """A (1, 3) bias whose gradient comes back (3,): ``b -= lr * db`` still keeps b's shape."""

    def __init__(self, seed=0):
        super().__init__(seed)
        self.params["b"] = np.zeros((1, 3))


def test_the_shapes_probe_and_the_gradient_check_judge_a_harmless_shape_alike():
    """One shape rule: what the gradient check calls a warning, the shapes probe does not fail."""
    from gradcheck.checks.pipeline import check_target_gradients

    target = RowBiasWithFlatGradient()
    X, y = np.random.default_rng(0).uniform(size=(8, 6)), np.arange(8) % 3
    result = check_target_gradients(target, X, y)
    shape = [f for f in result["b"].findings if f.kind == "shape"]
    assert result.passed and [f.severity for f in shape] == ["warning"]
    assert "keeps b's shape" in shape[0].message
    assert probe_shapes(target).passed
