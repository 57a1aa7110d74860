"""Run one job per target, each in a worker process of its own, with a time and memory limit.

Course staff check a folder of submissions; one submission's infinite loop, ``os._exit``,
segfault or 20 GB allocation must not take the others down. :func:`run_isolated` starts one
process per target (at most ``workers`` at a time, every core by default), and returns, per
target, an :class:`Outcome`: the job's result (a picklable dict) or what went wrong — timed
out, exceeded memory, crashed with a signal, exited with a code, called ``sys.exit``, or
raised.

One ``multiprocessing.Process`` per target rather than a ``ProcessPoolExecutor``: a worker
that segfaults or calls ``os._exit`` breaks a whole executor, while here it only ends its
own target's process. The job is any picklable callable ``job(target) -> dict`` (a
module-level function); front ends pass their own (check, probe, report).
"""

from __future__ import annotations

import faulthandler
import math
import multiprocessing
import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait

from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.perturbation import guard_this_worker
from gradcheck.targets.loading import exit_call, exit_site
from gradcheck.validation import positive_int, positive_number

#: Outcome statuses, in the order a summary would list them.
STATUSES = ("ok", "error", "sys_exit", "timeout", "memory", "crashed", "exited")

#: Characters of a worker's combined stdout/stderr kept in its outcome (the end of it).
OUTPUT_TAIL = 4000


@dataclass(frozen=True)
class Limits:
    """Per-target limits.

    Parameters
    ----------
    seconds : float or None
        Wall time of one target, start-up included; the worker is killed after it. None: no limit.
    memory_mb : int or None
        Address space of one worker in MiB (``RLIMIT_AS``; Linux and other POSIX systems with
        ``resource``); an allocation beyond it fails with MemoryError. None: no limit.
    """

    seconds: float | None = 120.0
    memory_mb: int | None = 4096

    def __post_init__(self):
        positive_number(self.seconds, "seconds", or_none=True, unit="seconds", fix="Pass e.g. seconds=60.")
        positive_int(self.memory_mb, "memory_mb", or_none=True, fix="Pass e.g. memory_mb=2048.")


@dataclass
class Outcome:
    """What became of one target.

    Attributes
    ----------
    target : str
        The target as given to :func:`run_isolated`.
    status : str
        One of :data:`STATUSES`: ``ok`` (``result`` holds the job's dict), ``error`` (the job
        raised), ``sys_exit`` (user code called ``sys.exit``), ``timeout``, ``memory``
        (MemoryError under the limit), ``crashed`` (killed by a signal, e.g. SIGSEGV) or
        ``exited`` (the process ended with a code and no result, e.g. ``os._exit(3)``).
    message : str
        One line for people, e.g. ``"crashed: signal 11 (SIGSEGV)"``.
    result : dict or None
        The job's return value when ``status == "ok"``.
    exit_code, signal : int or None
        The worker's exit code, or the signal that ended it.
    seconds : float
        Wall time of the worker.
    output : str
        The end of the worker's stdout and stderr (a crash's traceback, what the target printed).
    """

    target: str
    status: str
    message: str
    result: dict | None = None
    exit_code: int | None = None
    signal: int | None = None
    seconds: float = 0.0
    output: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return asdict(self)


