"""A network whose parameters are a module's globals: a script with ``Wxh, Whh, Why, bh, by`` at
module level and a function that returns the loss and their gradients::

    def lossFun(inputs, targets, hprev):
        ...
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]

Glue (``hprev`` is passed after each example's inputs and targets)::

    target = gradcheck.adapters.module_globals(lossFun, np.zeros((hidden_size, 1)),
                                               vocab=vocab_size, steps=25)

The parameters are the float arrays among the globals the function reads (and the module's own
functions it calls read), named as the module names them. Each returned gradient is matched to
its parameter by the name the ``return`` gives it (``dWxh`` for ``Wxh``), else by shape, to the
first parameter of that shape in the order the function reads them; the first value that is not
a gradient is the loss. A returned dict is matched by key.
The function sees one example at a time (a sequence of token ids as a list of ints); the loss
of a batch is the mean of the examples' losses, and so are the gradients (``per_example=False``
for a function that takes the whole batch). Globals the function reads that get no gradient
(data, a learning rate's memory) are left fixed, and a check's notes say so.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck.adapters.function_pairs import returned_items
from gradcheck.adapters.tree_target import TreeTarget, one_at_a_time
from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.targets.batches import synthetic_batch
from gradcheck.targets.inputs import input_spec as read_spec
from gradcheck.targets.tasks import candidate_tasks
from gradcheck.targets.trees import ParamTree, globals_read, leaves, match_gradient_name


def _is_number(value) -> bool:
    return isinstance(value, (float, int, np.number)) and not isinstance(value, bool) or (
        isinstance(value, np.ndarray) and value.size == 1 and np.issubdtype(value.dtype, np.number))


class ModuleGlobalsTarget(TreeTarget):
    """A target over a function reading its parameters from module globals.

    Parameters
    ----------
    function : callable (inputs, targets, *args) -> (loss, grad, grad, ..., anything else)
    *args : passed after each example's inputs and targets (an initial hidden state, say).
    per_example : bool
        The function takes one example (True, the default) or a whole batch.
    vocab, steps, input_spec, task, n_classes, ... : what the network reads and predicts
        (:func:`gradcheck.adapters.declared.declare`); one of them must say what X is.
    """

    def __init__(self, function, *args, per_example: bool = True, **declarations):
        if not callable(function):
            raise InvalidArgumentError("function", f"got {type(function).__name__}, expected the "
                                       "function returning the loss and the gradients.",
                                       "Pass it itself, e.g. module_globals(lossFun, hprev).")
        super().__init__(**declarations)
        if read_spec(self) is None:
            raise InvalidArgumentError(
                "input_spec", "the function's inputs are not declared.",
                "Pass vocab= and steps= for token sequences, or input_spec={'shape': ...}.")
        self.function, self.args, self.per_example = function, args, bool(per_example)
        name = getattr(function, "__name__", "function")
        read = globals_read(function)
        arrays = leaves(read)
        if not arrays:
            raise ProtocolError(f"{name} reads no float arrays from its module's globals; pass the "
                                "function that computes with the parameters")
        returned = self._first_call(dict(arrays))
        self._loss_at, self._grads_at = self._match(returned, arrays, name)
        chosen = [(path, array) for path, array in arrays if path in self._grads_at.values()]
        self.use_tree(ParamTree(chosen), f"the globals {name} reads")
        left = [path for path, _ in arrays if path not in self._grads_at.values()]
        if left:
            self.adapter_notes.append(f"left fixed, no gradient returned: {', '.join(left)}")

    def _call(self, x, y):
        return self.function(x, y, *self.args)

    def _first_call(self, arrays: dict):
        """One call on an example of the declared kind, to read what the function returns."""
        task = candidate_tasks(self, arrays)[0]
        X, y, _ = synthetic_batch(self, 1, task=task, layout="rows")
        x0, y0 = next(one_at_a_time(X, y)) if self.per_example else (X, y)
        try:
            return self._call(x0, y0)
        except Exception as exc:
            raise ProtocolError(f"calling {getattr(self.function, '__name__', 'the function')} on "
                                f"one example raised {type(exc).__name__}: {exc}") from exc

    def _match(self, returned, arrays, name):
        """(index of the loss, {index or key: parameter path})."""
        if isinstance(returned, Mapping) or not isinstance(returned, (tuple, list)) or len(returned) < 2:
            raise ProtocolError(f"{name} returned {type(returned).__name__}, expected a tuple: the "
                                "loss, then the gradients (and anything else)")
        paths = [path for path, _ in arrays]
        if isinstance(returned[1], Mapping):  # (loss, {"Wxh": dWxh, ...})
            return 0, {key: match_gradient_name(str(key), paths) or str(key) for key in returned[1]}
        items = returned_items(self.function) or []
        by_name = {}
        for i, item in enumerate(items[:len(returned)]):
            path = match_gradient_name(item, paths) if item else None
            if path is not None and path not in by_name.values():
                by_name[i] = path
        if by_name:
            loss_at = next(i for i in range(len(returned)) if i not in by_name)
        else:  # by shape: after the loss, each array to the first parameter read of its shape
            loss_at = 0
            free = list(arrays)
            for i, value in enumerate(returned[1:], start=1):
                match = next((k for k, (_, array) in enumerate(free) if isinstance(value, np.ndarray)
                              and value.shape == array.shape), None)
                if match is not None:
                    by_name[i] = free.pop(match)[0]
        if not by_name:
            raise ProtocolError(f"none of what {name} returns matches a parameter it reads "
                                f"({', '.join(paths)}); return the gradients named d<parameter>")
        if not _is_number(returned[loss_at]):
            raise ProtocolError(f"{name} returns {type(returned[loss_at]).__name__} in place "
                                f"{loss_at}, where the loss should be; return the loss first")
        return loss_at, by_name

    def _batches(self, X, y):
        return one_at_a_time(X, y) if self.per_example else [(X, y)]

    def loss(self, X, y) -> float:
        values = [float(np.asarray(self._call(x, t)[self._loss_at])) for x, t in self._batches(X, y)]
        return float(np.mean(values))

    def gradient_tree(self, X, y) -> dict[str, np.ndarray]:
        total: dict[str, np.ndarray] = {}
        count = 0
        for x, t in self._batches(X, y):
            returned = self._call(x, t)
            if isinstance(returned[1], Mapping):
                grads = {self._grads_at[k]: v for k, v in returned[1].items() if k in self._grads_at}
            else:
                grads = {path: returned[i] for i, path in self._grads_at.items()}
            for path, grad in grads.items():
                grad = np.array(grad, dtype=np.float64)
                total[path] = grad if path not in total or total[path].shape != grad.shape \
                    else total[path] + grad
            count += 1
        return {path: grad / count for path, grad in total.items()}


def module_globals(function, *args, **options) -> ModuleGlobalsTarget:
    """Wrap a function whose parameters are module globals; see :class:`ModuleGlobalsTarget`."""
    return ModuleGlobalsTarget(function, *args, **options)
