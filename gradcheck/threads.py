"""One BLAS thread per process for a run of the checks, unless the user chose a count.

Two cores shared by a few processes, each with an OpenBLAS spinning two threads, make the
small products of a network many times slower, and unevenly so: the same full-mode check
then passes in 46 s, 32 s, or is refused by the time guard. With one thread it takes the
7-10 s the arithmetic needs.

One policy for every front end: the command line, the pytest plugin and the several-targets
workers enter :func:`pin_blas` for the whole run; the Python API (``check_gradients``,
``check_layer``, ``run_suite``, the checks of ``parametrize_with_checks``) enters
:func:`one_blas_thread` for the duration of each call, which does nothing inside a run a front end
already pinned, and puts the user's own thread settings back when the call returns. A count set
in ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` is the user's choice, and
is left alone.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar

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


#: What the front end running now did about BLAS threads: None (no front end: the Python
#: API leaves BLAS alone), {} (pinned to one thread) or the variables the user set.
_CHOSEN: ContextVar[dict[str, str] | None] = ContextVar("gradcheck_blas", default=None)


def blas_advice() -> str:
    """The sentence a "too slow" message adds about BLAS threads, true for this run.

    Pinned to one thread by the front end: nothing to add. The user set one thread: nothing
    either. The user set more: say so, and what one thread per process would do. No front end
    (the Python API): the general advice.
    """
    chosen = _CHOSEN.get()
    shared = ("If other processes share these cores (pytest -n, a busy machine), one BLAS thread "
              "per process")
    if chosen is None:
        return f"{shared} (OPENBLAS_NUM_THREADS=1) can make small products many times faster."
    many = {name: value for name, value in chosen.items() if value.strip() != "1"}
    if not many:
        return ""
    setting = ", ".join(f"{k}={v}" for k, v in many.items())
    return (f"BLAS runs the threads your environment sets ({setting}). {shared} (set it to 1, "
            f"or unset it and gradcheck uses one) can make small products many times faster.")


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """For one call of the Python API: one BLAS thread unless a front end already decided (then
    nothing changes) or the environment sets a count; the previous settings come back after."""
    if _CHOSEN.get() is not None:
        yield
        return
    import os

    with pin_blas(os.environ):
        yield


def under_one_blas_thread(function: Callable) -> Callable:
    """Decorator of the Python API's entry points: the call runs in :func:`one_blas_thread`."""

    @functools.wraps(function)
    def call(*args, **kwargs):
        with one_blas_thread():
            return function(*args, **kwargs)

    return call


@contextlib.contextmanager
def pin_blas(environ: Mapping[str, str]) -> Iterator[str]:
    """Within the block, BLAS runs one thread (unless ``environ`` sets a count); yields the header line."""
    chosen = user_blas_setting(environ)
    token = _CHOSEN.set(chosen)
    try:
        if chosen:
            yield blas_line(environ)
            return
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            yield blas_line(environ)
    finally:
        _CHOSEN.reset(token)
