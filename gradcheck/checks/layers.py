"""``check_layer``: one layer's backward against finite differences, on its own.

The layer is reduced to a scalar with a fixed random upstream gradient, and the input and
parameter gradients its backward returns are checked with :func:`gradcheck.check_gradients`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from gradcheck.checks.gradients import check_gradients, unrun_result
from gradcheck.checks.integrity import CRASH_NOTE, ArrayGuard, NotRun
from gradcheck.checks.jacobian import explain_diagonal
from gradcheck.checks.windows import explain_misplaced
from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.inmemory import InMemory
from gradcheck.numeric.model import least_precise, tolerance_for
from gradcheck.results import GradientCheckResult
from gradcheck.targets.protocol import OutOfProcess
from gradcheck.targets.usercode import Named, UserCodeCrash, call_user
from gradcheck.threads import under_one_blas_thread
from gradcheck.validation import require_callable, validate_array, validate_options, validate_params, validate_seed


@under_one_blas_thread
def check_layer(
    forward: Callable[[np.ndarray], np.ndarray],
    backward: Callable[[np.ndarray], object],
    X: np.ndarray,
    params: Mapping[str, np.ndarray] | None = None,
    *,
    param_grads: Callable[[], Mapping[str, np.ndarray]] | None = None,
    input_name: str = "input",
    input_gradient: bool | None = True,
    seed: int = 0,
    **options,
) -> GradientCheckResult:
    """Check one layer's backward: the input gradient and every parameter gradient.

    The layer is reduced to a scalar with a fixed random upstream gradient dY:
    L = sum(forward(X) * dY), whose gradient is exactly what ``backward(dY)`` must return.

    Parameters
    ----------
    forward : callable X -> Y
        Uses the arrays in ``params`` (read at call time, so in-place perturbation reaches it).
    backward : callable dY -> dX, or dY -> (dX, {name: grad}), or dY -> {input_name: dX, name: grad}
        Called once, right after ``forward(X)``.
    X : float ndarray
        The layer's input. It is copied; the caller's array is never modified.
    params : mapping str -> float ndarray, optional
        The layer's parameters (live arrays). Omit for parameter-free layers (activations).
    param_grads : callable () -> mapping, optional
        For layers whose backward returns only dX and stores parameter gradients elsewhere,
        e.g. ``lambda: {"W": layer.dweights, "b": layer.dbiases}``.
    input_name : str
        Name the input gradient is reported under (default "input").
    input_gradient : True or None
        True (default): the backward must return the input gradient. None: it may return None
        (a first layer, which computes none), and then only the parameters are checked, with a
        note saying the input was not.
    seed : int
        Seeds the upstream gradient dY and any sampling.
    **options
        Passed to :func:`check_gradients` (mode, eps, rtol, atol, samples, method, ...).
    """
    with InMemory(params, forward, backward, param_grads):  # a file-backed parameter: checked on a copy
        return _check_layer(forward, backward, X, params, param_grads=param_grads, input_name=input_name,
                            input_gradient=input_gradient, seed=seed, **options)


def _check_layer(forward, backward, X, params, *, param_grads, input_name, input_gradient, seed,
                 **options) -> GradientCheckResult:
    require_callable(forward, "forward")
    require_callable(backward, "backward")
    validate_seed(seed)
    if input_gradient is not True and input_gradient is not None:
        raise InvalidArgumentError("input_gradient", f"got {input_gradient!r}, expected True or None.",
                                   "Pass None for a layer whose backward may return no input gradient.")
    _validate_layer_arguments(X, params, param_grads, input_name, options)
    params = validate_params(params) if params else {}
    if input_name in params:
        raise InvalidArgumentError("input_name", f"{input_name!r} is also a parameter name.",
                                   "Pass another input_name.")
    X_work = np.array(X, copy=True)  # writeable and the checker's own: the caller's X is never touched
    validate_array(X_work, "X")
    arrays = {input_name: X_work, **params}
    with ArrayGuard(arrays) as guard:
        Y = call_user(forward, X_work, call="forward")
        _validate_layer_output(Y)
        guard.unchanged_by("forward")
        dY = np.random.default_rng(seed).standard_normal(Y.shape).astype(Y.dtype)
        try:
            returned = call_user(backward, dY.copy(), call="backward")
            if param_grads is not None:
                stored = call_user(param_grads, call="param_grads")
        except UserCodeCrash as crash:
            # The user's backward raising is the bug report, not an unusable layer.
            guard.stop([crash.crash.finding(crash.crash.call)], CRASH_NOTE)
        unchecked_input = returned is None and input_gradient is None and bool(params)
        grads = _layer_grads(returned, input_name, params,
                             None if param_grads is None else (lambda: stored),
                             input_optional=unchecked_input)
        guard.unchanged_by("backward")
    if guard.stopped is not None:
        return _layer_unrun_result(arrays, guard.stopped, seed, options)
    if unchecked_input:  # the input stays what the loss reads; only the parameters are differenced
        arrays = dict(params)

    def surrogate() -> float:
        return float(np.sum(np.asarray(forward(X_work), dtype=np.float64) * dY))

    # the loss here is sum(forward(X) * dY): an exception in it comes from the user's forward
    loss = Named(surrogate, "forward")
    layer = getattr(getattr(forward, "__self__", None), "layer", None)
    if isinstance(layer, OutOfProcess):  # a layer in another process: many points per round trip
        loss.entry_values = layer.projection(X_work, dY)
    # the diagnosis may read the input's axes as the positions the layer runs over
    roles = {**({} if unchecked_input else {input_name: "input"}), **{name: "checked" for name in params}}
    result = check_gradients(loss, arrays, grads, seed=seed, layer={"roles": roles}, **options)
    if unchecked_input:
        result.note(f"its backward returns no input gradient (a first layer needs none): its "
                    f"parameters are checked, its input {input_name!r} is not")
    if not result.passed:  # an input gradient with the Jacobian's diagonal only is named so
        result = explain_diagonal(result, input_name, lambda X: call_user(forward, X, call="forward"),
                                  lambda dY: _input_gradient(call_user(backward, dY, call="backward"),
                                                             input_name),
                                  X_work, arrays, seed=seed)
    if not result.passed:  # windows sent back to another place than the forward read them from
        result = explain_misplaced(result, input_name, lambda X: call_user(forward, X, call="forward"),
                                   lambda dY: _input_gradient(call_user(backward, dY, call="backward"),
                                                              input_name),
                                   X_work, arrays)
    return result


def _input_gradient(returned, input_name: str):
    """The input gradient among what a backward returned (see :func:`check_layer`)."""
    if isinstance(returned, Mapping):
        return returned[input_name]
    if isinstance(returned, tuple) and len(returned) == 2 and isinstance(returned[1], Mapping):
        return returned[0]
    return returned


#: Keyword arguments check_layer passes on to check_gradients.
LAYER_OPTIONS = ("mode", "eps", "rtol", "atol", "samples", "method", "directions", "batch_size",
                 "per_example", "reduction", "layout", "progress", "max_seconds", "jobs")


def _validate_layer_arguments(X, params, param_grads, input_name, options) -> None:
    unknown = sorted(set(options) - set(LAYER_OPTIONS))
    if unknown:
        raise InvalidArgumentError(
            "options", f"check_layer got unknown keyword arguments {unknown}.",
            f"It passes on only {list(LAYER_OPTIONS)} (and seed) to check_gradients.")
    if isinstance(X, np.ndarray) and (np.issubdtype(X.dtype, np.integer) or X.dtype == np.bool_):
        raise InvalidArgumentError(
            "X", f"got an ndarray of dtype {X.dtype}: integer inputs (word indices, labels) have "
            "no gradient to check.",
            "Check the layer with gradcheck.check_function_layer(forward, backward, X, W), which "
            "keeps integer inputs fixed and checks the float ones (see docs/layers.md).")
    if not isinstance(X, np.ndarray) or not np.issubdtype(X.dtype, np.floating):
        received = (f"an ndarray of dtype {X.dtype}" if isinstance(X, np.ndarray)
                    else f"a {type(X).__name__}")
        raise InvalidArgumentError(
            "X", f"got {received}, expected a float ndarray.",
            "Pass the layer input as np.asarray(X, dtype=np.float64).",
        )
    if params is not None and not isinstance(params, Mapping):
        raise InvalidArgumentError(
            "params", f"got {type(params).__name__}, expected a mapping of name to array or None.",
            "Pass e.g. params={'W': layer.W, 'b': layer.b}, or omit it for a layer without parameters.")
    if param_grads is not None and not callable(param_grads):
        raise InvalidArgumentError(
            "param_grads", f"got {type(param_grads).__name__}, expected a zero-argument function.",
            "Pass e.g. param_grads=lambda: {'W': layer.dweights, 'b': layer.dbiases}.")
    if not isinstance(input_name, str) or not input_name:
        raise InvalidArgumentError("input_name", f"got {input_name!r}, expected a non-empty str.",
                                   "Pass e.g. input_name='X'.")


def _validate_layer_output(Y) -> None:
    if not isinstance(Y, np.ndarray):
        raise InvalidArgumentError(
            "forward", f"returned {type(Y).__name__}, expected an ndarray.",
            "Return the layer output; if your layer stores it (self.output), pass "
            "forward=lambda X: (layer.forward(X), layer.output)[1].")
    if not np.issubdtype(Y.dtype, np.floating):
        raise InvalidArgumentError(
            "forward", f"returned an array of dtype {Y.dtype}, expected a float array.",
            "A layer with integer or bool output has no gradient; return float values.")
    if Y.size == 0:
        raise InvalidArgumentError("forward", f"returned an empty array (shape {Y.shape}).",
                                   "Check the layer on an input with at least one example.")
    if not np.all(np.isfinite(Y)):
        raise InvalidArgumentError(
            "forward", f"returned {int(np.sum(~np.isfinite(Y)))} NaN or inf values at X.",
            "Check the layer where its output is finite (scale the input, or use a stable formula).")


def _layer_unrun_result(arrays, stopped: NotRun, seed, options) -> GradientCheckResult:
    mode, method = options.get("mode", "full"), options.get("method", "central")
    validate_options(mode=mode, eps=options.get("eps"), rtol=options.get("rtol"),
                     atol=options.get("atol"), samples=options.get("samples"), seed=seed,
                     method=method, directions=options.get("directions", 3),
                     batch_size=options.get("batch_size"))
    dtype = least_precise(arr.dtype for arr in arrays.values())
    tol = tolerance_for(dtype, rtol=options.get("rtol"), atol=options.get("atol"))
    return unrun_result(arrays, stopped.findings, mode, method, seed, tol, 0, note=stopped.note)


def _layer_grads(returned, input_name, params, param_grads, *, input_optional: bool = False) -> dict:
    grads: dict = {}
    if isinstance(returned, Mapping):
        grads.update(returned)
    elif isinstance(returned, tuple) and len(returned) == 2 and isinstance(returned[1], Mapping):
        grads[input_name] = returned[0]
        grads.update(returned[1])
    elif returned is not None:
        grads[input_name] = returned
    if param_grads is not None:
        stored = param_grads()
        if not isinstance(stored, Mapping):
            raise InvalidArgumentError(
                "param_grads", f"returned {type(stored).__name__}, expected a mapping of name to array.",
                "Return e.g. {'W': layer.dweights, 'b': layer.dbiases}.")
        grads.update(stored)
    if returned is None and input_name not in grads and not input_optional:
        raise InvalidArgumentError(
            "backward", "returned None, expected the input gradient dX (shaped like X), "
            f"(dX, {{name: grad}}) or {{{input_name!r}: dX, name: grad}}.",
            "If your layer stores it (self.dinputs), pass "
            "backward=lambda dY: (layer.backward(dY), layer.dinputs)[1].")
    missing = [name for name in params if name not in grads]
    if missing:
        raise InvalidArgumentError(
            "backward",
            f"gave no gradient for parameters {missing}.",
            "Return (dX, {name: grad}) from backward, or pass param_grads=lambda: {...} reading "
            "where your layer stores them.",
        )
    extra = [name for name in grads if name != input_name and name not in params]
    if extra:
        raise InvalidArgumentError(
            "backward", f"gave gradients for {extra}, which are not in params {list(params)}.",
            "Pass those arrays in params too, or leave them out of what backward returns.")
    if input_name not in grads and not input_optional:
        raise InvalidArgumentError("backward", f"returned no input gradient {input_name!r}.",
                                   f"Return dX, or a dict with the key {input_name!r}.")
    return grads
