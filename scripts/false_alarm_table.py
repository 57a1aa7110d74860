"""Run every gradient check (every mode) and every probe over the corpus of correct and buggy networks.

    python scripts/false_alarm_table.py [docs/false-alarms.md] [--jobs 2] [--seeds 10] [--quick]

Correct networks (tests/corpus/networks.py) go through every check -- the gradient check in its
full, sample and directional modes, and every probe -- at batch sizes 1, 2, 8, 32 and 128, seeds
0-9, float64 and float32: every failing verdict is a false alarm, and every result that could not
judge something is counted as not judged (it says so; it is never a pass). The same networks
with injected bugs (tests/corpus/sweep.py) and the bugs written into each style's own code
(NATIVE_BUGS) go through the gradient check in every mode at batch sizes 2, 8 and 32, seeds 0-2,
both dtypes: a bug is detected when the check fails, reported when it says it could not judge,
and a silent pass when it passes. Named and hint fits are counted in the full mode, where every
entry is compared: named when exactly the parameters the bug makes wrong fail, the hint fits
when every failure on them has a kind and a hint in the code's own terms. Prints the tables,
every false alarm, silent pass and misfit; with a page's path, rewrites its section between
``<!-- false-alarms:start -->`` and ``<!-- false-alarms:end -->``.
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

from gradcheck.frontends.environment import cpu_model  # noqa: E402
from tests.corpus.networks import STYLES  # noqa: E402
from tests.corpus.sweep import (  # noqa: E402
    BATCHES,
    BUG_BATCHES,
    BUGS,
    CHECKS,
    MODES,
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
        status, message = run_check(check, style, n, seed, dtype)
    except Exception as exc:  # a crash of the checker on a correct network is a false alarm too
        status, message = "failed", f"raised {type(exc).__name__}: {exc}"
    return args, status, message


def _bug_cell(args):
    bug_index, style, n, seed, dtype, mode = args
    try:
        status, named, kinds = run_bug(BUGS[bug_index], style, n, seed, dtype, mode)
    except Exception as exc:  # the checker crashing on a buggy network is a miss
        status, named, kinds = "passed", False, f"raised {type(exc).__name__}"
    return args, status, named, kinds


def _native_cell(args):
    bug_index, n, seed, dtype, mode = args
    try:
        status, named, misfits, kinds = run_native(NATIVE_BUGS[bug_index], n, seed, dtype, mode)
    except Exception as exc:  # the checker crashing on a buggy network is a miss
        status, named, misfits, kinds = "passed", False, [f"raised {type(exc).__name__}: {exc}"], "raised"
    return args, status, named, misfits, kinds


def run(jobs: int, seeds: int, bug_seeds: int, batches=BATCHES):
    with ProcessPoolExecutor(jobs) as pool:
        correct = list(pool.map(_correct_cell, correct_grid(seeds, batches), chunksize=4))
        bugs = list(pool.map(_bug_cell, bug_grid(bug_seeds), chunksize=4))
        native = list(pool.map(_native_cell, native_grid(bug_seeds), chunksize=4))
    return correct, bugs, native


def native_table(native) -> list[str]:
    rows = defaultdict(Counter)
    kinds = defaultdict(Counter)
    for (bug_index, _, _, _, mode), status, named, misfits, kind in native:
        row = rows[bug_index]
        row["runs"] += 1
        row[status] += 1
        if mode == "full":
            row["full"] += 1
            row["named"] += named
            row["fits"] += status == "failed" and not misfits
            kinds[bug_index][kind] += 1
    lines = ["| style | bug written into its code | wrong parameters | runs | detected | not judged | "
             "silent passes | full mode: right parameters named | hint fits | finding kinds |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for i, bug in enumerate(NATIVE_BUGS):
        row = rows[i]
        common = ", ".join(f"{k or '-'} ({c})" for k, c in kinds[i].most_common(3))
        lines.append(f"| `{bug.style}` | `{bug.name}` | {', '.join(sorted(bug.wrong))} | {row['runs']} | "
                     f"{row['failed']} | {row['inconclusive']} | {row['passed']} | "
                     f"{row['named']}/{row['full']} | {row['fits']}/{row['full']} | {common} |")
    total = Counter()
    for row in rows.values():
        total.update(row)
    lines.append(f"| all | {len(NATIVE_BUGS)} bugs | | {total['runs']} | **{total['failed']}** | "
                 f"{total['inconclusive']} | **{total['passed']}** | **{total['named']}/{total['full']}** | "
                 f"**{total['fits']}/{total['full']}** | |")
    return lines


def bug_table(bugs) -> list[str]:
    rows = defaultdict(Counter)
    kinds = defaultdict(Counter)
    for (bug_index, _, _, _, _, mode), status, named, kind in bugs:
        row = rows[BUGS[bug_index].name, mode]
        row["runs"] += 1
        row[status] += 1
        row["named"] += named
        kinds[BUGS[bug_index].name, mode][kind] += 1
    lines = ["| injected bug | mode | runs | detected | not judged | silent passes | right parameter named | "
             "finding kinds |", "|---|---|---|---|---|---|---|---|"]
    total = Counter()
    for bug in BUGS:
        for mode in MODES:
            row = rows[bug.name, mode]
            total.update(row)
            common = ", ".join(f"{k or '-'} ({c})" for k, c in kinds[bug.name, mode].most_common(3))
            lines.append(f"| `{bug.name}` | {mode} | {row['runs']} | {row['failed']} | {row['inconclusive']} | "
                         f"{row['passed']} | {row['named']} | {common} |")
    lines.append(f"| all | | {total['runs']} | **{total['failed']}** | {total['inconclusive']} | "
                 f"**{total['passed']}** | {total['named']} | |")
    return lines


def machine() -> str:
    """The machine a run's time belongs to: cores this process may use, the CPU model, versions."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    text = (f"{cores} cores (nproc), {cpu_model()}, Python {platform.python_version()}, "
            f"NumPy {np.__version__}")
    if hasattr(os, "getloadavg"):  # the run's time depends on what else the machine was doing
        text += f", load average {os.getloadavg()[0]:.1f} at the end"
    return text


