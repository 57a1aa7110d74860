"""What running the target in a child process costs: a full check of the reference network.

Run with ``pytest tests/benchmarks/test_out_of_process.py --benchmark-only``. ``gradcheck check``
on the default target runs every check of the command (gradients, the float64 re-check, every
probe) on a proxy whose loss and gradients are answered by a child process; ``in_process`` runs
the same suite on the target loaded in this process, as the Python API does. The two medians
differ by what crosses the boundary (every perturbed entry of a parameter goes in one batched
request). Both include loading the target; only ``child`` includes starting its process. The
same for a course's file of function-pair layers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gradcheck.config import config_from
from gradcheck.engine import COMMAND_GROUPS, run_suite
from gradcheck.frontends.session import load_target, sandboxed

#: A course's layer file: 17 function-pair layers, every one correct.
COURSE_LAYERS = str(Path(__file__).resolve().parents[1] / "corpus" / "layers" / "course_layers.py") + ":*"


def _full_check(where: str, spec: str | None = None):
    config = config_from({})
    if where == "in_process":
        loaded = load_target(spec, config)
        return run_suite(loaded.target, config, groups=COMMAND_GROUPS["check"], **loaded.engine_arguments())
    with sandboxed(spec, config) as loaded:
        return run_suite(loaded.target, config, groups=COMMAND_GROUPS["check"], **loaded.engine_arguments())


@pytest.mark.skipif(sys.platform != "linux", reason="the child's process controls are Linux's")
@pytest.mark.parametrize("where", ["in_process", "child"])
def test_full_check_of_the_reference_network(benchmark, where):
    suite = benchmark.pedantic(_full_check, args=(where,), rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["where"] = where
    assert suite.verdict.label == "passed", suite.verdict.headline


@pytest.mark.skipif(sys.platform != "linux", reason="the child's process controls are Linux's")
@pytest.mark.parametrize("where", ["in_process", "child"])
def test_full_check_of_a_course_layer_file(benchmark, where):
    """Function-pair layers: each forward and backward a request, each argument's entries batched."""
    suite = benchmark.pedantic(_full_check, args=(where, COURSE_LAYERS), rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info["where"] = where
    assert suite.verdict.label == "passed", suite.verdict.headline
