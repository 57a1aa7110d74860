"""A dask.distributed cluster as the executor of a several-targets run (``--scheduler ADDRESS``).

:func:`gradcheck.frontends.many.run_many` takes any ``concurrent.futures.Executor``; the command
line's ``--scheduler`` gives it a dask.distributed client's (``pip install gradcheck[dask]``, on
this machine and on every worker). Each target still runs in a child of its own on the worker's
machine; only the small job and its JSON suite cross the cluster.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor

from gradcheck.errors import InvalidArgumentError

#: Seconds to wait for the scheduler before saying it cannot be reached.
CONNECT_SECONDS = 5.0


@contextlib.contextmanager
def cluster_executor(address: str, *, argument: str = "--scheduler",
                     seconds: float | None = None) -> Iterator[Executor]:
    """The executor of the dask.distributed scheduler at ``address`` (``tcp://host:8786``), for
    the length of the block; the client is closed after it. An InvalidArgumentError naming
    ``argument`` when dask.distributed is not installed or the scheduler does not answer within
    ``seconds`` (default :data:`CONNECT_SECONDS`)."""
    seconds = CONNECT_SECONDS if seconds is None else seconds
    try:
        from distributed import Client
    except ImportError:
        raise InvalidArgumentError(argument, f"got {address!r}, but dask.distributed is not installed "
                                   "here.", "Install it with pip install 'gradcheck[dask]' (here and on "
                                   "every worker machine), or leave the flag out to use this "
                                   "machine's cores.") from None
    try:
        client = Client(address, timeout=seconds, set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ValueError...: one message
        raise InvalidArgumentError(argument, f"could not reach a dask scheduler at {address!r} within "
                                   f"{seconds:g} s ({type(exc).__name__}: {exc}).",
                                   "Start one with `dask scheduler`, start `dask worker ADDRESS` on "
                                   "each machine, and pass the address the scheduler prints, e.g. "
                                   "--scheduler tcp://10.0.0.5:8786.") from None
    try:
        yield client.get_executor()
    finally:
        client.close()


__all__ = ["cluster_executor", "CONNECT_SECONDS"]
