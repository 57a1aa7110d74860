"""Windows put back in the wrong place: a layer's input gradient right for its output's first
entry and, for its last, the right values at the wrong input entries (a convolution's or a
pooling's backward that forgets the stride, or starts its windows at another offset).

A layer checked on its own controls its upstream gradient, so one row of its Jacobian at a time
can be asked for: ``backward(e)`` with ``e`` one at a single output entry is that entry's
gradient with respect to the input, and central differences of the forward give every row at
once (two forward calls per input entry). Two rows are compared, the first entry of the output
(the first example, index 0 along every other axis: the window at the origin) and the last entry
of the first example (the window farthest from it):

1. the first row is right on every entry, with at least :data:`MIN_WITNESSES` clearly nonzero:
   the window at the origin is read and sent back correctly, so the kernel, its orientation and
   the values are right;
2. the last row is wrong, and its clearly nonzero values are the numeric row's clearly nonzero
   values, as many and the same once sorted, at other input entries: the same window's gradient,
   sent back to the wrong place.

Then the backward places windows other than the first with another stride or offset than the
forward (``orientation``, how ``misplaced_windows``, which names an index or an orientation).
Only an input failure that names no cause (``mismatch``), on an input of at most
:data:`MAX_INPUT` entries, is explained this way; a call that raises, or changes an array,
says nothing. :func:`misplaced_story` is the rule, a pure function; :func:`explain_misplaced`
gathers the rows and rewrites the finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from gradcheck.checks.structure import MIN_WITNESSES, Story, retell
from gradcheck.errors import GradcheckError
from gradcheck.numeric.model import agree, claim_tolerance
from gradcheck.numeric.perturbation import Snapshot
from gradcheck.results import GradientCheckResult
from gradcheck.targets.usercode import UserCodeCrash

#: Input entries the rows are differenced over at most (each costs two forward calls).
MAX_INPUT = 4096
#: The central step, relative to an entry's size (at least 1).
STEP = 1e-5


def misplaced_story(name: str, rows: Mapping[str, tuple[np.ndarray, np.ndarray]], *, rtol: float,
                    atol: float) -> Story | None:
    """The story of ``rows`` (``"first"`` and ``"last"``: (analytic, numeric) gradients of one
    output entry with respect to the input), or None (see the module docstring)."""
    tol = claim_tolerance(rtol)
    A0, N0 = rows["first"]
    A1, N1 = rows["last"]
    if not np.all(agree(A0, N0, tol, atol)) or np.count_nonzero(np.abs(N0) > 4 * atol) < MIN_WITNESSES:
        return None
    if np.all(agree(A1, N1, tol, atol)):
        return None
    live_a, live_n = np.abs(A1) > 4 * atol, np.abs(N1) > 4 * atol
    if np.count_nonzero(live_n) < MIN_WITNESSES or np.count_nonzero(live_a) != np.count_nonzero(live_n) \
            or np.array_equal(live_a, live_n):
        return None
    if not np.all(agree(np.sort(A1[live_a]), np.sort(N1[live_n]), tol, atol)):
        return None
    return Story(
        "orientation",
        "the gradient of the output's first entry is right; that of its last entry has the right "
        "values at the wrong input entries: windows other than the first are sent back to another "
        "place than the forward read them from (a stride or an offset)",
        f"Send each output position's gradient back to the window the forward read: with stride s "
        f"and padding p, output (i, j) reads input rows i*s - p ... i*s - p + k - 1; d{name} must "
        "add into those same rows and columns.",
        {"how": "misplaced_windows"})


def _rows(forward, backward, X: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The analytic and numeric gradients of the output's first and last entry (of the first
    example) with respect to ``X``."""
    Y = np.asarray(forward(X), dtype=np.float64)
    entries = {"first": (0,) * Y.ndim, "last": (0,) + tuple(n - 1 for n in Y.shape[1:])}
    analytic = {}
    for which, entry in entries.items():
        e = np.zeros(Y.shape, dtype=np.asarray(X).dtype)
        e[entry] = 1
        forward(X)  # the cache of this input, for the backward
        analytic[which] = np.asarray(backward(e), dtype=np.float64).reshape(X.shape)
    numeric = {which: np.zeros(X.shape) for which in entries}
    flat = X.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        h = STEP * max(1.0, abs(float(original)))
        flat[i] = original + h
        high = float(flat[i])
        plus = np.asarray(forward(X), dtype=np.float64)
        flat[i] = original - h
        low = float(flat[i])
        minus = np.asarray(forward(X), dtype=np.float64)
        flat[i] = original
        step = high - low
        for which, entry in entries.items():
            numeric[which].reshape(-1)[i] = (plus[entry] - minus[entry]) / step
    return {which: (analytic[which], numeric[which]) for which in entries}


def explain_misplaced(result: GradientCheckResult, name: str, forward: Callable[[np.ndarray], np.ndarray],
                      backward: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                      arrays: Mapping[str, np.ndarray]) -> GradientCheckResult:
    """Name ``name``'s unnamed failure in ``result`` when the backward puts windows back in the
    wrong place (see the module docstring). ``forward``/``backward`` as for
    :func:`gradcheck.checks.jacobian.explain_diagonal`; ``X`` is read, never written; every
    array of ``arrays`` is restored bit for bit afterwards."""
    report = next((r for r in result.params if r.name == name), None)
    failing = [] if report is None else [f for f in report.findings if f.is_failure]
    if len(failing) != 1 or failing[0].kind != "mismatch" or np.size(X) > MAX_INPUT \
            or np.ndim(X) < 2 or np.shape(X) != tuple(report.shape):
        return result
    X = np.array(X, copy=True)
    with Snapshot(dict(arrays)) as snapshot:
        try:
            with np.errstate(all="ignore"):
                rows = _rows(forward, backward, X)
        except (UserCodeCrash, GradcheckError, ValueError, TypeError):
            rows = None
        except Exception:  # noqa: BLE001 - rows that cannot be gathered name nothing; the check stands
            rows = None
        if snapshot.changed():
            rows = None
    story = None if rows is None else misplaced_story(name, rows, rtol=result.rtol, atol=result.atol)
    if story is None:
        return result
    retell(report, failing[0], story)
    return result
