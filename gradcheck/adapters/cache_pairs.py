"""Cache-pair style (cs231n): a model whose ``loss(X, y)`` returns ``(loss, grads)``.

The model keeps its parameters in a dict (``model.params``) and builds ``loss`` from
``affine_forward(x, w, b) -> (out, cache)`` / ``affine_backward(dout, cache) -> (dx, dw, db)``
pairs. Glue::

    target = gradcheck.adapters.cache_model(model)

A captioning model whose ``loss(features, captions)`` takes integer captions ``(N, T)`` says so::

    target = gradcheck.adapters.cache_model(model, task="sequence", sequence_length=17,
                                            null_token=model._null, input_spec={"shape": (512,)})
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck.adapters.declared import declare
from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.validation import validate_params


class CacheModelTarget:
    """A target over a model with ``params`` and ``loss(X, y) -> (loss, grads)``. Rows = examples.

    ``params_attr`` names where the model keeps its parameters; the other keywords declare what
    it reads and predicts (:func:`gradcheck.adapters.declared.declare`: ``task``, ``input_spec``,
    ``sequence_length``, ``null_token``, ``n_classes``, ``vocab``/``steps``, ``input_shape``).
    """

    layout = "rows"

    def __init__(self, model, *, params_attr: str = "params", **declarations):
        declare(self, **declarations)
        params = getattr(model, params_attr, None)
        if not isinstance(params, Mapping) or not params:
            raise InvalidArgumentError(
                "model", f"has no `{params_attr}` dict of arrays.",
                "Pass params_attr=... naming where the model keeps its parameters.",
            )
        if not callable(getattr(model, "loss", None)):
            raise InvalidArgumentError(
                "model", f"({type(model).__name__}) has no loss(X, y) method.",
                "cache_model expects a model whose loss(X, y) returns (loss, grads).")
        validate_params(params, argument=f"model.{params_attr}")
        self.model = model
        self.params = params

    def _both(self, X, y):
        out = self.model.loss(X, y)
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], Mapping)):
            raise ProtocolError("model.loss(X, y) must return (loss, grads) with grads a dict; "
                                f"it returned {type(out).__name__}")
        return out

    def loss(self, X, y) -> float:
        return float(self._both(X, y)[0])

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        return {name: np.asarray(g) for name, g in self._both(X, y)[1].items()}


def cache_model(model, **options) -> CacheModelTarget:
    """Wrap a cs231n-style model as a target; see :class:`CacheModelTarget`."""
    return CacheModelTarget(model, **options)
