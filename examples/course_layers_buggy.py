"""Four course layers as function pairs with caches, each with a mistake students make.

    gradcheck check examples/course_layers_buggy.py

- ``affine``: ``db = np.sum(dout)``, summed over every axis instead of the examples only;
- ``lstm_step``: two outputs (next_h, next_c), and ``dprev_c`` without the forget gate;
- ``word_embedding``: integer word indices; ``dW[x] += dout`` loses a word used twice;
- ``softmax_loss``: a loss layer returning ``(loss, dx)``, its gradient never divided by N.
"""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = np.sum(dout)                      # the bug: np.sum(dout, axis=0)
    return dx, dw, db


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                         dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g ** 2)], axis=1)
    dx, dprev_h = da @ Wx.T, da @ Wh.T
    dprev_c = dc                           # the bug: dc * f
    dWx, dWh, db = x.T @ da, prev_h.T @ da, da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def word_embedding_forward(x, W):
    return W[x], (x, W.shape)


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    dW[x] += dout                          # the bug: np.add.at(dW, x, dout)
    return dW


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_p[np.arange(n), y].mean()
    dx = np.exp(log_p)
    dx[np.arange(n), y] -= 1               # the bug: then dx /= n
    return loss, dx


if __name__ == "__main__":  # python examples/this_file.py: the same as `gradcheck check this_file.py`
    from gradcheck.frontends.cli import main

    raise SystemExit(main(["check", __file__]))
