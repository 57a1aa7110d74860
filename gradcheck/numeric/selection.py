"""Which entries of a parameter to check, and which directions to probe it along."""

from __future__ import annotations

import numpy as np

#: Entries per parameter in "sample" mode when ``samples`` is not given.
DEFAULT_SAMPLES = 16


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


def planned_evaluations(sizes: list[int], mode: str, method: str, samples: int | None,
                        directions: int) -> int:
    """Loss calls a check will make after its two initial ones (follow-ups on failures excluded).

    ``sizes`` are the parameters' entry counts. Central differences cost 2 calls per entry,
    Richardson 4; a direction always costs 2.
    """
    if mode == "directional":
        return 2 * directions * len(sizes)
    per_entry = 4 if method == "richardson" else 2
    if mode == "full":
        return per_entry * sum(sizes)
    return per_entry * sum(min(samples or DEFAULT_SAMPLES, size) for size in sizes)



#: The checker's own work per loss call (write x + h, call through the counting evaluator,
#: restore x), measured at 1-3 µs; it matters only for losses of a few microseconds.
BOOKKEEPING_SECONDS = 3e-6
#: Starting, checking and stopping one worker process (fork, one loss call, join).
WORKER_START_SECONDS = 0.03


def planned_seconds(seconds_per_call: float, evaluations: int, workers: int = 1) -> float:
    """How long a check's ``evaluations`` loss calls take, ``workers`` at a time.

    Each call costs ``seconds_per_call`` (measured) plus the bookkeeping; the workers share the
    calls evenly (their total CPU time is within a few % of a serial run's) and each costs its
    start-up. Made for a machine whose cores are free: other processes slow every call alike.
    """
    seconds = evaluations * (seconds_per_call + BOOKKEEPING_SECONDS) / workers
    return seconds + (WORKER_START_SECONDS * workers if workers > 1 else 0.0)
