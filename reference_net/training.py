"""Training loops: full-batch and mini-batch gradient descent with a non-finite guard.

Rows are examples: X (n, n_in) float, y (n,) integer class labels.
"""

from __future__ import annotations

import copy
import math
import sys
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
    # one pass and no temporary: only a non-finite sum (a NaN or inf, or overflow) needs the exact check
    with np.errstate(over="ignore", invalid="ignore"):
        total = X.sum()
    if not np.isfinite(total) and not np.all(np.isfinite(X)):
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


def _forward_loss(net, X, y) -> tuple[np.ndarray, float]:
    """Output (n, n_out) of the last layer and the loss (plus L2 penalty) for one batch."""
    A = X
    for layer in net.layers:
        A = layer.forward(A)
    return A, net.loss_fn.forward(A, y, y_checked=True) + net._penalty()


def _update(net, optimizer, grads, clip_value, clip_norm) -> None:
    if clip_value is not None:
        grads = clip_by_value(grads, clip_value)
    if clip_norm is not None:
        grads, _ = clip_by_global_norm(grads, clip_norm)
    optimizer.step(net.params, grads)


def _step(net, X, y, optimizer, step, clip_value, clip_norm, predicted) -> float:
    """One forward, backward and update on (X, y); returns the loss and writes each row's predicted
    class (before the update) into ``predicted``.

    Only the loss is checked: a NaN anywhere in the forward pass reaches it at this step, and a NaN
    or inf in a gradient reaches the parameters through the update, then the loss at the next step.
    Clipping by value would turn an infinite gradient into a finite one, so then gradients are
    checked too. The caller locates the first non-finite value by replaying with every check.
    """
    Z, loss = _forward_loss(net, X, y)
    if not math.isfinite(loss):
        raise _NonFiniteLoss(step, f"the loss is {loss}")
    Z.argmax(axis=1, out=predicted)
    grads = net.backward()
    if clip_value is not None and _first_non_finite(grads) is not None:
        raise _NonFiniteLoss(step, "a gradient is not finite")
    _update(net, optimizer, grads, clip_value, clip_norm)
    return loss


def _checked_step(net, X, y, optimizer, step, clip_value, clip_norm, predicted) -> float:
    """:func:`_step` with every activation, the loss and every gradient checked, in that order."""
    A = X
    for name, layer in zip(net.layer_names, net.layers):
        A = layer.forward(A)
        if not np.isfinite(A).all():
            raise NonFiniteError(step=step, layer=name, quantity="activation")
    loss = net.loss_fn.forward(A, y, y_checked=True) + net._penalty()
    if not math.isfinite(loss):
        raise NonFiniteError(step=step, layer="loss", quantity="loss", detail=f"loss = {loss}")
    A.argmax(axis=1, out=predicted)
    grads = net.backward()
    bad = _first_non_finite(grads)
    if bad is not None:
        raise NonFiniteError(step=step, layer=f"dense{bad[1:]}", quantity="gradient", detail=f"in d{bad}")
    _update(net, optimizer, grads, clip_value, clip_norm)
    return loss


def _first_non_finite(grads: dict) -> str | None:
    """Name of the first gradient holding a NaN or inf, or None."""
    for name, g in grads.items():
        if not np.isfinite(g).all():
            return name
    return None


class _NonFiniteLoss(Exception):
    """Raised by :func:`_step`; train() replays the epoch with every check to say where."""

    def __init__(self, step: int, what: str):
        self.step, self.what = step, what


class _Snapshot:
    """What an epoch's replay needs: parameters, optimiser state, and the random generators
    of the layers that draw (dropout masks), taken at the start of the epoch."""

    def __init__(self, net, optimizer):
        self.params = {name: p.copy() for name, p in net.params.items()}
        self.optimizer = copy.deepcopy(optimizer)
        self.rngs = {i: copy.deepcopy(layer.rng) for i, layer in enumerate(net.layers) if hasattr(layer, "rng")}

    def restore(self, net, optimizer) -> None:
        for name, p in net.params.items():
            p[...] = self.params[name]
        optimizer.__dict__.update(copy.deepcopy(self.optimizer).__dict__)
        for i, rng in self.rngs.items():
            net.layers[i].rng = copy.deepcopy(rng)


