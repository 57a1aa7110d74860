"""Two-layer networks for the tasks other than multi-class softmax, written as a user would.

- ``BinaryNet``: tanh hidden layer, one sigmoid output, mean binary cross-entropy, labels (n, 1).
- ``MultiLabelNet``: k sigmoid outputs, mean (over examples) of the summed binary cross-entropies,
  labels (n, k) of 0/1.
- ``RegressionNet``: k linear outputs, mean squared error (mean over examples and outputs),
  float targets (n, k); it declares ``task = "regression"``.

Rows are examples (``layout="columns"`` transposes everything). ``bug`` switches on one
mistake: "db2_sum" (binary: the output bias gradient summed, not averaged), "tanh_derivative"
(multi-label: 1 - A instead of 1 - A**2 in the hidden layer) or "w2_factor" (regression: dW2
without the 2 of the square).
"""

import numpy as np


class _TwoLayer:
    task = None

    def __init__(self, n_in=6, n_hidden=5, n_out=1, *, bug=None, layout="rows", seed=0,
                 dtype=np.float64):
        rng = np.random.default_rng(seed)
        self.layout, self.bug = layout, bug
        W1 = rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in)
        W2 = rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden)
        b1, b2 = 0.1 * rng.standard_normal((1, n_hidden)), 0.1 * rng.standard_normal((1, n_out))
        if layout == "columns":
            W1, W2, b1, b2 = W1.T, W2.T, b1.T, b2.T
        self.params = {name: np.ascontiguousarray(a, dtype=dtype)
                       for name, a in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2))}

    # rows: X (n, n_in); columns: X (n_in, n). Everything below works on rows.
    def _rows(self, a):
        return a.T if self.layout == "columns" else a

    def _w(self):
        p = self.params
        if self.layout == "columns":
            return p["W1"].T, p["b1"].T, p["W2"].T, p["b2"].T
        return p["W1"], p["b1"], p["W2"], p["b2"]

    def _targets(self, y, k):
        Y = np.asarray(y, dtype=self.params["W1"].dtype)
        Y = self._rows(Y) if Y.ndim == 2 else Y.reshape(-1, 1)
        return Y.reshape(-1, k)

    def _forward(self, X):
        W1, b1, W2, b2 = self._w()
        X = self._rows(X)
        A1 = np.tanh(X @ W1 + b1)
        Z2 = A1 @ W2 + b2
        return X, A1, Z2

    def forward(self, X):
        return self._rows(self.output(self._forward(X)[2]))

    @staticmethod
    def sigmoid(Z):
        E = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1 / (1 + E), E / (1 + E))

    def gradients(self, X, y):
        W1, b1, W2, b2 = self._w()
        X, A1, Z2 = self._forward(X)
        Y = self._targets(y, Z2.shape[1])
        m = X.shape[0]
        dZ2 = self.output_gradient(Z2, Y) / m
        dW2 = A1.T @ dZ2
        db2 = dZ2.sum(axis=0, keepdims=True)
        dA1 = dZ2 @ W2.T
        derivative = (1 - A1) if self.bug == "tanh_derivative" else (1 - A1 ** 2)
        dZ1 = dA1 * derivative
        dW1 = X.T @ dZ1
        db1 = dZ1.sum(axis=0, keepdims=True)
        if self.bug == "db2_sum":
            db2 = db2 * m
        if self.bug == "w2_factor":
            dW2 = dW2 / 2
        grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        if self.layout == "columns":
            grads = {name: g.T for name, g in grads.items()}
        return grads


class _Sigmoids(_TwoLayer):
    def output(self, Z):
        return self.sigmoid(Z)

    def loss(self, X, y):
        Z2 = self._forward(X)[2]
        Y = self._targets(y, Z2.shape[1])
        # log(sigmoid(z)) = -log(1 + exp(-z)), stable for any z
        per_entry = np.logaddexp(0, Z2) - Y * Z2
        return float(per_entry.sum(axis=1).mean())

    def output_gradient(self, Z2, Y):
        return self.sigmoid(Z2) - Y


class BinaryNet(_Sigmoids):
    def __init__(self, n_in=6, n_hidden=5, **options):
        super().__init__(n_in, n_hidden, 1, **options)


class MultiLabelNet(_Sigmoids):
    def __init__(self, n_in=6, n_hidden=5, n_labels=4, **options):
        super().__init__(n_in, n_hidden, n_labels, **options)


class RegressionNet(_TwoLayer):
    task = "regression"

    def __init__(self, n_in=6, n_hidden=5, n_out=3, **options):
        super().__init__(n_in, n_hidden, n_out, **options)

    def output(self, Z):
        return Z

    def loss(self, X, y):
        Z2 = self._forward(X)[2]
        return float(np.mean((Z2 - self._targets(y, Z2.shape[1])) ** 2))

    def output_gradient(self, Z2, Y):
        return 2 * (Z2 - Y) / Z2.shape[1]  # the mean over outputs; the 1/m comes after
