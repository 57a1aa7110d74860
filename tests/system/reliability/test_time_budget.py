"""The full-mode time guard refuses only checks that are slow on every timed call."""

from __future__ import annotations

from unittest import mock

import pytest

from gradcheck import check_gradients
from gradcheck.checks.evaluation import RETIMED_CALLS, TIMED_CALLS
from gradcheck.errors import CheckTooSlowError
from tests.system.reliability.helpers import quadratic_problem


class ScriptedClock:
    """Stands in for time.perf_counter: timed call k appears to take ``durations[k]`` seconds.

    A timed call reads the clock twice (start, end); calls past the script take the last duration.
    """

    def __init__(self, durations: list[float]):
        self.durations, self.readings, self.now = durations, 0, 0.0

    def __call__(self) -> float:
        call, is_end = divmod(self.readings, 2)
        self.readings += 1
        if is_end:
            self.now += self.durations[min(call, len(self.durations) - 1)]
        return self.now


def _check_with(durations: list[float]):
    loss, params, grads = quadratic_problem(shape=(40, 5))
    with mock.patch("gradcheck.checks.evaluation.perf_counter", ScriptedClock(durations)):
        return check_gradients(loss, params, grads, max_seconds=60), loss


@pytest.mark.parametrize("slow_calls", [1, TIMED_CALLS, TIMED_CALLS + RETIMED_CALLS - 1])
def test_a_few_slow_calls_on_a_busy_machine_do_not_refuse_a_quick_check(slow_calls):
    # 440 evaluations at 10 s would be refused; one fast call among the retimed ones shows
    # the check takes 440 ms.
    result, _ = _check_with([10.0] * slow_calls + [1e-3])
    assert result.passed
    assert result.n_loss_evals >= 2 * (40 * 5 + 5)


def test_every_timed_call_slow_refuses_after_retiming():
    with pytest.raises(CheckTooSlowError) as caught:
        _check_with([10.0])
    assert caught.value.seconds_per_evaluation == pytest.approx(10.0)
    assert caught.value.evaluations == 2 * (40 * 5 + 5)


def test_retiming_happens_only_when_the_first_estimate_is_over_budget():
    loss, params, grads = quadratic_problem(shape=(40, 5))
    calls = []

    def counted_loss():
        calls.append(1)
        return loss()

    with mock.patch("gradcheck.checks.evaluation.perf_counter", ScriptedClock([1e-3])):
        result = check_gradients(counted_loss, params, grads, max_seconds=60)
    assert len(calls) == result.n_loss_evals
    assert len(calls) == TIMED_CALLS + 2 * (40 * 5 + 5)
    assert result.passed
