"""Many targets in one command: each checked in a worker process of its own.

``gradcheck check a.py:target b.py:target``, a glob (``'subs/*.py:build'``, quoted so the
shell leaves it to us) or a list file (``@submissions.txt``, one target per line) check every
target through :func:`gradcheck.frontends.isolation.run_isolated`: one target's infinite loop,
``os._exit``, segfault or huge allocation ends only its own worker. The run is one
:class:`~gradcheck.results.SuiteResult` whose ``targets`` are each target's own suite: one
summary table, one verdict and exit code, one JSON document with every target (loaded back by
``SuiteResult.from_dict``) and, with ``--html DIR``, an index page linking one page per target.

Targets: a file, glob or list entry written without ``:attr`` gets ``:target``
(:data:`gradcheck.targets.loading.DEFAULT_ATTR`); a glob's ``:attr`` applies to every file it
matches. The exit code is the run's verdict's (:mod:`gradcheck.results.verdict`): 2 when any
target could not be checked (it did not load, raised, timed out, ran out of memory, crashed or
exited), else 1 when any check failed, else 0 — a target that could not be checked is never
hidden behind a failure.
"""

from __future__ import annotations

import functools
import glob
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gradcheck.errors import InvalidArgumentError
from gradcheck.frontends.isolation import Limits, Outcome, memory_error, run_isolated
from gradcheck.results import CheckOutcome, SuiteResult
from gradcheck.targets.loading import SOURCE_SUFFIXES, split_spec, with_default_attr


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


def run_target(target: str, *, command: str, options: dict[str, Any], layout: str | None) -> dict:
    """The job of one worker: load ``target``, run the command's checks, return the suite's dict
    (with the environment and the command that repeats this target's run alone)."""
    from gradcheck.config import config_from
    from gradcheck.engine import COMMAND_GROUPS, run_suite
    from gradcheck.frontends.environment import collect_environment
    from gradcheck.frontends.session import load_target
    from gradcheck.threads import pin_blas

    config = config_from(options)
    # one BLAS thread per worker, as in a one-target run, unless the environment sets a count
    with pin_blas(os.environ):
        loaded = load_target(target, config, layout=layout)
        suite = run_suite(loaded.target, config, groups=COMMAND_GROUPS[command], **loaded.engine_arguments())
        environment = collect_environment(
            seed=config.seed, dtype=config.dtype,
            argv=one_target_command(target, command=command, options=options, layout=layout))
    for outcome in suite.outcomes:  # out of memory in a check: the worker's memory outcome
        memory = memory_error(outcome.exception)
        if memory is not None:
            raise memory
    suite.environment = environment
    return {"suite": suite.to_dict()}


def _worker_record(outcome: Outcome) -> dict[str, Any]:
    record = outcome.to_dict()
    record.pop("result", None)
    record.pop("target", None)
    return record


def target_suite(outcome: Outcome) -> SuiteResult:
    """One target's suite: the one its worker sent back, or, when it sent none (it did not load,
    raised, timed out, ran out of memory, crashed or exited), a suite whose one outcome is that
    error, so the target is "not checked" by the one verdict."""
    worker = _worker_record(outcome)
    if outcome.status == "ok":
        suite = SuiteResult.from_dict(outcome.result["suite"])
        suite.target, suite.worker = outcome.target, worker
        return suite
    error = CheckOutcome.could_not_run("check_target_runs", "target",
                                       "load the target and run its checks in a worker",
                                       f"{outcome.status}: {outcome.message}")
    return SuiteResult(target=outcome.target, outcomes=[error], worker=worker)


def run_many(targets: Sequence[str], *, command: str, options: dict[str, Any],
             layout: str | None = None, limits: Limits = Limits(), workers: int | None = None,  # noqa: B008 - frozen
             on_done: Callable[[SuiteResult], None] | None = None) -> SuiteResult:
    """Every target in its own worker (see :func:`gradcheck.frontends.isolation.run_isolated`),
    as one suite whose ``targets`` are each target's suite, in the order given; ``on_done`` is
    called with each target's suite as its worker ends."""
    job = functools.partial(run_target, command=command, options=options, layout=layout)
    outcomes = run_isolated(job, list(targets), limits=limits, workers=workers,
                            on_done=None if on_done is None else lambda o: on_done(target_suite(o)))
    from gradcheck.config import config_from

    return SuiteResult(target=f"{len(outcomes)} targets", config=config_from(options).to_dict(),
                       targets=[target_suite(outcome) for outcome in outcomes])


def write_pages(suite: SuiteResult, directory: Path, *, protected=()) -> Path:
    """One HTML page per checked target and ``index.html`` linking them; returns the index."""
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
