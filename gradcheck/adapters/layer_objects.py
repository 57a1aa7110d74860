"""Layer-object style: layers with forward/backward and state, and a loss object.

Covers the book "Neural Networks from Scratch" (``forward(inputs)`` or ``forward(inputs,
training)``, ``dweights``/``dbiases``, a loss with ``calculate``/``backward`` or a combined
softmax/cross-entropy) and layer libraries (``layer.parameters["W"]`` and ``layer.gradients``,
created on the first forward, accumulated with ``+=``, inputs appended to a list; a loss with
``loss(y, y_pred)`` summed over examples and ``grad`` giving dL/dlogits). Glue::

    target = gradcheck.adapters.layer_objects([dense1, relu1, dense2], loss)

What is found rather than configured (see :mod:`gradcheck.adapters.layer_access` and
:mod:`gradcheck.adapters.loss_access` for the layer and loss sides):

- a sum loss (the loss of a batch twice over is twice the loss) is divided, with its
  gradients, by the batch size, so the target's loss is a mean as the protocol says;
- a loss gradient taken with respect to the logits (the input of a last, parameter-free
  layer such as a softmax) rather than the output is recognised by a directional derivative of
  the loss object's own value, and the backward starts below that layer;
- regularisation held on the layers (``weight_regularizer_l2`` ...) is added to the loss
  through the ``regularization_loss`` of the loss object or of the loss it wraps (the book's
  combined softmax/cross-entropy object holds it one level down, in ``.loss``), or
  ``regularization=``, since the layers' backward adds its gradient; not when the loss object's
  own value already changes with the layers' strengths (it adds the term itself). When none is
  found the check runs anyway, and the strengths the layers hold (:attr:`penalties`) let a
  disagreement of exactly ``2 * l2 * W`` be named: a term the backward adds and the loss lacks.

Scripts that train when imported should guard the training with
``if __name__ == "__main__":`` so that loading the target does not train the network first.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from gradcheck.adapters.declared import declare
from gradcheck.adapters.layer_access import LayerAccess, is_layer, regularizer_settings
from gradcheck.adapters.loss_access import LossAccess
from gradcheck.adapters.prefix import ForwardMemo
from gradcheck.errors import InvalidArgumentError, ProtocolError
from gradcheck.targets import layer_params
from gradcheck.targets.inputs import input_spec
from gradcheck.validation import is_count, positive_int

LOSS_GRADIENT_CHOICES = ("output", "logits")
_named_access: dict[type, type] = {}


def access_for(layer, label: str, forward: str | None = None, backward: str | None = None) -> LayerAccess:
    """A LayerAccess whose class carries the layer's class name (single-layer checks are named by it)."""
    cls = type(layer)
    if cls not in _named_access:
        _named_access[cls] = type(cls.__name__, (LayerAccess,), {"__module__": __name__})
    return _named_access[cls](layer, label, forward=forward, backward=backward)


