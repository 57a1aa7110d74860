"""Cross-entropy probes: does a loss stay finite when predictions become certain?

Logits of growing magnitude m make softmax/sigmoid probabilities of exactly 0 and 1 (the
probes compute them stably, in float64, then cast to the dtype). Some labels are chosen so the
true class gets the smallest probability (confidently wrong) and some so it gets the largest
(confidently right): ``np.log(0)`` and ``0 * np.log(0)`` are both reached. A loss that takes
logits is instead compared with the log-sum-exp value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradcheck.errors import InvalidArgumentError
from gradcheck.probes.base import (
    MAGNITUDES,
    ProbeResult,
    Sweep,
    allowed_error,
    call_guarded,
    check_axis,
    check_dtype,
    check_function,
    max_abs,
    stable_log_softmax,
    stable_sigmoid,
    sweep_base,
    warning_kind,
)
from gradcheck.validation import validate_seed

__all__ = ["probe_binary_cross_entropy", "probe_cross_entropy"]

CLIP_OR_LOGITS = ("Clip probabilities to [eps, 1 - eps] before np.log (e.g. np.clip(P, 1e-12, 1 - 1e-12)), "
                  "or compute from logits with log-sum-exp.")
CE_FROM_LOGITS = ("Compute from logits with log-sum-exp: L = mean(logsumexp(Z) - Z[y]), where "
                  "logsumexp subtracts the max along the class axis; never np.log(softmax(Z)).")
BCE_FROM_LOGITS = ("Compute from logits: mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))), "
                   "which never takes log(0) nor exp of a large number.")
CE_GRADIENT = ("Clip P in the gradient too (-Y / np.clip(P, eps, 1)), or differentiate softmax and "
               "cross-entropy together from logits: dZ = (softmax(Z) - Y) / n.")
BCE_GRADIENT = ("Clip p in the gradient too, or differentiate sigmoid and binary cross-entropy "
                "together from logits: dz = (sigmoid(z) - y) / N.")
SHAPE = "Return the mean loss as a single number (a float or a size-1 array)."
GRADIENT_SHAPE = "Return the gradient shaped like the loss's first argument."
RAISED = ("The function raised on a float array and labels shaped as the probe's docstring says; "
          "it must accept them.")


def _loss_kind(out, exact: float, tol: float, compare: bool, n: int) -> tuple[str | None, str]:
    """The defect of one loss call, (kind, message) or (None, "")."""
    if out.error is not None:
        return "exception", out.error
    value = out.value
    if value.size != 1:
        return "shape", f"returned an array of shape {value.shape}, expected one number"
    loss = float(value.ravel()[0])
    if not np.isfinite(loss):
        return "nonfinite", f"loss is {loss}" + (f"; {out.warning}" if out.warning else "")
    if compare and not abs(loss - exact) <= tol:
        if n > 1 and abs(loss - n * exact) <= n * tol:
            return "inaccurate", (f"loss is {loss:.6g}, {n} times the mean {exact:.6g}: a sum over "
                                  "examples, not the mean")
        return "inaccurate", (f"loss is {loss:.6g}, log-sum-exp gives {exact:.6g} "
                              f"(off by {abs(loss - exact):.3g})")
    if out.warning is not None:
        return warning_kind(out.warning), out.warning
    return None, ""


def _gradient_kind(out, shape: tuple, exact: np.ndarray | None, tol: np.ndarray) -> tuple[str | None, str]:
    """The defect of one gradient call, (kind, message) or (None, "")."""
    if out.error is not None:
        return "exception", f"the gradient raised {out.error}"
    g = out.value
    if g.shape != shape:
        return "shape", f"the gradient has shape {g.shape}, the input {shape}"
    if not np.all(np.isfinite(g)):
        bad = int(np.sum(~np.isfinite(g)))
        return "nonfinite", (f"the gradient has {bad} NaN/inf entries"
                             + (f"; {out.warning}" if out.warning else ""))
    if exact is not None and not np.all(np.abs(g - exact) <= tol):
        with np.errstate(all="ignore"):
            err = max_abs(g - exact)
        return "inaccurate", f"the gradient differs from the exact one by up to {err:.3g}"
    if out.warning is not None:
        return warning_kind(out.warning), f"the gradient: {out.warning}"
    return None, ""


def _run(sweep: Sweep, cases, fn: Callable, gradient: Callable | None, *, compare: bool,
         loss_hint: str, gradient_hint: str, where: str) -> dict[str, list[float]]:
    """Call loss (and gradient) on each magnitude's (inputs, labels, exact loss, exact gradient)."""
    losses: list[float] = []
    exact_losses: list[float] = []
    gradient_sizes: list[float] = []
    zeros: list[float] = []
    for m, X, y, exact, exact_grad, dt, n in cases:
        out = call_guarded(fn, X, y)
        kind, msg = _loss_kind(out, exact, float(allowed_error(dt, m, exact)), compare, n)
        extremes = int(np.sum((X == 0) | (X == 1))) if not compare else 0
        exactly = f"{extremes} {'probability is' if extremes == 1 else 'probabilities are'} exactly 0 or 1"
        if kind is not None and extremes:
            msg = f"{exactly}; {msg}"
        hint = {"shape": SHAPE, "exception": RAISED}.get(kind, loss_hint)
        sweep.report(kind, m, msg, hint, where=where, part="loss")
        value = out.value if out.value is not None and out.value.size == 1 else None
        losses.append(float("nan") if value is None else float(value.ravel()[0]))
        exact_losses.append(exact)
        zeros.append(float(extremes))
        size = float("nan")
        if gradient is not None:
            g = call_guarded(gradient, X, y)
            kind, msg = _gradient_kind(g, X.shape, exact_grad if compare else None,
                                       allowed_error(dt, m, exact_grad))
            if kind is not None and extremes:
                msg = f"{exactly}; {msg}"
            hint = {"shape": GRADIENT_SHAPE, "exception": RAISED}.get(kind, gradient_hint)
            sweep.report(kind, m, msg, hint, where=where, part="gradient")
            if g.value is not None and g.value.shape == X.shape:
                size = max_abs(g.value)
        gradient_sizes.append(size)
    series = {"magnitude": list(MAGNITUDES), "loss": losses, "exact_loss": exact_losses}
    if not compare:
        series["probabilities_exactly_0_or_1"] = zeros
    if gradient is not None:
        series["max_abs_gradient"] = gradient_sizes
    return series


