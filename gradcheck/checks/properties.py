"""Reusable property checks: each takes a user's function (or target) and one input.

Every ``check_<subject>_<property>`` returns None when the property holds and raises
:class:`PropertyViolation` (an AssertionError carrying a :class:`~gradcheck.results.findings.Finding`)
when it does not, so they drop into ``@given`` tests and Hypothesis shrinks the input::

    @given(gst.logits(min_dims=2, max_dims=4), st.data())
    def test_softmax(Z, data):
        axis = data.draw(gst.class_axes(Z.ndim))
        check_softmax_sums_to_one(functools.partial(softmax, axis=axis), Z, axis=axis)

A function that raises is reported as a violation of kind ``exception`` naming the call.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from gradcheck.checks.diagnosis import CodeContext, diagnose_shape
from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.model import REPEAT_UNITS, eps_of, precision_of, repeat_tolerance, rounding
from gradcheck.results.findings import Finding
from gradcheck.targets.layers import LayerView
from gradcheck.targets.protocol import infer_n_classes, target_params
from gradcheck.targets.tasks import take_examples
from gradcheck.targets.usercode import UserCodeCrash, call_user

__all__ = [
    "PropertyViolation",
    "check_finite_for_large_logits",
    "check_gradient_shapes",
    "check_layer_shapes",
    "check_loss_order_invariant",
    "check_one_hot",
    "check_output_shape",
    "check_softmax_argmax_preserved",
    "check_softmax_shift_invariant",
    "check_softmax_sums_to_one",
]


class PropertyViolation(AssertionError):
    """A property does not hold; ``finding`` says which, on what input, and what to change."""

    def __init__(self, finding: Finding):
        self.finding = finding
        super().__init__(str(finding))


def _fail(kind: str, subject: str, what: str, hint: str, **data: Any) -> PropertyViolation:
    return PropertyViolation(Finding(kind, subject, f"{subject}: {what}", hint=hint, data=data))


def _call(fn: Callable, *args: Any, subject: str, call: str) -> Any:
    """fn(*args) on copies, through the one guarded call; a raised exception becomes a violation
    of kind ``exception`` whose hint is the user's line that raised."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        return call_user(fn, *copies, call=call)
    except UserCodeCrash as raised:  # the user's bug is the finding
        crash = raised.crash
        at = f" at {crash.where}" if crash.file else ""
        raise _fail("exception", subject, f"{call} raised {crash.error_type}: {crash.message}{at}",
                    crash.finding(subject).hint) from raised.__cause__


def _as_array(value: Any, subject: str, call: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise _fail("shape", subject, f"{call} returned {type(value).__name__}, not an array",
                    "Return a NumPy array.") from exc


def _eps(*arrays: Any) -> float:
    """Machine epsilon of the least precise floating dtype among ``arrays`` (arrays or dtypes)."""
    return eps_of(precision_of(*[a for a in arrays if a is not None]))


def _scale(Z: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(Z))) if Z.size else 0.0


def softmax_tolerance(*dtypes: Any, n_classes: int, scale: float = 0.0) -> float:
    """Absolute error a correct softmax may show in a probability, a row sum or under a shift.

    64 machine epsilons (of the least precise of ``dtypes``: the logits' and the output's) per
    class, for the rounding of the sum, plus 64 per unit of the largest |logit| involved
    (``scale``), for the rounding of the logits themselves. The softmax check and the softmax
    probe both use this one rule.
    """
    return REPEAT_UNITS * _eps(*dtypes) * (max(1, n_classes) + scale)


#: What to change, per kind of softmax defect; the check and the probe give the same advice.
SOFTMAX_HINTS = {
    "exception": "The softmax raised on a float array of logits; it must accept one.",
    "shape": "Return an array shaped like the logits: keep the class axis with keepdims=True.",
    "nonfinite": "Subtract the max along the class axis before np.exp.",
    "not_normalized": "Sum along the class axis only, np.sum(E, axis=axis, keepdims=True); "
                      "np.sum(E) or sum(E) over the whole batch mixes the examples.",
    "wrong_axis": "Normalise along the class axis: axis=-1 when examples are rows, axis=0 when "
                  "they are columns.",
    "argmax": "A softmax must keep the order of the logits: the most likely class is the "
              "largest logit.",
    "shift_variance": "Exponentiate Z - max along the class axis and divide by the sum along "
                      "it; nothing else may depend on the level of the logits.",
}


