"""Every submission in its own worker: loops, exits, segfaults and huge allocations stay contained."""

from __future__ import annotations

import os
import sys

import pytest

from gradcheck.errors import InvalidArgumentError
from gradcheck.frontends.isolation import Limits, Outcome, run_isolated
from tests.system.safety.submissions import KINDS, check_submission, write_folder

posix = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and ctypes segfault on Linux")


@pytest.mark.slow
@posix
def test_a_folder_of_submissions_gets_one_right_outcome_each(tmp_path):
    submissions = write_folder(tmp_path / "subs", len(KINDS))
    seen = []
    outcomes = run_isolated(check_submission, [t for t, _ in submissions], workers=2,
                            limits=Limits(seconds=10, memory_mb=1024), on_done=seen.append)
    assert [o.target for o in outcomes] == [t for t, _ in submissions]
    assert sorted(o.target for o in seen) == sorted(o.target for o in outcomes)
    got = {kind: outcome for (_, kind), outcome in zip(submissions, outcomes)}
    for kind, (_, status, passed) in KINDS.items():
        outcome = got[kind]
        assert outcome.status == status, (kind, outcome.message, outcome.output[-800:])
        if passed is not None:
            assert outcome.result["passed"] is passed, (kind, outcome.result)
    assert got["buggy"].result["wrong"] == ["W1"]
    assert got["infinite_loop"].message == "timed out after 10 s"
    assert got["os_exit"].exit_code == 3 and got["os_exit"].message.startswith("exited with code 3")
    assert got["segfault"].signal == 11 and "SIGSEGV" in got["segfault"].message
    assert "Fatal Python error" in got["segfault"].output  # faulthandler's traceback is kept
    assert "the network called sys.exit(0) in loss, student_" in got["sys_exit_in_loss"].message
    assert "the target called sys.exit('bye') at import" in got["sys_exit_at_import"].message
    assert "sys.exit(0) in the factory" in got["sys_exit_in_factory"].message
    assert got["large_allocation"].message.startswith("exceeded the memory limit of 1024 MiB")


def _echo(target):
    print("printed by", target)
    return {"target": target, "pid": os.getpid()}


def _unpicklable(target):
    return {"f": lambda: None}


def test_results_come_back_in_order_from_separate_processes():
    outcomes = run_isolated(_echo, ["a", "b", "c"], workers=2)
    assert [o.result["target"] for o in outcomes] == ["a", "b", "c"]
    assert len({o.result["pid"] for o in outcomes} | {os.getpid()}) == 4
    assert [o.output for o in outcomes] == ["printed by a\n", "printed by b\n", "printed by c\n"]
    assert outcomes[0].to_dict()["status"] == "ok"


def test_a_result_that_does_not_pickle_is_an_error_outcome():
    (outcome,) = run_isolated(_unpicklable, ["x"], workers=1)
    assert outcome.status == "error" and "could not be sent back" in outcome.message


def test_no_targets_no_outcomes():
    assert run_isolated(_echo, [], workers=1) == []


@pytest.mark.parametrize("kwargs, argument", [
    ({"workers": 0}, "workers"), ({"workers": 1.5}, "workers"), ({"job": "check"}, "job"),
])
def test_bad_arguments_name_themselves(kwargs, argument):
    options = {"job": _echo, "targets": ["a"], **kwargs}
    with pytest.raises(InvalidArgumentError, match=f"^{argument}: "):
        run_isolated(options.pop("job"), options.pop("targets"), **options)


@pytest.mark.parametrize("kwargs, argument", [
    ({"seconds": 0}, "seconds"), ({"seconds": float("nan")}, "seconds"),
    ({"memory_mb": -1}, "memory_mb"), ({"memory_mb": 1.5}, "memory_mb"),
])
def test_bad_limits_name_themselves(kwargs, argument):
    with pytest.raises(InvalidArgumentError, match=f"^{argument}: "):
        Limits(**kwargs)


def test_outcome_is_plain_data():
    outcome = Outcome(target="t", status="crashed", message="crashed: signal 11 (SIGSEGV)", signal=11)
    assert not outcome.ok
    assert outcome.to_dict()["signal"] == 11
