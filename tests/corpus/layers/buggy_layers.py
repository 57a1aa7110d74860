"""Copies of the course layers' backward passes (and loss functions) with a student's mistake
written into each, one or two lines changed. What each one gets wrong, and which gradients that
touches, is recorded in ``catalogue.BUGS``; the code itself carries no mark, as handed-in code
would not.
"""

import numpy as np

from tests.corpus.layers.course_layers import batchnorm_backward, lstm_step_backward, rnn_step_backward

# ---- affine --------------------------------------------------------------------------------

def affine_backward_b1(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = rows.T @ dout
    db = dout.sum(axis=1)
    return dx, dw, db


def affine_backward_b2(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = rows.T @ dout / x.shape[0]
    db = dout.sum(axis=0)
    return dx, dw, db


# ---- relu ----------------------------------------------------------------------------------

def relu_backward_b1(dout, cache):
    x = cache
    dx = dout * (dout > 0)
    return dx


def relu_backward_b2(dout, cache):
    x = cache
    out = np.maximum(x, 0)
    dx = dout * (out >= 0)
    return dx


def relu_backward_b3(dout, cache):
    x = cache
    dx = dout * np.maximum(x, 0)
    return dx


# ---- convolution ---------------------------------------------------------------------------

def conv_backward_naive_b1(dout, cache):
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
    dx = dxp
    return dx, dw, db


def conv_backward_naive_b2(dout, cache):
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
    dx = dxp[:, :, :H, :W]
    return dx, dw, db


def conv_backward_naive_b3(dout, cache):
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
                    dw[f] = xp[n, :, top:top + HH, left:left + WW] * g
                    dxp[n, :, top:top + HH, left:left + WW] += w[f] * g
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def conv_backward_naive_b4(dout, cache):
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
                    dxp[n, :, top:top + HH, left:left + WW] += w[f, :, ::-1, ::-1] * g
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


# ---- max pooling ---------------------------------------------------------------------------

def max_pool_backward_naive_b1(dout, cache):
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
                    dx[n, c, top:top + PH, left:left + PW] += dout[n, c, i, j]
    return dx


def max_pool_backward_naive_b2(dout, cache):
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
                    r, s = k % PW, k // PW
                    dx[n, c, top + r, left + s] += dout[n, c, i, j]
    return dx


# ---- batch normalisation -------------------------------------------------------------------

def batchnorm_backward_b1(dout, cache):
    xhat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dxc = dxhat / std
    dstd = -(dxhat * xc).sum(axis=0) / std ** 2
    dvar = dstd / (2 * std)
    dmu = -dxc.sum(axis=0)
    dx = dxc + dmu / N
    return dx, dgamma, dbeta


def batchnorm_backward_b2(dout, cache):
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
    dx = dxc
    return dx, dgamma, dbeta


def batchnorm_backward_b3(dout, cache):
    xhat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).mean(axis=0)
    dxhat = dout * gamma
    dxc = dxhat / std
    dstd = -(dxhat * xc).sum(axis=0) / std ** 2
    dvar = dstd / (2 * std)
    dxc = dxc + 2 * xc * dvar / N
    dmu = -dxc.sum(axis=0)
    dx = dxc + dmu / N
    return dx, dgamma, dbeta


# ---- spatial batch normalisation -----------------------------------------------------------

def spatial_batchnorm_backward_b1(dout, cache):
    N, C, H, W = dout.shape
    drows = dout.reshape(-1, C)
    dx_rows, dgamma, dbeta = batchnorm_backward(drows, cache)
    dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return dx, dgamma, dbeta


def spatial_batchnorm_backward_b2(dout, cache):
    N, C, H, W = dout.shape
    drows = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx_rows, dgamma, dbeta = batchnorm_backward(drows, cache)
    dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 2, 1)
    return dx, dgamma, dbeta


# ---- layer normalisation -------------------------------------------------------------------

def layernorm_backward_b1(dout, cache):
    xhat, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    mean_term = dxhat.mean(axis=0, keepdims=True)
    var_term = xhat * (dxhat * xhat).mean(axis=0, keepdims=True)
    dx = (dxhat - mean_term - var_term) / std
    return dx, dgamma, dbeta


