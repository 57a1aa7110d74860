"""Hundreds of interrupted checks on memory-mapped parameters (the normal suite runs 20).

Run with ``pytest tests/benchmarks/test_signal_faults.py --benchmark-only``. Each run starts a
child that checks gradients on np.memmap parameter files in a loop, sends SIGTERM and/or bursts
of SIGINT at a random moment, and compares every file with its original bytes.
"""

from __future__ import annotations

import signal

import pytest

from tests.system.safety.faults import SCENARIOS, run_campaign

RUNS = 300


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_interrupted_checks_leave_every_parameter_file_unchanged(benchmark, tmp_path):
    outcomes = benchmark.pedantic(run_campaign, args=(tmp_path, RUNS, 1616), rounds=1, iterations=1)
    benchmark.extra_info["runs"] = RUNS
    benchmark.extra_info["scenarios"] = {name: sum(o.scenario == name for o in outcomes)
                                         for name in SCENARIOS}
    changed = [(o.scenario, o.changed) for o in outcomes if o.changed]
    wrong_status = [(o.scenario, o.returncode) for o in outcomes
                    if o.returncode not in SCENARIOS[o.scenario][1]]
    assert changed == []
    assert wrong_status == []