def softmax_sum_defect(P: np.ndarray, axis: int, tol: float) -> tuple[str, float, str] | None:
    """None when P sums to one along ``axis`` to within ``tol``; else (kind, error, what).

    ``kind`` is ``wrong_axis`` when P sums to one along another axis instead, else
    ``not_normalized`` (noting when it sums to one over the whole array, i.e. over the batch).
    """
    with np.errstate(all="ignore"):
        sums = P.sum(axis=axis)
        off = np.abs(sums - 1).ravel()
    err = float(np.max(off)) if off.size else 0.0
    if err <= tol:
        return None
    worst = sums.ravel()[np.nanargmax(off)] if np.any(np.isfinite(off)) else float("nan")
    what = f"softmax(Z) sums to {worst:.6g} along axis {axis} of Z with shape {P.shape}"
    with np.errstate(all="ignore"):
        if abs(float(P.sum()) - 1) <= tol * max(1, P.size):
            return "not_normalized", err, f"{what} (it sums to one over the whole array)"
        for other in range(P.ndim):
            if other != axis % P.ndim and np.all(np.abs(P.sum(axis=other) - 1) <= tol):
                return "wrong_axis", err, f"{what}, and to one along axis {other}"
    return "not_normalized", err, what


def argmax_defect(P: np.ndarray, Z: np.ndarray, axis: int) -> str | None:
    """None when the largest probability is at the largest logit wherever the top two logits
    differ by more than rounding; else what differs."""
    if Z.shape[axis] < 2 or Z.size == 0:
        return None
    Z64 = Z.astype(np.float64)
    top2 = -np.sort(-Z64, axis=axis).take([0, 1], axis=axis)
    gap = top2.take(0, axis=axis) - top2.take(1, axis=axis)
    clear = gap > rounding(top2.take(0, axis=axis), precision_of(Z), units=REPEAT_UNITS)
    with np.errstate(invalid="ignore"):
        differs = (np.argmax(P, axis=axis) != np.argmax(Z64, axis=axis)) & clear
    if not np.any(differs):
        return None
    return (f"the largest probability is not at the largest logit in {int(differs.sum())} "
            f"of {differs.size} examples")


def shift_what(quantity: str, error: float) -> str:
    """The one sentence for a function that moved when one constant per example was added."""
    return f"adding one constant per example changed {quantity} by up to {error:.3g}"


def check_softmax_sums_to_one(softmax: Callable, Z: np.ndarray, *, axis: int = -1,
                              subject: str = "softmax") -> None:
    """softmax(Z) is finite, shaped like Z and sums to one along ``axis``, for any shape of Z.

    ``softmax`` is called with Z alone; bind its axis first, e.g.
    ``functools.partial(softmax, axis=axis)``. The tolerance is :func:`softmax_tolerance`.
    """
    returned = _call(softmax, Z, subject=subject, call="softmax(Z)")
    P = _as_array(returned, subject, "softmax(Z)")
    if P.shape != Z.shape:
        raise _fail("shape", subject, f"softmax(Z) has shape {P.shape} for Z of shape {Z.shape}",
                    SOFTMAX_HINTS["shape"])
    if not np.all(np.isfinite(P)):
        raise _fail("nonfinite", subject, f"softmax(Z) has NaN/inf for |Z| up to {_scale(Z):g}",
                    SOFTMAX_HINTS["nonfinite"])
    if Z.size == 0:
        return
    tol = softmax_tolerance(Z, getattr(returned, "dtype", None), n_classes=Z.shape[axis], scale=_scale(Z))
    defect = softmax_sum_defect(P, axis, tol)
    if defect is not None:
        kind, _, what = defect
        raise _fail(kind, subject, what, SOFTMAX_HINTS[kind], axis=axis, shape=list(Z.shape))


