"""One function-pair layer on fixed arguments, ready to check: the live arrays, the calls, the
upstream gradients, and which argument each gradient the backward returns is for.

:class:`LayerProblem` is what :func:`gradcheck.checks.function_layers.check_function_layer`
checks; it satisfies the target protocol (``params``, ``loss(X, y)``, ``gradients(X, y)``, the
batch ignored), so the float64 re-check of a float32 layer copies it like a network.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from gradcheck.adapters.function_pairs import (
    FunctionLayer,
    required_parameters,
    returned_names,
    signature_parameters,
)
from gradcheck.errors import InvalidArgumentError
from gradcheck.targets.protocol import OutOfProcess
from gradcheck.targets.trees import match_gradient_name
from gradcheck.targets.usercode import call_user

#: The deepest a cache is searched for the arrays the forward computed.
CACHE_DEPTH = 4


def upstream_count(backward) -> int | None:
    """How many upstream gradients a backward takes: its required arguments before the cache;
    None when its signature does not say (``*args``)."""
    parameters = signature_parameters(backward)
    if parameters is None or any(p.kind == p.VAR_POSITIONAL for p in parameters):
        return None
    required = required_parameters(backward) or []
    return max(len(required) - 1, 1)


def projected(returned, douts: list[np.ndarray], is_loss: bool) -> float:
    """The scalar a layer is checked on, from what its forward returned: ``sum_k sum(out_k *
    dout_k)`` over the outputs the upstream gradients ``douts`` are for (in float64), or a loss
    layer's loss."""
    if is_loss:
        return float(returned[0])
    outs = returned[: len(douts)]
    return float(sum(np.sum(np.asarray(o, dtype=np.float64) * d) for o, d in zip(outs, douts)))


def cached_arrays(cache, depth: int = 0) -> list:
    """The float arrays a cache holds (tuples, lists and dicts searched a few levels deep); for
    a cache kept in another process, the float dtypes it holds."""
    if isinstance(cache, OutOfProcess):
        return list(cache.dtypes)
    if isinstance(cache, np.ndarray):
        return [cache] if np.issubdtype(cache.dtype, np.floating) else []
    if depth >= CACHE_DEPTH:
        return []
    if isinstance(cache, Mapping):
        cache = list(cache.values())
    if isinstance(cache, (tuple, list)):
        return [a for item in cache for a in cached_arrays(item, depth + 1)]
    return []


# -- one layer, ready to check ------------------------------------------------------------------


def is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


def _why_fixed(name: str, value) -> str:
    if isinstance(value, np.ndarray):
        if value.dtype == np.bool_ or "mask" in name.lower():
            return "a mask"
        if np.issubdtype(value.dtype, np.integer):
            return "integer indices"
        if is_float_array(value):
            return "named fixed"
        return f"an array of dtype {value.dtype}"
    if isinstance(value, Mapping):
        return "settings"
    return "a setting"


@dataclass
class Gradients:
    """How a backward's result maps to the checked arguments: ``by_position[i]`` names the i-th
    array of a tuple, ``by_key`` maps a dict's keys; ``notes`` say what a reader should know."""

    by_position: list[str] | None = None
    by_key: dict[str, str] | None = None
    notes: list[str] = field(default_factory=list)