def tables(correct, bugs, native, seeds, bug_seeds, batches, seconds, command) -> str:
    runs, alarms, undecided = Counter(), Counter(), Counter()
    for (check, style, *_), status, _ in correct:
        runs[style, check] += 1
        alarms[style, check] += status == "failed"
        undecided[style, check] += status == "inconclusive"

    def cell(keys):
        text = f"{sum(alarms[k] for k in keys)}/{sum(runs[k] for k in keys)}"
        held = sum(undecided[k] for k in keys)
        return text + (f" ({held} not judged)" if held else "")

    header = "| style | " + " | ".join(CHECKS) + " | false alarms |"
    lines = [header, "|---|" + "---|" * (len(CHECKS) + 1)]
    for style in STYLES:
        total = sum(alarms[style, c] for c in CHECKS)
        lines.append(f"| `{style}` | " + " | ".join(cell([(style, c)]) for c in CHECKS) + f" | **{total}** |")
    lines.append("| all | " + " | ".join(cell([(s, c) for s in STYLES]) for c in CHECKS)
                 + f" | **{sum(alarms.values())}/{sum(runs.values())}** |")
    return "\n".join([
        "**Correct networks, every check.** False alarms / runs, batch sizes "
        f"{', '.join(map(str, batches))} (shapes and example order build their own batches), "
        f"seeds 0-{seeds - 1}, float64 and float32. `gradients` is the "
        "full mode; `gradients_sample` and `gradients_directional` the cheaper modes. A result "
        "that could not judge something says so and is counted as not judged, never as a pass.",
        "",
        *lines,
        "",
        "**Injected bugs, every mode.** The same networks with one bug injected into one "
        "parameter's gradient: gradient check, "
        f"batch sizes {', '.join(map(str, BUG_BATCHES))}, seeds 0-{bug_seeds - 1}, float64 and "
        f"float32, {len(STYLES)} styles; a silent pass is a bug whose check passed.",
        "",
        *bug_table(bugs),
        "",
        "**Bugs written into each style's own code**, the way that style gets them wrong: "
        "gradient check in every mode, batch sizes "
        f"{', '.join(map(str, BUG_BATCHES))}, seeds 0-{bug_seeds - 1}, both dtypes. Named and hint "
        "fits are counted in the full mode: exactly the wrong parameters fail, and every failure on "
        "them has the kind and the words the bug calls for, and none the style must not hear.",
        "",
        *native_table(native),
        "",
        f"Generated by `{command}` in {seconds:.0f} s on {machine()}.",
    ])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", help="Markdown page whose false-alarms section to rewrite")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--bug-seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="batch sizes 1 and 8, 2 seeds")
    args = parser.parse_args(argv)
    seeds, batches = QUICK if args.quick else (args.seeds, BATCHES)
    started = time.perf_counter()
    correct, bugs, native = run(args.jobs, seeds, min(args.bug_seeds, seeds), batches)
    command = "python scripts/false_alarm_table.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = tables(correct, bugs, native, seeds, min(args.bug_seeds, seeds), batches,
                  time.perf_counter() - started, command.strip())
    print(text)
    alarms = [(cell, message) for cell, status, message in correct if status == "failed"]
    for (check, style, n, seed, dtype), message in alarms:
        print(f"FALSE ALARM {style} {check} batch {n} seed {seed} {np.dtype(dtype).name}: {message[:200]}")
    silent = 0
    for (bug_index, style, n, seed, dtype, mode), status, _, _ in bugs:
        if status == "passed":
            silent += 1
            print(f"SILENT PASS {BUGS[bug_index].name} {style} {mode} batch {n} seed {seed} "
                  f"{np.dtype(dtype).name}")
    for (bug_index, n, seed, dtype, mode), status, named, misfits, kinds in native:
        silent += status == "passed"
        if status == "passed" or (mode == "full" and not (status == "failed" and named and not misfits)):
            bug = NATIVE_BUGS[bug_index]
            print(f"NATIVE {bug.style} {bug.name} {mode} batch {n} seed {seed} {np.dtype(dtype).name}: "
                  f"{status}, named {named}, kinds {kinds or '-'}; {'; '.join(misfits)[:300]}")
    if args.page:
        path = Path(args.page)
        page = path.read_text()
        if START not in page or END not in page:
            print(f"{path}: no {START} ... {END} section to rewrite", file=sys.stderr)
            return 2
        head, rest = page.split(START, 1)
        _, tail = rest.split(END, 1)
        tmp = path.with_suffix(".md.tmp")
        tmp.write_text(f"{head}{START}\n{text}\n{END}{tail}")
        tmp.replace(path)
    return 1 if alarms or silent else 0


if __name__ == "__main__":
    raise SystemExit(main())
