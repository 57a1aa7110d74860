"""Training loops: full-batch and mini-batch gradient descent with a non-finite guard.

Rows are examples: X (n, n_in) float, y (n,) integer class labels.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from reference_net.clipping import clip_by_global_norm, clip_by_value
from reference_net.errors import DataError, NonFiniteError, ShapeError


@dataclass
class History:
    """What happened during training, one entry per recorded step.

    ``step`` counts optimiser updates; ``epoch`` counts passes over the training set (for full
    batch the two are equal). ``train_accuracy`` comes from the forward pass of that step,
    before its update (as the first article prints it); ``val_accuracy`` is measured on the
    held-out set after the step's update, or NaN when there is none. ``seconds`` is wall time
    since training began.
    """

    batch_size: int | None
    step: list[int] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    stopped_early: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def _validate(net, X, y, name_X: str, name_y: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != net.n_in:
        raise ShapeError(f"{name_X}: got shape {X.shape}, expected (n_examples, {net.n_in})")
    if y.shape != (X.shape[0],):
        raise ShapeError(f"{name_y}: got shape {y.shape}, expected ({X.shape[0]},), one label per row")
    if not np.issubdtype(X.dtype, np.floating):
        raise ShapeError(f"{name_X}: expected a float array, got dtype {X.dtype}; divide pixels by 255.0")
    X = X.astype(getattr(net, "dtype", X.dtype), copy=False)  # cast once, not once per batch
    if not np.all(np.isfinite(X)):
        row = int(np.argwhere(~np.isfinite(X))[0, 0])
        raise DataError(f"{name_X}: row {row} contains NaN or inf; clean the data before training")
    if not np.issubdtype(y.dtype, np.integer):
        raise ShapeError(f"{name_y}: expected integer class labels, got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= net.n_out):
        raise DataError(
            f"{name_y}: labels must lie in 0..{net.n_out - 1} (the output width), "
            f"got min {y.min()} and max {y.max()}"
        )
    return X, y


def _train_step(net, X, y, optimizer, step: int, clip_value, clip_norm) -> tuple[float, float]:
    """One forward, backward and update on (X, y); returns (loss, accuracy before the update)."""
    net._set_training(True)
    with np.errstate(over="ignore", invalid="ignore"):  # the guard below reports it instead
        return _guarded_step(net, X, y, optimizer, step, clip_value, clip_norm)


def _guarded_step(net, X, y, optimizer, step, clip_value, clip_norm) -> tuple[float, float]:
    A = X
    for name, layer in zip(net.layer_names, net.layers):
        A = layer.forward(A)
        if not np.isfinite(A).all():
            raise NonFiniteError(step=step, layer=name, quantity="activation")
    loss = net.loss_fn.forward(A, y) + net._penalty()
    if not np.isfinite(loss):
        raise NonFiniteError(step=step, layer="loss", quantity="loss", detail=f"loss = {loss}")
    accuracy = np.count_nonzero(np.argmax(A, axis=1) == y) / len(y) if A.shape[1] > 1 else float("nan")
    grads = net.backward()
    for name, g in grads.items():
        if not np.isfinite(g).all():
            layer = f"dense{name[1:]}"
            raise NonFiniteError(step=step, layer=layer, quantity="gradient", detail=f"in d{name}")
    if clip_value is not None:
        grads = clip_by_value(grads, clip_value)
    if clip_norm is not None:
        grads, _ = clip_by_global_norm(grads, clip_norm)
    optimizer.step(net.params, grads)
    net._set_training(False)
    return loss, accuracy


def accuracy(net, X, y) -> float:
    """Fraction of rows whose predicted class equals y."""
    return float(np.mean(net.predict(X) == np.asarray(y)))


def train(
    net,
    X,
    y,
    *,
    optimizer,
    epochs: int = 1,
    batch_size: int | None = None,
    X_val=None,
    y_val=None,
    seed: int = 0,
    clip_value: float | None = None,
    clip_norm: float | None = None,
    target_val_accuracy: float | None = None,
) -> History:
    """Train ``net`` in place and return its :class:`History`.

    Parameters
    ----------
    X : ndarray (n, n_in) float; y : ndarray (n,) int
    optimizer : object with ``step(params, grads)`` (:mod:`reference_net.optimizers`)
    epochs : int
        Passes over the data. With ``batch_size=None`` (full batch) one epoch is one step.
    batch_size : int, optional
        Mini-batch size; the rows are reshuffled (seeded) at the start of every epoch.
    X_val, y_val : optional held-out set, measured after every full-batch step or every epoch.
    clip_value, clip_norm : optional gradient clipping, by value then by global norm.
    target_val_accuracy : float, optional
        Stop as soon as held-out accuracy reaches this fraction (history.stopped_early).

    Raises
    ------
    NonFiniteError
        As soon as an activation, the loss or a gradient is NaN or inf, naming layer and step.
    """
    X, y = _validate(net, X, y, "X", "y")
    has_val = X_val is not None
    if has_val:
        X_val, y_val = _validate(net, X_val, y_val, "X_val", "y_val")
    if int(epochs) < 1:
        raise ValueError(f"epochs: must be >= 1, got {epochs}")
    n = X.shape[0]
    if batch_size is not None and not 1 <= int(batch_size) <= n:
        raise ValueError(f"batch_size: must be between 1 and {n} (the number of rows), got {batch_size}")
    if target_val_accuracy is not None and not has_val:
        raise ValueError("target_val_accuracy: needs X_val and y_val to measure it")
    rng = np.random.default_rng(seed)
    history = History(batch_size=batch_size)
    start = time.perf_counter()
    step = 0
    for epoch in range(int(epochs)):
        if batch_size is None:
            loss, acc = _train_step(net, X, y, optimizer, step, clip_value, clip_norm)
        else:
            order = rng.permutation(n)
            losses, correct = [], 0.0
            for lo in range(0, n, int(batch_size)):
                idx = order[lo : lo + int(batch_size)]
                batch_loss, batch_acc = _train_step(net, X[idx], y[idx], optimizer, step, clip_value, clip_norm)
                losses.append(batch_loss * len(idx))
                correct += batch_acc * len(idx)
                step += 1
            loss, acc = float(np.sum(losses) / n), correct / n
            step -= 1
        val_acc = accuracy(net, X_val, y_val) if has_val else float("nan")
        history.step.append(step)
        history.epoch.append(epoch)
        history.loss.append(float(loss))
        history.train_accuracy.append(float(acc))
        history.val_accuracy.append(val_acc)
        history.seconds.append(time.perf_counter() - start)
        step += 1
        if target_val_accuracy is not None and val_acc >= target_val_accuracy:
            history.stopped_early = True
            break
    return history
