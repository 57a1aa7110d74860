"""How often the diagnoses name the structural cause of a bug, per cause, on both bug corpora.

    python scripts/diagnosis_table.py [--seeds 5] [--dtypes float64,float32]
                                      [--modes full,sample,directional]
                                      [--corpus layers,shapes,shapes-flat]
                                      [--jobs 2] [--show wrong,unnamed] [--write docs/diagnosis.md]

Every bug of the layer corpus (checked through check_function_layer on its kind's example
arguments, at each seed) and of the shapes corpus (its network plugged in with the corpus's glue
and checked by run_suite's gradient checks, as a user does; ``shapes-flat``: through
check_gradients on the build's parameters alone; the seed picks batches, sampled entries and
directions) is scored by
tests/corpus/diagnoses.py: named (a failing finding names the declared cause and none another),
wrong (a failing finding names another cause) or unnamed (only "mismatch"). Prints one table per
corpus, dtype and mode, then every run that is wrong (and, with --show unnamed, every unnamed
one) with its messages. Exits 1 when any run is wrong or a bug fails on other parameters than
it declares in full mode. ``--write PAGE`` puts the summary table (per corpus, dtype and mode:
bugs, flagged exactly, cause named, wrong causes), the command and the machine between the
page's ``<!-- diagnosis-table -->`` markers.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from gradcheck.frontends.environment import cpu_model  # noqa: E402
from tests.corpus import diagnoses  # noqa: E402

BUGS = diagnoses.BUGS


def _one(args):
    corpus, index, seed, dtype, mode = args
    return diagnoses.run(corpus, BUGS[corpus][index], seed=seed, dtype=np.dtype(dtype).type, mode=mode)


START, END = "<!-- diagnosis-table -->", "<!-- /diagnosis-table -->"




def summary(outcomes, groups, seeds: int) -> str:
    """The page's table: one row per (corpus, dtype, mode)."""
    rows = ["| corpus | dtype | mode | bugs x seeds | flagged exactly | cause named | wrong causes |",
            "|---|---|---|---:|---:|---:|---:|"]
    for corpus, dtype, mode in groups:
        group = [o for o in outcomes if (o.corpus, o.dtype, o.mode) == (corpus, dtype, mode)]
        if not group:
            continue
        exact = sum(o.exact if mode == "full" else o.flagged for o in group)
        named = sum(o.verdict == "named" for o in group)
        wrong = sum(o.verdict == "wrong" for o in group)
        rows.append(f"| {corpus} | {dtype} | {mode} | {len({o.bug for o in group})} x {seeds} | "
                    f"{exact} of {len(group)} | {named} of {len(group)} ({named / len(group):.0%}) | {wrong} |")
    return "\n".join(rows)


def write_page(path: Path, table: str, argv, seconds: float) -> None:
    """Replace the text between the page's markers with the table, the command and the machine."""
    command = "python scripts/diagnosis_table.py " + " ".join(shlex.quote(a) for a in argv)
    block = (f"{START}\n{table}\n\nMeasured with `{command.strip()}` in {seconds:.0f} s on "
             f"{os.cpu_count()} cores (`nproc`), {cpu_model()}, numpy {np.__version__}, "
             f"{time.strftime('%Y-%m-%d')}.\n{END}")
    text = path.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no {START} ... {END} markers to write the table between")
    path.write_text(pattern.sub(lambda _: block, text))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--modes", default="full")
    parser.add_argument("--corpus", default="layers,shapes")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--show", default="wrong")
    parser.add_argument("--write", type=Path, default=None)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    cells = [(corpus, i, seed, dtype, mode)
             for corpus in args.corpus.split(",") for dtype in args.dtypes.split(",")
             for mode in args.modes.split(",") for seed in range(args.seeds)
             for i in range(len(BUGS[corpus]))]
    start = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            outcomes = list(pool.map(_one, cells, chunksize=4))
    else:
        outcomes = [_one(cell) for cell in cells]
    status = 0
    for corpus in args.corpus.split(","):
        for dtype in args.dtypes.split(","):
            for mode in args.modes.split(","):
                group = [o for o in outcomes if (o.corpus, o.dtype, o.mode) == (corpus, dtype, mode)]
                bugs = {o.bug for o in group}
                print(f"\n{corpus} corpus, {dtype}, {mode} mode: {len(bugs)} bugs x {args.seeds} seeds")
                print(diagnoses.render(diagnoses.table(group)))
                inexact = [o for o in group if not o.exact] if mode == "full" else \
                    [o for o in group if not o.flagged]
                if inexact:
                    status = 1
                    print(f"  {'not exactly' if mode == 'full' else 'not'} flagged: "
                          + ", ".join(sorted({f'{o.bug}@{o.seed}' for o in inexact})))
    shown = set(args.show.split(","))
    for outcome in outcomes:
        if outcome.verdict == "wrong":
            status = 1
        if outcome.verdict in shown:
            print(f"\n{outcome.verdict.upper()} {outcome.corpus} {outcome.bug} ({outcome.cause}) "
                  f"seed {outcome.seed} {outcome.dtype} {outcome.mode}")
            for message in outcome.messages:
                print("   ", message)
    seconds = time.perf_counter() - start
    print(f"\n{len(outcomes)} runs in {seconds:.0f} s")
    if args.write is not None:
        groups = [(c, d, m) for c in args.corpus.split(",") for d in args.dtypes.split(",")
                  for m in args.modes.split(",")]
        write_page(args.write, summary(outcomes, groups, args.seeds), argv, seconds)
    return status


if __name__ == "__main__":
    sys.exit(main())
