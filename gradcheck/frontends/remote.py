"""The checking process's side of a target that runs in a child: a proxy that follows the protocol.

:class:`ProxyTarget` has ``params`` (this process's own copies of the target's arrays),
``loss(X, y)``, ``gradients(X, y)``, and whichever optional functions and attributes the target
has (``forward``, ``softmax``, ``layers``, ``layout``...); each call is a request to the child
(:mod:`gradcheck.frontends.sandbox`). The whole engine runs on it unchanged, here: every check,
diagnosis and verdict is computed in this process, from numbers the child sends, so patching
gradcheck inside the child changes nothing decided here.

What one process gets for free is carried over the wire: an entry the engine moves in a
parameter here is moved in the child before the next call; an array the target writes into (a
loss that updates its weights) is written here too; a gradient buffer the target overwrites
later changes here too; RuntimeWarnings raised there are raised here, under the NumPy error
state set here; an exception raised there is raised here as an exception of the same type's name
carrying where it happened (:attr:`remote_crash`), so
:func:`gradcheck.targets.usercode.call_user` reports the user's file and line.

Loss values at many points cross in one round trip (:meth:`RemoteLoss.entry_values`): the
entry-wise differences of a whole parameter are one request per 256 entries, not two per entry.
"""

from __future__ import annotations

import builtins
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from gradcheck.errors import (
    GradcheckError,
    InvalidArgumentError,
    ProtocolError,
    TargetError,
    TargetLoadError,
    UserCodeError,
)
from gradcheck.frontends import wire
from gradcheck.frontends.isolation import Child, TargetGone
from gradcheck.frontends.sandbox import ATTRIBUTES, LAYER_RESULTS, apply_change, describe_change
from gradcheck.targets.protocol import OutOfProcess
from gradcheck.targets.usercode import Crash

#: Arrays returned by the target whose later changes are followed here (the child watches as many).
WATCHED = 48


class RemoteError(Exception):
    """An exception the target raised in its own process; ``remote_crash`` says where."""

    remote_crash: Crash


class RemoteExit(SystemExit):
    """A ``sys.exit()`` the target called in its own process; ``remote_site`` says where."""

    remote_crash: Crash
    remote_site: str


_KINDS: dict[tuple[str, bool], type] = {}


def _kind(name: str, memory: bool) -> type:
    """An exception class named ``name``: a RemoteError, and the builtin of that name if any."""
    key = (name, memory)
    if key not in _KINDS:
        bases: list[type] = [RemoteError]
        builtin = getattr(builtins, name, None)
        if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin is not Exception:
            bases.append(builtin)
        if memory and MemoryError not in bases:
            bases.append(MemoryError)
        safe = name if name.isidentifier() and len(name) <= 80 else "RemoteError"
        try:
            _KINDS[key] = type(safe, tuple(bases), {})
        except TypeError:  # builtins whose layouts do not combine
            _KINDS[key] = type(safe, (RemoteError, MemoryError) if memory else (RemoteError,), {})
    return _KINDS[key]


def remote_error(data: Any) -> BaseException:
    """The exception to raise here for the crash data a child sent (WireError if malformed)."""
    if not isinstance(data, dict):
        raise wire.WireError("a crash that is not an object")
    line = data.get("line")
    shapes = data.get("shapes") if isinstance(data.get("shapes"), dict) else {}
    crash = Crash(
        call=wire.text(data.get("call", "")), error_type=wire.text(data.get("error_type", "Exception"), limit=80),
        message=wire.text(data.get("message", "")),
        file=wire.text(data["file"]) if isinstance(data.get("file"), str) else None,
        line=line if isinstance(line, int) and not isinstance(line, bool) else None,
        function=wire.text(data["function"]) if isinstance(data.get("function"), str) else None,
        code=wire.text(data["code"]) if isinstance(data.get("code"), str) else None,
        shapes={wire.text(k, limit=80): tuple(int(n) for n in v) for k, v in list(shapes.items())[:8]
                if isinstance(v, list) and all(isinstance(n, int) for n in v)})
    ending = data.get("exit")
    if isinstance(ending, dict):
        code = ending.get("code")
        if isinstance(code, str) and not ending.get("code_is_text"):
            code = wire.opaque("object", code)
        elif not isinstance(code, (int, str, type(None))) or isinstance(code, bool):
            code = None
        exc: BaseException = RemoteExit(code)
        exc.remote_site = wire.text(ending.get("site", "an unknown place"))
    else:
        memory = data.get("memory") is True
        try:
            exc = _kind(crash.error_type, memory)(crash.message)
        except Exception:  # noqa: BLE001 - a builtin whose constructor wants more arguments
            exc = _kind("RemoteError", memory)(crash.message)
    exc.remote_crash = crash
    return exc


