"""Recurrent cells in the other common course style: examples are columns, the weights travel in
a ``parameters`` dict, and the backward returns its gradients in a dict keyed "d" + name
("dxt", "da_prev", "dWax", ...).

The backward takes gradients for the hidden (and cell) state only: the prediction ``yt_pred``
is scored elsewhere, so Wya/Wy and by get no gradient here.
"""

import numpy as np


def _softmax_columns(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def rnn_cell_forward(xt, a_prev, parameters):
    """xt (n_x, m), a_prev (n_a, m); parameters Wax (n_a, n_x), Waa (n_a, n_a), Wya (n_y, n_a),
    ba (n_a, 1), by (n_y, 1) -> a_next (n_a, m), yt_pred (n_y, m), cache."""
    Wax, Waa, Wya = parameters["Wax"], parameters["Waa"], parameters["Wya"]
    ba, by = parameters["ba"], parameters["by"]
    a_next = np.tanh(Wax @ xt + Waa @ a_prev + ba)
    yt_pred = _softmax_columns(Wya @ a_next + by)
    cache = (a_next, a_prev, xt, parameters)
    return a_next, yt_pred, cache


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    dz = da_next * (1 - a_next ** 2)
    dxt = Wax.T @ dz
    dWax = dz @ xt.T
    da_prev = Waa.T @ dz
    dWaa = dz @ a_prev.T
    dba = dz.sum(axis=1, keepdims=True)
    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """xt (n_x, m), a_prev and c_prev (n_a, m); parameters Wf, Wi, Wc, Wo (n_a, n_a + n_x) acting
    on [a_prev; xt], bf, bi, bc, bo (n_a, 1), Wy (n_y, n_a), by (n_y, 1)
    -> a_next, c_next, yt_pred, cache."""
    stacked = np.concatenate([a_prev, xt], axis=0)
    ft = _sigmoid(parameters["Wf"] @ stacked + parameters["bf"])
    it = _sigmoid(parameters["Wi"] @ stacked + parameters["bi"])
    cct = np.tanh(parameters["Wc"] @ stacked + parameters["bc"])
    ot = _sigmoid(parameters["Wo"] @ stacked + parameters["bo"])
    c_next = ft * c_prev + it * cct
    a_next = ot * np.tanh(c_next)
    yt_pred = _softmax_columns(parameters["Wy"] @ a_next + parameters["by"])
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def lstm_cell_backward(da_next, dc_next, cache):
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
    gradients["dc_prev"] = dc * ft
    return gradients
