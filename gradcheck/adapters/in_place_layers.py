"""The layers of a network that applies its gradients in place, each checked on its own.

A CNN written one image at a time has layer objects whose ``backprop(d_L_d_out, learn_rate)``
subtracts ``learn_rate`` times its gradients from its own arrays and returns the gradient for the
layer below (the first layer returns None). Passed to :func:`gradcheck.adapters.in_place` as
``layers=[conv, pool, softmax]`` (in the forward's order), each is seen through an
:class:`InPlaceLayer`: a face with examples as rows that the single-layer checks take like any
other layer (``forward``, ``backward``, ``params`` and ``grads()``):

- ``forward(X)`` runs the layer's forward on each example alone and stacks the outputs;
- ``backward(dY)`` runs, for each example, its forward again (the layer's cache is the last
  example's) and its backward with gradcheck's learning rate (:data:`gradcheck.adapters.in_place.LR`,
  a power of two), reads the gradient the step applied, ``(before - after) / LR``, and writes
  every array back bit for bit, whatever the call did or raised; the gradients are summed over the
  examples, the input gradients stacked (None when the layer returns none: its parameters are then
  checked and its input is not);
- ``params`` are the layer's attributes among the target's parameters (the arrays a step changes).

A backward without a learning rate (a pooling layer's ``backprop(d_L_d_out)``) is called with the
upstream gradient alone.
"""

from __future__ import annotations

import inspect

import numpy as np

from gradcheck.adapters.layer_access import BACKWARD_NAMES, FORWARD_NAMES, find_method
from gradcheck.errors import InvalidArgumentError
from gradcheck.numeric.perturbation import Snapshot

#: Names a learning rate goes by, in a step's or a layer's backward's signature.
LR_NAMES = ("lr", "learn_rate", "learning_rate", "alpha", "eta", "step_size", "rate")


def _lr_argument(backward) -> tuple[str | None, bool]:
    """How a layer's backward takes its learning rate: (keyword name, or None for the second
    positional argument) and whether it takes one at all."""
    try:
        parameters = [p for p in inspect.signature(backward).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    except (TypeError, ValueError):
        return None, True
    named = next((p.name for p in parameters if p.name in LR_NAMES), None)
    if named is not None:
        return named, True
    return None, len(parameters) >= 2


class InPlaceLayer:
    """One layer object that updates its own arrays in its backward, seen with examples as rows
    (see the module docstring). ``params`` maps the layer's attribute names to its live arrays;
    ``lr`` is the learning rate its backward is called with."""

    #: The single-layer check takes a missing input gradient (a first layer's) as "not checked".
    input_gradient_optional = True

    def __init__(self, layer, params: dict[str, np.ndarray], lr: float):
        forward, backward = find_method(layer, None, FORWARD_NAMES), find_method(layer, None, BACKWARD_NAMES)
        if forward is None or backward is None:
            raise InvalidArgumentError(
                "layers", f"{type(layer).__name__} has no forward or no backward method (looked for "
                f"{', '.join(FORWARD_NAMES)} and {', '.join(BACKWARD_NAMES)}).",
                "Pass only the network's layer objects, in order.")
        self.layer, self.params, self.lr = layer, dict(params), float(lr)
        self._names = (forward, backward)
        self._lr_name, self._takes_lr = _lr_argument(getattr(layer, backward))
        self._X: np.ndarray | None = None
        self._grads: dict[str, np.ndarray] = {}

    def _forward(self, x):
        return getattr(self.layer, self._names[0])(x)

    def _backward(self, *args, **kwargs):
        return getattr(self.layer, self._names[1])(*args, **kwargs)

    def forward(self, X: np.ndarray) -> np.ndarray:
        self._X = np.array(X, copy=True)
        return np.stack([np.asarray(self._forward(x)) for x in self._X])

    def _step(self, d: np.ndarray):
        if not self._takes_lr:
            return self._backward(d)
        if self._lr_name is not None:
            return self._backward(d, **{self._lr_name: self.lr})
        return self._backward(d, self.lr)

    def backward(self, dY: np.ndarray) -> np.ndarray | None:
        if self._X is None:
            raise RuntimeError("backward before forward")
        total = {name: np.zeros(np.shape(a)) for name, a in self.params.items()}
        inputs = []
        for x, d in zip(self._X, np.asarray(dY)):
            self._forward(x)  # this example's cache
            with Snapshot(self.params) as snapshot:
                returned = self._step(np.array(d, copy=True))
                inputs.append(None if returned is None else np.array(returned, copy=True))
                for name, array in self.params.items():
                    total[name] += (snapshot.original(name).astype(np.float64) - array.astype(np.float64)) / self.lr
        self._grads = {name: g.astype(self.params[name].dtype) for name, g in total.items()}
        if all(d is None for d in inputs):
            return None
        return np.stack([np.zeros_like(self._X[0]) if d is None else d for d in inputs])

    def grads(self) -> dict[str, np.ndarray]:
        return dict(self._grads)


def in_place_layers(layers, params: dict[str, np.ndarray], lr: float) -> list[InPlaceLayer]:
    """Faces of ``layers`` (the user's objects, in the forward's order), each holding the arrays
    of ``params`` (the target's, by path) that are its attributes, named by attribute."""
    if not isinstance(layers, (list, tuple)) or not layers:
        raise InvalidArgumentError("layers", f"got {type(layers).__name__}, expected a non-empty list "
                                   "of the network's layer objects.", "Pass layers=[conv, pool, softmax].")
    faces = []
    for layer in layers:
        own = {name: value for name, value in vars(layer).items()
               if isinstance(value, np.ndarray) and any(value is array for array in params.values())} \
            if hasattr(layer, "__dict__") else {}
        kind = type(type(layer).__name__, (InPlaceLayer,), {"__module__": __name__})
        faces.append(kind(layer, own, lr))
    return faces
