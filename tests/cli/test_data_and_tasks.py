"""--data / --gradcheck-data on real MNIST, and the task examples, through both front ends."""

from pathlib import Path

import pytest

from gradcheck.cli import main

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["mnist.npz", "mnist.csv"])
def test_reference_network_on_mnist_from_a_file(mnist_files, capsys, name):
    mode = "full" if name.endswith(".npz") else "directional"  # one full run is enough
    assert main(["check", "--data", str(mnist_files / name), "--batch-size", "16", "--mode", mode]) == 0
    out = capsys.readouterr().out
    assert f"300 examples from {mnist_files / name}" in out
    assert "check_gradients_batch16: 16 examples, from the given data" in out


def test_columns_target_reads_row_files(mnist_files, capsys):
    """The blog network takes examples as columns; the file holds them as rows."""
    assert main(["check", f"{EXAMPLES / 'blog_fixed.py'}:target", "--data",
                 f"{mnist_files / 'X.npy'},{mnist_files / 'y.npy'}", "--batch-size", "10",
                 "--mode", "directional"]) == 0
    assert "examples as columns, 300 examples from" in capsys.readouterr().out


def test_cli_bad_data_names_the_flag(tmp_path, capsys):
    assert main(["check", f"{EXAMPLES / 'binary_correct.py'}:target", "--data",
                 str(tmp_path / "nothing.npz")]) == 2
    assert "--data: no such file or directory" in capsys.readouterr().err


def test_plugin_bad_data_names_the_flag(pytester, tmp_path):
    result = pytester.runpytest("--gradcheck-target", f"{EXAMPLES / 'binary_correct.py'}:target",
                                "--gradcheck-data", str(tmp_path / "nothing.npz"))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*could not be loaded: --gradcheck-data: no such file*"])


def test_plugin_runs_on_the_users_csv(pytester, mnist_files):
    result = pytester.runpytest("--gradcheck-target", f"{EXAMPLES / 'blog_fixed.py'}:target",
                                "--gradcheck-data", str(mnist_files / "mnist.csv"),
                                "--gradcheck-batch-size", "10", "--gradcheck-mode", "directional",
                                "-k", "gradients", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*check_gradients_batch10 PASSED*"])


@pytest.mark.parametrize("task, wrong", [("binary", "b2"), ("multilabel", "W1, b1"),
                                         ("regression", "W2")])
def test_cli_task_examples(task, wrong, capsys):
    assert main(["check", f"{EXAMPLES / f'{task}_correct.py'}:target", "--seed", "4"]) == 0
    assert main(["probe", f"{EXAMPLES / f'{task}_correct.py'}:target", "--dtype", "float32"]) == 0
    assert main(["check", f"{EXAMPLES / f'{task}_buggy.py'}:target"]) == 1
    assert f"FAILED: wrong gradient for {wrong}" in capsys.readouterr().out


@pytest.mark.parametrize("task", ["binary", "multilabel", "regression"])
def test_plugin_task_examples(pytester, task):
    correct = pytester.runpytest("--gradcheck-target", f"{EXAMPLES / f'{task}_correct.py'}:target",
                                 "-rs")
    correct.assert_outcomes(passed=9, skipped=1)
    correct.stdout.fnmatch_lines(["*has no class labels to leave out*"])
    buggy = pytester.runpytest("--gradcheck-target", f"{EXAMPLES / f'{task}_buggy.py'}:target",
                               "-k", "gradients_batch8")
    buggy.assert_outcomes(failed=1, deselected=9)
