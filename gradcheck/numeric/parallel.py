"""Entry-wise finite differences on several cores: every worker perturbs its own copy.

``jobs=N`` starts N worker processes by ``fork`` where the platform has it (Linux and the
other POSIX systems except macOS, whose system libraries are not fork-safe). A forked worker
is a copy of this process, so the user's loss closure reads the worker's copy of the very
arrays in ``params`` and nothing is pickled but chunks of indices. Elsewhere, and for any
``concurrent.futures.Executor`` passed as ``jobs`` (a process pool of your own, or a
cluster's, e.g. dask.distributed's ``Client(...).get_executor()``), the loss and the
parameters are pickled together, by cloudpickle when it is installed so that closures
travel too, and each worker unpickles its own copy once. Pickling them in one go keeps the
loss reading the same arrays as ``params``, unless it reaches them through other views.

A worker runs the serial loop (:func:`gradcheck.numeric.differences.entry_differences`) on a
chunk of one parameter's entries, so each number is the one a serial run computes, bit for
bit, provided the loss computes the same there. Before its first chunk counts, a worker
shows that it does: its loss at the unperturbed parameters must equal this process's to the
bit and, for a pickled copy, moving each parameter along a fixed direction must move the
loss exactly as it moves here (a loss reading arrays that did not travel with ``params``
would not move at all). Pickled workers apply this process's BLAS thread counts
(threadpoolctl), forked ones inherit them.

When anything stands in the way (a loss that cannot be pickled, a worker that crashes or
raises, a loss that computes differently or writes into its parameters there), the entries
are differenced serially in this process instead and ``notes`` says why; a serial run then
raises whatever a serial check raises. This process's arrays are never written by workers.
"""

from __future__ import annotations

import math
import mmap
import multiprocessing
import os
import pickle
import sys
import threading
import uuid
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.differences import entry_differences
from gradcheck.numeric.perturbation import Snapshot

#: Fewest entries in a chunk: smaller parameters (biases) are differenced here, where a round
#: trip to a worker would cost more than it saves.
MIN_CHUNK = 32
#: Chunks per worker and parameter: more even out the finish, fewer cost fewer round trips.
CHUNKS_PER_WORKER = 8
#: The fixed direction that shows a pickled copy drives the loss moves x by this * max(1, |x|).
PROBE_STEP = 1e-3
#: What a counting evaluator counts; the probes of pickled copies leave these as they were.
COUNTERS = ("calls", "nonfinite_calls", "first_nonfinite")
#: Pickled copies a worker keeps (one per check and thread); older ones are unpickled again if needed.
KEPT_COPIES = 4


