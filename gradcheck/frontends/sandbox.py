"""The target server: what runs in the child process that holds an untrusted target.

The checking process (the parent) never imports a target: it starts a child
(:mod:`gradcheck.frontends.isolation`), which loads the target and then answers requests over
one socket in the format of :mod:`gradcheck.frontends.wire`: call ``loss(X, y)``, call
``gradients(X, y)``, call a layer's ``forward``, evaluate the loss at a list of points each a
parameter entry moved by a step, build the network in another dtype. The parent runs every check,
every diagnosis and the verdict itself, on its own copies of the parameters, through a proxy
(:mod:`gradcheck.frontends.remote`). Nothing here decides anything: a child whose gradcheck was
patched by the target can only send other numbers, as a loss written to lie could.

The arrays both sides hold (parameters, layer weights) have keys. A request carries the
entries the parent changed since the last one (an entry moved by a step, a training step); a
reply carries the entries the target changed itself (a loss that writes into its parameters),
so each side sees what it would see in one process. Arrays returned by the target are watched
for a while: a gradient buffer the network overwrites later is overwritten in the parent too.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np

from gradcheck.errors import GradcheckError
from gradcheck.frontends import wire
from gradcheck.frontends.served_layers import LayerOps, new_state
from gradcheck.targets.inputs import InputSpec

#: Functions of a target the engine may call when present (docs/protocol.md).
METHODS = ("forward", "activations", "example_batch", "softmax", "log_softmax", "sigmoid",
           "cross_entropy", "cross_entropy_from_logits", "softmax_cross_entropy",
           "binary_cross_entropy", "binary_cross_entropy_from_logits")
LOSS_GRADIENTS = tuple(f"{name}_gradient" for name in METHODS[6:])
#: A network's output and its backward from a given upstream gradient (``adapters.tape`` targets).
OUTPUT_METHODS = ("outputs", "output_gradients")
#: Every method of a target the engine may call.
CALLABLE = ("loss", "gradients", *METHODS, *LOSS_GRADIENTS, *OUTPUT_METHODS)
#: Plain attributes of a target the engine reads when present.
ATTRIBUTES = ("layout", "task", "n_classes", "per_example", "reduction", "penalties", "sequence_length",
              "null_token", "input_spec")
#: What a layer's forward and backward leave behind besides its parameters' gradients, which are
#: found by value like the parameters themselves (targets/layer_params.py).
LAYER_RESULTS = ("output", "dinputs")
#: Arrays returned by the target that are watched for later changes, and their bytes in all.
WATCHED = 24
WATCHED_BYTES = 64 * 2 ** 20
#: RuntimeWarnings and others passed on per request.
MAX_WARNINGS = 50
ERRSTATE = {"divide", "over", "under", "invalid"}
ERRACTIONS = {"ignore", "warn", "raise", "print"}


class UserRaised(Exception):
    """The target's own code raised (or exited) while answering; ``crash`` is its data."""

    def __init__(self, crash: dict):
        super().__init__(crash.get("message", ""))
        self.crash = crash


class BadRequest(Exception):
    """A request the server does not understand (a bug on the parent's side, never the target's)."""


# -- what the child knows about the target -----------------------------------------------------------


