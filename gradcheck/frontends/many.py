"""Many targets in one command: each checked by a worker process, each in a child of its own.

``gradcheck check a.py:target b.py:target``, a glob (``'subs/*.py:build'``, quoted so the
shell leaves it to us) or a list file (``@submissions.txt``, one target per line) check every
target in a worker: a process that runs only gradcheck (:mod:`gradcheck.frontends.driver`),
which starts the target's own contained child (:mod:`gradcheck.frontends.isolation`) and checks
it through a proxy. One target's infinite loop, ``os._exit``, segfault, fork bomb or huge
allocation ends only its own child; what it answers cannot reach the verdict, its neighbours or
the files of the run. The run is one :class:`~gradcheck.results.SuiteResult` whose ``targets``
are each target's own suite: one summary table, one verdict and exit code, one JSON document
(loaded back by ``SuiteResult.from_dict``) and, with ``--html DIR``, an index page linking one
page per target, named from the target's name as given, never from what its worker sent.

The workers run on any ``concurrent.futures.Executor`` (``executor=``): a dask.distributed
client's executor runs them on a cluster's machines, each still starting its target's child
there. Without one, a pool of ``workers`` threads here starts the worker processes. What a worker
sends back is text, capped at :data:`MAX_RESULT` bytes and checked against the suite format
before it is used; anything else makes that target "not checked" and the run goes on.

Targets: a file, glob or list entry written without ``:attr`` gets ``:target``
(:data:`gradcheck.targets.loading.DEFAULT_ATTR`); a glob's ``:attr`` applies to every file it
matches. The exit code is the run's verdict's (:mod:`gradcheck.results.verdict`): 2 when any
target could not be checked (it did not load, raised, timed out, ran out of memory, crashed or
exited), else 1 when any check failed, else 0 — a target that could not be checked is never
hidden behind a failure.
"""

from __future__ import annotations

import glob
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from gradcheck.errors import InvalidArgumentError
from gradcheck.frontends.driver import TARGET_CHECK, TARGET_DESCRIPTION, one_target_command
from gradcheck.frontends.isolation import Limits, default_workers
from gradcheck.results import CheckOutcome, SuiteResult
from gradcheck.targets.loading import DEFAULT_ATTR, SOURCE_SUFFIXES, split_spec, with_default_attr

#: Largest list file (``@list``) read, in bytes, and the longest target name accepted.
MAX_LIST_BYTES = 16 * 2 ** 20
MAX_TARGET = 4096
#: Largest result a worker may send back, in bytes.
MAX_RESULT = 64 * 2 ** 20
#: Seconds a worker has beyond its target's own limit (start-up, the checks' own work, the JSON).
WORKER_GRACE = 60.0
#: Seconds running workers have to stop after SIGTERM or Ctrl-C before they are killed.
STOP_GRACE = 5.0
#: Characters of a worker's own stderr kept when it fails.
ERROR_TAIL = 2000

__all__ = ["DEFAULT_ATTR", "expand_targets", "run_many", "check_in_worker", "write_pages",
           "one_target_command", "target_suite", "not_checked"]


def _read_list(path: str, argument: str) -> list[str]:
    """The lines of a list file: at most MAX_LIST_BYTES of UTF-8 text, or an error naming it."""
    fix = "Write one target per line, e.g. subs/alice.py:build."
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_LIST_BYTES + 1)
    except OSError as exc:
        raise InvalidArgumentError(argument, f"cannot read the list file {path[:200]!r} "
                                   f"({exc.strerror or exc}).", fix) from None
    if len(data) > MAX_LIST_BYTES:
        raise InvalidArgumentError(argument, f"the list file {path[:200]!r} holds more than "
                                   f"{MAX_LIST_BYTES // 2 ** 20} MiB; a list of targets is a small text file.", fix)
    if b"\0" in data:
        raise InvalidArgumentError(argument, f"the list file {path[:200]!r} holds NUL bytes: it is "
                                   "not a text file of targets.", fix)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(argument, f"the list file {path[:200]!r} is not UTF-8 text (byte "
                                   f"{exc.start}).", "Save it as UTF-8, one target per line.") from None
    return text.splitlines()


