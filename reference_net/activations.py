"""Activations, each forward beside its backward. Rows are examples.

Every class caches what its backward needs during ``forward``; ``backward(dA)`` takes the
upstream gradient dL/dA (same shape as A) and returns dL/dZ (same shape as Z).
"""

from __future__ import annotations

import numpy as np


def relu(Z: np.ndarray) -> np.ndarray:
    """max(Z, 0), elementwise. Any shape."""
    return np.maximum(Z, 0)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-Z)), stable for any Z: no overflow warning at Z = +-1000.

    exp is only ever taken of -|Z| <= 0, so it cannot overflow.
    """
    Z = np.asarray(Z)
    e = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))


def log_softmax(Z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(Z)) along ``axis`` via log-sum-exp; finite for any finite Z."""
    shifted = Z - np.max(Z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(Z: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(Z) / sum(exp(Z)) along ``axis`` (the class axis), max-shifted so it never overflows.

    Rows are examples in reference_net, so the class axis is the last one (-1).
    """
    shifted = Z - np.max(Z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


class ReLU:
    """A = max(Z, 0); dZ = dA where Z > 0, else 0 (the subgradient 0 is used at Z = 0)."""

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.Z = Z
        return relu(Z)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA * (self.Z > 0)


class LeakyReLU:
    """A = Z if Z > 0 else slope * Z; dZ = dA * (1 or slope)."""

    def __init__(self, slope: float = 0.01):
        self.slope = float(slope)

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.Z = Z
        return np.where(Z > 0, Z, self.slope * Z)

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA * np.where(self.Z > 0, 1.0, self.slope).astype(dA.dtype, copy=False)


class Sigmoid:
    """A = sigmoid(Z); dZ = dA * A * (1 - A)."""

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.A = sigmoid(Z)
        return self.A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA * self.A * (1 - self.A)


class Tanh:
    """A = tanh(Z); dZ = dA * (1 - A**2)."""

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.A = np.tanh(Z)
        return self.A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return dA * (1 - self.A**2)


class Softmax:
    """A = softmax(Z) along ``axis``; dZ = A * (dA - sum(dA * A, axis)).

    That is the softmax Jacobian-vector product, without forming the (k, k) Jacobian.
    """

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, Z: np.ndarray) -> np.ndarray:
        self.A = softmax(Z, axis=self.axis)
        return self.A

    def backward(self, dA: np.ndarray) -> np.ndarray:
        return self.A * (dA - np.sum(dA * self.A, axis=self.axis, keepdims=True))


ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
}
