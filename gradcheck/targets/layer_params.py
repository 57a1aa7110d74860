"""A layer object's parameters, found by value: the float arrays it holds that its forward leaves
alone and its backward gives a gradient for, whatever their names.

A layer holds float arrays of three sorts: parameters (``W``, ``w``, ``kernel``, ``W_xh``,
``params["w"]``), what its forward caches (the input, a pre-activation, the output) and what its
backward leaves (``dW``, ``grad_kernel``, ``grads["w"]``, ``dinputs``). They are told apart by what
happens to them, not by a list of names:

- a **parameter** is held before a forward and after it, as the same array with the same values
  (a cache is rewritten by every forward), and after a backward the layer holds its gradient;
- its **gradient** is an array (or a NumPy number) under one of the usual spellings of its name
  (:data:`GRADIENT_SPELLINGS`, compared without case: ``dW``/``dw``/``grad_W``/``w_grad`` for
  ``w``), or under the same key (or such a spelling of it) in another dict the layer holds
  (``grads["w"]`` or ``grads["dw"]`` for ``params["w"]``).

A place is ``(attribute,)`` or ``(attribute, key)`` for an array in a dict attribute. Names are
the attribute or the key (``dict.key`` when two dicts hold the same key). Used by the in-process
layer checks (:mod:`gradcheck.targets.layers`), the layer-objects adapter and the child process
that holds a layer of a file checked out of process, so all three find the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

#: How a gradient's name is spelled from its parameter's name ``{}`` (compared without case).
GRADIENT_SPELLINGS = ("d{}", "d_{}", "grad_{}", "grad{}", "{}_grad", "{}grad", "{}_gradient",
                      "gradient_{}", "delta_{}", "g_{}")

Place = tuple


def _is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


def _own_attributes(layer) -> dict:
    try:
        return dict(vars(layer))
    except TypeError:  # a layer with __slots__ and no __dict__
        return {}


def held_arrays(layer) -> dict[Place, np.ndarray]:
    """Every float array ``layer`` holds as an attribute, or in a dict attribute (one level)."""
    held: dict[Place, np.ndarray] = {}
    for attr, value in _own_attributes(layer).items():
        if _is_float_array(value):
            held[(attr,)] = value
        elif isinstance(value, Mapping):
            for key, item in list(value.items()):
                if _is_float_array(item):
                    held[(attr, key)] = item
    return held


def _is_gradient_value(value) -> bool:
    """An array or a NumPy number: a gradient of the wrong shape (``db = dZ.sum()``) is still the
    layer's gradient, for the check to report."""
    return isinstance(value, (np.ndarray, np.number)) and np.issubdtype(np.asarray(value).dtype, np.number)


def read(layer, place: Place):
    """The array (or NumPy number) at ``place`` now; None when it is gone."""
    value = _own_attributes(layer).get(place[0])
    if len(place) > 1:
        value = value.get(place[1]) if isinstance(value, Mapping) else None
    return value if _is_gradient_value(value) else None


def _spells_gradient_of(candidate: str, name: str) -> bool:
    lowered = candidate.lower()
    return any(lowered == spelling.format(name).lower() for spelling in GRADIENT_SPELLINGS)


def _gradient_dicts(layer, attr: str) -> list[str]:
    """Dict attributes that may hold the gradients of the arrays in dict ``attr``: spelled as
    its gradient, or named with "grad" (``params`` -> ``grads``, ``parameters`` -> ``gradients``)."""
    found = []
    for name, value in _own_attributes(layer).items():
        if name != attr and isinstance(value, Mapping) and (
                _spells_gradient_of(name, attr) or "grad" in name.lower() or name.lower().startswith("d")):
            found.append(name)
    return sorted(found, key=lambda n: not _spells_gradient_of(n, attr))


