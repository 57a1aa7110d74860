"""Three hundred checks of memory-mapped parameter files, each SIGKILLed at a random loss call.

Run with ``pytest tests/benchmarks/test_kills.py --benchmark-only``: the scenarios of
``tests/system/safety/kills.py`` in turn (the Python API's process, the command's process, the
target's process, a worker of a two-target run, ``--timeout``), 60 runs of each, at seeded random
calls of the loss. Every parameter file must come back byte for byte, no process of the run may
be left, and the exit statuses are those of ``tests/system/safety/test_kills.py``.
"""

from __future__ import annotations

import sys
from collections import Counter

import pytest

from tests.system.safety.kills import kill_campaign
from tests.system.safety.test_kills import EXPECTED

RUNS = 300


@pytest.mark.skipif(sys.platform != "linux", reason="/proc and prctl")
def test_three_hundred_killed_checks_leave_every_file_as_it_was(benchmark, tmp_path):
    runs = benchmark.pedantic(kill_campaign, args=(tmp_path, RUNS, 2026), rounds=1, iterations=1)
    benchmark.extra_info.update(runs=RUNS, scenarios=dict(Counter(run.scenario for run in runs)),
                                files_changed=sum(bool(run.changed) for run in runs),
                                left_running=sum(len(run.left_running) for run in runs))
    wrong = [str(run) for run in runs
             if not run.reached or run.changed or run.left_running
             or run.returncode != EXPECTED[run.scenario][0] or EXPECTED[run.scenario][1] not in run.output]
    assert wrong == []
