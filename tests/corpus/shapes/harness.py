"""The reference harness: each module of the shapes corpus as a zero-argument loss, a flat dict
of its live parameter arrays, and a function returning the gradients under test.

Parameter names are dotted paths in the code's own structure: module globals by name (``Whh``),
attributes and list items (``layers.0.W``), dict keys (``blocks.0.attn.Wqkv``). An input whose
gradient the code computes is named ``input``.

Code that does not return its gradients is read without changing it for good:

- the layer library hands them to optimizer objects, which :func:`_layer_library` swaps for
  :class:`Recorder` objects for the length of one backward pass;
- the one-image CNN subtracts them from its arrays in place, so :func:`in_place_gradients` takes
  one step with a known learning rate, reads ``(old - new) / lr`` and writes every array back
  bit for bit.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MODULES = ("char_rnn", "layer_library", "cnn_inplace", "transformer", "lstm", "conv_pool")

#: The learning rate of the in-place step: a power of two, so dividing by it is exact, and large
#: enough that old - lr * grad keeps the gradient's digits.
IN_PLACE_LR = 16.0


@dataclass
class Target:
    """What ``gradcheck.check_gradients`` takes: ``loss()``, ``params``, ``grads()``."""

    loss: Callable[[], float]
    params: dict[str, np.ndarray]
    grads: Callable[[], dict[str, np.ndarray]]
    model: object = None


def module(name: str):
    if name not in MODULES:
        raise ValueError(f"unknown module {name!r}; expected one of {MODULES}")
    return importlib.import_module(f"tests.corpus.shapes.{name}")


def flatten(tree, prefix: str = "") -> dict[str, np.ndarray]:
    """Every array leaf of nested dicts and lists under its dotted path."""
    if isinstance(tree, np.ndarray):
        return {prefix: tree}
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    flat = {}
    for key, value in items:
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def in_place_gradients(params: dict[str, np.ndarray], step: Callable[[float], object],
                       lr: float = IN_PLACE_LR) -> dict[str, np.ndarray]:
    """Gradients of code that updates ``params`` in place: one ``step(lr)``, read back as
    (old - new) / lr, every array restored bit for bit (also when the step raises)."""
    before = {name: array.copy() for name, array in params.items()}
    try:
        step(lr)
        return {name: (before[name] - params[name]) / params[name].dtype.type(lr) for name in params}
    finally:
        for name, array in params.items():
            array[...] = before[name]


class Recorder:
    """Stands in for an optimizer: keeps the gradient it is handed, returns the weights unchanged
    (the same array object, so the layer's attribute keeps pointing at the live array)."""

    def __init__(self, name: str, store: dict):
        self.name, self.store = name, store

    def update(self, w, grad_w):
        self.store[self.name] = np.array(grad_w, copy=True)
        return w


def _rng(seed: int):
    return np.random.default_rng(50_000 + seed)


# -- one function per module ---------------------------------------------------------------------
def _char_rnn(kwargs, data):
    mod = module("char_rnn").load(**kwargs)
    rng = _rng(kwargs.get("seed", 0))
    seq = data.get("seq", 6)
    text = rng.integers(0, mod.VOCAB, seq + 1)
    inputs, targets = list(text[:-1]), list(text[1:])
    hprev = np.tanh(rng.standard_normal((mod.HIDDEN, 1))).astype(mod.DTYPE)
    names = ("Wxh", "Whh", "Why", "bh", "by")
    params = {name: getattr(mod, name) for name in names}

    def grads():
        return dict(zip(names, mod.lossFun(inputs, targets, hprev)[1:6]))

    return Target(lambda: mod.lossFun(inputs, targets, hprev)[0], params, grads, mod)


_OPT_SUFFIX = "_opt"


def _layer_library(kwargs, data):
    lib = module("layer_library")
    kwargs = dict(kwargs)
    kind = kwargs.pop("kind")
    net = lib.build(kind, **kwargs)
    dtype = np.dtype(kwargs.get("dtype", np.float64)).type
    rng = _rng(kwargs.get("seed", 0))
    n = data.get("batch", 4)
    X = rng.uniform(-1, 1, (n, *net.layers[0].input_shape)).astype(dtype)
    Y = np.eye(net.n_classes, dtype=dtype)[rng.integers(0, net.n_classes, n)]
    params = {}
    for i, layer in enumerate(net.layers):
        for attr in vars(layer):
            if attr.endswith(_OPT_SUFFIX):
                params[f"layers.{i}.{attr[:-len(_OPT_SUFFIX)]}"] = getattr(layer, attr[:-len(_OPT_SUFFIX)])
    params["input"] = X

    def loss():
        return net.loss_function.loss(Y, net._forward_pass(X, training=True))

    def grads():
        store, swapped = {}, []
        for i, layer in enumerate(net.layers):
            for attr in list(vars(layer)):
                if attr.endswith(_OPT_SUFFIX):
                    swapped.append((layer, attr, getattr(layer, attr)))
                    setattr(layer, attr, Recorder(f"layers.{i}.{attr[:-len(_OPT_SUFFIX)]}", store))
        try:
            p = net._forward_pass(X, training=True)
            store["input"] = net._backward_pass(net.loss_function.gradient(Y, p))
        finally:
            for layer, attr, opt in swapped:
                setattr(layer, attr, opt)
        return store

    return Target(loss, params, grads, net)


def _cnn_inplace(kwargs, data):
    net = module("cnn_inplace").build(**kwargs)
    rng = _rng(kwargs.get("seed", 0))
    image = rng.integers(0, 256, (net.size, net.size)).astype(net.dtype)
    label = int(rng.integers(0, net.classes))
    params = {"conv.filters": net.conv.filters, "softmax.weights": net.softmax.weights,
              "softmax.biases": net.softmax.biases}
    return Target(lambda: net.forward(image, label)[1], params,
                  lambda: in_place_gradients(params, lambda lr: net.train_step(image, label, lr)), net)


def _transformer(kwargs, data):
    ns = module("transformer").build(**kwargs)
    rng = _rng(kwargs.get("seed", 0))
    text = rng.integers(0, ns.vocab, (ns.batch, ns.seq + 1))
    tokens, targets = text[:, :-1], text[:, 1:]
    params = flatten(ns.params)

    def loss():
        return ns.loss(ns.forward(ns.params, tokens)[1], targets)

    def grads():
        ctx, logits = ns.forward(ns.params, tokens)
        return flatten(ns.backward(ctx, ns.loss_grad(logits, targets)))

    return Target(loss, params, grads, ns)


def _lstm(kwargs, data):
    model = module("lstm").build(**kwargs)
    rng = _rng(kwargs.get("seed", 0))
    x = rng.standard_normal((model.batch, model.steps, model.n_in)).astype(model.dtype)
    if model.loss_kind == "ce":
        y = rng.integers(0, model.n_out, (model.batch, model.steps))
    else:
        y = rng.standard_normal((model.batch, model.steps, model.n_out)).astype(model.dtype)
    params = {f"params.{k}": v for k, v in model.params.items()}
    params["input"] = x

    def grads():
        _, g, dx = model.loss(x, y, return_dx=True)
        out = {f"params.{k}": v for k, v in g.items()}
        out["input"] = dx
        return out

    return Target(lambda: model.loss(x, y)[0], params, grads, model)


def _conv_pool(kwargs, data):
    net = module("conv_pool").build(**kwargs)
    rng = _rng(kwargs.get("seed", 0))
    dtype = net.layers[0].W.dtype
    x = rng.uniform(-1, 1, net.input_shape).astype(dtype)
    y = rng.integers(0, net.classes, net.input_shape[0])
    params = {}
    for i, layer in enumerate(net.layers):
        if hasattr(layer, "W"):
            params[f"layers.{i}.W"], params[f"layers.{i}.b"] = layer.W, layer.b
    params["input"] = x

    def grads():
        net.loss(x, y)
        out = {"input": net.backward()}
        for i, layer in enumerate(net.layers):
            if hasattr(layer, "W"):
                out[f"layers.{i}.W"], out[f"layers.{i}.b"] = layer.dW, layer.db
        return out

    return Target(lambda: net.loss(x, y), params, grads, net)


_MAKERS = {"char_rnn": _char_rnn, "layer_library": _layer_library, "cnn_inplace": _cnn_inplace,
           "transformer": _transformer, "lstm": _lstm, "conv_pool": _conv_pool}


def make(module_name: str, builder_kwargs: dict, data: dict | None = None) -> Target:
    """The target for one build of ``module_name`` (``builder_kwargs`` go to its builder; ``data``
    sets the harness's batch: ``batch`` for the layer library, ``seq`` for the char RNN)."""
    module(module_name)
    return _MAKERS[module_name](dict(builder_kwargs), dict(data or {}))


class ProtocolTarget:
    """A harness target behind gradcheck's target protocol (``params``, ``loss(X, y)``,
    ``gradients(X, y)``), its batch fixed inside it: ``X`` and ``y`` are ignored. Checked with
    ``check_target_gradients``, a float32 build is judged again on a float64 copy of itself, and
    its state (a char RNN's module globals, the arrays its closures hold) is widened for the copy."""

    layout = "rows"

    def __init__(self, target: Target):
        self._target = target
        self.params = target.params

    def loss(self, X, y):
        return self._target.loss()

    def gradients(self, X, y):
        return self._target.grads()


#: The batch a :class:`ProtocolTarget` is checked on: it has its own, so this is a placeholder.
PLACEHOLDER_BATCH = (np.zeros((1, 1)), np.zeros(1, dtype=int))


_ENTRY_BUG = object()


def target(entry, dtype=None, bug=_ENTRY_BUG) -> Target:
    """The target of a catalogue entry (a ``ShapeConfig`` or a ``ShapeBug``), in ``dtype``; a
    ``ShapeBug`` is built with its bug unless ``bug`` says otherwise (None: the correct build)."""
    kwargs = dict(entry.builder_kwargs)
    if dtype is not None:
        kwargs["dtype"] = dtype
    if bug is _ENTRY_BUG:
        bug = getattr(entry, "name", None)
    if bug is not None:
        kwargs["bug"] = bug
    return make(entry.module, kwargs, getattr(entry, "data", None))