def gradient_place(layer, place: Place) -> Place | None:
    """Where ``layer`` holds the gradient of the array at ``place``, or None. The gradient need
    not have the array's shape: a wrong shape is the check's to report."""
    if read(layer, place) is None:
        return None
    if len(place) == 1:
        for attr, value in _own_attributes(layer).items():
            if _is_gradient_value(value) and _spells_gradient_of(attr, place[0]):
                return (attr,)
        return None
    key = place[1]
    for attr in _gradient_dicts(layer, place[0]):
        grads = _own_attributes(layer)[attr]
        keys = [key] + [k for k in grads if isinstance(k, str) and isinstance(key, str)
                        and _spells_gradient_of(k, key)]
        for k in keys:
            if _is_gradient_value(grads.get(k)):
                return (attr, k)
    return None


def _names(places) -> dict[Place, str]:
    """The name each parameter is reported under: its attribute, or its key in a dict."""
    plain = [str(p[-1]) for p in places]
    return {p: (str(p[-1]) if plain.count(str(p[-1])) == 1 else ".".join(map(str, p))) for p in places}


def parameters(layer, settled=None, exclude=()) -> dict[str, tuple[Place, Place]]:
    """``name -> (place, gradient place)`` for every float array of ``layer`` whose gradient it
    holds now, in the order the layer holds them.

    ``settled``: the places a forward left as they were (:func:`settled_places`); None takes every
    place. ``exclude``: arrays that are not parameters (a forward's input and output), matched by
    identity or by value (a layer may cache a copy). An array that is the gradient of another is
    not a parameter itself.
    """
    held = held_arrays(layer)
    excluded = [a for a in exclude if isinstance(a, np.ndarray)]
    pairs = {}
    for place, array in held.items():
        if (settled is not None and place not in settled) or _among(array, excluded):
            continue
        grad = gradient_place(layer, place)
        if grad is not None and grad != place:
            pairs[place] = grad
    gradients = set(pairs.values())
    pairs = {p: g for p, g in pairs.items() if p not in gradients}
    names = _names(list(pairs))
    return {names[p]: (p, g) for p, g in pairs.items()}


def _among(array: np.ndarray, others: list) -> bool:
    return any(array is other or (array.shape == other.shape and np.array_equal(array, other, equal_nan=True))
               for other in others)


def snapshot(layer) -> dict[Place, tuple[int, np.ndarray]]:
    """Each held array's identity and a copy of its values."""
    return {p: (id(a), np.array(a, copy=True)) for p, a in held_arrays(layer).items()}


def settled_places(layer, before: dict) -> set:
    """Places held at ``before`` (a :func:`snapshot`) still holding the same array with the same
    values: what a forward run since then left alone."""
    settled = set()
    for place, array in held_arrays(layer).items():
        known = before.get(place)
        if known is not None and known[0] == id(array) and known[1].shape == array.shape \
                and np.array_equal(known[1], array, equal_nan=True):
            settled.add(place)
    return settled


def learn(layer, forward: Callable, backward: Callable, X: np.ndarray, seed: int = 0) -> dict:
    """Run ``forward`` twice (on ``X`` and on another input of its shape) and ``backward`` once,
    and return :func:`parameters` of what the second forward left alone. The gradients the
    backward left are zeroed in place afterwards, so a backward that adds into them (``+=``)
    starts again from 0."""
    state = np.random.get_state()  # noqa: NPY002 - a dropout drawing its mask leaves the draws as they were
    try:
        return _learn(layer, forward, backward, X, seed)
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _learn(layer, forward, backward, X, seed) -> dict:
    forward(X)
    before = snapshot(layer)
    other = (np.asarray(X) * 0.5 + 0.25).astype(np.asarray(X).dtype)
    Y = forward(other)
    settled = settled_places(layer, before)
    dY = np.random.default_rng(seed).standard_normal(np.shape(Y)).astype(getattr(Y, "dtype", np.float64))
    dX = backward(dY)
    found = parameters(layer, settled, exclude=(X, other, Y, dY, dX if isinstance(dX, np.ndarray) else None))
    for _, grad in found.values():
        array = read(layer, grad)
        if array is not None and array.flags.writeable:
            array[...] = 0
    return found


__all__ = ["GRADIENT_SPELLINGS", "gradient_place", "held_arrays", "learn", "parameters", "read",
           "settled_places", "snapshot"]
