"""Where the time of a full-mode verdict on the 28x28 conv/pool CNN goes: each gradient check's time
and loss evaluations, then what one loss evaluation costs with an entry of each layer perturbed.

    PYTHONPATH=$PWD python scripts/profile_cnn_verdict.py [--jobs 2] [--evaluations 200]

The network and the verdict are those of tests/benchmarks/test_cnn_verdict.py (conv 3x3, ReLU,
conv 3x3 at stride 2, ReLU, 2x2 max-pool, linear; 4 filters, 10 classes, 28x28 one-channel
inputs; the gradient checks of ``gradcheck check`` in full mode). The evaluation costs are taken
on a batch of 20 with the reuse of unchanged layers and, for comparison, without it (the whole
forward each time). Prints the machine and its load average at the start.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from gradcheck import run_suite
from gradcheck.frontends.environment import cpu_model
from tests.corpus.shapes import conv_pool, glue


def _network():
    return conv_pool.build(seed=0, size=28, channels=1, filters=4, classes=10, stride=2)


def profile_checks(jobs: int) -> None:
    target = glue.conv_pool(_network())
    started: dict[str, float] = {}

    def on_outcome(outcome):
        seconds = time.perf_counter() - started[outcome.name]
        result = outcome.result
        evaluations = sum(p.n_loss_evals for p in getattr(result, "params", []) or [])
        print(f"  {outcome.name:40s} {outcome.status:7s} {seconds:7.2f} s  {evaluations:7,d} evaluations")
        for note in getattr(result, "notes", []) or []:
            if "corner" in note or "examples at the full size" in note:
                print(f"      {note}")

    begin = time.perf_counter()
    suite = run_suite(target, mode="full", groups=("gradients",), jobs=jobs,
                      on_start=lambda check: started.__setitem__(check.name, time.perf_counter()),
                      on_outcome=on_outcome)
    print(f"  verdict {suite.verdict.status.upper()} in {time.perf_counter() - begin:.2f} s")


def evaluation_costs(evaluations: int) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 1, 28, 28)), rng.integers(0, 10, 20)
    for reuse in (True, False):
        target = glue.conv_pool(_network())
        if not reuse:
            target._memo = None
        target.loss(X, y)
        costs = []
        for name in ("W1", "W2", "W3"):
            array = target.params[name].reshape(-1)
            begin = time.perf_counter()
            for i in range(evaluations):
                saved = array[i % array.size]
                array[i % array.size] = saved + 1e-6
                target.loss(X, y)
                array[i % array.size] = saved
            costs.append(f"{name} {1e3 * (time.perf_counter() - begin) / evaluations:.2f} ms")
        print(f"  {'with' if reuse else 'without'} the reuse: " + ", ".join(costs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--evaluations", type=int, default=200)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{cpu_model()}, {os.cpu_count()} cores, load average {load:.1f}")
    print(f"gradient checks, full mode, jobs={args.jobs}:")
    profile_checks(args.jobs)
    print("one loss evaluation at a batch of 20, one entry of each layer perturbed:")
    evaluation_costs(args.evaluations)


if __name__ == "__main__":
    main()
