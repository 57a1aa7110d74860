"""A model object that owns its layers and its loss (the book "Neural Networks from Scratch", final form).

Such a ``Model`` holds ``layers`` (a list), a loss object, often an accuracy and an optimizer,
and has ``forward(X, training)`` and ``backward(output, y)`` of its own. The adapter finds the
layers and the loss on the model, runs the model's own passes with ``training=False``, adds
the model's ``regularization_loss()`` (the L2 terms held on the dense layers) to the loss, and
reads each layer's gradients. Glue, after the model is built and finalised as usual::

    target = gradcheck.adapters.model(model)

A model without a ``backward`` of its own is backpropagated layer by layer; if it holds a
combined softmax/cross-entropy object whose ``backward`` exists without a ``forward``, that
object starts the backward from the softmax output, below the last layer, as such models do.

Scripts that train when imported should guard the training with
``if __name__ == "__main__":`` so that loading the target does not train the network first.
"""

from __future__ import annotations

from gradcheck.adapters.layer_access import training_keyword
from gradcheck.adapters.layer_objects import LayerObjectsTarget
from gradcheck.adapters.loss_access import LossAccess
from gradcheck.errors import InvalidArgumentError

LOSS_ATTRIBUTES = ("loss", "loss_function", "loss_fn", "criterion", "cost")
LAYER_ATTRIBUTES = ("layers", "modules", "sequence")


def _find(model, names, accept):
    return next(((name, getattr(model, name)) for name in names if accept(getattr(model, name, None))), (None, None))


class ModelTarget(LayerObjectsTarget):
    """A target over a model object with ``layers`` and a loss object. Examples are rows; the
    model's passes and its layers run in evaluation mode (``training=False``).

    Parameters
    ----------
    model : the user's model, built (and finalised, if the code has such a step).
    **options : passed to :class:`LayerObjectsTarget` (``regularization``, ``n_inputs``,
        ``loss_gradient``).
    """

    chooses_modes = False

    def __init__(self, model, **options):
        _, layers = _find(model, LAYER_ATTRIBUTES, lambda v: isinstance(v, (list, tuple)) and len(v) > 0)
        if layers is None:
            raise InvalidArgumentError(
                "model", f"({type(model).__name__}) has no non-empty `layers` list.",
                "Add the layers to the model first, or pass them yourself: "
                "gradcheck.adapters.layer_objects([dense1, relu1, dense2], loss).")
        loss_name, loss = _find(model, LOSS_ATTRIBUTES, lambda v: v is not None and LossAccess(v).has_gradient
                                and not callable(getattr(v, "__func__", None)))
        if loss is None:
            raise InvalidArgumentError(
                "model", f"({type(model).__name__}) holds no loss object with a backward method under "
                f"{', '.join(LOSS_ATTRIBUTES)}.", "Set the model's loss first (e.g. model.set(loss=...)), or "
                "use gradcheck.adapters.cache_model for a model whose loss(X, y) returns (loss, grads).")
        self.model = model
        self._model_forward = getattr(model, "forward", None) if callable(getattr(model, "forward", None)) else None
        self._model_flag = training_keyword(self._model_forward) if self._model_forward else None
        self._model_backward = getattr(model, "backward", None) if callable(getattr(model, "backward", None)) else None
        self._combined = self._find_combined(model, layers, loss)
        if options.get("regularization") is None and callable(getattr(model, "regularization_loss", None)):
            options["regularization"] = model.regularization_loss
        super().__init__(list(layers), loss, **options)
        if self._model_forward is not None:
            self._memo = None  # the model's own forward: no layer boundaries to reuse

    @staticmethod
    def _find_combined(model, layers, loss):
        """A backward-only loss object on the model (combined softmax/cross-entropy), if any."""
        for value in vars(model).values():
            if value is loss or any(value is layer for layer in layers) or value is None:
                continue
            access = LossAccess(value, label="the model's combined loss")
            if access.has_gradient and access.gradient_only and hasattr(value, "backward"):
                return access
        return None

    def _forward(self, X):
        if self._model_forward is None:
            return super()._forward(X)
        for access in self._accesses:
            access.clear_history()
        if self._model_flag:
            return self._model_forward(X, **{self._model_flag: False})
        return self._model_forward(X)

    def _backward(self, output, y) -> None:
        if self._model_backward is not None:
            for access in self._accesses:
                access.zero_grads()
            self._model_backward(output, y)
        elif self._combined is not None:
            self._backward_from(self._combined.gradient(output, y), self._accesses[:-1])
        else:
            super()._backward(output, y)

    def _find_loss_gradient(self, X, y) -> str:
        # the model's own backward (or its combined object) already knows where to start
        if self._model_backward is not None or self._combined is not None:
            return "output"
        return super()._find_loss_gradient(X, y)


def model(model, **options) -> ModelTarget:
    """Wrap a model object that owns its layers and loss; see :class:`ModelTarget`."""
    return ModelTarget(model, **options)
