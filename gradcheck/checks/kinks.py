"""Kinks: entries where the finite difference straddles a point where the loss is not smooth.

At ReLU's 0 the left and right derivatives differ, so a central difference averages them and
disagrees with any analytic subgradient. That is not a bug. An entry counts as a kink when
(1) its one-sided differences disagree with each other, and (2) the analytic value lies
between them (within tolerance): the analytic gradient picked one side, as it should.
A wrong gradient that happens to sit near a kink is not excused unless both hold.
"""

from __future__ import annotations

import numpy as np


def kink_mask(
    analytic: np.ndarray,
    forward: np.ndarray,
    backward: np.ndarray,
    rtol: float,
    atol: float,
) -> np.ndarray:
    """Boolean mask over entries: True where the difference straddles a kink.

    All arrays have shape (k,): analytic values and the one-sided differences at the same entries.
    """
    with np.errstate(invalid="ignore"):
        gap = np.abs(forward - backward)
        size = np.maximum(np.abs(forward), np.abs(backward))
        jumps = gap > 2 * (atol + rtol * size)
        lo = np.minimum(forward, backward)
        hi = np.maximum(forward, backward)
        margin = atol + rtol * size
        between = (analytic >= lo - margin) & (analytic <= hi + margin)
    return jumps & between & np.isfinite(forward) & np.isfinite(backward)
