"""Function-pair layers, the way courses write them, as targets of their own kind.

A layer is a forward and a backward function::

    out, cache = conv_forward_naive(x, w, b, conv_param)
    dx, dw, db = conv_backward_naive(dout, cache)

    next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)

or a loss returning its gradient, ``loss, dx = softmax_loss(x, y)``. gradcheck works out the rest:

- **the pair**, by name: ``<name>_forward``/``<name>_backward``, the ``_naive`` (and ``_fast``)
  versions, ``<name>_step_forward``/``<name>_step_backward`` (a layer named ``<name>_step``),
  and a function named ``*_loss`` with no backward (a loss layer);
- **the arguments**: float arrays are checked; integer and bool arrays (indices, labels,
  tokens, masks), float arrays named ``*mask*``, numbers and dicts of settings are fixed, and
  copied afresh for every call (a forward that updates ``bn_param``'s running statistics starts
  from the same ones each time);
- **the outputs**: the forward returns its outputs then the cache; the backward takes one
  upstream gradient per output it differentiates (its arguments before the cache), and each gets
  a random one;
- **the gradients**, to the forward's arguments: a tuple by the names the backward returns
  (``return dx, dprev_h, dWx`` maps ``dprev_h`` to ``prev_h``), else by position; a dict by key
  (``dWax`` to ``Wax``, a weight inside a ``parameters`` dict); a weight in a dict that gets no
  gradient (``Wya``, which only scores the prediction) is left fixed and said so.

Glue::

    target = gradcheck.adapters.function_layer(conv_forward_naive, conv_backward_naive)
    target = gradcheck.adapters.function_layers(my_layers_module)          # every pair in it

or, with no glue, ``gradcheck check layers.py:conv``, ``layers.py:*``, ``layers.py:LAYERS`` (a
list of names), ``assignment.ipynb:rnn_step``. Without arguments of the user's own, each layer
kind of a typical course gets small ones (:mod:`gradcheck.adapters.layer_examples`).
"""

from __future__ import annotations

import ast
import difflib
import inspect
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from gradcheck.adapters.layer_examples import default_arguments, expected_arguments, kind_of, known, layout_of
from gradcheck.errors import InvalidArgumentError
from gradcheck.targets.protocol import OutOfProcess

#: How a forward's name ends, and the backward's name that goes with it.
SUFFIXES = (("_forward", "_backward"), ("_forward_naive", "_backward_naive"),
            ("_forward_fast", "_backward_fast"))
#: The name a module lists its layers under (names, or function_layer objects).
LAYERS_ATTR = "LAYERS"
#: The attribute a target that is a set of function-pair layers offers (engine families ask it).
OFFERS = "function_layers"


def signature_parameters(function) -> list[inspect.Parameter] | None:
    try:
        return list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None


def required_parameters(function) -> list[str] | None:
    """The names of the positional arguments ``function`` cannot be called without."""
    parameters = signature_parameters(function)
    if parameters is None:
        return None
    return [p.name for p in parameters if p.default is p.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _last_return(function) -> ast.expr | None:
    """The value of the last ``return`` in ``function``'s own body, read from its source; None
    when there is no source or no return with a value."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    returns = [n for n in _own_statements(node) if isinstance(n, ast.Return) and n.value is not None]
    if not returns:
        return None
    return max(returns, key=lambda n: (n.lineno, n.col_offset)).value


def returns_a_tuple(function) -> bool:
    """Whether ``function``'s last return is a tuple written out (``return loss, dx``); True when
    its source cannot be read (then only calling it can tell)."""
    value = _last_return(function)
    return value is None or isinstance(value, ast.Tuple)


def returned_names(function) -> list[str] | None:
    """The names a function returns, read from its source: ``["dx", "dw", "db"]`` for
    ``return dx, dw, db``; None when its last return is not names (or there is no source). A
    function in another process says them itself, read where its source is."""
    if isinstance(function, OutOfProcess):
        return function.returned_names
    value = _last_return(function)
    if value is None:
        return None
    items = value.elts if isinstance(value, ast.Tuple) else [value]
    if not all(isinstance(item, ast.Name) for item in items):
        return None
    return [item.id for item in items]


def returned_items(function) -> list[str | None] | None:
    """What a function's last return lists, by name where an item is a name: ``["loss", "dWxh",
    None]`` for ``return loss, dWxh, hs[-1]``; None when there is no source or no return."""
    value = _last_return(function)
    if value is None:
        return None
    items = value.elts if isinstance(value, ast.Tuple) else [value]
    return [item.id if isinstance(item, ast.Name) else None for item in items]


def _own_statements(function: ast.AST):
    """Every node of ``function``'s body, not looking inside functions or classes it defines."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


