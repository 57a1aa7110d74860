"""Which entries of a parameter to check, and which directions to probe it along."""

from __future__ import annotations

import numpy as np


def sample_indices(size: int, samples: int, rng: np.random.Generator) -> np.ndarray:
    """``samples`` distinct flat indices out of ``size`` (all of them if samples >= size), sorted."""
    if samples >= size:
        return np.arange(size)
    return np.sort(rng.choice(size, size=samples, replace=False))


def rademacher_directions(shape: tuple, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` random directions with entries +-1/sqrt(n): unit length, every entry involved.

    Every entry carries the same weight, so a single wrong entry still moves v.g.
    """
    n = int(np.prod(shape)) if shape else 1
    return [rng.choice([-1.0, 1.0], size=shape) / np.sqrt(n) for _ in range(count)]
