"""Dense layers that name their parameters and gradients in the ways published code does, each
with a ``bug=True`` variant whose square weight's gradient is transposed.

The names at the bottom (``w_b_transposed`` ...) are layer-objects networks, for the command
line to load from this file.
"""

import numpy as np

import gradcheck

N = 4  # square weights, so a transposed gradient has the right shape


class AttributeDense:
    """Parameters as attributes named ``weight`` and ``bias`` (or any two names), gradients under
    one spelling of each (``d{}``, ``grad_{}``, ``{}_grad``); caches its input and pre-activation."""

    def __init__(self, rng, weight="w", bias="b", spelling="d{}", bug=False):
        self._names = (weight, bias, spelling.format(weight), spelling.format(bias))
        setattr(self, weight, rng.standard_normal((N, N)) * 0.5)
        setattr(self, bias, rng.standard_normal(N) * 0.1)
        self.bug = bug

    def forward(self, X):
        weight, bias, _, _ = self._names
        self.X = X
        self.Z = X @ getattr(self, weight) + getattr(self, bias)
        return self.Z

    def backward(self, dY):
        weight, _, dweight, dbias = self._names
        g = self.X.T @ dY
        setattr(self, dweight, g.T if self.bug else g)
        setattr(self, dbias, dY.sum(axis=0))
        self.dZ = dY
        return dY @ getattr(self, weight).T


class DictDense:
    """``params = {"w": ..., "b": ...}`` and a gradient dict keyed ``w`` (or ``dw``) filled by
    backward."""

    def __init__(self, rng, grads="grads", prefix="", bug=False):
        self.params = {"w": rng.standard_normal((N, N)) * 0.5, "b": rng.standard_normal(N) * 0.1}
        self._grads, self._prefix, self.bug = grads, prefix, bug

    def forward(self, X):
        self.cache = X
        return X @ self.params["w"] + self.params["b"]

    def backward(self, dY):
        g = self.cache.T @ dY
        setattr(self, self._grads, {self._prefix + "w": g.T if self.bug else g,
                                    self._prefix + "b": dY.sum(axis=0)})
        return dY @ self.params["w"].T


class RecurrentStep:
    """h = tanh(X @ W_xh + tanh(X) @ W_hh): two weights named as a recurrent cell names them."""

    def __init__(self, rng, bug=False):
        self.W_xh = rng.standard_normal((N, N)) * 0.5
        self.W_hh = rng.standard_normal((N, N)) * 0.5
        self.bug = bug

    def forward(self, X):
        self.X, self.P = X, np.tanh(X)
        self.h = np.tanh(X @ self.W_xh + self.P @ self.W_hh)
        return self.h

    def backward(self, dh):
        da = dh * (1 - self.h ** 2)
        self.dW_xh = self.X.T @ da
        g = self.P.T @ da
        self.dW_hh = g.T if self.bug else g
        return da @ self.W_xh.T + (da @ self.W_hh.T) * (1 - self.P ** 2)


class Tanh:
    def forward(self, X):
        self.out = np.tanh(X)
        return self.out

    def backward(self, dY):
        return dY * (1 - self.out ** 2)


class MeanSquares:
    def forward(self, pred, y):
        return float(np.mean((pred - np.eye(N)[y]) ** 2))

    def backward(self, pred, y):
        return 2 * (pred - np.eye(N)[y]) / pred.size


#: name -> (builder of one layer from (rng, bug), the parameter names the layer check reports,
#: the weight whose gradient the bug transposes)
LAYERS = {
    "w_b": (lambda rng, bug: AttributeDense(rng, "w", "b", "d{}", bug), {"w", "b"}, "w"),
    "weight_bias": (lambda rng, bug: AttributeDense(rng, "weight", "bias", "grad_{}", bug), {"weight", "bias"},
                    "weight"),
    "kernel_bias": (lambda rng, bug: AttributeDense(rng, "kernel", "bias", "{}_grad", bug), {"kernel", "bias"},
                    "kernel"),
    "W_xh_W_hh": (lambda rng, bug: RecurrentStep(rng, bug), {"W_xh", "W_hh"}, "W_hh"),
    "params_grads": (lambda rng, bug: DictDense(rng, "grads", "", bug), {"w", "b"}, "w"),
    "params_dgrads": (lambda rng, bug: DictDense(rng, "gradients", "d", bug), {"w", "b"}, "w"),
}


def network(kind: str, bug: bool = False):
    """The layer of ``kind``, a tanh and another of the same kind, behind the layer-objects adapter."""
    build = LAYERS[kind][0]
    rng = np.random.default_rng(0)
    return gradcheck.adapters.layer_objects([build(rng, bug), Tanh(), build(rng, False)], MeanSquares())


w_b_transposed = network("w_b", bug=True)
kernel_bias_transposed = network("kernel_bias", bug=True)
params_grads_transposed = network("params_grads", bug=True)
kernel_bias_correct = network("kernel_bias")
