"""Parameters as any nested tree of arrays, named by their path.

A network's parameters may sit in a flat dict, in nested dicts and lists
(``params["blocks"][0]["attn"]["Wq"]``), on objects (``net.layers[0].W``) or in a module's globals
(``Wxh``). :func:`leaves` walks such a tree to its float arrays and names each by its dotted path
(``blocks.0.attn.Wq``, ``layers.0.W``, ``Wxh``); :class:`ParamTree` keeps each array once:

- the **same array** under two paths (``params["head"] = params["embed"]``) is checked once, under
  its first path, and the gradients the code returns for both paths are summed;
- a **view** sharing the memory of another parameter (``params["head"] = params["embed"].T``) is
  checked as the array it views: its gradient is added entry by entry where the view reads.

:meth:`ParamTree.gather` maps a gradient tree of the same structure (or a flat dict by path, or
names with a ``d`` in front: ``dWxh`` for ``Wxh``) onto those names. :func:`globals_read` is the
tree of a module's globals that a function reads.
"""

from __future__ import annotations

import dis
import inspect
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from gradcheck.errors import ProtocolError

#: Objects nested deeper than this are not walked.
MAX_DEPTH = 16
#: Never walked into: code, namespaces and types are not a network's state.
_OPAQUE = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
           types.CodeType, type, str, bytes, int, float, complex, bool, range, slice)


def is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


def join(prefix: str, key) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _items(value) -> Iterator[tuple[str, object]] | None:
    """The children of a container or a user object, or None for a leaf."""
    if isinstance(value, Mapping):
        return ((str(k), v) for k, v in value.items())
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple: by field name
        return zip(value._fields, value)
    if isinstance(value, (list, tuple)):
        return ((str(i), v) for i, v in enumerate(value))
    if isinstance(value, _OPAQUE) or isinstance(value, np.generic) or callable(value) \
            and not hasattr(value, "__dict__"):
        return None
    if type(value).__module__.split(".")[0] in ("numpy", "builtins"):
        return None  # a generator, a dtype, a random state: numpy's, not the network's
    slots = [s for cls in type(value).__mro__ for s in getattr(cls, "__slots__", ())
             if isinstance(s, str) and not s.startswith("__")]
    state = dict(vars(value)) if hasattr(value, "__dict__") else {}
    for name in slots:
        if hasattr(value, name):
            state.setdefault(name, getattr(value, name))
    return iter(state.items()) if state else None


def leaves(tree, prefix: str = "", *, arrays: Callable[[np.ndarray], bool] = is_float_array
           ) -> list[tuple[str, np.ndarray]]:
    """``(path, array)`` for every array of ``tree`` that ``arrays`` accepts, in walk order.

    Dicts by key, lists and tuples by index, namedtuples by field, objects by attribute. An array
    reached under two paths is listed under both (:class:`ParamTree` keeps it once); containers
    are walked once each, so cycles end.
    """
    found: list[tuple[str, np.ndarray]] = []
    seen: set[int] = set()

    def walk(value, path: str, depth: int) -> None:
        if isinstance(value, np.ndarray):
            if arrays(value):
                found.append((path, value))
            return
        if depth > MAX_DEPTH or id(value) in seen:
            return
        children = _items(value)
        if children is None:
            return
        seen.add(id(value))
        for key, child in children:
            walk(child, join(path, key), depth + 1)

    walk(tree, prefix, 0)
    return found


def _root(array: np.ndarray):
    """The object that owns ``array``'s memory (the end of its ``.base`` chain)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array.base if array.base is not None else array


def _byte_positions(array: np.ndarray) -> np.ndarray:
    """Each entry's byte address, in C order of ``array``."""
    start = array.__array_interface__["data"][0]
    positions = np.full(array.shape, start, dtype=np.int64)
    for axis, (n, stride) in enumerate(zip(array.shape, array.strides)):
        shape = [1] * array.ndim
        shape[axis] = n
        positions = positions + (np.arange(n, dtype=np.int64) * stride).reshape(shape)
    return positions.reshape(-1)


