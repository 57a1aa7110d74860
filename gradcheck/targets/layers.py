"""A target's layers, seen one at a time, for single-layer checks.

A layer is anything in ``target.layers`` with ``forward`` and ``backward``. Its output is what
``forward`` returns (or ``.output`` when it returns None, as in the book "Neural Networks from
Scratch"); its input gradient is what ``backward`` returns (or ``.dinputs``). Parameters and
their gradients are found as attribute pairs: (W, dW), (b, db), (weights, dweights),
(biases, dbiases).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gradcheck.targets.usercode import call_user

PARAM_GRAD_PAIRS = (("W", "dW"), ("b", "db"), ("weights", "dweights"), ("biases", "dbiases"))


@dataclass
class LayerView:
    """One layer with uniform forward/backward and its parameters (live arrays)."""

    name: str
    layer: object

    def forward(self, X: np.ndarray) -> np.ndarray:
        out = call_user(self.layer.forward, X, call="forward")
        return self.layer.output if out is None else out

    def backward(self, dY: np.ndarray) -> np.ndarray:
        out = call_user(self.layer.backward, dY, call="backward")
        return self.layer.dinputs if out is None else out

    @property
    def params(self) -> dict[str, np.ndarray]:
        own = getattr(self.layer, "params", None)
        if isinstance(own, Mapping) and callable(getattr(self.layer, "grads", None)):
            return dict(own)  # an adapter's face of the layer knows its parameters by name
        return {attr: value for attr, _ in PARAM_GRAD_PAIRS
                if isinstance(value := getattr(self.layer, attr, None), np.ndarray)}

    def param_grads(self) -> dict[str, np.ndarray]:
        own = getattr(self.layer, "params", None)
        if isinstance(own, Mapping) and callable(getattr(self.layer, "grads", None)):
            return dict(self.layer.grads())
        return {attr: getattr(self.layer, grad) for attr, grad in PARAM_GRAD_PAIRS if attr in self.params}


def layer_views(target) -> list[LayerView]:
    """The target's layers that have forward and backward, named ``layer1_dense`` and so on."""
    layers = getattr(target, "layers", None)
    if not isinstance(layers, (list, tuple)):
        return []
    views = []
    for i, layer in enumerate(layers, start=1):
        if callable(getattr(layer, "forward", None)) and callable(getattr(layer, "backward", None)):
            kind = "".join(ch for ch in type(layer).__name__.lower() if ch.isalnum())
            views.append(LayerView(f"layer{i}_{kind}", layer))
    return views


def layer_inputs(views: list[LayerView], X: np.ndarray) -> list[np.ndarray]:
    """The input each layer sees when X flows through all of them in order."""
    inputs = []
    for view in views:
        inputs.append(X)
        X = np.array(view.forward(X), copy=True)
    return inputs
