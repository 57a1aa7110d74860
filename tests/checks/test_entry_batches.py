"""How many perturbed entries a loss in another process evaluates per round trip."""

from __future__ import annotations

import numpy as np

from gradcheck.checks.evaluation import (
    ENTRY_BATCH,
    ENTRY_BATCH_LIMITS,
    ENTRY_BATCH_SECONDS,
    LossEvaluator,
    _next_batch,
)


def test_a_cheap_loss_gets_larger_round_trips_up_to_four_times_the_last():
    # 256 entries in 10 ms: 0.5 s would take 12,800; growth is capped at 4x per round trip
    assert _next_batch(256, 256, 0.01) == 1024
    assert _next_batch(4096, 4096, 0.01) == ENTRY_BATCH_LIMITS[1]


def test_an_expensive_loss_gets_round_trips_of_about_the_target_time():
    # 256 entries in 2 s: 64 entries take the target 0.5 s
    assert _next_batch(256, 256, 2.0) == int(ENTRY_BATCH_SECONDS * 256 / 2.0)
    assert _next_batch(256, 256, 1e3) == ENTRY_BATCH_LIMITS[0]


def test_a_round_trip_that_did_nothing_keeps_the_size():
    assert _next_batch(300, 0, 0.0) == 300


class _CountingRemote:
    """A stand-in for a loss in another process: evaluates f(x) = sum(x) at each entry and
    records each round trip's size."""

    def __init__(self, array):
        self.array, self.sizes = array, []

    def entry_values(self, array, indices, plus, minus):
        self.sizes.append(len(indices))
        base = float(array.sum())
        flat = array.reshape(-1)
        return base - flat[indices] + plus, base - flat[indices] + minus, None

    def __call__(self):
        return float(self.array.sum())


def test_every_entry_is_evaluated_once_whatever_the_round_trip_sizes():
    array = np.arange(5000, dtype=np.float64)
    remote = _CountingRemote(array)
    evaluator = LossEvaluator(remote)
    indices = np.arange(array.size)
    f_plus, f_minus = evaluator.entry_values(array, indices, array + 1.0, array - 1.0)
    assert sum(remote.sizes) == array.size
    assert remote.sizes[0] == ENTRY_BATCH
    np.testing.assert_array_equal(f_plus - f_minus, np.full(array.size, 2.0))
    assert evaluator.calls == 2 * array.size
