"""Perturb-and-restore: the one piece that writes into the user's arrays.

Every write is undone from a saved copy of the original value, never by subtracting the
step, so restoration is exact to the bit. :class:`Snapshot` is the last line of defence:
whatever happens (an exception in the user's code, Ctrl-C, SIGTERM from a CI timeout or
``docker stop``), ``restore()`` in a ``finally`` block copies every array back to its
original bits.

Signals. While a snapshot is held, the main thread turns SIGTERM (when its handler is the
default, i.e. "die now") into a :class:`Terminated` exception, so the ``finally`` blocks run
instead of the process vanishing with an entry moved by h. Once the outermost snapshot is
restored the previous handlers are back and the signal is delivered again, so the process
still ends as SIGTERM would (exit status 143, or -15 seen from a parent). After the first
Ctrl-C or SIGTERM has been raised, further ones are held until the arrays are back, and a
signal arriving during ``restore()`` itself is held until it ends: a restore is never cut
short.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
import weakref

import numpy as np


class Terminated(BaseException):
    """SIGTERM arrived while parameters were perturbed.

    Raised from the signal handler so that ``finally`` blocks restore the parameters; a
    ``BaseException`` so that ``except Exception`` in user code does not swallow it. The
    signal itself is delivered again once the last snapshot is restored.
    """

    def __init__(self, signum: int = signal.SIGTERM):
        self.signum = signum
        super().__init__(f"{signal.Signals(signum).name} received while parameters were perturbed; "
                         "they are restored before the process ends")


#: Seconds after a signal was raised during which further ones are held for the unwinding
#: (finally blocks, then restore). Past it, the exception was caught somewhere and the process
#: went on, so a new signal is raised again rather than held for ever.
UNWIND_SECONDS = 2.0


class _Guard:
    """Handlers installed while at least one snapshot is held (main thread only)."""

    def __init__(self, previous: dict[int, object]):
        self.previous = previous
        self.pid = os.getpid()  # a forked child inherits the handlers, not the arrays' fate
        self.owners: list[weakref.ref] = []
        self.raised: int | None = None  # the signal already turned into an exception
        self.raised_at = 0.0
        self.pending: list[int] = []  # signals held until the arrays are back


_guard: _Guard | None = None
_CRITICAL: set = set()  # code objects during which a signal is held, never raised


def _critical(function):
    """Mark ``function`` as a restore: a signal arriving while it runs waits for it to end."""
    _CRITICAL.add(function.__code__)
    return function


def _in_critical_section(frame) -> bool:
    while frame is not None:
        if frame.f_code in _CRITICAL:
            return True
        frame = frame.f_back
    return False


@_critical
def _on_signal(signum, frame):
    if _releasing is not None:
        # the handlers are being put back (see _release): it delivers what it holds
        _releasing.pending.append(signum)
        return
    guard = _guard
    if guard is not None and (guard.pid != os.getpid()
                              or not any(owner() is not None for owner in guard.owners)):
        # a forked child, or every holder dropped without restoring: the handlers go back
        _release()
        guard = None
    if guard is None:  # act as the previous handler would have
        _deliver([signum])
        return
    unwinding = guard.raised is not None and time.monotonic() - guard.raised_at < UNWIND_SECONDS
    if unwinding or _in_critical_section(frame):
        guard.pending.append(signum)
        return
    if guard.raised == signal.SIGTERM:
        # asked to end before, and unwinding outlasted the window (a busy machine): this signal
        # interrupts the unwinding, but the process still ends by SIGTERM once the arrays are back
        guard.pending.append(signal.SIGTERM)
    guard.raised = signum
    guard.raised_at = time.monotonic()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


def _acquire(owner) -> bool:
    """Hold the guard for ``owner``; False (and nothing installed) off the main thread or in a
    multiprocessing worker (a pool's, or the finite-difference workers': their arrays are their own
    copies, or shared with a parent that restores them, and a pool stops them with SIGTERM)."""
    global _guard
    if threading.current_thread() is not threading.main_thread():
        return False
    if multiprocessing.parent_process() is not None:
        return False
    if _guard is not None and _guard.pid != os.getpid():
        _release(deliver=False)  # inherited from the parent by fork
    if _guard is None:
        previous = {}
        for signum, default in ((signal.SIGINT, signal.default_int_handler),
                                (signal.SIGTERM, signal.SIG_DFL)):
            current = signal.getsignal(signum)
            if current is default:  # a program's own handler (or SIG_IGN) is left alone
                previous[signum] = current
        _guard = _Guard(previous)
        for signum in previous:
            signal.signal(signum, _on_signal)
    _guard.owners.append(weakref.ref(owner))
    return True


@_critical
def _drop(owner) -> None:
    """Release ``owner``'s hold; the last one out puts the handlers back and re-delivers."""
    guard = _guard
    if guard is None:
        return
    guard.owners = [ref for ref in guard.owners if ref() is not None and ref() is not owner]
    if not guard.owners:
        _release()


_releasing: _Guard | None = None  # the guard whose handlers are being put back