# -- one layer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionLayer:
    """One layer as a forward and a backward function, or a loss returning ``(loss, dx)``.

    Attributes
    ----------
    name : str
        What the layer is called in check names and reports (``conv`` -> ``check_conv``).
    forward : callable
        ``forward(*args) -> (out, cache)``, ``(out1, out2, ..., cache)``, or for a loss layer
        ``(loss, dx, ...)``.
    backward : callable or None
        ``backward(dout1, ..., cache) -> dx | (dx, dw, ...) | {"dx": ..., "dW": ...}``; None for
        a loss layer.
    args : dict or None
        The forward's arguments by name, in its order; None for the kind's own example
        arguments (:mod:`gradcheck.adapters.layer_examples`).
    fixed : tuple of str
        Float arguments (or dict keys) to keep fixed besides the ones found by themselves.
    layout : {"rows", "columns"} or None
        Where the examples are in the first argument (the dict-of-parameters cells: columns).
    """

    name: str
    forward: Callable
    backward: Callable | None = None
    args: Mapping | None = field(default=None, compare=False)
    fixed: tuple[str, ...] = ()
    layout: str | None = None

    @property
    def kind(self) -> str:
        """The layer kind: its name's (``conv``), else its forward's (a layer named ``my_conv``
        whose forward is ``conv_forward_naive`` is a ``conv``)."""
        kind = kind_of(self.name)
        if known(kind):
            return kind
        by_forward = kind_of(layer_name(getattr(self.forward, "__name__", "")))
        return by_forward if known(by_forward) else kind

    @property
    def is_loss(self) -> bool:
        return self.backward is None

    @property
    def functions(self) -> str:
        """``conv_forward_naive/conv_backward_naive``, or the loss's name."""
        forward = getattr(self.forward, "__name__", "forward")
        if self.backward is None:
            return forward
        return f"{forward}/{getattr(self.backward, '__name__', 'backward')}"

    @property
    def examples_layout(self) -> str | None:
        return self.layout or layout_of(self.kind)

    def arguments(self, *, seed: int = 0, dtype=np.float64) -> dict:
        """The forward's arguments by name: the layer's own, else its kind's examples in
        ``dtype`` drawn from ``seed``. InvalidArgumentError when neither is there."""
        required = required_parameters(self.forward)
        if self.args is not None:
            return dict(self.args)
        forward = getattr(self.forward, "__name__", "forward")
        if required is None:
            raise InvalidArgumentError(
                self.name, f"{forward}'s arguments cannot be read (no signature).",
                f"Give them: gradcheck.adapters.function_layer({forward}, ..., x, w, b).")
        values = default_arguments(self.kind, required, seed=seed, dtype=dtype)
        if values is not None:
            return values
        wanted = expected_arguments(self.kind)
        said = (f"a {self.kind} layer gets ({', '.join(wanted)}), but {forward} takes "
                f"({', '.join(required)})" if wanted else
                f"gradcheck has no example arguments for a layer named {self.name!r} "
                f"(forward {forward}({', '.join(required)}))")
        raise InvalidArgumentError(
            self.name, said + ".",
            f"Give them in the forward's order: target = gradcheck.adapters.function_layer("
            f"{forward}, {getattr(self.backward, '__name__', 'None')}, "
            f"{', '.join(required)}), with small arrays.")


@dataclass
class FunctionLayers:
    """A target made of function-pair layers, one check each (``check_<name>``)."""

    function_layers: list[FunctionLayer]
    #: Where they came from, for the run's first line (e.g. "17 layers of course_layers.py").
    origin: str = ""

    def __post_init__(self):
        # one check per layer, each with a name of its own: a second "conv" is "conv_2"
        seen: dict[str, int] = {}
        named = []
        for layer in self.function_layers:
            seen[layer.name] = seen.get(layer.name, 0) + 1
            named.append(layer if seen[layer.name] == 1 else
                         replace(layer, name=f"{layer.name}_{seen[layer.name]}"))
        self.function_layers = named

    def describe(self) -> str:
        """``17 function-pair layers``, or ``function-pair layer conv_forward_naive/conv_backward_naive``."""
        if len(self.function_layers) == 1:
            layer = self.function_layers[0]
            return f"{'loss layer' if layer.is_loss else 'function-pair layer'} {layer.functions}"
        return f"{len(self.function_layers)} function-pair layers"


