"""Losses, each value beside its gradient. Rows are examples; every loss is a mean over them.

Each class has ``forward(pred, y) -> float`` and ``backward() -> dpred``, where dpred has the
shape of ``pred`` and already includes the 1/n of the mean. ``forward(..., y_checked=True)`` skips
checking y, for a caller that has checked every label once (training).
"""

from __future__ import annotations

import numpy as np

from reference_net.activations import log_softmax, sigmoid, softmax
from reference_net.errors import ShapeError


def _class_labels(y: np.ndarray, n_classes: int, n: int) -> np.ndarray:
    """Integer labels (n,) -> validated int array (n,); one-hot (n, k) -> validated as it is."""
    y = np.asarray(y)
    if y.ndim == 2:
        if y.shape != (n, n_classes):
            raise ShapeError(f"y: one-hot labels have shape {y.shape}, expected {(n, n_classes)}")
        return y
    if y.shape != (n,):
        raise ShapeError(f"y: labels have shape {y.shape}, expected ({n},) or ({n}, {n_classes})")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ShapeError(f"y: labels must be whole numbers 0..{n_classes - 1}, got dtype {y.dtype}")
        y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0]
        raise ShapeError(
            f"y: label {bad} is outside 0..{n_classes - 1}; the output layer has {n_classes} units"
        )
    return y


def _labels_to_one_hot(y: np.ndarray, n_classes: int, n: int) -> np.ndarray:
    """Integer labels (n,) or one-hot (n, k) -> one-hot (n, k) float64."""
    y = _class_labels(y, n_classes, n)
    if y.ndim == 2:
        return y.astype(np.float64, copy=False)
    one_hot = np.zeros((n, n_classes))
    one_hot[np.arange(n), y] = 1.0
    return one_hot


def _check_2d(name: str, a: np.ndarray) -> None:
    if a.ndim != 2:
        raise ShapeError(f"{name}: expected a 2-D array (n_examples, n_outputs), got shape {a.shape}")
    if a.shape[0] == 0:
        raise ShapeError(f"{name}: got 0 examples; pass at least one row")


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean over rows of -log softmax(logits)[y]; stable (log-sum-exp). logits (n, k)."""
    _check_2d("logits", logits)
    Y = _labels_to_one_hot(y, logits.shape[1], logits.shape[0])
    return float(-np.sum(Y * log_softmax(logits, axis=1)) / logits.shape[0])


def binary_cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean of BCE(sigmoid(logits), y), computed from logits: max(z,0) - z*y + log(1+e^-|z|)."""
    z = np.asarray(logits)
    y = np.asarray(y, dtype=z.dtype).reshape(z.shape)
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def binary_cross_entropy_from_probs(p: np.ndarray, y: np.ndarray, eps: float = 1e-15) -> float:
    """Mean of -(y log p + (1-y) log(1-p)) with p clipped to [eps, 1-eps] so log(0) never occurs."""
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    y = np.asarray(y, dtype=np.float64).reshape(p.shape)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def mse(pred: np.ndarray, y: np.ndarray) -> float:
    """Mean over all entries of (pred - y)**2."""
    pred = np.asarray(pred)
    return float(np.mean((pred - np.asarray(y).reshape(pred.shape)) ** 2))


class SoftmaxCrossEntropy:
    """Softmax and cross-entropy fused, from logits (n, k); y is (n,) int or (n, k) one-hot.

    L = -(1/n) sum_i log softmax(Z_i)[y_i];  dL/dZ = (softmax(Z) - Y) / n.
    The forward pass keeps softmax(Z) (n, k, the logits' dtype) for the backward pass, and
    integer labels are used as indices, so no (n, k) one-hot matrix is built for them.
    """

    takes_logits = True

    def forward(self, logits: np.ndarray, y: np.ndarray, *, y_checked: bool = False) -> float:
        """``y_checked=True``: y is known to be (n,) integer labels in 0..k-1 (training checks
        all labels once, not every batch)."""
        if not y_checked:
            _check_2d("logits", logits)
        n, k = logits.shape
        self.y = y if y_checked else _class_labels(y, k, n)
        shifted = logits - logits.max(axis=1, keepdims=True)
        self.P = np.exp(shifted)
        total = self.P.sum(axis=1, keepdims=True)
        self.P /= total
        if self.y.ndim == 2:
            shifted -= np.log(total)  # now log softmax(logits)
            return float(-(self.y.astype(logits.dtype, copy=False) * shifted).sum() / n)
        # -log softmax(Z_i)[y_i] = log(total_i) - shifted_i[y_i]: only the labels' entries are needed
        self.rows = np.arange(n)  # kept for the backward pass
        return float((np.log(total).sum() - shifted[self.rows, self.y].sum()) / n)

    def backward(self) -> np.ndarray:
        n = self.P.shape[0]
        if self.y.ndim == 2:
            dZ = self.P - self.y.astype(self.P.dtype, copy=False)
        else:
            dZ = self.P.copy()
            dZ[self.rows, self.y] -= 1
        dZ /= n
        return dZ

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return softmax(logits, axis=1)


class BinaryCrossEntropy:
    """Sigmoid and binary cross-entropy fused, from logits (n, 1) or (n,); y in {0, 1}.

    L = mean(max(z, 0) - z y + log(1 + exp(-|z|)));  dL/dz = (sigmoid(z) - y) / N.
    """

    takes_logits = True

    def forward(self, logits: np.ndarray, y: np.ndarray, *, y_checked: bool = False) -> float:
        self.z = np.asarray(logits)
        self.y = np.asarray(y, dtype=self.z.dtype).reshape(self.z.shape)
        return binary_cross_entropy(self.z, self.y)

    def backward(self) -> np.ndarray:
        return (sigmoid(self.z) - self.y) / self.z.size

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return sigmoid(logits)


class MSE:
    """L = mean((pred - y)**2) over all entries;  dL/dpred = 2 (pred - y) / N."""

    takes_logits = False

    def forward(self, pred: np.ndarray, y: np.ndarray, *, y_checked: bool = False) -> float:
        self.pred = np.asarray(pred)
        self.y = np.asarray(y, dtype=self.pred.dtype).reshape(self.pred.shape)
        return float(np.mean((self.pred - self.y) ** 2))

    def backward(self) -> np.ndarray:
        return 2 * (self.pred - self.y) / self.pred.size

    def probabilities(self, pred: np.ndarray) -> np.ndarray:
        return pred


LOSSES = {
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "binary_cross_entropy": BinaryCrossEntropy,
    "mse": MSE,
}
