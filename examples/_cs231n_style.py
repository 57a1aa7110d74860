"""Cache-pair layers and a two-layer model in the style of cs231n's assignments (rows = examples).

``TRANSPOSED_DW`` switches on the bug in ``affine_backward``: ``dw = dout.T @ x``.
"""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache, transposed_dw=False):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x if transposed_dw else x.reshape(x.shape[0], -1).T @ dout
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = x.shape[0]
    loss = -np.sum(log_probs[np.arange(n), y]) / n
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    return loss, dx / n


class TwoLayerNet:
    def __init__(self, input_dim=20, hidden_dim=16, num_classes=10, seed=0, transposed_dw=False):
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": 0.1 * rng.standard_normal((input_dim, hidden_dim)), "b1": np.zeros(hidden_dim),
            "W2": 0.1 * rng.standard_normal((hidden_dim, num_classes)), "b2": np.zeros(num_classes),
        }
        self.transposed_dw = transposed_dw

    def loss(self, X, y):
        h, cache1 = affine_forward(X, self.params["W1"], self.params["b1"])
        a, cache_relu = relu_forward(h)
        scores, cache2 = affine_forward(a, self.params["W2"], self.params["b2"])
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        da, grads["W2"], grads["b2"] = affine_backward(dscores, cache2, self.transposed_dw)
        dh = relu_backward(da, cache_relu)
        _, grads["W1"], grads["b1"] = affine_backward(dh, cache1, self.transposed_dw)
        return loss, grads
