"""Gradient clipping. Both functions return new arrays and never modify their input."""

from __future__ import annotations

import numpy as np


def clip_by_value(grads: dict, limit: float) -> dict:
    """Clip every gradient entry to [-limit, limit]."""
    if not limit > 0:
        raise ValueError(f"limit: must be > 0, got {limit}")
    return {name: np.clip(g, -limit, limit) for name, g in grads.items()}


def global_norm(grads: dict) -> float:
    """sqrt of the sum of squares of every gradient entry."""
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))


def clip_by_global_norm(grads: dict, max_norm: float) -> tuple[dict, float]:
    """Scale all gradients by max_norm / norm when their global norm exceeds max_norm.

    Returns (clipped gradients, the global norm before clipping). Direction is preserved.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm: must be > 0, got {max_norm}")
    norm = global_norm(grads)
    if not np.isfinite(norm) or norm <= max_norm:
        return {name: g.copy() for name, g in grads.items()}, norm
    scale = max_norm / norm
    return {name: g * scale for name, g in grads.items()}, norm
