"""A bounded slice of the false-alarm sweep (the full grid is scripts/false_alarm_table.py):
every correct network passes every check, every injected bug fails on its own parameter, every
bug written into a style's own code fails on exactly its parameters with a hint that fits."""

import numpy as np
import pytest

from tests.corpus.networks import STYLES
from tests.corpus.sweep import BUGS, CHECKS, NATIVE_BUGS, run_bug, run_check, run_native


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("style", list(STYLES))
def test_a_correct_network_passes_every_check(style, dtype):
    n, seed = (1, 1) if dtype == np.float32 else (8, 0)
    alarms = {}
    for check in CHECKS:
        status, message = run_check(check, style, n, seed, dtype)
        if status == "failed":
            alarms[check] = message
    assert alarms == {}


@pytest.mark.parametrize("dtype, n", [(np.float64, 8), (np.float32, 32)], ids=["float64", "float32"])
@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
@pytest.mark.parametrize("style", list(STYLES))
def test_an_injected_bug_fails_on_its_own_parameter(style, bug, dtype, n):
    # float32 at batch 32 is where the tiny-weight network's gradients sink below float32's
    # rounding: those bugs are found by the float64 re-check on a copy of the network
    status, named, kinds = run_bug(bug, style, n, 0, dtype)
    assert status == "failed" and named, kinds


@pytest.mark.parametrize("dtype, n", [(np.float64, 8), (np.float32, 32)], ids=["float64", "float32"])
@pytest.mark.parametrize("bug", NATIVE_BUGS, ids=[f"{b.style}-{b.name}" for b in NATIVE_BUGS])
def test_a_bug_written_in_the_styles_code_fails_on_its_parameters_with_a_hint_that_fits(bug, dtype, n):
    status, named, misfits, kinds = run_native(bug, n, 0, dtype)
    assert status == "failed" and named, kinds
    assert misfits == []


@pytest.mark.parametrize("mode", ["sample", "directional"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("bug", BUGS, ids=[b.name for b in BUGS])
def test_an_injected_bug_is_never_a_silent_pass_in_the_cheaper_modes(bug, dtype, mode):
    for style in STYLES:
        status, _, kinds = run_bug(bug, style, 8, 0, dtype, mode)
        assert status != "passed", (style, kinds)


@pytest.mark.parametrize("bug_name, n, seed", [("doubled", 2, 1), ("doubled", 8, 1), ("row_never_written", 8, 1)])
def test_a_direction_crossing_kinks_does_not_excuse_a_wrong_gradient(bug_name, n, seed):
    # these directions match a one-sided difference across a ReLU kink: only the entries,
    # checked one by one, tell the wrong gradient from a kink
    [bug] = [b for b in BUGS if b.name == bug_name]
    status, named, kinds = run_bug(bug, "deep_relu_near_kinks", n, seed, np.float64, "directional")
    assert status == "failed" and named, kinds


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_a_bug_a_projection_averages_away_is_found_by_the_entries(dtype):
    # at batch 2 batch norm's x-hat is +-(1 - eps/2var), so dgamma without it is off by ~0.1 % per
    # entry; the random directions average that to under the pass line, above the "good" one
    [bug] = [b for b in NATIVE_BUGS if b.name == "dgamma_without_xhat"]
    status, named, misfits, kinds = run_native(bug, 2, 0, dtype, "directional")
    assert status == "failed" and named, kinds
    assert misfits == []
