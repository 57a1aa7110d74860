"""Finite differences of a scalar function of an array, entry by entry or along a direction.

``evaluate`` is a zero-argument callable returning the loss (a Python float) for the current
contents of the array. These loops are the checker's only per-entry Python: one set, one call,
one set, one call, one restore.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck.numeric.perturbation import EntryPerturber


@dataclass
class EntryDifferences:
    """Loss values around selected entries, and the derivative estimates they give.

    Arrays have one value per selected entry (shape (k,)); ``h_plus``/``h_minus`` are the
    steps actually applied, after rounding to the array's dtype.
    """

    indices: np.ndarray
    f_plus: np.ndarray
    f_minus: np.ndarray
    h_plus: np.ndarray
    h_minus: np.ndarray
    f0: float

    @property
    def unmoved(self) -> np.ndarray:
        """Entries whose moves left the loss bit for bit the same both ways: the loss does not
        depend on them at all (bool, (k,))."""
        return (self.f_plus == self.f0) & (self.f_minus == self.f0)

    @property
    def central(self) -> np.ndarray:
        """(f(x + h) - f(x - h)) / (h+ + h-): error O(h^2)."""
        return (self.f_plus - self.f_minus) / (self.h_plus + self.h_minus)

    @property
    def forward(self) -> np.ndarray:
        """(f(x + h) - f(x)) / h+: the right derivative when h is small."""
        return (self.f_plus - self.f0) / self.h_plus

    @property
    def backward(self) -> np.ndarray:
        """(f(x) - f(x - h)) / h-: the left derivative when h is small."""
        return (self.f0 - self.f_minus) / self.h_minus


def step_sizes(values: np.ndarray, base: float) -> np.ndarray:
    """h_i = base * max(1, |x_i|): relative for large entries, absolute near zero."""
    return base * np.maximum(1.0, np.abs(np.asarray(values, dtype=np.float64)))


def entry_differences(
    evaluate: Callable[[], float],
    array: np.ndarray,
    indices: np.ndarray,
    base: float,
    f0: float,
    on_entry: Callable[[int], None] | None = None,
    locate: Callable[[int], None] | None = None,
    parallel=None,
) -> EntryDifferences:
    """Central differences at the flat ``indices`` of ``array``, perturbing it in place.

    Each entry is restored from its saved original value (bit exact) before the next one,
    also when ``evaluate`` raises. ``locate(flat_index)`` is told which entry is about to move
    (so an error can name it); ``on_entry(k)`` is told when the k-th entry is done.
    ``parallel`` (a :class:`gradcheck.numeric.parallel.ParallelDifferences`) may compute the
    loss values in worker processes instead, leaving ``array`` untouched; the steps and the
    arithmetic are the same, so are the results, bit for bit. So may ``evaluate`` itself, when
    it has ``entry_values(array, indices, plus, minus, on_entry)`` (a loss running in another
    process, which moves its own copy of the entries and answers many points per round trip).
    """
    perturber = EntryPerturber(array)
    indices = np.asarray(indices, dtype=np.intp)
    originals = perturber.read(indices)
    h = step_sizes(originals, base).astype(array.dtype)
    plus = originals + h
    minus = originals - h
    batch = getattr(evaluate, "entry_values", None)
    values = batch(array, indices, plus, minus, on_entry) if batch is not None else None
    if values is None and parallel is not None:
        values = parallel.loss_values(array, indices, base, f0, on_entry)
    f_plus, f_minus = values if values is not None else _loss_values(
        evaluate, perturber, indices, plus, minus, originals, on_entry, locate)
    wide = originals.astype(np.float64)
    return EntryDifferences(
        indices=indices,
        f_plus=f_plus,
        f_minus=f_minus,
        h_plus=plus.astype(np.float64) - wide,
        h_minus=wide - minus.astype(np.float64),
        f0=f0,
    )


def _loss_values(evaluate, perturber, indices, plus, minus, originals, on_entry, locate):
    """The loop: f(x + h) and f(x - h) entry by entry, each entry restored before the next."""
    f_plus = np.empty(indices.size)
    f_minus = np.empty(indices.size)
    target = perturber.target
    # Per entry: two writes, two calls, one restore; scalars of the array's dtype, so bits are exact.
    for k, (i, key, up, down, orig) in enumerate(
        zip(indices.tolist(), perturber.keys(indices), plus, minus, originals)
    ):
        if locate is not None:
            locate(i)
        try:
            target[key] = up
            f_plus[k] = evaluate()
            target[key] = down
            f_minus[k] = evaluate()
        finally:
            target[key] = orig
        if on_entry is not None:
            on_entry(k)
    return f_plus, f_minus


def stencil_values(evaluate: Callable[[], float], array: np.ndarray, flat_index: int,
                   spacing: float, f0: float, locate: Callable[[int], None] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(values, points)``: the loss at ``x + k * spacing`` for k = -3 .. 3 around one entry x
    (``f0`` at k = 0), and the points actually taken (each rounded to the array's dtype).

    A spacing that is not a power of two makes the perturbed entries round like the check's own
    steps do, so the rounding measured is the one the differences meet. The entry is restored
    from its saved value (bit exact), also when ``evaluate`` raises.
    """
    perturber = EntryPerturber(array)
    key = perturber.keys(np.array([flat_index]))[0]
    original = perturber.target[key]
    values, points = np.empty(7), np.empty(7)
    if locate is not None:
        locate(int(flat_index))
    try:
        for k in range(-3, 4):
            moved = array.dtype.type(float(original) + k * spacing) if k else original
            points[k + 3] = float(moved)
            if k == 0:
                values[3] = f0
                continue
            perturber.target[key] = moved
            values[k + 3] = evaluate()
    finally:
        perturber.target[key] = original
    return values, points


def richardson(coarse: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """Richardson extrapolation of central differences at h and h/2: error O(h^4)."""
    return (4.0 * fine - coarse) / 3.0


def directional_difference(
    evaluate: Callable[[], float], array: np.ndarray, direction: np.ndarray, h: float
) -> tuple[float, float, float]:
    """(f(x + h v) - f(x - h v)) / 2h for a direction v of the array's shape.

    Returns (derivative, f_plus, f_minus). The array is copied back to its original bits
    afterwards, also when ``evaluate`` raises.
    """
    original = array.copy()
    step = h * direction
    try:
        # x +- h v is written straight into the array, rounded to its dtype (no temporaries).
        np.add(original, step, out=array, casting="same_kind")
        f_plus = evaluate()
        np.subtract(original, step, out=array, casting="same_kind")
        f_minus = evaluate()
    finally:
        np.copyto(array, original)
    return (f_plus - f_minus) / (2.0 * h), f_plus, f_minus