def function_layer(forward: Callable, backward: Callable | None = None, *args, name: str | None = None,
                   fixed: Sequence[str] = (), layout: str | None = None) -> FunctionLayers:
    """One function-pair layer as a target.

    ``args`` are the forward's arguments, as you would call it (``x, w, b, conv_param``); give
    none to use the example arguments of the layer's kind (known by the forward's name).
    ``backward`` is None for a loss returning ``(loss, dx)``. ``fixed`` names float arguments
    (or dict keys) to keep fixed, ``layout`` says where the examples are ("rows", "columns").
    """
    return FunctionLayers([make_layer(forward, backward, args or None, name=name, fixed=fixed,
                                      layout=layout)])


def make_layer(forward, backward=None, args: Sequence | Mapping | None = None, *, name=None,
               fixed: Sequence[str] = (), layout: str | None = None) -> FunctionLayer:
    """A :class:`FunctionLayer`, its arguments (positional, or by name) checked against the
    forward's signature."""
    if not callable(forward):
        raise InvalidArgumentError("forward", f"got {type(forward).__name__}, expected the layer's "
                                   "forward function.", "Pass e.g. conv_forward_naive.")
    if backward is not None and not callable(backward):
        raise InvalidArgumentError("backward", f"got {type(backward).__name__}, expected the layer's "
                                   "backward function or None (a loss returning (loss, dx)).",
                                   "Pass e.g. conv_backward_naive.")
    if layout not in (None, "rows", "columns"):
        raise InvalidArgumentError("layout", f"got {layout!r}, expected 'rows', 'columns' or None.")
    if isinstance(fixed, str) or not all(isinstance(f, str) for f in fixed):
        raise InvalidArgumentError("fixed", f"got {fixed!r}, expected a list of argument names.",
                                   "Pass e.g. fixed=['mask'].")
    name = name or layer_name(getattr(forward, "__name__", "layer"))
    if args is not None and not isinstance(args, Mapping):
        args = _by_name(forward, list(args))
    return FunctionLayer(name, forward, backward, None if args is None else dict(args),
                         tuple(fixed), layout)


