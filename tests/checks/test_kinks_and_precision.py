"""Kinks are not bugs; float32 noise is not a bug; real bugs near either still fail."""

import numpy as np

from gradcheck import check_gradients
from tests.zoo.networks import Correct, MissingOneOverM


def _relu_on_the_kink(offset=1e-9, bug=False):
    """A ReLU layer whose pre-activations sit within ~1e-9 of zero."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4, 3))
    W = rng.normal(size=(3, 5))
    b = -(X @ W)[0] + offset  # example 0 has every pre-activation at +offset
    up = rng.normal(size=(4, 5))
    loss = lambda: float(np.sum(np.maximum(X @ W + b, 0) * up))  # noqa: E731

    def grads():
        dZ = up * ((X @ W + b) > 0)
        db = dZ.sum(axis=0) * (2.0 if bug else 1.0)
        return {"W": X.T @ dZ, "b": db}

    return loss, {"W": W, "b": b}, grads


def test_relu_net_at_the_kink_passes_with_kink_info():
    loss, params, grads = _relu_on_the_kink()
    result = check_gradients(loss, params, grads)
    assert result.passed, str(result)
    kinks = [f for f in result.findings if f.kind == "kink"]
    assert kinks and all(f.severity == "info" for f in kinks)
    assert sum(p.n_kinks for p in result.params) > 0


def test_real_bug_at_the_kink_still_fails():
    loss, params, grads = _relu_on_the_kink(bug=True)
    result = check_gradients(loss, params, grads)
    assert result.failed == ["b"]


def test_float32_correct_passes_with_precision_note():
    net = Correct(dtype=np.float32)
    result = check_gradients(net.loss, net.params, net.gradients)
    assert result.passed, str(result)
    assert result.dtype == "float32"
    assert any("float32" in note for note in result.notes)


def test_float32_real_bug_fails():
    net = MissingOneOverM(dtype=np.float32)
    result = check_gradients(net.loss, net.params, net.gradients, batch_size=net.m)
    assert sorted(result.failed) == ["W1", "W2", "b1", "b2"]
    assert result["W2"].findings[0].kind == "scale"


def test_richardson_is_more_accurate_on_a_smooth_function():
    rng = np.random.default_rng(0)
    x = rng.normal(size=20)
    loss = lambda: float(np.sum(np.sin(3 * x)))  # noqa: E731
    grads = {"x": 3 * np.cos(3 * x)}
    central = check_gradients(loss, {"x": x}, grads, eps=1e-3)
    rich = check_gradients(loss, {"x": x}, grads, eps=1e-3, method="richardson")
    assert central.passed and rich.passed
    assert rich["x"].max_abs_error < central["x"].max_abs_error / 100
    assert rich.n_loss_evals == 2 + 4 * x.size
