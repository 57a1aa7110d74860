"""Correct networks written from scratch in the styles gradcheck meets, each behind an adapter.

Every style is a function ``build(seed, dtype, X, y) -> target`` that returns a fresh, correct
network (parameters drawn from ``seed``) wrapped with the adapter its style calls for. The batch
is passed so a style can plant what makes checks hard on *that* batch (pre-activations within a
hair of a ReLU kink); no style reads it otherwise. Batches come from :func:`batch`: examples as
rows ``(n, N_IN)`` with integer labels; per-sample (column) styles transpose it themselves.

The styles:

- ``per_sample_quadratic``: Nielsen's per-example backprop, sigmoid layers, quadratic cost;
- ``per_sample_cross_entropy``: the same with the cross-entropy cost (delta = a - y);
- ``layer_objects_float32``: book-style layer objects run in float32, small init (0.01);
- ``cache_l2_batchnorm_dropout``: cs231n-style cache pairs with L2, batch norm and a dropout
  mask fixed by a seed;
- ``sum_loss_library``: a layer library whose loss is a sum over examples (no 1/m anywhere);
- ``small_init_unfittable``: a tanh network with tiny weights on labels it cannot fit;
- ``deep_relu_near_kinks``: a deep ReLU stack whose pre-activations sit within about 1e-8
  (float64) or 1e-3 (float32) of zero for several units, on every layer.

Every builder also takes ``bug=``, the name of a mistake of that style written into its own
backward (one line changed, see :data:`NATIVE_BUGS`); ``None`` builds the correct network. The
bug lives in the network's class or in a module-level function, so a deep copy of the target
(the float64 re-check's) carries it too.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from gradcheck.adapters import cache_model, functional, layer_objects, per_sample

N_IN, HIDDEN, N_CLASSES = 5, 6, 3


def batch(n: int, seed: int, dtype=np.float64):
    """X (n, N_IN) uniform in [0, 1] like pixels over 255, labels (n,) in [0, N_CLASSES)."""
    rng = np.random.default_rng(10_000 + seed)
    return rng.uniform(0, 1, (n, N_IN)).astype(dtype), rng.integers(0, N_CLASSES, n)


def stable_sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


# -- per-sample (Nielsen) ---------------------------------------------------------------------
class PerSampleNetwork:
    """Examples are column vectors; ``backprop(x, y)`` returns (nabla_b, nabla_w) for one example."""

    def __init__(self, sizes, rng, dtype, cost="quadratic", bug=None):
        self.weights = [(rng.standard_normal((b, a)) / np.sqrt(a)).astype(dtype)
                        for a, b in zip(sizes[:-1], sizes[1:])]
        self.biases = [rng.standard_normal((b, 1)).astype(dtype) for b in sizes[1:]]
        self.cost_kind, self.bug = cost, bug

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = stable_sigmoid(w @ a + b)
        return a

    def backprop(self, x, y):
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = w @ activation + b
            zs.append(z)
            activation = stable_sigmoid(z)
            activations.append(activation)
        a = activations[-1]
        if self.cost_kind == "cross_entropy":
            if self.bug == "quadratic_delta_with_cross_entropy":
                delta = (a - y) * a * (1 - a)
            elif self.bug == "delta_y_minus_a":
                delta = y - a
            else:
                delta = a - y
        else:
            delta = (a - y) * a * (1 - a)
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        for layer in range(1, len(self.weights) + 1):
            if layer > 1:
                s = activations[-layer]
                if self.bug == "sigmoid_prime_of_activation":  # sigmoid_prime(a) for sigmoid_prime(z)
                    s = stable_sigmoid(s)
                delta = (self.weights[-layer + 1].T @ delta) * s * (1 - s)
            nabla_b[-layer] = delta
            if self.bug == "nabla_b_from_activation":
                nabla_b[-layer] = activations[-layer]
            elif self.bug == "nabla_b_summed":  # batch code's np.sum(delta), on one example
                nabla_b[-layer] = np.sum(delta)
            if self.bug == "nabla_w_transposed":
                nabla_w[-layer] = activations[-layer - 1] @ delta.T
            else:
                nabla_w[-layer] = delta @ activations[-layer - 1].T
        return nabla_b, nabla_w


def _cross_entropy_cost(a, y):
    a = np.clip(np.asarray(a, dtype=np.float64), 1e-12, 1 - 1e-12)
    return float(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)))


def _quadratic_cost_without_half(a, y):
    return float(np.sum((np.asarray(a, dtype=np.float64) - y) ** 2))  # the ½ of ½·||a - y||² left out


def per_sample_quadratic(seed, dtype, X, y, bug=None):
    net = PerSampleNetwork((N_IN, HIDDEN, N_CLASSES), np.random.default_rng(seed), dtype, bug=bug)
    return per_sample(net, cost=_quadratic_cost_without_half if bug == "cost_without_half" else None)


def per_sample_cross_entropy(seed, dtype, X, y, bug=None):
    net = PerSampleNetwork((N_IN, HIDDEN, N_CLASSES), np.random.default_rng(seed), dtype,
                           cost="cross_entropy", bug=bug)
    return per_sample(net, cost=_cross_entropy_cost)


# -- layer objects (book style), float32 ---------------------------------------------------------
class Dense:
    def __init__(self, n_inputs, n_neurons, rng, dtype, scale=0.01, bug=None):
        self.weights = (scale * rng.standard_normal((n_inputs, n_neurons))).astype(dtype)
        self.biases = np.zeros((1, n_neurons), dtype=dtype)
        self.bug = bug

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        if self.bug == "dbiases_summed_over_axis1":
            self.dbiases = np.sum(dvalues, axis=1, keepdims=True)
        else:
            self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = dvalues @ self.weights.T


class ReLU:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        if self.bug != "relu_mask_missing":
            self.dinputs[self.inputs <= 0] = 0


class SoftmaxCrossEntropy:
    """Softmax and mean categorical cross-entropy in one object, as the book combines them."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, inputs, y_true):
        e = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = e / np.sum(e, axis=1, keepdims=True)
        clipped = np.clip(self.output, 1e-7, 1 - 1e-7)
        if self.bug == "log_eps_not_in_backward":  # a second guard, + 1e-3, that backward's p - y lacks
            return -np.log(clipped[range(len(inputs)), y_true] + 1e-3)
        return -np.log(clipped[range(len(inputs)), y_true])

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        if self.bug != "dinputs_not_divided_by_samples":
            self.dinputs = self.dinputs / samples


