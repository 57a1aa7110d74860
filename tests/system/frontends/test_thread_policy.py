"""One thread policy for every front end, the Python API included: one BLAS thread for the
duration of a check unless the environment sets a count, and the user's settings back after."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.system.frontends.helpers import ROOT

PROGRAM = r"""
import json, sys
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits
import gradcheck

def blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

seen = {}
W = np.ones((3, 2))

def loss():
    seen.setdefault("inside", blas_threads())
    return float(np.sum(W ** 2))

limit = int(sys.argv[1])
with threadpool_limits(limits=limit, user_api="blas"):  # the user's own setting
    seen["before"] = blas_threads()
    result = gradcheck.check_gradients(loss, {"W": W}, {"W": 2 * W})
    seen["after"] = blas_threads()
    seen["passed"] = result.passed
print(json.dumps(seen))
"""

BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _run(env_extra: dict[str, str], limit: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARIABLES}
    env.update(env_extra, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-c", PROGRAM, str(limit)], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def has_blas():
    from threadpoolctl import threadpool_info

    if not [i for i in threadpool_info() if i.get("user_api") == "blas"]:
        pytest.skip("no BLAS found by threadpoolctl")


def test_a_loss_inside_check_gradients_sees_one_blas_thread_and_the_users_setting_comes_back(has_blas):
    seen = _run({}, limit=2)
    assert seen["passed"]
    assert set(seen["before"]) == {2} and set(seen["inside"]) == {1} and set(seen["after"]) == {2}


def test_a_count_the_environment_sets_is_the_users_choice(has_blas):
    seen = _run({"OPENBLAS_NUM_THREADS": "2"}, limit=2)
    assert set(seen["inside"]) == {2}
