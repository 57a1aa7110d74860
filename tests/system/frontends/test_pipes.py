"""``gradcheck check | head``: the reader leaves early; gradcheck stops quietly, like a Unix tool."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.system.frontends.helpers import ROOT

pytestmark = [pytest.mark.slow,  # a subprocess
              pytest.mark.skipif(os.name != "posix", reason="SIGPIPE exit status")]


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "gradcheck", "check"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = child.stdout.readline()  # the header: then the reader goes, as `head -1` does
    child.stdout.close()
    err = child.stderr.read().decode()
    child.wait(timeout=120)
    assert first.startswith(b"checking ")
    assert child.returncode == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
