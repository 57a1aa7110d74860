"""A zoo of small two-layer networks (rows = examples), each named after its defect.

Every class exposes ``params`` (live arrays), ``loss()`` and ``gradients()`` on fixed data, so a
test can hand them straight to ``check_gradients``. ``Correct`` is the baseline.
"""

import numpy as np


def softmax_rows(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Correct:
    """784-style MLP in miniature: X (m, n_in) -> ReLU(h) -> softmax(k), mean cross-entropy."""

    def __init__(self, n_in=6, hidden=5, k=5, m=8, seed=0, dtype=np.float64):
        rng = np.random.default_rng(seed)
        self.X = rng.normal(size=(m, n_in)).astype(dtype)
        self.y = rng.integers(0, k, m)
        self.Y = np.eye(k, dtype=dtype)[self.y]
        self.m = m
        self.params = {
            "W1": (rng.normal(size=(n_in, hidden)) * 0.5).astype(dtype),
            "b1": (rng.normal(size=hidden) * 0.1).astype(dtype),
            "W2": (rng.normal(size=(hidden, k)) * 0.5).astype(dtype),
            "b2": (rng.normal(size=k) * 0.1).astype(dtype),
        }

    def forward(self):
        p = self.params
        Z1 = self.X @ p["W1"] + p["b1"]
        A1 = np.maximum(Z1, 0)
        P = softmax_rows(A1 @ p["W2"] + p["b2"])
        return Z1, A1, P

    def loss(self):
        P = self.forward()[2]
        return float(-np.sum(self.Y * np.log(P)) / self.m)

    def output_delta(self, P):
        return (P - self.Y) / self.m

    def relu_mask(self, Z1, A1):
        return Z1 > 0

    def gradients(self):
        p = self.params
        Z1, A1, P = self.forward()
        dZ2 = self.output_delta(P)
        dZ1 = (dZ2 @ p["W2"].T) * self.relu_mask(Z1, A1)
        return self.finish({
            "W1": self.X.T @ dZ1,
            "b1": dZ1.sum(axis=0),
            "W2": A1.T @ dZ2,
            "b2": dZ2.sum(axis=0),
        }, dZ1, dZ2)

    def finish(self, grads, dZ1, dZ2):
        return grads


class MissingOneOverM(Correct):
    def output_delta(self, P):
        return P - self.Y


class SignFlipped(Correct):
    def output_delta(self, P):
        return (self.Y - P) / self.m


class TransposedWeightGrad(Correct):
    """dW2 = dZ2.T @ A1: the right numbers in the wrong orientation (W2 is square here)."""

    def finish(self, grads, dZ1, dZ2):
        grads["W2"] = grads["W2"].T.copy()
        return grads


class BiasSummedOverAllUnits(Correct):
    """db1 = np.sum(dZ1): one number for every hidden unit (the first article's bug)."""

    def finish(self, grads, dZ1, dZ2):
        grads["b1"] = np.full_like(grads["b1"], np.sum(dZ1))
        return grads


class BiasScalar(Correct):
    """db2 returned as a bare scalar, as np.sum without an axis gives."""

    def finish(self, grads, dZ1, dZ2):
        grads["b2"] = np.sum(dZ2)
        return grads


class BiasNotSummedOverExamples(Correct):
    def finish(self, grads, dZ1, dZ2):
        grads["b2"] = dZ2
        return grads


class ZeroBiasGrad(Correct):
    def finish(self, grads, dZ1, dZ2):
        grads["b2"] = np.zeros_like(grads["b2"])
        return grads


class OneEntryOff(Correct):
    def finish(self, grads, dZ1, dZ2):
        grads["W1"] = grads["W1"].copy()
        grads["W1"][2, 3] += 0.5
        return grads


class ReluDerivativeFromOutput(Correct):
    """Uses A1 >= 0 (always true) as the ReLU derivative: inactive units leak gradient."""

    def relu_mask(self, Z1, A1):
        return A1 >= 0


class NaNGradient(Correct):
    def finish(self, grads, dZ1, dZ2):
        grads["W2"] = grads["W2"] * np.nan
        return grads


class DropoutRedrawnEachCall(Correct):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.rng = np.random.default_rng(1)

    def loss(self):
        Z1, A1, _ = self.forward()
        A1 = A1 * (self.rng.random(A1.shape) > 0.5) * 2
        P = softmax_rows(A1 @ self.params["W2"] + self.params["b2"])
        return float(-np.sum(self.Y * np.log(P)) / self.m)


class LossMutatesParams(Correct):
    def loss(self):
        value = super().loss()
        self.params["W2"] *= 1.001
        return value


class BackwardUpdatesParams(Correct):
    """gradients() also takes an SGD step, as a fused backward-and-update often does."""

    def gradients(self):
        grads = super().gradients()
        for name, g in grads.items():
            self.params[name] -= 0.1 * g
        return grads


DEFECTS = {
    MissingOneOverM: {"W1": "scale", "b1": "scale", "W2": "scale", "b2": "scale"},
    SignFlipped: {"W1": "sign", "b1": "sign", "W2": "sign", "b2": "sign"},
    TransposedWeightGrad: {"W2": "transpose"},
    BiasSummedOverAllUnits: {"b1": "reduction"},
    BiasScalar: {"b2": "reduction"},
    BiasNotSummedOverExamples: {"b2": "shape"},
    ZeroBiasGrad: {"b2": "zero"},
    OneEntryOff: {"W1": "mismatch"},
    ReluDerivativeFromOutput: {"W1": "mismatch", "b1": "mismatch"},
    NaNGradient: {"W2": "nonfinite"},
    LossMutatesParams: {"W2": "mutation"},
    BackwardUpdatesParams: {"W1": "mutation", "b1": "mutation", "W2": "mutation", "b2": "mutation"},
}