def _required_count(function) -> int | None:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    return sum(1 for p in parameters if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


class LayerObjectsTarget:
    """A target over a list of layer objects and a loss object. Examples are rows.

    Parameters
    ----------
    layers : list of layer objects, in order (input side first).
    loss : loss object with a gradient method (``backward``/``grad``) and usually a value
        method (``calculate``/``forward``/``loss``).
    regularization : callable () -> float, optional
        The regularisation term of the network's loss, when it is not the loss object's
        ``regularization_loss``.
    n_inputs : int, optional
        Input width, needed only when the layers create their parameters on the first forward.
    dtype : float dtype, optional
        Dtype of that first forward (layers that create parameters in their input's dtype);
        default float64.
    loss_gradient : "output" or "logits", optional
        What the loss object's gradient is taken with respect to; found by itself when omitted.
    """

    layout = "rows"
    #: Whether each layer's training flag is chosen by whether its training mode repeats
    #: (:meth:`LayerAccess.choose_mode`); a model's own passes run in evaluation mode.
    chooses_modes = True

    def __init__(self, layers, loss, *, regularization: Callable | None = None, n_inputs: int | None = None,
                 loss_gradient: str | None = None, dtype=None, forward: str | None = None,
                 backward: str | None = None, **declarations):
        declare(self, **declarations)
        if not isinstance(layers, (list, tuple)):
            raise InvalidArgumentError(
                "layers", f"got {type(layers).__name__}, expected a list of layer objects.",
                "Pass the layers in order, e.g. layer_objects([dense1, relu1, dense2], loss).")
        if not layers:
            raise InvalidArgumentError("layers", "is empty.", "Pass the network's layers in order.")
        for i, layer in enumerate(layers):
            if not is_layer(layer, forward, backward):
                wanted = f"{forward or 'forward'}/{backward or 'backward'}"
                raise InvalidArgumentError(f"layers[{i}]", f"({type(layer).__name__}) has no {wanted}.",
                                           "Pass only the network's layers, in order; name their "
                                           "methods if they are called otherwise, e.g. "
                                           "forward='forward_pass', backward='backward_pass'.")
        if loss_gradient not in (None, *LOSS_GRADIENT_CHOICES):
            raise InvalidArgumentError("loss_gradient", f"got {loss_gradient!r}, expected 'output' or 'logits'.")
        if regularization is not None and not callable(regularization):
            raise InvalidArgumentError("regularization", f"got {type(regularization).__name__}, expected a "
                                       "function () -> float.", "Pass e.g. regularization=model.regularization_loss.")
        positive_int(n_inputs, "n_inputs", or_none=True, fix="Pass the input width, e.g. n_inputs=784.")
        self._accesses = [access_for(layer, f"layers[{i}]", forward, backward) for i, layer in enumerate(layers)]
        if getattr(self, "input_spec", None) is None:
            declared = getattr(layers[0], "input_shape", None)  # the layer library's first layer says it
            if isinstance(declared, tuple) and declared and all(is_count(s) for s in declared):
                declare(self, input_shape=declared)
        self.loss_object = loss
        self._loss = LossAccess(loss)
        self._check_loss()
        self._loss_gradient = loss_gradient
        self._regularization = regularization or self._find_regularization()
        #: Whether the regularisation term was found (not given): then the loss object's own
        #: value is asked first whether it already adds it.
        self._found_regularization = regularization is None and self._regularization is not None
        self._calibrated = False
        self._sum = False  # a sum over examples rather than a mean; found on first use
        self._wake(n_inputs, np.dtype(dtype or np.float64))
        self._owners: dict[str, tuple[LayerAccess, object]] = {}
        k = 0
        for i, access in enumerate(self._accesses):
            slots = access.param_slots()
            if slots:
                k += 1
                for short, key in slots:
                    # found through the optimizer: named by their place, as the code holds them
                    name = f"layers.{i}.{short}" if access.records else f"{short}{k}"
                    self._owners[name] = (access, key)
        if not self._owners:
            raise ProtocolError("no layer has a `weights` attribute, `W`, or a `parameters` dict of float "
                                "arrays; pass the layers that hold the network's parameters")
        self.params = {name: access.get_param(key) for name, (access, key) in self._owners.items()}
        self.layers = self._accesses  # single-layer checks see the layers through the same faces
        #: The loss's forward, reusing the layers a perturbation cannot have changed
        #: (:mod:`gradcheck.adapters.prefix`); None where a model runs its own forward.
        self._memo: ForwardMemo | None = ForwardMemo(
            self._accesses, lambda access, X: access.forward(X), lambda access: access.param_slots(),
            lambda access, key: access.get_param(key))
        #: The penalties the layers hold, as ``(parameter, "l2" or "l1", strength, where)``: the
        #: diagnosis names a disagreement of exactly their gradient in the code's own words.
        self.penalties = self._held_penalties()

    # -- set-up ----------------------------------------------------------------------------
    def _check_loss(self) -> None:
        if not self._loss.has_gradient:
            raise InvalidArgumentError("loss", f"({type(self.loss_object).__name__}) has no backward(output, y) "
                                       "or grad(y, output).", "Pass the loss object the network backpropagates from.")

    def _find_regularization(self) -> Callable | None:
        """The regularisation term's function: the loss object's ``regularization_loss``, else
        that of a loss it wraps (an attribute holding one); None when neither has one."""
        for owner in _loss_and_wrapped(self.loss_object):
            method = getattr(owner, "regularization_loss", None)
            if not callable(method):
                continue
            if _required_count(method) == 1:  # regularization_loss(layer), summed over the layers
                holders = [access.layer for access in self._accesses if access.param_slots() or access.is_lazy()]
                return lambda method=method: sum(float(method(layer)) for layer in holders)
            return method
        return None

    def _held_penalties(self) -> tuple:
        """``(parameter, kind, strength, where)`` for every penalty strength a layer holds
        (``weight_regularizer_l2 = 5e-4`` on the layer of W1 gives ``("W1", "l2", 5e-4,
        "layers[0].weight_regularizer_l2")``)."""
        penalties = []
        for name, (access, key) in self._owners.items():
            is_bias = str(key).lower() in ("b", "bias", "biases")
            index = self._accesses.index(access)
            for attr, value in regularizer_settings(access.layer).items():
                lowered = attr.lower()
                kind = "l1" if "l1" in lowered else "l2" if "l2" in lowered else None
                if kind is None or ("bias" in lowered) != is_bias:
                    continue
                penalties.append((name, kind, float(value), f"layers[{index}].{attr}"))
        return tuple(penalties)

    def _loss_adds_it_itself(self, X, y) -> bool:
        """Whether the loss object's own value changes with the layers' strengths: it already adds
        the regularisation term (a loss object handed the layers), so it must not be added again."""
        holders = [(access.layer, attr, value) for access in self._accesses
                   for attr, value in regularizer_settings(access.layer).items()]
        if not holders:
            return False
        output = self._forward(X)
        before = self._loss.value(output, y)
        try:
            for layer, attr, _ in holders:
                setattr(layer, attr, 0.0)
            without = self._loss.value(self._forward(X), y)
        finally:
            for layer, attr, value in holders:
                setattr(layer, attr, value)
        return bool(np.isfinite(before) and np.isfinite(without) and before != without)

    def _wake(self, n_inputs: int | None, dtype: np.dtype) -> None:
        """One forward on a small random batch: creates lazy parameters, finds the lists forward
        appends to and the mode each layer is run in, and, for layers that hand their gradients
        to optimizers, one backward finds the arrays handed over."""
        spec = input_spec(self)
        shape = spec.shape if spec is not None else None
        if spec is None and n_inputs is None:
            if any(access.is_lazy() for access in self._accesses):
                lazy = next(a for a in self._accesses if a.is_lazy())
                raise ProtocolError(f"{lazy.label} ({type(lazy.layer).__name__}) creates its parameters on the "
                                    "first forward; pass n_inputs=<input width> so gradcheck can run one "
                                    "forward before reading them")
            if any(access.records for access in self._accesses):
                raise ProtocolError("the layers hand their gradients to optimizers, so gradcheck runs them "
                                    "once before reading their parameters; declare the input: "
                                    "input_shape=(n_features,) (or (channels, height, width))")
            weights = [a.get_param(key) for a in self._accesses for _, key in a.param_slots()]
            # no weight by a usual name: the arrays the layers hold (a first weight is (n_in, n_out))
            weights += [w for a in self._accesses for w in layer_params.held_arrays(a.layer).values()]
            first = next((w for w in weights if w.ndim == 2), None)
            if first is None:
                return
            shape, dtype = (first.shape[0],), first.dtype
        elif shape is None:
            shape = (int(n_inputs),)
        lengths = [access.list_lengths() for access in self._accesses]
        held = [layer_params.held_arrays(access.layer) for access in self._accesses]
        X = np.random.default_rng(0).uniform(-1, 1, (2, *shape)).astype(dtype)
        for access, before in zip(self._accesses, held):
            if self.chooses_modes:
                access.choose_mode(X)
            if access.needs_learning(before):
                access.learn(X)  # arrays the usual names miss: found by what forward and backward do
            X = access.forward(X)
        if any(access.records for access in self._accesses):
            self._backward_from(np.random.default_rng(1).standard_normal(np.shape(X)), self._accesses)
            for access in self._accesses:
                access.learn_recorded()
        for access, before in zip(self._accesses, lengths):
            access.remember_growing(before)

    # -- the network's own passes (a model can use its own) -------------------------------
    def _forward(self, X):
        for access in self._accesses:
            X = access.forward(X)
        return X

    def _backward_from(self, dvalues, layers) -> None:
        for access in reversed(layers):
            dvalues = access.backward(dvalues)

    def _backward(self, output, y) -> None:
        start = getattr(self.loss_object, "output", None)
        if isinstance(start, np.ndarray) and start.shape == output.shape:
            # a combined softmax/cross-entropy object backpropagates from its own probabilities
            self._backward_from(self._loss.gradient(start, y), self._accesses)
        elif self._loss_gradient == "logits":
            self._backward_from(self._loss.gradient(output, y), self._accesses[:-1])
        else:
            self._backward_from(self._loss.gradient(output, y), self._accesses)

    # -- found on first use ---------------------------------------------------------------
    def _calibrate(self, X, y) -> None:
        if self._calibrated:
            return
        X, y = np.asarray(X), np.asarray(y)
        n_classes = np.asarray(self._forward(X[:1])).shape[-1]
        rows = np.arange(n_classes + 1) % len(X)  # a batch size unequal to the class count
        Xd, yd = X[rows], y[rows]
        self._loss.calibrate(self._forward(Xd), yd)
        if self._found_regularization and self._loss_adds_it_itself(Xd, yd):
            self._regularization = None  # the loss object's value holds the term already
        once = self._loss.value(self._forward(Xd), yd)
        twice = self._loss.value(self._forward(np.concatenate([Xd, Xd])), np.concatenate([yd, yd]))
        is_sum = np.isfinite(once) and abs(once) > 1e-12 and abs(twice - 2 * once) <= 1e-6 * abs(once)
        self._sum = bool(is_sum)
        if self._loss_gradient is None:
            self._loss_gradient = self._find_loss_gradient(Xd, yd)
        self._calibrated = True

    def _find_loss_gradient(self, X, y) -> str:
        """'logits' when the loss gradient is the derivative with respect to the last layer's input.

        Only asked when the last layer has no parameters (a softmax, say): the loss object's
        gradient is compared, along six random directions, with central differences of the
        loss object's own value, as a function of the output and of the last layer's input.
        """
        last = self._accesses[-1]
        if len(self._accesses) < 2 or last.param_slots():
            return "output"
        Z = np.asarray(self._forward_to(X, len(self._accesses) - 1), dtype=np.float64)
        P = np.asarray(last.forward(Z))
        if getattr(self.loss_object, "output", None) is not None:
            return "output"
        g = np.asarray(self._loss.gradient(P, y), dtype=np.float64)
        if g.shape != P.shape:
            return "output"
        rng = np.random.default_rng(0)
        h = 1e-3 * (1.0 + float(np.max(np.abs(Z))))
        numeric, as_logits, as_output = [], [], []
        for _ in range(6):
            d = rng.standard_normal(Z.shape)
            P_plus, P_minus = np.asarray(last.forward(Z + h * d)), np.asarray(last.forward(Z - h * d))
            numeric.append((self._loss.value(P_plus, y) - self._loss.value(P_minus, y)) / (2 * h))
            as_logits.append(float(np.sum(g * d)))
            as_output.append(float(np.sum(g * (P_plus - P_minus) / (2 * h))))
        numeric = np.array(numeric)

        def misfit(analytic):
            # how far numeric is from any multiple of analytic: a wrong scale (a missing 1/m)
            # must not hide which quantity the gradient is taken with respect to
            a = np.array(analytic)
            if not np.all(np.isfinite(a)) or not np.any(a):
                return np.inf
            residual = numeric - a * (a @ numeric) / (a @ a)
            return float(np.linalg.norm(residual) / (np.linalg.norm(numeric) + 1e-30))

        logits, output = misfit(as_logits), misfit(as_output)
        return "logits" if logits < 1e-2 and logits < output / 100 else "output"

    def _forward_to(self, X, stop: int):
        for access in self._accesses[:stop]:
            X = access.forward(X)
        return X

    @property
    def reduction(self) -> str | None:
        """"sum" or "mean": how the code's own loss reduces over examples (None before first use)."""
        return ("sum" if self._sum else "mean") if self._calibrated else None

    def _per_example(self, X) -> float:
        return 1.0 / len(X) if self._sum else 1.0

    # -- the protocol -----------------------------------------------------------------------
    def forward(self, X):
        return self._forward(X)

    def activations(self, X) -> dict[str, np.ndarray]:
        """Every layer's output in order, named like the single-layer checks (layer1_dense, ...)."""
        outputs = {}
        for i, access in enumerate(self._accesses, start=1):
            X = access.forward(X)
            kind = "".join(ch for ch in type(access).__name__.lower() if ch.isalnum())
            outputs[f"layer{i}_{kind}"] = np.array(X)
        return outputs

    @property
    def adapter_notes(self) -> list[str]:
        """What a gradient check's result should say about how the loss was evaluated."""
        note = None if self._memo is None else self._memo.note
        return [] if note is None else [note]

    def loss(self, X, y) -> float:
        self._calibrate(X, y)
        output = self._forward(X) if self._memo is None else self._memo.forward(X)
        value = self._loss.value(output, y)
        if self._regularization is not None:
            value += float(self._regularization())
        return value * self._per_example(X)

    def gradients(self, X, y) -> dict[str, np.ndarray]:
        self._calibrate(X, y)
        output = self._forward(X)
        self._loss.value(output, y)  # loss objects cache what their backward needs
        self._backward(output, y)
        scale = self._per_example(X)
        grads = {}
        for name, (access, key) in self._owners.items():
            grad = access.get_grad(key)
            if isinstance(grad, (np.generic, float)):  # grad.sum() without axis: a shape finding, not a crash
                grad = np.asarray(grad)
            if not isinstance(grad, np.ndarray):
                raise ProtocolError(f"the gradient of {name} ({access.label}) is {type(grad).__name__}, "
                                    "expected an array")
            # the layer's own array when no scale applies: a buffer the next forward overwrites
            # is then seen to change (the check compares what it handed out)
            grads[name] = np.array(grad) * scale if scale != 1.0 else grad
        return grads


#: Attributes where a combined loss object keeps the loss it wraps.
WRAPPED_LOSS_NAMES = ("loss", "loss_function", "criterion", "inner", "base_loss")


def _loss_and_wrapped(loss) -> list:
    """The loss object, then the loss objects it wraps (the book's combined softmax/cross-entropy
    object keeps its cross-entropy in ``.loss``), each once."""
    found = [loss]
    for name in WRAPPED_LOSS_NAMES:
        try:
            found.append(getattr(loss, name, None))
        except Exception:  # noqa: BLE001 - a property of the user's that raises: not a wrapped loss
            continue
    found += list(vars(loss).values()) if hasattr(loss, "__dict__") else []
    found = [owner for owner in found if owner is loss or hasattr(owner, "regularization_loss")]
    return list({id(owner): owner for owner in found}.values())


def layer_objects(layers, loss, **options) -> LayerObjectsTarget:
    """Wrap layer objects and a loss object as a target; see :class:`LayerObjectsTarget`."""
    return LayerObjectsTarget(layers, loss, **options)
