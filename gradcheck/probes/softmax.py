"""Softmax probe: sweep logit magnitudes and report the smallest one at which it breaks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradcheck.probes.base import (
    MAGNITUDES,
    ProbeResult,
    Sweep,
    call_guarded,
    check_axis,
    check_dtype,
    check_function,
    logit_sweep,
    max_abs,
    rounding,
    shift_check,
    warning_kind,
)

__all__ = ["MAGNITUDES", "ProbeResult", "probe_softmax"]

STABLE = ("Subtract the max along the class axis before np.exp and sum along that axis with "
          "keepdims=True.")
HINTS = {
    "exception": "The softmax raised on a 2-D float array of logits; it must accept one.",
    "shape": "Return an array shaped like the logits: keep the class axis with keepdims=True.",
    "nonfinite": STABLE,
    "overflow": STABLE,
    "warning": STABLE,
    "not_normalized": "Sum along the class axis only, np.sum(E, axis=..., keepdims=True); "
                      "np.sum(E) or sum(E) over the whole batch mixes the examples.",
    "wrong_axis": "Normalise along the class axis: axis=-1 when examples are rows, axis=0 when "
                  "they are columns.",
    "argmax": "The most likely class must be the largest logit; a stable softmax preserves order.",
    "shift_variance": "softmax(Z + c) must equal softmax(Z) when c is one constant per example; "
                      "exponentiate Z - max and divide by the sum, nothing else.",
}


def _kind(P: np.ndarray, shape: tuple, axis: int, tol: float) -> str | None:
    """The structural defect of a softmax output P, or None."""
    if P.shape != shape:
        return "shape"
    if not np.all(np.isfinite(P)):
        return "nonfinite"
    if np.allclose(P.sum(axis=axis), 1.0, atol=tol):
        return None
    if np.isclose(P.sum(), 1.0, atol=tol):
        return "not_normalized"  # normalised over the whole batch
    other = 1 - axis % 2
    if np.allclose(P.sum(axis=other), 1.0, atol=tol):
        return "wrong_axis"
    return "not_normalized"


def probe_softmax(fn: Callable, *, axis: int = -1, dtype: Any = np.float64,
                  subject: str = "softmax", seed: int = 0) -> ProbeResult:
    """Probe a 2-D softmax over increasing logit magnitudes.

    At each magnitude m in :data:`MAGNITUDES` the output must be finite, without a
    RuntimeWarning, shaped like the logits, sum to one along the class axis, keep the argmax,
    and not change when one constant per example is added to the logits.

    Parameters
    ----------
    fn : callable, ``Z -> P`` of the same shape.
    axis : class axis, 0 (columns layout, classes x examples) or -1/1 (rows layout).
    dtype : float32 or float64; logits of shape (3, 5) or (5, 3), non-square on purpose.
        The first example's logits span exactly [-m, m].
    subject : name used in the findings.
    seed : seeds the logits and the shifts.

    Returns
    -------
    ProbeResult with series ``magnitude``, ``max_abs_row_sum_error`` and ``max_shift_error``.
    """
    check_function("fn", fn)
    axis = check_axis(axis)
    dt = check_dtype(dtype)
    tol = 1e-4 if dt == np.float32 else 1e-8
    sweep = Sweep("softmax", subject, dt)
    errors: list[float] = []
    shift_errors: list[float] = []
    for m, Z, shifted in logit_sweep(axis, dt, seed):
        out = call_guarded(fn, Z)
        if out.error is not None:
            errors.append(float("nan"))
            shift_errors.append(float("nan"))
            sweep.report("exception", m, out.error, HINTS["exception"])
            continue
        P = out.value
        kind = _kind(P, Z.shape, axis, tol)
        same = P.shape == Z.shape
        with np.errstate(all="ignore"):
            err = max_abs(P.sum(axis=axis) - 1) if same else float("nan")
        msg = out.warning or f"max |row sum - 1| = {err:.3g}"
        if not same:
            msg = f"returned shape {P.shape} for logits of shape {Z.shape}"
        kind = kind or warning_kind(out.warning)
        if kind is None and not np.array_equal(P.argmax(axis=axis), Z.argmax(axis=axis)):
            kind, msg = "argmax", "the largest probability is not at the largest logit"
        shift_err = float("nan")
        if same:
            shift_err, shift_kind, shift_msg = shift_check(
                fn, shifted, P, tol + rounding(dt, max_abs(shifted)), "probabilities")
            if kind is None and shift_kind is not None:
                kind, msg = shift_kind, shift_msg
        errors.append(err)
        shift_errors.append(shift_err)
        sweep.report(kind, m, msg, HINTS.get(kind, STABLE), axis=axis)
    return sweep.result({"magnitude": list(MAGNITUDES), "max_abs_row_sum_error": errors,
                         "max_shift_error": shift_errors})
