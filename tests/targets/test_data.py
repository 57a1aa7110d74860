"""The user's own examples: --data files, example_batch(), batches drawn by the seed."""

import sys
from pathlib import Path

import numpy as np
import pytest

from gradcheck.config import CheckConfig
from gradcheck.engine import run_suite
from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.frontends.session import load_target
from gradcheck.targets.data import DataSet, load_data
from gradcheck.targets.tasks import Task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))
from _tasks_style import BinaryNet  # noqa: E402


@pytest.mark.parametrize("name", ["mnist.npz", "lower.npz", "unnamed.npz", "X.npy,y.npy", ".",
                                  "mnist.csv"])
def test_every_format_reads_the_same_examples(mnist_files, mnist, name):
    path = ",".join(str(mnist_files / part) for part in name.split(","))
    data = load_data(path)
    np.testing.assert_allclose(data.X, mnist[0], rtol=1e-9)
    np.testing.assert_array_equal(data.y, mnist[1])


def test_examples_saved_as_columns_are_read_as_rows(tmp_path, mnist):
    np.savez(tmp_path / "cols.npz", X=mnist[0].T, y=mnist[1])
    assert load_data(str(tmp_path / "cols.npz")).X.shape == (300, 784)


@pytest.fixture
def bad_files(tmp_path):
    X, y = np.random.default_rng(0).uniform(size=(10, 784)), np.arange(10) % 10
    np.savez(tmp_path / "keys.npz", inputs=X, labels=y, weights=y)
    np.savez(tmp_path / "short.npz", X=X, y=y[:7])
    nan = X.copy()
    nan[3, 5] = np.nan
    np.savez(tmp_path / "nan.npz", X=nan, y=y)
    np.savez(tmp_path / "narrow.npz", X=X[:, :20], y=y)
    np.savez(tmp_path / "classes.npz", X=X, y=y + 5)
    (tmp_path / "words.csv").write_text("label,a,b\n1,0.5,0.25\n2,zero,0.5\n")
    (tmp_path / "notes.txt").write_text("hello\n")
    return tmp_path


BAD = [  # (file, what the message says)
    ("missing.npz", "no such file or directory"),
    ("keys.npz", "has arrays ['inputs', 'labels', 'weights'], expected X and y"),
    ("short.npz", "X has shape (10, 784) and y (7,): not one label per example"),
    ("nan.npz", "X has 1 NaN or inf value"),
    ("words.csv", "has a value that is not a number"),
    ("notes.txt", "of a kind gradcheck does not read"),
    ("narrow.npz", "the examples have 20 features, the network's first weight matrix"),
    ("classes.npz", "expected integer classes 0..9"),
]


@pytest.mark.parametrize("name, message", BAD)
def test_a_bad_file_is_an_error_naming_the_flag(bad_files, name, message):
    config = CheckConfig(data=str(bad_files / name))
    with pytest.raises(InvalidArgumentError) as info:
        load_target(None, config, flag=lambda name: "--gradcheck-" + name)
    assert info.value.argument == "--gradcheck-data" and message in str(info.value)
    assert "not a readable" not in str(info.value)  # a file that was read is not called unreadable


def test_batches_are_drawn_by_the_seed_and_laid_out_for_the_target(mnist):
    X, y = mnist
    kept = X.copy(), y.copy()
    data = DataSet.from_arrays(X, y)
    task = Task("multiclass", 10, True)
    a = data.batch(16, seed=1, layout="rows", task=task, dtype=np.float64)
    b = data.batch(16, seed=1, layout="rows", task=task, dtype=np.float64)
    c = data.batch(16, seed=2, layout="columns", task=task, dtype=np.float32)
    np.testing.assert_array_equal(a[0], b[0])
    assert c[0].dtype == np.float32 and c[0].shape == (784, 16)
    rows = [int(np.flatnonzero((X == a[0][i]).all(axis=1))[0]) for i in range(16)]
    np.testing.assert_array_equal(a[1], y[rows])  # each label goes with its own image
    assert not np.array_equal(a[0].T, c[0].astype(np.float64))  # another seed, other examples
    missing = data.batch(20, seed=0, layout="rows", task=task, dtype=np.float64, missing_classes=2)
    assert missing[1].max() <= 7
    np.testing.assert_array_equal(X, kept[0])  # the user's arrays are untouched
    np.testing.assert_array_equal(y, kept[1])


def test_binary_labels_from_a_file_take_the_tasks_form(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "b.npz", X=rng.uniform(size=(40, 6)), y=(np.arange(40) % 2))
    loaded = load_target(f"{EXAMPLES / 'binary_correct.py'}:target",
                         CheckConfig(data=str(tmp_path / "b.npz")))
    suite = run_suite(loaded.target, CheckConfig(batch_size=10), **loaded.engine_arguments())
    assert suite.passed and "binary classification, 40 examples from" in loaded.label
    np.savez(tmp_path / "bad.npz", X=rng.uniform(size=(40, 6)), y=np.arange(40) % 3)
    with pytest.raises(InvalidArgumentError, match="expected 0 and 1 for binary classification"):
        load_target(f"{EXAMPLES / 'binary_correct.py'}:target", CheckConfig(data=str(tmp_path / "bad.npz")))


class WithExamples(BinaryNet):
    """A target that brings its own batch (columns layout) and records what its loss sees."""

    def __init__(self):
        super().__init__(layout="columns")
        rng = np.random.default_rng(5)
        self.X = rng.uniform(size=(6, 30))
        self.y = (rng.uniform(size=(1, 30)) > 0.5).astype(float)
        self.seen = []

    def example_batch(self):
        return self.X, self.y

    def loss(self, X, y):
        self.seen.append(X.shape)
        return super().loss(X, y)


def test_example_batch_is_used_when_no_data_is_given():
    net = WithExamples()
    suite = run_suite(net, batch_size=12)
    assert suite.passed
    assert (6, 12) in net.seen  # the main batch: 12 of its 30 examples


def test_example_batch_rows_come_from_the_targets_examples():
    from gradcheck.engine import Context

    net = WithExamples()
    ctx = Context(net, CheckConfig(batch_size=12))
    ctx.dataset = DataSet.for_target(None, net, layout=ctx.layout, task=ctx.task)
    X, y = ctx.main_batch()
    columns = {tuple(col) for col in net.X.T}
    assert X.shape == (6, 12) and y.shape == (1, 12)
    assert all(tuple(col) in columns for col in X.T)


def test_an_example_batch_that_raises_names_it():
    class Broken(WithExamples):
        def example_batch(self):
            raise OSError("train.npz is not there")

    with pytest.raises(ProtocolError, match=r"example_batch\(\) raised OSError"):
        list(run_suite(Broken()).outcomes)