class Server(LayerOps):
    """The child's state: the targets it built, the arrays the parent mirrors, the watched returns
    (and, for function-pair layers, their forwards' caches: :mod:`gradcheck.frontends.served_layers`)."""

    def __init__(self, sock, *, limit: int = wire.MAX_MESSAGE):
        self.sock = sock
        self.limit = limit
        self.targets: dict[int, Any] = {}
        self.builders: dict[int, Any] = {}
        self.layers: dict[int, list] = {}
        self.views: dict[tuple, Any] = {}  # (target, layer index) -> its LayerView
        self.arrays: dict[str, np.ndarray] = {}  # key -> the live array
        self.synced: dict[str, np.ndarray] = {}  # key -> what the parent holds
        self.ids: dict[int, str] = {}  # id(live array) -> key
        self.watched: deque = deque()  # (handle, array, copy)
        self.next_handle = 0
        self.cache = wire.SentArrays()  # large arguments the parent sent once
        vars(self).update(new_state())

    # -- the loop ---------------------------------------------------------------------------------
    def loop(self) -> None:
        while True:
            try:
                header, arrays = wire.receive(self.sock, limit=self.limit)
            except (wire.Closed, OSError):
                return
            reply, out = self.answer(header, arrays)
            try:
                wire.send(self.sock, reply, out)
            except OSError:
                return
            except (wire.WireError, TypeError, ValueError) as exc:  # a value that cannot be framed
                wire.send(self.sock, {"ok": False, "error": {"type": "UserCodeError", "message":
                          f"the target returned something that cannot be sent ({exc})"}}, [])

    def answer(self, header: dict, arrays: list) -> tuple[dict, list]:
        out: list[np.ndarray] = []
        encoder = wire.Encoder(out, known=self._known)
        caught: list = []
        try:
            self._apply(header.get("sync") or [], arrays)
            started = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught, _errstate(header.get("errstate")):
                warnings.simplefilter("always")
                value = self.dispatch(header, arrays, encoder)
            reply = {"ok": True, "value": value, "seconds": time.perf_counter() - started}
        except UserRaised as raised:
            reply = {"ok": False, "raised": _plain_crash(raised.crash, encoder)}
        except BadRequest as exc:
            reply = {"ok": False, "error": {"type": "BadRequest", "message": str(exc)}}
        except Exception as exc:  # noqa: BLE001 - gradcheck's own errors (a load error) and the rest
            reply = {"ok": False, "error": _error(exc)}
        reply["sync"] = self._changes(out)
        reply["watched"] = self._watched_changes(out)
        reply["warnings"] = _warnings(caught)
        return reply, out

    def dispatch(self, header: dict, arrays: list, encoder: wire.Encoder):
        op = header.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) and op.isidentifier() else None
        if handler is None:
            raise BadRequest(f"unknown request {op!r}")
        return handler(header, arrays, encoder)

    # -- the mirrored arrays ----------------------------------------------------------------------
    def _known(self, array: np.ndarray) -> str | None:
        return self.ids.get(id(array)) if self.arrays.get(self.ids.get(id(array), "")) is array else None

    def register(self, array: np.ndarray, key: str, encoder: wire.Encoder) -> tuple[str, dict | None]:
        """The key of ``array`` (an existing one when it is registered already) and its value."""
        known = self._known(array)
        if known is not None:
            return known, None
        self.arrays[key] = array
        self.synced[key] = np.array(array, copy=True)
        self.ids[id(array)] = key
        return key, encoder.array(self.synced[key])

    def _apply(self, changes: list, arrays: list) -> None:
        for change in changes:
            key = change.get("key") if isinstance(change, dict) else None
            if key not in self.arrays:
                raise BadRequest(f"a change to unknown array {key!r}")
            for live in (self.arrays[key], self.synced[key]):
                apply_change(live, change, arrays)

    def _changes(self, out: list) -> list:
        changes = []
        for key, live in self.arrays.items():
            change = describe_change(live, self.synced[key], out)
            if change is not None:
                change["key"] = key
                changes.append(change)
                np.copyto(self.synced[key], live)
        return changes

    def watch(self, value: Any, out: list) -> list:
        """Watch the arrays among ``value`` (just encoded into ``out``): [[array index, handle]]."""
        pairs = []
        for array in _arrays_in(value):
            index = next((i for i, sent in enumerate(out) if sent is array), None)
            if index is None or self._known(array) is not None:
                continue
            self.next_handle += 1
            self.watched.append((self.next_handle, array, np.array(array, copy=True)))
            pairs.append([index, self.next_handle])
        size = sum(copy.nbytes for _, _, copy in self.watched)
        while len(self.watched) > WATCHED or size > WATCHED_BYTES:
            size -= self.watched.popleft()[2].nbytes
        return pairs

    def _watched_changes(self, out: list) -> list:
        changes = []
        for handle, array, copy in self.watched:
            if array.shape == copy.shape and not same_bytes(array, copy):
                np.copyto(copy, array)
                out.append(np.array(array, copy=True))
                changes.append([handle, len(out) - 1])
        return changes

    # -- targets ----------------------------------------------------------------------------------
    def describe(self, target, encoder: wire.Encoder, builder=None) -> dict:
        """Register ``target`` and say what it offers: the parent builds its proxy from this."""
        number = len(self.targets)
        self.targets[number] = target
        self.builders[number] = builder
        replace_file_backed(target)
        params = self.user("params", lambda: dict(target.params() if callable(target.params) else target.params))
        names, values = [], {}
        for i, (name, array) in enumerate(params.items()):
            refuse_file_backed(name, array)
            key, value = self.register(array, f"t{number}.p{i}", encoder)
            names.append([str(name), key])
            if value is not None:
                values[key] = value
        methods = [name for name in CALLABLE if callable(_attribute(target, name))]
        attributes = {}
        for name in (*ATTRIBUTES, *METHODS, *LOSS_GRADIENTS):
            value = _attribute(target, name)
            if isinstance(value, InputSpec):  # an adapter's spec crosses as the dict a target declares
                value = value.to_dict()
            if value is not None and name not in methods:
                attributes[name] = encoder.value(value)
        layers = _attribute(target, "layers")
        layer_list = None
        if isinstance(layers, (list, tuple)):
            self.layers[number] = list(layers)
            layer_list = [self._describe_layer(number, i, layer, values, encoder)
                          for i, layer in enumerate(layers)]
        dynamic = isinstance(getattr(type(target), "reduction", None), property)
        return {"target": number, "type": type(target).__name__, "params": names, "arrays": values,
                "writeable": {key: bool(self.arrays[key].flags.writeable) for _, key in names},
                "methods": methods, "attributes": attributes, "layers": layer_list,
                "reduction_property": dynamic, "builds": builder is not None}

    def _describe_layer(self, number: int, i: int, layer, values: dict, encoder) -> dict | None:
        from gradcheck.targets.layers import LayerView

        if not (callable(_attribute(layer, "forward")) and callable(_attribute(layer, "backward"))):
            return None
        view = LayerView(f"layers[{i}]", layer)  # the parameters found as in one process
        self.views[(number, i)] = view
        return {"type": type(layer).__name__, "arrays": self._layer_params(number, i, view, values, encoder),
                "input_gradient_optional": view.input_gradient is None}

    def _layer_params(self, number: int, i: int, view, values: dict, encoder) -> dict:
        """``name -> key`` of a layer's parameters, registered (their values added to ``values``)."""
        try:
            params = view.params
        except GradcheckError:
            return {}
        keys = {}
        for name, array in params.items():
            if isinstance(array, np.ndarray) and array.dtype.kind in wire.ARRAY_KINDS:
                refuse_file_backed(f"layers[{i}].{name}", array)
                key, value = self.register(array, f"t{number}.l{i}.{name}", encoder)
                keys[str(name)] = key
                if value is not None:
                    values[key] = value
        return keys

    def user(self, call: str, function, *args):
        """``function(*args)``: the target's code; what it raises becomes :class:`UserRaised`."""
        try:
            return function(*args)
        except UserRaised:
            raise
        except GradcheckError:  # an adapter saying the code does not fit: could not check, as in one process
            raise
        except SystemExit as exc:
            raise UserRaised(exit_crash(exc, call)) from None
        except BaseException as exc:  # noqa: BLE001 - everything the target does is reported
            raise UserRaised(crash_of(exc, call)) from None

    def target(self, header: dict):
        number = header.get("target")
        if number not in self.targets:
            raise BadRequest(f"no target {number!r}")
        return self.targets[number]

    def layer(self, header: dict):
        layers = self.layers.get(header.get("target"), [])
        index = header.get("layer")
        if not isinstance(index, int) or not 0 <= index < len(layers):
            raise BadRequest(f"no layer {index!r}")
        return layers[index]

    # -- requests ---------------------------------------------------------------------------------
    def op_hello(self, header, arrays, encoder):
        return {"pid": os.getpid()}

    def op_load(self, header, arrays, encoder):
        """Load the target named by ``spec`` (or the reference network) and describe it."""
        from gradcheck.adapters.function_pairs import offered_layers
        from gradcheck.frontends.session import load_spec
        from gradcheck.targets.loading import module_name
        from gradcheck.targets.protocol import as_target

        spec = header.get("spec")
        dtype = np.dtype(str(header.get("dtype") or "float64"))
        seed = int(header.get("seed") or 0)
        if spec is None:
            from gradcheck.targets.default_target import DefaultTarget, default_target

            builder = lambda dt: DefaultTarget.build(dt, seed=seed)  # noqa: E731
            if header.get("data"):
                return {"description": self.describe(builder(dtype), encoder, builder)}
            default = default_target(batch_size=int(header.get("batch_size") or 64), seed=seed, dtype=dtype)
            return {"description": self.describe(default.target, encoder, builder),
                    "X": encoder.array(default.X), "y": encoder.array(default.y)}
        from gradcheck.targets.builders import dtype_builder

        spec = str(spec)
        obj = load_spec(spec)
        if offered_layers(obj) is not None:  # served as data and requests, checked by the parent
            return {"layers": self.describe_layers(obj, encoder)}
        builder = dtype_builder(obj)
        wanted = header.get("build_dtype")
        built = builder is not None and isinstance(wanted, str)
        # --dtype given: a factory taking dtype= builds the network in it
        target = self.user("build", builder, np.dtype(wanted)) if built else as_target(obj, label=spec)
        where = spec.rpartition(":")[0]
        module = sys.modules.get(module_name(where) if where.endswith(".py") else where)
        source = getattr(module, "__file__", None)
        return {"description": self.describe(target, encoder, builder),
                "source": source if isinstance(source, str) else None, "built": built}

    def op_build(self, header, arrays, encoder):
        builder = self.builders.get(header.get("target"))
        if builder is None:
            raise BadRequest("this target cannot be built in another dtype")
        dtype = np.dtype(str(header.get("dtype")))
        return {"description": self.describe(self.user("build", builder, dtype), encoder, builder)}

    def op_widen(self, header, arrays, encoder):
        """A float64 copy of the target (see targets/widening.py), or why there is none."""
        from gradcheck.targets.widening import widened_copy

        clone, why = widened_copy(self.target(header))
        if clone is None:
            return {"refused": why}
        return {"description": self.describe(clone, encoder)}

    def op_call(self, header, arrays, encoder):
        """``target.<attr>(*args)``, or a layer's ``forward``/``backward`` (and what it left)."""
        attr = header.get("attr")
        args = [wire.decode(a, arrays, cache=self.cache) for a in header.get("args") or []]
        if header.get("layer") is not None:
            layer = self.layer(header)
            if attr not in ("forward", "backward"):
                raise BadRequest(f"a layer's {attr!r}")
            returned = self.user(attr, getattr(layer, attr), *args)
            state = {name: value for name in LAYER_RESULTS
                     if isinstance(value := _attribute(layer, name), np.ndarray)}
            state["grads"] = self._layer_grads(header)
            value = {"returned": encoder.value(returned), "state": encoder.value(state)}
            value["watch"] = self.watch([returned, state], encoder.arrays)
            return value
        target = self.target(header)
        if attr not in CALLABLE:
            raise BadRequest(f"a call of {attr!r}")
        returned = self.user(attr, getattr(target, attr), *args)
        return {"returned": encoder.value(returned), "watch": self.watch(returned, encoder.arrays)}

    def _layer_grads(self, header) -> dict:
        """The gradients a layer's backward left for its parameters (those it left)."""
        view = self.views.get((header.get("target"), header.get("layer")))
        try:
            grads = view.param_grads() if view is not None else {}
        except GradcheckError:
            return {}
        return {str(name): g for name, g in grads.items() if isinstance(g, np.ndarray)}

    def op_learn(self, header, arrays, encoder):
        """Find a layer's parameters by running it on ``X`` (targets/layer_params.py); reply with
        their keys and the values of those not mirrored yet."""
        self.layer(header)
        number, index = header.get("target"), header.get("layer")
        view = self.views.get((number, index))
        X = wire.decode(header.get("X"), arrays, cache=self.cache)
        if view is None or not isinstance(X, np.ndarray):
            raise BadRequest("learning a layer needs the layer and X")
        try:
            view.learn(X, int(header.get("seed") or 0))
        except Exception:  # noqa: BLE001 - check_layer calls the layer again and reports what it raises
            pass
        values: dict = {}
        keys = self._layer_params(number, index, view, values, encoder)
        return {"arrays": keys, "values": values}

    def op_get(self, header, arrays, encoder):
        attr = header.get("attr")
        if attr not in ATTRIBUTES:
            raise BadRequest(f"the attribute {attr!r}")
        return encoder.value(_attribute(self.target(header), attr))

    def op_size(self, header, arrays, encoder):
        from gradcheck.targets.widening import array_bytes

        return array_bytes(self.target(header))

    def op_entries(self, header, arrays, encoder):
        """f(x + h) and f(x - h), entry by entry, each entry restored before the next (as
        :func:`gradcheck.numeric.differences.entry_differences` does in one process)."""
        from gradcheck.checks.evaluation import as_scalar
        from gradcheck.numeric.perturbation import EntryPerturber

        indices, plus, minus = (wire.decode(header.get(name), arrays) for name in ("indices", "plus", "minus"))
        if not all(isinstance(a, np.ndarray) for a in (indices, plus, minus)) \
                or not indices.size == plus.size == minus.size or indices.dtype.kind not in "iu":
            raise BadRequest("entries need indices, plus and minus arrays of one size")
        call, evaluate, array = self._function(header, arrays)
        if plus.dtype != array.dtype or minus.dtype != array.dtype or \
                (indices.size and (indices.min() < 0 or indices.max() >= array.size)):
            raise BadRequest("entries of another dtype, or outside the array")
        perturber = EntryPerturber(array)
        target = perturber.target
        originals = perturber.read(indices)
        f_plus = np.empty(indices.size)
        f_minus = np.empty(indices.size)
        stop = None
        for k, (key, up, down, orig) in enumerate(zip(perturber.keys(indices), plus, minus, originals)):
            side, value = "plus", None
            try:
                target[key] = up
                value = self.user(call, evaluate)
                f_plus[k] = as_scalar(value)
                side = "minus"
                target[key] = down
                value = self.user(call, evaluate)
                f_minus[k] = as_scalar(value)
            except UserRaised as raised:
                stop = {"k": k, "side": side, "raised": _plain_crash(raised.crash, encoder)}
            except Exception:  # noqa: BLE001 - not a number: the parent's as_scalar says why
                stop = {"k": k, "side": side, "value": encoder.value(value)}
            finally:
                target[key] = orig
            if stop is not None:
                break
        done = indices.size if stop is None else stop["k"] + (stop["side"] == "minus")
        return {"f_plus": encoder.array(f_plus[:done]), "f_minus": encoder.array(f_minus[:stop["k"] if stop else done]),
                "stop": stop}

    def _function(self, header, arrays):
        """(call name, zero-argument function, the array it perturbs) of an entries request."""
        function = header.get("function")
        if not isinstance(function, dict):
            raise BadRequest("entries without a function")
        perturb = header.get("perturb")
        kind = function.get("kind")
        if kind == "loss":
            target = self.target(function)
            X, y = (wire.decode(a, arrays, cache=self.cache) for a in function.get("args") or [None, None])
            loss = target.loss
            evaluate = lambda: loss(X, y)  # noqa: E731
            return "loss", evaluate, self._perturbed(perturb, None)
        if kind == "projection":
            layer = self.layer(function)
            X = wire.decode(function.get("X"), arrays, cache=self.cache)
            dY = wire.decode(function.get("dY"), arrays, cache=self.cache)
            if not isinstance(X, np.ndarray) or not isinstance(dY, np.ndarray):
                raise BadRequest("a projection needs X and dY")
            forward = layer.forward

            def evaluate():
                out = forward(X)
                out = getattr(layer, "output", None) if out is None else out
                return float(np.sum(np.asarray(np.ascontiguousarray(out), dtype=np.float64) * dY))

            return "forward", evaluate, self._perturbed(perturb, X)
        if kind == "layer" and perturb == "argument":
            return self.layer_projection(function, arrays)
        raise BadRequest(f"a function of kind {kind!r}")

    def _perturbed(self, perturb, argument):
        if perturb == "argument" and argument is not None:
            return argument
        if isinstance(perturb, str) and perturb in self.arrays:
            return self.arrays[perturb]
        raise BadRequest(f"nothing to perturb at {perturb!r}")