def expand_targets(entries: Sequence[str], *, argument: str = "target") -> list[str]:
    """The targets named by ``entries``: as given, glob patterns expanded (sorted), and
    ``@file`` replaced by the file's lines (blank lines and ``#`` comments skipped).

    A pattern that matches nothing, a list file that cannot be read (or is not a small UTF-8
    text file), or a target name longer than :data:`MAX_TARGET` characters is an
    InvalidArgumentError naming ``argument``.
    """
    targets: list[str] = []
    for entry in entries:
        if len(entry) > MAX_TARGET:
            raise InvalidArgumentError(argument, f"got a name of {len(entry):,} characters "
                                       f"({entry[:60]!r}...), more than {MAX_TARGET:,}.",
                                       "Name the file by a shorter path, e.g. relative to the folder "
                                       "you run gradcheck in.")
        if entry.startswith("@"):
            lines = _read_list(entry[1:], argument)
            base = Path(entry[1:]).parent
            listed = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
            targets += expand_targets([_relative_to(item, base) for item in listed], argument=argument)
        elif glob.has_magic(entry):
            pattern, attr = split_spec(entry)
            files = sorted(glob.glob(pattern))
            if not files:
                raise InvalidArgumentError(argument, f"the pattern {entry!r} matches no file.",
                                           "Check the folder, and quote the pattern so the shell "
                                           "leaves it to gradcheck: 'subs/*.py:build'.")
            targets += [f"{path}:{attr}" for path in files]
        else:
            targets.append(with_default_attr(entry))
    return targets


def _relative_to(item: str, base: Path) -> str:
    """A list file's relative path is relative to the list file's folder."""
    where, attr = split_spec(item)
    if where.endswith(SOURCE_SUFFIXES) and not os.path.isabs(where):
        where = str(base / where)
    return f"{where}:{attr}"


# -- one target, in a worker process -----------------------------------------------------------------

_running: dict[int, subprocess.Popen] = {}
_running_lock = threading.Lock()


