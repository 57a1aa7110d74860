"""One BLAS thread per process for a run of the checks, unless the user chose a count.

Two cores shared by a few processes, each with an OpenBLAS spinning two threads, make the
small products of a network many times slower, and unevenly so: the same full-mode check
then passes in 46 s, 32 s, or is refused by the time guard. With one thread it takes the
7-10 s the arithmetic needs. The front ends (command line, pytest plugin) read the
environment and call :func:`pin_blas`; nothing else here reads it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

#: Variables through which a user sets the BLAS thread count; any of them set wins.
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def user_blas_setting(environ: Mapping[str, str]) -> dict[str, str]:
    """The BLAS thread variables the user set (non-empty), in :data:`BLAS_VARIABLES` order."""
    return {name: environ[name] for name in BLAS_VARIABLES if environ.get(name, "").strip()}


def blas_line(environ: Mapping[str, str]) -> str:
    """The run header's BLAS line: what :func:`pin_blas` does with this environment."""
    chosen = user_blas_setting(environ)
    if chosen:
        return "BLAS: threads as set by " + ", ".join(f"{k}={v}" for k, v in chosen.items())
    return "BLAS: 1 thread (set OPENBLAS_NUM_THREADS to change)"


@contextlib.contextmanager
def pin_blas(environ: Mapping[str, str]) -> Iterator[str]:
    """Within the block, BLAS runs one thread (unless ``environ`` sets a count); yields the header line."""
    if user_blas_setting(environ):
        yield blas_line(environ)
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield blas_line(environ)
