"""Optimisers. ``step(params, grads)`` updates every array in ``params`` in place.

In place matters: ``Network.params`` holds the layers' live arrays, so rebinding would detach them.
"""

from __future__ import annotations

import numpy as np


def _check_lr(lr: float) -> float:
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr: learning rate must be a positive number, got {lr}")
    return float(lr)


class SGD:
    """theta -= lr * g."""

    def __init__(self, lr: float = 0.1):
        self.lr = _check_lr(lr)

    def step(self, params, grads) -> None:
        for name, p in params.items():
            p -= self.lr * grads[name]


class Momentum:
    """v = beta * v + g;  theta -= lr * v (heavy-ball momentum)."""

    def __init__(self, lr: float = 0.1, beta: float = 0.9):
        self.lr, self.beta = _check_lr(lr), float(beta)
        self.velocity: dict[str, np.ndarray] = {}

    def step(self, params, grads) -> None:
        for name, p in params.items():
            v = self.velocity.setdefault(name, np.zeros_like(p))
            v *= self.beta
            v += grads[name]
            p -= self.lr * v


class Adam:
    """Adam (Kingma & Ba, 2015) with bias correction.

    m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  theta -= lr * m_hat / (sqrt(v_hat) + eps).
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = _check_lr(lr), float(beta1), float(beta2), float(eps)
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def step(self, params, grads) -> None:
        self.t += 1
        correction1 = 1 - self.beta1**self.t
        correction2 = 1 - self.beta2**self.t
        for name, p in params.items():
            g = grads[name]
            m = self.m.setdefault(name, np.zeros_like(p))
            v = self.v.setdefault(name, np.zeros_like(p))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
