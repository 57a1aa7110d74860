"""SIGKILL of a check, of the command, of a target's process, of a worker, and --timeout: every
memory-mapped parameter file stays as it was (the benchmark kills 300 runs; this, one of each)."""

from __future__ import annotations

import signal
import sys

import pytest

from tests.system.safety.kills import SCENARIOS, kill_campaign

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="/proc and prctl")]

#: scenario -> the exit status of the killed run's first process, and words of its output
EXPECTED = {
    "check": (-signal.SIGKILL, ""),
    "parent": (-signal.SIGKILL, ""),
    "target": (2, "COULD NOT CHECK: crashed: signal 9 (SIGKILL)"),
    "worker": (2, "net.py:target"),
    "timeout": (2, "timed out after 3 s"),
}


def test_killed_at_a_random_call_every_parameter_file_is_as_it_was(tmp_path):
    runs = kill_campaign(tmp_path, runs=len(SCENARIOS), seed=16)
    for run in runs:
        assert run.reached, str(run)
        assert run.changed == [], str(run)
        assert run.left_running == [], str(run)
        status, words = EXPECTED[run.scenario]
        assert run.returncode == status and words in run.output, str(run)
    worker = next(run for run in runs if run.scenario == "worker")
    assert "passed      other.py:build" in worker.output, str(worker)