def layernorm_backward_b2(dout, cache):
    xhat, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    mean_term = dxhat.mean(axis=1, keepdims=True)
    var_term = xhat * (dxhat * xhat).mean(axis=1, keepdims=True)
    dx = (dxhat - mean_term) / std
    return dx, dgamma, dbeta


def layernorm_backward_b3(dout, cache):
    xhat, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = dout.sum(axis=0)
    dxhat = dout * gamma
    mean_term = dxhat.mean(axis=1, keepdims=True)
    var_term = xhat * (dxhat * xhat).mean(axis=1, keepdims=True)
    dx = (dxhat - mean_term - var_term) / std
    return dx, dgamma, dbeta


# ---- dropout -------------------------------------------------------------------------------

def dropout_backward_b1(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        dx = dout
    else:
        dx = dout
    return dx


def dropout_backward_b2(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        dx = dout * (mask > 0)
    else:
        dx = dout
    return dx


# ---- softmax loss --------------------------------------------------------------------------

def softmax_loss_b1(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx /= N
    return loss, dx


def softmax_loss_b2(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx


def softmax_loss_b3(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= -N
    return loss, dx


# ---- SVM loss ------------------------------------------------------------------------------

def svm_loss_b1(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    correct = x[rows, y][:, None]
    margins = np.maximum(0, x - correct + 1)
    positive = (margins > 0).astype(x.dtype)
    margins[rows, y] = 0
    loss = margins.sum() / N
    dx = positive
    dx[rows, y] = -positive.sum(axis=1)
    dx /= N
    return loss, dx


def svm_loss_b2(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    correct = x[rows, y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[rows, y] = 0
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    dx = positive
    dx[rows, y] = -positive.sum(axis=1)
    return loss, dx


def svm_loss_b3(x, y):
    N = x.shape[0]
    rows = np.arange(N)
    correct = x[rows, y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[rows, y] = 0
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    dx = positive
    dx /= N
    return loss, dx


# ---- vanilla RNN step ----------------------------------------------------------------------

def rnn_step_backward_b1(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - np.tanh(next_h) ** 2)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_step_backward_b2(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    dx = da @ Wx.T
    dprev_h = da @ Wh
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_step_backward_b3(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ dnext_h
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


# ---- vanilla RNN over a sequence -----------------------------------------------------------

def rnn_backward_b1(dh, cache):
    steps, x_shape = cache
    N, T, D = x_shape
    x0, h0, Wx, Wh, _ = steps[0]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(Wh.shape[0], dtype=dh.dtype)
    dprev_h = np.zeros_like(h0)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t], steps[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def rnn_backward_b2(dh, cache):
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
        dWh = dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


# ---- LSTM step -----------------------------------------------------------------------------

def lstm_step_backward_b1(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    do = dnext_h * tanh_c
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    df = dc * prev_c
    di = dc * g
    dg = dc * i
    dprev_c = dc * f
    da = np.concatenate([
        di * i * (1 - i),
        df * (1 - f ** 2),
        do * o * (1 - o),
        dg * (1 - g ** 2),
    ], axis=1)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_step_backward_b2(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    do = dnext_h * tanh_c
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    df = dc * prev_c
    di = dc * g
    dg = dc * i
    dprev_c = dc
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


def lstm_step_backward_b3(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    do = dnext_h * tanh_c
    dc = dnext_c
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


# ---- LSTM over a sequence ------------------------------------------------------------------

def lstm_backward_b1(dh, cache):
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
            dh[:, t] + dprev_h, np.zeros_like(dprev_c), steps[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def lstm_backward_b2(dh, cache):
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
        db = db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


# ---- word embedding ------------------------------------------------------------------------

def word_embedding_backward_b1(dout, cache):
    x, W_shape = cache
    dW = np.zeros(W_shape, dtype=dout.dtype)
    dW[x] = dout
    return dW


def word_embedding_backward_b2(dout, cache):
    x, W_shape = cache
    dW = np.zeros(W_shape, dtype=dout.dtype)
    dW[x] += dout
    return dW


# ---- temporal affine -----------------------------------------------------------------------

def temporal_affine_backward_b1(dout, cache):
    x, w, b = cache
    N, T, D = x.shape
    M = w.shape[1]
    rows = x.reshape(N * T, D)
    drows = dout.reshape(N * T, M)
    dx = (drows @ w.T).reshape(N, T, D)
    dw = rows.T @ drows
    db = dout.sum(axis=0)
    return dx, dw, db


def temporal_affine_backward_b2(dout, cache):
    x, w, b = cache
    N, T, D = x.shape
    M = w.shape[1]
    rows = x.reshape(N * T, D)
    drows = dout.reshape(N * T, M)
    dx = (drows @ w.T).reshape(N, T, D)
    dw = rows.T @ drows / T
    db = drows.sum(axis=0)
    return dx, dw, db


# ---- temporal softmax loss -----------------------------------------------------------------

def temporal_softmax_loss_b1(x, y, mask):
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
    dx = drows.reshape(N, T, V)
    return loss, dx


def temporal_softmax_loss_b2(x, y, mask):
    N, T, V = x.shape
    rows = x.reshape(N * T, V)
    targets = y.reshape(N * T)
    keep = mask.reshape(N * T)
    shifted = rows - rows.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -np.sum(keep * log_probs[np.arange(N * T), targets]) / N
    drows = np.exp(log_probs)
    drows[np.arange(N * T), targets] -= 1
    drows /= N * T
    drows *= keep[:, None]
    dx = drows.reshape(N, T, V)
    return loss, dx


# ---- dict style: RNN cell ------------------------------------------------------------------

def rnn_cell_backward_b1(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    dz = da_next * (1 - a_next)
    dxt = Wax.T @ dz
    dWax = dz @ xt.T
    da_prev = Waa.T @ dz
    dWaa = dz @ a_prev.T
    dba = dz.sum(axis=1, keepdims=True)
    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients


def rnn_cell_backward_b2(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    dz = da_next * (1 - a_next ** 2)
    dxt = Wax.T @ dz
    dWax = dz @ xt.T
    da_prev = Waa.T @ dz
    dWaa = dz @ a_prev.T
    dba = dz.sum(axis=0, keepdims=True)
    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients


def rnn_cell_backward_b3(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    dz = da_next * (1 - a_next ** 2)
    dxt = Wax.T @ dz
    dWax = dz @ xt.T
    da_prev = Waa @ dz
    dWaa = dz @ a_prev.T
    dba = dz.sum(axis=1, keepdims=True)
    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients


# ---- dict style: LSTM cell -----------------------------------------------------------------

def lstm_cell_backward_b1(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_prev.shape[0]
    tanh_c = np.tanh(c_next)
    dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
    dz_o = da_next * tanh_c * ot * (1 - ot)
    dz_c = dc * it * (1 - cct ** 2)
    dz_i = dc * cct * it * (1 - it)
    dz_f = dc * c_prev * (1 - ft ** 2)
    stacked = np.concatenate([a_prev, xt], axis=0)
    gradients = {}
    dstacked = 0
    for gate, dz in (("f", dz_f), ("i", dz_i), ("c", dz_c), ("o", dz_o)):
        gradients["dW" + gate] = dz @ stacked.T
        gradients["db" + gate] = dz.sum(axis=1, keepdims=True)
        dstacked = dstacked + parameters["W" + gate].T @ dz
    gradients["da_prev"] = dstacked[:n_a]
    gradients["dxt"] = dstacked[n_a:]
    gradients["dc_prev"] = dc * ft
    return gradients


def lstm_cell_backward_b2(da_next, dc_next, cache):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_prev.shape[0]
    tanh_c = np.tanh(c_next)
    dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
    dz_o = da_next * tanh_c * ot * (1 - ot)
    dz_c = dc * it * (1 - cct ** 2)
    dz_i = dc * cct * it * (1 - it)
    dz_f = dc * c_prev * ft * (1 - ft)
    stacked = np.concatenate([a_prev, xt], axis=0)
    gradients = {}
    dstacked = 0
    for gate, dz in (("f", dz_f), ("i", dz_i), ("c", dz_c), ("o", dz_o)):
        gradients["dW" + gate] = dz @ stacked.T
        gradients["db" + gate] = dz.sum(axis=1, keepdims=True)
        dstacked = dstacked + parameters["W" + gate].T @ dz
    gradients["da_prev"] = dstacked[:n_a]
    gradients["dxt"] = dstacked[n_a:]
    gradients["dc_prev"] = dc
    return gradients