def gradcheck_error(data: Any) -> BaseException:
    """The gradcheck error a child reported (a load error, a protocol error), rebuilt here so it
    reads in this front end's words."""
    if not isinstance(data, dict):
        raise wire.WireError("an error that is not an object")
    kind, message = wire.text(data.get("type", "")), wire.text(data.get("message", ""), limit=2 * wire.MAX_TEXT)
    if kind in ("InvalidArgumentError", "CheckTooSlowError") and isinstance(data.get("argument"), str):
        return InvalidArgumentError(wire.text(data["argument"]), wire.text(data.get("problem", "")),
                                    wire.text(data.get("fix", "")))
    known = {"TargetLoadError": TargetLoadError, "ProtocolError": ProtocolError, "TargetError": TargetError,
             "GradcheckError": GradcheckError}
    if kind in known:
        return known[kind](message)
    if kind == "UserCodeError":
        return UserCodeError(message)
    if kind == "BadRequest":
        raise wire.WireError(f"refused a request: {message}")
    return TargetError(f"{kind}: {message}")


def _category(name: Any) -> type[Warning]:
    kind = getattr(builtins, name, None) if isinstance(name, str) else None
    return kind if isinstance(kind, type) and issubclass(kind, Warning) else UserWarning


# -- the connection ------------------------------------------------------------------------------------


