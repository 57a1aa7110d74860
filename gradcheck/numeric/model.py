"""The one numeric model: precision, rounding, tolerances and the pass rule, for every check.

Every check and probe asks this module how precise a number can be, so no two parts of gradcheck
can disagree about the same numbers.

**Precision** is that of the least precise floating dtype among what a computation touched
(:func:`precision_of`): float32 parameters under a float64 input still round like float32, and a
float32 loss value like float32, whatever the parameters.

**Rounding.** A value of size ``v`` computed in a dtype with machine epsilon ``eps`` carries
about ``units * eps * max(|v|, 1)`` of rounding (:func:`rounding`), a few eps per summed term;
:data:`ROUNDING_UNITS` (32) is what measured float32 ReLU networks on MNIST batches need to raise
no false alarm, and comparisons of two computations of the same quantity (a loss called twice, a
reordered sum of ``n`` terms, a softmax row sum) allow :data:`REPEAT_UNITS` (64) per term. A central
difference of such a loss, over a step ``h``, carries ``rounding(L) / h`` (:func:`difference_noise`).

**The pass rule** (:func:`agree`): ``a`` and ``b`` agree when both are finite and
``|a - b| <= atol + rtol * max(|a|, |b|)``. The relative error shown is
``|a - n| / max(|a|, |n|, atol)`` (:func:`relative_error`).

**Tolerances by dtype** (:func:`tolerance_for`), with tiers that grade passing entries (float64
defaults; the second article's "under 1e-7 good, over 1e-4 wrong"): ``excellent`` <= 1e-7 <
``good`` <= 1e-5 < ``suspicious`` <= rtol (1e-4) < ``wrong``. float32 carries ~7 significant
digits and a finite difference loses about half of them, so its tiers are scaled up: excellent
<= 1e-4, good <= 1e-3, suspicious <= 2e-2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Machine epsilons of rounding a correct computation of a value may carry, per unit of size.
ROUNDING_UNITS = 32
#: Per summed term, between two computations of the same quantity (reordered, repeated).
REPEAT_UNITS = 64


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
        step_base=float(np.cbrt(eps_of(dtype))),
    )


# -- precision ----------------------------------------------------------------------------------
def _float_dtype(thing: Any) -> np.dtype | None:
    """The floating dtype of an array, a NumPy scalar or a dtype; None for anything else."""
    dtype = getattr(thing, "dtype", thing)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        return None
    return dtype if np.issubdtype(dtype, np.floating) else None


def precision_of(*things: Any, default=np.float64) -> np.dtype:
    """The least precise floating dtype among ``things`` (arrays, NumPy scalars, dtypes, or
    iterables of them); ``default`` when there is none (Python floats are float64)."""
    found = []
    for thing in things:
        if isinstance(thing, dict):
            thing = list(thing.values())
        if isinstance(thing, (list, tuple)):
            found += [d for d in map(_float_dtype, thing) if d is not None]
        else:
            dtype = _float_dtype(thing)
            if dtype is not None:
                found.append(dtype)
    if not found:
        return np.dtype(default)
    return max(found, key=eps_of)


def eps_of(dtype) -> float:
    """Machine epsilon of ``dtype`` (2.2e-16 for float64, 1.2e-7 for float32)."""
    return float(np.finfo(np.dtype(dtype)).eps)


def rounding(value, dtype, *, units: int = ROUNDING_UNITS, terms: int = 1):
    """Rounding a value of size ``value`` (a number or an array) computed in ``dtype`` may carry:
    ``units * eps * terms * max(|value|, 1)``."""
    return units * eps_of(dtype) * max(1, int(terms)) * np.maximum(np.abs(value), 1.0)


def difference_noise(loss_value: float, step: float, dtype) -> float:
    """Absolute error a central difference of the loss over ``step`` can carry from rounding
    the loss alone: :func:`rounding` of the loss divided by the step."""
    return float(rounding(loss_value, dtype)) / step


def repeat_tolerance(value: float, dtype, terms: int = 1) -> float:
    """How far two computations of the same quantity (repeated, or a sum of ``terms`` terms
    taken in another order) may differ: :data:`REPEAT_UNITS` eps per term."""
    return float(rounding(value, dtype, units=REPEAT_UNITS, terms=terms))


def smallest_step(dtype) -> float:
    """The smallest relative step whose move of an entry survives rounding in ``dtype``, even at
    a tenth of it: 32 machine epsilons."""
    return ROUNDING_UNITS * eps_of(dtype)


def value_tolerance(magnitude: float, exact, dtype):
    """Error a value computed in ``dtype`` from inputs of size ``magnitude`` may show: the
    inputs' rounding, plus half the digits of the value itself (a function that loses more
    than that, or returns something else, is inaccurate)."""
    return rounding(magnitude, dtype) + np.sqrt(eps_of(dtype)) * np.abs(exact)


def relative_rounding(value, dtype, *, units: int = REPEAT_UNITS):
    """Rounding relative to ``value`` alone (no floor at 1): what a computation's rounding can put
    into a quantity whose true value is 0, next to others of size ``value``."""
    return units * eps_of(dtype) * np.abs(value)


# -- the pass rule --------------------------------------------------------------------------------
def bound(a, b, rtol: float, atol):
    """``atol + rtol * max(|a|, |b|)``: how far ``a`` and ``b`` may differ and still agree."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return atol + rtol * np.maximum(np.abs(a), np.abs(b))


def agree(a, b, rtol: float, atol) -> np.ndarray:
    """Boolean mask: ``a`` and ``b`` both finite and ``|a - b| <= atol + rtol * max(|a|, |b|)``.
    ``atol`` may be one value per entry."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= bound(a, b, rtol, atol))


#: The loosest relative tolerance a structural diagnosis allows when it says a relation holds (a
#: flip, a shift, a missing term): float32's pass line, 2e-2, would let chance fit a relation on
#: a few entries, while its central differences of resolved entries are good to ~1e-3.
CLAIM_RTOL = 1e-3
#: The tightest: rounding of the arithmetic that rearranges the arrays being compared.
CLAIM_RTOL_FLOOR = 1e-9


def claim_tolerance(rtol: float) -> float:
    """The relative tolerance within which a structural diagnosis requires a relation between the
    analytic and the numeric gradient to hold on every entry: the check's own ``rtol``, but at
    most :data:`CLAIM_RTOL` and at least :data:`CLAIM_RTOL_FLOOR` (the absolute tolerance stays
    the check's)."""
    return min(max(float(rtol), CLAIM_RTOL_FLOOR), CLAIM_RTOL)


def entries_pass(analytic: np.ndarray, numeric: np.ndarray, tol: Tolerance, atol) -> np.ndarray:
    """The pass rule of a gradient check: :func:`agree` at the tolerance's ``rtol``."""
    return agree(analytic, numeric, tol.rtol, atol)


def relative_error(analytic: np.ndarray, numeric: np.ndarray, atol: float) -> np.ndarray:
    """Elementwise |a - n| / max(|a|, |n|, atol)."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), atol)
    with np.errstate(invalid="ignore"):
        return np.abs(analytic - numeric) / scale


def noise_floor(loss_value: float, step: float, dtype) -> float:
    """The name the gradient check uses for :func:`difference_noise`."""
    return difference_noise(loss_value, step, dtype)


def least_precise(dtypes: Iterable) -> np.dtype:
    """The least precise of ``dtypes``: it sets the bar for every comparison of a check."""
    return precision_of(list(dtypes))
