"""The ``gradcheck`` command line: ``check``, ``probe`` and ``report``.

Each command is a selection of the engine's checks (:mod:`gradcheck.engine`): ``check`` the
gradient group, ``probe`` the probe group, ``report`` both, written as one HTML page. The
options come from :data:`gradcheck.options.OPTIONS`, the same table as the pytest plugin's.

Exit codes (the verdict's, :mod:`gradcheck.results.verdict`): 0 every check passed, 1 a check
failed, 2 the target could not be loaded or used (or a file could not be written), 3 no check
failed but one could not judge something decisive (inconclusive: the last line says what, and
what would let it judge).

The command line speaks in flags: messages from the checker name ``--mode sample``, not
``mode='sample'`` (:func:`gradcheck.config.flag_words`). BLAS runs one thread per process
unless the environment sets a count (:mod:`gradcheck.threads`). Warnings from NumPy and
matplotlib are captured (the probes turn the ones that matter into findings); ``-v`` lists them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import traceback
import warnings
from pathlib import Path

from gradcheck.config import flag_words
from gradcheck.engine import COMMAND_GROUPS, run_suite
from gradcheck.errors import GradcheckError, TargetError
from gradcheck.frontends.environment import collect_environment
from gradcheck.frontends.isolation import TargetGone
from gradcheck.frontends.session import config_for, sandboxed
from gradcheck.options import LAYOUTS, OPTIONS, flag
from gradcheck.render.json_report import write_json
from gradcheck.render.progress import SuiteProgress
from gradcheck.text import printable
from gradcheck.threads import pin_blas
from gradcheck.wording import spoken_as

#: The outcome of a target that could not be run to the end: its name and what it stands for.
TARGET_CHECK = "check_target_runs"
TARGET_DESCRIPTION = "run the target's code in a process of its own"

#: Limits of each of several targets when --timeout and --memory are not given.
DEFAULT_SECONDS = 120.0
DEFAULT_MEMORY_MB = 4096

TARGET_HELP = ("package.module:attr, path/to/file.py:attr or notebook.ipynb:attr; FILE:conv or "
               "FILE:* for function-pair layers (default: the reference network 784-10-10 on "
               "real MNIST)")



def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="*", default=None, help=TARGET_HELP + "; several "
                        "targets, a quoted glob ('subs/*.py:build') or @list.txt check each in a "
                        "worker of its own")
    for option in OPTIONS:
        parser.add_argument(option.flag, dest=option.name, type=option.parse, default=None,
                            choices=option.choices, help=option.help)
    parser.add_argument("--layout", choices=LAYOUTS, default=None,
                        help="examples as rows or columns of X (default: declared, else detected)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="also show passing checks' tables, notes, captured warnings and "
                             "the traceback of an error")
    many = parser.add_argument_group(
        "limits (the target runs in a process of its own; each of several targets in its own)")
    many.add_argument("--timeout", metavar="SECONDS", type=float, default=None,
                      help=f"wall time of one target, everything it starts included (default: "
                           f"{DEFAULT_SECONDS:g} with several targets, none with one)")
    many.add_argument("--memory", metavar="MB", type=int, default=None,
                      help=f"memory of one target in MiB, all its processes together (default: "
                           f"{DEFAULT_MEMORY_MB} with several targets, none with one)")
    many.add_argument("--workers", metavar="N", type=int, default=None,
                      help="targets checked at once (default and most: every core)")
    many.add_argument("--scheduler", metavar="ADDRESS", default=None,
                      help="check the targets on a dask.distributed cluster: its scheduler's address "
                           "(tcp://host:8786), each target in a process of its own on a worker "
                           "(needs gradcheck[dask]; paths are read on the workers)")


def _parser() -> argparse.ArgumentParser:
    from gradcheck import __version__

    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description="Tell whether a from-scratch neural network's gradients are right, and "
                    "where it stops being numerically stable.",
    )
    parser.add_argument("--version", action="version", version=f"gradcheck {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check a target's gradients against finite differences")
    probe = sub.add_parser("probe", help="run the numerical-stability probes on a target")
    for command, what in ((check, "result"), (probe, "results")):
        _common(command)
        command.add_argument("--json", metavar="PATH", default=None,
                             help=f"also write the {what} as JSON")
        command.add_argument("--html", metavar="PATH", default=None, help="also write an HTML report")
    report = sub.add_parser("report", help="gradient checks and probes, written as one HTML page")
    _common(report)
    report.add_argument("-o", "--output", metavar="PATH", default=None,
                        help="HTML file to write (default: reports/<target name>.html)")
    report.add_argument("--json", metavar="PATH", default=None,
                        help="also write the report's data as JSON")
    report.add_argument("--epochs", type=int, default=30,
                        help="epochs of the full-batch versus mini-batch curves (reference "
                             "network only; 0 to skip) (default: 30)")
    return parser


#: Output options: attribute -> the flag an error names.
OUTPUTS = {"json": "--json", "html": "--html", "output": "--output"}


def _resolve_outputs(args) -> None:
    """Make output paths absolute now, before the target is imported (it may ``chdir``)."""
    from gradcheck.render.atomic import resolve_output

    for attr, spelled in OUTPUTS.items():
        if hasattr(args, attr):
            setattr(args, attr, resolve_output(getattr(args, attr), argument=spelled))


def _check_outputs(paths, protected) -> None:
    """Fail before the work, not after it, when an output file cannot be written (or is one of
    the target's own source files)."""
    from gradcheck.render.atomic import check_writable

    for spelled, path in paths:
        if path:
            check_writable(path, argument=spelled, protected=protected)


def _write_html(suite, path) -> None:
    from gradcheck.render.html_report import write_html
    from gradcheck.render.progress import StepProgress

    with StepProgress("drawing the report's charts", "section") as bar:  # seconds of matplotlib
        written = write_html(suite, path, bar.update)
    print(f"HTML report written to {written}")


def _run_many(args, targets) -> int:
    """Several targets (or any on a cluster): each in its own worker, then one table, one exit
    code, one JSON."""
    from gradcheck.frontends.cluster import cluster_executor
    from gradcheck.frontends.many import run_many, write_pages
    from gradcheck.frontends.session import target_sources
    from gradcheck.validation import positive_int

    positive_int(args.workers, "--workers", or_none=True)
    limits = _limits(args, several=True)
    config_for(vars(args), flag)  # bad options: now, once
    options = {o.name: getattr(args, o.name) for o in OPTIONS}
    html = args.html if args.command != "report" else (args.output or Path.cwd() / "reports")
    if html and Path(html).suffix.lower() in (".html", ".htm"):
        named = "--html" if args.command != "report" else "--output"
        raise GradcheckError(f"{named}: got {str(html)!r}, a page; with several targets it names a "
                             f"folder for index.html and one page per target. Pass a folder, "
                             f"e.g. {named} pages.")
    protected = [s for t in targets for s in target_sources(t)]
    _check_outputs([("--json", args.json)], protected)
    _distinct_outputs(args.json, html, several=True, html_flag="--html" if args.command != "report" else "--output")
    with contextlib.ExitStack() as stack:
        if args.scheduler is not None:
            if args.workers is not None:
                raise GradcheckError("--workers: with --scheduler the cluster's workers check the targets, "
                                     "as many at once as they have threads. Leave --workers out (give "
                                     "each `dask worker` its --nthreads).")
            executor, workers = stack.enter_context(cluster_executor(args.scheduler)), None
            print(f"checking {len(targets)} targets, each in a process of its own, on the dask cluster at "
                  f"{printable(args.scheduler)}")
        else:
            executor, workers = None, _capped(args.workers, "--workers")
            print(f"checking {len(targets)} targets, each in a process of its own, {workers} at a time")
        suite = run_many(targets, command=args.command, options=options, layout=args.layout,
                         limits=limits, workers=workers, executor=executor,
                         on_done=lambda one: print(f"  {one.verdict.label:11} {printable(one.target)}",
                                                   flush=True))
    # every worker and every target's process has ended: nothing a target runs sees what follows
    suite.environment = collect_environment(seed=None, dtype=None, argv=args.argv)
    print(_format_suite(suite, verbose=False))
    if args.json:  # first: a page that cannot be written (a full disk) does not cost the JSON
        written = write_json(suite, args.json, argument="--json", protected=protected)
        print(f"JSON written to {written}")
    if html:
        print(f"HTML index written to {write_pages(suite, Path(html), protected=protected)}")
    if html or args.json:
        print(suite.verdict.headline)
    if getattr(suite, "interrupted", None):
        name = signal.Signals(suite.interrupted).name
        print(f"gradcheck: interrupted by {name}: the targets not finished are not checked", file=sys.stderr)
        return 128 + suite.interrupted
    return suite.verdict.exit_code


def _distinct_outputs(json_path, html, *, several: bool, html_flag: str) -> None:
    """The JSON and the HTML need files of their own: refused before the run when one would
    overwrite the other."""
    if not json_path or not html:
        return
    json_path, html = Path(json_path).resolve(), Path(html).resolve()
    page = json_path.suffix.lower() in (".html", ".htm")
    clash = json_path == html or (several and json_path.parent == html and page)
    if clash:
        raise GradcheckError(f"--json and {html_flag}: both name {str(json_path)!r}; the JSON and the HTML "
                             f"report need files of their own. Pass e.g. --json {json_path.stem}.json "
                             f"{html_flag} {'pages' if several else json_path.stem + '.html'}.")


def _capped(count: int | None, spelled: str) -> int:
    """``count`` processes at once, at most this machine's cores (said when it is more)."""
    from gradcheck.numeric.parallel import usable_cores

    cores = usable_cores()
    if count is None or count == -1:
        return cores
    if count > cores:
        print(f"{spelled} {count}: this machine runs {cores} at once; using {cores}")
        return cores
    return count


def _limits(args, *, several: bool):
    """The limits of each target: the flags given, else the defaults of several targets (one
    target has none unless asked)."""
    from gradcheck.frontends.isolation import Limits, physical_mb

    seconds = args.timeout if args.timeout is not None else DEFAULT_SECONDS if several else None
    memory = args.memory
    if memory is None and several:
        memory = min(DEFAULT_MEMORY_MB, physical_mb() or DEFAULT_MEMORY_MB)
    try:
        return Limits(seconds=seconds, memory_mb=memory)
    except GradcheckError as exc:
        named = {"seconds": "--timeout", "memory_mb": "--memory"}[exc.argument]
        fix = exc.fix.replace("memory_mb=", "--memory ").replace("seconds=", "--timeout ")
        raise GradcheckError(f"{named}: {exc.problem}. {fix}".strip()) from None


def _run(args, blas: str) -> int:
    if args.command == "report" and args.epochs < 0:
        raise GradcheckError(f"--epochs: got {args.epochs}, expected 0 or more")
    from gradcheck.frontends.many import expand_targets

    _resolve_outputs(args)  # before any target is imported
    if isinstance(args.jobs, int) and args.jobs > 1:
        args.jobs = _capped(args.jobs, "--jobs")
    targets = expand_targets(args.target or [])
    if len(targets) > 1 or (args.scheduler is not None and targets):
        return _run_many(args, targets)
    if args.scheduler is not None:
        raise GradcheckError("--scheduler: the reference network is checked here; name the targets "
                             "to check on the cluster, e.g. 'submissions/*.py:build'.")
    args.target = targets[0] if targets else None
    config = config_for(vars(args), flag)
    limits = _limits(args, several=False)
    start = Path.cwd()
    args.doing = f"loading {printable(args.target or 'the reference network')}"
    try:
        with sandboxed(args.target, config, layout=args.layout, limits=limits,
                       build_dtype=getattr(args, "dtype", None)) as loaded:
            html = args.html if args.command != "report" else (
                args.output or start / "reports" / f"{loaded.name}.html")
            html_flag = "--output" if args.command == "report" else "--html"
            _distinct_outputs(args.json, html, several=False, html_flag=html_flag)
            _check_outputs([("--json", args.json), (html_flag, html)], loaded.sources)
            verb = {"check": "checking", "probe": "probing", "report": "checking and probing"}[args.command]
            print(f"{verb} {printable(loaded.label)}")
            print(blas)
            if args.verbose:
                print("options: " + ", ".join(f"{k} {v}" for k, v in config.to_dict().items()))
            suite = _checked(loaded, config, args, verb)
    except TargetGone as gone:  # before a check ran: the target could not even be loaded
        raise TargetError(f"{printable(args.target or 'the reference network')}: its process "
                          f"{gone.message} while it was being loaded") from None
    # the target's process and everything it started are gone: nothing it runs sees what follows
    args.doing = f"writing the results of {printable(loaded.label)}"
    suite.environment = collect_environment(seed=config.seed, dtype=config.dtype, argv=args.argv)
    print(_format_suite(suite, verbose=bool(args.verbose)))
    if args.command == "report" and args.target is None and args.epochs \
            and not any(o.status == "error" for o in suite.outcomes):
        from gradcheck.targets.default_target import training_curves

        print(f"training full batch and mini-batch 64 for {args.epochs} epochs each")
        suite.training = training_curves(epochs=args.epochs, seed=config.seed, progress=True)
    if args.json:
        print(f"JSON written to {write_json(suite, args.json)}")
    if html:
        _write_html(suite, html)
    verdict = suite.verdict
    if verdict.status == "not_checked" and suite.outcomes:
        # nothing shows the network wrong and a check could not run: the target could not be used
        first = next(o for o in suite.outcomes if o.status == "error")
        if args.verbose and first.exception is not None:
            traceback.print_exception(first.exception)
        print(f"gradcheck: error: {first.name}: {first.error}", file=sys.stderr)
    if html or args.json:
        print(verdict.headline)  # the verdict stays the last line, after the paths written
    return verdict.exit_code


def _checked(loaded, config, args, verb: str):
    """The suite of one loaded target; a target whose process ends midway keeps the outcomes it
    gave and one more saying why the rest could not run."""
    from gradcheck.results import CheckOutcome, SuiteResult

    done = []
    with SuiteProgress(None) as progress:
        def on_start(check) -> None:
            args.doing = f"{verb} {printable(loaded.label)}, in {check.name}"
            progress.on_start(check)

        def on_outcome(outcome):
            done.append(outcome)
            progress.on_outcome(outcome)

        try:
            return run_suite(loaded.target, config, groups=COMMAND_GROUPS[args.command],
                             on_start=on_start, on_plan=progress.on_plan, on_outcome=on_outcome,
                             progress=progress.progress, **loaded.engine_arguments())
        except TargetGone as gone:
            error = CheckOutcome.could_not_run(TARGET_CHECK, "target", TARGET_DESCRIPTION,
                                               f"{gone.status}: {gone.message}")
            return SuiteResult(target=loaded.label, config=config.to_dict(), outcomes=[*done, error])


def _format_suite(suite, *, verbose: bool) -> str:
    from gradcheck.render.terminal import format_suite

    return format_suite(suite, verbose=verbose)


@contextlib.contextmanager
def _captured_warnings(verbose: int):
    """Warnings (NumPy's overflow, matplotlib's) stay off the terminal; ``-v`` lists them at the end.

    The probes record the warnings that matter as findings; the rest is noise to a shell user.
    """
    mpl_log = logging.getLogger("matplotlib")
    level = mpl_log.level
    if not verbose:
        mpl_log.setLevel(logging.ERROR)  # font fallbacks and the like go through logging
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            yield
    finally:
        mpl_log.setLevel(level)
        if verbose and caught:
            seen = dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)
            print(f"{len(seen)} warning{'s' if len(seen) != 1 else ''} captured during the run:",
                  file=sys.stderr)
            for text in seen:
                print(f"  {text}", file=sys.stderr)


