"""The plugin's --gradcheck-jobs, --gradcheck-data and the task examples, through pytester."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
# 20-16-10 layer objects: 506 parameters, enough for each to be split over two workers
TARGETS = {"correct": f"{EXAMPLES / 'layer_objects_correct.py'}:target",
           "buggy": f"{EXAMPLES / 'layer_objects_buggy.py'}:target"}


@pytest.mark.slow
@pytest.mark.parametrize("which", ["correct", "buggy"])
def test_plugin_gives_the_serial_verdicts_with_two_jobs(pytester, which):
    runs = []
    for jobs in ("1", "2"):
        result = pytester.runpytest("--gradcheck-target", TARGETS[which], "--gradcheck-batch-size",
                                    "12", "--gradcheck-jobs", jobs, "-k", "gradients", "-rA")
        runs.append(result.parseoutcomes())
        lines = sorted(line for line in result.outlines if line.startswith(("PASSED", "FAILED")))
        runs.append(lines)
    assert runs[0] == runs[2] and runs[1] == runs[3]
    # the missing 1/m shows at 12 examples and at the missing-classes batch, not at one example
    assert runs[0].get("failed", 0) == (2 if which == "buggy" else 0)


@pytest.mark.slow
def test_plugin_bad_data_names_the_flag(pytester, tmp_path):
    result = pytester.runpytest("--gradcheck-target", f"{EXAMPLES / 'binary_correct.py'}:target",
                                "--gradcheck-data", str(tmp_path / "nothing.npz"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*could not be loaded: --gradcheck-data: no such file*"])


@pytest.mark.slow
def test_plugin_runs_on_the_users_csv(pytester, mnist_files):
    result = pytester.runpytest("--gradcheck-target", f"{EXAMPLES / 'blog_fixed.py'}:target",
                                "--gradcheck-data", str(mnist_files / "mnist.csv"),
                                "--gradcheck-batch-size", "10", "--gradcheck-mode", "directional",
                                "-k", "gradients", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*check_gradients_batch10 PASSED*"])


@pytest.mark.slow
@pytest.mark.parametrize("task", ["binary", "multilabel", "regression"])
def test_plugin_task_examples(pytester, task):
    correct = pytester.runpytest("--gradcheck-target", f"{EXAMPLES / f'{task}_correct.py'}:target",
                                 "-rs")
    correct.assert_outcomes(passed=9, skipped=1)
    correct.stdout.fnmatch_lines(["*has no class labels to leave out*"])
    buggy = pytester.runpytest("--gradcheck-target", f"{EXAMPLES / f'{task}_buggy.py'}:target",
                               "-k", "gradients_batch8")
    buggy.assert_outcomes(failed=1, deselected=9)
