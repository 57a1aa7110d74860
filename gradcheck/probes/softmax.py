"""Softmax probe: sweep logit magnitudes and report the smallest one at which it breaks."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcheck.findings import Finding, json_safe

#: Logit magnitudes swept; naive exp overflows past ~88.7 (float32) and ~709.8 (float64).
MAGNITUDES = (1.0, 10.0, 50.0, 88.0, 90.0, 100.0, 500.0, 709.0, 711.0, 1000.0, 1e4)


@dataclass
class ProbeResult:
    """Outcome of one probe: verdict, findings and plottable series."""

    name: str
    subject: str
    passed: bool
    findings: list[Finding] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)
    breaking_magnitude: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return json_safe({
            "name": self.name, "subject": self.subject, "passed": self.passed,
            "findings": [f.to_dict() for f in self.findings], "series": self.series,
            "breaking_magnitude": self.breaking_magnitude,
        })


def _call(fn: Callable, Z: np.ndarray) -> tuple[np.ndarray | None, str | None, str | None]:
    """Call fn on a copy of Z; return (output, exception message, warning message)."""
    # underflow to 0 is harmless in softmax; overflow, 0/0 and log(0) are not
    quiet_underflow = np.errstate(over="warn", invalid="warn", divide="warn", under="ignore")
    with warnings.catch_warnings(record=True) as caught, quiet_underflow:
        warnings.simplefilter("always")
        try:
            out = np.asarray(fn(Z.copy()), dtype=np.float64)
        except Exception as exc:  # a broken user function is a finding, not a crash
            return None, f"{type(exc).__name__}: {exc}", None
    runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return out, None, (runtime[0] if runtime else None)


def _kind(P: np.ndarray, shape: tuple, axis: int, tol: float) -> str | None:
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

    Parameters
    ----------
    fn : callable, ``Z -> P`` of the same shape.
    axis : class axis, 0 (columns layout, classes x examples) or -1/1 (rows layout).
    dtype : float32 or float64; logits of shape (3, 5) or (5, 3), non-square on purpose.
    """
    axis = axis % 2
    rng = np.random.default_rng(seed)
    base = rng.uniform(-1.0, 1.0, size=(3, 5) if axis == 1 else (5, 3))
    base.flat[0] = 1.0  # the largest logit equals the swept magnitude
    tol = 1e-4 if np.dtype(dtype) == np.float32 else 1e-8
    findings: list[Finding] = []
    errors: list[float] = []
    breaking = None
    for m in MAGNITUDES:
        Z = (base * m).astype(dtype)
        P, exc, warn = _call(fn, Z)
        if exc is not None:
            kind, msg, err = "exception", exc, float("nan")
        else:
            kind = _kind(P, Z.shape, axis, tol) or ("warning" if warn else None)
            with np.errstate(all="ignore"):
                same = P.shape == Z.shape
                err = float(np.max(np.abs(P.sum(axis=axis) - 1))) if same else float("nan")
            if kind is None and not np.array_equal(P.argmax(axis=axis), Z.argmax(axis=axis)):
                kind = "argmax"
            msg = warn or f"max |row sum - 1| = {err:.3g}"
        errors.append(err)
        if kind is not None and breaking is None:
            breaking = m
            findings.append(Finding(
                kind, subject,
                f"{subject}: logits of magnitude {m:g} ({np.dtype(dtype).name}) — {msg} ({kind})",
                hint="Subtract the max along the class axis before np.exp and sum along that "
                     "axis with keepdims=True.",
                data={"magnitude": m, "axis": axis, "dtype": np.dtype(dtype).name}))
    return ProbeResult("softmax", subject, breaking is None, findings,
                       {"magnitude": list(MAGNITUDES), "max_abs_row_sum_error": errors}, breaking)