@contextlib.contextmanager
def _lines_written_as_printed():
    """Each line of output reaches a pipe or a log file when it is printed, not at exit.

    Python holds stdout in a block buffer when it is not a terminal, and a process ended by
    SIGTERM (a CI timeout, ``docker stop``) never writes that buffer out: its log would not
    even say what was being checked. A few dozen lines cost nothing to write one by one.
    """
    stream = sys.stdout
    switch = not getattr(stream, "line_buffering", True) and hasattr(stream, "reconfigure")
    if switch:  # a terminal's stdout already is; a StringIO (a caller's capture) has no buffer
        stream.reconfigure(line_buffering=True)
    try:
        yield
    finally:
        if switch:
            stream.reconfigure(line_buffering=False)


def main(argv=None) -> int:
    """The command line: ``argv`` (default ``sys.argv[1:]``, the process's own arguments) ->
    exit status. Called without ``argv`` it is the process's entry point, and a Ctrl-C ends it."""
    whole_process = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = ["gradcheck", *argv]  # recorded in reports so the run can be repeated
    args.doing = "starting"  # what a Ctrl-C interrupts, said in one line
    try:
        with _lines_written_as_printed(), spoken_as(flag_words()), \
                pin_blas(os.environ) as blas, _captured_warnings(args.verbose):
            return _run(args, blas)
    except GradcheckError as exc:
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(f"gradcheck: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        # Ctrl-C is the user's choice, not a crash: one line, no traceback, 128 + SIGINT; a
        # further Ctrl-C of an ending process is ignored (a caller's own handler comes back)
        try:
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread: nothing to hold off
            previous = None
        print(f"\ngradcheck: interrupted while {args.doing}; every array of the network was "
              "restored and no file was left half written", file=sys.stderr)
        if previous is not None and not whole_process:
            signal.signal(signal.SIGINT, previous)
        return INTERRUPTED


#: Exit status of a program stopped by Ctrl-C (SIGINT): 128 + 2.
INTERRUPTED = 130


#: Exit status of a Unix tool whose reader went away (killed by SIGPIPE): 128 + 13.
READER_GONE = 141


def _reader_gone() -> int:
    """The program reading our output closed it (``gradcheck check | head``): stop quietly, as a
    Unix tool ended by SIGPIPE does, instead of a traceback. The parameters were restored on the
    way out, as for any exception; stdout now points at /dev/null so the interpreter's final
    flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's StringIO)
        pass
    return READER_GONE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
