"""Gradients applied in place by a training step: the gradient is read from the step.

A small CNN written one image at a time often keeps no gradient at all: each layer's
``backprop(d_L_d_out, learn_rate)`` subtracts ``learn_rate`` times its gradient from its own
arrays and returns the gradient for the layer below, and one function does a training step::

    def train(image, label, lr=0.005):
        out, loss, acc = forward(image, label)
        gradient = np.zeros(10); gradient[label] = -1 / out[label]
        gradient = softmax.backprop(gradient, lr)
        gradient = pool.backprop(gradient)
        conv.backprop(gradient, lr)
        return loss, acc

Glue::

    target = gradcheck.adapters.in_place(train, loss=lambda x, y: forward(x, y)[1],
                                         input_shape=(28, 28), n_classes=10,
                                         layers=[conv, pool, softmax])

``layers=`` (optional, in the forward's order) has each layer checked on its own too, its
``backprop`` called with gradcheck's learning rate (:mod:`gradcheck.adapters.in_place_layers`).

For each example gradcheck takes one step with a learning rate of its own (:data:`LR`, a power of
two), reads the gradient the step applied, ``(before - after) / LR``, and writes every array
back bit for bit (:class:`~gradcheck.numeric.perturbation.Snapshot`), whatever the step did or
raised. The parameters are found the same way: the arrays a step changes in place and the loss
does not, and the other arrays kept beside them on the same objects (a bias the step forgets to
update is still checked, and found wrong); ``params=`` names them instead (any tree). The step's
owner is where they are looked for: the object of a bound method (``net.train_step``), else the
module globals the step reads (``conv``, ``pool``, ``softmax``). The step must be plain gradient
descent, ``w -= lr * grad``: a step whose change is not proportional to its learning rate (momentum,
clipping, or a backward reading weights it has already updated) is refused with that reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from gradcheck.adapters.in_place_layers import LR_NAMES, in_place_layers
from gradcheck.adapters.tree_target import TreeTarget, one_at_a_time
from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.numeric.perturbation import Snapshot
from gradcheck.targets.batches import synthetic_batch
from gradcheck.targets.inputs import input_spec as read_spec
from gradcheck.targets.tasks import candidate_tasks
from gradcheck.targets.trees import ParamTree, globals_read, leaves

#: The learning rate of gradcheck's steps: a power of two, so dividing by it is exact, and large
#: enough that ``w - LR * grad`` keeps the gradient's digits in float32.
LR = 16.0
#: How closely the implied gradients of steps at LR and LR / 2 must agree (relative to the
#: largest entry): a plain gradient descent step agrees to rounding.
PROPORTIONAL = 1e-3


def _lr_argument(step) -> tuple[str | None, int]:
    """How the step takes its learning rate: (keyword name or None, position)."""
    try:
        parameters = [p for p in inspect.signature(step).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    except (TypeError, ValueError):
        return None, 2
    named = next((p.name for p in parameters if p.name in LR_NAMES), None)
    if named is not None:
        return named, -1
    if len(parameters) < 3:
        raise InvalidArgumentError("step", f"{getattr(step, '__name__', 'the step')} takes "
                                   f"({', '.join(p.name for p in parameters)}): no learning rate.",
                                   "Pass a training step step(x, y, lr) that applies lr times the "
                                   "gradient in place.")
    return None, 2


class InPlaceTarget(TreeTarget):
    """A target over a training step that applies its gradients in place.

    Parameters
    ----------
    step : callable (x, y, lr)
        One step of plain gradient descent on one example (or a batch, ``per_example=False``).
    loss : callable (x, y) -> float, optional
        The loss at the current parameters; default: the first number the step returns
        (computed before its update; every loss evaluation then costs a step).
    params : tree of arrays, optional
        The parameters (dicts, lists, objects); default: found from what the step changes.
    per_example : bool
        One example per call (default), the loss and gradients of a batch being their mean.
    layers : list of layer objects, optional
        The network's layers in the forward's order, each with a forward and a
        ``backprop(d_out, learn_rate)`` updating its own arrays: each is then checked on its own
        too (:mod:`gradcheck.adapters.in_place_layers`).
    **declarations : ``input_shape``, ``input_spec``, ``n_classes``, ``task``...
    """

    def __init__(self, step: Callable, loss: Callable | None = None, *, params=None,
                 per_example: bool = True, layers=None, **declarations):
        for name, fn in (("step", step), ("loss", loss)):
            if fn is not None and not callable(fn):
                raise InvalidArgumentError(name, f"got {type(fn).__name__}, expected a function.",
                                           f"Pass the function itself, e.g. {name}=train.")
        super().__init__(**declarations)
        if read_spec(self) is None:
            raise InvalidArgumentError("input_shape", "the step's inputs are not declared.",
                                       "Pass input_shape=(28, 28) (one image), say, or input_spec=.")
        self._step, self._loss, self.per_example = step, loss, bool(per_example)
        self._lr_name, self._lr_at = _lr_argument(step)
        name = getattr(step, "__name__", "step")
        if params is not None:
            self.use_tree(ParamTree.of(params), "params")
        else:
            owner = getattr(step, "__self__", None)
            if owner is not None:
                def walk():
                    return leaves(owner)
            else:
                def walk():
                    return leaves({**globals_read(step), **(globals_read(loss) if loss else {})})
            self.use_tree(ParamTree(self._discover(walk, name)), f"what {name} reads")
        self._check_proportional(name)
        if layers is not None:  # each checked on its own too
            self.layers = in_place_layers(layers, self.params, LR)

    # -- calls --------------------------------------------------------------------------------
    def _take_step(self, x, y, lr: float):
        if self._lr_name is not None:
            return self._step(x, y, **{self._lr_name: lr})
        return self._step(x, y, lr)

    def _batches(self, X, y):
        return one_at_a_time(X, y) if self.per_example else [(X, y)]

    def _example_batch(self, arrays: dict, n: int = 3):
        task = candidate_tasks(self, arrays)[0]
        X, y, _ = synthetic_batch(self, n, task=task, layout="rows", seed=0)
        return X, y

    # -- finding the parameters -----------------------------------------------------------------
    def _discover(self, walk: Callable[[], list], name: str) -> list[tuple[str, np.ndarray]]:
        """The arrays a step changes in place and the loss does not, and the stable arrays
        beside them (on the same objects; not caches a forward replaces)."""
        found = walk()
        if not found:
            raise ProtocolError(f"found no float arrays where {name} keeps its state; pass params=")
        arrays = dict(found)
        X, y = self._example_batch(arrays)
        by_loss: set[str] = set()
        by_step: set[str] = set()
        snapshot = Snapshot(arrays)
        try:
            for x, t in self._batches(X, y):
                if self._loss is not None:
                    self._loss(x, t)
                    by_loss.update(snapshot.changed())
                    snapshot.restore()
                    snapshot = Snapshot(arrays)
                self._take_step(x, t, LR)
                by_step.update(snapshot.changed())
                snapshot.restore()
                snapshot = Snapshot(arrays)
        except Exception as exc:
            raise ProtocolError(f"a step of {name} on an example raised {type(exc).__name__}: {exc}") from exc
        finally:
            snapshot.restore()
        now = dict(walk())
        replaced = {path for path, array in found if now.get(path) is not array}  # caches
        changed = [path for path, _ in found if path in by_step and path not in by_loss | replaced]
        if not changed:
            raise ProtocolError(f"one step of {name} changed no array in place; pass the training "
                                "step that subtracts lr times the gradient from the parameters "
                                "(w -= lr * grad), or name them: params=")
        owner = {path: path.rpartition(".")[0] for path, _ in found}
        holders = {owner[path] for path in changed}
        chosen = []
        for path, array in found:
            if path in changed:
                chosen.append((path, array))
            elif "." in path and owner[path] in holders and path not in by_loss | replaced:
                chosen.append((path, array))
                beside = ", ".join(p for p in changed if owner[p] == owner[path])
                self.adapter_notes.append(f"{path}: not changed by one step of {name}, checked as a "
                                  f"parameter of {owner[path]}, which holds {beside}")
        return chosen

    def _check_proportional(self, name: str) -> None:
        """The gradient implied by a step at LR and at LR / 2 agree: plain gradient descent."""
        X, y = self._example_batch(self.params, n=1)
        full = self._implied(X, y, LR)
        half = self._implied(X, y, LR / 2)
        for path, grad in full.items():
            scale = max(float(np.max(np.abs(grad), initial=0.0)), 1e-30)
            if float(np.max(np.abs(grad - half[path]), initial=0.0)) > PROPORTIONAL * scale:
                raise ProtocolError(
                    f"the change one step of {name} makes to {path} is not proportional to its "
                    "learning rate, so it cannot be read as lr x gradient: the step is not plain "
                    "gradient descent (momentum, Adam, clipping), or a layer's backward uses "
                    "weights it has already updated; pass a step that does w -= lr * grad")

    # -- the protocol ---------------------------------------------------------------------------
    def _implied(self, X, y, lr: float) -> dict[str, np.ndarray]:
        total: dict[str, np.ndarray] = {}
        count = 0
        for x, t in self._batches(X, y):
            with Snapshot(self.params) as snapshot:
                self._take_step(x, t, lr)
                for path, array in self.params.items():
                    before = snapshot.original(path).astype(np.float64)
                    grad = (before - array.astype(np.float64)) / lr
                    total[path] = total[path] + grad if path in total else grad
            count += 1
        return {path: grad / count for path, grad in total.items()}

    def loss(self, X, y) -> float:
        values = []
        for x, t in self._batches(X, y):
            if self._loss is not None:
                values.append(float(np.asarray(self._loss(x, t))))
                continue
            with Snapshot(self.params):
                returned = self._take_step(x, t, LR)
            value = returned[0] if isinstance(returned, (tuple, list)) else returned
            values.append(float(np.asarray(value)))
        return float(np.mean(values))

    def gradient_tree(self, X, y) -> dict[str, np.ndarray]:
        return self._implied(X, y, LR)


def in_place(step, loss=None, **options) -> InPlaceTarget:
    """Wrap a training step that applies its gradients in place; see :class:`InPlaceTarget`."""
    return InPlaceTarget(step, loss, **options)
