"""Check one parameter: finite differences (entry-wise or directional), verdict, diagnosis."""

from __future__ import annotations

import numpy as np

from gradcheck.checks.diagnosis import diagnose_values, format_index
from gradcheck.checks.kinks import kink_mask, shrinking_steps
from gradcheck.numeric.differences import directional_difference, entry_differences, richardson
from gradcheck.numeric.model import (
    REPEAT_UNITS,
    LossPrecision,
    Tolerance,
    agree,
    entries_pass,
    eps_of,
    relative_error,
    relative_rounding,
    smallest_step,
)
from gradcheck.numeric.selection import DEFAULT_SAMPLES, rademacher_directions, sample_indices
from gradcheck.results import ParamReport
from gradcheck.results.findings import Finding

#: Parameters up to this size get a full follow-up check when a directional check fails.
FOLLOW_UP_FULL = 128
#: Otherwise this many sampled entries are checked to diagnose the failure.
FOLLOW_UP_SAMPLES = 32
#: When the sampled entries agree and some sit next to kinks, parameters up to this size are
#: checked entry by entry (a direction crosses many kinks at once; an entry crosses few).
FOLLOW_UP_KINKS = 4096
#: Largest side of an error heatmap.
MAP_SIDE = 64
#: A step resolves an entry when its rounding noise is at most this fraction of the entry's size
#: (the kink machinery's smaller steps must tell a right value from a wrong one clearly).
RESOLVE_FRACTION = 0.25
#: An entry is hidden by rounding when the noise floor at the check's step (the pass rule's
#: atol, many standard deviations of measured rounding) is above its size: a right value could
#: then not be told from 0 or from 2x.
HIDDEN_FRACTION = 1.0
#: A second opinion (:meth:`ParamChecker._second_opinion`) is taken when at most this share of a
#: parameter's checked entries fail, or at most this many: kinks touch a few entries, a wrong
#: formula most of them.
SECOND_OPINION_SHARE = 0.25
SECOND_OPINION_MIN = 8


def error_map(abs_error: np.ndarray) -> list[list[float]]:
    """|a - n| as a 2-D grid of at most MAP_SIDE x MAP_SIDE cells (mean-pooled)."""
    grid = abs_error.reshape(1, -1) if abs_error.ndim < 2 else abs_error.reshape(abs_error.shape[0], -1)
    rows = np.array_split(np.arange(grid.shape[0]), min(MAP_SIDE, grid.shape[0]))
    cols = np.array_split(np.arange(grid.shape[1]), min(MAP_SIDE, grid.shape[1]))
    return [[float(np.mean(grid[np.ix_(r, c)])) for c in cols] for r in rows]