@dataclass(frozen=True)
class Tie:
    """A path whose array is (part of) another parameter's: ``of`` names that parameter;
    ``entries`` are the flat indices into it of the path's entries, in C order (None when the
    path holds the very same array)."""

    path: str
    of: str
    entries: np.ndarray | None = field(default=None, compare=False)

    def describe(self) -> str:
        how = "the same array" if self.entries is None else "a view of it"
        return f"{self.path} is {self.of} ({how}): checked once, as {self.of}, its gradients summed"


def match_gradient_name(gradient: str, names: Sequence[str]) -> str | None:
    """The name a gradient's name is for: ``dx`` -> ``x``, ``dWax`` -> ``Wax``, ``dW`` -> ``w``
    (when there is no ``W``), ``grad_x`` and ``x_grad`` -> ``x``, or the name itself."""
    stems = [gradient]
    if gradient.startswith("d") and len(gradient) > 1:
        stems.append(gradient[1:].lstrip("_"))
    if gradient.startswith("grad_"):
        stems.append(gradient[5:])
    if gradient.endswith("_grad"):
        stems.append(gradient[:-5])
    for stem in stems:
        if stem in names:
            return stem
    for stem in stems:
        folded = [n for n in names if n.lower() == stem.lower()]
        if len(folded) == 1:
            return folded[0]
    return None


class ParamTree:
    """The float arrays of a tree, each once, under the path it is first reached by.

    Attributes
    ----------
    params : dict path -> ndarray
        The live arrays to check (the same objects the tree holds).
    ties : list of Tie
        The other paths that reach a parameter's memory.
    """

    def __init__(self, found: Sequence[tuple[str, np.ndarray]]):
        self.params: dict[str, np.ndarray] = {}
        self.ties: list[Tie] = []
        by_id: dict[int, str] = {}
        for path, array in found:
            if id(array) in by_id:
                self.ties.append(Tie(path, by_id[id(array)]))
            else:
                by_id[id(array)] = path
                self.params[path] = array
        self._untie_views()

    @classmethod
    def of(cls, tree, prefix: str = "") -> ParamTree:
        """The parameters of ``tree`` (see :func:`leaves`)."""
        return cls(leaves(tree, prefix))

    def _untie_views(self) -> None:
        """Views sharing memory with another parameter become ties of the larger one."""
        groups: dict[int, list[str]] = {}
        for path, array in self.params.items():
            groups.setdefault(id(_root(array)), []).append(path)
        for paths in groups.values():
            if len(paths) < 2:
                continue
            # the largest first (ties broken by walk order): a view is tied to what it views
            paths = sorted(paths, key=lambda p: -self.params[p].size)
            kept: list[tuple[str, np.ndarray]] = []
            for path in paths:
                positions = _byte_positions(self.params[path])
                for other, other_positions in kept:
                    common = np.intersect1d(positions, other_positions)
                    if common.size == 0:
                        continue
                    if common.size < np.unique(positions).size:
                        raise ProtocolError(
                            f"the parameters {other} and {path} overlap in part of their memory; "
                            f"give each parameter its own array, or make {path} a view of the "
                            f"whole of {other}")
                    order = np.argsort(other_positions, kind="stable")
                    entries = order[np.searchsorted(other_positions, positions, sorter=order)]
                    self.ties.append(Tie(path, other, entries))
                    del self.params[path]
                    break
                else:
                    kept.append((path, positions))

    def notes(self) -> list[str]:
        """One sentence per tie, for a check's notes."""
        return [tie.describe() for tie in self.ties]

    def gather(self, grads, *, what: str = "the gradients") -> dict[str, np.ndarray]:
        """The gradient of each parameter from ``grads``: a tree shaped like the parameters', or a
        flat mapping by path. A tied path's gradient is added to its parameter's; a path that
        names no parameter is matched by its last name (``dWxh`` for ``Wxh``); paths matching
        nothing are left out, unless a parameter then has no gradient (an error naming both)."""
        flat = dict(leaves(grads, arrays=lambda a: np.issubdtype(a.dtype, np.number)))
        if isinstance(grads, Mapping):  # numbers for scalar parameters
            flat.update({str(k): np.asarray(v) for k, v in grads.items()
                         if isinstance(v, (float, int, np.number)) and not isinstance(v, bool)})
        known = set(self.params) | {tie.path for tie in self.ties}
        unmatched = []
        for path in list(flat):
            if path in known:
                continue
            head, _, last = path.rpartition(".")
            siblings = [p.rpartition(".")[2] for p in known if p.rpartition(".")[0] == head]
            name = match_gradient_name(last, siblings)
            if name is not None and join(head, name) not in flat:
                flat[join(head, name)] = flat.pop(path)
            else:
                unmatched.append(path)
        out: dict[str, np.ndarray] = {name: flat[name] for name in self.params if name in flat}
        for tie in self.ties:
            if tie.path not in flat:
                continue
            grad = np.asarray(flat[tie.path])
            base = self.params[tie.of]
            total = np.zeros(base.shape, dtype=np.result_type(base.dtype, grad.dtype))
            if tie.of in out:
                if np.shape(out[tie.of]) != base.shape:
                    continue  # a wrong shape is the check's finding, on the parameter
                total += out[tie.of]
            if grad.size != (base.size if tie.entries is None else tie.entries.size):
                raise ProtocolError(f"{what} for {tie.path} have shape {grad.shape}, but "
                                    f"{tie.path} has {base.size if tie.entries is None else tie.entries.size} "
                                    f"entries ({tie.describe()})")
            if tie.entries is None:
                total += grad.reshape(base.shape)
            else:
                np.add.at(total.reshape(-1), tie.entries, grad.reshape(-1))
            out[tie.of] = total
        missing = [name for name in self.params if name not in out]
        if missing and unmatched:
            raise ProtocolError(f"{what} have no entry for {', '.join(missing)} but entries for "
                                f"{', '.join(unmatched)}, which name no parameter; name each "
                                "gradient as its parameter is named (the paths of the parameter tree)")
        return out


