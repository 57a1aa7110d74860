"""Function-pair layers of a file loaded in a child, as this process checks them.

The child describes each layer as data (:mod:`gradcheck.frontends.served_layers`); here each
becomes an ordinary :class:`~gradcheck.adapters.function_pairs.FunctionLayer` whose forward and
backward are :class:`RemoteFunction` objects: calling one is a request. They carry what the
check reads from a function in one process: ``__name__``, a ``__signature__`` (so
``inspect.signature`` reads the user's parameters) and the names the last ``return`` lists. So
:func:`gradcheck.checks.function_layers.check_one_layer` runs on them unchanged, with the same
:class:`~gradcheck.adapters.layer_problem.LayerProblem`, and every verdict is computed here.

A forward returns its outputs and a :class:`RemoteCache`, a handle to the cache kept in the child
with the float dtypes it holds (the precision rule reads them). :meth:`RemoteFunction.projection`
gives the problem's loss an ``entry_values``: the finite differences of an argument in batches
of entries per round trip, like a network's.
"""

from __future__ import annotations

import inspect

import numpy as np

from gradcheck.frontends import wire
from gradcheck.targets.protocol import OutOfProcess

#: The parameter kinds a signature may have, by name.
_KINDS = {kind.name: kind for kind in inspect._ParameterKind}  # noqa: SLF001 - the enum inspect exposes
#: A default the parent does not need to know, only that there is one.
_DEFAULT = wire.opaque("object", "<a default value>")


class RemoteCache(OutOfProcess):
    """A forward's cache, kept in the child; ``dtypes`` are the float dtypes of its arrays."""

    __slots__ = ("handle", "dtypes", "args")

    def __init__(self, handle: int, dtypes: list[np.dtype], args: tuple):
        self.handle, self.dtypes, self.args = handle, dtypes, args

    def __repr__(self) -> str:
        return "<a cache kept in another process>"


class RemoteFunction(OutOfProcess):
    """A layer's forward or backward, called in the child that loaded it.

    Shared, never copied (as Python copies functions): the float64 copy of a layer's problem
    calls the same code on float64 arguments.
    """

    __slots__ = ("_connection", "_number", "_index", "_role", "_signature", "returned_names", "__name__")

    def __init__(self, connection, number: int, index: int, role: str, facts: dict):
        self._connection, self._number, self._index, self._role = connection, number, index, role
        name = facts.get("name")
        self.__name__ = wire.text(name, limit=200) if isinstance(name, str) else role
        self._signature = _signature(facts.get("parameters"))
        returned = facts.get("returned")
        if returned is not None and not (isinstance(returned, list) and all(isinstance(n, str) for n in returned)):
            raise wire.WireError("returned names that are not a list of names")
        self.returned_names = None if returned is None else [wire.text(n, limit=200) for n in returned]

    @property
    def __signature__(self) -> inspect.Signature:
        if self._signature is None:  # as inspect says of a function whose signature cannot be read
            raise ValueError(f"no signature found for {self.__name__}")
        return self._signature

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    def __repr__(self) -> str:
        return f"<{self._role} {self.__name__} in another process>"

    def __call__(self, *args):
        out: list = []
        encoder = wire.Encoder(out, cache=self._connection.sent)
        fields = {"target": self._number, "layer": self._index}
        if self._role == "forward":
            fields["args"] = [encoder.value(a) for a in args]
            fields["random"] = encoder.value(np.random.get_state())  # noqa: NPY002 - the caller seeded it
            written_into = args
        else:
            if not args or not isinstance(args[-1], RemoteCache):
                raise TypeError(f"{self.__name__} takes the cache its forward returned, last")
            cache = args[-1]
            fields["args"] = [encoder.value(a) for a in args[:-1]]
            fields["cache"] = cache.handle
            written_into = cache.args
        value, got = self._connection.request(f"layer_{self._role}", fields, out)
        try:
            if not isinstance(value, dict):
                raise wire.WireError("a layer call's reply that is not an object")
            _write(written_into, value.get("written"), got)
            if "cache" not in value:
                return self._connection.decode(value.get("returned"), got)
            outputs = self._connection.decode(value.get("outputs"), got)
            handle, dtypes = value.get("cache"), value.get("dtypes")
            if not (isinstance(outputs, tuple) and isinstance(handle, int) and isinstance(dtypes, list)
                    and all(isinstance(d, str) for d in dtypes)):
                raise wire.WireError("a forward's outputs and cache that do not fit")
            return (*outputs, RemoteCache(handle, [wire.checked_dtype(np.dtype(d)) for d in dtypes], args))
        except (wire.WireError, TypeError) as exc:
            raise self._connection._malformed(str(exc)) from None

    def projection(self, problem):
        """``entry_values`` of ``problem.loss`` (a LayerProblem of this forward's layer): the loss
        at many entries of one argument per request, evaluated where the layer runs."""
        from gradcheck.frontends.remote import EntryValues

        def function(array, encoder):
            args = problem.call_arguments()
            at = _position(args, array)
            if at is None or problem.douts is None:
                return None
            return {"kind": "layer", "target": self._number, "layer": self._index,
                    "args": [encoder.value(a) for a in args], "douts": [encoder.value(d) for d in problem.douts],
                    "seed": problem.seed, "at": at}, "argument"

        return EntryValues(self._connection, function, "forward")