# -- changes of mirrored arrays -------------------------------------------------------------------------


def _unsigned(array: np.ndarray) -> np.ndarray:
    """The bytes of a C-contiguous ``array``, one unsigned integer (or byte row) per entry."""
    flat = array.reshape(-1)
    size = array.dtype.itemsize
    if size in (1, 2, 4, 8):
        return flat.view(f"u{size}")
    return flat.view(np.uint8).reshape(flat.size, size)


def same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(_unsigned(np.ascontiguousarray(a)), _unsigned(np.ascontiguousarray(b)))


def changed_entries(current: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Flat indices of the entries of ``current`` whose bits differ from ``before``'s."""
    now, then = _unsigned(np.ascontiguousarray(current)), _unsigned(np.ascontiguousarray(before))
    differ = now != then
    return np.flatnonzero(differ if differ.ndim == 1 else differ.any(axis=1))


def describe_change(live: np.ndarray, synced: np.ndarray, out: list) -> dict | None:
    """The change from ``synced`` to ``live`` as a sync item (arrays appended to ``out``), or None."""
    if same_bytes(live, synced):
        return None
    at = changed_entries(live, synced)
    if at.size * 4 < live.size:
        out.append(at.astype(np.int64))
        out.append(np.ascontiguousarray(live).reshape(-1)[at])
        return {"at": len(out) - 2, "values": len(out) - 1}
    out.append(np.array(live, copy=True))
    return {"full": len(out) - 1}


def apply_change(array: np.ndarray, change: dict, arrays: list) -> None:
    """Write a sync item into ``array`` (its shape and dtype checked first)."""
    def item(name):
        index = change.get(name)
        if not isinstance(index, int) or not 0 <= index < len(arrays):
            raise wire.WireError(f"a change whose {name!r} is {index!r}")
        return arrays[index]

    if "full" in change:
        values = item("full")
        if values.shape != array.shape or values.dtype != array.dtype:
            raise wire.WireError(f"a change of shape {values.shape} {values.dtype} to an array of "
                                 f"{array.shape} {array.dtype}")
        np.copyto(array, values)
        return
    at, values = item("at"), item("values")
    if at.ndim != 1 or at.dtype.kind not in "iu" or values.shape != at.shape or values.dtype != array.dtype \
            or (at.size and (at.min() < 0 or at.max() >= array.size)):
        raise wire.WireError("a change to entries outside the array, or of another dtype")
    if array.flags.c_contiguous:
        array.reshape(-1)[at] = values
    else:
        array[np.unravel_index(at, array.shape)] = values


def _arrays_in(value: Any, depth: int = 0) -> list[np.ndarray]:
    if depth > 4:
        return []
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in _arrays_in(v, depth + 1)]
    if isinstance(value, Mapping):
        try:
            return [a for v in list(value.values()) for a in _arrays_in(v, depth + 1)]
        except Exception:  # noqa: BLE001 - a mapping of the user's that cannot be listed
            return []
    return []