def _by_name(forward, values: list) -> dict:
    parameters = signature_parameters(forward)
    positional = [p.name for p in parameters or [] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = required_parameters(forward) or []
    if parameters is None or not len(required) <= len(values) <= len(positional):
        expected = f"({', '.join(positional)})" if parameters is not None else "its arguments"
        raise InvalidArgumentError(
            "args", f"got {len(values)} arguments for {getattr(forward, '__name__', 'forward')}"
            f"{expected}.", "Give the forward's arguments in its order, as you would call it.")
    return dict(zip(positional, values))


def layer_name(forward_name: str) -> str:
    """``conv`` for ``conv_forward_naive``, ``rnn_step`` for ``rnn_step_forward``, the name
    itself for a loss."""
    for forward, _ in reversed(SUFFIXES):
        if forward_name.endswith(forward):
            return forward_name[: -len(forward)] or forward_name
    return forward_name


# -- finding the layers of a module -------------------------------------------------------------


def _defined_here(namespace, value) -> bool:
    home = getattr(namespace, "__name__", None)
    return callable(value) and getattr(value, "__module__", home) == home


def _functions(namespace) -> dict[str, Callable]:
    return {name: value for name, value in vars(namespace).items()
            if not name.startswith("_") and inspect.isfunction(value) and _defined_here(namespace, value)}


def discover(namespace) -> list[FunctionLayer]:
    """Every layer defined in ``namespace`` (a module), in the order the module defines them:
    forward/backward pairs, and ``*_loss`` functions with no backward."""
    functions = _functions(namespace)
    layers: dict[str, FunctionLayer] = {}
    for fname, function in functions.items():
        for forward, backward in SUFFIXES:
            if fname.endswith(forward) and fname[: -len(forward)]:
                base = fname[: -len(forward)]
                partner = functions.get(base + backward)
                if partner is None:
                    continue
                name = base if base not in layers else base + forward.removeprefix("_forward")
                layers[name] = FunctionLayer(name, function, partner)
        if _is_loss_function(fname, function) and fname + "_backward" not in functions:
            layers.setdefault(fname, FunctionLayer(fname, function, None))
    return list(layers.values())


def find_layer(namespace, name: str) -> FunctionLayer | None:
    """The layer ``name`` names in ``namespace``: a layer's name (``conv``, ``rnn_step``,
    ``softmax_loss``) or its forward's (``conv_forward_naive``); None when there is none."""
    for layer in discover(namespace):
        if name in (layer.name, getattr(layer.forward, "__name__", None)):
            return layer
    value = getattr(namespace, name, None)
    if _is_loss_function(name, value):
        return FunctionLayer(name, value, None)
    return None


def _is_loss_function(name: str, value) -> bool:
    """A function named ``*_loss`` that takes arguments (a factory ``make_loss()`` takes none) and
    returns a tuple, the loss and its gradients (a ``return loss`` alone has none to check)."""
    return (name.endswith("_loss") and inspect.isfunction(value)
            and bool(required_parameters(value)) and returns_a_tuple(value))


def layers_in(namespace, attr: str, *, default: bool = False) -> FunctionLayers | None:
    """The function-pair layers ``FILE:attr`` names, or None when it names none.

    ``*`` is every layer in the file; a name is one layer (``conv``, ``conv_forward_naive``);
    an attribute that is a list (``LAYERS = ["affine", "conv"]``) lists names or
    :func:`function_layer` targets. With ``default`` (the file was named alone), the file's
    ``LAYERS`` list, else every layer in it.
    """
    origin = getattr(namespace, "__file__", None) or getattr(namespace, "__name__", "")
    if attr == "*":
        found = discover(namespace)
        if not found:
            raise InvalidArgumentError(
                "target", f"{origin} defines no function-pair layers (no <name>_forward with a "
                "<name>_backward, no *_loss function).",
                "Name the pairs conv_forward/conv_backward, or give one: FILE:name.")
        return FunctionLayers(found, origin)
    if default:
        listed = getattr(namespace, LAYERS_ATTR, None)
        if listed is not None:
            return listed_layers(namespace, listed, LAYERS_ATTR)
        found = discover(namespace)
        return FunctionLayers(found, origin) if found else None
    value = getattr(namespace, attr, None)
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (str, FunctionLayer, FunctionLayers)) for v in value):
        return listed_layers(namespace, value, attr)
    if value is None or (callable(value) and not isinstance(value, type)):
        layer = find_layer(namespace, attr)
        if layer is not None:
            return FunctionLayers([layer], origin)
    return None


def listed_layers(namespace, listed, attr: str) -> FunctionLayers:
    """The layers a ``LAYERS``-style list names; an entry naming no layer is an error listing
    the layers the file has."""
    if not isinstance(listed, (list, tuple)):
        raise InvalidArgumentError(attr, f"is a {type(listed).__name__}, expected a list of layer "
                                   "names.", f"Write e.g. {attr} = ['affine', 'conv'].")
    layers: list[FunctionLayer] = []
    for entry in listed:
        if isinstance(entry, FunctionLayers):
            layers += entry.function_layers
        elif isinstance(entry, FunctionLayer):
            layers.append(entry)
        elif isinstance(entry, str) and (layer := find_layer(namespace, entry)) is not None:
            layers.append(layer)
        else:
            names = [layer.name for layer in discover(namespace)]
            close = difflib.get_close_matches(str(entry), names, n=1)
            raise InvalidArgumentError(
                attr, f"lists {entry!r}, which names no layer of the file"
                + (f"; did you mean {close[0]!r}?" if close else "."),
                f"The layers there are: {', '.join(names) or 'none'}.")
    origin = getattr(namespace, "__file__", None) or getattr(namespace, "__name__", "")
    return FunctionLayers(layers, origin)


def function_layers(namespace, *names: str) -> FunctionLayers:
    """The function-pair layers of a module (or any object with attributes): every one it
    defines, or the ``names`` given (``"conv"``, ``"rnn_step"``, ``"softmax_loss"``)."""
    if not names:
        return layers_in(namespace, "*")
    return listed_layers(namespace, list(names), "names")


def offered_layers(target) -> list[FunctionLayer] | None:
    """The function-pair layers a target offers, or None for a network target."""
    layers = getattr(target, OFFERS, None)
    return list(layers) if isinstance(layers, (list, tuple)) else None
