"""What running the target in a child process costs: full checks of the reference network,
alternately in this process and through a child, and the ratio of each pair.

    python scripts/out_of_process_cost.py [PAIRS]

Pairs keep the ratio meaningful on a machine whose speed drifts during the run; quote the median.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gradcheck.frontends.environment import cpu_model  # noqa: E402
from tests.benchmarks.test_out_of_process import _full_check  # noqa: E402


def main(pairs: int = 8) -> None:
    _full_check("in_process")  # warm-up: imports, caches
    _full_check("child")
    seconds: dict[str, list[float]] = {"in_process": [], "child": []}
    for _ in range(pairs):
        for where in seconds:
            started = time.perf_counter()
            suite = _full_check(where)
            seconds[where].append(time.perf_counter() - started)
            assert suite.verdict.label == "passed", suite.verdict.headline
    ratios = [c / i for c, i in zip(seconds["child"], seconds["in_process"])]
    print(f"{pairs} pairs on {os.cpu_count()} cores (nproc), {cpu_model()}")
    for where, values in seconds.items():
        print(f"{where:>10}: median {statistics.median(values):.2f} s "
              f"(min {min(values):.2f}, max {max(values):.2f})")
    print(f"child / in process, pair by pair: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
