"""Layer-object style ("Neural Networks from Scratch"): objects with forward/backward and state.

Each layer's ``forward(inputs)`` stores ``output``; ``backward(dvalues)`` stores ``dinputs`` and,
for layers with parameters, ``dweights`` and ``dbiases``. The loss object offers ``calculate(output,
y)`` (or ``forward(output, y)`` returning the per-example or mean loss) and ``backward(output, y)``
storing ``dinputs``. Glue::

    target = gradcheck.adapters.layer_objects([dense1, relu1, dense2], loss_softmax_ce)
"""

from __future__ import annotations

import numpy as np

from gradcheck.errors import InvalidArgumentError, ProtocolError


class LayerObjectsTarget:
    """A target over a list of layer objects and a loss object. Examples are rows."""

    layout = "rows"

    def __init__(self, layers, loss, *, weights="weights", biases="biases",
                 dweights="dweights", dbiases="dbiases"):
        if not isinstance(layers, (list, tuple)):
            raise InvalidArgumentError(
                "layers", f"got {type(layers).__name__}, expected a list of layer objects.",
                "Pass the layers in order, e.g. layer_objects([dense1, relu1, dense2], loss).")
        self.layers = list(layers)
        if not self.layers:
            raise InvalidArgumentError("layers", "is empty.", "Pass the network's layers in order.")
        for i, layer in enumerate(self.layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise InvalidArgumentError(f"layers[{i}]", f"({type(layer).__name__}) has no forward/backward.")
        if not hasattr(loss, "backward"):
            raise InvalidArgumentError("loss", f"({type(loss).__name__}) has no backward(output, y).")
        self.loss_object = loss
        self._names = (weights, biases, dweights, dbiases)
        self.params: dict[str, np.ndarray] = {}
        self._owners = []  # (param name, layer, attribute of its gradient)
        k = 0
        for layer in self.layers:
            if hasattr(layer, weights):
                k += 1
                for prefix, attr, grad_attr in (("W", weights, dweights), ("b", biases, dbiases)):
                    if hasattr(layer, attr):
                        self.params[f"{prefix}{k}"] = getattr(layer, attr)
                        self._owners.append((f"{prefix}{k}", layer, grad_attr))
        if not self.params:
            raise ProtocolError(f"no layer has a `{weights}` attribute; pass weights=... naming it")

    def forward(self, X):
        out = X
        for layer in self.layers:
            result = layer.forward(out)
            out = layer.output if getattr(layer, "output", None) is not None else result
        return out

    def _loss_value(self, output, y) -> float:
        if hasattr(self.loss_object, "calculate"):
            return float(self.loss_object.calculate(output, y))
        value = self.loss_object.forward(output, y)
        return float(np.mean(value))

    def loss(self, X, y) -> float:
        return self._loss_value(self.forward(X), y)

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        output = self.forward(X)
        self._loss_value(output, y)  # loss objects cache what their backward needs
        # A combined softmax/cross-entropy object backpropagates from its own probabilities.
        start = getattr(self.loss_object, "output", None)
        self.loss_object.backward(output if start is None else start, y)
        dvalues = self.loss_object.dinputs
        for layer in reversed(self.layers):
            layer.backward(dvalues)
            dvalues = layer.dinputs
        grads = {}
        for name, layer, grad_attr in self._owners:
            if not hasattr(layer, grad_attr):
                raise ProtocolError(f"after backward, layer {type(layer).__name__} has no `{grad_attr}`")
            grads[name] = np.array(getattr(layer, grad_attr), dtype=np.float64)
        return grads


def layer_objects(layers, loss, **names) -> LayerObjectsTarget:
    """Wrap layer objects and a loss object as a target; see :class:`LayerObjectsTarget`."""
    return LayerObjectsTarget(layers, loss, **names)
