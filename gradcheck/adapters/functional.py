"""Functional style: parameters passed as arguments, gradients returned as a tuple.

This is the first article's style (column per example)::

    target = gradcheck.adapters.functional(
        {"W1": W1, "b1": b1, "W2": W2, "b2": b2},
        output=lambda p, X: forward_propagation(*p.values(), X)[3],
        gradients=lambda p, X, y: backward_propagation(
            *forward_propagation(*p.values(), X), p["W2"], X, y),
        layout="columns",
    )
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from gradcheck.adapters.declared import declare
from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.validation import validate_params


def _cross_entropy(P: np.ndarray, y: np.ndarray, class_axis: int) -> float:
    """Mean -log P[y] with the classes along ``class_axis`` of P; log of 0 clipped to 1e-300."""
    P = np.asarray(P, dtype=np.float64)
    picked = np.take_along_axis(P, np.expand_dims(np.asarray(y), class_axis), axis=class_axis)
    return float(-np.mean(np.log(np.clip(picked, 1e-300, None))))


class FunctionalTarget:
    """A target over functions that take the parameters explicitly.

    Parameters
    ----------
    params : mapping str -> ndarray
        The user's arrays, in the order the user's functions take them (kept live, not copied).
    gradients : callable (params, X, y) -> tuple or mapping
        The analytic gradients; a tuple is matched to ``params`` in order.
    loss : callable (params, X, y) -> float, optional
        The scalar loss. If omitted, ``output`` must be given and the loss is the mean
        cross-entropy of its class probabilities (what softmax + one-hot backprop assumes).
    output : callable (params, X) -> probabilities, optional
    layout : "rows" or "columns"
        Whether examples are rows of X (n, n_in) or columns (n_in, n).
    softmax : callable Z -> probabilities, optional
        The user's softmax, class axis as ``layout`` says; it gets the softmax probe.
    task : {"multiclass", "binary", "multilabel", "regression", "sequence"}, optional
        What the network predicts, so the labels it is checked with (default: inferred; see
        :mod:`gradcheck.targets.tasks`). Every adapter takes it, and the other declarations of
        :func:`gradcheck.adapters.declared.declare` (``input_spec``, ``n_classes``...).
    activations : callable (params, X) -> mapping name -> array (or a sequence), optional
        Every layer's output in order; it gets the per-layer probes and lets a non-finite
        value be traced to the first layer that produced it.
    """

    def __init__(self, params: Mapping[str, np.ndarray], *, gradients: Callable, loss: Callable | None = None,
                 output: Callable | None = None, layout: str = "rows", softmax: Callable | None = None,
                 activations: Callable | None = None, **declarations):
        if layout not in ("rows", "columns"):
            raise InvalidArgumentError("layout", f"got {layout!r}, expected 'rows' or 'columns'.")
        if loss is None and output is None:
            raise InvalidArgumentError("loss", "neither loss nor output was given.",
                                       "Pass loss=lambda p, X, y: ... or output=lambda p, X: probabilities.")
        if not callable(gradients):
            raise InvalidArgumentError("gradients", f"got {type(gradients).__name__}, expected a function.")
        for name, fn in (("loss", loss), ("output", output)):
            if fn is not None and not callable(fn):
                raise InvalidArgumentError(name, f"got {type(fn).__name__}, expected a function.",
                                           f"Pass e.g. {name}=lambda p, X{', y' if name == 'loss' else ''}: ...")
        validate_params(params)
        for name, fn in (("softmax", softmax), ("activations", activations)):
            if fn is not None and not callable(fn):
                raise InvalidArgumentError(name, f"got {type(fn).__name__}, expected a function.")
        self.params = dict(params)
        declare(self, **declarations)
        self._gradients, self._loss, self._output = gradients, loss, output
        self.layout = layout
        if softmax is not None:
            self.softmax = softmax
        if activations is not None:
            self.activations = lambda X: activations(self.params, X)

    def forward(self, X):
        if self._output is None:
            raise ProtocolError("this target has no output function; pass output=... to the adapter")
        return self._output(self.params, X)

    def loss(self, X, y) -> float:
        if self._loss is not None:
            return self._loss(self.params, X, y)
        return _cross_entropy(self.forward(X), y, 0 if self.layout == "columns" else -1)

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        grads = self._gradients(self.params, X, y)
        if isinstance(grads, Mapping):
            return dict(grads)
        if not isinstance(grads, (tuple, list)):
            raise ProtocolError(
                f"gradients returned {type(grads).__name__}, expected a tuple with one gradient per "
                f"parameter {list(self.params)} (in that order) or a dict name -> gradient"
            )
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ProtocolError(
                f"gradients returned {len(grads)} values for {len(self.params)} parameters "
                f"{list(self.params)}; return one gradient per parameter, in the same order"
            )
        return dict(zip(self.params, grads))


def functional(params, *, gradients, loss=None, output=None, layout="rows", softmax=None,
               activations=None, **declarations) -> FunctionalTarget:
    """Wrap functional-style code as a target; see :class:`FunctionalTarget`."""
    return FunctionalTarget(params, gradients=gradients, loss=loss, output=output, layout=layout,
                            softmax=softmax, activations=activations, **declarations)
