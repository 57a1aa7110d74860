"""Many targets in one command: each checked in a worker process of its own.

``gradcheck check a.py:target b.py:target``, a glob (``'subs/*.py:build'``, quoted so the
shell leaves it to us) or a list file (``@submissions.txt``, one target per line) check every
target through :func:`gradcheck.frontends.isolation.run_isolated`: one target's infinite loop,
``os._exit``, segfault or huge allocation ends only its own worker. The run ends with one
summary table, one exit code, one JSON with every target and, with ``--html DIR``, an index
page linking one page per target.

Targets: a glob or list entry written without ``:attr`` gets ``:target`` (:data:`DEFAULT_ATTR`);
a glob's ``:attr`` applies to every file it matches. Exit code: 2 when any target could not be
checked (it did not load, raised, timed out, ran out of memory, crashed or exited), else 1 when
any check failed, else 0 — a target that could not be checked is never hidden behind a failure.
"""

from __future__ import annotations

import functools
import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradcheck.errors import InvalidArgumentError
from gradcheck.frontends.isolation import Limits, Outcome, memory_error, run_isolated
from gradcheck.text import printable

#: The attribute of a file given without ``:attr`` in a glob or a list file.
DEFAULT_ATTR = "target"
#: Format version of the many-target JSON.
FORMAT = 1


def _with_attr(entry: str) -> tuple[str, str]:
    """``("subs/*.py", "build")`` from ``"subs/*.py:build"``; the attribute defaults to target."""
    where, colon, attr = entry.rpartition(":")
    if colon and attr and not attr.startswith(("/", "\\")) and where:
        return where, attr
    return entry, DEFAULT_ATTR


def expand_targets(entries: Sequence[str], *, argument: str = "target") -> list[str]:
    """The targets named by ``entries``: as given, glob patterns expanded (sorted), and
    ``@file`` replaced by the file's lines (blank lines and ``#`` comments skipped).

    A pattern that matches nothing, or a list file that cannot be read, is an
    InvalidArgumentError naming ``argument``.
    """
    targets: list[str] = []
    for entry in entries:
        if entry.startswith("@"):
            try:
                lines = Path(entry[1:]).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise InvalidArgumentError(argument, f"cannot read the list file {entry[1:]!r} "
                                           f"({exc.strerror or exc}).",
                                           "Write one target per line, e.g. subs/alice.py:build.") from None
            base = Path(entry[1:]).parent
            listed = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
            targets += expand_targets([_relative_to(item, base) for item in listed], argument=argument)
        elif glob.has_magic(entry):
            pattern, attr = _with_attr(entry)
            files = sorted(glob.glob(pattern))
            if not files:
                raise InvalidArgumentError(argument, f"the pattern {entry!r} matches no file.",
                                           "Check the folder, and quote the pattern so the shell "
                                           "leaves it to gradcheck: 'subs/*.py:build'.")
            targets += [f"{path}:{attr}" for path in files]
        else:
            targets.append(entry)
    return targets


def _relative_to(item: str, base: Path) -> str:
    """A list file's relative path is relative to the list file's folder."""
    where, attr = _with_attr(item)
    if where.endswith(".py") and not os.path.isabs(where):
        where = str(base / where)
    return f"{where}:{attr}"


def one_target_command(target: str, *, command: str, options: dict[str, Any],
                       layout: str | None) -> list[str]:
    """The command line that repeats one target's run on its own, e.g.
    ``["gradcheck", "report", "bad.py:build", "--mode", "directional"]``: the options given
    (raw, by name), without the outputs and the limits of the many-target run."""
    from gradcheck.config import OPTIONS

    argv = ["gradcheck", command, target]
    for option in OPTIONS:
        if options.get(option.name) is not None:
            argv += [option.flag, str(options[option.name])]
    return argv + (["--layout", layout] if layout else [])


def run_target(target: str, *, command: str, options: dict[str, Any], layout: str | None) -> dict:
    """The job of one worker: load ``target``, run the command's checks, return the suite's dict
    (with the environment and the command that repeats this target's run alone)."""
    from gradcheck.config import config_from
    from gradcheck.engine import run_suite
    from gradcheck.frontends.environment import collect_environment
    from gradcheck.frontends.session import load_target
    from gradcheck.threads import pin_blas

    groups = {"check": ("gradients",), "probe": ("probes",), "report": ("gradients", "probes")}
    config = config_from(options)
    # one BLAS thread per worker, as in a one-target run, unless the environment sets a count
    with pin_blas(os.environ):
        loaded = load_target(target, config, layout=layout)
        suite = run_suite(loaded.target, config, groups=groups[command], **loaded.engine_arguments())
        environment = collect_environment(
            seed=config.seed, dtype=config.dtype,
            argv=one_target_command(target, command=command, options=options, layout=layout))
    for outcome in suite.outcomes:  # out of memory in a check: the worker's memory outcome
        memory = memory_error(outcome.exception)
        if memory is not None:
            raise memory
    suite.environment = environment
    return {"suite": suite.to_dict(), "name": loaded.name}