class ParamChecker:
    """Checks parameters one at a time against a shared loss evaluator and tolerance.

    Parameters
    ----------
    evaluate : zero-argument callable returning the loss as float (counts calls).
    f0 : loss at the unperturbed parameters.
    tol : Tolerance for the dtype the loss computes in (``precision.dtype``).
    step_base : relative step (h = step_base * max(1, |x|)).
    method : "central" or "richardson".
    user_atol : atol given by the caller, or None to use max(tol.atol, noise floor).
    context : CodeContext, what the diagnosis knows of the code (the batch size names a 1/m).
    parallel : ParallelDifferences or None, passed on to entry_differences (worker processes).
    precision : LossPrecision, the loss's measured precision and rounding (default: the model's
        for ``tol.dtype``).
    peers : mapping of every parameter of the check (name -> array), for the diagnosis.
    peer_gradients : mapping name -> the analytic gradient returned for each parameter, for the
        diagnosis (a gradient that is a copy of another parameter's).
    grad_dtypes : mapping name -> dtype of the gradient arrays as returned; a gradient narrower
        than the loss's precision carries its own rounding, allowed for in atol.
    """

    def __init__(self, evaluate, f0, tol: Tolerance, step_base, method, user_atol, context, where,
                 parallel=None, precision: LossPrecision | None = None, grad_dtypes=None,
                 peers=None, peer_gradients=None):
        self.evaluate = evaluate
        self.f0 = f0
        self.tol = tol
        self.step_base = step_base
        self.method = method
        self.user_atol = user_atol
        self.context = context
        self.set_where = where
        self.parallel = parallel
        self.peers = peers or {}
        self.peer_gradients = peer_gradients or {}
        self.precision = precision or LossPrecision.modelled(f0, tol.dtype)
        self.grad_dtypes = dict(grad_dtypes or {})
        self._analytic_rounding: dict[str, float] = {}

    def use(self, tol: Tolerance, step_base: float, precision: LossPrecision) -> None:
        """Judge the next parameter by ``precision`` (the loss's along it), its tolerance and step."""
        self.tol, self.step_base, self.precision = tol, step_base, precision

    def noise(self, step: float) -> float:
        """What a difference over ``step`` carries from the loss's rounding."""
        return self.precision.noise(step)

    def atol(self, name: str | None = None) -> float:
        """The absolute tolerance of an entry of ``name``: the caller's, else the larger of the
        dtype's, the loss's rounding at the step, and the rounding of a gradient returned in a
        narrower dtype than the loss computes in."""
        if self.user_atol is not None:
            return self.user_atol
        return max(self.tol.atol, self.noise(self.step_base), self._analytic_rounding.get(name, 0.0))

    def allow_analytic_rounding(self, name: str, analytic: np.ndarray) -> None:
        """A gradient returned in a narrower dtype than the loss computes in (float32 arrays
        accumulated from float64 terms) is only that precise: its entries may be off by the
        rounding of its largest."""
        dtype = self.grad_dtypes.get(name)
        if dtype is None or eps_of(dtype) <= eps_of(self.precision.dtype):
            return
        finite = np.abs(analytic[np.isfinite(analytic)])
        largest = float(np.max(finite)) if finite.size else 0.0
        self._analytic_rounding[name] = float(relative_rounding(largest, dtype, units=REPEAT_UNITS))

    def shrink_floor(self, array: np.ndarray) -> float:
        """The smallest relative step the array's own dtype can still take: a float32 parameter
        of a loss that computes in float64 shrinks its step no further than float32 allows."""
        return smallest_step(array.dtype)

    # -- entry-wise --------------------------------------------------------------------------
    def numeric_at(self, name, array, indices, on_entry=None):
        """Numeric derivative at flat indices, plus one-sided estimates (for kinks)."""
        self.set_where(name, array.shape)
        locate = getattr(self.evaluate, "locate", None)
        diff = entry_differences(self.evaluate, array, indices, self.step_base, self.f0, on_entry, locate,
                                 self.parallel)
        numeric = diff.central
        if self.method == "richardson":
            fine = entry_differences(self.evaluate, array, indices, self.step_base / 2, self.f0,
                                     locate=locate, parallel=self.parallel)
            numeric = richardson(diff.central, fine.central)
        return numeric, diff.forward, diff.backward

    def check_entries(self, name, array, analytic, indices, mode, on_entry=None,
                      reduced_to_scalar=False) -> ParamReport:
        self.allow_analytic_rounding(name, analytic)
        calls_before = _calls(self.evaluate)
        numeric_sel, fwd, bwd = self.numeric_at(name, array, indices, on_entry)
        resolved, side_noise, settled = self._retry_nonsmooth(name, array, analytic, indices,
                                                              numeric_sel, fwd, bwd)
        sided, unjudged = self._second_opinion(name, array, analytic, indices, numeric_sel,
                                               resolved, settled)
        return self._entry_report(name, array, analytic, indices, numeric_sel, fwd, bwd, mode,
                                  _calls(self.evaluate) - calls_before, reduced_to_scalar, resolved,
                                  side_noise, sided, unjudged)

    def _second_opinion(self, name, array, analytic, indices, numeric, resolved, settled):
        """Entries still failing: wrong on evidence, excused next to a kink, or not judged.

        An entry is called wrong only on evidence. When few of a parameter's entries fail (at
        most :data:`SECOND_OPINION_SHARE` of them, or :data:`SECOND_OPINION_MIN`: the pattern of
        kinks, where a unit's pre-activations sit within a step of 0, not of a wrong formula),
        each failing entry is differenced again, centrally and on each side, at h, h/2, h/4 and
        h/8 (8 calls):

        - its analytic value matches one side's derivative extrapolated from h and h/2
          (``D(s) = g + c s``: the curvature's first-order term cancels), within 3 standard
          deviations of that extrapolation's rounding: the difference straddled a kink and the
          analytic gradient took the side the point is on. Excused, as a ``kink``;
        - it lies outside every estimate (each side and the centre, at every step) by more than
          the tolerance and 2 standard deviations of the smallest step's rounding, and not on
          the far side of a side whose estimates keep moving one way, faster as the step shrinks
          (a kink nearer than the smallest step, whose other piece they still average in;
          curvature moves them slower): no kink explains it. Wrong;
        - otherwise some combination of kinks explains the difference and the steps small enough
          to avoid them round too much to say: not judged (reported, never passed silently).

        When kinks are about (some failing entries were excused or not judged) and what is left
        wrong is one unit's entries (at most :data:`ONE_UNIT`, sharing an index) of a parameter
        whose other entries agree, those are not judged either: a unit whose pre-activation sits
        within a fraction of the smallest usable step of 0 shows the same numbers as a wrong
        entry, and only such a unit's entries disagree alone.

        Entries that ``settled`` at a smaller step still disagreeing (:meth:`_retry_nonsmooth`)
        are wrong on that evidence and left alone. Returns ``(sided, unjudged)``, masks over
        ``indices``.
        """
        sided = np.zeros(indices.size, dtype=bool)
        unjudged = np.zeros(indices.size, dtype=bool)
        atol = self.atol(name)
        a_sel = analytic.reshape(-1)[indices]
        failing = np.flatnonzero(~(entries_pass(a_sel, numeric, self.tol, atol) | resolved | settled))
        steps = [self.step_base / 2 ** k for k in range(4) if self.step_base / 2 ** k >= self.shrink_floor(array)]
        few = failing.size <= max(SECOND_OPINION_MIN, SECOND_OPINION_SHARE * indices.size)
        if failing.size == 0 or not few or len(steps) < 2 or self.user_atol is not None:
            return sided, unjudged
        locate = getattr(self.evaluate, "locate", None)
        self.set_where(name, array.shape)
        diffs = [entry_differences(self.evaluate, array, indices[failing], step, self.f0,
                                   locate=locate, parallel=self.parallel) for step in steps]
        scale = np.maximum(1.0, np.abs(array.reshape(-1)[indices[failing]].astype(np.float64)))
        a = a_sel[failing]
        with np.errstate(invalid="ignore", divide="ignore"):
            wide, half = diffs[0], diffs[1]
            right = _extrapolated(wide.forward, wide.h_plus, half.forward, half.h_plus)
            left = _extrapolated(wide.backward, wide.h_minus, half.backward, half.h_minus)
            estimates = np.stack([d.forward for d in diffs] + [d.backward for d in diffs] +
                                 [d.central for d in diffs])
        # an extrapolation 2 D(h/2) - D(h) carries at most 2 + 1 of their rounding
        side_std = (2 * self.precision.spread(steps[1]) + self.precision.spread(steps[0])) / scale
        size = np.maximum(np.abs(a), np.abs(wide.central))
        side_resolves = 3 * side_std <= RESOLVE_FRACTION * size
        one_side = side_resolves & (entries_pass(a, right, self.tol, 3 * side_std)
                                    | entries_pass(a, left, self.tol, 3 * side_std))
        margin = np.maximum(atol, 2 * self.precision.spread(steps[-1]) / scale)
        with np.errstate(invalid="ignore"):
            lo, hi = np.min(estimates, axis=0), np.max(estimates, axis=0)
            slack = margin + self.tol.rtol * np.maximum(np.abs(lo), np.abs(hi))
            # a side still moving one way as the step shrinks has a kink nearer than the smallest
            # step: the derivative at the point lies further that way, by an unknown amount
            down, up = np.zeros(a.size, dtype=bool), np.zeros(a.size, dtype=bool)
            for side in ([d.forward for d in diffs], [d.backward for d in diffs]):
                trend = np.diff(np.stack(side), axis=0)
                moved = side[-1] - side[0]
                # curvature moves a side less at each halving (by c s / 4), a kink nearer than the
                # steps more (by B / s): only a side whose last move is its largest is a kink's
                growing = np.abs(trend[-1]) >= np.abs(trend[0])
                down |= np.all(trend <= 0, axis=0) & growing & (moved < -margin)
                up |= np.all(trend >= 0, axis=0) & growing & (moved > margin)
            lo, hi = np.where(down, -np.inf, lo - slack), np.where(up, np.inf, hi + slack)
            inside = ~np.isnan(lo) & ~np.isnan(hi) & (a >= lo) & (a <= hi)
        sided[failing[one_side]] = True
        unjudged[failing[~one_side & inside]] = True
        wrong = failing[~one_side & ~inside]
        if (sided.any() or unjudged.any()) and not settled.any() and _one_unit(array.shape, indices[wrong]) \
                and indices.size >= 4 * SECOND_OPINION_MIN:
            # kinks are about (entries next to them were excused or not judged) and what is left
            # is one unit's entries, every other entry agreeing: a pre-activation within a
            # fraction of the smallest usable step of 0, on both sides; no evidence either way
            unjudged[wrong] = True
        return sided, unjudged

    def _retry_nonsmooth(self, name, array, analytic, indices, numeric, fwd, bwd):
        """Re-difference failing entries at steps shrinking tenfold (2 calls each, failures only).

        Where the loss is smooth, central differences at h and h/10 agree to O(h^2), so a
        disagreement means kinks (ReLU inputs crossing 0) lie within h. One weight moves several
        pre-activations at once, and with several kinks inside h the analytic value need not lie
        between the one-sided differences; but a kink at a distance d > 0 is out of reach once
        the step is below d, and there the difference is the exact derivative at x. So the step
        shrinks (see :func:`~gradcheck.checks.kinks.shrinking_steps`) while the entry fails and
        its one-sided differences disagree, down to where the loss's rounding would reach 1% of
        the entry's size; each step below the first retry is judged with its own rounding noise.
        An entry that agrees at a smaller step takes that
        step's estimates, in place; a wrong gradient never agrees, however small the step.

        Returns ``(resolved, side_noise, settled)`` over ``indices``: entries resolved at a
        smaller step (a kink was within the default step), the rounding noise of the step the
        one-sided differences now come from (0 where they are the default step's), for the kink
        test, and entries that settled at a smaller step still disagreeing (wrong on evidence).
        """
        resolved = np.zeros(indices.size, dtype=bool)
        settled = np.zeros(indices.size, dtype=bool)
        side_noise = np.zeros(indices.size)
        atol = self.atol(name)
        a_sel = analytic.reshape(-1)[indices]
        failing = np.flatnonzero(~entries_pass(a_sel, numeric, self.tol, atol))
        locate = getattr(self.evaluate, "locate", None)
        steps = [step for step in shrinking_steps(self.step_base, self.precision.dtype)
                 if step >= self.shrink_floor(array)]
        for k, step in enumerate(steps, start=1):
            if failing.size == 0:
                break
            noise = self.noise(step)
            if k > 1:
                # below the first retry an entry stops where the loss's rounding would reach 1%
                # of its size: a smaller step could then no longer tell a wrong value from a right one
                size = np.maximum(np.abs(a_sel[failing]), np.abs(numeric[failing]))
                failing = failing[noise <= 0.01 * size]
                if failing.size == 0:
                    break
            self.set_where(name, array.shape)
            previous = numeric[failing].copy()
            small = entry_differences(self.evaluate, array, indices[failing], step, self.f0,
                                      locate=locate, parallel=self.parallel)
            step_atol = atol if k == 1 else max(atol, noise)
            fits = entries_pass(a_sel[failing], small.central, self.tol, step_atol)
            # settled: one-sided differences agree and the estimate no longer moves as the step
            # shrinks (kinks on both sides of a point can cancel in one test, not in both)
            smooth = entries_pass(small.forward, small.backward, self.tol, step_atol) & \
                entries_pass(small.central, previous, self.tol, step_atol)
            # take the smaller step's estimates where they fit, or where the larger one was
            # not smooth; one-sided differences over a shorter step straddle fewer kinks
            take = fits | ~entries_pass(small.central, numeric[failing], self.tol, step_atol)
            numeric[failing[take]] = small.central[take]
            fwd[failing] = small.forward
            bwd[failing] = small.backward
            side_noise[failing] = noise if k > 1 else 0.0
            resolved[failing[fits]] = k > 1  # the first retry is judged by the usual tolerance
            # settled at this step and still disagreeing: the gradient is wrong, stop shrinking;
            # evidence when the disagreement is beyond this step's own rounding, which resolves it
            size = np.maximum(np.abs(a_sel[failing]), np.abs(small.central))
            clear = ~entries_pass(a_sel[failing], small.central, self.tol, max(atol, noise)) & \
                (noise <= RESOLVE_FRACTION * size)
            settled[failing[~fits & smooth & clear]] = True
            failing = failing[~fits & ~smooth]
        return resolved, side_noise, settled

    def _hidden(self, array, a_sel, numeric, ok, kinks) -> np.ndarray:
        """Entries the loss's rounding hides: they pass whatever their value.

        At the default step a central difference carries the loss's rounding noise (see
        :class:`~gradcheck.numeric.model.LossPrecision`), and the pass rule allows it. Where the
        analytic and numeric values are both below it (:data:`HIDDEN_FRACTION`), a right value,
        0 and 2x all pass: a float32 network with tiny weights would pass a bug. Entries where both values
        are exactly 0 (the loss did not move at all) are not hidden, nor are entries judged with
        a tolerance the caller set. In float64 the floor is about 1e-9 per unit of loss, far below
        any gradient that matters, so only lower precisions are looked at. Mask over the checked
        entries.
        """
        if self.user_atol is not None or eps_of(self.precision.dtype) <= eps_of(np.float64):
            return np.zeros(a_sel.size, dtype=bool)
        size = np.maximum(np.abs(a_sel), np.abs(numeric))
        floor = self.noise(self.step_base)
        exact_zero = (a_sel == 0) & (numeric == 0)
        with np.errstate(invalid="ignore"):
            return ok & ~kinks & ~exact_zero & (floor > HIDDEN_FRACTION * size)

    def _entry_report(self, name, array, analytic, indices, numeric_sel, fwd, bwd, mode, evals,
                      reduced_to_scalar=False, resolved=None, side_noise=None, sided=None,
                      unjudged=None):
        atol = self.atol(name)
        a_sel = analytic.reshape(-1)[indices]
        if resolved is None:
            resolved = np.zeros(indices.size, dtype=bool)
        if sided is not None:
            resolved = resolved | sided  # matched one side of a kink at two steps
        if unjudged is None:
            unjudged = np.zeros(indices.size, dtype=bool)
        # entries resolved at a smaller step were judged with that step's rounding noise
        ok = entries_pass(a_sel, numeric_sel, self.tol, atol) | resolved
        kinks = resolved.copy()
        # one-sided differences from a smaller step carry that step's rounding
        side_atol = np.maximum(atol, side_noise) if side_noise is not None else np.full(indices.size, atol)
        kinks[~ok] = kink_mask(a_sel[~ok], fwd[~ok], bwd[~ok], self.tol.rtol, side_atol[~ok])
        ok |= kinks
        # next to a kink and below what its one-sided differences resolve: not judged, not wrong
        unjudged &= ~ok
        ok |= unjudged
        hidden = self._hidden(array, a_sel, numeric_sel, ok, kinks) | unjudged
        rel = relative_error(a_sel, numeric_sel, atol)
        abs_err = np.abs(a_sel - numeric_sel)
        # Differences below the loss's rounding noise say nothing about the gradient.
        within_noise = abs_err <= self.noise(self.step_base)
        raw_rank = np.where(kinks, 0.0, np.where(np.isnan(rel), np.inf, rel))
        rank = np.where(within_noise, 0.0, raw_rank)
        abs_rank = np.where(kinks, 0.0, np.where(np.isnan(abs_err), np.inf, abs_err))
        max_abs = float(np.max(abs_rank)) if abs_rank.size else 0.0
        # One worst entry for the finding, the table, the JSON and the HTML: the failing entry
        # with the largest difference, else the largest relative error above rounding noise.
        if not np.all(ok):
            worst_k = int(np.flatnonzero(~ok)[np.argmax(abs_rank[~ok])])
        else:
            worst_k = int(np.argmax(rank if np.any(rank) else raw_rank)) if rank.size else 0
        # The column and the tier grade the same number (errors within rounding noise count 0).
        max_rel = max_rel_above_noise = float(np.max(rank)) if rank.size else 0.0
        findings: list[Finding] = []
        numeric_full = np.full(analytic.shape, np.nan)
        numeric_full.reshape(-1)[indices] = numeric_sel
        checked = np.zeros(analytic.shape, dtype=bool)
        checked.reshape(-1)[indices] = True
        ok_full = np.ones(analytic.shape, dtype=bool)
        ok_full.reshape(-1)[indices] = ok
        passed = bool(np.all(ok))
        if not np.all(np.isfinite(numeric_sel)):
            bad = int(indices[np.flatnonzero(~np.isfinite(numeric_sel))[0]])
            findings.append(Finding(
                kind="nonfinite", subject=name,
                text=f"{name}{format_index(array.shape, bad)}: the loss is NaN or inf when this "
                "entry moves by a tiny step",
                hint="The loss is on the edge of overflow or log(0) at these parameters: use a "
                "stable log-softmax / clipped log, or check the inputs are scaled.",
            ))
            passed = False
        elif not passed:
            findings.append(diagnose_values(name, analytic, numeric_full, checked, ok_full,
                                            context=self.context,
                                            reduced_to_scalar=reduced_to_scalar, values=array,
                                            worst=int(indices[worst_k]), rtol=self.tol.rtol,
                                            atol=atol, peers=self.peers,
                                            peer_gradients=self.peer_gradients))
        if int(kinks.sum()):
            first = int(indices[np.flatnonzero(kinks)[0]])
            findings.append(Finding(
                kind="kink", subject=name, severity="info",
                text=f"{name}{format_index(array.shape, first)}: {int(kinks.sum())} entries sit on a "
                "kink where the left and right derivatives differ (e.g. ReLU at 0); the analytic "
                "value is one of them — not a bug",
                hint="Nothing to fix; a finite difference cannot see a derivative at a kink.",
                data={"count": int(kinks.sum())},
            ))
        if np.any(hidden):
            findings.append(self._hidden_finding(name, array, a_sel, numeric_sel, hidden))
        tier = self.tol.tier(max_rel_above_noise) if passed else "wrong"
        if passed and tier == "wrong":
            # passed by the absolute tolerance (|a - n| <= atol) at a large relative error
            tier = "suspicious"
        if passed and self.precision.dtype == np.float32 and max_rel_above_noise > 1e-5:
            findings.append(Finding(
                kind="precision", subject=name, severity="info",
                text=f"{name}: max relative error {max_rel_above_noise:.2g} is float32 rounding, within the "
                f"float32 tolerance {self.tol.rtol:g} — not a bug",
                hint="Check in float64 for a tighter comparison.",
            ))
        all_checked = indices.size == array.size
        return ParamReport(
            name=name,
            shape=tuple(array.shape),
            dtype=array.dtype.name,
            mode=mode,
            n_checked=int(indices.size),
            max_abs_error=max_abs,
            max_rel_error=max_rel,
            worst_index=tuple(int(i) for i in np.unravel_index(int(indices[worst_k]), array.shape))
            if indices.size else None,
            worst_analytic=float(a_sel[worst_k]) if a_sel.size else None,
            worst_numeric=float(numeric_sel[worst_k]) if a_sel.size else None,
            tier=tier,
            n_kinks=int(kinks.sum()),
            findings=findings,
            error_map=error_map(np.abs(analytic - numeric_full)) if (not passed and all_checked) else None,
            n_loss_evals=evals,
        )

    def _hidden_finding(self, name, array, a_sel, numeric_sel, hidden, what="entries") -> Finding:
        """What could not be judged: entries below the loss's rounding at the default step.

        When none of the parameter's entries that move the loss could be judged, nothing about
        it was checked: an inconclusive warning (``data["inconclusive"]`` says what would let it
        judge: float64, or a step large enough to lift the entries above the rounding); else a
        note. ``data["hidden"]`` marks the finding for a re-check in float64
        (:mod:`gradcheck.checks.recheck`).
        """
        count, total = int(hidden.sum()), int(hidden.size)
        largest = float(np.max(np.maximum(np.abs(a_sel[hidden]), np.abs(numeric_sel[hidden]))))
        floor = self.noise(self.step_base)
        nothing_judged = count == int(np.count_nonzero((a_sel != 0) | (numeric_sel != 0)))
        of = f"its {total} {what}" if what == "entries" else f"the {total} random {what} along it"
        what = (f"none of {of} could be judged" if nothing_judged
                else f"{count} of {of} could not be judged")
        data = {"count": count, "largest": largest, "floor": floor, "hidden": True}
        if nothing_judged:
            data["inconclusive"] = self._remedy(largest)
        return Finding(
            kind="precision", subject=name, severity="warning" if nothing_judged else "info",
            text=f"{name}: {what} in {self.precision.name}: their gradients (up to {largest:.2g}) "
            f"are too small against the loss's rounding ({floor:.2g} at this step) or sit next to "
            "kinks, so a right value could not be told from a wrong one",
            hint="Check in float64 to judge them: build the network with float64 parameters "
            "(`--dtype float64` when the target is a factory taking dtype=).",
            data=data,
        )

    def _remedy(self, largest: float) -> str:
        """What would let entries of size up to ``largest`` be judged: float64, and the step
        that lifts them above the rounding when one below 0.1 would."""
        # the same words in every front end: the verdict's headline quotes them
        remedy = "float64 would judge them (the network built with float64 parameters)"
        needed = self.precision.rounding / max(largest, 1e-300)
        if needed < 0.1:
            remedy += f", as would a relative step of {needed:.1g} (eps)"
        return remedy

    # -- directional ---------------------------------------------------------------------------
    def _retry_directions(self, array, directions, a, n, failing, h, atol):
        """Failing directions differenced again at steps shrinking tenfold (2 calls each).

        As for entries (:meth:`_retry_nonsmooth`): a kink at a distance d along the direction is
        out of reach of any step below d, where the difference is the exact derivative; a kink
        at the point itself is crossed by every step, and there the analytic projection must
        lie between the one-sided differences. A direction stops where the loss's rounding
        would reach 1% of its size. Returns ``(agreed, kinks)``, masks over the directions.
        """
        agreed = np.zeros(a.size, dtype=bool)
        kinks = np.zeros(a.size, dtype=bool)
        if self.user_atol is not None:
            return agreed, kinks
        floor = self.shrink_floor(array) * max(1.0, float(np.max(np.abs(array), initial=0.0)))
        for k in np.flatnonzero(failing):
            for step in shrinking_steps(h, self.precision.dtype):
                noise = self.noise(step)
                if step < floor or noise > 0.01 * max(abs(a[k]), abs(n[k])):
                    break
                d, f_plus, f_minus = directional_difference(self.evaluate, array, directions[k], step)
                step_atol = max(atol, noise)
                fwd, bwd = np.array([(f_plus - self.f0) / step]), np.array([(self.f0 - f_minus) / step])
                if entries_pass(np.array([a[k]]), np.array([d]), self.tol, step_atol)[0]:
                    agreed[k] = True
                    break
                if kink_mask(np.array([a[k]]), fwd, bwd, self.tol.rtol, step_atol)[0]:
                    kinks[k] = True
                    break
        return agreed, kinks

    def _entries_behind_directions(self, name, array, analytic, rng, a, n, doubtful, report,
                                   reduced_to_scalar):
        """A second opinion on directions that pass but sit above the tolerance's ``good`` line.

        A projection sums the errors of every entry with random signs, so a few entries off by
        a few tenths of a percent (a factor that is 1 at most entries, such as batch norm's
        x-hat at two examples) can project to an error inside the pass line while each entry is
        outside it. Such a direction is not called wrong: the entries are checked one by one
        (every entry up to :data:`FOLLOW_UP_FULL`, else a sample of :data:`FOLLOW_UP_SAMPLES`),
        by the same rule as the full mode, and their verdict decides. Returns ``report`` (the
        directions' passing report) when the entries agree, else the entries' failing report.
        """
        indices = _follow_up_indices(array.size, rng)
        entries = self.check_entries(name, array, analytic, indices, "directional",
                                     reduced_to_scalar=reduced_to_scalar)
        if entries.passed:
            report.spent(entries.n_loss_evals)
            return report
        worst = int(np.flatnonzero(doubtful)[np.argmax(relative_error(a, n, 0.0)[doubtful])])
        entries.spent(report.n_loss_evals, max_rel_error=report.max_rel_error)
        entries.note(Finding(
            kind="mismatch", subject=name, severity="info",
            text=f"{name}: along a random direction, analytic {a[worst]:.6g}, numeric {n[worst]:.6g}, "
            f"inside the tolerance (rtol {self.tol.rtol:g}) but above its 'good' line "
            f"({self.tol.good:g}): checked entry by entry, where the entries above disagree",
            hint="A projection averages the entries' errors with random signs; the entries decide.",
        ))
        return entries

    def check_directional(self, name, array, analytic, rng, n_directions,
                          reduced_to_scalar=False) -> ParamReport:
        self.allow_analytic_rounding(name, analytic)
        calls_before = _calls(self.evaluate)
        # a projection sums the rounding of every entry of a narrow gradient
        atol = max(self.atol(name), self._analytic_rounding.get(name, 0.0) * float(np.sqrt(array.size)))
        h = self.step_base * max(1.0, float(np.sqrt(np.mean(np.square(array, dtype=np.float64)))))
        analytic_v, numeric_v, fwd_v, bwd_v = [], [], [], []
        self.set_where(f"{name} along a random direction")
        directions = rademacher_directions(array.shape, n_directions, rng)
        for v in directions:
            d, f_plus, f_minus = directional_difference(self.evaluate, array, v, h)
            analytic_v.append(float(np.sum(v * analytic)))
            numeric_v.append(d)
            fwd_v.append((f_plus - self.f0) / h)
            bwd_v.append((self.f0 - f_minus) / h)
        a, n = np.array(analytic_v), np.array(numeric_v)
        ok = entries_pass(a, n, self.tol, atol)
        kinks = np.zeros_like(ok)
        kinks[~ok] = kink_mask(a[~ok], np.array(fwd_v)[~ok], np.array(bwd_v)[~ok], self.tol.rtol, atol)
        ok |= kinks
        rel = relative_error(a, n, atol)
        rank = np.where(kinks, 0.0, np.where(np.isnan(rel), np.inf, rel))
        max_rel = float(np.max(rank)) if rank.size else 0.0
        passed = bool(np.all(ok)) and bool(np.all(np.isfinite(analytic)))
        evals = _calls(self.evaluate) - calls_before
        # a direction excused as a kink is an excuse without evidence when every entry can be
        # checked one by one: a wrong gradient matches a one-sided difference along a direction
        # that crosses kinks as easily as a right one, so the entries decide
        if passed and np.any(kinks) and array.size <= FOLLOW_UP_FULL:
            passed = False
        if passed:
            # directions below the loss's rounding say nothing: when none rises above it, the
            # parameter was not judged (its entries one by one are smaller still)
            hidden = self._hidden(array, a, n, ok, kinks) if self.user_atol is None else np.zeros(a.size, bool)
            findings = [self._hidden_finding(name, array, a, n, hidden, "directions")] \
                if np.all(hidden) and hidden.size else []
            report = ParamReport(
                name=name, shape=tuple(array.shape), dtype=array.dtype.name, mode="directional",
                n_checked=len(a), max_abs_error=float(np.max(np.abs(a - n))), max_rel_error=max_rel,
                worst_index=None, worst_analytic=None, worst_numeric=None,
                tier=self.tol.tier(max_rel), n_kinks=int(kinks.sum()), n_loss_evals=evals,
                findings=findings,
            )
            doubtful = ~agree(a, n, self.tol.good, atol) & ~kinks & ~hidden
            if not np.any(doubtful):
                return report
            return self._entries_behind_directions(name, array, analytic, rng, a, n, doubtful,
                                                   report, reduced_to_scalar)
        # Diagnose with a small entry-wise follow-up on this parameter only.
        indices = _follow_up_indices(array.size, rng)
        report = self.check_entries(name, array, analytic, indices, "directional",
                                    reduced_to_scalar=reduced_to_scalar)
        explained = False
        if report.passed and indices.size < array.size:
            # the sampled entries agree: the failing directions are differenced again at smaller
            # steps before anything is said about the entries outside the sample
            retried, crossed = self._retry_directions(array, directions, a, n, ~ok, h, atol)
            explained = bool(np.all(ok | retried | crossed))
        if report.passed and not explained and indices.size < array.size and _near_kinks(report) \
                and array.size <= FOLLOW_UP_KINKS:
            # kinks among the sampled entries: a direction crosses many of them at once, so
            # only every entry, one by one, can tell kinks from an entry outside the sample
            indices = np.arange(array.size)
            spent = report.n_loss_evals
            report = self.check_entries(name, array, analytic, indices, "directional",
                                        reduced_to_scalar=reduced_to_scalar)
            report.spent(spent)
        # the directions' relative error counts only where the directions decide the verdict
        report.spent(evals, max_rel_error=max_rel if not report.passed else 0.0)
        if report.passed and not np.all(np.isfinite(n)):
            # The entries agree one by one, but the loss was NaN/inf a step away along a direction.
            report.fail(Finding(
                kind="nonfinite", subject=name,
                text=f"{name}: the loss is NaN or inf a step of {h:.2g} along a random direction, "
                f"though the {indices.size} entries checked one by one agree",
                hint="The loss is on the edge of overflow or log(0) at these parameters, or it does "
                "not depend on the parameters alone: use a stable log-softmax / clipped log, or "
                "check that nothing random runs inside the loss.",
            ))
        elif report.passed and explained:
            report.note(Finding(
                kind="kink", subject=name, severity="info",
                text=f"{name}: along a random direction the difference disagreed at the first step; "
                "at smaller steps it agrees, or the analytic value lies between its one-sided "
                "differences: the direction crossed kinks — not a bug",
                hint="Nothing to fix; a step that moves every entry at once can cross a kink.",
                data={"count": 0, "direction": True},
            ))
        elif report.passed and indices.size == array.size:
            # Every entry agrees on its own: a direction moves them all at once, and crossed kinks
            # (ReLU inputs at 0) that no single entry's step reaches.
            report.note(Finding(
                kind="kink", subject=name, severity="info",
                text=f"{name}: along a random direction the difference disagreed, but each of its "
                f"{array.size} entries, checked one by one, agrees: the direction crossed kinks "
                "where the left and right derivatives differ — not a bug",
                hint="Nothing to fix; a step that moves every entry at once can cross a kink.",
                data={"count": 0, "direction": True},
            ))
        elif report.passed and _near_kinks(report):
            # Too many entries to check one by one, the sampled ones agree and sit among kinks:
            # the direction may have crossed kinks, or an unsampled entry is wrong
            report.note(Finding(
                kind="kink", subject=name, severity="warning",
                text=f"{name}: along a random direction, analytic {a[int(np.argmax(rank))]:.6g}, "
                f"numeric {n[int(np.argmax(rank))]:.6g}; the {indices.size} of its {array.size} "
                "entries sampled agree, some next to kinks, so the direction may have crossed "
                "kinks: not judged",
                hint=f"Run mode='full' on {name} to judge every entry.",
                data={"inconclusive": f"mode='full' on {name}", "direction": True},
            ))
        elif report.passed:
            # The sampled entries agree but the projection does not: the error is elsewhere.
            report.spent(0, max_rel_error=max_rel)
            worst = int(np.argmax(rank))
            report.fail(Finding(
                kind="mismatch", subject=name,
                text=f"{name}: along a random direction, analytic {a[worst]:.6g}, numeric "
                f"{n[worst]:.6g} — wrong somewhere outside the {indices.size} entries sampled",
                hint=f"Run mode='full' on {name} to find the entries.",
            ))
        return report