def check_softmax_shift_invariant(softmax: Callable, Z: np.ndarray, shift: np.ndarray | float, *,
                                  axis: int = -1, subject: str = "softmax") -> None:
    """softmax(Z + shift) equals softmax(Z) when ``shift`` is constant along ``axis``.

    ``shift`` is a scalar or an array broadcastable to Z with size 1 along ``axis`` (one
    constant per example). Equality is to within :func:`softmax_tolerance` at the larger of
    |Z| and |Z + shift|.
    """
    shift = np.asarray(shift, dtype=Z.dtype)
    if shift.ndim and shift.shape[axis] != 1:
        raise InvalidArgumentError("shift", f"got shape {shift.shape}, expected size 1 along axis {axis}.",
                                   "Pass one constant per example, e.g. np.max(Z, axis=axis, keepdims=True).")
    moved = (Z + shift).astype(Z.dtype)
    returned = _call(softmax, Z, subject=subject, call="softmax(Z)")
    P = _as_array(returned, subject, "softmax(Z)")
    Q = _as_array(_call(softmax, moved, subject=subject, call="softmax(Z + c)"), subject, "softmax(Z + c)")
    if P.shape != Q.shape:
        raise _fail("shape", subject, f"softmax(Z + c) has shape {Q.shape}, softmax(Z) {P.shape}",
                    SOFTMAX_HINTS["shape"])
    if Z.size == 0:
        return
    with np.errstate(all="ignore"):
        diff = np.abs(P - Q)
    tol = softmax_tolerance(Z, getattr(returned, "dtype", None), n_classes=Z.shape[axis],
                            scale=max(_scale(Z), _scale(moved)))
    if not np.all(diff <= tol):
        worst = float(np.nanmax(diff)) if np.any(np.isfinite(diff)) else float("nan")
        raise _fail("shift_variance", subject,
                    f"{shift_what('softmax(Z)', worst)} (|Z| up to {_scale(Z):g}, "
                    f"|Z + c| up to {_scale(moved):g})", SOFTMAX_HINTS["shift_variance"])


def check_softmax_argmax_preserved(softmax: Callable, Z: np.ndarray, *, axis: int = -1,
                                   subject: str = "softmax") -> None:
    """argmax of softmax(Z) along ``axis`` is the argmax of Z, wherever the top two logits differ
    by more than rounding."""
    P = _as_array(_call(softmax, Z, subject=subject, call="softmax(Z)"), subject, "softmax(Z)")
    if P.shape != Z.shape:
        raise _fail("shape", subject, f"softmax(Z) has shape {P.shape} for Z of shape {Z.shape}",
                    SOFTMAX_HINTS["shape"])
    what = argmax_defect(P, Z, axis)
    if what is not None:
        raise _fail("argmax", subject, what, SOFTMAX_HINTS["argmax"])


