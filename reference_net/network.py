"""A feed-forward network: a list of layers plus a loss. Rows are examples.

``Network`` is also a gradcheck *target*: it exposes ``params`` (the live arrays), ``loss(X, y)``
and ``gradients(X, y)``, plus ``forward``, ``activations``, ``softmax`` and ``layout``.
"""

from __future__ import annotations

import numpy as np

from reference_net.activations import ACTIVATIONS, sigmoid, softmax
from reference_net.errors import ShapeError
from reference_net.layers import Dense, Dropout
from reference_net.losses import MSE, BinaryCrossEntropy, SoftmaxCrossEntropy


class Network:
    """Layers applied in order, then a loss.

    Parameters
    ----------
    layers : list
        Objects with ``forward(X)`` and ``backward(dA)``: :class:`Dense`, activations, :class:`Dropout`.
    loss : object
        A loss from :mod:`reference_net.losses`. Softmax/sigmoid outputs are fused into the loss
        (it takes logits), so the last layer is normally a ``Dense``.
    l2 : float
        Weight decay lambda: the loss gains ``l2 * sum(W**2)`` over every Dense ``W`` (not biases)
        and each ``dW`` gains ``2 * l2 * W``.

    Inputs are computed in the parameters' dtype (``dtype``, float64 or float32): float64 data
    given to a float32 network is cast to float32 rather than silently upcasting the network.
    """

    layout = "rows"

    def __init__(self, layers, loss, *, l2: float = 0.0):
        if float(l2) < 0:
            raise ValueError(f"l2: weight decay must be >= 0, got {l2}")
        self.layers = list(layers)
        self.loss_fn = loss
        self.l2 = float(l2)
        self.dense = [layer for layer in self.layers if isinstance(layer, Dense)]
        if not self.dense:
            raise ValueError("layers: the network needs at least one Dense layer")
        self.layer_names = _layer_names(self.layers)
        self.params: dict[str, np.ndarray] = {}
        self._grads: dict[str, np.ndarray] = {}  # the layers' dW and db buffers, by parameter name
        for i, layer in enumerate(self.dense, start=1):
            self.params[f"W{i}"], self.params[f"b{i}"] = layer.W, layer.b
            self._grads[f"W{i}"], self._grads[f"b{i}"] = layer.dW, layer.db
        self.n_in = self.dense[0].n_in
        self.n_out = self.dense[-1].n_out
        self.dtype = self.dense[0].W.dtype

    # -- forward -------------------------------------------------------------------------
    def _check_X(self, X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ShapeError(
                f"X: got shape {X.shape}, expected (n_examples, {self.n_in}); rows are examples"
            )
        if X.shape[0] == 0:
            raise ShapeError("X: got 0 examples; pass at least one row")
        if X.dtype != self.dtype:  # float64 data in a float32 network is computed in float32
            X = X.astype(self.dtype)
        return X

    def _set_training(self, training: bool) -> None:
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.training = training

    def logits(self, X, *, training: bool = False) -> np.ndarray:
        """X (n, n_in) -> the last layer's output (n, n_out), before the loss's softmax/sigmoid."""
        A = self._check_X(X)
        self._set_training(training)
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def forward(self, X, *, training: bool = False) -> np.ndarray:
        """X (n, n_in) -> network output (n, n_out): class probabilities for a softmax network."""
        return self.loss_fn.probabilities(self.logits(X, training=training))

    def activations(self, X) -> dict[str, np.ndarray]:
        """Every layer's output for X, keyed by layer name (``dense1``, ``relu1``, ...)."""
        A = self._check_X(X)
        self._set_training(False)
        out = {}
        for name, layer in zip(self.layer_names, self.layers):
            A = layer.forward(A)
            out[name] = A
        return out

    def predict(self, X) -> np.ndarray:
        """Predicted class per row, shape (n,)."""
        return np.argmax(self.logits(X), axis=1)

    def softmax(self, Z) -> np.ndarray:
        """The softmax this network uses, over the class axis (last axis)."""
        return softmax(np.asarray(Z), axis=-1)

    def sigmoid(self, Z) -> np.ndarray:
        return sigmoid(np.asarray(Z))

    # -- loss and gradients ----------------------------------------------------------------
    def _penalty(self) -> float:
        if self.l2 == 0.0:
            return 0.0
        return self.l2 * float(sum(np.sum(layer.W**2) for layer in self.dense))

    def loss(self, X, y, *, training: bool = False) -> float:
        """Mean loss over the rows of X (n, n_in), labels y (n,), plus the L2 penalty."""
        return self.loss_fn.forward(self.logits(X, training=training), y) + self._penalty()

    def backward(self) -> dict[str, np.ndarray]:
        """Backpropagate the last ``loss`` call; returns {name: gradient} (arrays reused between calls)."""
        dA = self.loss_fn.backward()
        for layer in reversed(self.layers[1:]):
            dA = layer.backward(dA)
        first = self.layers[0]
        if isinstance(first, Dense):  # its input is the data: no gradient needed
            first.backward(dA, need_dX=False)
        else:
            first.backward(dA)
        if self.l2:
            for layer in self.dense:
                layer.dW += 2 * self.l2 * layer.W
        return dict(self._grads)

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        """dLoss/dparam for every parameter, evaluated without dropout; fresh copies."""
        self.loss(X, y)
        return {name: g.copy() for name, g in self.backward().items()}


def _layer_names(layers) -> list[str]:
    counts: dict[str, int] = {}
    names = []
    for layer in layers:
        kind = type(layer).__name__.lower()
        counts[kind] = counts.get(kind, 0) + 1
        names.append(f"{kind}{counts[kind]}")
    return names


_OUTPUT_LOSSES = {
    "softmax": SoftmaxCrossEntropy,
    "sigmoid": BinaryCrossEntropy,
    "linear": MSE,
}


def build_mlp(
    sizes=(784, 10, 10),
    *,
    hidden: str = "relu",
    output: str = "softmax",
    init: str = "he",
    l2: float = 0.0,
    dropout: float = 0.0,
    seed: int = 0,
    dtype=np.float64,
) -> Network:
    """A multilayer perceptron: Dense, hidden activation (and dropout) per hidden layer, Dense out.

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. (784, 10, 10) is the first article's network.
    hidden : {"relu", "leaky_relu", "sigmoid", "tanh"}
    output : {"softmax", "sigmoid", "linear"}
        Picks the loss: softmax cross-entropy, binary cross-entropy, or MSE.
    init : str
        Initialiser name, "he" (default) or "xavier", ...
    seed : int
        Seeds the weights and the dropout masks.
    dtype : numpy dtype
        float64 (default) or float32, for every parameter, activation and gradient.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes: need at least input and output widths, got {sizes}")
    if hidden not in ACTIVATIONS or hidden == "softmax":
        raise ValueError(f"hidden: unknown activation {hidden!r}; use relu, leaky_relu, sigmoid or tanh")
    if output not in _OUTPUT_LOSSES:
        raise ValueError(f"output: unknown output {output!r}; use one of {sorted(_OUTPUT_LOSSES)}")
    rng = np.random.default_rng(seed)
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(n_in, n_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[hidden]())
            if dropout:
                layers.append(Dropout(dropout, rng=rng))
    return Network(layers, _OUTPUT_LOSSES[output](), l2=l2)


__all__ = ["Network", "build_mlp"]
