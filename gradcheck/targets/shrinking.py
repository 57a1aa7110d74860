"""The smallest input a layer can be checked on by itself: fewer examples and, along each axis the
layer lets shrink (an image's height and width, a sequence's steps), the fewest positions that still
give it several output positions.

A convolution's weights do not depend on the image's size, so checking it on a 3x3 corner of its
28x28 input differences every weight entry and every input entry of that corner at a small
fraction of the cost. An axis the layer's weights depend on (a convolution's channels, a dense
layer's features) cannot shrink: the layer raises, or returns an output of another shape, and that
axis keeps its size. Nothing is assumed about the layer: each smaller input is tried (a forward
and a backward) and kept only when the layer takes it as it takes the full one.

Only inputs of 3 or more dimensions are shrunk (images, sequences); a row of features is a dense
layer's business and stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradcheck.numeric.perturbation import Snapshot

#: Examples a shrunk input keeps: two, so a sum over the examples axis still adds something.
EXAMPLES = 2
#: Sizes tried along one axis, counting up from the smallest: enough for a kernel of 8 at stride 4.
TRIALS = 16
#: Output positions wanted along a shrunk axis (or all the full input gives, when fewer): a window
#: at each border and one inside, so an index off by one or a wrong stride shows.
POSITIONS = 3
#: Output positions along a shrunk axis for a second look when the input's failure named no cause:
#: an error at an edge (the last window's rows never sent back) fills most of a 3-position corner
#: and only a band of a wider one, which the diagnosis can tell.
WIDER_POSITIONS = 9


@dataclass(frozen=True)
class Shrunk:
    """A layer's input for its own check: ``X`` (a corner of the full input) and ``note`` (what
    was done and why, for the result's notes; None when the input is the full one unchanged)."""

    X: np.ndarray
    note: str | None = None


class _Refused(Exception):
    """A smaller input the layer does not take as it takes the full one."""


def smallest_input(view, X: np.ndarray, positions: int = POSITIONS) -> Shrunk:
    """The corner of ``X`` the layer ``view`` is checked on (see the module docstring): the
    smallest giving ``positions`` output positions along each axis that shrinks (or all the full
    input gives).

    Parameters
    ----------
    view : a layer with ``forward(X) -> Y``, ``backward(dY) -> dX``, ``params`` (name -> live
        array) and ``param_grads()`` (:class:`gradcheck.targets.layers.LayerView`)
    X : float ndarray, (n, ...) with the examples first
        The layer's input in the whole network.

    Every trial's forward and backward run on the layer itself; its parameters are restored bit for
    bit afterwards.
    """
    X = np.asarray(X)
    if X.ndim < 3:
        return Shrunk(X)
    full = tuple(X.shape)
    with Snapshot(dict(view.params)):
        shape = list(full)
        shape[0] = min(full[0], EXAMPLES)
        try:
            out, grads = _output_shape(view, _corner(X, shape))
        except _Refused as refused:
            return Shrunk(X, f"checked on its full input {full}: on {tuple(shape)} {refused}")
        # an output of another rank (a flattening layer, a global pool): no axis maps to the
        # input's, so only the examples shrink
        axes = range(1, X.ndim) if len(out) == X.ndim else ()
        for axis in axes:
            wanted = min(positions, out[axis])
            first = min(positions, full[axis])
            for size in range(first, min(full[axis], first + TRIALS)):
                trial = [*shape[:axis], size, *shape[axis + 1:]]
                try:
                    got, got_grads = _output_shape(view, _corner(X, trial))
                except _Refused:
                    continue
                if got_grads == grads and _same_but(got, out, axis) and got[axis] >= wanted:
                    shape, out = trial, got
                    break
    small = tuple(shape)
    if small == full:
        return Shrunk(X)
    if tuple(shape[1:]) == full[1:]:
        why = ("smaller inputs raised or changed the output's other dimensions" if len(out) == X.ndim
               else f"its output {tuple(out)} has no axis that maps to one of its input's")
        return Shrunk(_corner(X, small), f"checked on {small[0]} of the network's {full[0]} examples "
                      f"at the full size of the rest, {small[1:]}: {why}")
    return Shrunk(_corner(X, small), f"checked on a corner {small} of its input {full} in the "
                  f"network (the fewest positions along each axis the layer lets shrink that still "
                  f"give it {positions} output positions); its parameters do not depend on those sizes, "
                  "and the whole network's checks use the full size")


def _corner(X: np.ndarray, shape) -> np.ndarray:
    return np.array(X[tuple(slice(0, s) for s in shape)], copy=True)


def _same_but(got: tuple, out: tuple, axis: int) -> bool:
    """``got`` is ``out`` with at most ``axis`` smaller (and the example count unchanged)."""
    if len(got) != len(out):
        return False
    return all(g == o if i != axis else g <= o for i, (g, o) in enumerate(zip(got, out)))


def _output_shape(view, X: np.ndarray) -> tuple[tuple, dict]:
    """The layer's output shape on ``X`` and its parameter gradients' shapes, after checking it
    takes ``X``: a finite float output with the examples first and a finite input gradient of X's
    shape. Raises :class:`_Refused` saying what went wrong.

    A parameter gradient of the wrong shape is the layer check's to report (a bias summed over the
    wrong axis): a smaller input is only held to give the same shapes as the first trial."""
    try:
        Y = np.asarray(view.forward(X.copy()))
        if Y.ndim == 0 or Y.shape[0] != X.shape[0] or not np.issubdtype(Y.dtype, np.floating):
            raise _Refused(f"the output has shape {Y.shape}")
        dY = np.random.default_rng(0).standard_normal(Y.shape).astype(Y.dtype)
        dX = view.backward(dY)
        if isinstance(dX, tuple):  # (dX, {name: grad}) layers
            dX = dX[0]
        # a first layer may return no input gradient when its view says so
        unchecked = dX is None and getattr(view, "input_gradient", True) is None
        if not unchecked and np.shape(dX) != X.shape:
            raise _Refused(f"the input gradient has shape {np.shape(dX)}")
        grads = {name: np.shape(grad) for name, grad in view.param_grads().items()}
        if not (np.all(np.isfinite(Y)) and (unchecked or np.all(np.isfinite(dX)))):
            raise _Refused("the output or input gradient is not finite")
    except _Refused:
        raise
    except Exception as exc:  # noqa: BLE001 - a layer refusing a size raises whatever it raises
        raise _Refused(f"it raised {type(exc).__name__}") from None
    return tuple(Y.shape), grads
