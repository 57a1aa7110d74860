"""Environment capture for reproducibility."""

from __future__ import annotations

import json

import numpy as np

from gradcheck.frontends.environment import collect_environment


def test_records_versions_seed_dtype_and_command():
    env = collect_environment(seed=7, dtype=np.float32, argv=["gradcheck", "report", "my net.py:x"])
    assert env["numpy"] == np.__version__
    assert env["seed"] == "7" and env["dtype"] == "float32"
    assert env["command"] == "gradcheck report 'my net.py:x'"  # copy-pasteable into a shell
    assert env["python"].split()[-1].count(".") == 2
    assert env["blas"]
    assert json.loads(json.dumps(env)) == env


def test_without_command_line_fields_are_empty_not_missing():
    env = collect_environment(seed=None, dtype=None, argv=None)
    assert (env["seed"], env["dtype"], env["command"]) == ("", "", "")
