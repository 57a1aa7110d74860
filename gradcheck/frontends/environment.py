"""What a run needs to be reproduced: versions of Python, NumPy, BLAS, the seed, the dtype.

Only the command line reads ``sys.argv``; it passes it here as ``argv``.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import platform
import shlex
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import numpy as np


def _blas_from_numpy() -> str | None:
    """BLAS named by NumPy's build configuration (NumPy >= 1.25), e.g. ``"scipy-openblas 0.3"``."""
    try:
        # show_config prints as well as returning the dicts; keep it quiet
        with contextlib.redirect_stdout(io.StringIO()):
            config = np.show_config(mode="dicts")
    except TypeError:  # NumPy < 1.25 has no mode argument
        return None
    if not isinstance(config, dict):
        return None
    blas = config.get("Build Dependencies", {}).get("blas", {})
    name = blas.get("name")
    if not name:
        return None
    version = blas.get("version")
    return f"{name} {version}" if version else str(name)


def _blas_from_threadpoolctl() -> str | None:
    """BLAS actually loaded at run time, with its thread count, when threadpoolctl is installed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not libs:
        return None
    return ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                     for i in libs)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def cpu_model() -> str:
    """The processor's model name (Linux's ``/proc/cpuinfo``), else what :mod:`platform` knows:
    the machine a measured time belongs to."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def collect_environment(*, seed: int | None, dtype: Any,
                        argv: Sequence[str] | None) -> dict[str, Any]:
    """Versions and settings needed to reproduce a run, as a JSON-safe dict of strings.

    Parameters
    ----------
    seed : int or None
        Seed the run used.
    dtype : NumPy dtype or name, or None
        Floating dtype of the data and parameters, e.g. ``"float64"``.
    argv : sequence of str or None
        The command line as the CLI received it (``sys.argv``); None when not run from one.

    Returns
    -------
    dict
        Keys ``python``, ``numpy``, ``blas`` (the BLAS loaded at run time per threadpoolctl,
        else the one NumPy was built with, else ``"unknown"``), ``platform``, ``gradcheck``,
        ``seed``, ``dtype``, ``command`` (argv joined with shell quoting), ``executable``, and
        ``created``: when, as an ISO 8601 UTC timestamp (the one line two identical runs differ in).
    """
    blas = _blas_from_threadpoolctl() or _blas_from_numpy() or "unknown"
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": np.__version__,
        "blas": blas,
        "platform": platform.platform(),
        "gradcheck": _version("gradcheck"),
        "seed": "" if seed is None else str(seed),
        "dtype": "" if dtype is None else np.dtype(dtype).name,
        "command": "" if argv is None else shlex.join([str(a) for a in argv]),
        "executable": sys.executable,
        "created": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
    }
