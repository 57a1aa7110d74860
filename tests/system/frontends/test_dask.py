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
from pathlib import Path
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


# -- the command line's --scheduler ------------------------------------------------------------------


def test_scheduler_without_dask_installed_is_one_message_naming_the_flag(tmp_path, monkeypatch):
    from tests.system.reliability.helpers import run_cli

    monkeypatch.setitem(sys.modules, "distributed", None)  # what an environment without dask imports
    targets = [write_submission(tmp_path, "a_correct", "correct"), write_submission(tmp_path, "b_buggy", "buggy")]
    out = run_cli(["check", "--scheduler", "tcp://127.0.0.1:8786", *targets, "--json", str(tmp_path / "x.json")])
    assert out.code == 2
    assert "--scheduler: got 'tcp://127.0.0.1:8786', but dask.distributed is not installed here" in out.stderr
    assert "pip install 'gradcheck[dask]'" in out.stderr
    assert not (tmp_path / "x.json").exists()


def test_a_scheduler_that_does_not_answer_is_one_message_naming_the_flag(tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install gradcheck[dask])")
    import socket

    from gradcheck.frontends import cluster
    from tests.system.reliability.helpers import run_cli

    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{free.getsockname()[1]}"
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2.0)
    targets = [write_submission(tmp_path, "a_correct", "correct"), write_submission(tmp_path, "b_buggy", "buggy")]
    out = run_cli(["check", "--scheduler", address, *targets])
    assert out.code == 2
    assert f"--scheduler: could not reach a dask scheduler at '{address}' within 2 s" in out.stderr
    assert "dask scheduler" in out.stderr


def test_workers_and_a_scheduler_together_are_refused(tmp_path):
    from tests.system.reliability.helpers import run_cli

    targets = [write_submission(tmp_path, "a_correct", "correct"), write_submission(tmp_path, "b_buggy", "buggy")]
    out = run_cli(["check", "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2", *targets])
    assert out.code == 2 and "--workers: with --scheduler the cluster's workers check the targets" in out.stderr


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the targets' children use Linux's process controls")
def test_the_command_line_checks_targets_on_a_scheduler_as_on_local_workers(tmp_path):
    import json

    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed "
                                                            "(pip install gradcheck[dask])")
    from tests.system.frontends.helpers import gradcheck as run_gradcheck

    write_submission(tmp_path, "a_correct", "correct")
    write_submission(tmp_path, "b_buggy", "buggy")
    (tmp_path / "layers.py").write_text((Path(__file__).resolve().parents[3] / "examples" /
                                         "course_layers_buggy.py").read_text())
    flags = ["a_correct.py:build", "b_buggy.py:build", "layers.py:*", "--mode", "directional", "--timeout", "60"]
    local = run_gradcheck("check", *flags, "--workers", "2", "--json", "local.json", cwd=tmp_path, timeout=300)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run_gradcheck("check", "--scheduler", cluster.scheduler_address, *flags, "--json",
                               "cluster.json", cwd=tmp_path, timeout=300)
    assert local.returncode == remote.returncode == 1, remote.stdout + remote.stderr
    assert f"on the dask cluster at {cluster.scheduler_address}" in remote.stdout
    on_cluster, here = (comparable(json.loads((tmp_path / name).read_text()))
                        for name in ("cluster.json", "local.json"))
    assert [t["verdict"]["status"] for t in on_cluster["targets"]] == ["passed", "failed", "failed"]
    for document in (on_cluster, here):
        document.pop("environment")
    assert on_cluster == here
