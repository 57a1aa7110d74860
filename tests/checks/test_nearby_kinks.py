"""Several kinks within one finite-difference step: a correct ReLU stack passes, a wrong
gradient next to the kinks still fails, in float64 and in float32."""

import numpy as np
import pytest

from gradcheck import check_gradients
from gradcheck.checks.kinks import shrinking_steps
from gradcheck.engine import check_target_gradients
from tests.corpus.networks import batch, deep_relu_near_kinks


def _stack(dtype, n, seed):
    X, y = batch(n, seed, dtype)
    return deep_relu_near_kinks(seed, dtype, X, y), X, y


class WrongAt:
    """The same network with one gradient entry scaled by ``factor``."""

    def __init__(self, target, name, index, factor):
        self.target, self.name, self.index, self.factor = target, name, index, factor
        self.params = target.params

    def loss(self, X, y):
        return self.target.loss(X, y)

    def gradients(self, X, y):
        grads = {k: np.array(v, dtype=np.float64) for k, v in self.target.gradients(X, y).items()}
        grads[self.name][self.index] *= self.factor
        return grads


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, seed", [(1, 0), (8, 1), (32, 2)])
def test_a_correct_relu_stack_with_pre_activations_next_to_zero_passes(dtype, n, seed):
    target, X, y = _stack(dtype, n, seed)
    result = check_target_gradients(target, X, y)
    assert result.passed, str(result)


@pytest.mark.parametrize("dtype, factor", [(np.float64, 1.01), (np.float64, 0.0),
                                           (np.float32, 1.2), (np.float32, -1.0)])
def test_a_wrong_entry_next_to_the_kinks_still_fails_on_its_parameter(dtype, factor):
    target, X, y = _stack(dtype, 8, 1)
    # b1 feeds the planted kinks of the first layer directly
    planted = int(np.argmin(np.min(np.abs(X.astype(np.float64) @ target.params["W1"] + target.params["b1"]), axis=0)))
    wrong = WrongAt(target, "b1", planted, factor)
    result = check_target_gradients(wrong, X, y)
    assert result.failed == ["b1"], str(result)


def test_the_step_shrinks_six_decades_in_float64_and_one_in_float32():
    assert len(shrinking_steps(6e-6, np.float64)) == 6 and len(shrinking_steps(5e-3, np.float32)) == 1
    assert shrinking_steps(1.0, np.float64)[-1] == pytest.approx(1e-6)


def test_a_single_relu_whose_kink_is_inside_the_default_step_is_resolved_at_a_smaller_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 4))
    W = rng.normal(size=(4, 6))
    b = -(X @ W)[0] + 1e-8  # example 0 at +1e-8 for every unit, several per weight
    up = rng.normal(size=(3, 6))
    loss = lambda: float(np.sum(np.maximum(X @ W + b, 0) * up))  # noqa: E731
    grads = lambda: {"W": X.T @ (up * (X @ W + b > 0)), "b": (up * (X @ W + b > 0)).sum(0)}  # noqa: E731
    result = check_gradients(loss, {"W": W, "b": b}, grads)
    assert result.passed, str(result)
    assert sum(p.n_kinks for p in result.params) > 0