@dataclass
class TargetRow:
    """One line of the summary: what became of one target."""

    target: str
    verdict: str  # "passed", "failed" or "not checked"
    reason: str
    seconds: float
    outcome: Outcome

    @property
    def suite(self):
        from gradcheck.results import SuiteResult

        if self.outcome.result is None:
            return None
        return SuiteResult.from_dict(self.outcome.result["suite"])

    def to_dict(self) -> dict[str, Any]:
        outcome = self.outcome.to_dict()
        outcome.pop("result", None)
        return {"target": self.target, "verdict": self.verdict, "reason": self.reason,
                "seconds": round(self.seconds, 3), "outcome": outcome,
                "suite": None if self.outcome.result is None else self.outcome.result["suite"]}


def row_for(outcome: Outcome) -> TargetRow:
    """The summary row of an outcome: a suite's verdict, or why the target was not checked."""
    if outcome.status != "ok":
        return TargetRow(outcome.target, "not checked", f"{outcome.status}: {outcome.message}",
                         outcome.seconds, outcome)
    suite = outcome.result["suite"]
    errors = [o for o in suite["checks"] if o["status"] == "error"]
    if errors:
        return TargetRow(outcome.target, "not checked",
                         f"{errors[0]['name']}: {errors[0]['error']}", outcome.seconds, outcome)
    failed = [o["name"] for o in suite["checks"] if o["status"] == "failed"]
    if failed:
        return TargetRow(outcome.target, "failed", ", ".join(failed), outcome.seconds, outcome)
    return TargetRow(outcome.target, "passed", "", outcome.seconds, outcome)


def exit_code(rows: Sequence[TargetRow]) -> int:
    """2 if any target could not be checked, else 1 if any failed, else 0."""
    verdicts = {row.verdict for row in rows}
    return 2 if "not checked" in verdicts else 1 if "failed" in verdicts else 0


def summary_table(rows: Sequence[TargetRow], width: int = 100) -> str:
    """target | verdict | failing checks or reason | time, one line per target, then the counts."""
    header = ("target", "verdict", "failing checks / reason", "time")
    def clipped(reason: str) -> str:
        reason = printable(reason.splitlines()[0] if reason else "")
        return reason[:width - 3] + "..." if len(reason) > width else reason

    lines = [(printable(r.target), r.verdict, clipped(r.reason), f"{r.seconds:.1f} s") for r in rows]
    widths = [max(len(x[i]) for x in [header, *lines]) for i in range(3)]
    fmt = lambda x: "  ".join(f"{x[i]:<{widths[i]}}" for i in range(3)) + f"  {x[3]}"  # noqa: E731
    counts = {v: sum(r.verdict == v for r in rows) for v in ("passed", "failed", "not checked")}
    return "\n".join([fmt(header), *(fmt(x) for x in lines), "",
                      f"{len(rows)} targets: {counts['passed']} passed, {counts['failed']} failed, "
                      f"{counts['not checked']} could not be checked"])


def run_many(targets: Sequence[str], *, command: str, options: dict[str, Any],
             layout: str | None = None, limits: Limits = Limits(), workers: int | None = None,  # noqa: B008 - frozen
             on_done=None) -> list[TargetRow]:
    """Every target in its own worker (see :func:`gradcheck.frontends.isolation.run_isolated`)."""
    job = functools.partial(run_target, command=command, options=options, layout=layout)
    outcomes = run_isolated(job, list(targets), limits=limits, workers=workers,
                            on_done=None if on_done is None else lambda o: on_done(row_for(o)))
    return [row_for(outcome) for outcome in outcomes]


def to_dict(rows: Sequence[TargetRow], *, command: str, argv: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON of a many-target run: every target's suite, or its outcome when it had none."""
    return {"format": FORMAT, "command": command, "argv": list(argv), "exit_code": exit_code(rows),
            "targets": [row.to_dict() for row in rows]}


def write_pages(rows: Sequence[TargetRow], directory: Path, *, protected=()) -> Path:
    """One HTML page per checked target and ``index.html`` linking them; returns the index."""
    from gradcheck.render.atomic import write_text_atomic
    from gradcheck.render.html_report import render_html, render_index
    from gradcheck.report import Report

    entries = []
    used: set[str] = set()
    for i, row in enumerate(rows):
        page = None
        suite = row.suite
        if suite is not None:
            stem = row.outcome.result.get("name") or "target"
            page = f"{i + 1:03d}-{stem}.html"
            while page in used:
                page = f"{i + 1:03d}-{stem}-{len(used)}.html"
            used.add(page)
            write_text_atomic(directory / page, render_html(Report.from_suite(suite)),
                              argument="--html", protected=protected)
        entries.append({"target": row.target, "verdict": row.verdict, "reason": row.reason,
                        "seconds": f"{row.seconds:.1f}", "page": page})
    index = directory / "index.html"
    write_text_atomic(index, render_index(entries, exit_code(rows)), argument="--html",
                      protected=protected)
    return index
