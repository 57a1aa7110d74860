"""One of several targets, checked end to end: the job a worker does, and the worker's process.

:func:`check_target` starts the target's own child (:mod:`gradcheck.frontends.isolation`),
loads it there, runs the command's checks here through the proxy and returns the suite, with a
``worker`` record of how the target's process ended (status, message, seconds, exit code,
signal, the end of its output, its peak memory and its containment). A target that did not load,
ended, timed out or ran out of memory is a suite whose one outcome says so: "not checked".

Run as ``python -m gradcheck.frontends.driver``, it reads one job as JSON on stdin and writes the
suite as JSON on stdout: the process :func:`gradcheck.frontends.many.check_in_worker` starts for
each target, on this machine or on a cluster's worker machine. It runs only gradcheck's code;
the target's code runs in its child, in namespaces of its own where the machine allows them.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

from gradcheck.frontends.isolation import Limits, TargetGone, memory_error

#: Largest job accepted on stdin, in bytes.
MAX_JOB = 2 ** 20
#: Outcome statuses of a target's worker record, in the order a summary would list them.
STATUSES = ("ok", "error", "timeout", "memory", "crashed", "exited", "malformed", "interrupted")
#: The outcome that stands for a target that could not be run to the end.
TARGET_CHECK = "check_target_runs"
TARGET_DESCRIPTION = "load the target and run its checks in a process of its own"


def one_target_command(target: str, *, command: str, options: dict[str, Any],
                       layout: str | None) -> list[str]:
    """The command line that repeats one target's run on its own, e.g.
    ``["gradcheck", "report", "bad.py:build", "--mode", "directional"]``: the options given
    (raw, by name), without the outputs and the limits of the many-target run."""
    from gradcheck.options import OPTIONS

    argv = ["gradcheck", command, target]
    for option in OPTIONS:
        if options.get(option.name) is not None:
            argv += [option.flag, str(options[option.name])]
    return argv + (["--layout", layout] if layout else [])


def _user_site(exc: BaseException) -> str:
    """``model.py line 12``: where in the user's code ``exc`` was raised."""
    from gradcheck.targets.loading import exit_site
    from gradcheck.targets.usercode import describe

    crash = describe(exc, "")
    return f"{os.path.basename(crash.file)} line {crash.line}" if crash.file else exit_site(exc)


def check_target(target: str, *, command: str, options: dict[str, Any], layout: str | None = None,
                 limits: Limits = Limits()) -> Any:  # noqa: B008 - frozen
    """The suite of ``target``: its checks run here on a proxy, its code in a child of its own."""
    from gradcheck.config import config_from
    from gradcheck.engine import COMMAND_GROUPS, run_suite
    from gradcheck.errors import GradcheckError
    from gradcheck.frontends.environment import collect_environment
    from gradcheck.frontends.isolation import Child
    from gradcheck.frontends.remote import Connection
    from gradcheck.frontends.session import load_sandboxed, target_sources
    from gradcheck.results import CheckOutcome, SuiteResult
    from gradcheck.threads import pin_blas

    config = config_from(options)
    folders = [os.getcwd()] + [os.path.dirname(p) for p in target_sources(target)]
    child = Child(limits, adopt=True, writable_copies=folders)
    suite, status, message = None, "ok", "ok"
    started = time.monotonic()
    try:
        # one BLAS thread here and in the child, as in a one-target run, unless the environment sets a count
        with pin_blas(os.environ):
            child.start()
            loaded = load_sandboxed(Connection(child), target, config, layout=layout,
                                    build_dtype=options.get("dtype"))
            suite = run_suite(loaded.target, config, groups=COMMAND_GROUPS[command],
                              **loaded.engine_arguments())
            suite.environment = collect_environment(
                seed=config.seed, dtype=config.dtype,
                argv=one_target_command(target, command=command, options=options, layout=layout))
        for outcome in suite.outcomes:  # out of memory in a check: the target's memory outcome
            memory = memory_error(outcome.exception)
            if memory is not None:
                raise memory
    except TargetGone as gone:
        status, message = gone.status, gone.message
    except (GradcheckError, MemoryError) as exc:
        memory = memory_error(exc)
        if memory is not None:
            status = "memory"
            limit = f"the memory limit of {limits.memory_mb} MiB" if limits.memory_mb is not None else "the memory"
            message = f"exceeded {limit} in {_user_site(memory)}"
        else:
            status, message = "error", f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - reported for this target, the others go on
        status, message = "error", f"{type(exc).__name__}: {exc}"
    finally:
        child.stop()
    ended = status not in ("ok", "error", "timeout", "memory")  # else it was stopped here
    worker = {"status": status, "message": message, "seconds": round(time.monotonic() - started, 3),
              "exit_code": child.exit_code if ended else None, "signal": child.signal if ended else None,
              "output": child.output,
              "peak_mb": round(child.peak / 2 ** 20, 1), "containment": child.containment or "namespaces"}
    if suite is not None and status == "ok":
        suite.target, suite.worker = target, worker
        return suite
    error = CheckOutcome.could_not_run(TARGET_CHECK, "target", TARGET_DESCRIPTION, f"{status}: {message}")
    return SuiteResult(target=target, config=config.to_dict(), outcomes=[error], worker=worker)


class Interrupted(TargetGone):
    pass


def _interrupted(signum, frame):
    raise Interrupted("interrupted", f"interrupted by {signal.Signals(signum).name}")


def main() -> int:
    """Read a job (JSON on stdin), check its target, write the suite (JSON on stdout)."""
    from gradcheck.frontends.confine import die_with_parent

    die_with_parent()  # the run that started this worker is gone: so is this worker, and its target
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but the result on the real stdout
    job = json.loads(sys.stdin.buffer.read(MAX_JOB).decode("utf-8"))
    limits = Limits(seconds=job.get("seconds"), memory_mb=job.get("memory_mb"))
    suite = check_target(job["target"], command=job["command"], options=job["options"],
                         layout=job.get("layout"), limits=limits)
    out.write(json.dumps(suite.to_dict(), allow_nan=False))
    out.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a process by many.check_in_worker
    raise SystemExit(main())
