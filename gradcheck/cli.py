"""The ``gradcheck`` command line: ``check``, ``probe`` and ``report``.

Exit codes: 0 every check passed, 1 a check failed, 2 the target could not be loaded or used
(or a file could not be written).
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gradcheck.conformance import check_target_gradients, probe_target
from gradcheck.errors import GradcheckError
from gradcheck.render.json_report import write_json
from gradcheck.targets.batches import synthetic_batch
from gradcheck.targets.builders import dtype_builder
from gradcheck.targets.loading import load_object
from gradcheck.targets.protocol import as_target

TARGET_HELP = ("package.module:attr or path/to/file.py:attr (default: the reference network "
               "784-10-10 on real MNIST)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", default=None, help=TARGET_HELP)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                        help="dtype of the data (and of the reference network)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and of sampling")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--layout", choices=["rows", "columns"], default=None,
                        help="examples as rows or columns of X (default: declared, else detected)")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks of errors")


def _gradient_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=["full", "sample", "directional"], default="full")
    parser.add_argument("--method", choices=["central", "richardson"], default="central")
    parser.add_argument("--samples", type=int, default=None,
                        help="entries per parameter in sample mode")
    parser.add_argument("--max-seconds", type=float, default=60.0,
                        help="refuse a check estimated to take longer (default 60; 0 = no limit)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description="Tell whether a from-scratch neural network's gradients are right, and "
                    "where it stops being numerically stable.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check a target's gradients against finite differences")
    _common(check)
    _gradient_options(check)
    check.add_argument("--json", metavar="PATH", default=None, help="also write the result as JSON")
    check.add_argument("--html", metavar="PATH", default=None, help="also write an HTML report")
    probe = sub.add_parser("probe", help="run the numerical-stability probes on a target")
    _common(probe)
    probe.add_argument("--json", metavar="PATH", default=None, help="also write the results as JSON")
    probe.add_argument("--html", metavar="PATH", default=None, help="also write an HTML report")
    report = sub.add_parser("report", help="gradient check and probes, written as one HTML page")
    _common(report)
    _gradient_options(report)
    report.add_argument("-o", "--output", metavar="PATH", default=None,
                        help="HTML file to write (default: reports/<target name>.html)")
    report.add_argument("--json", metavar="PATH", default=None,
                        help="also write the report's data as JSON")
    report.add_argument("--epochs", type=int, default=30,
                        help="epochs of the full-batch versus mini-batch curves (reference "
                             "network only; 0 to skip)")
    return parser


@dataclass
class _Loaded:
    """A target ready to run: the object, one batch in its layout, and how to describe it."""

    target: Any
    X: np.ndarray
    y: np.ndarray
    label: str
    name: str
    build: Any = None  # dtype -> target of the same network, when it can be made


def _load(args) -> _Loaded:
    if args.batch_size < 1:
        raise GradcheckError(f"--batch-size: got {args.batch_size}, expected a positive integer")
    dtype = np.dtype(args.dtype)
    if args.target is None:
        from gradcheck.default_target import DefaultTarget, default_target

        default = default_target(batch_size=args.batch_size, seed=args.seed, dtype=dtype)
        return _Loaded(default.target, default.X, default.y, default.label, "reference_net",
                       build=lambda dt: DefaultTarget.build(dt, seed=args.seed))
    obj = load_object(args.target)
    target = as_target(obj, label=args.target)
    X, y, layout = synthetic_batch(target, args.batch_size, seed=args.seed, layout=args.layout,
                                   dtype=dtype)
    label = f"{args.target} (examples as {layout}, synthetic batch of {args.batch_size})"
    stem = Path(args.target.rsplit(":", 1)[0]).stem.rsplit(".", 1)[-1]
    return _Loaded(target, X, y, label, re.sub(r"[^A-Za-z0-9_.-]", "_", stem) or "target",
                   build=dtype_builder(obj))


def _progress(enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=0, unit="entry", leave=False, file=sys.stderr)

    def update(done, total):
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar


def _gradients(args, loaded: _Loaded):
    progress, bar = _progress(args.mode == "full")
    try:
        return check_target_gradients(loaded.target, loaded.X, loaded.y, mode=args.mode,
                                      method=args.method, samples=args.samples, seed=args.seed,
                                      progress=progress, max_seconds=args.max_seconds or None)
    finally:
        if bar is not None:
            bar.close()


def _probes(args, loaded: _Loaded):
    return probe_target(loaded.target, seed=args.seed, dtype=np.dtype(args.dtype),
                        batch=(loaded.X, loaded.y), build=loaded.build)


def _write_html(args, loaded: _Loaded, path, *, gradients=None, probes=None, training=None):
    from gradcheck.environment import collect_environment
    from gradcheck.render.html_report import write_html
    from gradcheck.report import Report

    report = Report.build(
        loaded.label, gradients=gradients, probes=[] if probes is None else probes.to_dict()["probes"],
        training=training, environment=collect_environment(seed=args.seed, dtype=args.dtype,
                                                           argv=args.argv))
    written = write_html(report, path)
    print(f"HTML report written to {written}")
    return report


def _check_outputs(*paths) -> None:
    """Fail before the work, not after it, when an output file cannot be written."""
    from gradcheck.render.atomic import check_writable

    for path in paths:
        if path:
            check_writable(path)


def _run_one(args, verb: str, run, html_key: str) -> int:
    """Load, run one engine (gradients or probes), print it, write --json and --html."""
    loaded = _load(args)
    _check_outputs(args.json, args.html)
    print(f"{verb} {loaded.label}")
    result = run(args, loaded)
    print(result)
    if args.json:
        print(f"JSON written to {write_json(result, args.json)}")
    if args.html:
        _write_html(args, loaded, args.html, **{html_key: result})
    return 0 if result.passed else 1


def _run_check(args) -> int:
    return _run_one(args, "checking", _gradients, "gradients")


def _run_probe(args) -> int:
    return _run_one(args, "probing", _probes, "probes")


def _run_report(args) -> int:
    if args.epochs < 0:
        raise GradcheckError(f"--epochs: got {args.epochs}, expected 0 or more")
    loaded = _load(args)
    path = args.output or Path("reports") / f"{loaded.name}.html"
    _check_outputs(path, args.json)
    print(f"checking and probing {loaded.label}")
    gradients = _gradients(args, loaded)
    suite = _probes(args, loaded)
    training = None
    if args.target is None and args.epochs:
        from gradcheck.default_target import training_curves

        print(f"training full batch and mini-batch 64 for {args.epochs} epochs each")
        training = training_curves(epochs=args.epochs, seed=args.seed)
    report = _write_html(args, loaded, path, gradients=gradients, probes=suite, training=training)
    if args.json:
        print(f"JSON written to {write_json(report, args.json)}")
    print(report.summary)
    return 0 if report.passed else 1


COMMANDS = {"check": _run_check, "probe": _run_probe, "report": _run_report}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = ["gradcheck", *argv]  # recorded in reports so the run can be repeated
    try:
        return COMMANDS[args.command](args)
    except GradcheckError as exc:
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(f"gradcheck: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