def _position(args: list, array: np.ndarray) -> list | None:
    """``[position, None]`` of ``array`` among ``args``, ``[position, key]`` inside a dict
    argument, or None."""
    for i, value in enumerate(args):
        if value is array:
            return [i, None]
        if isinstance(value, dict):
            for key, item in value.items():
                if item is array and isinstance(key, str):
                    return [i, key]
    return None


def _write(args, written, got: list) -> None:
    """Write what the child's code wrote into its copies of ``args`` into this process's arrays."""
    if not isinstance(written, list):
        raise wire.WireError("written arguments that are not a list")
    for item in written:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], int)
                and 0 <= item[0] < len(args) and (item[1] is None or isinstance(item[1], str))):
            raise wire.WireError("a written argument that is not [position, key, array]")
        position, key, index = item
        target = args[position] if key is None else (
            args[position].get(key) if isinstance(args[position], dict) else None)
        values = wire._array_at(got, index)  # noqa: SLF001 - the wire's own bounds check
        if isinstance(target, np.ndarray) and target.shape == values.shape and target.flags.writeable:
            np.copyto(target, values, casting="unsafe")


def _signature(parameters) -> inspect.Signature | None:
    if parameters is None:
        return None
    if not isinstance(parameters, list):
        raise wire.WireError("a signature that is not a list")
    built = []
    for item in parameters:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
                and item[1] in _KINDS and isinstance(item[2], bool)):
            raise wire.WireError("a parameter that is not [name, kind, has a default]")
        try:
            built.append(inspect.Parameter(item[0], _KINDS[item[1]],
                                           default=_DEFAULT if item[2] else inspect.Parameter.empty))
        except (TypeError, ValueError) as exc:
            raise wire.WireError(f"a parameter that cannot be: {exc}") from None
    try:
        return inspect.Signature(built)
    except (TypeError, ValueError) as exc:
        raise wire.WireError(f"a signature that cannot be: {exc}") from None


def layers_from(connection, value: dict, got: list):
    """The FunctionLayers a load reply describes, their functions requests to the child."""
    from gradcheck.adapters.function_pairs import FunctionLayer, FunctionLayers

    try:
        described = value.get("layers")
        if not isinstance(described, dict):
            raise wire.WireError("layers described by something that is not an object")
        number = wire.field(described, "target", int)
        layers = []
        for i, layer in enumerate(wire.field(described, "layers", list)):
            if not isinstance(layer, dict):
                raise wire.WireError("a layer described by something that is not an object")
            name, fixed, layout = layer.get("name"), layer.get("fixed"), layer.get("layout")
            if not (isinstance(name, str) and isinstance(fixed, list) and all(isinstance(f, str) for f in fixed)
                    and layout in (None, "rows", "columns") and isinstance(layer.get("forward"), dict)
                    and (layer.get("backward") is None or isinstance(layer["backward"], dict))):
                raise wire.WireError("a layer that is not [name, fixed, layout, forward, backward]")
            args = layer.get("args")
            if args is not None:
                if not (isinstance(args, list) and all(isinstance(p, list) and len(p) == 2
                                                       and isinstance(p[0], str) for p in args)):
                    raise wire.WireError("a layer's arguments that are not [name, value] pairs")
                args = {wire.text(k, limit=200): connection.decode(v, got) for k, v in args}
            forward = RemoteFunction(connection, number, i, "forward", layer["forward"])
            backward = None if layer["backward"] is None else RemoteFunction(
                connection, number, i, "backward", layer["backward"])
            layers.append(FunctionLayer(wire.text(name, limit=200), forward, backward, args,
                                        tuple(wire.text(f, limit=200) for f in fixed), layout))
        origin = described.get("origin")
        return FunctionLayers(layers, wire.text(origin) if isinstance(origin, str) else "")
    except wire.WireError as exc:
        raise connection._malformed(str(exc)) from None


__all__ = ["RemoteCache", "RemoteFunction", "layers_from"]
