"""The target protocol: what gradcheck needs from a network under test.

A target is an object (or a zero-argument factory returning one) with

- ``params``: mapping name -> float ndarray, the live arrays the network computes with;
- ``loss(X, y) -> float``: the scalar (mean) loss on a batch;
- ``gradients(X, y) -> mapping name -> ndarray``: the analytic gradients of that loss;

and optionally ``layout`` ("rows": X is (n_examples, n_features); "columns": X is
(n_features, n_examples)), ``task`` (one of :data:`TASKS`, see :mod:`gradcheck.targets.tasks`),
``n_classes``, ``sequence_length`` and ``null_token`` (for ``task = "sequence"``),
``input_spec`` (see :mod:`gradcheck.targets.inputs`), ``forward(X)``, ``softmax(Z)``,
``sigmoid(Z)``, ``example_batch()``.
See docs/protocol.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import numpy as np

from gradcheck.errors import ProtocolError, TargetLoadError
from gradcheck.options import LAYOUTS
from gradcheck.targets.inputs import input_spec
from gradcheck.targets.loading import no_exit
from gradcheck.targets.usercode import call_user
from gradcheck.validation import is_count

REQUIRED = {
    "params": "a `params` mapping of name -> float ndarray (the arrays the network computes with)",
    "loss": "a `loss(X, y)` method returning the scalar mean loss",
    "gradients": "a `gradients(X, y)` method returning a dict name -> gradient array",
}
#: What a target can predict (its ``task`` attribute); see :mod:`gradcheck.targets.tasks`.
TASKS = ("multiclass", "binary", "multilabel", "regression", "sequence")


def as_target(obj, *, label: str = "target"):
    """Validate ``obj`` against the protocol (calling it first if it is a factory).

    A target of function-pair layers (one with a ``function_layers`` list, see
    :mod:`gradcheck.adapters.function_pairs`) is a target of its own kind, returned as it is."""
    if isinstance(getattr(obj, "function_layers", None), list):
        return obj
    if isinstance(obj, type) or (not all(hasattr(obj, attr) for attr in REQUIRED) and callable(obj)):
        obj = _call_factory(obj, label)
    missing = [attr for attr in REQUIRED if not hasattr(obj, attr)]
    if missing:
        needs = "; ".join(REQUIRED[attr] for attr in missing)
        raise ProtocolError(
            f"{label} ({type(obj).__name__}) lacks {', '.join(missing)}: add {needs}, or wrap your "
            "code with one of the adapters in gradcheck.adapters"
        )
    try:
        params = obj.params() if callable(obj.params) else obj.params
    except Exception as exc:
        raise ProtocolError(f"{label}.params() raised {type(exc).__name__}: {exc}; it must return "
                            "a dict name -> ndarray") from exc
    if not isinstance(params, Mapping) or not params:
        raise ProtocolError(f"{label}.params is {type(params).__name__}, expected a non-empty dict name -> ndarray")
    for name, arr in params.items():
        if not isinstance(arr, np.ndarray):
            raise ProtocolError(f"{label}.params[{name!r}] is {type(arr).__name__}, expected a NumPy array")
        if not np.issubdtype(arr.dtype, np.floating):
            raise ProtocolError(f"{label}.params[{name!r}] has dtype {arr.dtype}, expected float64 or "
                                "float32; convert it with .astype(np.float64) where the network is built")
    for method in ("loss", "gradients"):
        if not callable(getattr(obj, method)):
            raise ProtocolError(f"{label}.{method} is not callable; it must be a method taking (X, y)")
    layout = getattr(obj, "layout", None)
    if layout is not None and layout not in LAYOUTS:
        raise ProtocolError(f"{label}.layout is {layout!r}, expected 'rows' or 'columns'")
    task = getattr(obj, "task", None)
    if task is not None and task not in TASKS:
        raise ProtocolError(f"{label}.task is {task!r}, expected one of {', '.join(map(repr, TASKS))} "
                            "(or leave it out to infer it from the outputs and the loss)")
    example_batch = getattr(obj, "example_batch", None)
    if example_batch is not None and not callable(example_batch):
        raise ProtocolError(f"{label}.example_batch is {type(example_batch).__name__}, expected a "
                            "method returning (X, y)")
    input_spec(obj, label=label)  # a malformed input spec is said now
    n_classes = getattr(obj, "n_classes", None)
    if n_classes is not None and not is_count(n_classes, minimum=2):
        raise ProtocolError(f"{label}.n_classes is {n_classes!r}, expected an integer of at least 2 "
                            "(or leave it out to infer it from the last parameter)")
    return obj


def _call_factory(factory, label: str):
    """Build the target from a zero-argument factory or a class; say what to write when it needs arguments."""
    required = _required_arguments(factory)
    if required and isinstance(factory, type):
        name = factory.__name__
        arguments = ", ".join(f"{arg}=..." for arg in required)
        raise ProtocolError(
            f"{label} is the class {name}, whose constructor needs {', '.join(required)}; gradcheck "
            f"cannot choose them. Add a factory to your file and name it instead of the class: "
            f"`def make_target(): return {name}({arguments})`, then name FILE:make_target "
            f"(e.g. gradcheck check model.py:make_target)"
        )
    if required:
        raise ProtocolError(
            f"{label} is a function that needs arguments ({', '.join(required)}); pass an object "
            "with params, loss(X, y) and gradients(X, y), or a zero-argument factory returning one"
        )
    kind = "class" if isinstance(factory, type) else "factory"
    try:
        with no_exit(f"in the {kind} {label}()"):
            return factory()
    except TargetLoadError:
        raise
    except Exception as exc:
        raise ProtocolError(
            f"calling the {kind} {label}() raised {type(exc).__name__}: {exc}; fix it, "
            "or pass the object it should return"
        ) from exc


def _required_arguments(function) -> list[str]:
    """Names of the arguments ``function`` cannot be called without ([] when unknown)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    return [p.name for p in signature.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


class OutOfProcess:
    """A target, or one of its layers, whose code runs in another process, seen through a proxy.

    The command line and the pytest plugin never import a target: they check a proxy of it
    (:mod:`gradcheck.frontends.remote`) whose calls run in a child process. The proxy follows the
    protocol, and offers what one process would get for free:

    - ``bound_loss(X, y)``: the zero-argument ``loss(X, y)`` of a gradient check, which also has
      ``entry_values(array, indices, plus, minus)``: the loss at many points (one entry of a
      parameter moved to each value) in one round trip;
    - ``widened()``: ``(float64 copy, "")`` made where the target runs, or ``(None, why not)``;
    - ``array_bytes()``: the bytes of the arrays the target holds;
    - a layer's ``projection(X, dY)``: ``sum(forward(X) * dY)`` as such a loss;
    - a function-pair layer's forward ``projection(problem)``: the loss of a
      :class:`~gradcheck.adapters.layer_problem.LayerProblem` of it as such a loss
      (:mod:`gradcheck.frontends.remote_layers`).
    """


def bound_loss(target, X, y):
    """``loss(X, y)`` as a zero-argument function; for a target in another process one that
    also evaluates many perturbed points per round trip (see :class:`OutOfProcess`)."""
    if isinstance(target, OutOfProcess):
        return target.bound_loss(X, y)
    return lambda: target.loss(X, y)


def target_params(target) -> dict[str, np.ndarray]:
    """The target's parameters: its ``params`` mapping, or what ``params()`` returns (the user's
    code, through the guarded call)."""
    params = call_user(target.params, call="params") if callable(target.params) else target.params
    return dict(params)


def first_weight(params: dict[str, np.ndarray]) -> np.ndarray:
    """The first 2-D parameter: it fixes the input width (unless the target declares an
    ``input_spec``, :mod:`gradcheck.targets.inputs`)."""
    for arr in params.values():
        if arr.ndim == 2:
            return arr
    raise ProtocolError("the target has no 2-D weight matrix, so its input width cannot be inferred; "
                        "declare input_spec = {'shape': (n_features,)} on it, put the first layer's "
                        "weight matrix first in params, or wrap layer objects with "
                        "gradcheck.adapters.layer_objects(..., n_inputs=N)")


def infer_n_classes(target, params: dict[str, np.ndarray]) -> int:
    """Declared ``n_classes``, else the size of the last parameter (the output bias or weights)."""
    declared = getattr(target, "n_classes", None)
    if declared is not None:
        return int(declared)
    last = list(params.values())[-1]
    if last.ndim <= 1 or 1 in last.shape:  # an output bias
        return int(last.size)
    return int(last.shape[1] if getattr(target, "layout", "rows") == "rows" else last.shape[0])
