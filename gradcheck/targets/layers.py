"""A target's layers, seen one at a time, for single-layer checks.

A layer is anything in ``target.layers`` with ``forward`` and ``backward``. Its output is what
``forward`` returns (or ``.output`` when it returns None, as in the book "Neural Networks from
Scratch"); its input gradient is what ``backward`` returns (or ``.dinputs``). Its parameters are
found by value (:mod:`gradcheck.targets.layer_params`): every float array it holds that a forward
leaves alone and its backward gives a gradient for, whatever it is called (``W``/``dW``,
``w``/``grad_w``, ``kernel``/``dkernel``, ``params["w"]``/``grads["w"]``). A layer seen through an
adapter (``params`` and ``grads()``) says its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from gradcheck.targets import layer_params
from gradcheck.targets.usercode import call_user


@dataclass
class LayerView:
    """One layer with uniform forward/backward and its parameters (live arrays).

    :meth:`learn` finds the parameters of a plain layer object (one forward on the input, one on
    another, one backward); until then, and for a layer that cannot be run, they are the arrays
    it holds now whose gradients it holds too.
    """

    name: str
    layer: object
    _found: dict | None = field(default=None, repr=False)

    def forward(self, X: np.ndarray) -> np.ndarray:
        out = call_user(self.layer.forward, X, call="forward")
        return self.layer.output if out is None else out

    def backward(self, dY: np.ndarray) -> np.ndarray:
        out = call_user(self.layer.backward, dY, call="backward")
        return self.layer.dinputs if out is None and not self._face() else out

    @property
    def input_gradient(self) -> bool | None:
        """True when the layer must return its input gradient; None when it may return none (a
        face that says so, for a first layer whose backward computes none)."""
        return None if getattr(self.layer, "input_gradient_optional", False) else True

    def _face(self) -> bool:
        """An adapter's face of the layer knows its parameters by name."""
        return isinstance(getattr(self.layer, "params", None), Mapping) and \
            callable(getattr(self.layer, "grads", None))

    def learn(self, X: np.ndarray, seed: int = 0) -> None:
        """Find the parameters by running the layer on ``X`` (see :func:`layer_params.learn`)."""
        learner = getattr(self.layer, "learn_params", None)
        if self._face() and callable(learner):  # a layer in another process finds them there
            learner(X, seed)
        elif not self._face():
            self._found = layer_params.learn(self.layer, self.forward, self.backward, X, seed)

    def observe(self, *arrays) -> None:
        """After a forward and a backward: the parameters are what the layer holds a gradient for,
        besides ``arrays`` (the input, output and their gradients, by identity or value)."""
        if not self._face():
            self._found = layer_params.parameters(self.layer, exclude=arrays)

    def _pairs(self) -> dict:
        return self._found if self._found is not None else layer_params.parameters(self.layer)

    @property
    def params(self) -> dict[str, np.ndarray]:
        if self._face():
            return dict(self.layer.params)
        return {name: layer_params.read(self.layer, place) for name, (place, _) in self._pairs().items()}

    def param_grads(self) -> dict[str, np.ndarray]:
        if self._face():
            return dict(self.layer.grads())
        grads = {name: layer_params.read(self.layer, grad) for name, (_, grad) in self._pairs().items()}
        return {name: g for name, g in grads.items() if g is not None}


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
