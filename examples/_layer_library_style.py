"""Layers of a small layer library: parameters in dicts, created on the first forward (rows = examples).

Our own network in the style of from-scratch layer libraries: ``layer.parameters["W"]`` and
``layer.gradients["W"]``, weights created when the first input arrives, gradients accumulated
with ``+=`` until ``flush_gradients()``, every forward's input appended to ``layer.X``, a loss
summed over examples whose ``grad`` is the derivative with respect to the logits. Runs in the
dtype of its input (float32 or float64). ``mean_bias_gradient=True`` switches on the bug: the
bias gradient averages the upstream gradient over the examples instead of summing it.
"""

import numpy as np


class FullyConnected:
    def __init__(self, n_out, seed=0, mean_bias_gradient=False):
        self.n_out = n_out
        self.seed = seed
        self.mean_bias_gradient = mean_bias_gradient
        self.parameters = {"W": None, "b": None}
        self.gradients = {}
        self.X = []
        self.is_initialized = False

    def _init_params(self, n_in, dtype):
        rng = np.random.default_rng(self.seed)
        W = (rng.standard_normal((n_in, self.n_out)) * np.sqrt(2.0 / n_in)).astype(dtype)
        self.parameters = {"W": W, "b": np.zeros((1, self.n_out), dtype=dtype)}
        self.gradients = {"W": np.zeros_like(W), "b": np.zeros((1, self.n_out), dtype=dtype)}
        self.is_initialized = True

    def forward(self, X, retain_derived=True):
        if not self.is_initialized:
            self._init_params(X.shape[1], X.dtype)
        if retain_derived:
            self.X.append(X)
        return X @ self.parameters["W"] + self.parameters["b"]

    def backward(self, dLdy, retain_grads=True):
        dX = []
        for dy, X in zip([dLdy], self.X):  # pairs this gradient with the first input kept
            dX.append(dy @ self.parameters["W"].T)
            if retain_grads:
                self.gradients["W"] += X.T @ dy
                reduce = np.mean if self.mean_bias_gradient else np.sum
                self.gradients["b"] += reduce(dy, axis=0, keepdims=True)
        return dX[0]

    def flush_gradients(self):
        self.X = []
        for grad in self.gradients.values():
            grad.fill(0)


class LeakyReLU:
    def __init__(self, alpha=0.1):
        self.alpha = alpha
        self.X = []

    def forward(self, X, retain_derived=True):
        if retain_derived:
            self.X.append(X)
        return np.where(X > 0, X, self.alpha * X)

    def backward(self, dLdy, retain_grads=True):
        X = self.X[0]
        return dLdy * np.where(X > 0, 1.0, self.alpha).astype(dLdy.dtype)


class Softmax:
    def __init__(self):
        self.X = []

    def forward(self, X, retain_derived=True):
        if retain_derived:
            self.X.append(X)
        e = np.exp(X - X.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def backward(self, dLdy, retain_grads=True):
        P = self.forward(self.X[0], retain_derived=False)
        return P * (dLdy - np.sum(P * dLdy, axis=1, keepdims=True))


class CrossEntropy:
    """Summed over examples; y is one-hot."""

    def loss(self, y, y_pred):
        return -np.sum(y * np.log(y_pred + np.finfo(y_pred.dtype).eps))

    def grad(self, y, y_pred):
        return y_pred - y  # with respect to the logits under the softmax


def build(mean_bias_gradient=False, seed=0):
    layers = [FullyConnected(16, seed, mean_bias_gradient), LeakyReLU(),
              FullyConnected(10, seed + 1, mean_bias_gradient), Softmax()]
    return layers, CrossEntropy()


def train(layers, loss, X, Y, *, steps=20, learning_rate=0.05):
    for _ in range(steps):
        out = X
        for layer in layers:
            out = layer.forward(out)
        dy = loss.grad(Y, out)
        for layer in reversed(layers[:-1]):
            dy = layer.backward(dy)
        for layer in layers:
            if isinstance(layer, FullyConnected):
                for key, grad in layer.gradients.items():
                    layer.parameters[key] -= learning_rate * grad
                layer.flush_gradients()
            else:
                layer.X = []
    return loss.loss(Y, out)
