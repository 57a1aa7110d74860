"""One user layer behind a uniform face: forward(X), backward(dY), live params and their grads.

Layers in published from-scratch code differ in small ways that each break a naive caller:

- methods named ``forward``/``backward``, ``forward_pass``/``backward_pass``, ``__call__``/
  ``backprop`` and the like (:data:`FORWARD_NAMES`, :data:`BACKWARD_NAMES`), or as the user names
  them;
- ``forward(inputs, training)``: the flag is found by name; it is passed as ``True`` to a layer
  whose training-mode output is repeatable (batch norm, a dropout keeping its mask), so its
  backward, written for training mode, is checked against that mode, and as ``False`` to one
  drawing a fresh random mask at every call;
- parameters as attribute pairs (``weights``/``dweights``, ``W``/``dW``) or as dicts
  (``layer.parameters["W"]`` / ``layer.gradients["W"]``, ``params`` / ``grads``); a layer that
  holds other float arrays (``w``/``grad_w``, ``kernel``/``dkernel``, ``gamma``/``dgamma``) has
  its parameters found by value (:mod:`gradcheck.targets.layer_params`, :meth:`LayerAccess.learn`);
- gradients handed to an optimizer the layer holds (``self.W = self.W_opt.update(self.W,
  grad_w)``): the arrays handed over are the parameters, and what they are handed with is
  their gradient (:mod:`gradcheck.adapters.recording`);
- parameters created on the first forward (lazily): run one forward, then read them;
- gradients accumulated with ``+=``: they are zeroed in place before every backward;
- inputs appended to a list on every forward: lists found growing are emptied before every
  forward, so a check never grows them and a backward that reads the first entry sees this
  forward's input;
- ``backward`` returning the input gradient, or storing it in ``dinputs``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import numpy as np

from gradcheck.adapters.recording import optimizer_attributes, recording
from gradcheck.errors import ProtocolError
from gradcheck.targets import layer_params

# (parameter attribute, gradient attribute, short name used in the target's params)
ATTRIBUTE_PAIRS = (("weights", "dweights", "W"), ("biases", "dbiases", "b"), ("W", "dW", "W"), ("b", "db", "b"))
DICT_PAIRS = (("parameters", "gradients"), ("params", "grads"))
TRAINING_FLAGS = ("training", "train", "is_training", "train_mode")
#: Names a layer's forward and backward go by, in the order they are looked for.
FORWARD_NAMES = ("forward", "forward_pass", "fprop", "forward_propagation", "__call__")
BACKWARD_NAMES = ("backward", "backward_pass", "backprop", "bprop", "backward_propagation")


def find_method(layer, given: str | None, names: tuple[str, ...]) -> str | None:
    """The name of ``layer``'s method: ``given`` when the user named it, else the first of
    ``names`` it has."""
    if given is not None:
        return given if callable(getattr(layer, given, None)) else None
    return next((name for name in names if callable(getattr(layer, name, None))), None)


def is_layer(layer, forward: str | None = None, backward: str | None = None) -> bool:
    """Whether ``layer`` has a forward and a backward method (as named, or by the usual names)."""
    return (find_method(layer, forward, FORWARD_NAMES) is not None
            and find_method(layer, backward, BACKWARD_NAMES) is not None)


def training_keyword(method) -> str | None:
    """The name of ``method``'s training-mode parameter, if it has one of the usual names."""
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return None
    return next((name for name in TRAINING_FLAGS if name in parameters), None)


def _required_extra(method, flag: str | None, takes: int) -> list[str]:
    """Required parameters of ``method`` beyond its first ``takes`` and the training flag."""
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters[takes:] if p.default is p.empty and p.name != flag
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def regularizer_settings(layer) -> dict[str, float]:
    """Non-zero numbers a layer holds under a name containing "regulari" (weight_regularizer_l2 ...)."""
    return {name: value for name, value in vars(layer).items() if "regulari" in name.lower()
            and isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and value != 0}


def _is_array(value) -> bool:
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


