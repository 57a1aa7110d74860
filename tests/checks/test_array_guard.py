"""ArrayGuard: the one snapshot-and-restore guard that checks run user code under."""

import numpy as np
import pytest

from gradcheck.checks.integrity import CRASH_NOTE, IMPURE_NOTE, ArrayGuard


def test_a_call_that_moves_an_array_stops_the_check_and_the_array_comes_back():
    W = np.arange(6.0).reshape(2, 3)
    before = W.copy()
    with ArrayGuard({"W": W, "b": np.zeros(3)}) as guard:
        W += 1.0
        guard.unchanged_by("loss")
        raise AssertionError("unreachable: unchanged_by stops the block")
    assert guard.stopped is not None
    assert [(f.kind, f.subject) for f in guard.stopped.findings] == [("mutation", "W")]
    assert "calling loss" in guard.stopped.findings[0].message
    assert guard.stopped.note == IMPURE_NOTE
    np.testing.assert_array_equal(W, before)


def test_an_untouched_block_runs_to_the_end_and_is_not_stopped():
    W = np.ones(4)
    with ArrayGuard({"W": W}) as guard:
        guard.unchanged_by("grads")
        reached = True
    assert reached and guard.stopped is None


def test_stop_carries_its_own_note():
    with ArrayGuard({"W": np.ones(2)}) as guard:
        guard.stop([], CRASH_NOTE)
    assert guard.stopped.note == CRASH_NOTE and guard.stopped.findings == []


def test_other_exceptions_propagate_after_the_restore():
    W = np.ones(3)
    with pytest.raises(KeyError):
        with ArrayGuard({"W": W}):
            W[0] = 7.0
            raise KeyError("user code")
    np.testing.assert_array_equal(W, np.ones(3))
