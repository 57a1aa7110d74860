"""A layer list's forward that reuses the unchanged prefix: when a gradient check perturbs an entry
of layer k, layers 0 to k-1 see the same input and parameters as in the previous call, so their
outputs are taken from the last call instead of being computed again.

A layer's output is reused only when its input and every one of its parameters are the same, bit
for bit, as when that output was computed. That is exact for a layer whose forward is a function
of its input and its own parameters, which is what a layer list promises; a layer that also reads
something else (another layer's array through a reference of its own, a global that changes) would
be given a stale output. So each new way of reusing (the first layer run, and which of its
parameters changed) is compared once with the whole forward, bit for bit; on any difference the
memo turns itself off for good and says why in :attr:`ForwardMemo.note`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def _bits(a) -> tuple:
    """What makes two arrays the same bit for bit: shape, dtype and bytes (so -0.0 is not 0.0,
    and a NaN is the same NaN)."""
    a = np.asarray(a)
    return a.shape, a.dtype, a.tobytes()


class _Computed:
    """What a layer last computed: the bits of its input and of its parameters, and a copy of its
    output."""

    __slots__ = ("input", "params", "output")

    def __init__(self, X, params: dict[str, np.ndarray], output):
        self.input = _bits(X)
        self.params = {name: _bits(value) for name, value in params.items()}
        self.output = np.array(output, copy=True)

    def changed(self, params: dict[str, np.ndarray]) -> tuple[str, ...] | None:
        """The names of the parameters that differ now (empty when none), or None when the layer's
        parameters are no longer the same set of names."""
        if params.keys() != self.params.keys():
            return None
        return tuple(name for name, value in params.items() if _bits(value) != self.params[name])


class ForwardMemo:
    """The forward of ``layers``, reusing every layer output that cannot have changed since the
    last call: ``run(layer, X)`` is a layer's output, ``slots(layer)`` the keys of its parameters
    (asked once), ``read(layer, key)`` one of them (the live array, read at each call). The three
    take the layer as an argument, so a deep copy of the memo works on the copied layers.

    ``forward(X)`` returns what running every layer in turn returns. ``note`` is None while the
    memo is in use, else the sentence saying why it stopped (a reused output that differed from
    the whole forward's).
    """

    def __init__(self, layers: Sequence, run: Callable[[object, np.ndarray], np.ndarray],
                 slots: Callable[[object], list], read: Callable[[object, object], np.ndarray]):
        self._layers = list(layers)
        self._run = run
        self._read = read
        self._slots = [list(slots(layer)) for layer in self._layers]
        self._computed: list[_Computed | None] = [None] * len(self._layers)
        self._verified: set[tuple] = set()
        self.note: str | None = None
        #: Layers run and layers reused, over every call (what the memo saved).
        self.runs = 0
        self.reuses = 0

    def forward(self, X: np.ndarray):
        if self.note is not None:
            return self._from(0, X)
        start, key = self._first_to_run(X)
        if start in (0, len(self._layers)):
            # nothing changed: the whole forward, so a repeated call shows a forward that does not
            # repeat, and the time guard's timed calls cost what an evaluation without reuse costs
            return self._from(0, X)
        if key not in self._verified:
            return self._verify(start, key, X)
        self.reuses += start
        return self._from(start, np.array(self._computed[start - 1].output, copy=True))

    def _params(self, i: int) -> dict[str, np.ndarray]:
        layer = self._layers[i]
        return {str(short): self._read(layer, key) for short, key in self._slots[i]}

    def _first_to_run(self, X) -> tuple[int, tuple]:
        """(index of the first layer whose output cannot be reused, (that index, its parameters
        that changed)). A reused layer's input is the previous layer's output as last computed,
        since a layer that runs makes every later layer run too."""
        first = self._computed[0]
        if first is None or _bits(X) != first.input:
            return 0, (0,)
        for i in range(len(self._layers)):
            computed = self._computed[i]
            changed = None if computed is None else computed.changed(self._params(i))
            if changed is None or changed:
                return i, (i, changed)
        return len(self._layers), ()

    def _from(self, start: int, X):
        for i in range(start, len(self._layers)):
            layer = self._layers[i]
            out = self._run(layer, X)
            self._computed[i] = _Computed(X, self._params(i), out)
            self.runs += 1
            X = np.array(out, copy=True)  # the next layer may write into its input
        return X

    def _verify(self, start: int, key: tuple, X):
        """The first reuse of its kind, checked against the whole forward, bit for bit."""
        reused = self._from(start, np.array(self._computed[start - 1].output, copy=True))
        whole = self._from(0, X)
        if _bits(reused) == _bits(whole):
            self._verified.add(key)
        else:
            self.note = (f"the network's output computed from layer {start + 1} on, with the earlier "
                         "layers' outputs kept from the previous call, differed from the whole "
                         "forward's: a layer reads more than its input and its own parameters, so "
                         "every loss evaluation ran the whole forward")
        return whole
