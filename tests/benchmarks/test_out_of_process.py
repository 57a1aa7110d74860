"""What running the target in a child process costs: a full check of the reference network.

Run with ``pytest tests/benchmarks/test_out_of_process.py --benchmark-only``. ``gradcheck check``
on the default target runs every check of the command (gradients, the float64 re-check, every
probe) on a proxy whose loss and gradients are answered by a child process; ``in_process`` runs
the same suite on the target loaded in this process, as the Python API does. The two medians
differ by what crosses the boundary (every perturbed entry of a parameter goes in one batched
request). Both include loading the target; only ``child`` includes starting its process.
"""

from __future__ import annotations

import sys

import pytest

from gradcheck.config import config_from
from gradcheck.engine import COMMAND_GROUPS, run_suite
from gradcheck.frontends.session import load_target, sandboxed


def _full_check(where: str):
    config = config_from({})
    if where == "in_process":
        loaded = load_target(None, config)
        return run_suite(loaded.target, config, groups=COMMAND_GROUPS["check"], **loaded.engine_arguments())
    with sandboxed(None, config) as loaded:
        return run_suite(loaded.target, config, groups=COMMAND_GROUPS["check"], **loaded.engine_arguments())


@pytest.mark.skipif(sys.platform != "linux", reason="the child's process controls are Linux's")
@pytest.mark.parametrize("where", ["in_process", "child"])
def test_full_check_of_the_reference_network(benchmark, where):
    suite = benchmark.pedantic(_full_check, args=(where,), rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["where"] = where
    assert suite.verdict.label == "passed", suite.verdict.headline
