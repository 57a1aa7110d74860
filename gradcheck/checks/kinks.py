"""Kinks: entries where the finite difference straddles a point where the loss is not smooth.

At ReLU's 0 the left and right derivatives differ, so a central difference averages them and
disagrees with any analytic subgradient. That is not a bug. An entry counts as a kink when
(1) its one-sided differences disagree with each other, and (2) the analytic value lies
between them (within tolerance): the analytic gradient picked one side, as it should.
A wrong gradient that happens to sit near a kink is not excused unless both hold.

Before that test, failing entries are re-differenced at steps shrinking tenfold
(:func:`shrinking_steps`): a kink at a distance d from the point is out of reach of any step
below d, and there the difference is the exact derivative, kinks or not.
"""

from __future__ import annotations

import numpy as np

from gradcheck.numeric.model import agree, bound

#: Decades the step may shrink by below the default cbrt(eps) step, per dtype: float64's 6e-6
#: reaches 6e-12, where the loss's rounding (32 eps |L| / h) is about 1e-3 per unit loss;
#: float32's rounding is already that large one decade below its 5e-3.
SHRINK_DECADES = {np.dtype(np.float64): 6, np.dtype(np.float32): 1, np.dtype(np.float16): 1}


def shrinking_steps(step_base: float, dtype) -> list[float]:
    """Relative steps ``step_base / 10^k`` for k = 1 .. the dtype's :data:`SHRINK_DECADES`.

    The caller drops an entry from the sweep once the loss's rounding at that step reaches
    1% of the entry's size (see :func:`gradcheck.numeric.model.noise_floor`).
    """
    decades = SHRINK_DECADES.get(np.dtype(dtype), 1)
    return [step_base / 10.0 ** k for k in range(1, decades + 1)]


def kink_mask(
    analytic: np.ndarray,
    forward: np.ndarray,
    backward: np.ndarray,
    rtol: float,
    atol: float | np.ndarray,
) -> np.ndarray:
    """Boolean mask over entries: True where the difference straddles a kink.

    All arrays have shape (k,): analytic values and the one-sided differences at the same entries;
    ``atol`` may be one per entry (the rounding of the step each entry's differences came from).
    """
    jumps = ~agree(forward, backward, 2 * rtol, 2 * atol)  # the two sides disagree, by twice the rule
    margin = bound(forward, backward, rtol, atol)
    with np.errstate(invalid="ignore"):
        lo = np.minimum(forward, backward)
        hi = np.maximum(forward, backward)
        between = (analytic >= lo - margin) & (analytic <= hi + margin)
    return jumps & between & np.isfinite(forward) & np.isfinite(backward)
