"""The process a target runs in: started, contained, watched, and ended with everything it started.

Every front end that takes a target by name (the command line, one target or many, and the pytest
plugin) runs it in a :class:`Child`: a process forked from the checking process, in a session
and process group of its own, that loads the target and answers requests
(:mod:`gradcheck.frontends.sandbox`). Before it loads the target, the child

- moves into namespaces of its own where the kernel allows it (:func:`gradcheck.frontends.confine.enter`):
  every file read-only but a private scratch folder, no process outside visible or reachable,
  no network, and every process it starts ends with it;
- sets its limits with the hard value equal to the soft one, so nothing it runs can raise them:
  address space (``memory_mb``), CPU seconds (a backstop for ``seconds``), processes, file size,
  no core files.

The checking process watches it while it waits for an answer: the wall time of the whole target
(``seconds``), the memory of all its processes together (a cgroup's limit where this process may
make one, else the sum of their resident memory, read from /proc), its output (the last
:data:`OUTPUT_TAIL` characters are kept). :meth:`Child.stop` kills the whole group — the cgroup,
the namespace, the session, the descendants and any orphan this process adopted — and removes
the scratch folder, ignoring whatever the target did to it.

A target that ends, times out or runs out of memory while the checking process waits for it
raises :class:`TargetGone`: the target could not be checked, whatever it had answered before.
"""

from __future__ import annotations

import faulthandler
import math
import os
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass

from gradcheck.frontends import confine, wire
from gradcheck.validation import positive_int, positive_number

#: Characters of a target's combined stdout/stderr kept (the end of it).
OUTPUT_TAIL = 4000
#: Seconds between two looks at a waited-for target (memory, output, the clock).
POLL = 0.2
#: Seconds a child has to start (fork, namespaces) and say it is ready.
START_SECONDS = 30.0
#: Largest file a target may write, and the processes it may run at once.
MAX_FILE_BYTES = 256 * 2 ** 20
MAX_PROCESSES = 64


def physical_mb() -> int | None:
    """This machine's memory in MiB, where the system says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 ** 20
    except (ValueError, OSError, AttributeError):
        return None


@dataclass(frozen=True)
class Limits:
    """Per-target limits.

    Parameters
    ----------
    seconds : float or None
        Wall time of one target, start-up included; everything it runs is killed after it.
        None: no limit.
    memory_mb : int or None
        Memory of one target in MiB: the address space of each of its processes
        (``RLIMIT_AS``, hard = soft), and the memory of all of them together (a cgroup's limit,
        or their resident memory summed). None: no limit. At most the machine's memory.
    """

    seconds: float | None = 120.0
    memory_mb: int | None = 4096

    def __post_init__(self):
        positive_number(self.seconds, "seconds", or_none=True, unit="seconds", fix="Pass e.g. seconds=60.")
        positive_int(self.memory_mb, "memory_mb", or_none=True, fix="Pass e.g. memory_mb=2048.")
        machine = physical_mb()
        if self.memory_mb is not None and machine is not None and self.memory_mb > machine:
            from gradcheck.errors import InvalidArgumentError

            raise InvalidArgumentError("memory_mb", f"got {self.memory_mb:,} MiB, more than this "
                                       f"machine's {machine:,} MiB of memory",
                                       f"Pass at most {machine}, e.g. memory_mb={min(2048, machine)}.")
        if self.seconds is not None and self.seconds > 10 ** 9:
            from gradcheck.errors import InvalidArgumentError

            raise InvalidArgumentError("seconds", f"got {self.seconds:g} seconds, more than 30 years",
                                       "Pass e.g. seconds=600, or None for no limit.")


class TargetGone(BaseException):
    """The target's process ended, timed out, ran out of memory or broke the wire format.

    A ``BaseException``: no check catches it, so a run stops at once and the front end reports
    the target as not checked (``status``: exited, crashed, timeout, memory, malformed,
    interrupted).
    """

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def default_workers() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def memory_error(exc: BaseException | None) -> MemoryError | None:
    """The MemoryError ``exc`` is or was raised from (a wrapped error from user code), if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, MemoryError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


_started = 0


