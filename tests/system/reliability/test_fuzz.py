"""Fuzzing: arbitrary arrays and callables into check_gradients and check_layer.

Only documented errors (gradcheck.errors classes) may escape, the user's arrays come back bit for
bit, and a returned result renders as text and JSON. Fixed seed, a bounded number of examples.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck import GradcheckError, check_gradients, check_layer
from gradcheck import probes as P
from tests.system.reliability.helpers import bits

FUZZ = settings(max_examples=80, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, np.float16])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


def arrays(dtype=DTYPES, shape=SHAPES):
    return hnp.arrays(dtype=dtype, shape=shape)


def _quiet(function):
    def wrapped(*args):
        with np.errstate(all="ignore"):
            return function(*args)

    return wrapped


def loss_functions(params):
    """A zoo of loss callables over ``params``: well-behaved ones and broken ones."""
    def total():
        return sum(float(np.sum(np.abs(a.astype(np.complex128)) ** 2)) for a in params.values())

    return st.sampled_from([
        _quiet(total),
        _quiet(lambda: np.float32(total())),
        _quiet(lambda: np.array([total()])),
        lambda: None,
        lambda: "loss",
        lambda: np.ones(3),
        lambda: float("nan"),
        lambda: 1 / 0,
        lambda: (total(), {}),
        _quiet(lambda: total() * np.random.default_rng().random()),
    ])


@st.composite
def problems(draw):
    names = draw(st.lists(st.sampled_from(["W", "b", "W2", "x"]), min_size=0, max_size=3, unique=True))
    params = {name: draw(arrays()) for name in names}
    if draw(st.booleans()):
        params = {name: np.real(a).astype(np.float64) for name, a in params.items()}
    loss = draw(loss_functions(params))
    grad_names = draw(st.sampled_from(["same", "missing", "extra"]))
    keys = list(params) + (["extra"] if grad_names == "extra" else [])
    if grad_names == "missing" and keys:
        keys = keys[1:]
    grads = {name: draw(st.one_of(arrays(), st.none(), st.floats(), st.text(max_size=2))) for name in keys}
    if draw(st.booleans()):
        grads = (lambda g=grads: g) if draw(st.booleans()) else [grads]
    options = draw(st.fixed_dictionaries({}, optional={
        "mode": st.sampled_from(["full", "sample", "directional", "bogus"]),
        "samples": st.one_of(st.integers(-1, 5), st.none()),
        "eps": st.one_of(st.floats(allow_nan=True), st.none()),
        "method": st.sampled_from(["central", "richardson"]),
        "seed": st.integers(-2, 5),
        "directions": st.integers(0, 3),
    }))
    return loss, params, grads, options


@seed(20240607)
@FUZZ
@given(problems())
def test_check_gradients_raises_only_documented_errors(problem):
    loss, params, grads, options = problem
    before = bits({k: v for k, v in params.items() if isinstance(v, np.ndarray)})
    try:
        with np.errstate(all="ignore"):
            result = check_gradients(loss, params, grads, **options)
    except GradcheckError:
        pass
    else:
        json.dumps(result.to_dict(), allow_nan=False)
        str(result)
    assert bits({k: v for k, v in params.items() if isinstance(v, np.ndarray)}) == before


FORWARDS = st.sampled_from([
    _quiet(lambda X: 2.0 * X),
    _quiet(lambda X: np.tanh(X)),
    lambda X: None,
    lambda X: X.sum(),
    lambda X: np.ones(2),
    lambda X: X.astype(int),
    lambda X: 1 / 0,
])
BACKWARDS = st.sampled_from([
    lambda dY: 2.0 * dY,
    lambda dY: None,
    lambda dY: (dY, {}),
    lambda dY: {"input": dY, "ghost": dY},
    lambda dY: dY[..., :1],
    lambda dY: 1 / 0,
    lambda dY: "dX",
])


@seed(20240607)
@FUZZ
@given(X=arrays(), forward=FORWARDS, backward=BACKWARDS,
       options=st.fixed_dictionaries({}, optional={"mode": st.sampled_from(["full", "directional", "x"]),
                                                   "seed": st.integers(-1, 3)}))
def test_check_layer_raises_only_documented_errors(X, forward, backward, options):
    before = bits({"X": X})
    try:
        with np.errstate(all="ignore"):
            result = check_layer(forward, backward, X, **options)
    except GradcheckError:
        pass
    else:
        json.dumps(result.to_dict(), allow_nan=False)
    assert bits({"X": X}) == before


# -- the probes -----------------------------------------------------------------------------------
FUNCTIONS = st.sampled_from([
    lambda *a: a[0],
    lambda *a: None,
    lambda *a: "probabilities",
    lambda *a: np.ones(3),
    lambda *a: a[0][..., :1],
    lambda *a: 1 / 0,
    lambda *a: float("nan"),
    lambda *a: [[1, 2], [3]],
    lambda *a: np.exp(a[0]),
    lambda *a: a[0].astype(complex),
    3,
    None,
])
FUNCTION_PROBES = st.sampled_from([P.probe_softmax, P.probe_log_softmax, P.probe_sigmoid,
                                   P.probe_cross_entropy, P.probe_binary_cross_entropy])


@pytest.mark.filterwarnings("error::RuntimeWarning")  # a probe records NumPy's warnings, never leaks them
@seed(20240607)
@FUZZ
@given(probe=FUNCTION_PROBES, fn=FUNCTIONS,
       options=st.fixed_dictionaries({}, optional={"dtype": st.sampled_from([np.float32, np.float64, int, "x"]),
                                                   "seed": st.integers(0, 3)}))
def test_function_probes_raise_only_documented_errors(probe, fn, options):
    try:
        result = probe(fn, **options)
    except GradcheckError:
        return
    json.dumps(result.to_dict(), allow_nan=False)
    assert result.passed in (True, False)


class _Regression:
    """Softmax regression over 4 inputs and 3 classes, rows are examples."""

    def __init__(self):
        self.params = {"W": np.random.default_rng(0).normal(size=(4, 3)), "b": np.zeros(3)}

    def _probabilities(self, X):
        Z = np.asarray(X, dtype=float) @ self.params["W"] + self.params["b"]
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)

    def loss(self, X, y):
        return float(-np.mean(np.log(self._probabilities(X)[np.arange(len(y)), y] + 1e-300)))

    def gradients(self, X, y):
        dZ = self._probabilities(X)
        dZ[np.arange(len(y)), y] -= 1
        return {"W": np.asarray(X, dtype=float).T @ dZ / len(y), "b": dZ.mean(axis=0)}


TRAINING_PROBES = st.sampled_from([P.probe_input_scale, P.probe_learning_rate, P.probe_activations,
                                   P.probe_gradient_flow])


@pytest.mark.filterwarnings("error::RuntimeWarning")
@seed(20240607)
@settings(FUZZ, max_examples=40)
@given(probe=TRAINING_PROBES,
       X=arrays(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)),
       y=st.one_of(arrays(dtype=st.sampled_from([np.int64, np.float64])), st.none(), st.text(max_size=2)))
def test_training_probes_raise_only_documented_errors(probe, X, y):
    target = _Regression()
    watched = {"X": X, **({"y": y} if isinstance(y, np.ndarray) else {})}
    before, params_before = bits(watched), bits(target.params)
    options = {"steps": 2} if probe is not P.probe_gradient_flow else {}
    try:
        result = probe(target, X, y, **options)
    except GradcheckError:
        pass
    else:
        json.dumps(result.to_dict(), allow_nan=False)
    assert bits(watched) == before
    assert bits(target.params) == params_before