class Connection:
    """Requests to one child, and the arrays this process mirrors (parameters, layer weights)."""

    def __init__(self, child: Child):
        self.child = child
        self.arrays: dict[str, np.ndarray] = {}
        self.synced: dict[str, np.ndarray] = {}
        self._keys: dict[int, str] = {}
        self.watched: dict[int, np.ndarray] = {}
        self.round_trips = 0
        self.sent = wire.SentArrays()
        #: Seconds the last request spent crossing (its wall time here less its time there).
        self.last_overhead = 0.0

    def key_of(self, array: np.ndarray) -> str | None:
        """The key of one of this process's mirrored arrays (by identity), else None."""
        key = self._keys.get(id(array))
        return key if key is not None and self.arrays.get(key) is array else None

    def adopt(self, key: str, values: np.ndarray, writeable: bool = True) -> np.ndarray:
        """This process's array for ``key`` (the existing one for a key seen before)."""
        if key in self.arrays:
            return self.arrays[key]
        array = np.array(values, copy=True)
        if not writeable:
            array.setflags(write=False)
        self.arrays[key] = array
        self.synced[key] = np.array(values, copy=True)
        self._keys[id(array)] = key
        return array

    def known(self, key: str) -> np.ndarray:
        if key not in self.arrays:
            raise wire.WireError(f"a reference to unknown array {key!r}")
        return self.arrays[key]

    def request(self, op: str, fields: dict | None = None, arrays: list | None = None) -> tuple[Any, list]:
        """Send one request; ``(value, arrays)`` of the reply (the value still encoded)."""
        out = list(arrays or [])
        changes = []
        for key, array in self.arrays.items():
            change = describe_change(array, self.synced[key], out)
            if change is not None:
                change["key"] = key
                changes.append(change)
                np.copyto(self.synced[key], array)
        header = {"op": op, **(fields or {}), "sync": changes, "errstate": np.geterr()}
        self.round_trips += 1
        started = time.perf_counter()
        self.child.send(header, out)
        reply, got = self.child.receive()
        wall = time.perf_counter() - started
        try:
            return self._reply(reply, got, wall)
        except wire.WireError as exc:
            self.child.stop()
            self.child.gone = TargetGone("malformed", f"sent a malformed message: {exc}")
            raise self.child.gone from None

    def _reply(self, reply: dict, got: list, wall: float = 0.0) -> tuple[Any, list]:
        ok = wire.field(reply, "ok", bool)
        for change in wire.field(reply, "sync", list):
            key = change.get("key") if isinstance(change, dict) else None
            if key not in self.arrays:
                raise wire.WireError(f"a change to unknown array {key!r}")
            array = self.arrays[key]
            writeable = array.flags.writeable
            array.setflags(write=True)
            try:
                apply_change(array, change, got)
            finally:
                array.setflags(write=writeable)
            apply_change(self.synced[key], change, got)
        for pair in wire.field(reply, "watched", list):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, int) for v in pair)):
                raise wire.WireError("a watched array that is not [handle, index]")
            handle, index = pair
            mine = self.watched.get(handle)
            new = wire._array_at(got, index)
            if mine is not None and mine.shape == new.shape and mine.dtype == new.dtype and mine.flags.writeable:
                np.copyto(mine, new)
        for item in wire.field(reply, "warnings", list)[:100]:
            if isinstance(item, list) and len(item) == 2 and all(isinstance(v, str) for v in item):
                warnings.warn(wire.text(item[1]), _category(item[0]), stacklevel=4)
        seconds = reply.get("seconds")
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < 1e9:
            self.last_overhead = max(0.0, wall - seconds)
        if ok:
            return reply.get("value"), got
        if "raised" in reply:
            raise remote_error(reply["raised"])
        raise gradcheck_error(reply.get("error"))

    def decode(self, value: Any, got: list) -> Any:
        return wire.decode(value, got, self.known)

    def watch(self, pairs: Any, got: list) -> None:
        """Follow the arrays the child watches ([[array index, handle]])."""
        if not isinstance(pairs, list):
            raise wire.WireError("a list of watched arrays that is not a list")
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, int) for v in pair)):
                raise wire.WireError("a watched array that is not [index, handle]")
            self.watched[pair[1]] = wire._array_at(got, pair[0])
        while len(self.watched) > WATCHED:
            del self.watched[min(self.watched)]

    def call(self, number: int, attr: str, args: tuple, layer: int | None = None) -> Any:
        """``attr(*args)`` of target ``number`` (or of its layer ``layer``): the decoded reply."""
        out: list = []
        encoder = wire.Encoder(out, cache=self.sent)
        fields = {"target": number, "attr": attr, "args": [encoder.value(a) for a in args], "layer": layer}
        value, got = self.request("call", fields, out)
        if not isinstance(value, dict):
            raise self._malformed("a call's reply that is not an object")
        try:
            self.watch(value.get("watch", []), got)
            return {name: self.decode(value.get(name), got) for name in ("returned", "state")}
        except wire.WireError as exc:
            raise self._malformed(str(exc)) from None

    def _malformed(self, why: str) -> TargetGone:
        self.child.stop()
        self.child.gone = TargetGone("malformed", f"sent a malformed message: {why}")
        return self.child.gone


# -- proxies -------------------------------------------------------------------------------------------


class RemoteMethod:
    """One function of the target, called in its process."""

    def __init__(self, connection: Connection, number: int, name: str, layer: int | None = None):
        self.connection, self.number, self.__name__, self.layer = connection, number, name, layer

    def __call__(self, *args):
        return self.connection.call(self.number, self.__name__, args, self.layer)["returned"]

    def __repr__(self) -> str:
        return f"<{self.__name__} of a target in another process>"


