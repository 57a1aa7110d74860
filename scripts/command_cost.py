"""The wall time of one ``gradcheck`` command under two versions of gradcheck, run alternately.

    python scripts/command_cost.py BEFORE AFTER PAIRS -- check examples/course_layers_buggy.py:*

``BEFORE`` and ``AFTER`` are source trees of gradcheck (two checkouts); each run is
``python -m gradcheck ARGS`` in a fresh process with that tree first on ``PYTHONPATH``, from the
folder this is started in. Runs alternate (before, after, before, ...) so a machine whose speed
drifts changes both alike; quote the median of the pair-by-pair ratios. The exit status of every
run must be the first run's.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gradcheck.frontends.environment import cpu_model  # noqa: E402


def run(tree: str, args: list[str]) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gradcheck", *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started, done.returncode


def main(before: str, after: str, pairs: int, args: list[str]) -> None:
    run(before, args)  # warm-up: the file cache, compiled modules
    _, code = run(after, args)
    seconds: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(pairs):
        for label, tree in (("before", before), ("after", after)):
            elapsed, status = run(tree, args)
            if status != code:
                raise SystemExit(f"{label}: exit status {status}, expected {code}")
            seconds[label].append(elapsed)
    ratios = [a / b for a, b in zip(seconds["after"], seconds["before"])]
    print(f"gradcheck {' '.join(args)}: {pairs} pairs on {os.cpu_count()} cores (nproc), {cpu_model()}, "
          f"exit status {code}")
    for label, values in seconds.items():
        print(f"{label:>7}: median {statistics.median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f})")
    print(f"after / before, pair by pair: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    if len(sys.argv) < 6 or sys.argv[4] != "--":
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[5:])
