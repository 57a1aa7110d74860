"""Per-sample style (Nielsen's "Neural Networks and Deep Learning").

The network has lists ``weights`` (``(n_out, n_in)`` each) and ``biases`` (``(n_out, 1)``),
``feedforward(a)`` on a column vector and ``backprop(x, y) -> (nabla_b, nabla_w)`` for one
example with ``y`` a one-hot column. The cost is the network's own when it holds one
(``net.cost`` with ``fn(a, y)``, e.g. cross-entropy), else ``cost=`` (a function ``(a, y) ->
float`` or an object with ``fn``), else the quadratic cost ``||a - y||^2 / 2``. The adapter
averages over the batch. Glue::

    target = gradcheck.adapters.per_sample(net)

When ``feedforward`` accepts a whole batch as columns (and gives what it gives column by
column), the loss of a batch is one call, not one per example: this is what makes a full check
of a 784-30-10 network fit in the default time limit. ``backprop`` stays one call per example.
"""

from __future__ import annotations

import numpy as np

from gradcheck.adapters.declared import declare
from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.validation import validate_params


def quadratic_cost(a, y) -> float:
    """0.5 ||a - y||^2, summed over every entry (every example of a batch)."""
    return 0.5 * float(np.sum((np.asarray(a) - y) ** 2))


def _cost_function(cost, argument: str):
    function = getattr(cost, "fn", cost)
    if not callable(function):
        raise InvalidArgumentError(argument, f"got {type(cost).__name__}, expected a function cost(a, y) or "
                                   "an object with fn(a, y).", "Pass e.g. cost=CrossEntropyCost.")
    return function


class PerSampleTarget:
    """A target over a per-example backprop. X is (n_in, m): examples are columns."""

    layout = "columns"
    #: backprop sees one example at a time: the sum over the batch and the 1/m are the adapter's
    per_example = True

    def __init__(self, network, *, cost=None, **declarations):
        declare(self, **declarations)
        for attr in ("weights", "biases", "feedforward", "backprop"):
            if not hasattr(network, attr):
                raise InvalidArgumentError("network", f"({type(network).__name__}) has no `{attr}`.",
                                           "per_sample expects Nielsen-style weights, biases, "
                                           "feedforward(a) and backprop(x, y).")
        if len(network.weights) != len(network.biases):
            raise InvalidArgumentError(
                "network", f"has {len(network.weights)} weight matrices but {len(network.biases)} "
                "bias vectors.", "Give every layer one weight matrix and one bias column.")
        if cost is not None:
            self.cost = _cost_function(cost, "cost")
        elif getattr(network, "cost", None) is not None:
            self.cost = _cost_function(network.cost, "network.cost")
        else:
            self.cost = quadratic_cost
        self.network = network
        self.params = {}
        for i, (W, b) in enumerate(zip(network.weights, network.biases), start=1):
            self.params[f"W{i}"] = W
            self.params[f"b{i}"] = b
        validate_params(self.params, argument="network")
        self._outputs = int(network.biases[-1].shape[0])
        if self._outputs >= 2:  # one output is a probability or a value, not classes
            self.n_classes = self._outputs
        self._batched: bool | None = None  # feedforward and cost take whole batches; found on first use

    def _one_hot(self, y, dtype=np.float64) -> np.ndarray:
        """The label columns (outputs, m): one-hot for class labels y (m,); labels already given
        as columns (0/1 rows of a multi-label network, regression targets) as they are; one
        output's 0/1 or real labels (m,) or (1, m) as one row."""
        y = np.asarray(y)
        if y.ndim == 2:
            return y.astype(dtype)
        if self._outputs == 1:
            return y.reshape(1, -1).astype(dtype)
        Y = np.zeros((self._outputs, len(y)), dtype=dtype)
        Y[np.asarray(y, dtype=np.int64), np.arange(len(y))] = 1.0
        return Y

    def _cost_per_column(self, X, Y) -> float:
        return sum(float(self.cost(self.network.feedforward(X[:, [j]]), Y[:, [j]])) for j in range(X.shape[1]))

    def _accepts_batches(self, X, Y) -> bool:
        """Whether feedforward and the cost on two columns at once equal them column by column."""
        m = min(2, X.shape[1])
        X2, Y2 = X[:, :m], Y[:, :m]
        try:
            A = np.asarray(self.network.feedforward(X2))
            columns = np.hstack([np.asarray(self.network.feedforward(X2[:, [j]])) for j in range(m)])
            if A.shape != columns.shape or not np.allclose(A, columns, rtol=1e-5, atol=1e-8):
                return False
            together, apart = float(self.cost(A, Y2)), self._cost_per_column(X2, Y2)
        except Exception:  # feedforward or the cost written for one column only
            return False
        return bool(np.isclose(together, apart, rtol=1e-5, atol=1e-8))

    def loss(self, X, y) -> float:
        m = X.shape[1]
        Y = self._one_hot(y, X.dtype)
        if self._batched is None and m > 1:  # one column says nothing about batches: ask later
            self._batched = self._accepts_batches(X, Y)
        if self._batched:
            return float(self.cost(self.network.feedforward(X), Y)) / m
        return self._cost_per_column(X, Y) / m

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        m = X.shape[1]
        Y = self._one_hot(y, X.dtype)
        n_layers = len(self.network.weights)
        sums: dict[str, np.ndarray] = {}
        for j in range(m):
            result = self.network.backprop(X[:, [j]], Y[:, [j]])
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise ProtocolError(f"backprop(x, y) returned {type(result).__name__}, expected "
                                    "(nabla_b, nabla_w), two lists with one array per layer")
            nabla_b, nabla_w = result
            for kind, grads in (("nabla_b", nabla_b), ("nabla_w", nabla_w)):
                if not isinstance(grads, (list, tuple)) or len(grads) != n_layers:
                    got = len(grads) if isinstance(grads, (list, tuple)) else type(grads).__name__
                    raise ProtocolError(f"backprop(x, y) returned {kind} with {got} entries, expected a list "
                                        f"of {n_layers}, one per layer")
            for i, (db, dW) in enumerate(zip(nabla_b, nabla_w), start=1):
                for name, kind, grad in ((f"b{i}", "nabla_b", db), (f"W{i}", "nabla_w", dW)):
                    grad = np.asarray(grad, dtype=np.float64)
                    if j == 0:
                        sums[name] = grad.copy()
                    elif grad.shape != sums[name].shape:
                        raise ProtocolError(
                            f"backprop(x, y) returned {kind}[{i - 1}] of shape {grad.shape} for example {j} "
                            f"but {sums[name].shape} for example 0; it must have {name}'s shape "
                            f"{self.params[name].shape} for every example")
                    else:
                        sums[name] += grad
        # a gradient of the wrong shape (transposed, a scalar) is returned as it is: the check
        # names it as a shape finding on the parameter
        return {name: sums[name] / m for name in self.params}


def per_sample(network, *, cost=None, **declarations) -> PerSampleTarget:
    """Wrap a Nielsen-style network as a target; see :class:`PerSampleTarget`."""
    return PerSampleTarget(network, cost=cost, **declarations)
