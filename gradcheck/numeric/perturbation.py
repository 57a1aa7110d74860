"""Perturb-and-restore: the one piece that writes into the user's arrays.

Every write is undone from a saved copy of the original value, never by subtracting the
step, so restoration is exact to the bit. :class:`Snapshot` is the last line of defence:
whatever happens (an exception in the user's code, KeyboardInterrupt), ``restore()`` in a
``finally`` block copies every array back to its original bits.
"""

from __future__ import annotations

import numpy as np


class Snapshot:
    """Bit-exact copies of a mapping of arrays, taken at construction."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self._arrays = arrays
        self._copies = {name: arr.copy() for name, arr in arrays.items()}

    def changed(self) -> list[str]:
        """Names of arrays whose bits differ from the snapshot."""
        return [
            name
            for name, arr in self._arrays.items()
            if arr.tobytes() != self._copies[name].tobytes()
        ]

    def original(self, name: str) -> np.ndarray:
        return self._copies[name]

    def restore(self) -> None:
        """Copy every array back to its snapshot bits (a no-op where nothing changed)."""
        for name, arr in self._arrays.items():
            np.copyto(arr, self._copies[name], casting="no")


class EntryPerturber:
    """Set single entries of one array to chosen values and put them back.

    Works on a flat view when the array is contiguous (the fast path) and on
    multi-indices otherwise, so non-contiguous views are perturbed in place too.
    ``target[key]`` for ``key`` in ``keys(flat_indices)`` addresses the same entries as
    ``get``/``set``, without a method call per access (the loop that calls the loss uses it).
    """

    def __init__(self, array: np.ndarray):
        self.array = array
        self._flat = array.reshape(-1) if array.flags.c_contiguous else None
        self.target = self._flat if self._flat is not None else array

    def _index(self, flat_index: int):
        if self._flat is not None:
            return flat_index
        return np.unravel_index(flat_index, self.array.shape)

    def keys(self, flat_indices: np.ndarray) -> list:
        """One index into ``target`` per flat index: ints on the fast path, else index tuples."""
        flat_indices = np.asarray(flat_indices, dtype=np.intp)
        if self._flat is not None:
            return flat_indices.tolist()
        return list(zip(*(axis.tolist() for axis in np.unravel_index(flat_indices, self.array.shape))))

    def read(self, flat_indices: np.ndarray) -> np.ndarray:
        """The current values at ``flat_indices``, shape (k,), in the array's dtype (a copy)."""
        flat_indices = np.asarray(flat_indices, dtype=np.intp)
        if self._flat is not None:
            return self._flat[flat_indices]
        return self.array[np.unravel_index(flat_indices, self.array.shape)]

    def get(self, flat_index: int):
        return self.target[self._index(flat_index)]

    def set(self, flat_index: int, value) -> None:
        self.target[self._index(flat_index)] = value


def representable_step(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The step actually applied in the array's dtype: (x + h) - x, which may differ from h."""
    x = np.asarray(x)
    return ((x + h).astype(x.dtype) - x).astype(np.float64)