class LayerAccess:
    """A user layer seen through forward(X) -> Y and backward(dY) -> dX.

    ``W``/``b`` and ``dW``/``db`` read the layer's parameters and their gradients, whatever
    the layer calls them, so single-layer checks see one convention.
    """

    def __init__(self, layer, label: str, *, forward: str | None = None, backward: str | None = None):
        names = {}
        for kind, given, candidates in (("forward", forward, FORWARD_NAMES),
                                        ("backward", backward, BACKWARD_NAMES)):
            names[kind] = find_method(layer, given, candidates)
            if names[kind] is None:
                wanted = f"no {given}() method" if given else f"no {kind}() method (nor {', '.join(candidates[1:])})"
                raise ProtocolError(f"{label} ({type(layer).__name__}) has {wanted}; pass only the "
                                    f"network's layers, in order, or name the method: {kind}=\"...\"")
        self.layer = layer
        self.label = label
        self._forward_method = getattr(layer, names["forward"])
        self._backward_method = getattr(layer, names["backward"])
        self.method_names = (names["forward"], names["backward"])
        self._flag = training_keyword(self._forward_method)
        #: What the training flag is passed as (see :meth:`choose_mode`).
        self.training = False
        extra = _required_extra(self._forward_method, self._flag, 1)
        if extra:
            raise ProtocolError(f"{label}.{names['forward']} needs {', '.join(extra)} besides the input; "
                                f"gradcheck calls {names['forward']}(X) (and training= when the layer takes it)")
        self._history: list[list] = []
        self._optimizers = optimizer_attributes(layer)
        self._recorded: list[str] = []  # parameters found by what the layer hands its optimizers
        self._record: dict = {}
        #: short name -> (place, gradient place), once found by value (:meth:`learn`)
        self._found: dict | None = None

    # -- parameters ----------------------------------------------------------------------
    def _dict_pair(self):
        for params_attr, grads_attr in DICT_PAIRS:
            if isinstance(getattr(self.layer, params_attr, None), Mapping):
                return params_attr, grads_attr
        return None

    def is_lazy(self) -> bool:
        """True when the layer declares parameters it has not created yet."""
        pair = self._dict_pair()
        if pair is not None:
            values = getattr(self.layer, pair[0]).values()
            return any(v is None for v in values)
        return getattr(self.layer, "is_initialized", True) is False

    @property
    def records(self) -> bool:
        """True when the layer hands its gradients to optimizers it holds."""
        return bool(self._optimizers)

    def learn_recorded(self) -> None:
        """After a backward: the float arrays handed to the optimizers are the parameters."""
        self._recorded = [name for name, value in vars(self.layer).items()
                          if name in self._record and _is_array(value)]

    def needs_learning(self, held_before: dict) -> bool:
        """Whether the parameters are found by value: the layer held float arrays before a forward
        (a lazy layer creates them in it) and hands no gradients to optimizers."""
        return bool(held_before) and not self.records

    def learn(self, X) -> None:
        """Find the parameters by value, running this layer on ``X`` (two forwards, one
        backward; see :func:`gradcheck.targets.layer_params.learn`). When that finds none, or the
        layer raises, the usual names stand (and the check reports what the layer raises)."""
        try:
            found = layer_params.learn(self.layer, self.forward, self.backward, X)
        except Exception:  # noqa: BLE001 - the check runs the layer again, through the guarded call
            return
        short = {attr: name for attr, _, name in ATTRIBUTE_PAIRS}
        self._found = {(short.get(n, n) if pair[0] == (n,) else n): pair for n, pair in found.items()} or None

    def param_slots(self) -> list[tuple[str, object]]:
        """(short name, key) for each parameter; key is an attribute name or a dict key."""
        if self.records:
            return [(name, name) for name in self._recorded]
        if self._found is not None:
            return [(name, name) for name in self._found]
        pair = self._dict_pair()
        if pair is not None:
            return [(str(key), key) for key, value in getattr(self.layer, pair[0]).items() if _is_array(value)]
        slots, seen = [], set()
        for attr, _, short in ATTRIBUTE_PAIRS:
            if short not in seen and _is_array(getattr(self.layer, attr, None)):
                slots.append((short, attr))
                seen.add(short)
        return slots

    def get_param(self, key):
        if self._found is not None and not self.records:
            return layer_params.read(self.layer, self._found[key][0])
        pair = self._dict_pair()
        return getattr(self.layer, pair[0])[key] if pair else getattr(self.layer, key)

    def get_grad(self, key):
        if self.records:
            if key not in self._record:
                raise ProtocolError(f"{self.label} ({type(self.layer).__name__}) handed no gradient of "
                                    f"`{key}` to its optimizer during backward")
            return self._record[key]
        if self._found is not None:
            place, grad = self._found[key]
            value = layer_params.read(self.layer, grad)
            if value is None:
                raise ProtocolError(f"after backward, {self.label} ({type(self.layer).__name__}) has no "
                                    f"`{'.'.join(map(str, grad))}`; its backward must store the gradient of "
                                    f"`{'.'.join(map(str, place))}` there")
            return value
        pair = self._dict_pair()
        if pair is not None:
            grads = getattr(self.layer, pair[1], None)
            if not isinstance(grads, Mapping) or key not in grads:
                raise ProtocolError(f"after backward, {self.label}.{pair[1]} has no entry {key!r}; store "
                                    f"the gradient of {pair[0]}[{key!r}] there")
            return grads[key]
        grad_attr = {attr: g for attr, g, _ in ATTRIBUTE_PAIRS}[key]
        if not hasattr(self.layer, grad_attr):
            raise ProtocolError(f"after backward, {self.label} ({type(self.layer).__name__}) has no "
                                f"`{grad_attr}`; its backward must store the gradient of `{key}` there")
        return getattr(self.layer, grad_attr)

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {short: self.get_param(key) for short, key in self.param_slots()}

    def grads(self) -> dict[str, np.ndarray]:
        return {short: self.get_grad(key) for short, key in self.param_slots()}

    # single-layer checks read W/b and dW/db
    W = property(lambda self: self.params.get("W"))
    b = property(lambda self: self.params.get("b"))
    dW = property(lambda self: self._grad_or_none("W"))
    db = property(lambda self: self._grad_or_none("b"))

    def _grad_or_none(self, short):
        keys = dict(self.param_slots())
        return self.get_grad(keys[short]) if short in keys else None

    # -- state that would leak from one call into the next ------------------------------
    def _lists(self) -> list[list]:
        found = []
        for value in vars(self.layer).values():
            if isinstance(value, list):
                found.append(value)
            elif isinstance(value, Mapping):
                found.extend(v for v in value.values() if isinstance(v, list))
        return found

    def list_lengths(self) -> list[tuple[list, int]]:
        return [(lst, len(lst)) for lst in self._lists()]

    def remember_growing(self, lengths: list[tuple[list, int]]) -> None:
        """Keep the lists that grew since ``lengths`` was taken (the layer's input history)."""
        self._history = [lst for lst, n in lengths if len(lst) > n]
        self.clear_history()

    def clear_history(self) -> None:
        for lst in self._history:
            lst.clear()

    def zero_grads(self) -> None:
        """Zero existing gradient arrays in place, so a backward that accumulates starts at 0."""
        pair = self._dict_pair()
        if self._found is not None:
            values = [layer_params.read(self.layer, grad) for _, grad in self._found.values()]
        elif pair is not None:
            grads = getattr(self.layer, pair[1], None)
            values = list(grads.values()) if isinstance(grads, Mapping) else []
        else:
            values = [getattr(self.layer, g, None) for _, g, _ in ATTRIBUTE_PAIRS]
        for value in values:
            if _is_array(value) and value.flags.writeable:
                value[...] = 0

    # -- calls -----------------------------------------------------------------------------
    def choose_mode(self, X) -> None:
        """Training mode when the layer's training-mode output is the same twice on ``X``."""
        if not self._flag:
            return
        def output():
            out = self._forward_method(X, **{self._flag: True})
            out = getattr(self.layer, "output", None) if out is None else out
            return None if out is None else np.array(out, copy=True)

        first, second = output(), output()
        self.training = bool(first is not None and second is not None
                             and np.shape(first) == np.shape(second)
                             and np.array_equal(first, second, equal_nan=True))

    def forward(self, X):
        self.clear_history()
        method = self._forward_method
        out = method(X, **{self._flag: self.training}) if self._flag else method(X)
        if out is None:
            out = getattr(self.layer, "output", None)
        if out is None:
            raise ProtocolError(f"{self.label}.forward returned None and stored no `output`; return the "
                                "layer's output or store it in self.output")
        return out

    def backward(self, dY):
        self.zero_grads()
        with recording(self.layer) as store:
            out = self._backward_method(dY)
        self._record = store
        if out is None:
            out = getattr(self.layer, "dinputs", None)
        if isinstance(out, list) and len(out) == 1:  # layers that keep one entry per forward call
            out = out[0]
        if out is None:
            raise ProtocolError(f"{self.label}.backward returned None and stored no `dinputs`; return "
                                "the gradient with respect to the layer's input or store it in self.dinputs")
        return out