class ProxyTarget(OutOfProcess):
    """A target in another process, as the engine sees it (built by :func:`proxy_for`)."""

    def __init__(self, connection: Connection, description: dict, *, label: str = "target"):
        self._connection = connection
        self._number = wire.field(description, "target", int)
        self._label = label
        arrays = wire.field(description, "arrays", dict)
        writeable = wire.field(description, "writeable", dict)
        self.params = {}
        for pair in wire.field(description, "params", list):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair)):
                raise wire.WireError("a parameter entry that is not [name, key]")
            name, key = pair
            values = arrays.get(key)
            self.params[name] = connection.known(key) if values is None else connection.adopt(
                key, values, writeable.get(key, True) is not False)
        self._methods = {m for m in wire.field(description, "methods", list) if isinstance(m, str)}
        self._attributes = wire.field(description, "attributes", dict)
        self._builds = wire.field(description, "builds", bool)
        self._layer_list = description.get("layers")
        self._layers: list = []

    # the protocol --------------------------------------------------------------------------------
    def loss(self, X, y):
        return self._connection.call(self._number, "loss", (X, y))["returned"]

    def gradients(self, X, y):
        return self._connection.call(self._number, "gradients", (X, y))["returned"]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._methods:
            return RemoteMethod(self._connection, self._number, name)
        if name in self._attributes:
            return self._attributes[name]
        if name == "layers" and self._layer_list is not None:
            return self._layers
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    # what a process of its own gives for free ---------------------------------------------------------
    def bound_loss(self, X, y) -> RemoteLoss:
        return RemoteLoss(self, X, y)

    def widened(self):
        value, got = self._connection.request("widen", {"target": self._number})
        if isinstance(value, dict) and isinstance(value.get("refused"), str):
            return None, wire.text(value["refused"])
        return _proxy(self._connection, value, got, f"{self._label} (float64)"), ""

    def array_bytes(self) -> int:
        value, _ = self._connection.request("size", {"target": self._number})
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def build(self, dtype) -> ProxyTarget:
        """The same network built in ``dtype`` where it runs (the factory takes ``dtype``)."""
        value, got = self._connection.request("build", {"target": self._number, "dtype": np.dtype(dtype).name})
        return _proxy(self._connection, value, got, self._label)

    @property
    def builds(self) -> bool:
        return self._builds

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._label} in another process>"


class EntryValues:
    """``entry_values(array, indices, plus, minus)`` of a function evaluated in another process:
    ``(f_plus, f_minus, stop)`` for the entries of ``array`` set to each value in turn, or None
    when ``array`` is not one the function can move there (see
    :meth:`gradcheck.checks.evaluation.LossEvaluator.entry_values`)."""

    def __init__(self, connection: Connection, function: Callable, call: str):
        self.connection, self.function, self.call = connection, function, call

    def __call__(self, array: np.ndarray, indices, plus, minus):
        out: list = []
        encoder = wire.Encoder(out, cache=self.connection.sent)
        described = self.function(array, encoder)
        if described is None:
            return None
        function, perturb = described
        return _entries(self.connection, function, perturb, indices, plus, minus, out, self.call)

    def overhead(self) -> float:
        """What the last call spent crossing between the processes: a call in a batch of entries
        does not pay it."""
        return self.connection.last_overhead


class RemoteLoss:
    """``loss(X, y)`` of a target in another process, also at many perturbed points at once."""

    def __init__(self, target: ProxyTarget, X, y):
        self.target, self.X, self.y = target, X, y
        self.entry_values = EntryValues(target._connection, self._function, "loss")

    def __call__(self):
        return self.target.loss(self.X, self.y)

    def _function(self, array, encoder):
        key = self.target._connection.key_of(array)
        if key is None:
            return None
        return {"kind": "loss", "target": self.target._number,
                "args": [encoder.value(self.X), encoder.value(self.y)]}, key


class EntryStop:
    """Where a batch of entries stopped: the k-th entry's call raised, or returned no number."""

    def __init__(self, k: int, error: BaseException | None, value: Any, call: str):
        self.k, self.error, self.value, self.call = k, error, value, call

    def raise_for(self, evaluator) -> None:
        """Raise what the loop in one process would have raised at this call."""
        from gradcheck.checks.evaluation import as_scalar
        from gradcheck.targets.usercode import call_user

        if self.error is not None:
            def reraise():
                raise self.error

            call_user(reraise, call=evaluator.call_name,
                      during=lambda: f"call {evaluator.calls}, {evaluator.describe()}")
        as_scalar(self.value)
        raise TargetGone("malformed", "said a loss value was refused that is a number")


