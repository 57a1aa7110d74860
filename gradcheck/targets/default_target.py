"""The default target of the command line: the reference network 784-10-10 on real MNIST.

The command line and the report use it when no TARGET is given. It imports reference_net
lazily so that the checker itself never depends on the reference network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Widths of the first article's network.
SIZES = (784, 10, 10)
LABEL = "reference network 784-10-10 on real MNIST"


@dataclass
class DefaultTarget:
    """The reference network, one MNIST batch, and a builder for other dtypes.

    X : (batch_size, 784) pixels in [0, 1]; y : (batch_size,) digit labels.
    """

    target: Any
    X: np.ndarray
    y: np.ndarray
    label: str = LABEL

    @staticmethod
    def build(dtype=np.float64, *, seed: int = 0):
        from reference_net.network import build_mlp

        return build_mlp(SIZES, seed=seed, dtype=np.dtype(dtype))


def default_target(*, batch_size: int = 64, seed: int = 0, dtype=np.float64) -> DefaultTarget:
    """The reference network (seeded) and ``batch_size`` MNIST images chosen with ``seed``."""
    from reference_net.data import load_mnist

    X, y = load_mnist()
    if batch_size > len(y):
        from gradcheck.errors import InvalidArgumentError

        raise InvalidArgumentError(
            "batch_size", f"got {batch_size:,}, more than the {len(y):,} MNIST images shipped "
            "with the reference network.", f"Pass a batch size of at most {len(y):,}.")
    rows = np.random.default_rng(seed).choice(len(y), size=batch_size, replace=False)
    net = DefaultTarget.build(dtype, seed=seed)
    return DefaultTarget(net, X[rows].astype(dtype), y[rows])


def training_curves(*, epochs: int = 30, seed: int = 0, progress: bool = False) -> dict[str, dict[str, list]]:
    """Train the reference network full-batch and with mini-batches of 64 on 4,000 MNIST
    images (1,000 held out), ``epochs`` passes each; per-epoch curves for the report.

    Returns run name -> ``{"epoch", "loss" (mean over the epoch's steps), "train_acc",
    "val_acc"}``, accuracies as fractions. ``progress=True``: a bar per run on a terminal's stderr.
    """
    from reference_net.data import load_mnist, train_test_split
    from reference_net.optimizers import SGD
    from reference_net.training import train

    X, y = load_mnist()
    X_train, y_train, X_val, y_val = train_test_split(X, y, n_test=1000, seed=seed)
    curves = {}
    for name, batch_size in (("full batch", None), ("mini-batch 64", 64)):
        net = DefaultTarget.build(seed=seed)
        history = train(net, X_train, y_train, optimizer=SGD(lr=0.1), epochs=epochs,
                        batch_size=batch_size, X_val=X_val, y_val=y_val, seed=seed,
                        progress=progress and f"training {name}")
        curves[name] = _per_epoch(history)
    return curves


def _per_epoch(history) -> dict[str, list]:
    epochs = np.asarray(history.epoch)
    out: dict[str, list] = {"epoch": [], "loss": [], "train_acc": [], "val_acc": []}
    for epoch in np.unique(epochs):
        rows = np.flatnonzero(epochs == epoch)
        out["epoch"].append(int(epoch) + 1)  # passes completed, 1-based
        out["loss"].append(float(np.mean(np.asarray(history.loss)[rows])))
        out["train_acc"].append(float(np.mean(np.asarray(history.train_accuracy)[rows])))
        out["val_acc"].append(float(np.asarray(history.val_accuracy)[rows[-1]]))
    return out
