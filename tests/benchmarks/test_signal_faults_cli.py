"""Hundreds of SIGTERMs and double Ctrl-Cs sent to ``gradcheck check`` subprocesses.

Run with ``pytest tests/benchmarks/test_signal_faults_cli.py --benchmark-only``: 300 runs of
the campaign of ``tests/frontends/test_signals_cli.py`` (memory-mapped parameter files, a
signal at a random seeded moment of the check); every file must come back bit for bit.
"""

from __future__ import annotations

import pytest

from tests.frontends.test_signals_cli import _campaign

RUNS = 300


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGKILL"), reason="POSIX signals")
def test_three_hundred_signalled_cli_runs(benchmark, tmp_path):
    results = benchmark.pedantic(_campaign, args=(tmp_path, RUNS, 1600), rounds=1, iterations=1)
    benchmark.extra_info["runs"] = RUNS
    assert [r for r in results if r[2] or r[1] == 0] == []