def _entries(connection: Connection, function: dict, perturb: str, indices, plus, minus, out: list, call: str):
    encoder = wire.Encoder(out)
    fields = {"function": function, "perturb": perturb,
              "indices": encoder.array(np.asarray(indices, dtype=np.int64)),
              "plus": encoder.array(plus), "minus": encoder.array(minus)}
    value, got = connection.request("entries", fields, out)
    try:
        if not isinstance(value, dict):
            raise wire.WireError("an entries reply that is not an object")
        f_plus = wire.decode(value.get("f_plus"), got)
        f_minus = wire.decode(value.get("f_minus"), got)
        stop = value.get("stop")
        if not (isinstance(f_plus, np.ndarray) and isinstance(f_minus, np.ndarray)
                and f_plus.dtype == np.float64 and f_minus.dtype == np.float64
                and f_plus.ndim == f_minus.ndim == 1):
            raise wire.WireError("loss values that are not float64 vectors")
        n = len(indices)
        if stop is None:
            if len(f_plus) != n or len(f_minus) != n:
                raise wire.WireError(f"{len(f_plus)} and {len(f_minus)} loss values for {n} entries")
            return f_plus, f_minus, None
        if not isinstance(stop, dict):
            raise wire.WireError("a stop that is not an object")
        k, side = stop.get("k"), stop.get("side")
        if not (isinstance(k, int) and 0 <= k < n and side in ("plus", "minus")
                and len(f_plus) == k + (side == "minus") and len(f_minus) == k):
            raise wire.WireError("a stop at an entry that does not match the values sent")
        error = remote_error(stop["raised"]) if "raised" in stop else None
        returned = connection.decode(stop.get("value"), got) if error is None else None
        return f_plus, f_minus, EntryStop(k, error, returned, call)
    except wire.WireError as exc:
        raise connection._malformed(str(exc)) from None


class RemoteLayer(OutOfProcess):
    """One layer of a target in another process: ``forward``, ``backward``, its parameters
    (``params``, this process's copies, found there by value) and what backward leaves behind
    (``grads()``, ``dinputs``, ``output``). ``input_gradient_optional``: the layer says its
    backward may return no input gradient (a first layer's face, see
    :mod:`gradcheck.adapters.in_place_layers`)."""

    input_gradient_optional = False

    def __init__(self, connection: Connection, number: int, index: int, arrays: dict,
                 values: dict | None = None):
        self._connection, self._number, self._index = connection, number, index
        self._grads: dict = {}
        self.params: dict = {}
        self._adopt(arrays, values or {})

    def _adopt(self, arrays: dict, values: dict) -> None:
        params = {}
        for name, key in arrays.items():
            value = values.get(key)
            params[name] = self._connection.known(key) if value is None else self._connection.adopt(key, value)
        self.params = params

    def grads(self) -> dict:
        """The gradients the last backward left for the parameters."""
        return {name: g for name, g in self._grads.items() if name in self.params}

    def learn_params(self, X: np.ndarray, seed: int = 0) -> None:
        """Find the parameters by running the layer on ``X`` in its process."""
        out: list = []
        encoder = wire.Encoder(out, cache=self._connection.sent)
        value, got = self._connection.request("learn", {"target": self._number, "layer": self._index,
                                                        "X": encoder.value(X), "seed": int(seed)}, out)
        try:
            if not isinstance(value, dict) or not isinstance(value.get("arrays"), dict) \
                    or not isinstance(value.get("values"), dict):
                raise wire.WireError("a layer's parameters described by something that is not an object")
            arrays = {name: key for name, key in value["arrays"].items()
                      if isinstance(name, str) and isinstance(key, str)}
            values = {key: _array(self._connection.decode(v, got)) for key, v in value["values"].items()}
            self._adopt(arrays, values)
        except wire.WireError as exc:
            raise self._connection._malformed(str(exc)) from None

    def _call(self, method: str, argument):
        reply = self._connection.call(self._number, method, (argument,), layer=self._index)
        state = reply["state"] if isinstance(reply["state"], dict) else {}
        for name in LAYER_RESULTS:
            if isinstance(state.get(name), np.ndarray):
                setattr(self, name, state[name])
        grads = state.get("grads")
        if isinstance(grads, dict):
            self._grads = {str(n): g for n, g in grads.items() if isinstance(g, np.ndarray)}
        return reply["returned"]

    def forward(self, X):
        return self._call("forward", X)

    def backward(self, dY):
        return self._call("backward", dY)

    def projection(self, X: np.ndarray, dY: np.ndarray) -> EntryValues:
        """``entry_values`` of ``sum(forward(X) * dY)``, moving entries of X or of a weight."""

        def function(array, encoder):
            perturb = "argument" if array is X else self._connection.key_of(array)
            if perturb is None:
                return None
            return {"kind": "projection", "target": self._number, "layer": self._index,
                    "X": encoder.value(X), "dY": encoder.value(np.asarray(dY))}, perturb

        return EntryValues(self._connection, function, "forward")


