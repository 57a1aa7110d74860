"""Functional code with a context (a tape): parameters in a nested tree, pure functions over it.

::

    params = init_params(rng)                  # {"embed": ..., "blocks": [{"attn": {...}}, ...]}
    ctx, logits = forward(params, tokens)      # what backward needs, and the output
    grads = backward(ctx, dlogits)             # a tree shaped like params

Glue, for a language model (the loss and its gradient with respect to the output are the user's)::

    target = gradcheck.adapters.tape(params, forward, backward, loss=loss, loss_grad=loss_grad,
                                     vocab=7, steps=5)

The parameters are the float arrays of ``params``, named by their path (``blocks.0.attn.Wo``);
an array that appears twice (a tied embedding kept under two names, or a view of it) is checked
once, with the gradients of both places summed. ``forward`` may return ``(ctx, y)`` or
``(y, ctx)``. ``loss(y, labels)`` (or ``loss(labels, y)``, read from its parameter names) may
return ``(loss, dy)``, which then needs no ``loss_grad``. Without a loss, the output is reduced
with a fixed random upstream gradient, ``sum(y * dy)``, and ``backward(ctx, dy)`` is checked
as a layer's (a transformer block, say); a gradient tree that comes back with the input's
gradient, ``(dx, grads)``, is read for ``grads``. The target offers the network's output and the
backward from any upstream gradient (``outputs(X)``, ``output_gradients(X, dY)``), which the
diagnosis of a sequence network uses to read the first step's outputs alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from gradcheck.adapters.loss_access import labels_first
from gradcheck.adapters.tree_target import TreeTarget
from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.targets.trees import ParamTree


class TapeTarget(TreeTarget):
    """A target over ``forward(params, X) -> (ctx, y)`` and ``backward(ctx, dy) -> grads``.

    Parameters
    ----------
    params : the tree of arrays ``forward`` takes (kept live: gradcheck perturbs its arrays).
    forward, backward : callables.
    loss : callable (y, labels) -> float or (float, dy), optional
    loss_grad : callable (y, labels) -> dy, optional
    **declarations : ``vocab``/``steps``, ``input_spec``, ``task``, ``n_classes``...
    """

    def __init__(self, params, forward: Callable, backward: Callable, *, loss: Callable | None = None,
                 loss_grad: Callable | None = None, **declarations):
        for name, fn in (("forward", forward), ("backward", backward), ("loss", loss),
                         ("loss_grad", loss_grad)):
            if fn is not None and not callable(fn):
                raise InvalidArgumentError(name, f"got {type(fn).__name__}, expected a function.",
                                           f"Pass the function itself, e.g. {name}={name}.")
        if loss_grad is not None and loss is None:
            raise InvalidArgumentError("loss", "loss_grad was given without the loss.",
                                       "Pass loss= too, the function whose gradient loss_grad is.")
        super().__init__(**declarations)
        self.tree_root = params
        self.use_tree(ParamTree.of(params), "params")
        self._forward, self._backward = forward, backward
        self._loss, self._loss_grad = loss, loss_grad
        self._output_first: bool | None = None
        self._upstream: dict[tuple, np.ndarray] = {}

    def _run(self, X):
        returned = self._forward(self.tree_root, X)
        if not (isinstance(returned, (tuple, list)) and len(returned) == 2):
            raise ProtocolError(f"forward(params, X) returned {type(returned).__name__}, expected a "
                                "pair: (ctx, y), what backward needs and the output")
        first, second = returned
        if self._output_first is None:
            self._output_first = isinstance(first, np.ndarray) and not isinstance(second, np.ndarray)
        return (second, first) if self._output_first else (first, second)

    def _call_loss(self, function, out, y):
        return function(y, out) if labels_first(function) else function(out, y)

    def _upstream_for(self, out: np.ndarray) -> np.ndarray:
        """A fixed random upstream gradient for an output of this shape (layer mode)."""
        key = (np.shape(out), np.asarray(out).dtype.str)
        if key not in self._upstream:
            rng = np.random.default_rng(len(self._upstream) + 1)
            self._upstream[key] = rng.standard_normal(np.shape(out)).astype(np.asarray(out).dtype)
        return self._upstream[key]

    def loss(self, X, y) -> float:
        _, out = self._run(X)
        if self._loss is None:
            return float(np.sum(np.asarray(out, dtype=np.float64) * self._upstream_for(out)))
        value = self._call_loss(self._loss, out, y)
        return float(value[0] if isinstance(value, tuple) else value)

    def gradient_tree(self, X, y):
        ctx, out = self._run(X)
        if self._loss is None:
            dout = self._upstream_for(out)
        elif self._loss_grad is not None:
            dout = self._call_loss(self._loss_grad, out, y)
        else:
            value = self._call_loss(self._loss, out, y)
            if not (isinstance(value, tuple) and len(value) == 2):
                raise ProtocolError("loss returned one value and no loss_grad was given; pass "
                                    "loss_grad=, the gradient of the loss with respect to the output, "
                                    "or a loss returning (loss, dy)")
            dout = value[1]
        return self._grads_of(self._backward(ctx, dout))

    def _grads_of(self, grads):
        if isinstance(grads, (tuple, list)) and not isinstance(self.tree_root, (tuple, list)):
            trees = [g for g in grads if isinstance(g, Mapping)]
            if len(trees) == 1:  # (dx, grads): the input's gradient beside the parameters'
                return trees[0]
        return grads

    def outputs(self, X) -> np.ndarray:
        """The network's output for ``X``: what the loss reads (``(n, T, vocab)`` logits, say)."""
        return np.asarray(self._run(X)[1])

    def output_gradients(self, X, dY) -> dict[str, np.ndarray]:
        """The parameters' gradients of ``sum(outputs(X) * dY)``: the backward run from the
        upstream gradient ``dY`` (shaped like the output) instead of the loss's."""
        ctx, _ = self._run(X)
        return self.tree.gather(self._grads_of(self._backward(ctx, dY)))


def tape(params, forward, backward, **options) -> TapeTarget:
    """Wrap functional code with a context; see :class:`TapeTarget`."""
    return TapeTarget(params, forward, backward, **options)
