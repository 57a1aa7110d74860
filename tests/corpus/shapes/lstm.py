"""An LSTM in the cache-pair style of a course assignment.

``lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c, cache)`` and
``lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)`` do one
time step (gates i, f, o, g stacked in that order along the 4H axis); ``lstm_forward`` /
``lstm_backward`` run them over a sequence ``x`` of shape (N, T, D). ``LSTMModel`` keeps its
arrays in ``self.params`` (``Wx, Wh, b, Wy, by``), puts a linear layer on every hidden state and
averages a cross-entropy (or squared) loss over the N*T outputs; ``model.loss(x, y)`` returns
``(loss, grads)``, ``grads`` keyed like ``params``.

``bug=`` names a mistake written into the backward pass (see :data:`BUG_NAMES`).
"""

import numpy as np

BUG_NAMES = (
    "forget_gate_derivative_wrong",
    "missing_dc_next",
    "output_gate_uses_c_not_tanh_c",
    "dWh_from_wrong_step",
    "mse_missing_1_over_T",
    "mse_target_of_the_previous_step",
)


def sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c, tanh_c, next_h)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c, tanh_c, next_h = cache
    if bug == "output_gate_uses_c_not_tanh_c":
        do = dnext_h * next_c
    else:
        do = dnext_h * tanh_c
    dc = dnext_c + dnext_h * o * (1 - tanh_c * tanh_c)
    di = dc * g
    df = dc * prev_c
    dg = dc * i
    dprev_c = dc * f
    da_i = di * i * (1 - i)
    if bug == "forget_gate_derivative_wrong":
        da_f = df * (1 - f * f)
    else:
        da_f = df * f * (1 - f)
    da_o = do * o * (1 - o)
    da_g = dg * (1 - g * g)
    da = np.concatenate([da_i, da_f, da_o, da_g], axis=1)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dWx = x.T @ da
    if bug == "dWh_from_wrong_step":
        dWh = next_h.T @ da
    else:
        dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=h0.dtype)
    prev_h, prev_c = h0, np.zeros_like(h0)
    caches = []
    for t in range(T):
        prev_h, prev_c, cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def lstm_backward(dh, caches, bug=None):
    N, T, H = dh.shape
    x0, _, _, Wx, Wh = caches[0][:5]
    dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    db = np.zeros(4 * H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    dprev_c = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dc, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dprev_h, dprev_c,
                                                                       caches[t], bug)
        if bug == "missing_dc_next":
            dprev_c = np.zeros_like(dc)
        else:
            dprev_c = dc
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


class LSTMModel:
    def __init__(self, n_in, hidden, n_out, rng, dtype=np.float64, loss="ce", bug=None):
        if loss not in ("ce", "mse"):
            raise ValueError(f"loss must be 'ce' or 'mse', got {loss!r}")
        b = np.zeros(4 * hidden)
        b[hidden:2 * hidden] = 1.0  # forget gate starts open
        self.params = {
            "Wx": (rng.standard_normal((n_in, 4 * hidden)) / np.sqrt(n_in)).astype(dtype),
            "Wh": (rng.standard_normal((hidden, 4 * hidden)) / np.sqrt(hidden)).astype(dtype),
            "b": (b + rng.uniform(-0.1, 0.1, 4 * hidden)).astype(dtype),
            "Wy": (rng.standard_normal((hidden, n_out)) / np.sqrt(hidden)).astype(dtype),
            "by": np.zeros(n_out, dtype=dtype),
        }
        self.n_in, self.hidden, self.n_out = n_in, hidden, n_out
        self.loss_kind = loss
        self.dtype = dtype
        self.bug = bug

    def scores(self, x):
        p = self.params
        h0 = np.zeros((x.shape[0], self.hidden), dtype=x.dtype)
        h, caches = lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        return h @ p["Wy"] + p["by"], (h, caches)

    def loss(self, x, y, return_dx=False):
        """Mean loss over the N*T outputs and the gradients; y is (N, T) class ids for "ce",
        (N, T, n_out) targets for "mse". With return_dx, also the gradient of x."""
        p = self.params
        scores, (h, caches) = self.scores(x)
        N, T, _ = scores.shape
        if self.loss_kind == "ce":
            shifted = scores - scores.max(axis=2, keepdims=True)
            logp = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
            n_idx, t_idx = np.meshgrid(np.arange(N), np.arange(T), indexing="ij")
            loss = -logp[n_idx, t_idx, y].mean()
            dscores = np.exp(logp)
            dscores[n_idx, t_idx, y] -= 1
            dscores /= N * T
        else:
            diff = scores - y
            loss = np.mean(diff * diff)
            dscores = 2 * diff / diff.size
            if self.bug == "mse_missing_1_over_T":
                dscores *= T
            elif self.bug == "mse_target_of_the_previous_step":
                shifted = np.concatenate([y[:, :1], y[:, :-1]], axis=1)
                dscores = 2 * (scores - shifted) / diff.size
        grads = {}
        grads["Wy"] = np.einsum("nth,nto->ho", h, dscores)
        grads["by"] = dscores.sum(axis=(0, 1))
        dh = dscores @ p["Wy"].T
        dx, _, grads["Wx"], grads["Wh"], grads["b"] = lstm_backward(dh, caches, self.bug)
        if return_dx:
            return loss, grads, dx
        return loss, grads


def build(seed=0, dtype=np.float64, hidden=4, n_in=3, steps=4, bug=None, *, n_out=3, batch=2, loss="ce"):
    """A fresh model; ``model.steps`` and ``model.batch`` are the sequence shape it is meant for."""
    if bug is not None and bug not in BUG_NAMES:
        raise ValueError(f"unknown bug {bug!r}; expected one of {BUG_NAMES}")
    model = LSTMModel(n_in, hidden, n_out, np.random.default_rng(seed), np.dtype(dtype).type, loss, bug)
    model.steps, model.batch = steps, batch
    return model
