"""Gradients handed to an optimizer: a recording optimizer reads what the code gives it.

Layer libraries in the style of the "ML from scratch" repositories keep no gradient: the backward
hands each one to an optimizer object the layer holds and takes the updated array back::

    self.W = self.W_opt.update(self.W, grad_w)

For the length of one backward, :func:`recording` puts a :class:`RecordingOptimizer` in place of
every such optimizer of a layer: it keeps the gradient under the name of the attribute that holds
the array it was given, and returns that very array, so the layer keeps computing with its live
parameters and nothing is updated. The layer's own optimizers are put back afterwards, untouched
(a momentum optimizer's velocity included).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import numpy as np

#: Methods an optimizer object is called with: ``update(w, grad) -> new w``.
UPDATE_METHODS = ("update",)


def _takes_two(method) -> bool:
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)


def is_optimizer(value) -> bool:
    """An object of the user's with ``update(w, grad)`` (not a dict, whose update is another)."""
    if isinstance(value, (Mapping, set, type)) or type(value).__module__ == "builtins":
        return False
    method = getattr(value, "update", None)
    return callable(method) and _takes_two(method)


def optimizer_attributes(layer) -> list[str]:
    """The attributes of ``layer`` holding optimizer objects (``W_opt``, ``w0_opt``...)."""
    state = vars(layer) if hasattr(layer, "__dict__") else {}
    return [name for name, value in state.items() if is_optimizer(value)]


class RecordingOptimizer:
    """Keeps the gradient it is handed under the name of ``owner``'s attribute holding ``w``, and
    returns ``w`` itself."""

    def __init__(self, owner, store: dict):
        self.owner, self.store = owner, store

    def update(self, w, grad, *args, **kwargs):
        name = next((attr for attr, value in vars(self.owner).items() if value is w), None)
        self.store[name if name is not None else id(w)] = np.array(grad, copy=True)
        return w


@contextmanager
def recording(layer) -> Iterator[dict]:
    """Swap ``layer``'s optimizers for recording ones while the block runs; yields the dict the
    gradients go into (attribute name -> gradient). The optimizers come back, also on error."""
    store: dict = {}
    swapped = [(name, getattr(layer, name)) for name in optimizer_attributes(layer)]
    try:
        for name, _ in swapped:
            setattr(layer, name, RecordingOptimizer(layer, store))
        yield store
    finally:
        for name, optimizer in swapped:
            setattr(layer, name, optimizer)
