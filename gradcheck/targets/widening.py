"""A float64 copy of a lower-precision network: the same code, run on widened arrays.

A float32 network with small gradients cannot be judged by finite differences in float32: the
loss's rounding is larger than what a step changes (see
:func:`gradcheck.checks.entries.ParamChecker._hidden`). The same NumPy code run on float64
arrays computes in float64, so its gradients can be judged there. :func:`float64_copy` makes
such a copy without the user's help: a deep copy of the target whose floating arrays (parameters,
buffers, caches) are replaced by float64 ones, shared arrays staying shared. The copy is only
used when it is demonstrably the same network: its parameters are float64 and share no memory
with the original, and its loss and gradients agree with the original's to float32 precision.

**State outside the target.** Code often reads arrays the target object does not hold: module
globals (a character RNN's ``Wxh``, ``Whh``), or arrays its functions' closures captured. A deep
copy cannot copy those (functions and modules are shared, not copied), so they are widened
*for the copy and put back*: each such array gets one float64 twin, the copy's parameters are
those twins, and every call of the copy's loss or gradients rebinds the module global or closure
cell to its twin for the length of the call, and back to the user's own array afterwards
(:class:`OutsideState`). The user's arrays are never written.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import sys
import types
from collections.abc import Callable

import numpy as np

from gradcheck.numeric.model import least_precise, relative_rounding
from gradcheck.targets.protocol import target_params
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


def widened(target, outside: OutsideState | None = None):
    """A deep copy of ``target`` whose floating arrays narrower than float64 are float64.

    With ``outside`` (the state the target's code reads from beyond the target), an array held
    both by the target and out there becomes the one twin the outside state swaps in; modules
    are shared, not copied."""
    memo: dict[int, object] = {}
    if outside is not None:
        memo.update({id(array): twin for array, twin in outside.twins()})
        memo.update({id(module): module for module in outside.modules})
    clone = copy.deepcopy(target, memo)
    seen: dict[int, np.ndarray] = {}

    def widen(array):
        if not _is_narrow(array):
            return array
        if id(array) not in seen:
            seen[id(array)] = np.array(array, dtype=np.float64)
        return seen[id(array)]

    return _walk(clone, widen)


# -- state outside the target --------------------------------------------------------------------
#: Modules whose globals are code, never the network's state.
_LIBRARY_PREFIXES = ("numpy", "gradcheck", "scipy", "builtins", "functools", "copy", "types",
                     "typing", "collections", "importlib", "abc", "math", "random", "os", "sys")


def _user_module(name) -> bool:
    """A module of the user's code: a script (``__main__``), a file, a package of theirs."""
    name = str(name or "")
    if name == "__main__":
        return True
    return bool(name) and not name.startswith(_LIBRARY_PREFIXES) and not name.startswith("_")


class OutsideState:
    """The narrow float arrays a target's code reads from outside the target: its user modules'
    globals and its functions' closure cells (and the dicts, lists and objects held there), each
    with a float64 twin that :meth:`swapped` puts in place for the length of a call."""

    def __init__(self, target):
        self.modules: list[types.ModuleType] = []
        self.slots: list[tuple[object, object, np.ndarray]] = []  # (container, key, array)
        self._twins: dict[int, np.ndarray] = {}
        # seen inside the target and seen out there apart: a dict both hold is the copy's (deep
        # copied) and the code's (read through a closure) at once, so out there it is swapped
        self._seen: dict[bool, set[int]] = {False: set(), True: set()}
        self._visit(target, 0, outside=False)

    def __bool__(self) -> bool:
        return bool(self.slots)

    def twins(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(the user's array, its float64 twin) for every array out there."""
        return [(array, self._twins[id(array)]) for _, _, array in self.slots]

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in {id(a): a for _, _, a in self.slots}.values())

    @contextlib.contextmanager
    def swapped(self):
        """The twins in place of the user's arrays for the length of the block, then put back."""
        try:
            for container, key, array in self.slots:
                _rebind(container, key, self._twins[id(array)])
            yield
        finally:
            for container, key, array in self.slots:
                _rebind(container, key, array)

    # -- finding them -----------------------------------------------------------------------
    def _slot(self, container, key, value) -> bool:
        """Record ``container[key]`` when it holds a narrow array out there."""
        if not _is_narrow(value):
            return False
        self._twins.setdefault(id(value), np.array(value, dtype=np.float64))
        if not any(c is container and k == key for c, k, _ in self.slots):
            self.slots.append((container, key, value))
        return True

    def _visit(self, value, depth: int, outside: bool) -> None:
        if depth > MAX_DEPTH or isinstance(value, (str, bytes, int, float, np.ndarray, type)):
            return
        if id(value) in self._seen[outside]:
            return
        self._seen[outside].add(id(value))
        if isinstance(value, types.MethodType):
            self._visit(value.__func__, depth + 1, outside)
            self._visit(value.__self__, depth + 1, outside)
        elif isinstance(value, types.FunctionType):
            self._function(value, depth)
        elif isinstance(value, functools.partial):
            for item in (value.func, *value.args, *value.keywords.values()):
                self._visit(item, depth + 1, outside)
        elif isinstance(value, types.ModuleType):
            self._module(value, depth)
        elif isinstance(value, (list, dict, tuple)) or _has_attributes(value):
            items = (value.items() if isinstance(value, dict) else enumerate(value)
                     if isinstance(value, (list, tuple)) else vars(value).items())
            for key, item in list(items):
                if outside and not isinstance(value, tuple) and self._slot(value, key, item):
                    continue
                self._visit(item, depth + 1, outside)

    def _function(self, function: types.FunctionType, depth: int) -> None:
        if _user_module(function.__module__):
            module = sys.modules.get(function.__module__)
            scope = function.__globals__
            if module is not None and module.__dict__ is scope:
                self._module(module, depth)
            else:  # a module executed from source into a fresh namespace: its globals all the same
                self._globals(scope, depth)
        for cell in function.__closure__ or ():
            try:
                content = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if not self._slot(cell, None, content):
                self._visit(content, depth + 1, outside=True)

    def _module(self, module: types.ModuleType, depth: int) -> None:
        if not _user_module(module.__name__):
            return
        self.modules.append(module)
        self._globals(vars(module), depth)

    def _globals(self, scope: dict, depth: int) -> None:
        if id(scope) in self._seen[True]:
            return
        self._seen[True].add(id(scope))
        for key, item in list(scope.items()):
            if isinstance(item, (types.ModuleType, types.FunctionType, type)):
                continue  # code, not state; its own state is found where it is called from
            if not self._slot(scope, key, item):
                self._visit(item, depth + 1, outside=True)


def _rebind(container, key, value) -> None:
    if isinstance(container, types.CellType):
        container.cell_contents = value
    elif isinstance(container, (dict, list)):
        container[key] = value
    else:
        setattr(container, key, value)


class _SwappingCopy:
    """The float64 copy, each call of its loss and gradients made with the outside state
    swapped for its twins (and back after)."""

    def __init__(self, clone, outside: OutsideState):
        self.clone, self.outside = clone, outside
        self.params = clone.params

    def __getattr__(self, name):
        if name.startswith("__") or name in ("clone", "outside"):
            raise AttributeError(name)
        return getattr(self.clone, name)

    def loss(self, X, y):
        with self.outside.swapped():
            return self.clone.loss(X, y)

    def gradients(self, X, y):
        with self.outside.swapped():
            return self.clone.gradients(X, y)


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
    outside = OutsideState(target)
    size = array_bytes(target) + outside.nbytes
    if size > MAX_BYTES:
        return None, None, None, (f"it holds {size / 2 ** 20:.0f} MiB of arrays, more than the "
                                  f"{MAX_BYTES // 2 ** 20} MiB a copy is made for")
    try:
        clone = widened(target, outside)
    except Exception as exc:  # noqa: BLE001 - any object may refuse to be copied
        return None, None, None, f"it cannot be copied ({type(exc).__name__}: {exc})"
    if outside:
        clone = _SwappingCopy(clone, outside)
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
        return None, None, None, (f"the copy's gradients {narrow_out} come back narrower than float64: "
                                  "the code casts them (a product or an array made in a fixed "
                                  "dtype), so no float64 copy of it computes in float64")
    floor = _rounding_floor(narrow_grads, least_precise(a.dtype for a in original.values() if _is_narrow(a)))
    if set(wide) != set(narrow_grads) or not all(_agrees(wide[k], narrow_grads[k], floor) for k in wide):
        return None, None, None, "the copy's gradients differ from the original's beyond float32 rounding"
    return clone, X64, y64, ""


__all__ = ["float64_copy", "widened", "array_bytes", "OutsideState", "MAX_BYTES"]
