"""Correct layers written as function pairs with caches, the way course assignments ask for them.

Every forward returns its output(s) followed by a cache; every backward takes the upstream
gradient(s) and that cache and returns the gradients of the forward's float arguments, in the
forward's argument order. Loss layers return ``(loss, dx)`` in one call. Arrays keep the dtype
they are given, so the same code runs in float64 and float32.
"""

import numpy as np


def affine_forward(x, w, b):
    """x (N, d1, ..., dk) is flattened to (N, D); w (D, M); b (M,) -> out (N, M)."""
    rows = x.reshape(x.shape[0], -1)
    out = rows @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = rows.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return dx


def conv_forward_naive(x, w, b, conv_param):
    """x (N, C, H, W), w (F, C, HH, WW), b (F,); conv_param {"stride", "pad"} -> out (N, F, H', W')."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    assert (H + 2 * pad - HH) % stride == 0 and (W + 2 * pad - WW) % stride == 0, "filter does not tile"
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    patch = xp[n, :, top:top + HH, left:left + WW]
                    out[n, f, i, j] = np.sum(patch * w[f]) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    g = dout[n, f, i, j]
                    dw[f] += xp[n, :, top:top + HH, left:left + WW] * g
                    dxp[n, :, top:top + HH, left:left + WW] += w[f] * g
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """x (N, C, H, W); pool_param {"pool_height", "pool_width", "stride"}."""
    PH, PW, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - PH) // stride
    W_out = 1 + (W - PW) // stride
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * stride, j * stride
            out[:, :, i, j] = x[:, :, top:top + PH, left:left + PW].max(axis=(2, 3))
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    PH, PW, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    window = x[n, c, top:top + PH, left:left + PW]
                    k = np.argmax(window)
                    r, s = k // PW, k % PW
                    dx[n, c, top + r, left + s] += dout[n, c, i, j]
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """x (N, D). bn_param: "mode" ("train" or "test"), optional "eps", "momentum", and the
    running statistics "running_mean", "running_var", which training updates in the dict."""
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(D, dtype=x.dtype))
    if mode == "train":
        mu = x.mean(axis=0)
        xc = x - mu
        var = (xc ** 2).mean(axis=0)
        std = np.sqrt(var + eps)
        xhat = xc / std
        out = gamma * xhat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xhat, xc, std, gamma)
    elif mode == "test":
        xhat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * xhat + beta
        cache = (xhat, None, np.sqrt(running_var + eps), gamma)
    else:
        raise ValueError(f"unknown batch norm mode {mode!r}")
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dxc = dxhat / std
    dstd = -(dxhat * xc).sum(axis=0) / std ** 2
    dvar = dstd / (2 * std)
    dxc = dxc + 2 * xc * dvar / N
    dmu = -dxc.sum(axis=0)
    dx = dxc + dmu / N
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """x (N, C, H, W): batch norm per channel over N, H and W."""
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_rows, cache = batchnorm_forward(rows, gamma, beta, bn_param)
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    drows = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx_rows, dgamma, dbeta = batchnorm_backward(drows, cache)
    dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """x (N, D): each example normalised over its D features; ln_param may hold "eps"."""
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    std = np.sqrt((xc ** 2).mean(axis=1, keepdims=True) + eps)
    xhat = xc / std
    out = gamma * xhat + beta
    cache = (xhat, std, gamma)
    return out, cache


def layernorm_backward(dout, cache):
    xhat, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    mean_term = dxhat.mean(axis=1, keepdims=True)
    var_term = xhat * (dxhat * xhat).mean(axis=1, keepdims=True)
    dx = (dxhat - mean_term - var_term) / std
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Inverted dropout. dropout_param: "p" (probability of KEEPING a unit), "mode", "seed"."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "train":
        rng = np.random.RandomState(dropout_param.get("seed"))
        mask = ((rng.rand(*x.shape) < p) / p).astype(x.dtype)
        out = x * mask
    else:
        mask = None
        out = x.copy()
    cache = (dropout_param, mask)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        dx = dout * mask
    else:
        dx = dout
    return dx


def softmax_loss(x, y):
    """x (N, C) scores, y (N,) integer labels -> (mean cross-entropy, dx)."""
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def svm_loss(x, y):
    """Multiclass hinge loss with margin 1: x (N, C), y (N,) -> (loss, dx)."""
    N = x.shape[0]
    rows = np.arange(N)
    correct = x[rows, y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[rows, y] = 0
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    dx = positive
    dx[rows, y] = -positive.sum(axis=1)
    dx /= N
    return loss, dx


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,) -> next_h (N, H)."""
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), the hidden state at every step."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=h0.dtype)
    steps = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        h[:, t] = prev_h
        steps.append(step_cache)
    cache = (steps, x.shape)
    return h, cache


