"""Several targets through a dask.distributed ``LocalCluster``: the same suites as on this machine's workers.

A correct, a buggy, an exiting and a verdict-forging submission are checked by ``run_many`` twice,
once on its own workers and once through the executor of a two-worker ``LocalCluster``, each
target still in its own child on the cluster's worker; the two documents must be the same once
the clock and memory readings are set aside. (``pip install gradcheck[dask]``; CI runs it in
the ``dask`` tox environment.)
"""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest

from gradcheck.frontends.isolation import Limits
from gradcheck.frontends.many import run_many
from tests.system.safety.submissions import write_hostile, write_submission

#: What differs between two runs of the same batch on any machine: when, how long, how much memory.
READINGS = frozenset({"created", "seconds", "peak_mb"})


#: A memory address in a target's output (a crash's traceback names its threads by address).
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def comparable(document: Any) -> Any:
    """``document`` (a suite's JSON) without its clock and memory readings, and with the memory
    addresses in its text set aside."""
    if isinstance(document, dict):
        return {key: comparable(value) for key, value in document.items() if key not in READINGS}
    if isinstance(document, list):
        return [comparable(value) for value in document]
    if isinstance(document, str):
        return ADDRESS.sub("0x...", document)
    return document


def dask_executor_run(targets, **arguments):
    """``run_many(targets, **arguments)`` through a two-worker dask ``LocalCluster``: its suite."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed "
                                                            "(pip install gradcheck[dask])")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        return run_many(targets, executor=client.get_executor(), **arguments)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the targets' children use Linux's process controls")
def test_a_dask_cluster_gives_the_same_suites_as_local_workers(tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install gradcheck[dask])")
    targets = [write_submission(tmp_path, "a_correct", "correct"), write_submission(tmp_path, "b_buggy", "buggy"),
               write_submission(tmp_path, "c_os_exit", "os_exit"),
               write_hostile(tmp_path, "d_forges", "patches_gradcheck_at_import")]
    arguments = {"command": "check", "options": {"mode": "directional"}, "limits": Limits(seconds=30, memory_mb=1024)}
    local = run_many(targets, workers=2, **arguments)
    on_dask = dask_executor_run(targets, **arguments)
    assert [suite.verdict.label for suite in on_dask.targets] == ["passed", "failed", "not checked", "failed"]
    assert comparable(on_dask.to_dict()) == comparable(local.to_dict())