def default_workers() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def _apply_limits(memory_mb: int | None, seconds: float | None) -> None:
    """Address-space limit; and backstops should the parent die without killing the worker:
    CPU time capped at the wall-time limit, and (Linux) SIGKILL when the parent process ends."""
    try:
        import resource
    except ImportError:  # Windows: no limits from inside the worker
        return
    for kind, value in ((resource.RLIMIT_AS, None if memory_mb is None else memory_mb * 1024 * 1024),
                        (resource.RLIMIT_CPU, None if seconds is None else math.ceil(seconds) + 1)):
        if value is None:
            continue
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, hard))
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def memory_error(exc: BaseException | None) -> MemoryError | None:
    """The MemoryError ``exc`` is or was raised from (a wrapped error from user code), if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, MemoryError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _user_site(exc: BaseException) -> str:
    """``model.py line 12``: the innermost line of the user's code in ``exc``'s traceback (an
    allocation fails inside NumPy, but the line to look at is the one that asked for it)."""
    from gradcheck.targets.usercode import describe

    crash = describe(exc, "")
    return f"{os.path.basename(crash.file)} line {crash.line}" if crash.file else exit_site(exc)


def _worker(job, target, memory_mb, seconds, output_path, conn) -> None:
    """The worker process: limits, output to a file, run the job, send one message."""
    with open(output_path, "wb", buffering=0) as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    faulthandler.enable()  # a segfault leaves its traceback in the output
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    guard_this_worker()  # SIGTERM here still restores memory-mapped parameters first
    _apply_limits(memory_mb, seconds)
    try:
        result = job(target)
        message = ("ok", result)
    except SystemExit as exc:
        message = ("sys_exit", f"called {exit_call(exc)} in {exit_site(exc)}")
    except BaseException as exc:  # the job's own failure, reported rather than lost
        traceback.print_exc()
        memory = memory_error(exc)
        if memory is not None:
            limit = f"the memory limit of {memory_mb} MiB" if memory_mb is not None else "the memory"
            message = ("memory", f"exceeded {limit} in {_user_site(memory)}")
        else:
            message = ("error", f"{type(exc).__name__}: {exc}")
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        conn.send(message)
    except Exception as exc:  # a result that does not pickle
        conn.send(("error", f"the job's result could not be sent back ({type(exc).__name__}: {exc})"))
    conn.close()


def _read_tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - OUTPUT_TAIL))
            return handle.read().decode("utf-8", "backslashreplace")
    except OSError:
        return ""


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@dataclass
class _Running:
    index: int
    target: str
    process: multiprocessing.process.BaseProcess
    conn: object
    output_path: str
    started: float
    message: tuple | None = None
    timed_out: bool = False


def run_isolated(
    job: Callable[[str], dict],
    targets: Sequence[str],
    *,
    limits: Limits = Limits(),
    workers: int | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    start_method: str | None = None,
) -> list[Outcome]:
    """Run ``job(target)`` for every target, each in a process of its own.

    Parameters
    ----------
    job : callable
        ``job(target) -> dict``, picklable (a module-level function). Its return value comes
        back as ``Outcome.result``; it should be a plain dict of plain values.
    targets : sequence of str
        What to pass to ``job``, one worker each (e.g. ``"subs/alice.py:build"``).
    limits : Limits
        Wall time and memory of each worker.
    workers : int, optional
        Workers at once; default every core this process may use.
    on_done : callable, optional
        Called in this process with each :class:`Outcome` as it finishes (a progress line).
    start_method : str, optional
        ``multiprocessing`` start method; default ``forkserver`` where available, else
        ``spawn`` (never ``fork``: the parent may hold BLAS threads and locks).

    Returns
    -------
    list of Outcome
        One per target, in the order of ``targets``.

    Ctrl-C or any exception in this process kills every running worker before propagating.
    """
    if not callable(job):
        raise InvalidArgumentError("job", f"got {job!r}, expected a function job(target) -> dict.",
                                   "Pass a module-level function.")
    targets = list(targets)
    workers = default_workers() if workers is None else workers
    positive_int(workers, "workers", fix="Pass e.g. workers=2, or leave it out to use every core.")
    context = multiprocessing.get_context(start_method or _start_method())
    outcomes: list[Outcome | None] = [None] * len(targets)
    waiting = list(enumerate(targets))[::-1]
    running: list[_Running] = []
    scratch = tempfile.mkdtemp(prefix="gradcheck-workers-")
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                index, target = waiting.pop()
                running.append(_start(context, job, index, target, limits, scratch))
            _wait_some(running, limits)
            for item in [r for r in running if r.process.exitcode is not None]:
                running.remove(item)
                outcome = _outcome(item, limits)
                outcomes[item.index] = outcome
                if on_done is not None:
                    on_done(outcome)
    finally:
        for item in running:
            item.process.kill()
            item.process.join()
            item.conn.close()
        for name in os.listdir(scratch):
            os.unlink(os.path.join(scratch, name))
        os.rmdir(scratch)
    return outcomes


def _start(context, job, index, target, limits, scratch) -> _Running:
    receive, send = context.Pipe(duplex=False)
    output_path = os.path.join(scratch, f"{index}.out")
    process = context.Process(target=_worker, args=(job, target, limits.memory_mb, limits.seconds, output_path, send),
                              name=f"gradcheck-worker-{index}", daemon=True)
    process.start()
    send.close()  # the parent keeps only the reading end: EOF once the worker is gone
    return _Running(index, target, process, receive, output_path, time.monotonic())


def _wait_some(running: list[_Running], limits: Limits) -> None:
    """Block until a worker sends, ends or passes its deadline; kill the late ones."""
    now = time.monotonic()
    timeout = None
    if limits.seconds is not None:
        timeout = max(0.0, min(r.started + limits.seconds for r in running) - now)
    handles = {}
    for item in running:
        if item.message is None:
            handles[item.conn] = item
        handles[item.process.sentinel] = item
    ready = wait(list(handles), timeout)
    for handle in ready:
        item = handles[handle]
        if handle is item.conn:
            try:
                item.message = item.conn.recv()
            except (EOFError, OSError):
                item.message = ("none",)
    now = time.monotonic()
    for item in running:
        if item.process.exitcode is None and limits.seconds is not None \
                and now >= item.started + limits.seconds:
            item.timed_out = item.message is None  # a result already sent still counts
            item.process.kill()
        if item.process.sentinel in ready or item.timed_out:
            item.process.join()


def _outcome(item: _Running, limits: Limits) -> Outcome:
    if item.message is None:  # sent just before the end, not yet read
        try:
            if item.conn.poll():
                item.message = item.conn.recv()
        except (EOFError, OSError):
            pass
    item.conn.close()
    code = item.process.exitcode
    seconds = time.monotonic() - item.started
    common = {"target": item.target, "seconds": seconds, "output": _read_tail(item.output_path),
              "exit_code": code if code is not None and code >= 0 else None,
              "signal": -code if code is not None and code < 0 else None}
    message = item.message if item.message and item.message[0] != "none" else None
    if item.timed_out:
        return Outcome(status="timeout", message=f"timed out after {limits.seconds:g} s", **common)
    if message is not None and message[0] == "ok":
        return Outcome(status="ok", message="ok", result=message[1], **common)
    if message is not None and message[0] in ("error", "sys_exit", "memory"):
        return Outcome(status=message[0], message=message[1], **common)
    if code is not None and code < 0 and -code == getattr(signal, "SIGXCPU", None) \
            and limits.seconds is not None:
        return Outcome(status="timeout", message=f"timed out: over {math.ceil(limits.seconds) + 1} s "
                       "of CPU time (threads add up)", **common)
    if code is not None and code < 0:
        name = _signal_name(-code)
        hint = " (the system may have run out of memory)" if -code == signal.SIGKILL else ""
        return Outcome(status="crashed", message=f"crashed: signal {-code} ({name}){hint}", **common)
    return Outcome(status="exited", message=f"exited with code {code} without a result", **common)
