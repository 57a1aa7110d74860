"""The first step's outputs alone: gradient that reaches what only later steps read.

A network of sequences whose error needs several time steps (:mod:`gradcheck.checks.through_time`)
and that exposes its output and its backward from a given upstream gradient (``outputs(X)`` and
``output_gradients(X, dY)``, as :func:`gradcheck.adapters.tape` targets do) is checked once more
on the same batch with a loss that reads the first step's outputs only: ``sum(Y[:, 0] * C)``
for a fixed random ``C``. In a causal network (an RNN, a masked attention) that loss does not
depend on what only later steps read: the rows of a position table past the first, say. The
entries where it provably does not, every move of the entry leaving the loss bit for bit the
same, and where the backward still sends a clearly nonzero gradient are evidence that the
backward lets a later step reach an earlier one's gradient: ``routing``, how ``later_leak``
(a causal mask applied in the forward and left out of the backward). A network that is not
causal has no such entries, and then this says nothing.
"""

from __future__ import annotations

import numpy as np

from gradcheck.checks.structure import MIN_WITNESSES, Story
from gradcheck.numeric.differences import entry_differences

#: Entries differenced per parameter at most; a larger parameter is not looked at.
MAX_ENTRIES = 4096
#: The relative step of the central differences (the network is float64 here).
STEP = 1e-6
#: A gradient entry is clearly nonzero above this share of the parameter's largest.
CLEAR = 1e-6


def first_step_upstream(out: np.ndarray, X: np.ndarray, seed: int = 0) -> np.ndarray | None:
    """A random upstream gradient shaped like ``out`` that is 0 past the first time step, or
    None when ``out`` does not start with ``X``'s (examples, steps) axes."""
    X, out = np.asarray(X), np.asarray(out)
    if X.ndim < 2 or out.ndim < 2 or out.shape[:2] != X.shape[:2] or X.shape[1] < 2:
        return None
    C = np.random.default_rng(seed).standard_normal(out.shape)
    C[:, 1:] = 0.0
    return C.astype(out.dtype)


def leaked_entries(target, X: np.ndarray, array: np.ndarray, name: str, C: np.ndarray) -> int:
    """How many entries of ``array`` the loss ``sum(outputs(X) * C)`` does not depend on at all
    while its analytic gradient there is clearly nonzero. Each entry is restored bit for bit."""
    def loss() -> float:
        return float(np.sum(np.asarray(target.outputs(X), dtype=np.float64) * C))

    analytic = np.asarray(target.output_gradients(X, C)[name], dtype=np.float64).reshape(-1)
    ignored = entry_differences(loss, array, np.arange(array.size), STEP, loss()).unmoved
    clear = np.abs(analytic) > CLEAR * max(float(np.max(np.abs(analytic), initial=0.0)), 1e-300)
    return int(np.count_nonzero(ignored & clear))


def leaking_names(target, X: np.ndarray, names: list[str], params: dict, seed: int = 0) -> dict[str, int]:
    """name -> entries leaked to (see :func:`leaked_entries`), for the names among ``names``
    with at least :data:`MIN_WITNESSES`; empty when ``target`` cannot be asked for its outputs."""
    if not (callable(getattr(target, "outputs", None)) and callable(getattr(target, "output_gradients", None))):
        return {}
    C = first_step_upstream(target.outputs(X), X, seed)
    if C is None:
        return {}
    found = {}
    for name in names:
        array = params[name]
        if array.size > MAX_ENTRIES or not np.issubdtype(array.dtype, np.floating):
            continue
        n = leaked_entries(target, X, array, name, C)
        if n >= MIN_WITNESSES:
            found[name] = n
    return found


def leak_story(name: str, entries: int) -> Story:
    """The story of a parameter that got gradient from the first step's outputs at entries only
    later steps read."""
    return Story(
        "routing",
        f"with a loss reading only the first time step's outputs, {entries} entries of {name} "
        "leave the loss bit for bit the same (only later steps read them), yet the backward sends "
        "them gradient: a later step reaches the gradient of an earlier one",
        "The backward must let each step's gradient flow only where the forward let its values "
        "flow: apply the forward's causal mask in the backward too (to the attention weights it "
        "recomputes, or to the scores' gradient), so no position sends gradient to later ones.",
        {"how": "later_leak", "removed": "later_outputs", "entries": entries})