def layer_objects_float32(seed, dtype, X, y, bug=None):
    rng = np.random.default_rng(seed)
    layers = [Dense(N_IN, HIDDEN, rng, dtype, scale=0.1, bug=bug), ReLU(bug),
              Dense(HIDDEN, N_CLASSES, rng, dtype, scale=0.1, bug=bug)]
    return layer_objects(layers, SoftmaxCrossEntropy(bug))


# -- cache pairs (cs231n) with L2, batch norm and seeded dropout ---------------------------------
def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, gamma, np.sqrt(var + eps))


def batchnorm_backward(dout, cache, bug=None):
    xhat, gamma, std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = dout.sum(axis=0) if bug == "dgamma_without_xhat" else (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * std)
    return dx, dgamma, dbeta


def dropout_forward(x, p, seed):
    np.random.seed(seed)  # noqa: NPY002 (cs231n's test setup: the same mask on every call)
    mask = (np.random.rand(*x.shape) < p) / p  # noqa: NPY002
    return x * mask, mask


def softmax_loss(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = scores.shape[0]
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    return -log_probs[np.arange(n), y].mean(), dx / n


class CacheNet:
    """affine - batchnorm - relu - dropout - affine - softmax, with 0.5 * reg * sum(W^2)."""

    def __init__(self, rng, dtype, reg=0.1, dropout_seed=123, bug=None):
        self.params = {
            "W1": (rng.standard_normal((N_IN, HIDDEN)) * 0.5).astype(dtype),
            "b1": np.zeros(HIDDEN, dtype=dtype),
            "gamma1": np.ones(HIDDEN, dtype=dtype), "beta1": np.zeros(HIDDEN, dtype=dtype),
            "W2": (rng.standard_normal((HIDDEN, N_CLASSES)) * 0.5).astype(dtype),
            "b2": np.zeros(N_CLASSES, dtype=dtype),
        }
        self.reg, self.dropout_seed, self.bug = reg, dropout_seed, bug

    def loss(self, X, y):
        p = self.params
        h, c1 = affine_forward(X, p["W1"], p["b1"])
        hn, cbn = batchnorm_forward(h, p["gamma1"], p["beta1"])
        a = np.maximum(hn, 0)
        d, mask = dropout_forward(a, 0.75, self.dropout_seed)
        scores, c2 = affine_forward(d, p["W2"], p["b2"])
        data_loss, dscores = softmax_loss(scores, y)
        half = 1.0 if self.bug == "l2_cost_without_half" else 0.5  # the backward keeps reg * W
        loss = data_loss + half * self.reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        grads = {}
        dd, grads["W2"], grads["b2"] = affine_backward(dscores, c2)
        # the 0/1 mask without the forward's 1/p rescale
        da = dd * (mask > 0) if self.bug == "dropout_backward_without_rescale" else dd * mask
        dhn = da * (hn > 0)
        dh, grads["gamma1"], grads["beta1"] = batchnorm_backward(dhn, cbn, self.bug)
        _, grads["W1"], grads["b1"] = affine_backward(dh, c1)
        if self.bug != "l2_term_missing":
            # d/dW of 0.5 * reg * sum(W^2) is reg * W; the classic slip doubles it
            reg = 2 * self.reg if self.bug == "l2_term_doubled" else self.reg
            grads["W1"] = grads["W1"] + reg * p["W1"]
            grads["W2"] = grads["W2"] + reg * p["W2"]
        return loss, grads


def cache_l2_batchnorm_dropout(seed, dtype, X, y, bug=None):
    return cache_model(CacheNet(np.random.default_rng(seed), dtype, bug=bug))


# -- a layer library whose loss is a sum ---------------------------------------------------------
class Linear:
    """Keeps its parameters as ``W``/``b`` and their gradients as ``dW``/``db``."""

    def __init__(self, n_in, n_out, rng, dtype, bug=None):
        self.W = (rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(dtype)
        self.b = np.zeros(n_out, dtype=dtype)
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, grad):
        self.dW = self.x.T @ grad
        self.db = grad.sum() if self.bug == "db_summed_over_every_axis" else grad.sum(axis=0)
        self.dinputs = grad @ self.W.T
        return self.dinputs


class Tanh:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        self.x = x
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        # the slip: 1 - x^2 of the layer's input, where tanh' is 1 - tanh(x)^2
        t = self.x if self.bug == "tanh_derivative_of_input" else self.out
        self.dinputs = grad * (1 - t ** 2)
        return self.dinputs


class SumSoftmaxCrossEntropy:
    """Summed (not averaged) cross-entropy: the library's documented convention."""

    def __init__(self, bug=None):
        self.bug = bug

    def calculate(self, scores, y):
        shifted = scores - scores.max(axis=1, keepdims=True)
        self.log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-self.log_probs[np.arange(len(y)), y].sum())

    def backward(self, scores, y):
        self.dinputs = np.exp(self.log_probs)
        self.dinputs[np.arange(len(y)), y] -= 1
        if self.bug == "backward_divides_by_batch":  # a mean's gradient under a summed loss
            self.dinputs /= len(y)