@_critical
def _release(deliver: bool = True) -> None:
    global _guard, _releasing
    guard = _guard
    if guard is None or _releasing is not None:
        return
    # A signal that arrives while a handler is being swapped can find the C-level handler
    # still installed but the Python one already gone: CPython then drops it ("Signal 15
    # ignored due to race condition"), and a SIGTERM is lost. Blocked meanwhile, it waits in
    # the kernel and is delivered to the restored handler once unblocked; one received just
    # before runs _on_signal here, which only adds it to ``guard.pending``.
    _releasing = guard
    blocked = _block_signals()
    try:
        for signum, previous in guard.previous.items():
            signal.signal(signum, previous)
        _guard = None
        ends = deliver and guard.pid == os.getpid() and (
            guard.raised == signal.SIGTERM or signal.SIGTERM in guard.pending)
        if ends and blocked is not None and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            # asked to end: the SIGTERM waits in the kernel with any Ctrl-C that came after it,
            # and ends the process the moment they are unblocked, whatever Python does next
            signal.raise_signal(signal.SIGTERM)
    finally:
        _releasing = None
        _unblock_signals(blocked)
    if not deliver or guard.pid != os.getpid():
        return
    signums = []
    if guard.raised == signal.SIGTERM or signal.SIGTERM in guard.pending:
        signums.append(signal.SIGTERM)  # the process was asked to end: it ends, now
    signums += [s for s in dict.fromkeys(guard.pending) if s != guard.raised and s not in signums]
    _deliver(signums)


def _block_signals():
    """Block SIGINT and SIGTERM in this thread; the previous mask, or None where unsupported."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _unblock_signals(previous) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _deliver(signums) -> None:
    for signum in signums:
        if signum == signal.SIGINT and signal.getsignal(signum) is signal.default_int_handler:
            raise KeyboardInterrupt
        handler = signal.getsignal(signum)
        if handler is _on_signal:  # cannot happen after _release; never loop
            signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)


def _value_bytes(arr: np.ndarray) -> bytes:
    """The bytes that carry ``arr``'s values, in C order.

    All of them, except for x87 80-bit extended precision (``np.longdouble`` on x86), which
    is padded to 12 or 16 bytes: the padding is not part of the value and writing a value
    back may change it, so only the 10 value bytes of each component are compared.
    """
    dtype = arr.dtype
    if dtype.kind in "fc" and dtype.isnative and sys.byteorder == "little":
        component = np.dtype(dtype.char.lower()) if dtype.kind == "c" else dtype
        if component.itemsize > 10 and np.finfo(component).nmant == 63:
            rows = np.ascontiguousarray(arr).view(np.uint8).reshape(-1, component.itemsize)
            return rows[:, :10].tobytes()
    return arr.tobytes()


class Snapshot:
    """Bit-exact copies of a mapping of arrays, taken at construction.

    A snapshot holds the signal guard (see the module docstring) from construction until
    :meth:`restore`, and again from each :meth:`original` call (a caller perturbing from the
    saved copy) until the next restore. Use it in ``try``/``finally``, or as a context manager::

        with Snapshot(params) as snapshot:
            ...  # perturb; every array is restored on the way out, whatever happens
    """

    def __init__(self, arrays: dict[str, np.ndarray]):
        self._arrays = arrays
        self._copies = {name: arr.copy() for name, arr in arrays.items()}
        self._guarded = _acquire(self)

    def changed(self) -> list[str]:
        """Names of arrays whose values differ from the snapshot, bit for bit."""
        return [
            name
            for name, arr in self._arrays.items()
            if _value_bytes(arr) != _value_bytes(self._copies[name])
        ]

    def original(self, name: str) -> np.ndarray:
        """The saved copy of ``name`` (read it, never write into it).

        Reading it means the caller is about to write from it (x + step), so the snapshot
        holds the signal guard again until its next :meth:`restore`.
        """
        if not self._guarded:
            self._guarded = _acquire(self)
        return self._copies[name]

    @_critical
    def restore(self) -> list[str]:
        """Copy every array back to its snapshot bits; return the names that had changed.

        Signals arriving meanwhile wait until every array is back. Then this snapshot lets
        go of the signal guard; when no other snapshot holds it, the previous handlers are
        put back and any signal held meanwhile is delivered (SIGTERM ends the process here,
        after the restore).
        """
        changed = self.changed()
        for name, arr in self._arrays.items():
            np.copyto(arr, self._copies[name], casting="no")
        if self._guarded:
            self._guarded = False
            _drop(self)
        return changed

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc_info) -> None:
        self.restore()


class EntryPerturber:
    """Index single entries of one array, to set them to chosen values and put them back.

    Works on a flat view when the array is contiguous (the fast path) and on
    multi-indices otherwise, so non-contiguous views are perturbed in place too.
    ``target[key]`` for ``key`` in ``keys(flat_indices)`` addresses those entries without a
    method call per access (the loop that calls the loss uses it). Subclasses of ndarray
    (``np.matrix``, ``np.memmap``) are addressed through a plain ndarray view of the same
    memory, so ``np.matrix``'s two-dimensional indexing does not get in the way.
    """

    def __init__(self, array: np.ndarray):
        self.array = array.view(np.ndarray)
        self._flat = self.array.reshape(-1) if self.array.flags.c_contiguous else None
        self.target = self._flat if self._flat is not None else self.array

    def keys(self, flat_indices: np.ndarray) -> list:
        """One index into ``target`` per flat index: ints on the fast path, else index tuples."""
        flat_indices = np.asarray(flat_indices, dtype=np.intp)
        if self._flat is not None:
            return flat_indices.tolist()
        return list(zip(*(axis.tolist() for axis in np.unravel_index(flat_indices, self.array.shape))))

    def read(self, flat_indices: np.ndarray) -> np.ndarray:
        """The current values at ``flat_indices``, shape (k,), in the array's dtype (a copy)."""
        flat_indices = np.asarray(flat_indices, dtype=np.intp)
        if self._flat is not None:
            return self._flat[flat_indices]
        return self.array[np.unravel_index(flat_indices, self.array.shape)]