def check_in_worker(job: str) -> str:
    """Check one target in a worker process; its suite as JSON text (a job's JSON in, see
    :func:`job_for`). Runs wherever an Executor runs it, this machine or a cluster's worker."""
    job_data = json.loads(job)
    seconds = job_data.get("seconds")
    deadline = None if seconds is None else time.monotonic() + seconds + WORKER_GRACE
    package = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": package + os.pathsep + os.environ.get("PYTHONPATH", "")}
    folder = job_data.get("folder")  # where the run was started, when this machine has it too
    process = subprocess.Popen([sys.executable, "-m", "gradcheck.frontends.driver"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                               env=env, cwd=folder if isinstance(folder, str) and os.path.isdir(folder) else None)
    with _running_lock:
        _running[process.pid] = process
    try:
        process.stdin.write(job.encode("utf-8"))
        process.stdin.close()
        out, err, why = _read_worker(process, deadline)
    finally:
        _stop_worker(process)
        with _running_lock:
            _running.pop(process.pid, None)
    if why is None and process.returncode == 0:
        return out.decode("utf-8", "replace")
    code = process.returncode
    ended = (f"signal {-code}" if code is not None and code < 0 else f"exit code {code}")
    return json.dumps({"worker_error": why or f"the worker process ended ({ended}) without a result",
                       "stderr": err.decode("utf-8", "replace")[-ERROR_TAIL:]})


def _read_worker(process: subprocess.Popen, deadline: float | None) -> tuple[bytes, bytes, str | None]:
    """(stdout, stderr tail, why it was stopped or None) of a worker, read as it writes."""
    out, err = bytearray(), bytearray()
    streams = {process.stdout.fileno(): out, process.stderr.fileno(): err}
    for fd in streams:
        os.set_blocking(fd, False)
    while streams:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return bytes(out), bytes(err), "the worker did not finish in time"
        ready, _, _ = select.select(list(streams), [], [], 1.0 if left is None else min(1.0, left))
        for fd in ready:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                del streams[fd]
                continue
            buffer = streams[fd]
            buffer += chunk
            if buffer is out and len(out) > MAX_RESULT:
                return b"", bytes(err), f"the worker's result passed {MAX_RESULT // 2 ** 20} MiB"
            if buffer is err and len(err) > ERROR_TAIL * 4:
                del err[:-ERROR_TAIL]
    process.wait()
    return bytes(out), bytes(err), None


def _stop_worker(process: subprocess.Popen) -> None:
    """The worker and anything left in its session: killed, and reaped."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
    process.wait()
    for stream in (process.stdout, process.stderr):
        stream.close()


def job_for(target: str, *, command: str, options: dict[str, Any], layout: str | None, limits: Limits) -> str:
    # the folder relative targets are named from: a cluster's worker on a shared file system starts there
    return json.dumps({"target": target, "command": command, "options": options, "layout": layout,
                       "seconds": limits.seconds, "memory_mb": limits.memory_mb, "folder": os.getcwd()})


# -- what comes back -------------------------------------------------------------------------------------

#: Worker record fields and their JSON types.
_WORKER_FIELDS = {"status": str, "message": str, "seconds": (int, float), "exit_code": (int, type(None)),
                  "signal": (int, type(None)), "output": str, "peak_mb": (int, float), "containment": str}


def target_suite(target: str, text: str | BaseException) -> SuiteResult:
    """The suite a worker sent for ``target`` (its JSON text), checked against the suite
    format; anything malformed, or a worker that failed, is a suite whose one outcome says so."""
    from gradcheck.render.terminal import format_suite

    if isinstance(text, BaseException):
        return not_checked(target, "error", f"the worker failed ({type(text).__name__}: {text})")
    if len(text) > MAX_RESULT:
        return not_checked(target, "malformed", "the worker's result is too large")
    try:
        data = json.loads(text)
        if isinstance(data, dict) and "worker_error" in data:
            return not_checked(target, "error", str(data["worker_error"])[:500],
                                output=str(data.get("stderr", ""))[-ERROR_TAIL:])
        if not isinstance(data, dict) or data.get("kind") != "suite" or data.get("targets"):
            raise ValueError("not the suite of one target")
        suite = SuiteResult.from_dict(data)
        suite.worker = _checked_worker(data.get("worker"))
        suite.target = target  # the name given here, never the one sent
        json.dumps(suite.to_dict(), allow_nan=False)  # every part renders, or this target is malformed
        format_suite(suite, verbose=True)
    except Exception as exc:  # noqa: BLE001 - any departure from the format, whatever it breaks
        return not_checked(target, "malformed", f"the worker's result is not a suite ({type(exc).__name__}: "
                            f"{str(exc)[:200]})")
    return suite


def _checked_worker(worker: Any) -> dict:
    if not isinstance(worker, dict):
        raise ValueError("no worker record")
    checked = {}
    for name, kind in _WORKER_FIELDS.items():
        value = worker.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"the worker record's {name!r} is {type(value).__name__}")
        checked[name] = value[-4000:] if isinstance(value, str) else value
    return checked


def not_checked(target: str, status: str, message: str, *, output: str = "", seconds: float = 0.0) -> SuiteResult:
    """The suite of a target that could not be checked: one outcome saying ``status: message``."""
    error = CheckOutcome.could_not_run(TARGET_CHECK, "target", TARGET_DESCRIPTION, f"{status}: {message}")
    worker = {"status": status, "message": message, "seconds": seconds, "exit_code": None, "signal": None,
              "output": output, "peak_mb": 0.0, "containment": ""}
    return SuiteResult(target=target, outcomes=[error], worker=worker)


# -- the run -------------------------------------------------------------------------------------------------


class Interrupted(Exception):
    """SIGTERM or Ctrl-C reached a run over several targets; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def run_many(targets: Sequence[str], *, command: str, options: dict[str, Any],
             layout: str | None = None, limits: Limits = Limits(), workers: int | None = None,  # noqa: B008
             executor: Executor | None = None,
             on_done: Callable[[SuiteResult], None] | None = None) -> SuiteResult:
    """Every target checked by a worker, as one suite whose ``targets`` are each target's suite,
    in the order given; ``on_done`` is called with each target's suite as its worker ends.

    ``executor`` runs the workers (any ``concurrent.futures.Executor``: a dask.distributed
    client's ``get_executor()`` for a cluster); default: ``workers`` at once on this machine (at
    most its cores). SIGTERM and Ctrl-C stop the run: running workers are asked to stop and killed
    after :data:`STOP_GRACE` seconds, the targets that finished keep their suites and the rest
    are "not checked: interrupted"; ``interrupted`` on the result then holds the signal's number.
    """
    from gradcheck.config import config_from

    targets = list(targets)
    jobs = [job_for(t, command=command, options=options, layout=layout, limits=limits) for t in targets]
    suites: list[SuiteResult | None] = [None] * len(targets)
    interrupted: list[int] = []
    own = executor is None
    pool = ThreadPoolExecutor(max_workers=min(workers or default_workers(), default_workers()),
                              thread_name_prefix="gradcheck-worker") if own else executor
    handlers = _catch_stop_signals(interrupted) if own else {}
    futures: dict[Future, int] = {}
    try:
        futures = {pool.submit(check_in_worker, job): i for i, job in enumerate(jobs)}
        pending = set(futures)
        while pending and not interrupted:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                i = futures[future]
                error = future.exception()
                suites[i] = target_suite(targets[i], error if error is not None else future.result())
                if on_done is not None:
                    on_done(suites[i])
        if interrupted:
            for future in futures:
                future.cancel()
            _stop_all_workers()
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
            _restore(handlers)
            _kill_strays()
    for future, i in futures.items():
        if suites[i] is None and future.done() and not future.cancelled() and not interrupted:
            suites[i] = target_suite(targets[i], future.exception() or future.result())
    for i, suite in enumerate(suites):
        if suite is None:
            why = f"interrupted by {signal.Signals(interrupted[0]).name}" if interrupted else "not run"
            suites[i] = not_checked(targets[i], "interrupted", why)
    result = SuiteResult(target=f"{len(targets)} targets", config=config_from(options).to_dict(),
                         targets=suites)
    result.interrupted = interrupted[0] if interrupted else None
    return result


def _catch_stop_signals(seen: list[int]) -> dict:
    """SIGTERM and SIGINT stop the run instead of ending the process (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum, frame):
        if not seen:
            seen.append(signum)

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, stop)
    return previous


def _restore(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _stop_all_workers() -> None:
    """SIGTERM to every running worker (each stops its target's child), SIGKILL after the grace."""
    with _running_lock:
        running = list(_running.values())
    for process in running:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except OSError:
            pass
    end = time.monotonic() + STOP_GRACE
    for process in running:
        try:
            process.wait(timeout=max(0.0, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass


def _kill_strays() -> None:
    """Processes a worker left behind that this process adopted (it is a subreaper): killed."""
    from gradcheck.frontends import confine

    confine.kill_all(-1)


def write_pages(suite: SuiteResult, directory: Path, *, protected=()) -> Path:
    """One HTML page per checked target and ``index.html`` linking them; returns the index.

    Page names come from the targets' names as given (:func:`_page_stem`), numbered, never from
    anything a target's worker sent.
    """
    from gradcheck.render.atomic import write_text_atomic
    from gradcheck.render.html_report import render_index, write_html

    pages: list[str | None] = []
    used: set[str] = set()
    for i, child in enumerate(suite.targets):
        if not any(o.group != "target" for o in child.outcomes):
            pages.append(None)  # nothing ran: the index row says why
            continue
        stem = _page_stem(child.target)
        page = f"{i + 1:03d}-{stem}.html"
        while page in used:
            page = f"{i + 1:03d}-{stem}-{len(used)}.html"
        used.add(page)
        write_html(child, directory / page, argument="--html", protected=protected)
        pages.append(page)
    index = directory / "index.html"
    write_text_atomic(index, render_index(suite, pages), argument="--html", protected=protected)
    return index


def _page_stem(target: str) -> str:
    """A file-name-safe stem from the target's own name, never from what its worker sent."""
    import re

    stem = Path(target.rsplit(":", 1)[0]).stem.rsplit(".", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem)[:60].strip(".") or "target"
