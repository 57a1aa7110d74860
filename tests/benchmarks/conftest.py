"""Benchmark fixtures: BLAS threads pinned per test, the MNIST split, and the machine's description.

Every benchmark runs with its BLAS (and PyTorch) thread count pinned by threadpoolctl: 1 thread
unless the test is parametrised with ``threads``. The count is written to ``extra_info``.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck.frontends.environment import cpu_model
from reference_net.data import load_mnist, train_test_split


def _param(request, name, default):
    callspec = getattr(request.node, "callspec", None)
    return callspec.params.get(name, default) if callspec is not None else default


@pytest.fixture(autouse=True)
def blas_threads(request, benchmark):
    """Pin BLAS threads (1 by default, else the test's ``threads`` parameter) for the whole test."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    threads = int(_param(request, "threads", 1))
    torch = sys.modules.get("torch")
    torch_threads = torch.get_num_threads() if torch is not None else None
    benchmark.extra_info["blas_threads"] = threads
    with threadpoolctl.threadpool_limits(limits=threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield threads
        finally:
            if torch is not None:
                torch.set_num_threads(torch_threads)


@pytest.fixture(scope="session")
def mnist_split():
    """The experiment's split: 4,000 training and 1,000 held-out rows, float64, seed 0."""
    X, y = load_mnist()
    return train_test_split(X, y, n_test=1000, seed=0)




def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    names = [
        f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')})"
        for info in threadpool_info()
        if info.get("user_api") == "blas" and "numpy" in str(info.get("filepath", ""))
    ]
    return names[0] if names else "unknown"


def _torch_version() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


def pytest_benchmark_update_machine_info(config, machine_info):
    """What the README's benchmark section prints about the machine."""
    machine_info["bench"] = {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
        "torch": _torch_version(),
    }


def pytest_collection_modifyitems(config, items):
    """PyTorch benchmarks run last: once its thread pool has started it competes with NumPy's BLAS threads.
    Each plain-loop benchmark runs right after reference_net's on the same network, dtype and batch
    (1 thread), so that the two see the same machine."""
    here = Path(__file__).parent
    items.sort(key=lambda item: item.path.parent == here and "torch" in item.name)
    plain = {item.name.replace("test_train_plain_loop[", "test_train_numpy[").rstrip("]") + "-1]": item
             for item in items if item.name.startswith("test_train_plain_loop[")}
    if plain:
        rest = [item for item in items if item not in plain.values()]
        items[:] = [placed for item in rest for placed in (item, plain.pop(item.name, None)) if placed is not None]
        items.extend(plain.values())