def _near_kinks(report: ParamReport) -> bool:
    """Whether a passing entry-wise report met kinks (entries excused or left unjudged by them)."""
    return report.n_kinks > 0 or any(f.kind == "kink" for f in report.findings)


#: At most this many entries, sharing one index, are "one unit's entries".
ONE_UNIT = 2


def _one_unit(shape: tuple, flat: np.ndarray) -> bool:
    """True for 1 to :data:`ONE_UNIT` flat indices that share their index along some axis (one
    unit's weights, or a unit's weight and nothing else)."""
    if not 1 <= flat.size <= ONE_UNIT:
        return False
    if flat.size == 1 or len(shape) < 2:
        return True
    index = np.stack(np.unravel_index(flat, shape))
    return bool(np.any(np.all(index == index[:, :1], axis=1)))


def _extrapolated(d1: np.ndarray, s1: np.ndarray, d2: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """The derivative at step 0 from one-sided differences ``d1`` over ``s1`` and ``d2`` over
    ``s2``, assuming ``D(s) = g + c s`` (Richardson's first step, for unequal steps)."""
    return (s1 * d2 - s2 * d1) / (s1 - s2)


def _calls(evaluate) -> int:
    return getattr(evaluate, "calls", 0)


def select_indices(size: int, mode: str, samples: int | None, rng) -> np.ndarray:
    if mode == "full":
        return np.arange(size)
    return sample_indices(size, samples or DEFAULT_SAMPLES, rng)


def _follow_up_indices(size: int, rng) -> np.ndarray:
    """The entries a directional follow-up differences: every one up to :data:`FOLLOW_UP_FULL`,
    else a sample of :data:`FOLLOW_UP_SAMPLES`."""
    if size <= FOLLOW_UP_FULL:
        return np.arange(size)
    return sample_indices(size, FOLLOW_UP_SAMPLES, rng)


__all__ = ["ParamChecker", "select_indices", "error_map"]

