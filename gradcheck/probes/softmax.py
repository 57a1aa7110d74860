"""Softmax probe: sweep logit magnitudes and report the smallest one at which it breaks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradcheck.checks.properties import (
    SOFTMAX_HINTS,
    argmax_defect,
    softmax_sum_defect,
    softmax_tolerance,
)
from gradcheck.probes.base import (
    MAGNITUDES,
    ProbeResult,
    call_guarded,
    logit_sweep,
    max_abs,
    open_logit_sweep,
    shift_check,
    warning_kind,
)

__all__ = ["MAGNITUDES", "ProbeResult", "probe_softmax"]

STABLE = ("Subtract the max along the class axis before np.exp and sum along that axis with "
          "keepdims=True.")


def probe_softmax(fn: Callable, *, axis: int = -1, dtype: Any = np.float64,
                  subject: str = "softmax", seed: int = 0) -> ProbeResult:
    """Probe a 2-D softmax over increasing logit magnitudes.

    At each magnitude m in :data:`MAGNITUDES` the output must be finite, without a
    RuntimeWarning, shaped like the logits, sum to one along the class axis, keep the argmax,
    and not change when one constant per example is added to the logits: the properties of
    :mod:`gradcheck.checks.properties`, with its tolerance (:func:`softmax_tolerance`) and words.

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
    axis, dt, sweep = open_logit_sweep("softmax", fn, axis, dtype, subject)
    errors: list[float] = []
    shift_errors: list[float] = []
    row_tolerances: list[float] = []
    shift_tolerances: list[float] = []
    for m, Z, shifted in logit_sweep(axis, dt, seed):
        out = call_guarded(fn, Z)
        if out.error is not None:
            errors.append(float("nan"))
            shift_errors.append(float("nan"))
            row_tolerances.append(float("nan"))
            shift_tolerances.append(float("nan"))
            sweep.report("exception", m, out.error, SOFTMAX_HINTS["exception"])
            continue
        P = out.value
        err = shift_err = row_tol = shift_tol = float("nan")
        kind, msg = None, out.warning
        if P.shape != Z.shape:
            kind, msg = "shape", f"returned shape {P.shape} for logits of shape {Z.shape}"
        elif not np.all(np.isfinite(P)):
            kind, msg = "nonfinite", out.warning or "the output has NaN or inf"
        else:
            row_tol = softmax_tolerance(dt, out.dtype, n_classes=Z.shape[axis], scale=max_abs(Z))
            defect = softmax_sum_defect(P, axis, row_tol)
            with np.errstate(all="ignore"):
                err = max_abs(P.sum(axis=axis) - 1)
            if defect is not None:
                kind, _, msg = defect
            kind = kind or warning_kind(out.warning)
            if kind is None:
                msg = argmax_defect(P, Z, axis)
                kind = "argmax" if msg is not None else None
            shift_tol = softmax_tolerance(dt, out.dtype, n_classes=Z.shape[axis],
                                          scale=max(max_abs(Z), max_abs(shifted)))
            shift_err, shift_kind, shift_msg = shift_check(fn, shifted, P, shift_tol,
                                                           "the probabilities")
            if kind is None and shift_kind is not None:
                kind, msg = shift_kind, shift_msg
        errors.append(err)
        shift_errors.append(shift_err)
        row_tolerances.append(row_tol)
        shift_tolerances.append(shift_tol)
        sweep.report(kind, m, msg or "", SOFTMAX_HINTS.get(kind, STABLE), axis=axis)
    return sweep.result({"magnitude": list(MAGNITUDES), "max_abs_row_sum_error": errors,
                         "max_abs_row_sum_error_tolerance": row_tolerances,
                         "max_shift_error": shift_errors,
                         "max_shift_error_tolerance": shift_tolerances})
