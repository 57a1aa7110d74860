"""A float64 copy of a float32 network: made from the target alone, used only when it is the same
network, and never touching the original."""

import threading

import numpy as np
import pytest

from gradcheck.adapters import layer_objects
from gradcheck.targets import widening
from gradcheck.targets.widening import float64_copy, widened
from tests.corpus.networks import small_init_unfittable


def _tanh_net(dtype=np.float32, seed=0):
    """The corpus's tanh network with weights around 1e-3 (functional style): target, params."""
    target = small_init_unfittable(seed, dtype, None, None)
    return target, target.params


def _batch(n=16, dtype=np.float32):
    rng = np.random.default_rng(1)
    return rng.uniform(0, 1, (n, 5)).astype(dtype), rng.integers(0, 3, n)


def test_the_copy_is_float64_and_the_original_is_untouched():
    target, params = _tanh_net()
    before = {k: v.copy() for k, v in params.items()}
    X, y = _batch()
    clone, X64, y64, why = float64_copy(target, X, y)
    assert why == ""
    assert X64.dtype == np.float64 and X.dtype == np.float32
    for name, array in clone.params.items():
        assert array.dtype == np.float64
        assert not np.shares_memory(array, params[name])
        np.testing.assert_array_equal(array, before[name].astype(np.float64))
    for name in params:
        assert params[name].dtype == np.float32
        assert params[name].tobytes() == before[name].tobytes()
    assert abs(clone.loss(X64, y64) - target.loss(X, y)) < 1e-5


def test_arrays_shared_in_the_original_stay_shared_in_the_copy():
    class Tied:
        def __init__(self):
            self.W = np.ones((3, 2), dtype=np.float32)
            self.layers = [{"weights": self.W}]

    clone = widened(Tied())
    assert clone.W.dtype == np.float64
    assert clone.layers[0]["weights"] is clone.W


def test_layer_objects_are_widened_through_their_attributes():
    class Dense:
        def __init__(self, rng):
            self.weights = (0.1 * rng.standard_normal((5, 4))).astype(np.float32)
            self.biases = np.zeros((1, 4), dtype=np.float32)

        def forward(self, inputs):
            self.inputs = inputs
            self.output = inputs @ self.weights + self.biases

        def backward(self, dvalues):
            self.dweights = self.inputs.T @ dvalues
            self.dbiases = dvalues.sum(axis=0, keepdims=True)
            self.dinputs = dvalues @ self.weights.T

    class Loss:
        def forward(self, output, y):
            shifted = np.exp(output - output.max(axis=1, keepdims=True))
            self.p = shifted / shifted.sum(axis=1, keepdims=True)
            return -np.log(self.p[np.arange(len(y)), y])

        def calculate(self, output, y):
            return float(np.mean(self.forward(output, y)))

        def backward(self, dvalues, y):
            d = self.p.copy()
            d[np.arange(len(y)), y] -= 1
            self.dinputs = d / len(y)

    rng = np.random.default_rng(0)
    target = layer_objects([Dense(rng)], Loss(), n_inputs=5)
    X, y = _batch()
    clone, X64, y64, why = float64_copy(target, X, y)
    assert why == ""
    assert all(a.dtype == np.float64 for a in clone.params.values())
    grads = clone.gradients(X64, y64)
    assert all(np.asarray(g).dtype == np.float64 for g in grads.values())


def test_a_network_that_casts_its_parameters_back_is_refused():
    class Caster:
        layout = "rows"

        def __init__(self):
            self.W = np.full((5, 3), 1e-3, dtype=np.float32)

        @property
        def params(self):
            return {"W": self.W.astype(np.float32)}

        def loss(self, X, y):
            return float(np.mean(X @ self.W))

        def gradients(self, X, y):
            return {"W": np.tile(X.mean(axis=0)[:, None] / 3, (1, 3))}

    X, y = _batch()
    clone, _, _, why = float64_copy(Caster(), X, y)
    assert clone is None and "not float64" in why


def test_an_object_that_cannot_be_copied_is_refused_with_the_reason():
    target, _ = _tanh_net()
    target.lock = threading.Lock()
    X, y = _batch()
    clone, _, _, why = float64_copy(target, X, y)
    assert clone is None and "cannot be copied" in why and "lock" in why


def test_a_target_holding_too_much_data_is_not_copied(monkeypatch):
    target, _ = _tanh_net()
    monkeypatch.setattr(widening, "MAX_BYTES", 100)
    X, y = _batch()
    clone, _, _, why = float64_copy(target, X, y)
    assert clone is None and "MiB of arrays" in why


def test_a_float64_network_needs_no_copy():
    target, _ = _tanh_net(dtype=np.float64)
    X, y = _batch(dtype=np.float64)
    clone, _, _, why = float64_copy(target, X, y)
    assert clone is None and "already float64" in why


@pytest.mark.parametrize("seed", range(3))
def test_a_copy_whose_gradients_differ_is_refused(seed):
    """A backward that is random per call (an unseeded dropout in it) is not reproduced by a copy."""
    target, params = _tanh_net(seed=seed)
    rng = np.random.default_rng(seed)
    inner = target._gradients
    target._gradients = lambda p, X, y: tuple(g * rng.uniform(0.5, 1.5) for g in inner(p, X, y))
    X, y = _batch()
    clone, _, _, why = float64_copy(target, X, y)
    assert clone is None and "gradients differ" in why


def test_a_copy_whose_backward_casts_to_float32_is_refused():
    target, _ = _tanh_net()
    inner = target._gradients
    target._gradients = _CastingGradients(inner)
    X, y = _batch()
    clone, _, _, why = float64_copy(target, X, y)
    assert clone is None and "narrower than float64" in why


class _CastingGradients:
    """A backward that casts its results to float32, whatever its inputs."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, p, X, y):
        return tuple(np.asarray(g, dtype=np.float32) for g in self.inner(p, X, y))


def test_measuring_the_target_writes_nothing_into_it():
    class Watched:
        def __init__(self):
            self.layers = ({"W": np.ones((2, 2), dtype=np.float32)}, [np.zeros(3, dtype=np.float32)])
            self.writes = 0

        def __setattr__(self, name, value):
            if name != "writes" and hasattr(self, "writes"):
                self.writes += 1
            object.__setattr__(self, name, value)

    target = Watched()
    layers = target.layers
    assert widening.array_bytes(target) == 4 * 4 + 3 * 4
    assert target.writes == 0 and target.layers is layers