def check_finite_for_large_logits(fn: Callable, Z: np.ndarray, *, subject: str = "softmax") -> None:
    """fn(Z) is finite and raises no overflow, divide or invalid RuntimeWarning (underflow is fine)."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(
            over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        out = _as_array(_call(fn, Z, subject=subject, call=f"{subject}(Z)"), subject, f"{subject}(Z)")
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    if not np.all(np.isfinite(out)):
        raise _fail("nonfinite", subject, f"{subject}(Z) has NaN/inf for |Z| up to {_scale(Z):g}"
                    + (f"; {runtime[0]}" if runtime else ""),
                    "Subtract the max along the class axis before np.exp (log-sum-exp for logs).")
    if runtime:
        kind = "overflow" if "overflow" in runtime[0] else "warning"
        raise _fail(kind, subject, f"{subject}(Z) warned '{runtime[0]}' for |Z| up to {_scale(Z):g}",
                    "Never exponentiate a large positive number: shift by the max first.")


def check_one_hot(one_hot: Callable, y: np.ndarray, *, n_classes: int, class_axis: int = -1,
                  subject: str = "one_hot") -> None:
    """one_hot(y) is (n, n_classes) (or (n_classes, n) for ``class_axis=0``), 0/1, one 1 at y.

    A batch that lacks the top classes catches a one-hot sized by ``y.max() + 1``.
    """
    y = np.asarray(y)
    n = int(y.shape[0])
    expected = (n_classes, n) if class_axis % 2 == 0 else (n, n_classes)
    Y = _as_array(_call(one_hot, y, subject=subject, call="one_hot(y)"), subject, "one_hot(y)")
    if Y.shape != expected:
        width = Y.shape[class_axis] if Y.ndim == 2 else None
        sized_by_max = n and width == int(y.max()) + 1 and width != n_classes
        raise _fail("shape", subject,
                    f"one_hot(y) has shape {Y.shape} for {n} labels of {n_classes} classes, expected "
                    f"{expected}" + (f"; its class axis is y.max() + 1 = {width} long, because this "
                                     "batch lacks the top classes" if sized_by_max else ""),
                    "Size the one-hot by the number of classes, np.zeros((y.size, n_classes)), "
                    "not by y.max() + 1, which is too small when a batch lacks the top classes.",
                    expected=list(expected), got=list(Y.shape))
    picked = Y if class_axis % 2 else Y.T
    right = np.zeros((n, n_classes))
    right[np.arange(n), y] = 1.0
    if not np.array_equal(picked, right):
        rows = np.flatnonzero(np.any(picked != right, axis=1))
        raise _fail("mismatch", subject,
                    f"one_hot(y) is wrong for {rows.size} of {n} labels, first at example "
                    f"{rows[0]} (label {y[rows[0]]})",
                    "Set exactly one 1 per example, at its label: Y[np.arange(n), y] = 1.")


def _take(X: np.ndarray, index: np.ndarray, layout: str) -> np.ndarray:
    return X[:, index] if layout == "columns" else X[index]


def check_loss_order_invariant(loss: Callable, X: np.ndarray, y: np.ndarray, permutation: np.ndarray, *,
                               layout: str = "rows", subject: str = "loss", precision=None) -> None:
    """loss(X, y) is unchanged (to within rounding) when the examples are reordered.

    ``permutation`` reorders the examples: rows of X (``layout="rows"``) or columns, and y.
    ``precision``: dtypes the loss computes with besides X's (the network's parameters): the
    least precise of them and of the values the loss returns sets the rounding allowed.
    """
    permutation = np.asarray(permutation)
    first = _call(loss, X, y, subject=subject, call="loss(X, y)")
    second = _call(loss, _take(X, permutation, layout), take_examples(y, permutation, layout),
                   subject=subject, call="loss(X[perm], y[perm])")
    before, after = float(first), float(second)
    dtype = precision_of(X, *(precision or ()), *[v for v in (first, second) if isinstance(v, np.generic)])
    tol = repeat_tolerance(before, dtype, terms=permutation.size)
    if not abs(after - before) <= tol:
        raise _fail("order_variance", subject,
                    f"loss is {before:.9g} for the batch and {after:.9g} for the same examples "
                    "in another order",
                    "The loss must treat examples alike: index labels and predictions with the "
                    "same example index, and reduce over the examples axis with a mean.")


def check_output_shape(target, X: np.ndarray, *, n_outputs: int | None = None,
                       subject: str = "forward", layout: str | None = None) -> None:
    """target.forward(X) is (n, n_outputs) for rows layout, (n_outputs, n) for columns.

    ``n_outputs`` defaults to the target's number of classes (see docs/protocol.md); one output
    may also come as (n,). ``layout`` defaults to the target's (else rows).
    """
    layout = layout or getattr(target, "layout", None) or "rows"
    n = X.shape[1] if layout == "columns" else X.shape[0]
    k = int(n_outputs) if n_outputs is not None else infer_n_classes(target, target_params(target))
    expected = (k, n) if layout == "columns" else (n, k)
    out = _as_array(_call(target.forward, X, subject=subject, call="forward(X)"), subject, "forward(X)")
    if out.shape != expected and not (k == 1 and out.shape == (n,)):
        raise _fail("shape", subject, f"forward(X) has shape {out.shape} for {_examples(n)}, expected "
                    f"{expected} ({layout} layout)",
                    "Keep the examples axis through every layer: X @ W + b with W (n_in, n_out) and "
                    "b (n_out,) for rows, W @ X + b with b (n_out, 1) for columns.")


def _examples(n: int) -> str:
    return f"{n} example" if n == 1 else f"{n} examples"


def _shape_violation(name: str, grad_shape: tuple, param_shape: tuple, n: int) -> PropertyViolation | None:
    """The gradient check's own shape rule (:func:`~gradcheck.checks.diagnosis.diagnose_shape`):
    a violation unless the shapes match, or differ only by singleton axes in a way that keeps
    ``W - lr * dW`` the parameter's shape (which the gradient check reports as a warning)."""
    if tuple(grad_shape) == tuple(param_shape):
        return None
    mismatch = diagnose_shape(name, tuple(grad_shape), tuple(param_shape), CodeContext(batch_size=n))
    finding = mismatch.finding()
    if not finding.is_failure:
        return None
    return PropertyViolation(replace(finding, text=f"{finding.text}, seen with a batch of {_examples(n)}",
                                     data={**finding.data, "batch_size": n}))


