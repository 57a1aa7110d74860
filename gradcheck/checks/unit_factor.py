"""One factor per unit: an activation's derivative taken on the wrong value, seen from one
example and one time step.

With one example and one time step, a weight's gradient is an outer product, ``dW = x (x) dz``
(and a bias's is ``dz``): the gradient reaching each unit's pre-activation, ``dz``, times what
the weight multiplies. When the backward computes ``dz`` wrong by a factor of its own at each
unit (``dz_i = r_i * dz_true_i``), every parameter that feeds those units is off by the same
``r_i`` along its unit axis, whatever the other axes hold. That alone says only where the
mistake is (before the units, not in the weights' products); what it is comes from two more
batches of one example:

- the same input with another label: the gradient arriving at the units changes, their forward
  state does not. An elementwise derivative evaluated on the wrong value (``1 - a**2`` for
  ``1 - tanh(a)**2``, a gate's product taken with ``c`` for ``tanh(c)``) gives the same factors,
  since they depend on each unit's forward value alone; a mistake in the gradient arriving (a
  weight not transposed, a softmax's Jacobian) gives other ones;
- another input: a derivative's factors move with the units' values; a constant factor per
  unit (a scale of the unit's own, such as a layer norm's gain left out) does not.

Only when the factors hold on every entry of every failing parameter that carries a gradient,
differ between units, are nowhere 0 (a mask's), stay with the label and move with the input is
the cause named: ``derivative``, how ``unit_factor``. :func:`unit_factors` is the rule on arrays;
:func:`derivative_names` runs the three batches.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gradcheck.checks.evaluation import LossEvaluator
from gradcheck.checks.structure import Story
from gradcheck.numeric.differences import entry_differences
from gradcheck.targets.protocol import bound_loss, target_params
from gradcheck.targets.tasks import Task

#: Fewest units whose factor must be resolved, and fewest that must differ from the others.
MIN_UNITS = 3
#: Entries a batch may difference in all (the failing parameters together); above it the test is
#: not run (one example and one step keep a small network's parameters well under it).
MAX_ENTRIES = 4096
#: The relative step of the central differences, for a float64 network.
STEP = 1e-6
#: How closely a relation must hold: relative to the entry, and to the largest numeric entry.
RTOL, ATOL = 1e-4, 1e-7


def unit_factors(analytic: Mapping[str, np.ndarray], numeric: Mapping[str, np.ndarray]) \
        -> tuple[int, np.ndarray, list[str]] | None:
    """``(U, r, names)``: a unit axis of length ``U`` shared by every parameter of ``numeric``
    that carries a gradient (``names``), along which ``analytic = r_i * numeric`` on every entry,
    with one ``r`` (shape ``(U,)``, NaN at units no parameter resolves) for all of them; None when
    no such axis exists or it is not told by at least :data:`MIN_UNITS` resolved units. A
    parameter with two axes of that length (a square weight) takes whichever holds."""
    scale = max((float(np.max(np.abs(n), initial=0.0)) for n in numeric.values()), default=0.0)
    if scale == 0.0:
        return None
    atol = ATOL * scale
    live = [name for name in numeric if np.any(np.abs(numeric[name]) > atol)
            or np.any(np.abs(analytic[name]) > atol)]
    lengths = sorted({n for name in live for n in np.shape(numeric[name]) if n >= MIN_UNITS})
    for length in lengths:
        found = _factors_along(length, {n: analytic[n] for n in live}, {n: numeric[n] for n in live}, atol)
        if found is not None and np.count_nonzero(np.isfinite(found)) >= MIN_UNITS:
            return length, found, live
    return None


def _factors_along(length: int, analytic, numeric, atol: float) -> np.ndarray | None:
    """One factor per unit along an axis of ``length`` holding for every parameter, or None."""
    combined = np.full(length, np.nan)
    for name, N in numeric.items():
        A = np.asarray(analytic[name], dtype=np.float64)
        held = None
        for axis in [a for a, n in enumerate(np.shape(N)) if n == length]:
            r = _per_unit(np.moveaxis(A, axis, 0).reshape(length, -1),
                          np.moveaxis(N, axis, 0).reshape(length, -1), atol)
            if r is not None and _consistent(combined, r):
                held = r
                break
        if held is None:
            return None
        combined = np.where(np.isfinite(combined), combined, held)
    return combined


def _per_unit(A: np.ndarray, N: np.ndarray, atol: float) -> np.ndarray | None:
    """``r`` with ``A[i] = r[i] * N[i]`` on every entry (NaN where row i of N is all below
    ``atol``, which A must then be too), or None."""
    norms = np.sum(N * N, axis=1)
    resolved = np.max(np.abs(N), axis=1) > atol
    r = np.where(resolved, np.sum(A * N, axis=1) / np.where(resolved, norms, 1.0), np.nan)
    predicted = np.where(resolved[:, None], np.nan_to_num(r)[:, None] * N, 0.0)
    if not np.all(np.abs(A - predicted) <= atol + RTOL * np.abs(A)):
        return None
    return r


def _consistent(a: np.ndarray, b: np.ndarray) -> bool:
    """Two factor vectors agree on every unit both resolve."""
    both = np.isfinite(a) & np.isfinite(b)
    return bool(np.all(np.abs(a[both] - b[both]) <= 10 * RTOL * np.maximum(np.abs(a[both]), np.abs(b[both]))))


def _varied(r: np.ndarray) -> bool:
    """The factors differ between units, clearly, and none is 0."""
    told = r[np.isfinite(r)]
    if told.size < MIN_UNITS or np.any(np.abs(told) <= 1e-3 * np.max(np.abs(told))):
        return False
    far = np.abs(told - np.median(told)) > 10 * RTOL * np.max(np.abs(told))
    return int(np.count_nonzero(far)) >= 1


def _differences(target, X, y, array: np.ndarray):
    """Central differences of the loss on ``(X, y)`` at every entry of ``array`` (restored)."""
    loss = LossEvaluator(bound_loss(target, X, y))  # many entries per round trip for a target elsewhere
    return entry_differences(loss, array, np.arange(array.size), STEP, float(loss()))


def _numeric(target, X, y, array: np.ndarray) -> np.ndarray:
    return _differences(target, X, y, array).central.reshape(array.shape)


def _ignored_entries(target, X, y, array: np.ndarray) -> np.ndarray:
    """The entries of ``array`` the loss on ``(X, y)`` does not depend on: moving each leaves
    the loss bit for bit the same."""
    return _differences(target, X, y, array).unmoved.reshape(array.shape)


def _factors_on(target, X, y, names: list[str], earlier=None) -> tuple[int, np.ndarray, list[str]] | None:
    """The factors per unit of ``names`` on ``(X, y)``; with ``earlier`` (the same example's
    first step alone), on the entries that first step ignores only: what the later step alone
    sends them."""
    params = target_params(target)
    grads = dict(target.gradients(X, y))
    analytic = {n: np.asarray(grads[n], dtype=np.float64) for n in names}
    if any(analytic[n].shape != np.shape(params[n]) for n in names):
        return None
    numeric = {n: _numeric(target, X, y, params[n]) for n in names}
    if earlier is not None:
        for n in names:
            later_only = _ignored_entries(target, *earlier, params[n])
            analytic[n], numeric[n] = analytic[n] * later_only, numeric[n] * later_only
    return unit_factors(analytic, numeric)


def other_label(y: np.ndarray, task: Task) -> np.ndarray:
    """Labels of the same form that differ from ``y`` everywhere: the next class, the other
    value of a 0/1 label, a regression target moved by one."""
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.integer):
        k = int(task.n_outputs) if task.n_outputs >= 2 else int(y.max(initial=0)) + 2
        return (y + 1) % k
    if task.name in ("binary", "multilabel"):
        return (1 - y).astype(y.dtype)
    return (y + 1).astype(y.dtype)


def derivative_names(target, X: np.ndarray, y: np.ndarray, names: list[str], task: Task,
                     first_steps: tuple | None = None) -> list[str]:
    """The names among ``names`` whose error is a derivative's factor per unit (see the module
    docstring), on ``(X, y)``: a float64 target and a one-step batch of at least two examples
    (the first is checked with its label and with another, the second for another input).

    ``first_steps``: ``(X1, y1)``, the first step alone of a two-step batch ``(X, y)`` whose
    second step reads what the first never does (:func:`gradcheck.targets.batches.fresh_last_step`).
    Then only the entries the first step ignores are compared: a recurrent weight, which meets
    the zero initial state there, and the rows of what only the last step reads. They get the
    last step's gradient alone, which is an outer product again, so a derivative wrong at every
    step is seen there even when what it sends back mixes the units at the first step.
    Empty when the test cannot run or does not hold."""
    params = target_params(target)
    if sum(int(np.size(params[n])) for n in names) > MAX_ENTRIES or np.shape(X)[0] < 2:
        return []
    k = next((k for k in range(1, np.shape(X)[0]) if not np.array_equal(X[k], X[0])), None)
    if k is None:
        return []

    def example(i: int):
        one = (X[i:i + 1], y[i:i + 1])
        early = None if first_steps is None else (first_steps[0][i:i + 1], first_steps[1][i:i + 1])
        return one, early

    (X0, y0), early0 = example(0)
    base = _factors_on(target, X0, y0, names, early0)
    if base is None or not _varied(base[1]):
        return []
    length, r, explained = base
    relabelled = _factors_on(target, X0, other_label(y0, task), names, early0)
    (Xk, yk), earlyk = example(k)
    moved = _factors_on(target, Xk, yk, names, earlyk)
    if relabelled is None or moved is None or relabelled[0] != length or moved[0] != length:
        return []
    if not _consistent(r, relabelled[1]) or _consistent(r, moved[1]):
        return []
    return explained


def derivative_story(name: str, *, last_step: bool = False) -> Story:
    """The story of a parameter whose error is a derivative's factor per unit: seen with one
    example and one time step, or (``last_step``) on the entries only a second step reads."""
    where = ("with one example and two time steps, on the entries only the last step reads, "
             if last_step else "with one example and one time step ")
    return Story(
        "derivative",
        f"{where}the analytic gradient is the numeric one times a factor of each unit, the same "
        "in every parameter feeding that unit; the factors stay when only the label changes and "
        "move with the input: the derivative of an activation (or of a gate's product) is "
        "evaluated on the wrong value",
        f"Recompute each elementwise derivative on the value the forward used: tanh' is "
        f"1 - tanh(a)**2 = 1 - h**2 (not 1 - a**2), sigmoid' is s * (1 - s) of the gate's output, "
        f"and a gate multiplying tanh(c) gets tanh(c) in its gradient, not c; d{name} inherits it.",
        {"how": "unit_factor", "removed": "later_example" if last_step else "example"})
