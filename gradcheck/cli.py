"""The ``gradcheck`` command line.

Exit codes: 0 every check passed, 1 a check failed, 2 the target could not be loaded or used.
"""

from __future__ import annotations

import argparse
import sys
import traceback

import numpy as np

from gradcheck.conformance import check_target_gradients
from gradcheck.errors import GradcheckError
from gradcheck.render.json_report import write_json
from gradcheck.targets.batches import synthetic_batch
from gradcheck.targets.loading import load_object
from gradcheck.targets.protocol import as_target


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description="Tell whether a from-scratch neural network's gradients are right.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check a target's gradients against finite differences")
    check.add_argument("target", nargs="?", default=None,
                       help="package.module:attr or path/to/file.py:attr (default: the reference network "
                            "on real MNIST)")
    check.add_argument("--mode", choices=["full", "sample", "directional"], default="full")
    check.add_argument("--method", choices=["central", "richardson"], default="central")
    check.add_argument("--samples", type=int, default=None, help="entries per parameter in sample mode")
    check.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                       help="dtype of the data (and of the reference network)")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--batch-size", type=int, default=64)
    check.add_argument("--layout", choices=["rows", "columns"], default=None,
                       help="examples as rows or columns of X (default: declared, else detected)")
    check.add_argument("--json", metavar="PATH", default=None, help="also write the result as JSON")
    check.add_argument("--verbose", action="store_true", help="show tracebacks of errors")
    return parser


def _reference_target_and_batch(args):
    from reference_net.data import load_mnist
    from reference_net.network import build_mlp

    net = build_mlp((784, 10, 10), seed=args.seed, dtype=np.dtype(args.dtype))
    X, y = load_mnist()
    rows = np.random.default_rng(args.seed).choice(len(y), size=args.batch_size, replace=False)
    return net, X[rows].astype(args.dtype), y[rows], "reference network 784-10-10 on real MNIST"


def _progress(total_hint: bool):
    if not total_hint or not sys.stderr.isatty():
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=0, unit="entry", leave=False, file=sys.stderr)

    def update(done, total):
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar


def _run_check(args) -> int:
    if args.batch_size < 1:
        raise GradcheckError(f"--batch-size: got {args.batch_size}, expected a positive integer")
    if args.target is None:
        target, X, y, label = _reference_target_and_batch(args)
    else:
        target = as_target(load_object(args.target), label=args.target)
        X, y, layout = synthetic_batch(target, args.batch_size, seed=args.seed, layout=args.layout,
                                       dtype=np.dtype(args.dtype))
        label = f"{args.target} (examples as {layout}, synthetic batch of {args.batch_size})"
    print(f"checking {label}")
    progress, bar = _progress(args.mode == "full")
    try:
        result = check_target_gradients(target, X, y, mode=args.mode, method=args.method,
                                        samples=args.samples, seed=args.seed, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    print(result)
    if args.json:
        path = write_json(result, args.json)
        print(f"JSON written to {path}")
    return 0 if result.passed else 1


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return _run_check(args)
    except GradcheckError as exc:
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(f"gradcheck: error: {exc}", file=sys.stderr)
        return 2
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
