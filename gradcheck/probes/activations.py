"""Log-softmax and sigmoid probes: sweep input magnitudes, report where each breaks.

Both compare the user's function with a float64 computation that cannot overflow (log-sum-exp
for log-softmax, exp of -|z| only for the sigmoid) and with an identity the exact function
satisfies (shift invariance; sigma(-z) = 1 - sigma(z)).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradcheck.probes.base import (
    MAGNITUDES,
    ProbeResult,
    Sweep,
    allowed_error,
    call_guarded,
    check_dtype,
    check_function,
    logit_sweep,
    logsumexp,
    max_abs,
    open_logit_sweep,
    rounding,
    shift_check,
    stable_log_softmax,
    stable_sigmoid,
    sweep_base,
    warning_kind,
)

__all__ = ["probe_log_softmax", "probe_sigmoid"]

LOG_SUM_EXP = ("Compute log-softmax with log-sum-exp, Z - m - np.log(np.sum(np.exp(Z - m), axis=..., "
               "keepdims=True)) with m the max along the class axis, not np.log(softmax(Z)).")
LOG_SOFTMAX_HINTS = {
    "exception": "The log-softmax raised on a 2-D float array of logits; it must accept one.",
    "shape": "Return an array shaped like the logits: keep the class axis with keepdims=True.",
    "not_normalized": "Subtract the log-sum-exp of each example along the class axis only "
                      "(keepdims=True), not of the whole batch.",
    "wrong_axis": "Reduce along the class axis: axis=-1 when examples are rows, axis=0 when "
                  "they are columns.",
    "argmax": "The largest log-probability must be at the largest logit.",
    "shift_variance": "log_softmax(Z + c) must equal log_softmax(Z) when c is one constant per "
                      "example; subtract the max and the log-sum-exp, nothing else.",
}
STABLE_SIGMOID = ("Take exp only of -|z|: e = np.exp(-np.abs(z)); np.where(z >= 0, 1 / (1 + e), "
                  "e / (1 + e)). A np.where over np.exp(-z) and np.exp(z) still overflows in the "
                  "branch it discards.")
SIGMOID_HINTS = {
    "exception": "The sigmoid raised on a float array; it must accept any shape.",
    "shape": "Return an array shaped like the input: the sigmoid is elementwise.",
    "inaccurate": "The sigmoid is 1 / (1 + exp(-z)) elementwise; check the sign of z and the "
                  "order of the operations.",
    "symmetry": "sigma(-z) must equal 1 - sigma(z); compute both tails from exp(-|z|).",
}


def _normalisation_kind(out: np.ndarray, axis: int, tol: float) -> str | None:
    """None when exp(out) sums to one along the class axis, else the kind of mistake."""
    if np.all(np.abs(logsumexp(out, axis)) <= tol):
        return None
    if np.all(np.abs(logsumexp(out, None)) <= tol):
        return "not_normalized"  # normalised over the whole batch
    if np.all(np.abs(logsumexp(out, 1 - axis)) <= tol):
        return "wrong_axis"
    return "not_normalized"


def probe_log_softmax(fn: Callable, *, axis: int = -1, dtype: Any = np.float64,
                      subject: str = "log_softmax", seed: int = 0) -> ProbeResult:
    """Probe a 2-D log-softmax over increasing logit magnitudes.

    At each magnitude m in :data:`MAGNITUDES` the output must be finite, without a
    RuntimeWarning, shaped like the logits, normalised along the class axis (exp sums to one),
    equal to the log-sum-exp log-softmax to within rounding (else ``inaccurate``), keep the
    argmax, and not change when one constant per example is added.

    Parameters
    ----------
    fn : callable, ``Z -> log P`` of the same shape.
    axis : class axis, 0 (columns layout) or -1/1 (rows layout).
    dtype : float32 or float64; logits of shape (3, 5) or (5, 3). The first example's logits
        span exactly [-m, m], so ``np.log(softmax(Z))`` meets log(0) once exp(-2m) underflows.
    subject : name used in the findings.
    seed : seeds the logits and the shifts.

    Returns
    -------
    ProbeResult with series ``magnitude``, ``max_abs_error`` (against log-sum-exp) and
    ``max_shift_error``.
    """
    axis, dt, sweep = open_logit_sweep("log_softmax", fn, axis, dtype, subject)
    errors: list[float] = []
    shift_errors: list[float] = []
    tolerances: list[float] = []
    shift_tolerances: list[float] = []
    for m, Z, shifted in logit_sweep(axis, dt, seed):
        exact = stable_log_softmax(Z, axis)
        allowed = allowed_error(dt, m, exact)
        tolerances.append(float(np.min(allowed)))
        shift_tolerances.append(2 * rounding(dt, max_abs(shifted)))
        out = call_guarded(fn, Z)
        err = shift_err = float("nan")
        kind, msg = None, ""
        if out.error is not None:
            kind, msg = "exception", out.error
        elif out.value.shape != Z.shape:
            kind, msg = "shape", f"returned shape {out.value.shape} for logits of shape {Z.shape}"
        else:
            L = out.value
            with np.errstate(all="ignore"):
                err = max_abs(L - exact)
            if not np.all(np.isfinite(L)):
                kind = "nonfinite"
                msg = out.warning or "the output has NaN or inf"
            else:
                with np.errstate(all="ignore"):  # the user's output may be huge; say so, quietly
                    kind = _normalisation_kind(L, axis, rounding(dt, m))
                    total = np.exp(logsumexp(L, axis)).ravel()[0]
                msg = f"exp of the output sums to {total:.6g} per example"
            if kind is None and not np.all(np.abs(L - exact) <= allowed):
                kind = "inaccurate"
                msg = f"differs from the log-sum-exp log-softmax by up to {err:.3g}"
            if kind is None and out.warning is not None:
                kind, msg = warning_kind(out.warning), out.warning
            if kind is None and not np.array_equal(L.argmax(axis=axis), Z.argmax(axis=axis)):
                kind, msg = "argmax", "the largest log-probability is not at the largest logit"
            shift_err, shift_kind, shift_msg = shift_check(
                fn, shifted, L, shift_tolerances[-1], "the log-probabilities")
            if kind is None and shift_kind is not None:
                kind, msg = shift_kind, shift_msg
        errors.append(err)
        shift_errors.append(shift_err)
        sweep.report(kind, m, msg, LOG_SOFTMAX_HINTS.get(kind, LOG_SUM_EXP), axis=axis)
    return sweep.result({"magnitude": list(MAGNITUDES), "max_abs_error": errors,
                         "max_abs_error_tolerance": tolerances,
                         "max_shift_error": shift_errors,
                         "max_shift_error_tolerance": shift_tolerances})


def probe_sigmoid(fn: Callable, *, dtype: Any = np.float64, subject: str = "sigmoid",
                  seed: int = 0) -> ProbeResult:
    """Probe an elementwise sigmoid over increasing input magnitudes.

    At each magnitude m in :data:`MAGNITUDES` (inputs include exactly +m and -m, so z = +-1000
    is among them) the output must be finite, without a RuntimeWarning (``overflow`` for the
    naive ``1 / (1 + np.exp(-z))`` past m ~ 709.8 in float64, ~ 88.7 in float32), shaped like
    the input, equal to 1 / (1 + exp(-z)) to within rounding (``inaccurate``), and satisfy
    sigma(-z) = 1 - sigma(z) (``symmetry``).

    Parameters
    ----------
    fn : callable, ``z -> sigma(z)`` elementwise.
    dtype : float32 or float64; inputs of shape (3, 5).
    subject : name used in the findings.
    seed : seeds the inputs.

    Returns
    -------
    ProbeResult with series ``magnitude``, ``max_abs_error`` and ``max_symmetry_error``.
    """
    check_function("fn", fn)
    dt = check_dtype(dtype)
    base = sweep_base((3, 5), 1, seed)
    tol = rounding(dt, 1.0)
    sweep = Sweep("sigmoid", subject, dt)
    errors: list[float] = []
    symmetry_errors: list[float] = []
    for m in MAGNITUDES:
        z = (base * m).astype(dt)
        exact = stable_sigmoid(z)
        out, mirrored = call_guarded(fn, z), call_guarded(fn, -z)
        err = sym_err = float("nan")
        kind, msg = None, ""
        if out.error is not None or mirrored.error is not None:
            kind, msg = "exception", out.error or f"at -z: {mirrored.error}"
        elif out.value.shape != z.shape or mirrored.value.shape != z.shape:
            kind, msg = "shape", f"returned shape {out.value.shape} for input of shape {z.shape}"
        else:
            s, s_neg = out.value, mirrored.value
            with np.errstate(all="ignore"):
                err = max(max_abs(s - exact), max_abs(s_neg - (1 - exact)))
                sym_err = max_abs(s_neg - (1 - s))
            warning = out.warning or mirrored.warning
            if not (np.all(np.isfinite(s)) and np.all(np.isfinite(s_neg))):
                kind, msg = "nonfinite", warning or "the output has NaN or inf"
            elif not err <= tol:
                kind, msg = "inaccurate", f"differs from 1 / (1 + exp(-z)) by up to {err:.3g}"
            elif not sym_err <= tol:
                kind, msg = "symmetry", f"sigma(-z) differs from 1 - sigma(z) by up to {sym_err:.3g}"
            elif warning is not None:
                kind, msg = warning_kind(warning), warning
        errors.append(err)
        symmetry_errors.append(sym_err)
        sweep.report(kind, m, msg, SIGMOID_HINTS.get(kind, STABLE_SIGMOID), where="inputs")
    return sweep.result({"magnitude": list(MAGNITUDES), "max_abs_error": errors,
                         "max_abs_error_tolerance": [tol] * len(errors),
                         "max_symmetry_error": symmetry_errors,
                         "max_symmetry_error_tolerance": [tol] * len(errors)})