def validate_jobs(jobs):
    """``jobs`` as given when it is None, a positive int, -1 (every core) or an Executor; else raise."""
    if jobs is None or isinstance(jobs, Executor):
        return jobs
    if isinstance(jobs, (int, np.integer)) and not isinstance(jobs, (bool, np.bool_)) and (jobs >= 1 or jobs == -1):
        return int(jobs)
    raise InvalidArgumentError(
        "jobs",
        f"got {jobs!r} ({type(jobs).__name__}), expected a positive int (worker processes), -1 (one "
        "per core), None (no workers) or a concurrent.futures.Executor.",
        "Pass e.g. jobs=2, or jobs=-1 to use every core.",
    )


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the platform has one)."""
    count = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if count is not None:
        return count() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


def maps_a_file(array: np.ndarray) -> bool:
    """True when ``array`` (or an array it is a view of) is memory-mapped (np.memmap, mmap.mmap)."""
    while array is not None:
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
    return False


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin"


class ParallelDifferences:
    """Hands chunks of a parameter's entries to workers; the serial loop does the rest.

    Parameters
    ----------
    evaluate : zero-argument callable returning the loss as a float for the current contents
        of ``params`` (the checker's counting evaluator; workers use their copy of it).
    params : mapping str -> ndarray, the arrays ``evaluate`` reads.
    jobs : None or 1 (no workers), int N >= 2, -1 (one worker per core), or an Executor.

    Workers start at the first parameter large enough to split and stop at :meth:`close`.
    ``notes`` holds one sentence per fallback to serial. Pickled copies cost one loss call per
    parameter here (the fixed-direction check), left out of the evaluator's counts.
    """

    def __init__(self, evaluate: Callable[[], float], params: Mapping[str, np.ndarray], jobs):
        self.jobs = validate_jobs(jobs)
        self.evaluate = evaluate
        self.params = params
        self.notes: list[str] = []
        self._count = usable_cores() if self.jobs == -1 else self.jobs if isinstance(self.jobs, int) else 1
        self._off = self.jobs is None or (isinstance(self.jobs, int) and self._count < 2)
        self._started = False
        self._pool: ProcessPoolExecutor | None = None
        self._executor: Executor | None = None
        self._source: _Payload | None = None
        self._blas: dict | None = None

    @property
    def workers(self) -> int:
        """Loss evaluations running at once, for the time guard; 1 for an Executor (size unknown)."""
        if self._off or not isinstance(self.jobs, int):
            return 1
        return max(1, min(self._count, usable_cores()))

    def loss_values(self, array: np.ndarray, indices: np.ndarray, base: float, f0: float,
                    on_entry: Callable[[int], None] | None = None):
        """(f_plus, f_minus) at the flat ``indices`` of ``array``, from the workers; None to run serially.

        Shapes (k,), float64, in the order of ``indices``; ``on_entry(k)`` is told as chunks
        come back. The counting evaluator is told of the workers' calls as if it had made them.
        """
        name = next((key for key, value in self.params.items() if value is array), None)
        if self._off or name is None or indices.size < 2 * MIN_CHUNK:
            return None
        if not self._started:
            reason = self._start()
            if reason is not None:
                return self._give_up(reason, name)
        pieces = min(indices.size // MIN_CHUNK, self._count * CHUNKS_PER_WORKER)
        chunks = np.array_split(indices, pieces)
        f_plus = np.empty(indices.size)
        f_minus = np.empty(indices.size)
        futures = []
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns that fork() from a threaded process may deadlock; the workers
                # start from an idle parent (no lock held) and only run the loss and NumPy.
                warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
                futures = [self._executor.submit(difference_chunk, self._source, name, chunk, base, f0,
                                                 self._blas) for chunk in chunks]
            done = 0
            for chunk, future in zip(chunks, futures):
                outcome = future.result()
                if outcome[0] != "ok":
                    return self._give_up(outcome[1], name)
                f_plus[done:done + chunk.size] = outcome[1]
                f_minus[done:done + chunk.size] = outcome[2]
                if on_entry is not None:
                    for k in range(done, done + chunk.size):
                        on_entry(k)
                done += chunk.size
        except Exception as exc:
            return self._give_up(f"a worker failed ({_brief(exc)})", name)
        except BaseException:  # KeyboardInterrupt: do not wait for the chunks already running
            self._stop(kill=True)
            raise
        finally:
            for future in futures:
                future.cancel()
        record_calls(self.evaluate, indices, f_plus, f_minus)
        return f_plus, f_minus

    def close(self) -> None:
        """Stop the worker processes this object started (an Executor passed in is left running)."""
        self._stop(kill=False)
        _forget(self._source)

    # -- internals -------------------------------------------------------------------------------
    def _label(self) -> str:
        return f"jobs={self.jobs!r}" if isinstance(self.jobs, int) else f"jobs={type(self.jobs).__name__}"

    def _start(self) -> str | None:
        """Start the workers (or adopt the Executor); the reason when they cannot be used."""
        self._started = True
        try:
            # A forked worker shares a memory-mapped file's pages with this process and with the
            # other workers: its perturbations would show in theirs. Such parameters travel pickled.
            if isinstance(self.jobs, Executor) or not can_fork() or any(map(maps_a_file, self.params.values())):
                self._source = self._payload()
                self._blas = blas_threads()
            if isinstance(self.jobs, Executor):
                self._executor = self.jobs
            elif self._source is None:
                self._pool = ProcessPoolExecutor(self._count, mp_context=multiprocessing.get_context("fork"),
                                                 initializer=adopt_forked, initargs=(self.evaluate, self.params))
            else:
                self._pool = ProcessPoolExecutor(self._count, mp_context=multiprocessing.get_context("spawn"))
        except _CannotSend as exc:
            return str(exc)
        except Exception as exc:
            return f"the worker processes could not start ({_brief(exc)})"
        self._executor = self._executor or self._pool
        return None

    def _payload(self) -> _Payload:
        """The loss and the parameters pickled together, with the loss along each probe direction."""
        dumps, sends_closures = _pickler()
        try:
            data = dumps((self.evaluate, dict(self.params)))
        except Exception as exc:
            hint = "" if sends_closures else "; installing cloudpickle lets closures and lambdas travel"
            raise _CannotSend(f"the loss could not be sent to the workers ({_brief(exc)}){hint}") from exc
        probes = {}
        counters = {key: getattr(self.evaluate, key) for key in COUNTERS if hasattr(self.evaluate, key)}
        try:
            for name, array in self.params.items():
                probes[name] = probe_loss(self.evaluate, array)
        except Exception as exc:
            raise _CannotSend(f"the loss raised along the direction that checks the workers' copies "
                              f"of {name} ({_brief(exc)})") from exc
        finally:
            # The probes are the checker's own business: they leave the count as it was.
            for key, value in counters.items():
                setattr(self.evaluate, key, value)
        return _Payload(uuid.uuid4().hex, data, probes)

    def _give_up(self, reason: str, name: str) -> None:
        """Difference serially from here on, and say why; None, the caller's cue to run serially."""
        self._off = True
        self.notes.append(f"{self._label()}: {reason}; the finite differences ran serially in this process "
                          f"from {name} on")
        self._stop(kill=True)
        return None

    def _stop(self, kill: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
            if terminate is not None:
                terminate()
            else:
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def record_calls(evaluate, indices: np.ndarray, f_plus: np.ndarray, f_minus: np.ndarray) -> None:
    """Tell a counting evaluator of calls made elsewhere, in the serial order (+h, then -h, per entry).

    Updates ``calls``, ``nonfinite_calls`` and ``first_nonfinite`` where ``evaluate`` has them.
    """
    if not hasattr(evaluate, "calls"):
        return
    start = evaluate.calls
    evaluate.calls += 2 * indices.size
    bad = ~np.isfinite(np.column_stack([f_plus, f_minus]).reshape(-1))
    if not bad.any() or not hasattr(evaluate, "nonfinite_calls"):
        return
    evaluate.nonfinite_calls += int(bad.sum())
    if getattr(evaluate, "first_nonfinite", "") is None:
        first = int(np.flatnonzero(bad)[0])
        evaluate.locate(int(indices[first // 2]))
        evaluate.first_nonfinite = f"call {start + first + 1}, {evaluate.describe()}"


def probe_loss(evaluate: Callable[[], float], array: np.ndarray) -> float:
    """The loss with ``array`` moved along a fixed +-1 direction; ``array`` is put back bit for bit."""
    original = array.copy()
    signs = np.where(np.random.default_rng(0).random(array.shape) < 0.5, -1.0, 1.0)
    step = PROBE_STEP * signs * np.maximum(1.0, np.abs(original, dtype=np.float64))
    try:
        np.add(original, step, out=array, casting="same_kind")
        return evaluate()
    finally:
        np.copyto(array, original)


def blas_threads() -> dict | None:
    """This process's thread count per BLAS library (threadpoolctl), for pickled workers to apply."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return {info["prefix"]: info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"}


# -- in the worker ---------------------------------------------------------------------------------
@dataclass
class _Payload:
    token: str
    data: bytes
    probes: dict


class _CannotSend(Exception):
    pass


class _Copy:
    """A worker's own loss and parameters, and whether they reproduce the parent's numbers."""

    def __init__(self, evaluate, params, probes=None):
        self.evaluate = evaluate
        self.params = params
        self.probes = probes
        self.snapshot = Snapshot(params)
        self.verdict: str | None = None  # "" once checked and fine, else why not

    def verify(self, f0: float) -> str:
        if self.verdict is None:
            self.verdict = self._verify(f0)
        return self.verdict

    def _verify(self, f0: float) -> str:
        mine = self.evaluate()
        if not _same(mine, f0):
            return (f"the loss gave {mine!r} in a worker and {f0!r} here at the same parameters (a different "
                    "BLAS or thread count there, or a loss reading state that was not sent)")
        for name, expected in (self.probes or {}).items():
            moved = probe_loss(self.evaluate, self.params[name])
            if not _same(moved, expected):
                return (f"moving {name} in a worker's copy moved the loss to {moved!r}, here to {expected!r}: "
                        f"the loss reads {name} through an array that did not travel with params (a view?)")
        return ""


#: This process's copies when it is a worker: a forked worker's under None, pickled ones by token and thread.
_copies: dict = {}
_copies_lock = threading.Lock()


def adopt_forked(evaluate, params) -> None:
    """Pool initializer of a forked worker: the inherited loss and arrays are its own copy."""
    _copies[None] = _Copy(evaluate, params)


def _copy_for(source: _Payload | None) -> _Copy:
    if source is None:
        return _copies[None]
    key = (source.token, threading.get_ident())
    with _copies_lock:
        copy = _copies.get(key)
    if copy is None:
        evaluate, params = pickle.loads(source.data)
        copy = _Copy(evaluate, params, source.probes)
        with _copies_lock:
            _copies[key] = copy
            while len(_copies) > KEPT_COPIES:
                del _copies[next(iter(_copies))]
    return copy


def _forget(source: _Payload | None) -> None:
    """Drop this process's copies of a finished check (an Executor running threads here holds some)."""
    if source is None:
        return
    with _copies_lock:
        for key in [key for key in _copies if key is not None and key[0] == source.token]:
            del _copies[key]


def difference_chunk(source: _Payload | None, name: str, chunk: np.ndarray, base: float, f0: float,
                     blas: dict | None):
    """In a worker: ("ok", f_plus, f_minus) for one chunk of ``name``'s entries, or (status, reason)."""
    try:
        copy = _copy_for(source)
        with _blas_limits(blas):
            problem = copy.verify(f0)
            if problem:
                return "differs", problem
            diff = entry_differences(copy.evaluate, copy.params[name], chunk, base, f0)
        changed = copy.snapshot.changed()
        if changed:
            copy.snapshot.restore()
            copy.verdict = "the loss wrote into " + ", ".join(changed)
            return "wrote", f"the loss wrote into {', '.join(changed)} in a worker"
        return "ok", diff.f_plus, diff.f_minus
    except Exception as exc:  # the serial run raises it again, named as the checker names it
        return "raised", f"a worker's loss raised {_brief(exc)}"


def _blas_limits(blas: dict | None):
    if not blas:
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=blas)


def _pickler():
    """(dumps, whether it sends closures): cloudpickle's where installed, else the standard one."""
    try:
        import cloudpickle
    except ImportError:
        return (lambda obj: pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)), False
    return (lambda obj: cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)), True


def _same(a: float, b: float) -> bool:
    """Equal to the bit (NaN equals NaN)."""
    return a == b or (math.isnan(a) and math.isnan(b))


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


__all__ = ["ParallelDifferences", "validate_jobs", "usable_cores", "can_fork", "record_calls", "MIN_CHUNK"]