class Child:
    """One target's process. :meth:`start`, then :meth:`send` and :meth:`receive` frames, then
    :meth:`stop` (always: it is what kills everything the target started).

    ``confine`` asks for the namespaces of :mod:`gradcheck.frontends.confine`; ``adopt`` makes
    this process a child subreaper first, so that processes the target detaches come back to it
    (the command line's and the drivers' processes, which run nothing else). ``writable_copies``:
    folders the target sees as writable copies (its own folder, the working folder), where what it
    writes stays in its scratch memory.
    """

    def __init__(self, limits: Limits = Limits(seconds=None, memory_mb=None), *,  # noqa: B008 - frozen
                 confine: bool = True, adopt: bool = True, message_limit: int = wire.MAX_MESSAGE,
                 writable_copies=()):
        self.limits = limits
        self.writable_copies = list(writable_copies)
        self.confine = confine and sys.platform.startswith("linux")
        self.adopt = adopt
        self.message_limit = message_limit
        self.pid: int | None = None
        self.server: int | None = None
        self.sock: socket.socket | None = None
        self.cgroup: confine.Cgroup | None = None
        self.scratch: str | None = None
        self.started = 0.0
        self.deadline: float | None = None
        self.containment = ""
        self.status: int | None = None  # the wait status, once ended
        self.peak = 0
        self.gone: TargetGone | None = None
        self._tail = bytearray()
        self._out: int | None = None
        self._last_poll = 0.0

    # -- start ----------------------------------------------------------------------------------
    def start(self) -> Child:
        global _started
        _started += 1
        if self.adopt:
            confine.adopt_orphans()
        memory = None if self.limits.memory_mb is None else self.limits.memory_mb * 2 ** 20
        self.cgroup = confine.Cgroup.make(f"gradcheck-{os.getpid()}-{_started}", memory, MAX_PROCESSES * 4)
        self.scratch = tempfile.mkdtemp(prefix="gradcheck-target-")
        parent_end, child_end = socket.socketpair()
        out_r, out_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its own tests watch it from outside
            parent_end.close()
            os.close(out_r)
            _child(child_end, out_w, self.limits, self.scratch, self.confine, self.writable_copies)
        child_end.close()
        os.close(out_w)
        os.set_blocking(out_r, False)
        self.pid, self.sock, self._out = pid, parent_end, out_r
        self.started = time.monotonic()
        if self.limits.seconds is not None:
            self.deadline = self.started + self.limits.seconds
        if self.cgroup is not None and not self.cgroup.add(pid):
            self.cgroup.remove()
            self.cgroup = None
        try:
            self.sock.sendall(b"G")
            ready = self.started + START_SECONDS
            if self.deadline is not None:
                ready = min(ready, self.deadline)
            raw = wire._read_exactly(self.sock, 8, ready)
            self.server = struct.unpack("<q", raw)[0]
            deadline, self.deadline = self.deadline, ready
            header, _ = self.receive()
            self.deadline = deadline
        except (OSError, wire.WireError, TimeoutError) as exc:
            raise self._gone("exited", f"could not start ({exc})") from None
        if header.get("ready") is not True:
            raise self._gone("malformed", "sent a first message that is not 'ready'")
        self.containment = wire.text(header.get("confinement", "unknown"))
        return self

    # -- messages ---------------------------------------------------------------------------------
    def send(self, header: dict, arrays: list) -> None:
        self._check_alive()
        try:
            self.sock.settimeout(None if self.deadline is None else max(0.001, self.deadline - time.monotonic()))
            wire.send(self.sock, header, arrays)
        except TimeoutError:
            raise self._gone("timeout", self._late()) from None
        except OSError:
            raise self._ended() from None

    def receive(self) -> tuple[dict, list]:
        """The next message; :class:`TargetGone` when the target ends, passes a limit, or sends
        something malformed."""
        self._check_alive()
        while True:
            wait = POLL if self.deadline is None else min(POLL, self.deadline - time.monotonic())
            if wait <= 0:
                raise self._gone("timeout", self._late())
            import select

            ready, _, _ = select.select([self.sock, self._out], [], [], wait)
            self._drain()
            self._poll()
            if self.sock in ready:
                break
        try:
            return wire.receive(self.sock, limit=self.message_limit, deadline=self.deadline)
        except TimeoutError:
            raise self._gone("timeout", self._late()) from None
        except wire.Closed:
            raise self._ended() from None
        except wire.WireError as exc:
            raise self._gone("malformed", f"sent a malformed message: {exc}") from None
        except OSError:
            raise self._ended() from None

    # -- watching ---------------------------------------------------------------------------------
    def _check_alive(self) -> None:
        if self.gone is not None:
            raise self.gone
        if self.sock is None:
            raise TargetGone("exited", "was not started")

    def _late(self) -> str:
        if self.limits.seconds is None or self.deadline != self.started + self.limits.seconds:
            return f"did not start within {START_SECONDS:g} s"
        return f"timed out after {self.limits.seconds:g} s"

    def _poll(self) -> None:
        now = time.monotonic()
        if now - self._last_poll < POLL:
            return
        self._last_poll = now
        if self.cgroup is not None:
            if self.cgroup.ran_out_of_memory():  # the kernel killed one of its processes for it
                raise self._gone("memory", f"exceeded the memory limit of {self.limits.memory_mb} MiB "
                                 "(all its processes together; the kernel killed one)")
            return
        used = sum(confine.processes(self.pid, self.pid).values())
        self.peak = max(self.peak, used)
        if self.limits.memory_mb is not None and used > self.limits.memory_mb * 2 ** 20:
            raise self._gone("memory", f"exceeded the memory limit of {self.limits.memory_mb} MiB "
                             f"(all its processes together used {used / 2 ** 20:,.0f} MiB)")

    def _drain(self) -> None:
        if self._out is None:
            return
        while True:
            try:
                chunk = os.read(self._out, 65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if not chunk:
                return
            self._tail += chunk
            if len(self._tail) > OUTPUT_TAIL * 8:
                del self._tail[:-OUTPUT_TAIL * 4]

    @property
    def output(self) -> str:
        """The end of what the target printed (stdout and stderr, as it came)."""
        self._drain()
        return bytes(self._tail[-OUTPUT_TAIL * 4:]).decode("utf-8", "backslashreplace")[-OUTPUT_TAIL:]

    def _gone(self, status: str, message: str) -> TargetGone:
        """Kill the target and remember why; the exception to raise."""
        self.stop()
        if self.cgroup_oom and status != "memory":  # what made it late: the kernel killing its processes
            status, message = "memory", (f"exceeded the memory limit of {self.limits.memory_mb} MiB "
                                         "(all its processes together; the kernel killed one)")
        self.gone = TargetGone(status, message)
        return self.gone

    def _ended(self) -> TargetGone:
        """The target's process went away: how, from its exit status."""
        end = time.monotonic() + 2.0  # it closed its end as it exited: let it finish exiting
        while self.status is None and time.monotonic() < end:
            self.status = self._exited()
            if self.status is None:
                time.sleep(0.002)
        self.stop()
        self.gone = self.ending()
        return self.gone

    def ending(self) -> TargetGone:
        """What the exit status of a target that ended says."""
        status = self.status
        if self.cgroup_oom:
            return TargetGone("memory", f"exceeded the memory limit of {self.limits.memory_mb} MiB "
                                        "(the kernel killed a process of the target)")
        if status is None:
            return TargetGone("exited", "ended without a result")
        if os.WIFSIGNALED(status):
            signum = os.WTERMSIG(status)
            cpu = self.limits.seconds is not None and (
                signum == getattr(signal, "SIGXCPU", None)
                or (signum == signal.SIGKILL and time.monotonic() - self.started >= self.limits.seconds))
            if cpu:
                return TargetGone("timeout", f"timed out: over {math.ceil(self.limits.seconds) + 1} s "
                                             "of CPU time (threads add up)")
            hint = " (the system may have run out of memory)" if signum == signal.SIGKILL else ""
            return TargetGone("crashed", f"signal {signum} ({_signal_name(signum)}){hint}")
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
        return TargetGone("exited", f"exited with code {code} without a result")

    @property
    def exit_code(self) -> int | None:
        return os.WEXITSTATUS(self.status) if self.status is not None and os.WIFEXITED(self.status) else None

    @property
    def signal(self) -> int | None:
        return os.WTERMSIG(self.status) if self.status is not None and os.WIFSIGNALED(self.status) else None

    @property
    def seconds(self) -> float:
        return (self._ended_at or time.monotonic()) - self.started if self.started else 0.0

    _ended_at = 0.0
    cgroup_oom = False

    # -- the end --------------------------------------------------------------------------------
    def stop(self) -> None:
        """Kill every process of the target, collect its exit status and output, clean up.
        Safe to call more than once, and from a signal handler's path."""
        if self.pid is None:
            return
        if not self._ended_at:
            self._ended_at = time.monotonic()
        if self.status is None:
            self.status = self._exited()
        if self.cgroup is not None:
            peak = self.cgroup.peak()
            self.peak = max(self.peak, peak or 0)
            self.cgroup_oom = self.cgroup_oom or self.cgroup.ran_out_of_memory()
            self.cgroup.kill()
        for pid in (self.server, self.pid):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if self.status is None:
            try:
                _, self.status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        confine.kill_all(self.pid, self.pid)
        self._drain()
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.sock is not None:
            self.sock.close()
        if self._out is not None:
            os.close(self._out)
            self._out = None
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
        self.pid = None

    def _exited(self) -> int | None:
        """The wait status of the direct child if it has ended by itself (not reaped yet: None)."""
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return None
        return status if pid else None

    def __enter__(self) -> Child:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- the child's side -----------------------------------------------------------------------------------


def _child(sock: socket.socket, out_w: int, limits: Limits, scratch: str, confined: bool,  # pragma: no cover
           writable_copies=()) -> None:
    """In the forked process: set up, then serve requests until the parent closes the socket."""
    code = 70
    try:
        os.setsid()
        confine.die_with_parent()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        keep = sock.fileno()
        os.closerange(3, keep)
        os.closerange(keep + 1, _max_fd())
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
            signal.signal(signum, signal.SIG_DFL)
        sock.settimeout(None)
        if sock.recv(1) != b"G":  # the parent has put this process in its cgroup
            os._exit(code)
        size = f"{limits.memory_mb}m" if limits.memory_mb else "1g"
        problem, pid, entered = (confine.enter(confine.overlay_folders(writable_copies), size) if confined
                                 else ("not asked for", os.getpid(), False))
        sock.sendall(struct.pack("<q", pid))
        here = confine.SCRATCH if entered and os.access(confine.SCRATCH, os.W_OK) else scratch
        _apply_limits(limits, confined=entered)
        for name in ("HOME", "TMPDIR", "TMP", "TEMP", "MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
            os.environ[name] = here
        tempfile.tempdir = None
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
        faulthandler.enable()
        wire.send(sock, {"ready": True, "confinement": problem or ""}, [])
        from gradcheck.frontends.sandbox import serve

        serve(sock, limit=wire.MAX_MESSAGE)
    except BaseException:  # noqa: BLE001 - the child reports and ends, whatever happened
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


def _max_fd() -> int:
    try:
        return min(os.sysconf("SC_OPEN_MAX"), 65536)
    except (ValueError, OSError):
        return 4096


def _apply_limits(limits: Limits, *, confined: bool) -> None:  # pragma: no cover - in the child
    """Hard limits equal to soft ones: the target cannot raise them again."""
    try:
        import resource
    except ImportError:
        return

    def cap(kind, value):
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass

    if limits.memory_mb is not None:
        cap(resource.RLIMIT_AS, limits.memory_mb * 2 ** 20)
    if limits.seconds is not None:
        cap(resource.RLIMIT_CPU, math.ceil(limits.seconds) + 1)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_FSIZE, MAX_FILE_BYTES)
    if confined:
        cap(resource.RLIMIT_NPROC, MAX_PROCESSES)
    elif os.getuid() != 0:  # the count is of all this user's processes: leave room for theirs
        cap(resource.RLIMIT_NPROC, _processes_of(os.getuid()) + MAX_PROCESSES)


def _processes_of(uid: int) -> int:
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                count += os.stat(f"/proc/{name}").st_uid == uid
            except OSError:
                pass
    return count