# -- memory-mapped parameters --------------------------------------------------------------------------


def replace_file_backed(target) -> None:
    """Swap every writable memory-mapped array reachable from ``target`` (its attributes, its
    lists and dicts, its methods' closures, its module's globals) for an in-memory copy, for good:
    this process is the target's, and ends with the check."""
    from gradcheck.numeric.inmemory import InMemory

    module = sys.modules.get(getattr(type(target), "__module__", ""), None)
    roots = [target]
    if module is not None and not module.__name__.startswith(("gradcheck", "reference_net", "numpy")):
        roots.append(vars(module))
    InMemory(None, *roots).__enter__()


def refuse_file_backed(name: str, array: np.ndarray) -> None:
    from gradcheck.errors import ProtocolError
    from gradcheck.numeric.inmemory import file_backed

    backed = file_backed(array)
    if backed is not None:
        raise ProtocolError(
            f"params[{name!r}] is {backed}, which gradcheck cannot swap for a copy (the network "
            "returns it afresh, or reads it where a copy cannot reach); gradcheck never writes into "
            "a user's files: open it with np.load(path, mmap_mode='c') (copy-on-write) or read it "
            "into memory with np.array(...)")


# -- crashes, errors, warnings -----------------------------------------------------------------------------


def crash_of(exc: BaseException, call: str) -> dict:
    """The data of what the target raised: type, message, its file and line, the arrays there."""
    from gradcheck.targets.usercode import describe

    try:
        crash = describe(exc, call)
        data = {"call": call, "error_type": crash.error_type, "message": crash.message,
                "file": crash.file, "line": crash.line, "function": crash.function,
                "code": crash.code, "shapes": {k: list(v) for k, v in crash.shapes.items()}}
    except Exception:  # noqa: BLE001 - an exception whose str() raises
        data = {"call": call, "error_type": type(exc).__name__, "message": "(its message could not be read)"}
    data["memory"] = isinstance(exc, MemoryError)
    return data


