"""Function-pair layers served from the child: what the parent needs to check them, as data.

A file checked as function-pair layers (``layers.py:conv``, ``layers.py:*``) is loaded here, in
the child, like any target. Each layer is described as plain data (its name, fixed arguments,
layout, the user's own arguments if it has any, and for its forward and backward the name, the
signature's parameters and the names its last ``return`` lists); the parent builds a
:class:`~gradcheck.adapters.function_pairs.FunctionLayer` from it whose functions are requests
(:mod:`gradcheck.frontends.remote_layers`), and checks it with the same
:class:`~gradcheck.adapters.layer_problem.LayerProblem` as in one process.

A forward's cache stays here: the parent gets its outputs and a handle to it, and passes the
handle to the backward. Arrays the forward (or the backward, through the cache) writes into are
reported back, so the parent's own arrays change as they would in one process. The finite
differences of one argument cross in batches (``entries`` with a function of kind ``layer``):
``sum_k sum(out_k * dout_k)``, or a loss layer's loss, at many perturbed entries per request.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np

from gradcheck.frontends import wire

#: Forward caches kept for a backward to come; the oldest is dropped first.
KEPT_CACHES = 8


def facts(function) -> dict:
    """What the parent reads from a forward or backward: its name, its signature's parameters
    (``[name, kind, has a default]``, None when there is no signature) and the names its last
    ``return`` lists (None when they are not all names)."""
    from gradcheck.adapters.function_pairs import returned_names, signature_parameters

    name = getattr(function, "__name__", None)
    parameters = signature_parameters(function)
    return {"name": name if isinstance(name, str) else None,
            "parameters": None if parameters is None else
            [[p.name, p.kind.name, p.default is not p.empty] for p in parameters],
            "returned": returned_names(function)}


def _arrays_of(args: list) -> list[tuple[int, str | None, np.ndarray]]:
    """``(position, key, array)`` of every array argument, and of every array in a dict argument."""
    found = []
    for i, value in enumerate(args):
        if isinstance(value, np.ndarray):
            found.append((i, None, value))
        elif isinstance(value, dict):
            found += [(i, key, item) for key, item in value.items()
                      if isinstance(key, str) and isinstance(item, np.ndarray)]
    return found


class Written:
    """The arrays among a call's arguments, to report which of them the user's code wrote into."""

    def __init__(self, args: list):
        self.arrays = [[i, key, array, array.copy()] for i, key, array in _arrays_of(args)]

    def changes(self, encoder: wire.Encoder) -> list:
        """``[[position, key, array index], ...]`` for each argument array that changed since the
        last time this was asked."""
        from gradcheck.frontends.sandbox import same_bytes

        out = []
        for entry in self.arrays:
            i, key, array, before = entry
            if array.shape == before.shape and array.dtype == before.dtype and same_bytes(array, before):
                continue
            out.append([i, key, encoder.array(np.array(array, copy=True))["$array"]])
            entry[3] = array.copy()
        return out


def _random_state(value):
    """NumPy's legacy global random state the parent had at the call, checked."""
    from gradcheck.frontends.sandbox import BadRequest

    if not (isinstance(value, tuple) and len(value) == 5 and value[0] == "MT19937"
            and isinstance(value[1], np.ndarray) and value[1].shape == (624,)):
        raise BadRequest("a random state that is not NumPy's MT19937 state")
    return value


