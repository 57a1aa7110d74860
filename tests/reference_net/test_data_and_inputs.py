"""Data loading and bad inputs: each error names the argument (or file, row, column)."""

import numpy as np
import pytest

from reference_net.data import load_kaggle_csv, load_mnist, train_test_split
from reference_net.errors import DataError, ShapeError
from reference_net.layers import Dense
from reference_net.losses import SoftmaxCrossEntropy
from reference_net.network import build_mlp
from reference_net.optimizers import SGD
from reference_net.training import train

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def _row(label="3", pixel="0", n=784):
    return ",".join([label] + [pixel] * n)


def test_load_mnist_is_real_and_scaled():
    X, y = load_mnist()
    assert X.shape == (5000, 784) and y.shape == (5000,)
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), [500] * 10)


def test_split_is_seeded_and_leaves_inputs_alone():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    before = X.copy()
    a = train_test_split(X, y, n_test=3, seed=1)
    b = train_test_split(X, y, n_test=3, seed=1)
    for left, right in zip(a, b):
        np.testing.assert_array_equal(left, right)
    assert a[0].shape == (7, 2) and a[2].shape == (3, 2)
    assert sorted(np.concatenate([a[1], a[3]])) == list(range(10))
    np.testing.assert_array_equal(X, before)


def test_kaggle_csv_round_trip(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("\n".join([HEADER, _row("3", "255"), _row("0", "0")]) + "\n")
    X, y = load_kaggle_csv(path)
    assert X.shape == (2, 784)
    np.testing.assert_array_equal(y, [3, 0])
    assert X[0].max() == 1.0 and X[1].max() == 0.0


@pytest.mark.parametrize(("lines", "expected"), [
    ([], "empty"),
    ([HEADER], "no data rows"),
    ([HEADER, _row(n=783)], "row 2 has 784 columns"),
    ([HEADER, _row(), _row(pixel="x")], "row 3, column 2: 'x' is not a number"),
    ([HEADER, _row(label="12")], "row 2, column 1"),
    ([HEADER, _row(pixel="256")], "row 2, column 2: pixel '256' is outside 0-255"),
], ids=["empty", "header-only", "short-row", "non-numeric", "label-range", "pixel-range"])
def test_kaggle_csv_errors_name_file_row_and_column(tmp_path, lines, expected):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    with pytest.raises(DataError, match=expected) as info:
        load_kaggle_csv(path)
    assert "bad.csv" in str(info.value)


def test_missing_csv(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_kaggle_csv(tmp_path / "nope.csv")


NET = build_mlp((4, 3, 3), seed=0)
GOOD_X, GOOD_y = np.ones((5, 4)), np.array([0, 1, 2, 0, 1])


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: Dense(4, 3).forward(np.ones((5, 3))), ShapeError, "expected \\(n_examples, 4\\)"),
    (lambda: Dense(0, 3), ShapeError, "n_in"),
    (lambda: NET.loss(np.ones((4, 5)), GOOD_y), ShapeError, "rows are examples"),
    (lambda: SoftmaxCrossEntropy().forward(np.ones((5, 3)), np.array([0, 1, 2, 3, 0])), ShapeError,
     "label 3 is outside 0..2"),
    (lambda: train(NET, GOOD_X, np.array([0, 1, 2, 3, 0]), optimizer=SGD(0.1)), DataError,
     "labels must lie in 0..2"),
    (lambda: train(NET, np.where(np.eye(5, 4) > 0, np.nan, 1.0), GOOD_y, optimizer=SGD(0.1)),
     DataError, "row 0 contains NaN"),
    (lambda: train(NET, GOOD_X, GOOD_y[:4], optimizer=SGD(0.1)), ShapeError, "one label per row"),
    (lambda: train(NET, GOOD_X.astype(int), GOOD_y, optimizer=SGD(0.1)), ShapeError, "float"),
    (lambda: train(NET, GOOD_X, GOOD_y, optimizer=SGD(0.1), batch_size=0), ValueError, "batch_size"),
    (lambda: SGD(-1.0), ValueError, "lr"),
], ids=["dense-width", "dense-zero", "net-transposed", "loss-label", "train-label", "train-nan",
        "train-y-length", "train-int-X", "train-batch", "sgd-lr"])
def test_bad_inputs(call, error, words):
    with pytest.raises(error, match=words):
        call()
