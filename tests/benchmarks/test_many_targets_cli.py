"""Fifty generated submissions checked by one ``gradcheck check`` command on two workers.

Run with ``pytest tests/benchmarks/test_many_targets_cli.py --benchmark-only``. The wall time
is the whole command: ``gradcheck check 'subs/*.py:build' --mode directional --workers 2
--timeout 10 --memory 1024 --json all.json`` over 50 submissions (correct, buggy, looping,
exiting, crashing, allocating: the kinds of ``tests/system/safety/submissions.py``, five of each).
"""

from __future__ import annotations

import sys

import pytest

from tests.system.frontends.helpers import gradcheck
from tests.system.frontends.test_many import EXPECTED, _targets
from tests.system.safety.submissions import write_folder

COUNT = 50


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and a ctypes segfault")
def test_fifty_submissions_in_one_command(benchmark, tmp_path):
    submissions = write_folder(tmp_path / "subs", COUNT)
    run = benchmark.pedantic(gradcheck, args=("check", "subs/*.py:build", "--mode", "directional",
                                              "--workers", "2", "--timeout", "10", "--memory",
                                              "1024", "--json", "all.json"),
                             kwargs={"cwd": tmp_path, "timeout": 900}, rounds=1, iterations=1)
    benchmark.extra_info.update(submissions=COUNT, workers=2)
    assert run.returncode == 2, run.stderr
    rows = _targets(tmp_path / "all.json")
    wrong = [(kind, rows[f"subs/{t.rsplit('/', 1)[-1]}"].verdict.headline) for t, kind in submissions
             if rows[f"subs/{t.rsplit('/', 1)[-1]}"].verdict.label != EXPECTED[kind][0]]
    assert wrong == []