def check_gradient_shapes(target, X: np.ndarray, y: np.ndarray, *, subject: str = "gradients") -> None:
    """target.loss(X, y) is one finite number and target.gradients(X, y) has, for every
    parameter, a finite array of that parameter's shape (dW like W, db like b)."""
    params = target_params(target)
    value = _as_array(_call(target.loss, X, y, subject=subject, call="loss(X, y)"), subject, "loss(X, y)")
    if value.size != 1 or not np.isfinite(value).all():
        raise _fail("shape" if value.size != 1 else "nonfinite", subject,
                    f"loss(X, y) returned {value if value.size < 5 else value.shape}, expected one finite number",
                    "Return the mean loss over the batch as a float.")
    grads = _call(target.gradients, X, y, subject=subject, call="gradients(X, y)")
    if not isinstance(grads, Mapping):
        raise _fail("shape", subject, f"gradients(X, y) returned {type(grads).__name__}, expected a dict",
                    "Return {name: gradient} with the names of params.")
    missing = [name for name in params if name not in grads]
    if missing:
        raise _fail("shape", subject, f"gradients(X, y) lacks {', '.join(missing)}",
                    "Return a gradient for every parameter, under the parameter's name.")
    n = int(np.asarray(y).shape[0])
    for name, param in params.items():
        g = _as_array(grads[name], name, "gradients(X, y)")
        violation = _shape_violation(name, g.shape, param.shape, n)
        if violation is not None:
            raise violation
        if not np.all(np.isfinite(g)):
            raise _fail("nonfinite", name, f"gradient has NaN/inf (batch of {n})",
                        "Look for log(0), 0/0 or an unshifted exp in the backward pass.")


def check_layer_shapes(layer, X: np.ndarray, *, seed: int = 0, subject: str | None = None) -> None:
    """A layer object's backward returns dX like X and fills each dW like W, db like b.

    ``layer`` has ``forward(X)`` and ``backward(dA)`` (outputs returned or stored as ``output``
    / ``dinputs``); parameters are found by value after the backward
    (:mod:`gradcheck.targets.layer_params`: the float arrays it holds a gradient for, besides
    its input and output). The upstream gradient is random, shaped like the output.
    """
    view = LayerView(subject or type(layer).__name__, layer)
    name = view.name
    A = _as_array(_call(view.forward, X, subject=name, call="forward(X)"), name, "forward(X)")
    if A.ndim != X.ndim or A.shape[0] != X.shape[0]:
        raise _fail("shape", name, f"forward(X) has shape {A.shape} for X of shape {X.shape}",
                    "Keep one row per example.")
    dA = np.random.default_rng(seed).normal(size=A.shape).astype(X.dtype)
    dX = _as_array(_call(view.backward, dA, subject=name, call="backward(dA)"), name, "backward(dA)")
    if dX.shape != X.shape:
        raise _fail("shape", name, f"backward(dA) returned dX of shape {dX.shape}, X is {X.shape}",
                    "dX = dZ @ W.T has X's shape.")
    view.observe(X, A, dA, dX)  # its parameters: what it holds with a gradient, besides these
    grads = view.param_grads()
    for attr, param in view.params.items():
        violation = _shape_violation(f"{name}.{attr}", np.shape(grads[attr]), param.shape, X.shape[0])
        if violation is not None:
            raise violation
