"""Hundreds of SIGTERMs and double Ctrl-Cs sent to ``gradcheck check`` subprocesses.

Run with ``pytest tests/benchmarks/test_signal_faults_cli.py --benchmark-only``: 300 runs of
the campaign of ``tests/system/frontends/test_signals_cli.py`` (memory-mapped parameter files, a
signal at a seeded random loss call of the check); every file must come back bit for bit and
every run must end with its signal's status.
"""

from __future__ import annotations

import pytest

from tests.system.frontends.test_signals_cli import KINDS, _campaign

RUNS = 300


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGKILL"), reason="POSIX signals")
def test_three_hundred_signalled_cli_runs(benchmark, tmp_path):
    runs = benchmark.pedantic(_campaign, args=(tmp_path, RUNS, 1600), rounds=1, iterations=1)
    benchmark.extra_info["runs"] = RUNS
    wrong = [str(run) for run in runs if run.changed or run.returncode != KINDS[run.kind][1]]
    assert wrong == []
