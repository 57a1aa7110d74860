"""A hundred mixed submissions in one command on two workers, then the same batch on a dask cluster.

Run with ``pytest tests/benchmarks/test_mixed_submissions.py --benchmark-only``. The folder holds
every kind of ``tests/system/safety/submissions.py`` in turn, ten ordinary ones (correct, buggy,
raising, looping, exiting, crashing, allocating) and every hostile one (forging the verdict,
forking, detaching, killing, rewriting files, flooding the wire): ``gradcheck check
'subs/*.py:build' --mode directional --workers 2 --timeout 10 --memory 1024 --json all.json``.
Every row must carry its kind's verdict, no submission and no file of gradcheck may change, and
nothing the run started may be left. ``extra_info`` has the wall time and peak memory: the largest
resident set of any process of the run (the command, its workers, every target and what they
started, as the kernel counts them when they are reaped) and the targets' own peaks. With dask
installed, ``run_many`` then checks the same folder through a two-worker ``LocalCluster``: its
document must equal the command's once the clock and memory readings are set aside.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gradcheck
from gradcheck.frontends.isolation import Limits
from gradcheck.results import SuiteResult
from tests.system.frontends.helpers import ROOT
from tests.system.frontends.test_dask import comparable, dask_executor_run
from tests.system.frontends.test_many import EXPECTED
from tests.system.safety.submissions import HOSTILE, KINDS, write_folder
from tests.system.safety.test_hostile import _digests, _processes_in

COUNT = 100
ARGS = ("check", "subs/*.py:build", "--mode", "directional", "--workers", "2", "--timeout", "10",
        "--memory", "1024", "--json", "all.json")


def _expected(kind: str) -> tuple[str, str]:
    if kind in HOSTILE:
        return HOSTILE[kind][2], HOSTILE[kind][3]
    label, words = EXPECTED[kind]
    return label, words.split(" in ")[0]  # without the file's name the table of test_many gives


def _run(cwd: Path) -> tuple[int, str, float, float]:
    """The command's exit status, its output, its wall time (s) and the largest resident set of
    any of its processes (MiB: the command's own or that of a descendant it reaped)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    with open(cwd / "output.txt", "w+") as output:
        process = subprocess.Popen([sys.executable, "-m", "gradcheck", *ARGS], cwd=cwd, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        output.seek(0)
        return process.returncode, output.read(), wall, usage.ru_maxrss / 1024


@pytest.mark.skipif(sys.platform != "linux", reason="namespaces, cgroups and /proc are Linux's")
def test_a_hundred_mixed_submissions_on_two_workers(benchmark, tmp_path, monkeypatch):
    written = write_folder(tmp_path / "subs", COUNT, kinds=sorted(KINDS) + sorted(HOSTILE))
    submissions = {f"subs/{target.rsplit('/', 1)[-1]}": kind for target, kind in written}
    package = Path(gradcheck.__file__).parent
    before = _digests(tmp_path / "subs", package)
    status, output, wall, peak_mb = benchmark.pedantic(_run, args=(tmp_path,), rounds=1, iterations=1)
    assert status == 2, output[-2000:]
    document = json.loads((tmp_path / "all.json").read_text())
    rows = {suite.target: suite for suite in SuiteResult.from_dict(document).targets}
    verdicts = {target: (rows[target].verdict.label, rows[target].verdict.reason) for target in submissions}
    wrong = [(target, *verdicts[target]) for target, kind in submissions.items()
             if verdicts[target][0] != _expected(kind)[0] or _expected(kind)[1] not in verdicts[target][1]]
    targets_peak = [suite.worker["peak_mb"] for suite in rows.values()]
    benchmark.extra_info.update(submissions=COUNT, workers=2, kinds=len(KINDS) + len(HOSTILE),
                                wall_seconds=round(wall, 1), largest_process_peak_mb=round(peak_mb, 1),
                                largest_target_peak_mb=max(targets_peak),
                                sum_of_target_peaks_mb=round(sum(targets_peak), 1))
    assert wrong == []
    assert _digests(tmp_path / "subs", package) == before
    assert _processes_in(tmp_path) == []
    try:
        import distributed  # noqa: F401
    except ImportError:
        return
    monkeypatch.chdir(tmp_path)  # the command's names, subs/NAME.py:build, are relative to its folder
    on_dask = dask_executor_run(list(submissions), command="check", options={"mode": "directional"},
                                limits=Limits(seconds=10, memory_mb=1024))
    by_target = {suite["target"]: comparable(suite) for suite in document["targets"]}
    assert {suite["target"]: comparable(suite) for suite in on_dask.to_dict()["targets"]} == by_target
