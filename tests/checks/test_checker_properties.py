"""Property tests: random smooth functions with known gradients, and their corruptions."""

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from gradcheck import check_gradients


@st.composite
def smooth_problem(draw):
    """L(W, b) = sum(c * tanh(X @ W + b)) with a known gradient; W square so transposes exist."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(2, 5))
    m = draw(st.integers(1, 6))
    rng = np.random.default_rng(seed)
    X, c = rng.normal(size=(m, n)), rng.normal(size=(m, n))
    params = {"W": rng.normal(size=(n, n)), "b": rng.normal(size=n)}

    def loss():
        return float(np.sum(c * np.tanh(X @ params["W"] + params["b"])))

    def grads():
        dZ = c * (1 - np.tanh(X @ params["W"] + params["b"]) ** 2)
        return {"W": X.T @ dZ, "b": dZ.sum(axis=0)}

    return loss, params, grads


def _informative(g, name):
    """Corruptions only show when the gradient has some size and structure."""
    return np.max(np.abs(g[name])) > 1e-3 and np.ptp(g[name]) > 1e-3 * np.max(np.abs(g[name]))


@given(smooth_problem())
def test_true_gradients_pass(problem):
    loss, params, grads = problem
    assert check_gradients(loss, params, grads()).passed


@given(smooth_problem(), st.sampled_from([3.0, 0.25, 7.5]))
def test_scaled_gradient_is_scale(problem, factor):
    loss, params, grads = problem
    g = grads()
    assume(_informative(g, "W"))
    g["W"] = g["W"] * factor
    result = check_gradients(loss, params, g)
    assert result.failed == ["W"]
    assert result["W"].findings[0].kind == "scale"
    assert abs(result["W"].findings[0].data["factor"] - factor) < 1e-3 * factor


@given(smooth_problem())
def test_negated_gradient_is_sign(problem):
    loss, params, grads = problem
    g = grads()
    assume(_informative(g, "b"))
    g["b"] = -g["b"]
    result = check_gradients(loss, params, g)
    assert result.failed == ["b"]
    assert result["b"].findings[0].kind == "sign"


@given(smooth_problem())
def test_transposed_gradient_is_transpose(problem):
    loss, params, grads = problem
    g = grads()
    asym = np.max(np.abs(g["W"] - g["W"].T))
    assume(asym >= 1e-2 * np.max(np.abs(g["W"])))  # a (nearly) symmetric one looks the same transposed
    g["W"] = g["W"].T.copy()
    result = check_gradients(loss, params, g)
    assert result.failed == ["W"]
    assert result["W"].findings[0].kind == "transpose"


@given(smooth_problem())
def test_bias_reduced_over_all_units_is_reduction(problem):
    loss, params, grads = problem
    g = grads()
    assume(_informative(g, "b"))
    g["b"] = np.full_like(g["b"], g["b"].sum())
    result = check_gradients(loss, params, g)
    assert result.failed == ["b"]
    assert result["b"].findings[0].kind == "reduction"


@given(smooth_problem(), st.data())
def test_single_entry_off_is_localised(problem, data):
    loss, params, grads = problem
    g = grads()
    i = data.draw(st.integers(0, g["W"].shape[0] - 1))
    j = data.draw(st.integers(0, g["W"].shape[1] - 1))
    g["W"][i, j] += 0.5 + abs(g["W"][i, j])
    result = check_gradients(loss, params, g)
    assert result.failed == ["W"]
    finding = result["W"].findings[0]
    assert finding.kind == "mismatch"
    assert f"[{i}, {j}]" in finding.message
