"""First-order tests along one line through the parameters: a gradient verdict without a
tolerance on the gradient itself.

Along a direction ``v`` the loss is ``phi(t) = L(x + t v)``. A right gradient ``g`` predicts
``phi(t) - phi(0) = t g.v + O(t^2)``, so the *ratio* ``(phi(t) - phi(-t)) / (2 t g.v)`` tends to
1 as ``t`` shrinks (error O(t^2) where the loss is smooth); a wrong one settles elsewhere. The
only threshold is the rounding floor of the loss, below which a difference of two loss values
says nothing. Pure functions: the caller measures the ratios.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from gradcheck.numeric.model import rounding

#: A ratio whose rounding noise is above this fraction is not used.
USABLE_NOISE = 0.05


def loss_rounding(loss_value: float, dtype) -> float:
    """Absolute rounding a loss computed in ``dtype`` may carry: a few eps per summed term.

    The same bound the finite differences use (see :func:`gradcheck.numeric.model.noise_floor`).
    """
    return float(rounding(loss_value, dtype))


@dataclass
class RatioSweep:
    """Ratios of measured to predicted loss change at shrinking steps.

    ``steps`` are the step lengths tried (largest first), ``ratios`` the measured change over the
    predicted one, ``noise`` the ratio's own rounding uncertainty at that step. ``verdict`` is
    ``"agrees"`` (some usable ratio is within rounding of 1), ``"disagrees"`` (the ratios settle
    away from 1 as the step shrinks) or ``"undecided"`` (they still move, or no step was usable).
    ``limit`` is the ratio at the smallest usable step (NaN when none was usable).
    """

    steps: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    noise: list[float] = field(default_factory=list)
    verdict: str = "undecided"
    limit: float = math.nan


def judge_ratios(steps: Sequence[float], ratios: Sequence[float], noise: Sequence[float],
                 *, agree: float = 0.05, settle: float = 0.25) -> RatioSweep:
    """Verdict on ratios measured at shrinking steps (see :class:`RatioSweep`).

    A ratio is usable when finite and its noise is at most :data:`USABLE_NOISE`. It agrees when
    ``|r - 1| <= agree + noise``. The sweep disagrees when the two smallest usable ratios are both
    further than ``2 * agree + noise`` from 1 and differ from each other by at most ``settle``
    times that distance: the limit is not 1, whatever the curvature.
    """
    sweep = RatioSweep(list(map(float, steps)), list(map(float, ratios)), list(map(float, noise)))
    usable = [(r, e) for r, e in zip(sweep.ratios, sweep.noise)
              if math.isfinite(r) and math.isfinite(e) and e <= USABLE_NOISE]
    if not usable:
        return sweep
    sweep.limit = usable[-1][0]
    if any(abs(r - 1.0) <= agree + e for r, e in usable):
        sweep.verdict = "agrees"
        return sweep
    if len(usable) >= 2:
        (r1, e1), (r2, e2) = usable[-2], usable[-1]
        far = min(abs(r1 - 1.0) - e1, abs(r2 - 1.0) - e2)
        if far > 2 * agree and abs(r1 - r2) <= settle * far + e1 + e2:
            sweep.verdict = "disagrees"
    return sweep


__all__ = ["RatioSweep", "judge_ratios", "loss_rounding"]