def rnn_backward(dh, cache):
    steps, x_shape = cache
    N, T, D = x_shape
    x0, h0, Wx, Wh, _ = steps[0]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(Wh.shape[0], dtype=dh.dtype)
    dprev_h = np.zeros_like(h0)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, steps[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def _sigmoid(z):
    # both branches are finite: exp only ever sees a non-positive argument
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """x (N, D), prev_h and prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,); the gates are
    ordered input, forget, output, candidate."""
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = _sigmoid(a[:, :H])
    f = _sigmoid(a[:, H:2 * H])
    o = _sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    do = dnext_h * tanh_c
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    df = dc * prev_c
    di = dc * g
    dg = dc * i
    dprev_c = dc * f
    da = np.concatenate([
        di * i * (1 - i),
        df * f * (1 - f),
        do * o * (1 - o),
        dg * (1 - g ** 2),
    ], axis=1)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """x (N, T, D), h0 (N, H); the cell state starts at zero -> h (N, T, H)."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=h0.dtype)
    prev_h, prev_c = h0, np.zeros_like(h0)
    steps = []
    for t in range(T):
        prev_h, prev_c, step_cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = prev_h
        steps.append(step_cache)
    cache = (steps, x.shape)
    return h, cache


def lstm_backward(dh, cache):
    steps, x_shape = cache
    N, T, D = x_shape
    Wx, Wh = steps[0][3], steps[0][4]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(Wx.shape[1], dtype=dh.dtype)
    dprev_h = np.zeros((N, Wh.shape[0]), dtype=dh.dtype)
    dprev_c = np.zeros_like(dprev_h)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, steps[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def word_embedding_forward(x, W):
    """x (N, T) integer word indices, W (V, D) -> out (N, T, D)."""
    out = W[x]
    cache = (x, W.shape)
    return out, cache


def word_embedding_backward(dout, cache):
    x, W_shape = cache
    dW = np.zeros(W_shape, dtype=dout.dtype)
    np.add.at(dW, x, dout)
    return dW


def temporal_affine_forward(x, w, b):
    """x (N, T, D), w (D, M), b (M,) -> out (N, T, M)."""
    N, T, D = x.shape
    out = (x.reshape(N * T, D) @ w + b).reshape(N, T, -1)
    cache = (x, w, b)
    return out, cache


def temporal_affine_backward(dout, cache):
    x, w, b = cache
    N, T, D = x.shape
    M = w.shape[1]
    rows = x.reshape(N * T, D)
    drows = dout.reshape(N * T, M)
    dx = (drows @ w.T).reshape(N, T, D)
    dw = rows.T @ drows
    db = drows.sum(axis=0)
    return dx, dw, db


def temporal_softmax_loss(x, y, mask):
    """x (N, T, V) scores, y (N, T) integer targets, mask (N, T) bool: which steps count.
    The loss is summed over the counted steps and divided by N."""
    N, T, V = x.shape
    rows = x.reshape(N * T, V)
    targets = y.reshape(N * T)
    keep = mask.reshape(N * T)
    shifted = rows - rows.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.sum(keep * log_probs[np.arange(N * T), targets]) / N
    drows = np.exp(log_probs)
    drows[np.arange(N * T), targets] -= 1
    drows /= N
    drows *= keep[:, None]
    dx = drows.reshape(N, T, V)
    return loss, dx