def sum_loss_library(seed, dtype, X, y, bug=None):
    rng = np.random.default_rng(seed)
    layers = [Linear(N_IN, HIDDEN, rng, dtype, bug), Tanh(bug), Linear(HIDDEN, N_CLASSES, rng, dtype, bug)]
    return layer_objects(layers, SumSoftmaxCrossEntropy(bug))


# -- functional: small init, tanh, labels it cannot fit ------------------------------------------
def _tanh_forward(p, X):
    H = np.tanh(X @ p["W1"] + p["b1"])
    Z = H @ p["W2"] + p["b2"]
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return H, E / E.sum(axis=1, keepdims=True)


def _tanh_gradients(p, X, y, bug=None):
    H, P = _tanh_forward(p, X)
    n = X.shape[0]
    dZ = P.copy()
    dZ[np.arange(n), y] -= 1
    if bug != "dZ_not_divided_by_n":
        dZ /= n
    dH = dZ @ p["W2"].T * ((1 - H) if bug == "tanh_derivative_not_squared" else (1 - H ** 2))
    dW2 = dZ.T @ H if bug == "dW2_product_reversed" else H.T @ dZ
    return X.T @ dH, dH.sum(axis=0), dW2, dZ.sum(axis=0)


def small_init_unfittable(seed, dtype, X, y, bug=None):
    rng = np.random.default_rng(seed)
    params = {"W1": (1e-3 * rng.standard_normal((N_IN, 16))).astype(dtype),
              "b1": np.zeros(16, dtype=dtype),
              "W2": (1e-3 * rng.standard_normal((16, N_CLASSES))).astype(dtype),
              "b2": np.zeros(N_CLASSES, dtype=dtype)}
    return functional(params, output=lambda p, X: _tanh_forward(p, X)[1],
                      gradients=partial(_tanh_gradients, bug=bug),
                      activations=lambda p, X: {"H": _tanh_forward(p, X)[0]})


