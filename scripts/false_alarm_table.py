"""Run every gradient check and every probe over the corpus of correct and buggy networks.

    python scripts/false_alarm_table.py [README.md] [--jobs 2] [--seeds 10] [--quick]

Correct networks (tests/corpus/networks.py, seven styles) go through every check at batch sizes
1, 2, 8, 32 and 128, seeds 0-9, float64 and float32; every failing verdict is a false alarm. The
same networks with injected bugs (tests/corpus/sweep.py) go through the gradient check at batch
sizes 2, 8 and 32, seeds 0-2, both dtypes: a bug is detected when the check fails, and named
when exactly the injected parameter fails. The bugs written into each style's own code
(NATIVE_BUGS in tests/corpus/sweep.py) go through the same grid: detected, named when exactly
the parameters the bug makes wrong fail, and the hint fits when every failure on them has a kind
and a hint in the code's own terms. Prints the tables, every false alarm, every native bug
missed or misnamed and every hint that does not fit; with a
README path, rewrites the section between ``<!-- false-alarms:start -->`` and
``<!-- false-alarms:end -->``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from tests.corpus.networks import STYLES  # noqa: E402
from tests.corpus.sweep import (  # noqa: E402
    BATCHES,
    BUG_BATCHES,
    BUGS,
    CHECKS,
    NATIVE_BUGS,
    QUICK,
    bug_grid,
    correct_grid,
    native_grid,
    run_bug,
    run_check,
    run_native,
)

START, END = "<!-- false-alarms:start -->", "<!-- false-alarms:end -->"


def _correct_cell(args):
    check, style, n, seed, dtype = args
    try:
        passed, message = run_check(check, style, n, seed, dtype)
    except Exception as exc:  # a crash of the checker on a correct network is a false alarm too
        passed, message = False, f"raised {type(exc).__name__}: {exc}"
    return args, passed, message


def _bug_cell(args):
    bug_index, style, n, seed, dtype = args
    try:
        detected, named, kinds = run_bug(BUGS[bug_index], style, n, seed, dtype)
    except Exception as exc:  # the checker crashing on a buggy network is a miss
        detected, named, kinds = False, False, f"raised {type(exc).__name__}"
    return args, detected, named, kinds


def _native_cell(args):
    bug_index, n, seed, dtype = args
    try:
        detected, named, misfits, kinds = run_native(NATIVE_BUGS[bug_index], n, seed, dtype)
    except Exception as exc:  # the checker crashing on a buggy network is a miss
        detected, named, misfits, kinds = False, False, [f"raised {type(exc).__name__}: {exc}"], "raised"
    return args, detected, named, misfits, kinds


def run(jobs: int, seeds: int, bug_seeds: int, batches=BATCHES):
    with ProcessPoolExecutor(jobs) as pool:
        correct = list(pool.map(_correct_cell, correct_grid(seeds, batches), chunksize=4))
        bugs = list(pool.map(_bug_cell, bug_grid(bug_seeds), chunksize=4))
        native = list(pool.map(_native_cell, native_grid(bug_seeds), chunksize=4))
    return correct, bugs, native


def native_table(native) -> list[str]:
    rows = defaultdict(lambda: [0, 0, 0, 0])
    kinds = defaultdict(Counter)
    for (bug_index, *_), detected, named, misfits, kind in native:
        row = rows[bug_index]
        row[0] += 1
        row[1] += detected
        row[2] += named
        row[3] += detected and not misfits
        kinds[bug_index][kind] += 1
    lines = ["| style | bug written into its code | wrong parameters | runs | detected | "
             "right parameters named | hint fits | finding kinds |", "|---|---|---|---|---|---|---|---|"]
    for i, bug in enumerate(NATIVE_BUGS):
        total, detected, named, fits = rows[i]
        common = ", ".join(f"{k or '-'} ({c})" for k, c in kinds[i].most_common(3))
        lines.append(f"| `{bug.style}` | `{bug.name}` | {', '.join(sorted(bug.wrong))} | {total} | "
                     f"{detected} | {named} | {fits} | {common} |")
    totals = [sum(r[k] for r in rows.values()) for k in range(4)]
    lines.append(f"| all | {len(NATIVE_BUGS)} bugs | | {totals[0]} | **{totals[1]}** | **{totals[2]}** | "
                 f"**{totals[3]}** | |")
    return lines


def tables(correct, bugs, native, seeds, bug_seeds, batches, seconds) -> str:
    runs, alarms = Counter(), Counter()
    for (check, style, *_), passed, _ in correct:
        runs[style, check] += 1
        alarms[style, check] += not passed
    header = "| style | " + " | ".join(CHECKS) + " | false alarms |"
    lines = [header, "|---|" + "---|" * (len(CHECKS) + 1)]
    for style in STYLES:
        cells = [f"{alarms[style, c]}/{runs[style, c]}" for c in CHECKS]
        total = sum(alarms[style, c] for c in CHECKS)
        lines.append(f"| `{style}` | " + " | ".join(cells) + f" | **{total}** |")
    total_alarms, total_runs = sum(alarms.values()), sum(runs.values())
    lines.append("| all | " + " | ".join(f"{sum(alarms[s, c] for s in STYLES)}/"
                                          f"{sum(runs[s, c] for s in STYLES)}" for c in CHECKS)
                 + f" | **{total_alarms}/{total_runs}** |")
    by_bug = defaultdict(lambda: [0, 0, 0])
    kinds = defaultdict(Counter)
    for (bug_index, *_), detected, named, kind in bugs:
        row = by_bug[BUGS[bug_index].name]
        row[0] += 1
        row[1] += detected
        row[2] += named
        kinds[BUGS[bug_index].name][kind] += 1
    bug_lines = ["| injected bug | runs | detected | right parameter named | finding kinds |",
                 "|---|---|---|---|---|"]
    for bug in BUGS:
        total, detected, named = by_bug[bug.name]
        common = ", ".join(f"{k or '-'} ({c})" for k, c in kinds[bug.name].most_common(3))
        bug_lines.append(f"| `{bug.name}` | {total} | {detected} | {named} | {common} |")
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"NumPy {np.__version__}")
    if hasattr(os, "getloadavg"):  # the run's time depends on what else the machine was doing
        machine += f", load average {os.getloadavg()[0]:.1f} at the end"
    return "\n".join([
        f"Correct networks, every check: false alarms / runs, batch sizes {', '.join(map(str, batches))} "
        f"(shapes and example order build their own batches), seeds 0-{seeds - 1}, float64 and float32:",
        "",
        *lines,
        "",
        f"The same networks with one injected bug each (gradient check, batch sizes "
        f"{', '.join(map(str, BUG_BATCHES))}, seeds 0-{bug_seeds - 1}, both dtypes, "
        f"seven styles):",
        "",
        *bug_lines,
        "",
        f"Bugs written into each style's own code, the way that style gets them wrong (gradient "
        f"check, batch sizes {', '.join(map(str, BUG_BATCHES))}, seeds 0-{bug_seeds - 1}, both dtypes); "
        "named: exactly the wrong parameters fail; hint fits: every failure on them has the kind "
        "and the words the bug calls for, and none the style must not hear:",
        "",
        *native_table(native),
        "",
        f"Generated by `python scripts/false_alarm_table.py README.md` in {seconds:.0f} s on {machine}.",
    ])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", nargs="?", help="README to rewrite between the markers")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--bug-seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="batch sizes 1 and 8, 2 seeds")
    args = parser.parse_args(argv)
    seeds, batches = QUICK if args.quick else (args.seeds, BATCHES)
    started = time.perf_counter()
    correct, bugs, native = run(args.jobs, seeds, min(args.bug_seeds, seeds), batches)
    text = tables(correct, bugs, native, seeds, min(args.bug_seeds, seeds), batches,
                  time.perf_counter() - started)
    print(text)
    alarms = [(cell, message) for cell, passed, message in correct if not passed]
    for (check, style, n, seed, dtype), message in alarms:
        print(f"FALSE ALARM {style} {check} batch {n} seed {seed} {np.dtype(dtype).name}: {message[:200]}")
    for (bug_index, n, seed, dtype), detected, named, misfits, kinds in native:
        if not (detected and named and not misfits):
            bug = NATIVE_BUGS[bug_index]
            print(f"NATIVE {bug.style} {bug.name} batch {n} seed {seed} {np.dtype(dtype).name}: "
                  f"detected {detected}, named {named}, kinds {kinds or '-'}; {'; '.join(misfits)[:300]}")
    if args.readme:
        path = Path(args.readme)
        readme = path.read_text()
        if START not in readme or END not in readme:
            print(f"{path}: no {START} ... {END} section to rewrite", file=sys.stderr)
            return 2
        head, rest = readme.split(START, 1)
        _, tail = rest.split(END, 1)
        tmp = path.with_suffix(".md.tmp")
        tmp.write_text(f"{head}{START}\n{text}\n{END}{tail}")
        tmp.replace(path)
    return 1 if alarms else 0


if __name__ == "__main__":
    raise SystemExit(main())
