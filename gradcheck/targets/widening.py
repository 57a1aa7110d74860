"""A float64 copy of a lower-precision network: the same code, run on widened arrays.

A float32 network with small gradients cannot be judged by finite differences in float32: the
loss's rounding is larger than what a step changes (see
:func:`gradcheck.checks.entries.ParamChecker._hidden`). The same NumPy code run on float64
arrays computes in float64, so its gradients can be judged there. :func:`float64_copy` makes
such a copy without the user's help: a deep copy of the target whose floating arrays (parameters,
buffers, caches) are replaced by float64 ones, shared arrays staying shared. The copy is only
used when it is demonstrably the same network: its parameters are float64 and share no memory
with the original, and its loss and gradients agree with the original's to float32 precision.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Callable

import numpy as np

from gradcheck.numeric.model import least_precise, relative_rounding
from gradcheck.targets.protocol import OutOfProcess, target_params
from gradcheck.targets.usercode import UserCodeCrash, call_user

#: The copy is not attempted when the target holds more array data than this (bytes, before
#: widening): a network that carries its training set would double its memory.
MAX_BYTES = 256 * 2 ** 20
#: Objects nested deeper than this are left alone.
MAX_DEPTH = 12
#: The copy must reproduce the original's loss and gradients this closely (relative to the
#: largest value of each), or it is not the same network.
AGREEMENT = 1e-3


def _is_narrow(value) -> bool:
    return (isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)
            and value.dtype.itemsize < 8)


def _walk(value, visit: Callable, depth: int = 0, seen: set | None = None):
    """Rebuild ``value`` with ``visit(array)`` applied to every ndarray reachable from it.

    Lists, dicts and object attributes are updated in place, and only where ``visit`` returned
    a new array; tuples are rebuilt only then. So a ``visit`` that returns its argument writes
    nothing (:func:`array_bytes` walks the user's own target that way). Every object is visited
    once (``seen``), so cycles end and shared objects stay shared.
    """
    seen = set() if seen is None else seen
    if isinstance(value, np.ndarray):
        return visit(value)
    if depth > MAX_DEPTH or id(value) in seen or isinstance(value, (str, bytes, int, float, type)):
        return value
    seen.add(id(value))
    if isinstance(value, list):
        for i, item in enumerate(value):
            new = _walk(item, visit, depth + 1, seen)
            if new is not item:
                value[i] = new
    elif isinstance(value, dict):
        for key, item in list(value.items()):
            new = _walk(item, visit, depth + 1, seen)
            if new is not item:
                value[key] = new
    elif isinstance(value, tuple) and not hasattr(value, "_fields"):
        items = [_walk(item, visit, depth + 1, seen) for item in value]
        return value if all(a is b for a, b in zip(items, value)) else tuple(items)
    elif _has_attributes(value):
        for key, item in list(vars(value).items()):
            new = _walk(item, visit, depth + 1, seen)
            if new is not item:
                try:
                    setattr(value, key, new)
                except (AttributeError, TypeError):
                    pass  # a read-only attribute keeps its array; the checks below notice
    return value


#: Objects whose attributes are never walked: code and namespaces, not the network's state.
_OPAQUE = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)


def _has_attributes(value) -> bool:
    """An object of a user class (a layer, a model, an adapter), whose attributes are state."""
    return hasattr(value, "__dict__") and not isinstance(value, _OPAQUE)


def array_bytes(target) -> int:
    """Bytes of every distinct ndarray reachable from ``target`` (walked, not copied)."""
    sizes: dict[int, int] = {}

    def count(array):
        sizes[id(array)] = array.nbytes
        return array

    _walk(target, count)
    return sum(sizes.values())


def widened(target):
    """A deep copy of ``target`` whose floating arrays narrower than float64 are float64."""
    clone = copy.deepcopy(target)
    memo: dict[int, np.ndarray] = {}

    def widen(array):
        if not _is_narrow(array):
            return array
        if id(array) not in memo:
            memo[id(array)] = np.array(array, dtype=np.float64)
        return memo[id(array)]

    return _walk(clone, widen)


def _agrees(a, b, floor: float = 0.0) -> bool:
    """``a`` within :data:`AGREEMENT` of ``b``'s largest value, or within ``floor``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    scale = max(float(np.max(np.abs(b))) if b.size else 0.0, np.finfo(np.float32).tiny)
    return bool(np.max(np.abs(a - b), initial=0.0) <= max(AGREEMENT * scale, floor))


def _rounding_floor(grads: dict, dtype) -> float:
    """What the narrow dtype's rounding can put into any gradient: a parameter whose true
    gradient is 0 (a bias under batch norm) carries noise relative to the largest gradient."""
    largest = max((float(np.max(np.abs(np.asarray(g, dtype=np.float64)))) for g in grads.values()
                   if np.size(g)), default=0.0)
    return float(relative_rounding(largest, dtype))


def float64_copy(target, X, y):
    """``(copy, X64, y64, "")`` when a float64 copy of ``target`` is the same network, else
    ``(None, None, None, why)``.

    ``X`` and ``y`` are the batch the check ran on; floating ones are widened too. The original
    target and its arrays are not modified.
    """
    original = target_params(target)
    if all(not _is_narrow(array) for array in original.values()):
        return None, None, None, "its parameters are already float64"
    if isinstance(target, OutOfProcess):  # copied where it runs, with the same rules
        clone, why = target.widened()
        if clone is None:
            return None, None, None, why
    else:
        size = array_bytes(target)
        if size > MAX_BYTES:
            return None, None, None, (f"it holds {size / 2 ** 20:.0f} MiB of arrays, more than the "
                                      f"{MAX_BYTES // 2 ** 20} MiB a copy is made for")
        try:
            clone = widened(target)
        except Exception as exc:  # noqa: BLE001 - any object may refuse to be copied
            return None, None, None, f"it cannot be copied ({type(exc).__name__}: {exc})"
    X64 = np.asarray(X, dtype=np.float64) if _is_narrow(np.asarray(X)) else X
    y64 = np.asarray(y, dtype=np.float64) if _is_narrow(np.asarray(y)) else y
    try:
        params = target_params(clone)
        narrow = [name for name, array in params.items() if array.dtype != np.float64]
        if narrow or set(params) != set(original):
            return None, None, None, (f"the copy's parameters {narrow or sorted(params)} are not "
                                      "float64 (the code keeps or casts them narrower)")
        if any(np.shares_memory(params[name], array) for name, array in original.items()):
            return None, None, None, "the copy's parameters share memory with the original's"
        same_loss = _agrees(call_user(clone.loss, X64, y64, call="loss"),
                            call_user(target.loss, X, y, call="loss"))
        wide = dict(call_user(clone.gradients, X64, y64, call="gradients"))
        narrow_grads = dict(call_user(target.gradients, X, y, call="gradients"))
    except UserCodeCrash as raised:
        return None, None, None, f"the copy raised {raised.crash.error_type}: {raised.crash.message}"
    except (TypeError, ValueError) as exc:  # what it returned is not what the original returns
        return None, None, None, f"the copy's results cannot be compared ({type(exc).__name__}: {exc})"
    if not same_loss:
        return None, None, None, "the copy's loss differs from the original's"
    narrow_out = [k for k, g in wide.items() if np.asarray(g).dtype != np.float64]
    if narrow_out:
        return None, None, None, (f"the copy's gradients {narrow_out} come back narrower than float64 "
                                  "(the code casts them)")
    floor = _rounding_floor(narrow_grads, least_precise(a.dtype for a in original.values() if _is_narrow(a)))
    if set(wide) != set(narrow_grads) or not all(_agrees(wide[k], narrow_grads[k], floor) for k in wide):
        return None, None, None, "the copy's gradients differ from the original's beyond float32 rounding"
    return clone, X64, y64, ""


__all__ = ["float64_copy", "widened", "array_bytes", "MAX_BYTES"]