def probe_cross_entropy(fn: Callable, *, gradient: Callable | None = None, from_logits: bool = False,
                        axis: int = -1, one_hot: bool = False, dtype: Any = np.float64,
                        subject: str | None = None, seed: int = 0) -> ProbeResult:
    """Probe a categorical cross-entropy over softmax probabilities that become exactly 0 and 1.

    At each magnitude m in :data:`MAGNITUDES`, logits Z = m * base (3 examples, 5 classes; the
    first example's logits span exactly [-m, m] and its label is the class of logit -m) give
    probabilities P = softmax(Z). The loss of (P, y), or of (Z, y) with ``from_logits``, must be
    one finite number without a RuntimeWarning; from logits it must also equal the log-sum-exp
    mean cross-entropy (else ``inaccurate``). With ``gradient``, ``gradient(P, y)`` (or
    ``gradient(Z, y)``) must be finite and shaped like its input; from logits it must equal
    (softmax(Z) - Y) / n.

    Parameters
    ----------
    fn : callable, ``(P, y) -> float`` (or ``(Z, y)`` with ``from_logits``), a mean over examples.
    gradient : callable, optional, ``(P, y) -> dL/dP`` (or ``(Z, y) -> dL/dZ``).
    from_logits : whether ``fn`` takes logits instead of probabilities.
    axis : class axis, 0 (columns layout: inputs (5, 3)) or -1/1 (rows layout: inputs (3, 5)).
    one_hot : pass labels one-hot, shaped like the inputs, instead of integers (n,).
    dtype : float32 or float64.
    subject : name used in the findings; default ``cross_entropy`` or ``cross_entropy_from_logits``.
    seed : seeds the logits and the other labels.

    Returns
    -------
    ProbeResult with series ``magnitude``, ``loss``, ``exact_loss`` (log-sum-exp from the
    logits), ``probabilities_exactly_0_or_1`` (probability inputs) and ``max_abs_gradient``.
    """
    check_function("fn", fn)
    check_function("gradient", gradient, optional=True)
    axis = check_axis(axis)
    dt = check_dtype(dtype)
    subject = subject or ("cross_entropy_from_logits" if from_logits else "cross_entropy")
    n, k = 3, 5
    base = sweep_base((n, k) if axis == 1 else (k, n), axis, seed)
    labels = np.random.default_rng(seed).integers(0, k, size=n)
    labels[0] = k - 1  # the class of logit -m: confidently wrong
    labels[1] = int(np.argmax(np.take(base, 1, axis=1 - axis)))  # confidently right
    Y = np.zeros_like(base)
    if axis == 1:
        Y[np.arange(n), labels] = 1.0
    else:
        Y[labels, np.arange(n)] = 1.0
    y = Y.astype(dt) if one_hot else labels.astype(np.int64)
    cases = []
    for m in MAGNITUDES:
        Z = (base * m).astype(dt)
        log_P = stable_log_softmax(Z, axis)
        exact = float(-np.sum(Y * log_P) / n)
        exact_grad = (np.exp(log_P) - Y) / n
        X = Z if from_logits else np.exp(log_P).astype(dt)
        cases.append((m, X, y, exact, exact_grad, dt, n))
    sweep = Sweep("cross_entropy", subject, dt)
    series = _run(sweep, cases, fn, gradient, compare=from_logits,
                  loss_hint=CE_FROM_LOGITS if from_logits else CLIP_OR_LOGITS,
                  gradient_hint=CE_FROM_LOGITS if from_logits else CE_GRADIENT,
                  where="logits" if from_logits else "probabilities from logits")
    return sweep.result(series)


