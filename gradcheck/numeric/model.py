"""Tolerances by dtype, the relative-error definition, and the verdict tiers.

Relative error of one entry, with analytic value ``a`` and numeric value ``n``::

    rel_error = |a - n| / max(|a|, |n|, atol)

The ``atol`` floor keeps entries whose true gradient is ~0 from producing huge ratios out of
rounding noise. An entry passes when ``|a - n| <= atol + rtol * max(|a|, |n|)``.

Tiers (float64 defaults; the second article's "under 1e-7 good, over 1e-4 wrong"):
``excellent`` <= 1e-7 < ``good`` <= 1e-5 < ``suspicious`` <= rtol (1e-4) < ``wrong``.
float32 carries ~7 significant digits and a finite difference loses about half of them, so its
tiers are scaled up: excellent <= 1e-4, good <= 1e-3, suspicious <= 2e-2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """Thresholds for one dtype. ``rtol`` is the pass/fail line; tiers grade passing entries."""

    dtype: str
    rtol: float
    atol: float
    excellent: float
    good: float
    step_base: float  # central-difference step relative to max(1, |x|): ~cbrt(machine eps)

    def tier(self, rel_error: float) -> str:
        """``excellent``, ``good``, ``suspicious`` or ``wrong`` for a relative error."""
        if not np.isfinite(rel_error) or rel_error > self.rtol:
            return "wrong"
        if rel_error <= self.excellent:
            return "excellent"
        if rel_error <= self.good:
            return "good"
        return "suspicious"


_DEFAULTS = {
    np.dtype(np.float64): dict(rtol=1e-4, atol=1e-8, excellent=1e-7, good=1e-5),
    np.dtype(np.float32): dict(rtol=2e-2, atol=1e-4, excellent=1e-4, good=1e-3),
    np.dtype(np.float16): dict(rtol=1e-1, atol=1e-2, excellent=1e-2, good=5e-2),
}


def tolerance_for(dtype, *, rtol: float | None = None, atol: float | None = None) -> Tolerance:
    """Default tolerance for a float dtype, with optional overrides of rtol and atol."""
    dtype = np.dtype(dtype)
    base = _DEFAULTS.get(dtype, _DEFAULTS[np.dtype(np.float64)])
    return Tolerance(
        dtype=dtype.name,
        rtol=base["rtol"] if rtol is None else float(rtol),
        atol=base["atol"] if atol is None else float(atol),
        excellent=base["excellent"],
        good=base["good"],
        step_base=float(np.cbrt(np.finfo(dtype).eps)),
    )


def noise_floor(loss_value: float, step: float, dtype) -> float:
    """Absolute error a central difference can carry from rounding the loss alone.

    A loss computed in a dtype with machine epsilon ``eps`` carries rounding error of a few
    ``eps * |L|`` per term summed (matrix products of hundreds of terms, a mean over the batch);
    dividing a difference of two such values by ``2 h`` gives ``c * eps * |L| / h``. We take
    c = 32, which measured float32 ReLU networks on MNIST batches need to raise no false alarm.
    """
    eps = np.finfo(np.dtype(dtype)).eps
    return float(32 * eps * max(abs(loss_value), 1.0) / step)


def relative_error(analytic: np.ndarray, numeric: np.ndarray, atol: float) -> np.ndarray:
    """Elementwise |a - n| / max(|a|, |n|, atol)."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), atol)
    with np.errstate(invalid="ignore"):
        return np.abs(analytic - numeric) / scale


def entries_pass(analytic: np.ndarray, numeric: np.ndarray, tol: Tolerance, atol: float) -> np.ndarray:
    """Boolean mask: |a - n| <= atol + rtol * max(|a|, |n|), and both finite."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    bound = atol + tol.rtol * np.maximum(np.abs(analytic), np.abs(numeric))
    with np.errstate(invalid="ignore"):
        return np.isfinite(analytic) & np.isfinite(numeric) & (np.abs(analytic - numeric) <= bound)
