"""The bad-input catalogue: one row per line of the catalogue in docs/bad-inputs.md, id = the line.

Every public entry point (check_gradients, check_layer, the probes, the adapters, the target
loaders, the command line and the pytest plugin) gets bad inputs; each row says what must happen:
a documented error naming the argument and the problem, a result that says what is wrong,
(command line) exit code 2 with one line on stderr, or (pytest) a usage error or one failing
item, never a traceback. Every user array is bit-for-bit unchanged afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from gradcheck import adapters, check_gradients, check_layer
from gradcheck import probes as P
from gradcheck.errors import (
    CheckTooSlowError,
    GradcheckError,
    InvalidArgumentError,
    ProtocolError,
    TargetLoadError,
    UserCodeError,
)
from gradcheck.probes import ProbeResult
from gradcheck.pytest_plugin import parametrize_with_checks
from gradcheck.render.atomic import check_writable, write_text_atomic
from gradcheck.results import GradientCheckResult
from gradcheck.targets.batches import synthetic_batch
from gradcheck.targets.loading import load_object
from gradcheck.targets.protocol import as_target
from tests.system.reliability.helpers import (
    TARGET_SOURCE,
    CliOutcome,
    PytestOutcome,
    bits,
    quadratic_problem,
    run_cli,
    run_pytest,
    with_clock,
    write_target,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "bad-inputs.md"


@dataclass(frozen=True)
class Row:
    """One catalogue line: run it (given a temporary directory) and what must happen.

    ``error``: the exception class expected (None: a result, or a command-line outcome).
    ``argument``: the InvalidArgumentError.argument expected (errors that have one).
    ``excerpt``: text that must appear in the message (or the result's text, or stderr).
    ``passed``: for a result, whether it passes.
    """

    line: str
    run: Callable[[Path], object]
    excerpt: str
    error: type | None = None
    argument: str | None = None
    passed: bool | None = None


def _check(**overrides):
    """check_gradients on a fresh smooth problem with some arguments replaced.

    ``params_extra`` adds arrays to the true params; the user's arrays must come back unchanged.
    """
    loss, params, grads = quadratic_problem()
    call = {"loss": loss, "params": params, "grads": grads}
    call.update(overrides)
    watched = {k: v for k, v in params.items() if isinstance(v, np.ndarray)}
    before = bits(watched)
    try:
        return check_gradients(call.pop("loss"), call.pop("params"), call.pop("grads"), **call)
    finally:
        assert bits(watched) == before


def _params(**replace):
    loss, params, grads = quadratic_problem()
    params.update(replace)
    return params


def _read_only():
    a = np.ones((2, 3))
    a.setflags(write=False)
    return a


def _self_overlapping():
    base = np.arange(3.0)
    return np.lib.stride_tricks.as_strided(base, shape=(2, 3), strides=(0, 8), writeable=True)


def _with_param(array, loss=None, grad=None):
    """check_gradients on a single parameter ``x`` with loss sum(x^2) (or ``loss``)."""
    before = bits({"x": array}) if array.flags.writeable else None
    result = check_gradients(loss or (lambda: float(np.sum(array**2))), {"x": array},
                             lambda: {"x": 2 * array if grad is None else grad})
    if before is not None:
        assert bits({"x": array}) == before
    return result


def _shared_memory():
    buffer = np.random.default_rng(0).normal(size=(3, 4))
    A, row = buffer, buffer[0]
    return check_gradients(lambda: float(np.sum(A**2) + np.sum(row**2)), {"A": A, "row": row},
                           lambda: {"A": 2 * A, "row": 2 * row})


def _non_contiguous():
    buffer = np.random.default_rng(0).normal(size=(4, 6))
    view = buffer[::2, ::3]
    before = buffer.tobytes()
    result = _with_param(view)
    assert buffer.tobytes() == before and result["x"].n_checked == view.size
    return result


def _matrix_param():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        M = np.matrix(np.random.default_rng(0).normal(size=(3, 4)))
    return _with_param(M, loss=lambda: float(np.sum(np.multiply(M, M))), grad=2 * np.asarray(M))


def _padded_longdouble():
    x = np.empty(4, dtype=np.longdouble)
    x.view(np.uint8)[:] = 0xAB  # garbage in the padding bytes, as np.empty or a file may hold
    x[...] = np.linspace(-1, 1, 4)
    return _with_param(x)


def _write_over_source(tmp):
    source = tmp / "model.py"
    source.write_text("W = 1\n", encoding="utf-8")
    try:
        return write_text_atomic(source, "{}", argument="--json", protected=[source])
    finally:
        assert source.read_text(encoding="utf-8") == "W = 1\n"


# -- check_layer --------------------------------------------------------------------------------
X3 = np.linspace(-1.0, 1.0, 6).reshape(2, 3)


def _dense():
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    state = {}

    def forward(X):
        state["X"] = X
        return X @ W + b

    def backward(dY):
        return dY @ W.T, {"W": state["X"].T @ dY, "b": dY.sum(axis=0)}

    return forward, backward, {"W": W, "b": b}


def _layer(X=X3, forward=None, backward=None, params=None, **overrides):
    dense = _dense()
    call = {"forward": forward or dense[0], "backward": backward or dense[1],
            "params": dense[2] if params is None else params}
    call.update(overrides)
    before_X = bits({"X": X}) if isinstance(X, np.ndarray) else None
    try:
        return check_layer(call.pop("forward"), call.pop("backward"), X, call.pop("params"), **call)
    finally:
        if before_X is not None:
            assert bits({"X": X}) == before_X


def _dense_with_bad_dx():
    forward, backward, params = _dense()
    return X3, forward, lambda dY: (backward(dY)[0][:, :2], backward(dY)[1]), params


def _read_only_X():
    X = X3.copy()
    X.setflags(write=False)
    return _layer(X)


# -- adapters -----------------------------------------------------------------------------------
def _functional(params=None, **overrides):
    params = {"W": np.ones((4, 3)), "b": np.zeros(3)} if params is None else params
    call = {"gradients": lambda p, X, y: (np.zeros((4, 3)), np.zeros(3)),
            "output": lambda p, X: np.full((X.shape[0], 3), 1 / 3)}
    call.update(overrides)
    return adapters.functional(params, **call)


def _functional_gradients_returning(value):
    target = _functional(gradients=lambda p, X, y: value)
    return target.gradients(np.ones((2, 4)), np.array([0, 1]))


class _Layer:
    def __init__(self, with_weights=True):
        if with_weights:
            self.weights, self.biases = np.ones((4, 3)), np.zeros((1, 3))

    def forward(self, inputs):
        self.output = inputs

    def backward(self, dvalues):
        self.dinputs = dvalues


class _LossObject:
    def backward(self, output, y):
        self.dinputs = output


class _LayerNoBackward:
    def forward(self, inputs):
        return inputs


class _CacheModel:
    def __init__(self, params=None, result=None):
        self.params = {"W": np.ones((4, 3))} if params is None else params
        self._result = result

    def loss(self, X, y):
        return self._result


class _NoLoss:
    params = {"W": np.ones((4, 3))}


class _Nielsen:
    def __init__(self, weights=None, biases=None):
        self.weights = [np.ones((3, 4))] if weights is None else weights
        self.biases = [np.zeros((3, 1))] if biases is None else biases

    def feedforward(self, a):
        return a

    def backprop(self, x, y):
        return [], []


class _HalfNielsen:
    weights, biases = [np.ones((3, 4))], [np.zeros((3, 1))]

    def feedforward(self, a):
        return a


# -- targets ------------------------------------------------------------------------------------
def _load(tmp, body, attr="target"):
    return as_target(load_object(f"{write_target(tmp, body)}:{attr}"), label=attr)


def _load_source(tmp, source, attr="target"):
    path = tmp / "bad.py"
    path.write_text(source, encoding="utf-8")
    return load_object(f"{path}:{attr}")


class _Loaded:
    """A protocol target built from the helper network, with one attribute replaced."""

    def __init__(self, **attributes):
        self.params = {"W": np.ones((4, 3)), "b": np.zeros(3)}
        self.__dict__.update(attributes)

    def loss(self, X, y):
        return 1.0

    def gradients(self, X, y):
        return {}


def _raising_progress(done, total):
    raise RuntimeError("the bar broke")


def _cli(tmp, body, *options, attr="target"):
    return run_cli(["check", f"{write_target(tmp, body)}:{attr}", "--batch-size", "8", *options])


def _cli_json_under_a_file(tmp):
    (tmp / "file.txt").write_text("not a directory", encoding="utf-8")
    outcome = _cli(tmp, "target = Net()", "--json", str(tmp / "file.txt" / "sub" / "report.json"))
    # Python's own bytecode cache for the imported net.py may appear; nothing else may
    assert sorted(p.name for p in tmp.iterdir() if p.name != "__pycache__") == ["file.txt", "net.py"]
    return outcome


def _cli_probe_json_under_a_file(tmp):
    (tmp / "file.txt").write_text("not a directory", encoding="utf-8")
    return run_cli(["probe", f"{write_target(tmp, 'target = Net()')}:target", "--json",
                    str(tmp / "file.txt" / "sub" / "report.json")])


def _cli_too_slow(tmp):
    return with_clock(1000.0, lambda: _cli(tmp, "target = Net()"))


# -- the probes ---------------------------------------------------------------------------------
def _batch(n: int = 8):
    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 1.0, size=(n, 4)), np.arange(n) % 3


def _net(dtype=np.float64):
    namespace: dict = {}
    exec(compile(TARGET_SOURCE, "net.py", "exec"), namespace)
    return namespace["Net"](dtype)


def _training(probe, X=None, y=None, target=None, **options):
    """A training probe on the helper network; X, y and the parameters must come back unchanged."""
    X0, y0 = _batch()
    X = X0 if X is None else X
    y = y0 if y is None else y
    target = _net() if target is None else target
    watched = {"X": X, "y": y} if isinstance(X, np.ndarray) and isinstance(y, np.ndarray) else {}
    params = getattr(target, "params", {})
    before, params_before = bits(watched), bits(params) if isinstance(params, dict) else {}
    try:
        return probe(target, X, y, **options)
    finally:
        assert bits(watched) == before
        if params_before:
            assert bits(params) == params_before


class _LossOnly:
    params = {"W": np.ones((4, 3))}

    def loss(self, X, y):
        return 1.0


def _in_place_softmax(Z):
    Z -= Z.max(axis=-1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=-1, keepdims=True)
    return Z


def _gradients_raising_on_call(n: int):
    net, calls = _net(), {"n": 0}
    correct = net.gradients

    def gradients(X, y):
        calls["n"] += 1
        if calls["n"] == n:
            raise FloatingPointError("step 3 blew up")
        return correct(X, y)

    net.gradients = gradients
    return net


NO_GRADIENTS = "class T:\n    params = Net().params\n\n\ntarget = T()"


def _plugin(tmp, *options, body="target = Net()"):
    return run_pytest(tmp, [f"--gradcheck-target={write_target(tmp, body)}:target",
                            "--gradcheck-mode", "directional", *options])


def _plugin_html_under_a_file(tmp):
    (tmp / "file.txt").write_text("not a directory", encoding="utf-8")
    return _plugin(tmp, f"--gradcheck-html={tmp / 'file.txt' / 'sub' / 'r.html'}")


R = Row
ROWS = [
    # -- check_gradients: params ---------------------------------------------------------------
    R("check_gradients: params array of integer dtype",
      lambda t: _check(params=_params(W=np.ones((2, 3), dtype=np.int64))), "has dtype int64",
      InvalidArgumentError, "params['W']"),
    R("check_gradients: params array of object dtype",
      lambda t: _check(params=_params(W=np.ones((2, 3)).astype(object))), "has dtype object",
      InvalidArgumentError, "params['W']"),
    R("check_gradients: params array of bool dtype",
      lambda t: _check(params=_params(W=np.ones((2, 3), dtype=bool))), "has dtype bool",
      InvalidArgumentError, "params['W']"),
    R("check_gradients: params array of complex dtype",
      lambda t: _check(params=_params(W=np.ones((2, 3), dtype=complex))), "has dtype complex128",
      InvalidArgumentError, "params['W']"),
    R("check_gradients: params a list instead of a dict",
      lambda t: _check(params=[np.ones(3)]), "got list, expected a mapping", InvalidArgumentError, "params"),
    R("check_gradients: params an empty dict",
      lambda t: _check(params={}), "is empty", InvalidArgumentError, "params"),
    R("check_gradients: params with a non-str key",
      lambda t: _check(params={0: np.ones(3)}), "keys must be str", InvalidArgumentError, "params"),
    R("check_gradients: params value a nested list",
      lambda t: _check(params=_params(W=[[1.0, 2.0]])), "is a list, expected a NumPy array",
      InvalidArgumentError, "params['W']"),
    R("check_gradients: params array empty, shape (0, 3)",
      lambda t: _check(params=_params(W=np.ones((0, 3)))), "is empty (shape (0, 3))",
      InvalidArgumentError, "params['W']"),
    R("check_gradients: params array read-only (writeable=False)",
      lambda t: _check(params=_params(W=_read_only())), "is read-only (writeable=False)",
      InvalidArgumentError, "params['W']"),
    R("check_gradients: params array a read-only np.broadcast_to view",
      lambda t: _check(params=_params(b=np.broadcast_to(np.ones(1), (3,)))), "W = W.copy()",
      InvalidArgumentError, "params['b']"),
    R("check_gradients: params array whose entries overlap in memory (zero stride)",
      lambda t: _check(params=_params(W=_self_overlapping())), "share memory with each other",
      InvalidArgumentError, "params['W']"),
    R("check_gradients: params array containing NaN",
      lambda t: _check(params=_params(W=np.array([[1.0, np.nan, 0.0], [0.0, 0.0, 0.0]]))),
      "contains 1 NaN or inf value (the first at params['W'][0, 1])", InvalidArgumentError, "params['W']"),
    R("check_gradients: params array containing inf",
      lambda t: _check(params=_params(b=np.array([np.inf, -np.inf, 0.0]))),
      "contains 2 NaN or inf values", InvalidArgumentError, "params['b']"),
    R("check_gradients: two params sharing memory (one a row of the other)",
      lambda t: _shared_memory(), "params['A'] and params['row'] share memory", passed=False),
    R("check_gradients: params array a non-contiguous view",
      lambda t: _non_contiguous(), "PASSED", passed=True),
    R("check_gradients: params array Fortran-ordered",
      lambda t: _with_param(np.asfortranarray(np.random.default_rng(0).normal(size=(3, 4)))),
      "PASSED", passed=True),
    R("check_gradients: params array an np.matrix", lambda t: _matrix_param(), "PASSED", passed=True),
    R("check_gradients: params array longdouble with garbage in its padding bytes",
      lambda t: _padded_longdouble(), "PASSED", passed=True),
    R("check_gradients: params array zero-dimensional",
      lambda t: _with_param(np.array(1.5)), "scalar", passed=True),
    R("check_gradients: params array float16",
      lambda t: _with_param(np.linspace(-1, 1, 4).astype(np.float16)), "parameters are float16", passed=True),
    # -- check_gradients: grads ----------------------------------------------------------------
    R("check_gradients: grads missing a name",
      lambda t: _check(grads={"W": np.zeros((2, 3))}), "no gradient for ['b']", InvalidArgumentError, "grads"),
    R("check_gradients: grads with an extra name",
      lambda t: _check(grads={"W": np.zeros((2, 3)), "b": np.zeros(3), "V": np.zeros(2)}),
      "gradients for unknown parameters ['V']", InvalidArgumentError, "grads"),
    R("check_gradients: grads a list instead of a dict",
      lambda t: _check(grads=[np.zeros((2, 3)), np.zeros(3)]), "got list, expected a mapping",
      InvalidArgumentError, "grads"),
    R("check_gradients: grads function returning None",
      lambda t: _check(grads=lambda: None), "got NoneType, expected a mapping", InvalidArgumentError, "grads"),
    R("check_gradients: grads function raising",
      lambda t: _check(grads=lambda: 1 / 0),
      "gradients: raised ZeroDivisionError: division by zero", passed=False),
    R("check_gradients: grads value None",
      lambda t: _check(grads={"W": None, "b": np.zeros(3)}), "is a NoneType, expected a NumPy array",
      InvalidArgumentError, "grads['W']"),
    R("check_gradients: grads array of object dtype",
      lambda t: _check(grads={"W": np.zeros((2, 3)).astype(object), "b": np.zeros(3)}),
      "has dtype object, expected a float array", InvalidArgumentError, "grads['W']"),
    R("check_gradients: grads array of complex dtype",
      lambda t: _check(grads={"W": np.zeros((2, 3), dtype=complex), "b": np.zeros(3)}),
      "has dtype complex128, expected a float array", InvalidArgumentError, "grads['W']"),
    R("check_gradients: grads array transposed (shape mismatch)",
      lambda t: _check(grads=lambda: {**quadratic_problem()[2](), "W": quadratic_problem()[2]()["W"].T}),
      "has the transposed shape (3, 2) of W (2, 3)", passed=False),
    R("check_gradients: grads array of another size (shape mismatch)",
      lambda t: _check(grads=lambda: {**quadratic_problem()[2](), "W": np.ones(7)}),
      "dW has shape (7,) but W has shape (2, 3)", passed=False),
    R("check_gradients: grads array (n,) for a parameter (n, 1)",
      lambda t: _with_param(np.ones((3, 1)), grad=2 * np.ones(3)), "(shape)", passed=False),
    R("check_gradients: grads array empty",
      lambda t: _check(grads=lambda: {**quadratic_problem()[2](), "W": np.ones(0)}),
      "dW has shape (0,) but W has shape (2, 3)", passed=False),
    R("check_gradients: grads array zero-dimensional for a matrix",
      lambda t: _check(grads=lambda: {**quadratic_problem()[2](), "W": np.array(1.0)}),
      "one value (1) repeated for every entry", passed=False),
    R("check_gradients: grads array containing NaN",
      lambda t: _check(grads=lambda: {**quadratic_problem()[2](), "b": np.array([0.0, np.nan, 1.0])}),
      "analytic entries are NaN or inf (nonfinite)", passed=False),
    R("check_gradients: grads array containing inf",
      lambda t: _check(grads=lambda: {**quadratic_problem()[2](), "b": np.array([np.inf, 0.0, 1.0])}),
      "analytic inf", passed=False),
    # -- check_gradients: loss -----------------------------------------------------------------
    R("check_gradients: loss not callable",
      lambda t: _check(loss=0.5), "got float, expected a zero-argument function", InvalidArgumentError, "loss"),
    R("check_gradients: loss returning an array",
      lambda t: _check(loss=lambda: np.ones(3)), "returned an array of shape (3,), expected a scalar loss",
      InvalidArgumentError, "loss"),
    R("check_gradients: loss returning None",
      lambda t: _check(loss=lambda: None), "returned NoneType None", InvalidArgumentError, "loss"),
    R("check_gradients: loss returning a string",
      lambda t: _check(loss=lambda: "0.5"), "returned str '0.5'", InvalidArgumentError, "loss"),
    R("check_gradients: loss returning (loss, grads)",
      lambda t: _check(loss=lambda: (0.5, {})), "returned a tuple of length 2", InvalidArgumentError, "loss"),
    R("check_gradients: loss returning a complex number",
      lambda t: _check(loss=lambda: 0.5 + 1j), "returned complex", InvalidArgumentError, "loss"),
    R("check_gradients: loss returning a 1-element complex array",
      lambda t: _check(loss=lambda: np.array([0.5 + 0j])), "expected a real scalar loss",
      InvalidArgumentError, "loss"),
    R("check_gradients: loss returning a timedelta",
      lambda t: _check(loss=lambda: __import__("datetime").timedelta(seconds=1)),
      "returned timedelta", InvalidArgumentError, "loss"),
    R("check_gradients: loss returning the integer 10**400", lambda t: _check(loss=lambda: 10 ** 400),
      "too large for a float", InvalidArgumentError, "loss"),
    R("check_gradients: progress callback raising", lambda t: _check(progress=_raising_progress),
      "the progress function raised RuntimeError: the bar broke", UserCodeError),
    R("check_gradients: loss returning NaN",
      lambda t: _check(loss=lambda: float("nan")), "returned nan at the unperturbed parameters",
      InvalidArgumentError, "loss"),
    R("check_gradients: loss returning inf",
      lambda t: _check(loss=lambda: float("inf")), "returned inf at the unperturbed parameters",
      InvalidArgumentError, "loss"),
    R("check_gradients: loss raising",
      lambda t: _check(loss=lambda: 1 / 0), "(call 1, at the unperturbed parameters)", UserCodeError),
    # -- check_gradients: options --------------------------------------------------------------
    R("check_gradients: mode unknown", lambda t: _check(mode="fast"), "got 'fast'", InvalidArgumentError, "mode"),
    R("check_gradients: method unknown",
      lambda t: _check(method="forward"), "got 'forward'", InvalidArgumentError, "method"),
    R("check_gradients: eps negative", lambda t: _check(eps=-1e-6), "expected a positive number",
      InvalidArgumentError, "eps"),
    R("check_gradients: eps True", lambda t: _check(eps=True), "got True", InvalidArgumentError, "eps"),
    R("check_gradients: eps 1 or more", lambda t: _check(eps=2.0), "it is a relative step",
      InvalidArgumentError, "eps"),
    R("check_gradients: eps below the dtype's precision",
      lambda t: _check(eps=1e-17), "would round back to their old values", InvalidArgumentError, "eps"),
    R("check_gradients: rtol NaN", lambda t: _check(rtol=float("nan")), "expected a positive number",
      InvalidArgumentError, "rtol"),
    R("check_gradients: samples 0", lambda t: _check(mode="sample", samples=0), "expected a positive integer",
      InvalidArgumentError, "samples"),
    R("check_gradients: samples a float", lambda t: _check(mode="sample", samples=2.5),
      "expected a positive integer", InvalidArgumentError, "samples"),
    R("check_gradients: seed negative", lambda t: _check(seed=-1), "expected a non-negative integer",
      InvalidArgumentError, "seed"),
    R("check_gradients: seed a string", lambda t: _check(seed="0"), "expected a non-negative integer",
      InvalidArgumentError, "seed"),
    R("check_gradients: directions 0", lambda t: _check(mode="directional", directions=0),
      "expected a positive integer", InvalidArgumentError, "directions"),
    R("check_gradients: batch_size 0", lambda t: _check(batch_size=0), "expected a positive integer",
      InvalidArgumentError, "batch_size"),
    R("check_gradients: progress not callable", lambda t: _check(progress=True),
      "expected a function progress(done, total)", InvalidArgumentError, "progress"),
    R("check_gradients: max_seconds negative", lambda t: _check(max_seconds=-5),
      "expected a positive number of seconds", InvalidArgumentError, "max_seconds"),
    # -- check_gradients: too large for the time budget ----------------------------------------
    R("check_gradients: full mode estimated over max_seconds",
      lambda t: with_clock(10.0, lambda: _check(max_seconds=60)),
      "'full' would take about 3 min (18 loss evaluations at 10 s each), over max_seconds=60. "
      "Use mode='sample'", CheckTooSlowError, "mode"),
    R("check_gradients: full mode over max_seconds suggests directional",
      lambda t: with_clock(1.0, lambda: _check(params=_params(W=np.ones((50, 3))), grads={})),
      "mode='directional' (12 evaluations, about 12 s)", CheckTooSlowError, "mode"),
    R("check_gradients: sample mode estimated over max_seconds",
      lambda t: with_clock(10.0, lambda: _check(mode="sample", samples=4, max_seconds=30)),
      "Use fewer samples, mode='directional'", CheckTooSlowError, "mode"),
    R("check_gradients: max_seconds=None runs a long check anyway",
      lambda t: with_clock(10.0, lambda: _check(max_seconds=None)), "PASSED", passed=True),
    # -- check_layer ---------------------------------------------------------------------------
    R("check_layer: X a list", lambda t: _layer([[1.0, 2.0, 3.0]]), "got a list, expected a float ndarray",
      InvalidArgumentError, "X"),
    R("check_layer: X of integer dtype", lambda t: _layer(np.ones((2, 3), dtype=np.int32)),
      "got an ndarray of dtype int32", InvalidArgumentError, "X"),
    R("check_layer: X empty", lambda t: _layer(np.ones((0, 3))), "is empty (shape (0, 3))",
      InvalidArgumentError, "X"),
    R("check_layer: seed a string", lambda t: _layer(seed="abc"), "got 'abc', expected a non-negative integer",
      InvalidArgumentError, "seed"),
    R("check_layer: X containing NaN", lambda t: _layer(np.array([[np.nan, 0.0, 1.0]])),
      "contains 1 NaN or inf value (the first at X[0, 0])", InvalidArgumentError, "X"),
    R("check_layer: X read-only (copied, so it works)", lambda t: _read_only_X(), "PASSED", passed=True),
    R("check_layer: params a list", lambda t: _layer(params=[np.ones((3, 2))]), "got list, expected a mapping",
      InvalidArgumentError, "params"),
    R("check_layer: params array of integer dtype",
      lambda t: _layer(params={"W": np.ones((3, 2), dtype=int), "b": np.zeros(2)}), "has dtype int64",
      InvalidArgumentError, "params['W']"),
    R("check_layer: input_name also a parameter name", lambda t: _layer(input_name="W"),
      "'W' is also a parameter name", InvalidArgumentError, "input_name"),
    R("check_layer: input_name not a str", lambda t: _layer(input_name=0), "expected a non-empty str",
      InvalidArgumentError, "input_name"),
    R("check_layer: unknown keyword option", lambda t: _layer(mdoe="full"), "unknown keyword arguments ['mdoe']",
      InvalidArgumentError, "options"),
    R("check_layer: param_grads not callable", lambda t: _layer(param_grads={"W": 1}),
      "expected a zero-argument function", InvalidArgumentError, "param_grads"),
    R("check_layer: param_grads returning a list",
      lambda t: _layer(backward=lambda dY: dY @ np.ones((2, 3)), param_grads=lambda: [1]),
      "returned list, expected a mapping", InvalidArgumentError, "param_grads"),
    R("check_layer: forward not callable", lambda t: _layer(forward=3), "got int, expected a zero-argument function",
      InvalidArgumentError, "forward"),
    R("check_layer: forward returning None", lambda t: _layer(forward=lambda X: None),
      "returned NoneType, expected an ndarray", InvalidArgumentError, "forward"),
    R("check_layer: forward returning integers", lambda t: _layer(forward=lambda X: np.ones((2, 2), dtype=int)),
      "returned an array of dtype int64", InvalidArgumentError, "forward"),
    R("check_layer: forward returning NaN", lambda t: _layer(forward=lambda X: np.full(X.shape, np.nan)),
      "returned 6 NaN or inf values at X", InvalidArgumentError, "forward"),
    R("check_layer: forward raising", lambda t: _layer(forward=lambda X: 1 / 0),
      "the forward function raised ZeroDivisionError", UserCodeError),
    R("check_layer: backward returning None", lambda t: _layer(backward=lambda dY: None),
      "returned None, expected the input gradient dX", InvalidArgumentError, "backward"),
    R("check_layer: backward raising", lambda t: _layer(backward=lambda dY: 1 / 0),
      "backward: raised ZeroDivisionError", passed=False),
    R("check_layer: backward missing a parameter gradient",
      lambda t: _layer(backward=lambda dY: (dY @ np.ones((2, 3)), {"W": np.zeros((3, 2))})),
      "gave no gradient for parameters ['b']", InvalidArgumentError, "backward"),
    R("check_layer: backward with an extra gradient name",
      lambda t: _layer(backward=lambda dY: (dY @ np.ones((2, 3)), {"W": 0, "b": 0, "V": 0})),
      "gave gradients for ['V']", InvalidArgumentError, "backward"),
    R("check_layer: backward dX of the wrong shape",
      lambda t: _layer(*_dense_with_bad_dx()),
      "dinput has shape (2, 2) but input has shape (2, 3)", passed=False),
    # -- adapters ------------------------------------------------------------------------------
    R("adapters.functional: params not a dict", lambda t: _functional(params=[np.ones(3)]),
      "got list, expected a mapping", InvalidArgumentError, "params"),
    R("adapters.functional: params array of integer dtype",
      lambda t: _functional(params={"W": np.ones((4, 3), dtype=int)}), "has dtype int64",
      InvalidArgumentError, "params['W']"),
    R("adapters.functional: neither loss nor output", lambda t: _functional(output=None),
      "neither loss nor output was given", InvalidArgumentError, "loss"),
    R("adapters.functional: gradients not callable", lambda t: _functional(gradients=None),
      "got NoneType, expected a function", InvalidArgumentError, "gradients"),
    R("adapters.functional: loss not callable", lambda t: _functional(loss=0.5),
      "got float, expected a function", InvalidArgumentError, "loss"),
    R("adapters.functional: layout unknown", lambda t: _functional(layout="diagonal"),
      "got 'diagonal', expected 'rows' or 'columns'", InvalidArgumentError, "layout"),
    R("adapters.functional: gradients returning too few values",
      lambda t: _functional_gradients_returning((np.zeros((4, 3)),)),
      "gradients returned 1 values for 2 parameters", ProtocolError),
    R("adapters.functional: gradients returning None",
      lambda t: _functional_gradients_returning(None), "gradients returned NoneType", ProtocolError),
    R("adapters.layer_objects: layers empty", lambda t: adapters.layer_objects([], _LossObject()),
      "is empty", InvalidArgumentError, "layers"),
    R("adapters.layer_objects: one layer instead of a list", lambda t: adapters.layer_objects(_Layer(), _LossObject()),
      "got _Layer, expected a list of layer objects", InvalidArgumentError, "layers"),
    R("adapters.layer_objects: a layer without backward",
      lambda t: adapters.layer_objects([_LayerNoBackward()], _LossObject()), "has no forward/backward",
      InvalidArgumentError, "layers[0]"),
    R("adapters.layer_objects: loss without backward", lambda t: adapters.layer_objects([_Layer()], object()),
      "has no backward(output, y)", InvalidArgumentError, "loss"),
    R("adapters.layer_objects: no layer has weights",
      lambda t: adapters.layer_objects([_Layer(with_weights=False)], _LossObject()),
      "no layer has a `weights` attribute", ProtocolError),
    R("adapters.cache_model: model without a params dict", lambda t: adapters.cache_model(object()),
      "has no `params` dict of arrays", InvalidArgumentError, "model"),
    R("adapters.cache_model: model without loss", lambda t: adapters.cache_model(_NoLoss()),
      "has no loss(X, y) method", InvalidArgumentError, "model"),
    R("adapters.cache_model: params array of integer dtype",
      lambda t: adapters.cache_model(_CacheModel(params={"W": np.ones((4, 3), dtype=int)})),
      "has dtype int64", InvalidArgumentError, "model.params['W']"),
    R("adapters.cache_model: loss returning only the loss",
      lambda t: adapters.cache_model(_CacheModel(result=0.5)).loss(np.ones((2, 4)), np.zeros(2, int)),
      "must return (loss, grads)", ProtocolError),
    R("adapters.per_sample: network without backprop", lambda t: adapters.per_sample(_HalfNielsen()),
      "has no `backprop`", InvalidArgumentError, "network"),
    R("adapters.per_sample: more weights than biases",
      lambda t: adapters.per_sample(_Nielsen(weights=[np.ones((3, 4)), np.ones((2, 3))])),
      "has 2 weight matrices but 1 bias vectors", InvalidArgumentError, "network"),
    R("adapters.per_sample: weights of integer dtype",
      lambda t: adapters.per_sample(_Nielsen(weights=[np.ones((3, 4), dtype=int)])), "has dtype int64",
      InvalidArgumentError, "network['W1']"),
    # -- target loaders ------------------------------------------------------------------------
    R("load_object: spec without ':'", lambda t: load_object("mymodule"),
      "is not of the form 'package.module:attr'", TargetLoadError),
    R("load_object: spec not a str", lambda t: load_object(None), "is not of the form", TargetLoadError),
    R("load_object: nothing after ':'", lambda t: load_object("json:"), "names no attribute after ':'",
      TargetLoadError),
    R("load_object: nothing before ':'", lambda t: load_object(":target"), "names no module or file before ':'",
      TargetLoadError),
    R("load_object: module not installed", lambda t: load_object("no_such_module_xyz:target"),
      "no module named 'no_such_module_xyz'", TargetLoadError),
    R("load_object: file missing", lambda t: load_object(f"{t / 'missing.py'}:target"), "no such file",
      TargetLoadError),
    R("load_object: a directory instead of a file", lambda t: load_object(f"{t}/:target"), "is a directory",
      TargetLoadError),
    R("load_object: file with a syntax error", lambda t: _load_source(t, "def broken(:\n"), "syntax error in",
      TargetLoadError),
    R("load_object: file raising on import", lambda t: _load_source(t, "raise RuntimeError('no data')\n"),
      "raised RuntimeError: no data", TargetLoadError),
    R("load_object: attribute missing lists the names that could be targets",
      lambda t: _load_source(t, "import numpy as np\nfrom math import exp\nW = np.ones(2)\n"
                                "def make_net(): return None\nclass Net: pass\n"),
      "has no attribute 'target'. Names there that could be a target: Net, make_net.",
      TargetLoadError),
    R("load_object: attribute misspelt", lambda t: _load_source(t, "def target(): pass\n", "targt"),
      "has no attribute 'targt'; did you mean 'target'? Names there that could be a target: "
      "target.", TargetLoadError),
    R("load_object: nothing there could be a target", lambda t: _load_source(t, "net = 1\n"),
      "has no attribute 'target'; define the network object", TargetLoadError),
    R("load_object: file calling sys.exit(0) at import", lambda t: _load_source(t, "import sys\nsys.exit(0)\n"),
      "the target called sys.exit(0) at import, in bad.py line 2", TargetLoadError),
    R("load_object: file raising SystemExit('bye') at import",
      lambda t: _load_source(t, "raise SystemExit('bye')\n"),
      "the target called sys.exit('bye') at import, in bad.py line 1", TargetLoadError),
    # -- output files --------------------------------------------------------------------------
    R("write_text_atomic: empty path", lambda t: write_text_atomic("", "{}", argument="--json"),
      "received an empty path ''", InvalidArgumentError, "--json"),
    R("write_text_atomic: the source file being checked", _write_over_source,
      "a source file being checked; writing the report there would overwrite it", InvalidArgumentError,
      "--json"),
    R("check_writable: empty path", lambda t: check_writable("", argument="--html"),
      "received an empty path ''", InvalidArgumentError, "--html"),
    R("as_target: a class whose constructor needs arguments",
      lambda t: _load(t, "class Sized(Net):\n    def __init__(self, sizes, seed):\n        super().__init__()\n"
                         "target = Sized"),
      "`def make_target(): return Sized(sizes=..., seed=...)`", ProtocolError),
    R("as_target: a factory that calls sys.exit", lambda t: _load(t, "import sys\ndef target(): sys.exit(3)"),
      "the target called sys.exit(3) in the factory target(), in net.py line", TargetLoadError),
    R("as_target: a factory that needs arguments", lambda t: _load(t, "def target(seed): return Net()"),
      "is a function that needs arguments (seed)", ProtocolError),
    R("as_target: a factory that raises", lambda t: _load(t, "def target(): raise ValueError('bad config')"),
      "calling the factory target() raised ValueError: bad config", ProtocolError),
    R("as_target: an object without loss or gradients", lambda t: _load(t, "target = object()"),
      "lacks params, loss, gradients", ProtocolError),
    R("as_target: params not a dict", lambda t: as_target(_Loaded(params=[1])),
      "target.params is list, expected a non-empty dict", ProtocolError),
    R("as_target: params value not an array", lambda t: as_target(_Loaded(params={"W": [1.0]})),
      "target.params['W'] is list, expected a NumPy array", ProtocolError),
    R("as_target: params array of integer dtype", lambda t: as_target(_Loaded(params={"W": np.ones(3, int)})),
      "target.params['W'] has dtype int64", ProtocolError),
    R("as_target: params() raising", lambda t: as_target(_Loaded(params=lambda: 1 / 0)),
      "target.params() raised ZeroDivisionError", ProtocolError),
    R("as_target: layout unknown", lambda t: as_target(_Loaded(layout="diagonal")),
      "target.layout is 'diagonal'", ProtocolError),
    R("as_target: n_classes not an integer", lambda t: as_target(_Loaded(n_classes="ten")),
      "target.n_classes is 'ten', expected an integer of at least 2", ProtocolError),
    R("synthetic_batch: batch_size 0", lambda t: synthetic_batch(_Loaded(), 0), "expected a positive integer",
      InvalidArgumentError, "batch_size"),
    R("synthetic_batch: layout unknown", lambda t: synthetic_batch(_Loaded(), 4, layout="diagonal"),
      "got 'diagonal'", InvalidArgumentError, "layout"),
    R("synthetic_batch: no 2-D weight matrix", lambda t: synthetic_batch(_Loaded(params={"w": np.ones(3)}), 4),
      "has no 2-D weight matrix", ProtocolError),
    R("synthetic_batch: loss failing with rows and with columns",
      lambda t: synthetic_batch(_Loaded(loss=lambda X, y: 1 / 0), 4),
      "could not call loss(X, y) with examples as rows or as columns", ProtocolError),
    # -- the function probes: bad arguments raise, a broken function is a finding ------------------
    R("probe_softmax: fn not callable", lambda t: P.probe_softmax(3), "got int, expected a function",
      InvalidArgumentError, "fn"),
    R("probe_softmax: axis 2", lambda t: P.probe_softmax(_in_place_softmax, axis=2),
      "got 2, expected 0, 1 or -1", InvalidArgumentError, "axis"),
    R("probe_softmax: dtype integer", lambda t: P.probe_softmax(_in_place_softmax, dtype=np.int32),
      "expected float32 or float64", InvalidArgumentError, "dtype"),
    R("probe_softmax: fn raising", lambda t: P.probe_softmax(lambda Z: 1 / 0),
      "ZeroDivisionError: division by zero (exception)", passed=False),
    R("probe_softmax: fn returning None", lambda t: P.probe_softmax(lambda Z: None),
      "returned None, expected an array (a missing return statement?)", passed=False),
    R("probe_softmax: fn returning a string", lambda t: P.probe_softmax(lambda Z: "probabilities"),
      "returned str, not an array of numbers", passed=False),
    R("probe_softmax: fn returning the wrong shape", lambda t: P.probe_softmax(lambda Z: Z[:, :1]),
      "returned shape (3, 1) for logits of shape (3, 5) (shape)", passed=False),
    R("probe_softmax: fn writing into its input (runs on copies)",
      lambda t: P.probe_softmax(_in_place_softmax), "PASSED", passed=True),
    R("probe_log_softmax: fn not callable", lambda t: P.probe_log_softmax("log_softmax"),
      "got str, expected a function", InvalidArgumentError, "fn"),
    R("probe_sigmoid: fn not callable", lambda t: P.probe_sigmoid(None), "got NoneType, expected a function",
      InvalidArgumentError, "fn"),
    R("probe_sigmoid: fn raising", lambda t: P.probe_sigmoid(lambda z: {}["z"]), "KeyError: 'z' (exception)",
      passed=False),
    R("probe_sigmoid: seed negative", lambda t: P.probe_sigmoid(lambda z: 1 / (1 + np.exp(-z)), seed=-1),
      "got -1, expected a non-negative integer", InvalidArgumentError, "seed"),
    R("probe_cross_entropy: gradient not callable",
      lambda t: P.probe_cross_entropy(lambda p, y: 0.0, gradient=5), "got int, expected a function",
      InvalidArgumentError, "gradient"),
    R("probe_cross_entropy: loss returning an array", lambda t: P.probe_cross_entropy(lambda p, y: p),
      "returned an array of shape", passed=False),
    R("probe_binary_cross_entropy: fn raising", lambda t: P.probe_binary_cross_entropy(lambda p, y: 1 / 0),
      "ZeroDivisionError", passed=False),
    # -- the training and contract probes -----------------------------------------------------------
    R("probe_input_scale: target lacking gradients",
      lambda t: P.probe_input_scale(_LossOnly(), *_batch()), "lacks gradients", ProtocolError),
    R("probe_input_scale: X containing NaN",
      lambda t: _training(P.probe_input_scale, X=np.where(np.eye(8, 4) > 0, np.nan, 0.5)),
      "contains 4 NaN or inf values", InvalidArgumentError, "X"),
    R("probe_input_scale: X 1-D", lambda t: _training(P.probe_input_scale, X=np.ones(4)),
      "has shape (4,), expected a non-empty 2-D batch", InvalidArgumentError, "X"),
    R("probe_input_scale: X of strings", lambda t: _training(P.probe_input_scale, X=[["a", "b"]]),
      "not an array of numbers", InvalidArgumentError, "X"),
    R("probe_input_scale: y with fewer labels than examples",
      lambda t: _training(P.probe_input_scale, y=np.arange(3)),
      "has shape (3,) for X of shape (8, 4) (examples as rows): not one label per example",
      InvalidArgumentError, "y"),
    R("probe_input_scale: scales empty", lambda t: _training(P.probe_input_scale, scales=[]),
      "expected a non-empty sequence", InvalidArgumentError, "scales"),
    R("probe_input_scale: scales negative", lambda t: _training(P.probe_input_scale, scales=[1, -255]),
      "got -255, expected a positive number", InvalidArgumentError, "scales[1]"),
    R("probe_input_scale: X a list (converted, so it works)",
      lambda t: _training(P.probe_input_scale, X=_batch()[0].tolist(), scales=[1]), "PASSED", passed=True),
    R("probe_learning_rate: rates containing 0", lambda t: _training(P.probe_learning_rate, rates=[0.1, 0]),
      "got 0, expected a positive number", InvalidArgumentError, "rates[1]"),
    R("probe_learning_rate: clip_norm negative", lambda t: _training(P.probe_learning_rate, clip_norm=-1),
      "got -1, expected a positive number", InvalidArgumentError, "clip_norm"),
    R("probe_learning_rate: gradients raising at the third call",
      lambda t: _training(P.probe_learning_rate, target=_gradients_raising_on_call(3)),
      "FloatingPointError: step 3 blew up", passed=False),
    R("probe_activations: steps 0", lambda t: _training(P.probe_activations, steps=0),
      "got 0, expected a positive integer", InvalidArgumentError, "steps"),
    R("probe_activations: lr NaN", lambda t: _training(P.probe_activations, lr=float("nan")),
      "got nan, expected a positive number", InvalidArgumentError, "lr"),
    R("probe_gradient_flow: gradients raising",
      lambda t: _training(P.probe_gradient_flow, target=_gradients_raising_on_call(1)),
      "gradients(X, y) raised FloatingPointError: step 3 blew up", passed=False),
    R("probe_gradient_flow: gradients returning a list",
      lambda t: _training(P.probe_gradient_flow, target=_Loaded(gradients=lambda X, y: [np.ones((4, 3))])),
      "gradients(X, y) returned list, expected a dict", passed=False),
    R("probe_precision: target32 with float64 parameters",
      lambda t: P.probe_precision(_net(), _net(), *_batch()),
      "has parameters W (float64), b (float64), expected float32", InvalidArgumentError, "target32"),
    R("probe_precision: networks of different sizes",
      lambda t: P.probe_precision(_net(), _Loaded(params={"W": np.ones((4, 2), np.float32),
                                                          "b": np.zeros(2, np.float32)}), *_batch()),
      "not the same network", InvalidArgumentError, "target32"),
    R("probe_shapes: batch_sizes empty", lambda t: P.probe_shapes(_net(), batch_sizes=[]),
      "expected a non-empty sequence of positive integers", InvalidArgumentError, "batch_sizes"),
    R("probe_shapes: batch size 0", lambda t: P.probe_shapes(_net(), batch_sizes=[0, 4]),
      "got 0, expected a positive integer", InvalidArgumentError, "batch_sizes[0]"),
    R("probe_shapes: batch size a string", lambda t: P.probe_shapes(_net(), batch_sizes=["8"]),
      "got '8', expected a positive integer", InvalidArgumentError, "batch_sizes[0]"),
    R("probe_shapes: batch size 10**12", lambda t: P.probe_shapes(_net(), batch_sizes=[8, 10 ** 12]),
      "a batch of 1,000,000,000,000 examples of 4 floats needs", InvalidArgumentError, "batch_sizes"),
    R("probe_shapes: seed a string", lambda t: P.probe_shapes(_net(), seed="abc"),
      "expected a non-negative integer", InvalidArgumentError, "seed"),
    R("probe_example_order: batch_size 1", lambda t: P.probe_example_order(_net(), batch_size=1),
      "expected at least 2 examples to reorder", InvalidArgumentError, "batch_size"),
    R("probe_example_order: permutations 0", lambda t: P.probe_example_order(_net(), permutations=0),
      "got 0, expected a positive integer", InvalidArgumentError, "permutations"),
    # -- the command line: exit code 2 and one line on stderr ----------------------------------
    R("gradcheck check: target without ':'", lambda t: run_cli(["check", "mymodule"]),
      "is not of the form 'package.module:attr'"),
    R("gradcheck check: file missing", lambda t: run_cli(["check", f"{t / 'missing.py'}:target"]),
      "no such file"),
    R("gradcheck check: file with a syntax error", lambda t: _cli(t, "def broken(:"), "syntax error in"),
    R("gradcheck check: attribute missing", lambda t: _cli(t, "net = Net()"), "has no attribute 'target'"),
    R("gradcheck check: target calling sys.exit(0) at import", lambda t: _cli(t, "import sys\nsys.exit(0)"),
      "the target called sys.exit(0) at import, in net.py line"),
    R("gradcheck check: a class whose constructor needs arguments",
      lambda t: _cli(t, "class Sized(Net):\n    def __init__(self, sizes):\n        super().__init__()\n"
                        "target = Sized"),
      "Add a factory to your file and name it instead of the class"),
    R("gradcheck check: a factory that raises", lambda t: _cli(t, "def target(): raise OSError('no weights')"),
      "raised OSError: no weights"),
    R("gradcheck check: an object without gradients",
      lambda t: _cli(t, "class T:\n    params = Net().params\n    def loss(self, X, y): return 1.0\ntarget = T()"),
      "lacks gradients"),
    R("gradcheck check: params of integer dtype",
      lambda t: _cli(t, "target = Net()\ntarget.params['W'] = target.params['W'].astype(int)"),
      "params['W'] has dtype int64"),
    R("gradcheck check: params containing NaN", lambda t: _cli(t, "target = Net()\ntarget.params['b'][0] = np.nan"),
      "params['b']: contains 1 NaN or inf value"),
    R("gradcheck check: loss returning None", lambda t: _cli(t, "target = Net()\ntarget.loss = lambda X, y: None"),
      "loss: returned NoneType None"),
    R("gradcheck check: --batch-size 0", lambda t: _cli(t, "target = Net()", "--batch-size", "0"),
      "--batch-size: got 0, expected a positive integer"),
    R("gradcheck check: --json under a regular file", _cli_json_under_a_file, "cannot write"),
    R("gradcheck check: full mode estimated over 300 s", _cli_too_slow,
      "--mode: 'full' would take about 8.3 h (30 loss evaluations at 17 min each), over --max-seconds 300"),
    R("gradcheck probe: an object without gradients",
      lambda t: run_cli(["probe", f"{write_target(t, NO_GRADIENTS)}:target"]),
      "lacks loss, gradients"),
    R("gradcheck probe: --json under a regular file", _cli_probe_json_under_a_file, "cannot write"),
    R("gradcheck check: --seed -1", lambda t: _cli(t, "target = Net()", "--seed", "-1"),
      "--seed: got -1, expected a non-negative integer"),
    R("gradcheck check: --batch-size 10**11", lambda t: _cli(t, "target = Net()", "--batch-size", str(10 ** 11)),
      "--batch-size: a batch of 100,000,000,000 examples of 4 floats needs"),
    R("gradcheck check: loss calling sys.exit(0)",
      lambda t: _cli(t, "target = Net()\ntarget.loss = lambda X, y: __import__('sys').exit(0)"),
      "called sys.exit(0) in"),
    R("gradcheck check: --json ''", lambda t: _cli(t, "target = Net()", "--json", ""),
      "--json: received an empty path"),
    R("gradcheck check: --json the target's own file", lambda t: _cli(t, "target = Net()", "--json", str(t / "net.py")),
      "source file being checked"),
    R("gradcheck probe: --seed -1",
      lambda t: run_cli(["probe", f"{write_target(t, 'target = Net()')}:target", "--seed", "-1"]),
      "--seed: got -1"),
    R("gradcheck report: --epochs negative", lambda t: run_cli(["report", "--epochs", "-1"]),
      "--epochs: got -1, expected 0 or more"),
    R("gradcheck report: -o a directory", lambda t: run_cli(["report", f"{write_target(t, 'target = Net()')}:target",
                                                             "-o", str(t)]), "is a directory, expected a file path"),
    # -- the pytest plugin: a usage error before anything runs, or one failing item ------------
    R("pytest plugin: --gradcheck-target unloadable",
      lambda t: run_pytest(t, ["--gradcheck-target=no_such_module_abc:target"]),
      "the target could not be loaded: no module named 'no_such_module_abc'"),
    R("pytest plugin: --gradcheck-target an object without gradients",
      lambda t: _plugin(t, body=NO_GRADIENTS), "lacks loss, gradients"),
    R("pytest plugin: --gradcheck-xfail naming no check", lambda t: _plugin(t, "--gradcheck-xfail=check_typo"),
      "--gradcheck-xfail: no check named check_typo; the checks of"),
    R("pytest plugin: --gradcheck-html under a regular file", _plugin_html_under_a_file,
      "cannot write a report in"),
    R("parametrize_with_checks: xfail naming no check",
      lambda t: parametrize_with_checks(_net(), xfail={"check_typo": "?"}), "xfail names unknown checks ['check_typo']",
      GradcheckError),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.line for row in ROWS])
def test_bad_input(row, tmp_path):
    if row.error is not None:
        with pytest.raises(row.error) as info:
            row.run(tmp_path)
        error = info.value
        assert isinstance(error, GradcheckError)
        if row.argument is not None:
            assert error.argument == row.argument
            assert str(error).startswith(f"{row.argument}: ")
        assert row.excerpt in str(error)
        return
    outcome = row.run(tmp_path)
    if isinstance(outcome, CliOutcome):
        assert outcome.code == 2
        message = outcome.stderr.strip()
        assert message.startswith("gradcheck: error: ") and "\n" not in message
        assert row.excerpt in message
        return
    if isinstance(outcome, PytestOutcome):
        assert outcome.code != 0, outcome.output
        assert "Traceback" not in outcome.output and "INTERNALERROR" not in outcome.output
        assert row.excerpt in outcome.output
        return
    if isinstance(outcome, ProbeResult):
        assert outcome.passed is row.passed
        text = "\n".join(f.message for f in outcome.findings) if outcome.findings else "PASSED"
        assert row.excerpt in text
        return
    assert isinstance(outcome, GradientCheckResult)
    assert outcome.passed is row.passed
    assert row.excerpt in str(outcome)


def test_every_row_is_in_the_catalogue_document():
    text = DOCS.read_text(encoding="utf-8")
    missing = [row.line for row in ROWS if f"| {row.line} |" not in text]
    assert not missing, f"docs/bad-inputs.md's catalogue lacks rows for {missing}"


def test_row_lines_are_unique():
    lines = [row.line for row in ROWS]
    assert len(lines) == len(set(lines))