class LayerProblem:
    """One layer on fixed example arguments, seen through the target protocol.

    ``params`` are writeable copies of the checked arrays (the forward reads them on every
    call); ``loss()`` is ``sum_k sum(out_k * dout_k)`` over the outputs the backward takes
    gradients for, with random upstream gradients ``dout_k`` drawn once (a loss layer's loss is
    its own); ``gradients()`` calls the forward and the backward and names what the backward
    returns. Everything else is copied afresh for every call. ``loss`` and ``gradients`` take
    ``(X, y)`` and ignore them, so the float64 re-check can treat the layer as a network.
    """

    def __init__(self, layer: FunctionLayer, args: Mapping, *, seed: int = 0):
        self.layer = layer
        self.args = dict(args)
        self.seed = seed
        self.fixed: dict[str, str] = {}  # argument (or dict key) -> why it is fixed
        self.params: dict[str, np.ndarray] = {}
        self.nested: dict[str, str] = {}  # dict key -> the dict argument holding it
        self.douts: list[np.ndarray] | None = None
        self.names: Gradients | None = None
        declared = set(layer.fixed)
        unknown = declared - set(self.args) - {k for v in self.args.values() if isinstance(v, Mapping)
                                               for k in v}
        if unknown:
            raise InvalidArgumentError("fixed", f"names {sorted(unknown)}, which are not arguments "
                                       f"of {layer.functions} ({', '.join(self.args)}).",
                                       "Name the forward's own arguments.")
        for name, value in self.args.items():
            if is_float_array(value) and name not in declared and "mask" not in name.lower():
                self.params[name] = np.array(value, copy=True)
            else:
                self.fixed[name] = _why_fixed(name, value) if name not in declared else "named fixed"
                if isinstance(value, Mapping):
                    for key, item in value.items():
                        if is_float_array(item) and key not in declared and isinstance(key, str):
                            self.nested[key] = name  # checked when the backward names it

    # -- calls ----------------------------------------------------------------------------------
    def call_arguments(self) -> list:
        """The forward's arguments: the live arrays, fresh copies of everything else."""
        out = []
        for name, value in self.args.items():
            if name in self.params:
                out.append(self.params[name])
            elif isinstance(value, Mapping) and any(self.nested.get(k) == name for k in self.params):
                out.append({k: self.params[k] if k in self.params and self.nested.get(k) == name
                            else copy.deepcopy(v) for k, v in value.items()})
            else:
                out.append(copy.deepcopy(value))
        return out

    def run_forward(self):
        """The forward on the current arrays, with NumPy's global random state seeded the same
        for every call (a dropout drawing from ``np.random`` draws the same mask) and put back."""
        state = np.random.get_state()  # noqa: NPY002 - the user's code draws from it
        np.random.seed(self.seed)  # noqa: NPY002
        try:
            return call_user(self.layer.forward, *self.call_arguments(), call="forward")
        finally:
            np.random.set_state(state)  # noqa: NPY002

    def outputs(self, returned) -> tuple[list[np.ndarray], object]:
        """``(outputs the backward takes gradients for, cache)``, or ``([loss], grads)`` for a
        loss layer; what does not fit the style is an InvalidArgumentError."""
        forward = getattr(self.layer.forward, "__name__", "forward")
        if not isinstance(returned, tuple) or len(returned) < 2:
            what = type(returned).__name__
            if self.layer.is_loss:
                raise InvalidArgumentError(
                    forward, f"returned {what}, expected (loss, dx): a loss layer returns its "
                    "gradient too.", "Return the loss and the gradient of each float argument, "
                    "e.g. return loss, dx.")
            raise InvalidArgumentError(
                forward, f"returned {what}, expected (out, cache): the forward returns its output "
                "and the cache its backward takes.", "Return e.g. out, (x, w, b).")
        if self.layer.is_loss:
            loss = returned[0]
            if not (np.ndim(loss) == 0 and np.isrealobj(loss) and np.issubdtype(np.asarray(loss).dtype, np.number)):
                raise InvalidArgumentError(
                    forward, f"returned {type(loss).__name__} as the loss, expected a number.",
                    "A loss layer returns (loss, dx) with the loss a float.")
            return [np.asarray(loss)], returned[1:]
        wanted = upstream_count(self.layer.backward)
        outs = list(returned[:-1])
        if wanted is not None:
            if wanted > len(outs):
                raise InvalidArgumentError(
                    getattr(self.layer.backward, "__name__", "backward"),
                    f"takes {wanted} upstream gradients and a cache, but {forward} returns "
                    f"{len(outs)} output{'s' if len(outs) != 1 else ''} and a cache.",
                    "Make the backward take one upstream gradient per output, then the cache.")
            outs = outs[:wanted]
        for i, out in enumerate(outs):
            if isinstance(out, (float, np.floating)):  # a scalar output (a loss's forward)
                outs[i] = out = np.asarray(out)
            if not is_float_array(out):
                kind = f"dtype {out.dtype}" if isinstance(out, np.ndarray) else type(out).__name__
                raise InvalidArgumentError(
                    forward, f"returned {kind} as output {i + 1}, expected a float array.",
                    "The forward returns its outputs (float arrays), then the cache.")
            if out.size == 0 or not np.all(np.isfinite(out)):
                raise InvalidArgumentError(
                    forward, f"returned output {i + 1} of shape {out.shape} that is empty or not "
                    "finite at the example arguments.", "Check it on arguments where it is finite.")
        return outs, returned[-1]

    def draw_upstream(self, outputs: list[np.ndarray]) -> None:
        """One random upstream gradient per output (none for a loss layer), from the seed."""
        if self.layer.is_loss:
            self.douts = []
            return
        # a stream of its own: the example arguments' stream would give dout = a function of x
        rng = np.random.default_rng([self.seed, 7])
        self.douts = [rng.standard_normal(out.shape).astype(out.dtype) for out in outputs]

    def run_backward(self, cache):
        if self.layer.is_loss:  # the gradients came with the loss: (loss, dx) or (loss, dx, dw...)
            return cache[0] if len(cache) == 1 else cache
        return call_user(self.layer.backward, *[d.copy() for d in self.douts], cache, call="backward")

    # -- the protocol -----------------------------------------------------------------------------
    def loss(self, X=None, y=None) -> float:
        return projected(self.run_forward(), self.douts, self.layer.is_loss)

    def gradients(self, X=None, y=None) -> dict[str, np.ndarray]:
        _, cache = self.outputs(self.run_forward())
        return self.named(self.run_backward(cache))

    # -- naming what the backward returns --------------------------------------------------------
    def learn_names(self, result) -> Gradients:
        """Work out, once, which checked argument each gradient the backward returned is for."""
        backward = self.backward_name
        if isinstance(result, Mapping):
            self.names = self._names_by_key(result, backward)
        else:
            self.names = self._names_in_order(result, backward)
        return self.names

    @property
    def backward_name(self) -> str:
        function = self.layer.forward if self.layer.is_loss else self.layer.backward
        return getattr(function, "__name__", "backward")

    def _names_by_key(self, result: Mapping, backward: str) -> Gradients:
        candidates = [*self.params, *self.nested]
        by_key, unknown = {}, []
        for key in result:
            name = match_gradient_name(str(key), candidates)
            (unknown.append(key) if name is None else by_key.__setitem__(key, name))
        if unknown:
            raise InvalidArgumentError(backward, _unmatched_text(unknown, candidates, self.layer),
                                       "Key each gradient 'd' + the argument's name, e.g. "
                                       f"'d{candidates[0] if candidates else 'x'}'.")
        covered = set(by_key.values())
        missing = [name for name in self.params if name not in covered]
        if missing:
            raise InvalidArgumentError(backward, _missing_text(missing, list(result), self.layer),
                                       "Return a gradient for each float argument of the forward "
                                       "(or name it in fixed= if it has none).")
        notes = []
        left = [key for key in self.nested if key not in covered]
        for key in left:
            self.fixed[key] = f"gets no gradient from {backward}"
        if left:
            holders = sorted({self.nested[k] for k in left})
            notes.append(f"{', '.join(left)} in {', '.join(holders)} get no gradient from {backward}: "
                         "left fixed, not checked")
        for key in left:
            del self.nested[key]
        for name in by_key.values():
            if name in self.nested:
                self.params[name] = np.array(self.args[self.nested[name]][name], copy=True)
                self.fixed.pop(self.nested[name], None)  # the dict holds checked weights
        return Gradients(by_key=by_key, notes=notes)

    def _names_in_order(self, result, backward: str) -> Gradients:
        arrays = list(result) if isinstance(result, (tuple, list)) else [result]
        if result is None:
            raise InvalidArgumentError(backward, "returned None, expected the gradients of the "
                                       f"forward's float arguments ({', '.join(self.params)}).",
                                       "Return them, e.g. return dx, dw, db.")
        checked = list(self.params)
        named = returned_names(self.layer.forward if self.layer.is_loss else self.layer.backward)
        if named is not None and self.layer.is_loss:
            named = named[1:]
        notes: list[str] = []
        by_name = None
        if named is not None and len(named) == len(arrays):
            matched = [match_gradient_name(n, checked) for n in named]
            if all(matched) and len(set(matched)) == len(matched):
                by_name = matched
        if self.layer.is_loss and by_name is None and len(arrays) <= len(checked):
            by_name = checked[: len(arrays)]  # (loss, dx): the gradient of the first float argument
        if by_name is None and len(arrays) == len(checked):
            by_name = checked
        if by_name is None:
            said = f" ({', '.join(named)})" if named and len(named) == len(arrays) else ""
            raise InvalidArgumentError(
                backward, f"returned {len(arrays)} gradient{'s' if len(arrays) != 1 else ''}{said} "
                f"for the {len(checked)} float argument{'s' if len(checked) != 1 else ''} of "
                f"{getattr(self.layer.forward, '__name__', 'the forward')} ({', '.join(checked)}), "
                "and their names do not say which is which.",
                "Return one gradient per float argument, in the forward's order, named "
                "'d' + the argument (return dx, dw, db).")
        if not self.layer.is_loss and by_name != checked[: len(by_name)]:
            notes.append(f"{backward} returns {', '.join('d' + n for n in by_name)}, not in the "
                         f"forward's order ({', '.join(checked)}): checked by name; code that "
                         "unpacks them by position gets them mixed up")
        missing = [name for name in checked if name not in by_name]
        if missing and not self.layer.is_loss:
            raise InvalidArgumentError(backward, _missing_text(missing, named or [], self.layer),
                                       "Return a gradient for each float argument of the forward "
                                       "(or name it in fixed= if it has none).")
        for name in missing:  # a loss layer's labels, targets...: no gradient
            self.fixed[name] = f"gets no gradient from {backward}"
            del self.params[name]
        return Gradients(by_position=by_name, notes=notes)

    def named(self, result) -> dict[str, np.ndarray]:
        """The backward's result by argument name, as :meth:`learn_names` worked out."""
        if self.names is None:
            self.learn_names(result)
        if self.names.by_key is not None:
            if not isinstance(result, Mapping):
                raise InvalidArgumentError(self.backward_name, f"returned {type(result).__name__} "
                                           "where it returned a dict before.", "Return one kind.")
            return {name: result[key] for key, name in self.names.by_key.items() if key in result}
        arrays = list(result) if isinstance(result, (tuple, list)) else [result]
        return dict(zip(self.names.by_position, arrays))

    def narrowed(self, dtype) -> LayerProblem:
        """The same layer with its float arguments in ``dtype`` (what the forward computes in)."""
        return LayerProblem(self.layer, {name: _cast(value, dtype) for name, value in self.args.items()},
                            seed=self.seed)