def exit_crash(exc: SystemExit, call: str) -> dict:
    from gradcheck.targets.loading import exit_site

    data = crash_of(exc, call)
    data["exit"] = {"code": exc.code if isinstance(exc.code, (int, str, type(None))) else repr(exc.code),
                    "site": exit_site(exc)}
    return data


def _plain_crash(crash: dict, encoder: wire.Encoder) -> dict:
    """``crash`` with every field JSON can carry and a string where it cannot."""
    plain = {}
    for key, value in crash.items():
        if key == "exit":
            code = value["code"]
            plain[key] = {"code": code if isinstance(code, (int, type(None))) and abs(code or 0) < 2 ** 53
                          else str(code)[:wire.MAX_TEXT], "code_is_text": isinstance(code, str),
                          "site": str(value["site"])[:wire.MAX_TEXT]}
        elif key == "shapes":
            plain[key] = {str(k)[:80]: [int(n) for n in v] for k, v in list(value.items())[:8]}
        elif isinstance(value, (bool, int)) or value is None:
            plain[key] = value
        else:
            plain[key] = str(value)[:wire.MAX_TEXT]
    return plain


def _error(exc: BaseException) -> dict:
    error = {"type": type(exc).__name__, "message": str(exc)[:wire.MAX_TEXT * 2]}
    for name in ("argument", "problem", "fix"):
        value = getattr(exc, name, None)
        if isinstance(value, str):
            error[name] = value[:wire.MAX_TEXT]
    return error