# -- a module's globals ----------------------------------------------------------------------


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _global_names(function) -> list[str]:
    """Names ``function`` reads as globals (LOAD_GLOBAL, and LOAD_NAME in module code), in the
    order its code first reads them."""
    names: list[str] = []
    for code in _code_objects(function.__code__):
        for instruction in dis.get_instructions(code):
            if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL") \
                    and instruction.argval not in names:
                names.append(instruction.argval)
    return names


def globals_read(function, *, follow: bool = True) -> dict[str, object]:
    """The module-level values ``function`` reads, by name, in the order it reads them: arrays
    and objects (layers), not modules, functions or classes. With ``follow``, the globals read by
    the module's own functions it calls are included (``train`` calling ``forward``)."""
    function = inspect.unwrap(getattr(function, "__func__", function))
    if not isinstance(function, types.FunctionType):
        return {}
    namespace = function.__globals__
    found: dict[str, object] = {}
    visited: set[int] = set()

    def visit(fn) -> None:
        if id(fn) in visited:
            return
        visited.add(id(fn))
        for name in _global_names(fn):
            if name not in namespace:
                continue
            value = namespace[name]
            if isinstance(value, types.FunctionType):
                if follow and value.__globals__ is namespace:
                    visit(value)
                continue
            if isinstance(value, _OPAQUE) or callable(value) and not hasattr(value, "__dict__"):
                continue
            found.setdefault(name, value)

    visit(function)
    return found


__all__ = ["ParamTree", "Tie", "globals_read", "leaves", "match_gradient_name", "is_float_array"]
