"""Per-sample style (Nielsen's "Neural Networks and Deep Learning").

The network has lists ``weights`` (``(n_out, n_in)`` each) and ``biases`` (``(n_out, 1)``),
``feedforward(a)`` on one column vector and ``backprop(x, y) -> (nabla_b, nabla_w)`` for one
example, for the quadratic cost ``C = ||a - y||^2 / 2`` with ``y`` a one-hot column. The adapter
averages over the batch. Glue::

    target = gradcheck.adapters.per_sample(net)
"""

from __future__ import annotations

import numpy as np

from gradcheck.errors import InvalidArgumentError
from gradcheck.validation import validate_params


class PerSampleTarget:
    """A target over a per-example backprop. X is (n_in, m): examples are columns."""

    layout = "columns"

    def __init__(self, network, *, cost=None, cost_derivative_is_quadratic: bool = True):
        for attr in ("weights", "biases", "feedforward", "backprop"):
            if not hasattr(network, attr):
                raise InvalidArgumentError("network", f"({type(network).__name__}) has no `{attr}`.",
                                           "per_sample expects Nielsen-style weights, biases, "
                                           "feedforward(a) and backprop(x, y).")
        if len(network.weights) != len(network.biases):
            raise InvalidArgumentError(
                "network", f"has {len(network.weights)} weight matrices but {len(network.biases)} "
                "bias vectors.", "Give every layer one weight matrix and one bias column.")
        if cost is not None and not callable(cost):
            raise InvalidArgumentError("cost", f"got {type(cost).__name__}, expected a function cost(a, y).")
        self.network = network
        self.cost = cost or (lambda a, y: 0.5 * float(np.sum((a - y) ** 2)))
        self.params = {}
        for i, (W, b) in enumerate(zip(network.weights, network.biases), start=1):
            self.params[f"W{i}"] = W
            self.params[f"b{i}"] = b
        validate_params(self.params, argument="network")
        self.n_classes = int(network.biases[-1].shape[0])

    def _one_hot(self, label) -> np.ndarray:
        column = np.zeros((self.n_classes, 1))
        column[int(label)] = 1.0
        return column

    def loss(self, X, y) -> float:
        m = X.shape[1]
        return sum(self.cost(self.network.feedforward(X[:, [j]]), self._one_hot(y[j])) for j in range(m)) / m

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        m = X.shape[1]
        sums = {name: np.zeros_like(p, dtype=np.float64) for name, p in self.params.items()}
        for j in range(m):
            nabla_b, nabla_w = self.network.backprop(X[:, [j]], self._one_hot(y[j]))
            for i, (db, dW) in enumerate(zip(nabla_b, nabla_w), start=1):
                sums[f"W{i}"] += dW
                sums[f"b{i}"] += db
        return {name: total / m for name, total in sums.items()}


def per_sample(network, **options) -> PerSampleTarget:
    """Wrap a Nielsen-style network as a target; see :class:`PerSampleTarget`."""
    return PerSampleTarget(network, **options)