# -- functional: deep ReLU stack, pre-activations planted next to the kink ------------------------
DEPTH = 4


def _relu_stack(p, X):
    A, pre = X, []
    for i in range(1, DEPTH + 1):
        Z = A @ p[f"W{i}"] + p[f"b{i}"]
        pre.append(Z)
        A = np.maximum(Z, 0) if i < DEPTH else Z
    E = np.exp(A - A.max(axis=1, keepdims=True))
    return pre, E / E.sum(axis=1, keepdims=True)


def _relu_stack_gradients(p, X, y, bug=None):
    pre, P = _relu_stack(p, X)
    n = X.shape[0]
    dZ = P.copy()
    dZ[np.arange(n), y] -= 1
    dZ /= n
    grads = {}
    for i in range(DEPTH, 0, -1):
        A_prev = X if i == 1 else np.maximum(pre[i - 2], 0)
        if bug == "dW_from_preactivation" and i > 1:  # Z of the layer below where its A belongs
            A_prev = pre[i - 2]
        grads[f"W{i}"] = A_prev.T @ dZ
        grads[f"b{i}"] = dZ.sum(axis=0)
        if i > 1:
            mask = pre[i - 2] > 0
            if bug == "mask_from_layer_above" and i < DEPTH:  # A > 0 of layer i, not of layer i - 1
                mask = np.maximum(pre[i - 1], 0) > 0
            dZ = (dZ @ p[f"W{i}"].T) * mask
    return grads


def deep_relu_near_kinks(seed, dtype, X, y, bug=None):
    """Each hidden layer has its bias moved so that two of its units have, for one example each,
    a pre-activation of +-gap: a finite-difference step on one weight crosses several kinks."""
    rng = np.random.default_rng(seed)
    sizes = (N_IN, 8, 8, 8, N_CLASSES)
    p = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        p[f"W{i}"] = (rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(dtype)
        p[f"b{i}"] = np.zeros(b, dtype=dtype)
    gap = 1e-8 if np.dtype(dtype) == np.float64 else 1e-3
    Xd = np.asarray(X, dtype=dtype)
    for i in range(1, DEPTH):
        pre, _ = _relu_stack(p, Xd)
        Z = pre[i - 1]
        for unit in rng.choice(Z.shape[1], size=2, replace=False):
            example = int(rng.integers(Z.shape[0]))
            sign = 1.0 if rng.random() < 0.5 else -1.0
            p[f"b{i}"][unit] += sign * gap - Z[example, unit]
    return functional(p, output=lambda q, X: _relu_stack(q, X)[1],
                      gradients=partial(_relu_stack_gradients, bug=bug),
                      activations=lambda q, X: {f"Z{i}": Z for i, Z in enumerate(_relu_stack(q, X)[0], 1)})


STYLES = {
    "per_sample_quadratic": per_sample_quadratic,
    "per_sample_cross_entropy": per_sample_cross_entropy,
    "layer_objects_float32": layer_objects_float32,
    "cache_l2_batchnorm_dropout": cache_l2_batchnorm_dropout,
    "sum_loss_library": sum_loss_library,
    "small_init_unfittable": small_init_unfittable,
    "deep_relu_near_kinks": deep_relu_near_kinks,
}
