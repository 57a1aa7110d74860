"""State the target does not hold is widened for the float64 copy and put back: module globals
(a character RNN's weights) and arrays its closures captured."""

import numpy as np
import pytest

from gradcheck.engine import check_target_gradients
from gradcheck.targets.widening import OutsideState, float64_copy
from tests.corpus.shapes import harness
from tests.corpus.shapes.catalogue import BUGS

X, Y = harness.PLACEHOLDER_BATCH


def _rnn(bug=None, **kwargs):
    target = harness.make("char_rnn", {"seed": 0, "dtype": np.float32, "bug": bug, **kwargs})
    return harness.ProtocolTarget(target), target.model


def test_module_globals_are_found_with_a_float64_twin_each():
    target, module = _rnn()
    outside = OutsideState(target)
    names = {key for container, key, _ in outside.slots if container is vars(module)}
    assert {"Wxh", "Whh", "Why", "bh", "by"} <= names
    assert all(twin.dtype == np.float64 for _, twin in outside.twins())


def test_the_copy_of_a_network_with_module_level_weights_is_the_same_network_in_float64():
    target, module = _rnn()
    before = {name: getattr(module, name) for name in ("Wxh", "Whh", "Why", "bh", "by")}
    bits = {name: array.tobytes() for name, array in before.items()}
    clone, _, _, why = float64_copy(target, X, Y)
    assert why == ""
    assert all(a.dtype == np.float64 for a in clone.params.values())
    assert clone.loss(X, Y) == pytest.approx(target.loss(X, Y), rel=1e-5)
    assert all(np.asarray(g).dtype == np.float64 for g in clone.gradients(X, Y).values())
    # put back: the very arrays, bit for bit, and float32
    for name, array in before.items():
        assert getattr(module, name) is array and array.tobytes() == bits[name]
        assert array.dtype == np.float32


def test_a_call_of_the_copy_that_raises_still_puts_the_globals_back():
    target, module = _rnn()
    clone, _, _, _ = float64_copy(target, X, Y)
    original = module.Whh
    real = module.lossFun

    def broken(*args):
        assert module.Whh.dtype == np.float64  # the twin, during the copy's call
        raise RuntimeError("boom")

    module.lossFun = broken
    try:
        with pytest.raises(RuntimeError):
            clone.loss(X, Y)
    finally:
        module.lossFun = real
    assert module.Whh is original


@pytest.mark.parametrize("bug", ["dby_not_accumulated", "dWxh_wrong_time_index", "missing_dhnext"])
def test_a_bug_in_a_float32_rnn_with_module_level_weights_fails_and_the_copy_is_used(bug):
    target, _ = _rnn(bug)
    result = check_target_gradients(target, X, Y)
    wrong = next(b.wrong for b in BUGS if b.id == f"char_rnn.{bug}")
    assert set(result.failed) == set(wrong), str(result)
    assert any("checked again on a float64 copy" in note for note in result.notes), result.notes


def test_a_correct_float32_rnn_with_module_level_weights_passes_on_its_copy_too():
    target, _ = _rnn()
    result = check_target_gradients(target, X, Y)
    assert result.passed, str(result)
    assert any("checked again on a float64 copy" in note for note in result.notes), result.notes
