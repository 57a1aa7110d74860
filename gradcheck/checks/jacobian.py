"""The Jacobian's diagonal only: a layer's input gradient that passes each output's gradient to
its own input alone, while the forward mixes entries (softmax's ``dx = dout * s * (1 - s)`` for
``s * (dout - sum(dout * s))``).

A layer checked on its own has an output shaped like its input (an activation, a softmax, a
layer norm over features) and its check controls the upstream gradient, so the evidence is
gathered directly, with a few more calls and no other numeric pass:

1. the backward is elementwise: with two independent upstream gradients dY1 and dY2, the ratio
   dX / dY is the same for both, entry for entry, within the claim tolerance, on every entry
   where both upstream entries are clearly nonzero (at least half of them, and at least
   :data:`MIN_WITNESSES` with a ratio above the absolute tolerance): each input's gradient reads
   only its own output's gradient;
2. the forward is not elementwise: moving one input entry (by a central step, for each of the
   :data:`PROBES` entries with the largest ratio) moves other output entries well above the
   rounding of their values;
3. the diagonal is right: at those entries the backward's ratio equals the central difference
   of the entry's own output, within the claim tolerance. So what is wrong is what the
   backward leaves out, the off-diagonal terms.

Only a failure whose diagnosis named no cause (``mismatch``) is explained this way, so the
diagnosis never turns a pass into a failure; a forward that does not give the same output
twice, a call that raises, or an array a call changes says nothing. :func:`diagonal_story` is
the rule, a pure function; :func:`explain_diagonal` gathers the numbers and rewrites the finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from gradcheck.checks.structure import MIN_WITNESSES, Story, retell
from gradcheck.errors import GradcheckError
from gradcheck.numeric.model import agree, claim_tolerance
from gradcheck.numeric.perturbation import Snapshot
from gradcheck.results import GradientCheckResult
from gradcheck.targets.usercode import UserCodeCrash

#: Input entries moved one at a time to see whether the forward mixes entries.
PROBES = 3
#: Upstream entries smaller than this (the draws are standard normal) do not tell a ratio.
SMALL_UPSTREAM = 0.1
#: An output moved by less than this many units of rounding of its value has not moved.
ROUNDING_UNITS = 64


@dataclass(frozen=True)
class Probe:
    """One input entry moved by a central step: its flat ``index``, the central difference of
    its own output (``diagonal``, the true Jacobian's diagonal there) and how many other outputs
    moved (``moved``)."""

    index: int
    diagonal: float
    moved: int


def diagonal_story(name: str, upstream: tuple[np.ndarray, np.ndarray], dX: tuple[np.ndarray, np.ndarray],
                   probes: list[Probe], *, rtol: float, atol: float) -> Story | None:
    """The story of :mod:`this module <gradcheck.checks.jacobian>`, or None when the numbers do
    not decide it.

    Parameters
    ----------
    name : str
        The input's name, for the words.
    upstream : (dY1, dY2), float arrays of the output's shape
    dX : (dX1, dX2), float arrays of the same shape
        What the backward returned for each upstream gradient, right after the same forward.
    probes : list of Probe
        The input entries moved one at a time (indices into the flattened input).
    rtol, atol : float
        The check's tolerances (the relations are held to :func:`claim_tolerance` of rtol).
    """
    dY1, dY2 = (np.asarray(a, dtype=np.float64).reshape(-1) for a in upstream)
    dX1, dX2 = (np.asarray(a, dtype=np.float64).reshape(-1) for a in dX)
    if not (dY1.shape == dY2.shape == dX1.shape == dX2.shape) or not probes:
        return None
    claim = claim_tolerance(rtol)
    usable = (np.abs(dY1) >= SMALL_UPSTREAM) & (np.abs(dY2) >= SMALL_UPSTREAM)
    if np.count_nonzero(usable) * 2 < dY1.size:
        return None
    with np.errstate(all="ignore"):
        r1, r2 = dX1[usable] / dY1[usable], dX2[usable] / dY2[usable]
    if not np.all(agree(r1, r2, claim, atol)):
        return None  # each input's gradient reads other outputs' gradients too: not elementwise
    if np.count_nonzero(np.abs(r1) > atol) < MIN_WITNESSES:
        return None
    ratio = np.full(dY1.shape, np.nan)
    ratio[usable] = r1
    for probe in probes:
        if probe.moved < 1 or not agree(ratio[probe.index], probe.diagonal, claim, atol):
            return None  # the forward is elementwise too, or the diagonal itself is wrong
    low, high = min(p.moved for p in probes), max(p.moved for p in probes)
    moved = f"{low}" if low == high else f"{low} to {high}"
    meaning = (f"the backward passes each output's gradient to its own input only (d{name} / dout "
               f"is the same for two upstream gradients on all {r1.size} entries that tell, and "
               f"equals the forward's own slope dout_i/d{name}_i), while the forward mixes entries: "
               f"moving one entry of {name} moves {moved} other outputs. The Jacobian's "
               "off-diagonal terms are missing (its diagonal only)")
    hint = (f"d{name} must be the upstream gradient times the full Jacobian, summed over every "
            f"output each entry of {name} reaches: for softmax, dx = s * (dout - sum(dout * s, "
            "axis=-1, keepdims=True)), not dout * s * (1 - s), which drops the off-diagonal "
            "-s_i s_j terms.")
    return Story("jacobian", meaning, hint,
                 {"how": "diagonal_only", "entries": int(r1.size), "outputs_moved": [low, high]})


def _probes(forward: Callable, X: np.ndarray, Y: np.ndarray, order: np.ndarray) -> list[Probe]:
    """Move each of the first :data:`PROBES` entries of ``order`` (flat indices of ``X``) by a
    central step, one at a time: the central difference of its own output, and how many other
    outputs moved above their rounding."""
    eps = float(np.finfo(Y.dtype).eps) if np.issubdtype(Y.dtype, np.floating) else float(np.finfo(np.float64).eps)
    step_base = float(np.cbrt(np.finfo(X.dtype).eps))
    probes = []
    for index in order[:PROBES]:
        x = float(X.reshape(-1)[index])
        plus, minus = X.copy(), X.copy()
        plus.reshape(-1)[index] = x + step_base * max(1.0, abs(x))
        minus.reshape(-1)[index] = x - step_base * max(1.0, abs(x))
        width = float(plus.reshape(-1)[index]) - float(minus.reshape(-1)[index])  # the steps as stored
        Yp, Ym = _output(forward, plus, Y.shape), _output(forward, minus, Y.shape)
        moved = np.abs(Yp - Ym) > ROUNDING_UNITS * eps * np.maximum(np.abs(Yp), np.abs(Ym))
        moved[index] = False
        probes.append(Probe(int(index), float((Yp[index] - Ym[index]) / width), int(np.count_nonzero(moved))))
    return probes


def _output(forward: Callable, X: np.ndarray, shape: tuple) -> np.ndarray:
    """The forward's output at ``X``, flattened, a float64 copy (a layer may reuse its buffer)."""
    Y = np.asarray(forward(X))
    if Y.shape != shape or not np.all(np.isfinite(Y)):
        raise _Unusable
    return np.array(Y, dtype=np.float64).reshape(-1)


class _Unusable(Exception):
    """A call whose result cannot serve as evidence (another shape, not finite, not repeatable)."""


def _evidence(forward: Callable, backward: Callable, X: np.ndarray, seed: int):
    """(upstream gradients, input gradients, probes), or None when the layer cannot give them."""
    Y = np.asarray(forward(X))
    if Y.shape != X.shape or Y.size < 2 or not np.issubdtype(Y.dtype, np.floating):
        return None
    Y = np.array(Y, copy=True)
    rng = np.random.default_rng([seed, 11])  # a stream of its own: not the check's upstream gradient
    upstream = tuple(rng.standard_normal(Y.shape).astype(Y.dtype) for _ in range(2))
    dX = []
    for dY in upstream:
        if not np.array_equal(_output(forward, X, Y.shape), Y.reshape(-1).astype(np.float64)):
            return None  # a forward that draws (dropout) gives no fixed Jacobian to compare with
        got = np.asarray(backward(dY.copy()))
        if got.shape != X.shape:
            return None
        dX.append(np.array(got, dtype=np.float64, copy=True))
    with np.errstate(all="ignore"):
        ratio = np.abs(dX[0] / upstream[0].astype(np.float64)).reshape(-1)
    ratio[~(np.abs(upstream[0].reshape(-1)) >= SMALL_UPSTREAM) | ~np.isfinite(ratio)] = -1.0
    order = np.argsort(-ratio, kind="stable")
    order = order[ratio[order] > 0]
    return upstream, tuple(dX), _probes(forward, X, Y, order)


def explain_diagonal(result: GradientCheckResult, name: str, forward: Callable[[np.ndarray], np.ndarray],
                     backward: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                     arrays: Mapping[str, np.ndarray], *, seed: int) -> GradientCheckResult:
    """Name ``name``'s unnamed failure in ``result`` when the backward passes the Jacobian's
    diagonal only (see the module docstring).

    Parameters
    ----------
    result : the layer's check; its report for ``name`` changes only through ``forget`` and ``fail``
    name : str
        The input argument's name in ``result``.
    forward : callable X -> Y, Y shaped like X
    backward : callable dY -> dX, called right after ``forward`` (the layer's cache)
    X : float ndarray
        The input the layer was checked at (read, never written).
    arrays : mapping str -> ndarray
        Every array a call could change (the input and the parameters): restored bit for bit
        afterwards, and no cause is named when a call changed one.
    seed : int
        Seeds the two upstream gradients.
    """
    report = next((r for r in result.params if r.name == name), None)
    failing = [] if report is None else [f for f in report.findings if f.is_failure]
    if len(failing) != 1 or failing[0].kind != "mismatch" or np.shape(X) != tuple(report.shape):
        return result
    X = np.array(X, copy=True)
    with Snapshot(dict(arrays)) as snapshot:
        try:
            with np.errstate(all="ignore"):
                evidence = _evidence(forward, backward, X, seed)
        except (_Unusable, UserCodeCrash, GradcheckError):
            evidence = None
        except Exception:  # noqa: BLE001 - numbers that cannot be gathered name nothing; the check stands
            evidence = None
        if snapshot.changed():
            evidence = None
    if evidence is None:
        return result
    upstream, dX, probes = evidence
    story = diagonal_story(name, upstream, dX, probes, rtol=result.rtol, atol=result.atol)
    if story is None:
        return result
    retell(report, failing[0], story)
    return result
