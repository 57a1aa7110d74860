"""Parameters that map a file are checked on in-memory copies: a user's file is never written.

A check moves parameter entries in place. Where a parameter is a writable memory map
(``np.memmap`` opened ``r+``, an array over ``mmap.mmap`` or ``multiprocessing.shared_memory``),
every such write reaches the file, and a process killed mid-check (``kill -9``, the OOM killer, a
CI timeout) would leave it with an entry moved by the step: no restore runs after SIGKILL.

:class:`InMemory` swaps each such array, wherever the code under test can be reached from the
roots it is given (the ``params`` mapping, the loss and gradient functions and what they close
over, a target's attributes, lists and dicts), for an in-memory copy, for the duration of the
check, and puts the original references back afterwards. The originals are only ever read.
A file-backed parameter it cannot swap (a mapping that cannot be assigned to) is refused with
a message saying what to pass instead.
"""

from __future__ import annotations

import mmap
import os
import types
from collections.abc import Iterable, Mapping, MutableMapping

import numpy as np

from gradcheck.errors import InvalidArgumentError

#: How deep the swap looks from its roots (a target, its layers, their attributes...).
MAX_DEPTH = 8
#: What the swap never walks into: code and namespaces are not a network's state.
_OPAQUE = (types.ModuleType, type, types.BuiltinFunctionType, str, bytes, int, float, complex, bool)


def file_backed(array) -> str | None:
    """How writing into ``array`` would write into a file or into shared memory, or None.

    Writable memory maps are: ``np.memmap`` in modes ``r+`` and ``w+``, arrays over an
    ``mmap.mmap`` (a mapped file, ``multiprocessing.shared_memory``); copy-on-write maps
    (``mode='c'``) and read-only arrays are not. Views are followed to the memory they show.
    """
    if not isinstance(array, np.ndarray) or not array.flags.writeable:
        return None
    base = array
    for _ in range(64):
        if isinstance(base, np.memmap):
            mode = getattr(base, "mode", None)
            if mode in ("c", "copyonwrite", "r", "readonly"):
                return None
            name = getattr(base, "filename", None)
            return f"a memory map of {os.path.basename(name) if name else 'a file'} (np.memmap, mode {mode!r})"
        if isinstance(base, mmap.mmap):
            return "an array over an mmap.mmap (a memory-mapped file or shared memory)"
        if isinstance(base, memoryview):
            base = base.obj
            continue
        following = getattr(base, "base", None)
        if following is None:
            return None
        base = following
    return None


class InMemory:
    """Swap the file-backed arrays reachable from ``roots`` for copies; put them back on exit.

    Use as a context manager around everything that writes into parameters::

        with InMemory(params, loss, grads) as swapped:
            ...  # params (and what loss reads) now hold copies; swapped.names lists them

    ``params`` (the first root) is the mapping a check perturbs: a file-backed entry of it that
    cannot be replaced there (an immutable mapping) is an InvalidArgumentError naming it.
    """

    def __init__(self, params: Mapping | None, *roots, argument: str = "params"):
        self.params, self.roots, self.argument = params, roots, argument
        self.undo: list[tuple] = []  # (how, container, key, original), in the order done
        self.copies: dict[int, np.ndarray] = {}
        self.names: list[str] = []

    def __enter__(self) -> InMemory:
        try:
            self._swap_params()
            seen: set[int] = set()
            for root in self.roots:
                self._walk(root, 0, seen)
        except BaseException:
            self.restore()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.restore()

    def restore(self) -> None:
        """Every swapped reference back to the user's own array (nothing is written into it)."""
        while self.undo:
            how, container, key, original = self.undo.pop()
            try:
                if how == "item":
                    container[key] = original
                elif how == "attr":
                    setattr(container, key, original)
                else:
                    container.cell_contents = original
            except Exception:  # noqa: BLE001 - a container that changed under the check
                pass

    def _copy(self, array: np.ndarray) -> np.ndarray:
        if id(array) not in self.copies:
            self.copies[id(array)] = np.array(array, copy=True)
        return self.copies[id(array)]

    def _swap_params(self) -> None:
        if not isinstance(self.params, Mapping):
            return
        for name, array in list(self.params.items()):
            backed = file_backed(array)
            if backed is None:
                continue
            if not isinstance(self.params, MutableMapping):
                raise InvalidArgumentError(
                    f"{self.argument}[{name!r}]", f"is {backed}, and the mapping holding it cannot be "
                    "changed: gradcheck moves parameter entries in place and never writes into a file, "
                    "so it needs to put an in-memory copy there for the check.",
                    "Pass a dict, or open the file with np.load(path, mmap_mode='c') (copy-on-write).")
            self.params[name] = self._copy(array)
            self.undo.append(("item", self.params, name, array))
            self.names.append(str(name))

    def _walk(self, value, depth: int, seen: set[int]) -> None:
        if depth > MAX_DEPTH or value is None or isinstance(value, _OPAQUE) or id(value) in seen:
            return
        if isinstance(value, np.ndarray):
            return
        seen.add(id(value))
        if isinstance(value, types.MethodType):
            self._walk(value.__self__, depth + 1, seen)
            self._walk(value.__func__, depth + 1, seen)
            return
        if isinstance(value, types.FunctionType):
            for cell in value.__closure__ or ():
                try:
                    content = cell.cell_contents
                except ValueError:  # an empty cell
                    continue
                if self._swapped(content) is not None:
                    self.undo.append(("cell", cell, None, content))
                    cell.cell_contents = self._swapped(content)
                else:
                    self._walk(content, depth + 1, seen)
            return
        if isinstance(value, MutableMapping) and type(value).__module__ in ("builtins", "collections"):
            for key, item in list(value.items()):
                self._replace(value, key, item, "item", depth, seen)
        elif isinstance(value, list):
            for i, item in enumerate(list(value)):
                self._replace(value, i, item, "item", depth, seen)
        elif isinstance(value, Iterable) and isinstance(value, tuple):
            for item in value:
                self._walk(item, depth + 1, seen)
        elif hasattr(value, "__dict__") and not isinstance(value, types.FunctionType):
            for key, item in list(vars(value).items()):
                self._replace(value, key, item, "attr", depth, seen)

    def _swapped(self, item) -> np.ndarray | None:
        return self._copy(item) if file_backed(item) is not None else None

    def _replace(self, container, key, item, how: str, depth: int, seen: set[int]) -> None:
        copy = self._swapped(item)
        if copy is None:
            self._walk(item, depth + 1, seen)
            return
        try:
            if how == "item":
                container[key] = copy
            else:
                setattr(container, key, copy)
        except Exception:  # noqa: BLE001 - a read-only attribute keeps its array; the check says so
            return
        self.undo.append((how, container, key, item))


__all__ = ["InMemory", "file_backed"]
