"""A folder of 50 generated submissions checked in isolated workers, two at a time.

Run with ``pytest tests/benchmarks/test_isolated_submissions.py --benchmark-only``. The wall
time is one round of :func:`gradcheck.frontends.isolation.run_isolated` over every submission (correct,
buggy, looping, exiting, crashing, allocating), each with a 10 s and 1 GiB limit.
"""

from __future__ import annotations

import sys

import pytest

from gradcheck.frontends.isolation import Limits, run_isolated
from tests.system.safety.submissions import KINDS, check_submission, write_folder

COUNT = 50


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and ctypes segfault on Linux")
def test_fifty_submissions_on_two_workers(benchmark, tmp_path):
    submissions = write_folder(tmp_path / "subs", COUNT)
    targets = [target for target, _ in submissions]
    outcomes = benchmark.pedantic(run_isolated, args=(check_submission, targets),
                                  kwargs={"workers": 2, "limits": Limits(seconds=10, memory_mb=1024)},
                                  rounds=1, iterations=1)
    benchmark.extra_info["submissions"] = COUNT
    benchmark.extra_info["workers"] = 2
    wrong = []
    for (_, kind), outcome in zip(submissions, outcomes):
        _, status, passed = KINDS[kind]
        if outcome.status != status or (passed is not None and outcome.result["passed"] is not passed):
            wrong.append((kind, outcome.status, outcome.message))
    assert wrong == []
