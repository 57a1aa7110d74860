"""What the adapters over parameter trees share: ``params`` from a :class:`ParamTree`, the
declarations of :func:`~gradcheck.adapters.declared.declare`, the notes a check carries (ties,
arrays left fixed), and the examples of a batch one at a time for code that takes one."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from gradcheck.adapters.declared import declare
from gradcheck.errors import ProtocolError
from gradcheck.targets.trees import ParamTree

#: The keywords :func:`declare` takes, which every tree adapter passes on.
DECLARATIONS = ("task", "input_spec", "n_classes", "sequence_length", "null_token", "vocab",
                "steps", "input_shape")


class TreeTarget:
    """A target whose parameters are the float arrays of a tree, named by their path.

    Subclasses set ``self.tree`` (with :meth:`use_tree`) and implement ``loss(X, y)`` and
    ``gradient_tree(X, y)``; :meth:`gradients` maps the tree onto the parameters' names.
    """

    layout = "rows"

    def __init__(self, **declarations):
        declare(self, **declarations)
        #: What the adapter found that a check's notes repeat (ties, arrays left fixed).
        self.adapter_notes: list[str] = []

    def use_tree(self, tree: ParamTree, where: str) -> None:
        if not tree.params:
            raise ProtocolError(f"found no float arrays in {where}; pass the parameters the "
                                "network computes with")
        self.tree = tree
        self.params = tree.params
        self.adapter_notes += tree.notes()

    def gradient_tree(self, X, y):  # pragma: no cover - every adapter has its own
        raise NotImplementedError

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        return self.tree.gather(self.gradient_tree(X, y))


def one_at_a_time(X, y) -> Iterator[tuple[object, object]]:
    """The examples of a batch: integer rows as lists of Python ints (token ids, as scratch code
    indexes with them), float rows as arrays, labels as Python ints or arrays."""
    X, y = np.asarray(X), np.asarray(y)
    for i in range(len(X)):
        x = X[i].tolist() if np.issubdtype(X.dtype, np.integer) and X.ndim == 2 else X[i]
        label = y[i]
        label = label.tolist() if np.issubdtype(y.dtype, np.integer) else label
        yield x, label
