"""The one numeric model: precision, rounding, tolerances and the pass rule, for every check.

Every check and probe asks this module how precise a number can be, so no two parts of gradcheck
can disagree about the same numbers.

**Precision** is that of the least precise floating dtype among what a computation touched
(:func:`precision_of`): float32 parameters under a float64 input still round like float32, and a
float32 loss value like float32, whatever the parameters.

**Measured precision** (:class:`LossPrecision`, :func:`measured_precision`). A gradient check is
judged by the precision its loss actually has, not by its parameters' dtype: float32 parameters
read by a loss that upcasts (float64 inputs, a ``np.sqrt`` of a Python number) are judged as a
float64 computation, and a float32 loss by the rounding it really shows. The rounding is
measured from the loss itself, sampled at 7 equally spaced points around a few entries: the 6th
difference of a smooth function over a small spacing is about 0, so what is left is rounding,
with standard deviation ``sigma = |D6| / sqrt(924)``. The loss computes in the most precise dtype
whose rounding covers ``sigma`` (``sigma <= 2 eps max(|L|, 1)``), never more precise than the
dtype of the value it returns; its rounding is then ``max(16 sigma, 2 eps max(|L|, 1))`` below
float64, and :func:`rounding` in float64 (as before).

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


#: Float dtypes from the most precise down: a measured rounding picks the first that covers it.
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16))
#: Standard deviations of measured rounding a difference's noise allowance spans.
NOISE_MARGIN = 16
#: Machine epsilons per unit of loss a loss computed in a dtype rounds to, at the most.
COVER_UNITS = 2
#: Points sampled around an entry to measure the loss's rounding: 7 give one 6th difference.
STENCIL = 7
#: sum of the squared binomial coefficients of a 6th difference: its variance over pure noise.
_D6_VARIANCE = 924.0


@dataclass(frozen=True)
class LossPrecision:
    """The precision a loss computes in, and the rounding its value carries.

    Attributes
    ----------
    dtype : np.dtype
        The dtype the loss computes in, as measured (or the parameters' when not measured).
    rounding : float
        Absolute rounding of the loss value (loss units): what each loss call may be off by.
    sigma : float or None
        The measured standard deviation of that rounding; None when it was not measured.
    returned : np.dtype or None
        The float dtype of the values the loss returned (None for Python floats).
    """

    dtype: np.dtype
    rounding: float
    sigma: float | None = None
    returned: np.dtype | None = None

    def noise(self, step: float) -> float:
        """What a difference of the loss over ``step`` can carry from its rounding alone."""
        return self.rounding / step

    def spread(self, step: float) -> float:
        """The standard deviation of a one-sided difference over ``step`` from rounding alone:
        ``sqrt(2) sigma / step``, with sigma the rounding over :data:`NOISE_MARGIN` (at least the
        measured sigma, and at least an eighth of an epsilon of the loss)."""
        return float(np.sqrt(2.0)) * (self.rounding / NOISE_MARGIN) / step

    @property
    def name(self) -> str:
        return np.dtype(self.dtype).name

    def describe(self) -> str:
        """E.g. ``"float64 (measured rounding 1.1e-16 of a loss of 1.09)"``, for notes."""
        if self.sigma is None:
            return self.name
        return f"{self.name} (measured rounding {self.sigma:.2g})"

    @classmethod
    def modelled(cls, loss_value: float, dtype, returned=None) -> LossPrecision:
        """The model's precision for ``dtype``, unmeasured: :func:`rounding` of the loss."""
        dtype = np.dtype(dtype)
        return cls(dtype, float(rounding(loss_value, dtype)), None, returned)


def sixth_difference_noise(values, points=None) -> float:
    """Standard deviation of the rounding in 7 loss values: the 6th difference of a smooth
    function is about 0, of independent noise ``sigma * sqrt(924)``.

    ``points`` are where the values were taken (default: equally spaced). Points that are not
    exactly equally spaced (a step rounded to the parameters' dtype) are allowed for with the
    6th divided difference, scaled to the mean spacing.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size != STENCIL or not np.all(np.isfinite(values)):
        return float("nan")
    if points is None:
        return abs(float(np.diff(values, 6)[0])) / float(np.sqrt(_D6_VARIANCE))
    x = np.asarray(points, dtype=np.float64)
    spacing = (x[-1] - x[0]) / (STENCIL - 1)
    if not np.all(np.diff(x) > 0):
        return float("nan")
    table = values.copy()
    for order in range(1, STENCIL):
        table = (table[1:] - table[:-1]) / (x[order:] - x[:-order])
    return abs(float(table[0])) * 720.0 * spacing ** 6 / float(np.sqrt(_D6_VARIANCE))


def moved_enough(values, loss_value: float, dtype) -> bool:
    """True when 7 sampled loss values span enough of ``dtype``'s resolution (1024 of its
    epsilons) that a computation in it would show its rounding among them."""
    values = np.asarray(values, dtype=np.float64)
    return bool(np.ptp(values) >= 1024 * eps_of(dtype) * max(abs(loss_value), 1.0))


def _values_and_points(sample):
    """A sample is 7 loss values, or a pair (values, points)."""
    if isinstance(sample, tuple):
        return sample[0], sample[1]
    return sample, None


def measured_precision(samples, loss_value: float, narrow, returned=None, *,
                       needed: int = 3) -> LossPrecision:
    """The loss's precision from ``samples`` (each 7 loss values around one entry, or a pair
    ``(values, points)``; see :func:`sixth_difference_noise`), for parameters of dtype ``narrow``.

    Samples that did not move enough to show ``narrow``'s rounding say nothing; with fewer than
    ``needed`` informative ones the precision is the model's for the least precise of ``narrow``
    and ``returned``. Otherwise ``sigma`` is their largest (their second largest from 3 on: one
    kink crossed inflates one sample), the dtype the most precise one whose
    rounding covers it (:data:`COVER_UNITS` eps per unit of loss), and never more precise than
    ``returned``.
    """
    scale = max(abs(float(loss_value)), 1.0)
    narrow = np.dtype(narrow)
    returned = None if returned is None else np.dtype(returned)
    ceiling = least_precise([d for d in (narrow, returned) if d is not None])
    useful = [sixth_difference_noise(*_values_and_points(v)) for v in samples
              if moved_enough(_values_and_points(v)[0], loss_value, narrow)]
    useful = [s for s in useful if np.isfinite(s)]
    if not useful or len(useful) < needed:
        return LossPrecision.modelled(loss_value, ceiling, returned)
    sigma = float(sorted(useful)[-2] if len(useful) >= 3 else max(useful))
    values = np.concatenate([np.asarray(_values_and_points(v)[0], dtype=np.float64) for v in samples])
    # a loss more precise than its parameters must show it: digits beyond theirs in its values,
    # and some rounding (exact arithmetic, a piecewise-linear loss, shows none in any dtype)
    wider = sigma > 0 and not np.all(values.astype(np.dtype(narrow)).astype(np.float64) == values)
    if not wider:
        return LossPrecision(ceiling, max(NOISE_MARGIN * sigma, COVER_UNITS * eps_of(ceiling) * scale),
                             sigma, returned)
    found = next((d for d in FLOAT_DTYPES if sigma <= COVER_UNITS * eps_of(d) * scale), FLOAT_DTYPES[-1])
    # never more precise than the value returned, never less than the parameters' (a noisier
    # loss keeps their tolerance and gets its measured rounding)
    found = least_precise([found, returned]) if returned is not None else found
    if eps_of(found) > eps_of(ceiling):
        found = ceiling
    if found == np.dtype(np.float64):
        return LossPrecision(found, float(rounding(loss_value, found)), sigma, returned)
    return LossPrecision(found, max(NOISE_MARGIN * sigma, COVER_UNITS * eps_of(found) * scale),
                         sigma, returned)


def noise_floor(loss_value: float, step: float, dtype) -> float:
    """The name the gradient check uses for :func:`difference_noise`."""
    return difference_noise(loss_value, step, dtype)


def least_precise(dtypes: Iterable) -> np.dtype:
    """The least precise of ``dtypes``: it sets the bar for every comparison of a check."""
    return precision_of(list(dtypes))