def _cast(value, dtype):
    if is_float_array(value):
        return value.astype(dtype)
    if isinstance(value, Mapping):
        return {key: _cast(item, dtype) for key, item in value.items()}
    return value


def _unmatched_text(unknown, candidates, layer: FunctionLayer) -> str:
    parts = []
    for key in unknown:
        close = _closest(str(key).removeprefix("d"), candidates)
        parts.append(f"{key!r}" + (f" (did you mean 'd{close}'?)" if close else ""))
    return (f"returned gradients {', '.join(parts)} that match no float argument of "
            f"{getattr(layer.forward, '__name__', 'the forward')} "
            f"({', '.join(candidates)}).")


def _closest(stem: str, candidates: Sequence[str]) -> str | None:
    """The argument a misspelt gradient name was meant for: the same letters in another order
    (``Wxa`` for ``Wax``) first, else the closest spelling."""
    same = [c for c in candidates if sorted(c.lower()) == sorted(stem.lower())]
    if len(same) == 1:
        return same[0]
    close = difflib.get_close_matches(stem, list(candidates), n=1)
    return close[0] if close else None


def _missing_text(missing, returned, layer: FunctionLayer) -> str:
    got = f" (it returned {', '.join(map(str, returned))})" if returned else ""
    return (f"gives no gradient for {', '.join(missing)}, float argument"
            f"{'s' if len(missing) != 1 else ''} of {getattr(layer.forward, '__name__', 'the forward')}"
            f"{got}.")