def _epoch(net, X, y, order, m, optimizer, step, clip_value, clip_norm, step_fn, predicted, batch_X):
    """One pass over (X, y): full batch when ``order`` is None, else mini-batches of ``m`` rows in
    that order. Returns (mean loss, training accuracy measured before each step's update)."""
    n = X.shape[0]
    if order is None:
        loss = step_fn(net, X, y, optimizer, step, clip_value, clip_norm, predicted)
        return loss, _fraction_correct(net, predicted, y)
    losses = []
    for lo in range(0, n, m):
        idx = order[lo : lo + m]
        X_b = X.take(idx, axis=0, out=batch_X[: len(idx)], mode="clip")  # no new array; indices are valid
        y_b = y[idx]
        losses.append(step_fn(net, X_b, y_b, optimizer, step, clip_value, clip_norm, predicted[lo : lo + m])
                      * len(idx))
        step += 1
    return float(np.sum(losses) / n), _fraction_correct(net, predicted, y[order])


def _fraction_correct(net, predicted, y) -> float:
    """Share of rows whose arg-max class is the label; NaN for a one-output network (no arg-max)."""
    return np.count_nonzero(predicted == y) / len(y) if net.n_out > 1 else float("nan")


def _progress_bar(progress, epochs: int):
    """A tqdm bar over the epochs on stderr, drawn only when stderr is a terminal; None if not asked."""
    if not progress:
        return None
    from tqdm import tqdm

    label = progress if isinstance(progress, str) else "training"
    return tqdm(total=epochs, desc=label, unit="epoch", leave=False, file=sys.stderr, disable=None)


def _all_finite(params: dict) -> bool:
    return all(np.isfinite(p).all() for p in params.values())


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
    check_every_step: bool = False,
    progress: bool | str = False,
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
    check_every_step : bool
        Check every activation and gradient at every step, as the replay below does. The default
        checks the loss each step and the parameters each epoch, which is all a NaN or inf can
        reach, and is as fast as a plain NumPy loop.
    progress : bool or str
        Show a progress bar over the epochs on stderr when it is a terminal (a str is its label).

    Raises
    ------
    NonFiniteError
        At the first activation, loss or gradient that is NaN or inf, naming layer, quantity and
        step: when the loss or a parameter turns non-finite, the epoch is replayed from its start
        (parameters, optimiser state, dropout generators) with every value checked.
        An infinity that an activation maps to a finite value (sigmoid or tanh of +-inf, ReLU of
        -inf) changes no later value and is not reported.
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
    progress = _progress_bar(progress, int(epochs))
    step_fn = _checked_step if check_every_step else _step
    m = n if batch_size is None else int(batch_size)
    predicted = np.empty(n, dtype=np.intp)  # each row's predicted class, in the epoch's order
    batch_X = np.empty((m, X.shape[1]), dtype=X.dtype)
    start = time.perf_counter()
    step = 0
    try:
        # overflow shows up as inf or NaN, which the loss check below reports with its place
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(int(epochs)):
                order = None if batch_size is None else rng.permutation(n)
                snapshot = None if check_every_step else _Snapshot(net, optimizer)
                net._set_training(True)
                try:
                    loss, acc = _epoch(net, X, y, order, m, optimizer, step, clip_value, clip_norm,
                                       step_fn, predicted, batch_X)
                    if not (check_every_step or _all_finite(net.params)):
                        raise _NonFiniteLoss(step, "a parameter is not finite after the epoch")
                except _NonFiniteLoss as found:
                    snapshot.restore(net, optimizer)  # replay the epoch with every check: says where
                    _epoch(net, X, y, order, m, optimizer, step, clip_value, clip_norm,
                           _checked_step, predicted, batch_X)
                    raise NonFiniteError(  # only if the replay differs: a layer that is not deterministic
                        step=found.step, layer="network", quantity="value",
                        detail=f"{found.what}, but not when the epoch was replayed with every value checked",
                    ) from None
                net._set_training(False)
                step += 1 if order is None else -(-n // m)
                val_acc = accuracy(net, X_val, y_val) if has_val else float("nan")
                history.step.append(step - 1)
                history.epoch.append(epoch)
                history.loss.append(float(loss))
                history.train_accuracy.append(float(acc))
                history.val_accuracy.append(val_acc)
                history.seconds.append(time.perf_counter() - start)
                if progress is not None:
                    progress.update(1)
                if target_val_accuracy is not None and val_acc >= target_val_accuracy:
                    history.stopped_early = True
                    break
    finally:
        net._set_training(False)
        if progress is not None:
            progress.close()
    return history