_CLASSES: dict[tuple[type, str, bool], type] = {}


def _named(base: type, name: str, dynamic_reduction: bool = False) -> type:
    """A subclass of ``base`` called like the target's own class (messages name it)."""
    safe = name if isinstance(name, str) and name.isidentifier() and len(name) <= 80 else base.__name__
    key = (base, safe, dynamic_reduction)
    if key not in _CLASSES:
        namespace: dict = {}
        if dynamic_reduction:
            def reduction(self):
                value, got = self._connection.request("get", {"target": self._number, "attr": "reduction"})
                return self._connection.decode(value, got)

            namespace["reduction"] = property(reduction)
        _CLASSES[key] = type(safe, (base,), namespace)
    return _CLASSES[key]


def _proxy(connection: Connection, value: Any, got: list, label: str) -> ProxyTarget:
    """The proxy of a target the child just described (a load, build or widen reply)."""
    try:
        if not isinstance(value, dict) or not isinstance(value.get("description"), dict):
            raise wire.WireError("a target described by something that is not an object")
        description = dict(value["description"])
        description["arrays"] = {key: _array(connection.decode(v, got))
                                 for key, v in wire.field(description, "arrays", dict).items()}
        description["attributes"] = {name: connection.decode(v, got)
                                     for name, v in wire.field(description, "attributes", dict).items()
                                     if isinstance(name, str)}
        kind = _named(ProxyTarget, description.get("type"), description.get("reduction_property") is True)
        target = kind(connection, description, label=label)
        layers = description.get("layers")
        if layers is not None:
            if not isinstance(layers, list):
                raise wire.WireError("layers that are not a list")
            built = []
            for i, layer in enumerate(layers):
                if layer is None:
                    built.append(wire.opaque("object", "<a layer without forward and backward>"))
                    continue
                if not isinstance(layer, dict) or not isinstance(layer.get("arrays"), dict):
                    raise wire.WireError("a layer described by something that is not an object")
                arrays = {name: key for name, key in layer["arrays"].items()
                          if isinstance(name, str) and isinstance(key, str)}
                remote = _named(RemoteLayer, layer.get("type"))(connection, target._number, i, arrays,
                                                                description["arrays"])
                remote.input_gradient_optional = layer.get("input_gradient_optional") is True
                built.append(remote)
            target._layers = built
        return target
    except wire.WireError as exc:
        raise connection._malformed(str(exc)) from None


def _array(value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise wire.WireError("a parameter that is not an array")
    return value


def load(connection: Connection, *, spec: str | None, label: str, batch_size: int | None, seed: int,
         dtype: str, data: bool, build_dtype: str | None = None) -> tuple[Any, dict]:
    """Load ``spec`` (None: the reference network) in the child: its proxy (or, for function-pair
    layers, a FunctionLayers whose functions run there), and the rest of the reply (``X`` and
    ``y`` of the reference network's batch, the target's ``source``, and ``built``: whether a
    factory taking ``dtype`` was called with ``build_dtype``)."""
    value, got = connection.request("load", {"spec": spec, "batch_size": batch_size, "seed": seed,
                                             "dtype": dtype, "data": data, "build_dtype": build_dtype})
    if isinstance(value, dict) and "layers" in value:  # function-pair layers: their functions are requests
        from gradcheck.frontends.remote_layers import layers_from

        return layers_from(connection, value, got), {"source": None}
    target = _proxy(connection, value, got, label)
    extra = {}
    try:
        for name in ("X", "y"):
            if name in value:
                extra[name] = _array(connection.decode(value[name], got))
        source = value.get("source")
        extra["source"] = wire.text(source) if isinstance(source, str) else None
        extra["built"] = value.get("built") is True
    except wire.WireError as exc:
        raise connection._malformed(str(exc)) from None
    return target, extra


__all__ = ["Connection", "ProxyTarget", "RemoteLayer", "RemoteLoss", "RemoteError", "RemoteExit",
           "load", "ATTRIBUTES"]