class LayerOps:
    """The requests of a target made of function-pair layers (a mixin of the sandbox's Server)."""

    def describe_layers(self, layers, encoder: wire.Encoder) -> dict:
        """Register ``layers`` (a FunctionLayers) and describe each as data."""
        number = len(self.targets)
        self.targets[number] = layers
        self.builders[number] = None
        self.function_layers[number] = list(layers.function_layers)
        described = []
        for layer in layers.function_layers:
            args = None if layer.args is None else [[str(k), encoder.value(v)] for k, v in layer.args.items()]
            described.append({
                "name": layer.name, "fixed": [str(f) for f in layer.fixed], "layout": layer.layout,
                "args": args, "forward": facts(layer.forward),
                "backward": None if layer.backward is None else facts(layer.backward)})
        origin = layers.origin
        return {"target": number, "origin": origin if isinstance(origin, str) else "", "layers": described}

    def function_layer(self, header: dict):
        from gradcheck.frontends.sandbox import BadRequest

        layers = self.function_layers.get(header.get("target"), [])
        index = header.get("layer")
        if not isinstance(index, int) or not 0 <= index < len(layers):
            raise BadRequest(f"no function-pair layer {index!r}")
        return layers[index]

    def keep_cache(self, cache, args: list) -> int:
        self.next_handle += 1
        self.caches[self.next_handle] = (cache, args, Written(args))
        while len(self.caches) > KEPT_CACHES:
            self.caches.popitem(last=False)
        return self.next_handle

    def op_layer_forward(self, header, arrays, encoder):
        """A layer's forward on the parent's arguments, under the parent's random state: its
        outputs and a handle to its cache (with the float dtypes the cache holds), or what it
        returned when that is not ``(out..., cache)``; and the arguments it wrote into."""
        from gradcheck.adapters.layer_problem import cached_arrays

        layer = self.function_layer(header)
        args = self.arguments(header, arrays)
        state = _random_state(wire.decode(header.get("random"), arrays))
        written = Written(args)
        # this process's random state is the user's alone: set before each call, never put back
        np.random.set_state(state)  # noqa: NPY002 - the state LayerProblem.run_forward seeded
        returned = self.user("forward", layer.forward, *args)
        if layer.is_loss or not (isinstance(returned, tuple) and len(returned) >= 2):
            value = {"returned": encoder.value(tuple(returned) if isinstance(returned, tuple) else returned)}
        else:
            try:
                dtypes = sorted({a.dtype.name for a in cached_arrays(returned[-1])})
            except Exception:  # noqa: BLE001 - a cache of the user's that cannot be searched
                dtypes = []
            value = {"outputs": encoder.value(tuple(returned[:-1])), "cache": self.keep_cache(returned[-1], args),
                     "dtypes": dtypes}
        value["written"] = written.changes(encoder)
        return value

    def op_layer_backward(self, header, arrays, encoder):
        """A layer's backward on the parent's upstream gradients and the cache of a forward
        kept here; and what it wrote into that forward's arguments."""
        from gradcheck.frontends.sandbox import BadRequest

        layer = self.function_layer(header)
        kept = self.caches.get(header.get("cache"))
        if kept is None or layer.backward is None:
            raise BadRequest("a backward without the cache of a forward kept here")
        cache, forward_args, written = kept
        douts = self.arguments(header, arrays)
        returned = self.user("backward", layer.backward, *douts, cache)
        return {"returned": encoder.value(returned), "written": written.changes(encoder)}

    def arguments(self, header, arrays) -> list:
        from gradcheck.frontends.sandbox import BadRequest

        args = wire.decode(header.get("args"), arrays, cache=self.cache)
        if not isinstance(args, list):
            raise BadRequest("arguments that are not a list")
        return args

    def layer_projection(self, function: dict, arrays: list):
        """``("forward", evaluate, array)`` of an entries request of kind ``layer``: evaluate is
        ``sum_k sum(out_k * dout_k)`` of the forward (a loss layer's loss) on the arguments with
        ``array`` (argument ``at``, or a dict argument's key) moved by the entries."""
        from gradcheck.adapters.layer_problem import projected
        from gradcheck.frontends.sandbox import BadRequest

        layer = self.function_layer(function)
        args = self.arguments(function, arrays)
        douts = wire.decode(function.get("douts"), arrays, cache=self.cache)
        seed = function.get("seed")
        at = function.get("at")
        if not (isinstance(seed, int) and 0 <= seed < 2 ** 32):
            raise BadRequest(f"a seed {seed!r} that NumPy's global random state does not take")
        if not (isinstance(douts, list) and all(isinstance(d, np.ndarray) for d in douts)):
            raise BadRequest("upstream gradients that are not a list of arrays")
        if not (isinstance(at, list) and len(at) == 2 and isinstance(at[0], int) and 0 <= at[0] < len(args)):
            raise BadRequest(f"an argument to move at {at!r}")
        position, key = at
        holder = args[position]
        array = holder if key is None else holder.get(key) if isinstance(holder, dict) else None
        if not (isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.floating)):
            raise BadRequest(f"argument {at!r} is not a float array")
        forward, is_loss = layer.forward, layer.is_loss

        def fresh(i, value):
            # every call starts from the same arguments, as LayerProblem.call_arguments gives them
            if i != position:
                return copy.deepcopy(value)
            if key is None:
                return array
            return {k: array if k == key else copy.deepcopy(v) for k, v in value.items()}

        def evaluate():
            call = [fresh(i, value) for i, value in enumerate(args)]
            np.random.seed(seed)  # noqa: NPY002 - as LayerProblem.run_forward seeds each call
            return projected(forward(*call), douts, is_loss)

        return "forward", evaluate, array


def new_state() -> dict:
    """The attributes :class:`LayerOps` keeps on the server."""
    return {"function_layers": {}, "caches": OrderedDict()}


__all__ = ["LayerOps", "facts", "new_state", "KEPT_CACHES"]