def _warnings(caught: list) -> list:
    seen = []
    for w in caught:
        entry = [w.category.__name__, str(w.message)[:wire.MAX_TEXT]]
        if entry not in seen:
            seen.append(entry)
        if len(seen) >= MAX_WARNINGS:
            break
    return seen


class _errstate:
    """The parent's ``np.errstate`` for one request (invalid entries are ignored)."""

    def __init__(self, state):
        state = state if isinstance(state, dict) else {}
        self.state = {k: (v if v in ERRACTIONS else "warn") for k, v in state.items()
                      if k in ERRSTATE and isinstance(v, str)}

    def __enter__(self):
        self.old = np.seterr(**self.state)

    def __exit__(self, *exc):
        np.seterr(**self.old)


def _attribute(obj, name: str):
    """``getattr(obj, name, None)``, None too when the attribute raises."""
    try:
        return getattr(obj, name, None)
    except Exception:  # noqa: BLE001 - a property of the user's that raises
        return None


def serve(sock, *, limit: int = wire.MAX_MESSAGE) -> None:
    """Answer requests on ``sock`` until the parent closes it; then end this process."""
    try:
        Server(sock, limit=limit).loop()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


__all__ = ["Server", "serve", "METHODS", "ATTRIBUTES", "same_bytes", "changed_entries",
           "describe_change", "apply_change"]
