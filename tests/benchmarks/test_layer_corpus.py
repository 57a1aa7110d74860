"""The course-layer corpus through the function-pair path, as benchmarks (`tox -e bench`).

- Every correct layer kind on its kind's example arguments at seeds 0-4, float64 and float32
  (false alarms: must be none), and every bug at seeds 0-4 (flagged on exactly its declared
  arguments, and whether the diagnosis names a cause other than "mismatch"); the counts go into
  ``extra_info``.
- The time of one command checking the whole course file, and the notebook in float32.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradcheck
from gradcheck.adapters.function_pairs import find_layer, make_layer
from gradcheck.frontends.cli import main
from tests.corpus.layers import course_layers, dict_style, make_notebooks
from tests.corpus.layers.catalogue import BUGS, LAYERS

SEEDS = range(5)


def _sweep():
    alarms, runs = [], 0
    for kind in LAYERS:
        layer = find_layer(course_layers, kind) or find_layer(dict_style, kind)
        for seed in SEEDS:
            for dtype in (np.float64, np.float32):
                runs += 1
                result = gradcheck.check_function_layer(layer, seed=seed, dtype=dtype)
                if not result.passed:
                    alarms.append((kind, seed, np.dtype(dtype).name, result.failed))
    exact = named = bug_runs = 0
    for bug in BUGS:
        for seed in SEEDS:
            bug_runs += 1
            result = gradcheck.check_function_layer(make_layer(bug.forward, bug.backward, name=bug.kind),
                                                    seed=seed)
            exact += set(result.failed) == set(bug.wrong)
            named += bool({f.kind for f in result.findings if f.is_failure} - {"mismatch"})
    return runs, alarms, bug_runs, exact, named


def test_layer_corpus_false_alarms_detections_and_causes(benchmark):
    runs, alarms, bug_runs, exact, named = benchmark.pedantic(_sweep, rounds=1, iterations=1)
    benchmark.extra_info.update(
        correct_runs=runs, false_alarms=len(alarms), bug_runs=bug_runs, flagged_exactly=exact,
        flagged_exactly_rate=exact / bug_runs, cause_named=named, cause_named_rate=named / bug_runs)
    assert alarms == [], f"false alarms on correct layers: {alarms[:5]}"
    assert exact == bug_runs


@pytest.mark.parametrize(("spec", "options"), [
    ("tests/corpus/layers/course_layers.py:*", []),
    (f"{make_notebooks.COURSE_NOTEBOOK}:*", ["--dtype", "float32"]),
], ids=["course-file", "notebook-float32"])
def test_one_command_checks_a_course_file(benchmark, capsys, spec, options):
    code = benchmark.pedantic(lambda: main(["check", spec, *options]), rounds=3, iterations=1)
    capsys.readouterr()
    assert code == 0
