"""--data on real MNIST, bad files, and the task examples through the command line."""

from pathlib import Path

import pytest

from gradcheck.frontends.cli import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.slow
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


@pytest.mark.parametrize("task, wrong", [("binary", "b2"), ("multilabel", "W1, b1"),
                                         ("regression", "W2")])
def test_cli_task_examples(task, wrong, capsys):
    assert main(["check", f"{EXAMPLES / f'{task}_correct.py'}:target", "--seed", "4"]) == 0
    assert main(["probe", f"{EXAMPLES / f'{task}_correct.py'}:target", "--dtype", "float32"]) == 0
    assert main(["check", f"{EXAMPLES / f'{task}_buggy.py'}:target"]) == 1
    assert f"FAILED: wrong gradient for {wrong}" in capsys.readouterr().out