def probe_binary_cross_entropy(fn: Callable, *, gradient: Callable | None = None,
                               from_logits: bool = False, shape: tuple[int, ...] = (6, 1),
                               dtype: Any = np.float64, subject: str | None = None,
                               seed: int = 0) -> ProbeResult:
    """Probe a binary cross-entropy over sigmoid probabilities that become exactly 0 and 1.

    At each magnitude m in :data:`MAGNITUDES`, logits z = m * base (``shape``; the first three
    entries are +m with label 0, -m with label 1 and +m with label 1) give p = sigmoid(z). The
    loss of (p, y), or of (z, y) with ``from_logits``, must be one finite number without a
    RuntimeWarning; from logits it must also equal mean(max(z, 0) - z y + log(1 + exp(-|z|))).
    With ``gradient``, ``gradient(p, y)`` (or ``gradient(z, y)``) must be finite and shaped like
    its input; from logits it must equal (sigmoid(z) - y) / N.

    Parameters
    ----------
    fn : callable, ``(p, y) -> float`` (or ``(z, y)`` with ``from_logits``), a mean over entries.
    gradient : callable, optional, ``(p, y) -> dL/dp`` (or ``(z, y) -> dL/dz``).
    from_logits : whether ``fn`` takes logits instead of probabilities.
    shape : shape of p, z and y, at least 3 entries; (6, 1) by default, (6,) and (1, 6) work too.
    dtype : float32 or float64; y has the same dtype, entries 0.0 and 1.0.
    subject : name used in the findings; default ``binary_cross_entropy`` or
        ``binary_cross_entropy_from_logits``.
    seed : seeds the logits and the other labels.

    Returns
    -------
    ProbeResult with the series of :func:`probe_cross_entropy`.
    """
    check_function("fn", fn)
    check_function("gradient", gradient, optional=True)
    dt = check_dtype(dtype)
    shape = tuple(int(s) for s in shape)
    if int(np.prod(shape)) < 3:
        raise InvalidArgumentError("shape", f"got {shape}, expected at least 3 entries.",
                                   "Pass e.g. shape=(6, 1).")
    subject = subject or ("binary_cross_entropy_from_logits" if from_logits else "binary_cross_entropy")
    rng = np.random.default_rng(validate_seed(seed))
    base = rng.uniform(-1.0, 1.0, size=shape)
    labels = rng.integers(0, 2, size=shape).astype(np.float64)
    base.flat[:3] = (1.0, -1.0, 1.0)
    labels.flat[:3] = (0.0, 1.0, 1.0)  # wrong, wrong, right: log(0) and 0 * log(0)
    y = labels.astype(dt)
    cases = []
    for m in MAGNITUDES:
        z = (base * m).astype(dt)
        z64 = z.astype(np.float64)
        exact = float(np.mean(np.maximum(z64, 0) - z64 * labels + np.log1p(np.exp(-np.abs(z64)))))
        p = stable_sigmoid(z64)
        exact_grad = (p - labels) / z.size
        X = z if from_logits else p.astype(dt)
        cases.append((m, X, y, exact, exact_grad, dt, z.size))
    sweep = Sweep("binary_cross_entropy", subject, dt)
    series = _run(sweep, cases, fn, gradient, compare=from_logits,
                  loss_hint=BCE_FROM_LOGITS if from_logits else CLIP_OR_LOGITS,
                  gradient_hint=BCE_FROM_LOGITS if from_logits else BCE_GRADIENT,
                  where="logits" if from_logits else "probabilities from logits")
    return sweep.result(series)
