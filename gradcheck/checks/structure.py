"""Structural diagnoses: what shape of mistake turns the right gradient into the analytic one.

Pure functions on one parameter's arrays (and the values of the others), each naming a cause
only when a relation between the analytic and the numeric gradient holds on every entry that
can tell, within the claim tolerance of the numeric model
(:func:`~gradcheck.numeric.model.claim_tolerance`), and on enough entries that chance cannot
explain it. A relation that does not hold says nothing: the caller falls back to a finding that
only says the values differ, which is better than a wrong cause.

- :func:`misrouted` -- the gradient reaches entries the loss does not depend on, or is blocked
  from entries it does (a mask on the wrong entries, a max sending its gradient everywhere);
- :func:`transformed` -- the analytic gradient is the numeric one flipped along axes, with two
  axes swapped, or shifted by a position or two along one or two axes (a kernel not flipped
  back, an off-by-one offset, a padded gradient cropped from the wrong corner);
- :func:`short_loop` -- for a layer's input, only the last positions along one axis are wrong
  (a loop over windows or steps stopped one short);
- :func:`untransposed_weight` -- it is the numeric one passed back through a square weight
  instead of that weight's transpose;
- :func:`copied` -- the analytic gradient is another parameter's gradient, entry for entry (the
  factor that tells the two apart is missing);
- :func:`missing_term` -- analytic minus numeric is a term the same along an axis (the gradient
  through a mean) or, slice by slice, a multiple of the centred values (through a variance);
- :func:`wrong_derivative` -- the ratio analytic / numeric is a function of each entry's own value
  (an elementwise derivative evaluated at the wrong value).

Every test returns a :class:`Story` (kind, meaning, hint, numbers) or None. Nothing here reads a
parameter's or a layer's name for meaning: names only appear in the words.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from gradcheck.numeric.model import agree, claim_tolerance
from gradcheck.results.findings import Finding

#: Fewest entries on which a relation must hold, and differ from plain agreement, to be named.
MIN_WITNESSES = 3
#: Slices shorter than this cannot tell a multiple of the centred values from chance.
MIN_SLICE = 4
#: A square weight whose inverse magnifies errors more than this cannot be undone reliably.
MAX_CONDITION = 1e4
#: Largest shift tried along an axis: an index off by one, or a padding offset of up to two.
MAX_SHIFT = 2
#: Highest degree of the function of an entry's value a derivative ratio may follow.
RATIO_DEGREE = 3


@dataclass(frozen=True)
class Story:
    """What a structural test found: a finding's kind, its meaning (after the numbers), one
    sentence of hint, and the numbers behind it."""

    kind: str
    meaning: str
    hint: str
    data: dict = field(default_factory=dict)


def retell(report, old: Finding, story: Story, *, checked: str = "", data: dict | None = None) -> None:
    """Replace ``report``'s failing finding ``old`` by one telling ``story``: the same numbers and
    place, then what was ``checked`` again (if anything), then the story's meaning; ``old``'s data
    with the story's (and ``data``) added."""
    numbers, _, where = old.text.partition(" — ")
    said = f"{where}; {checked}: {story.meaning}" if checked else f"{where}; {story.meaning}"
    report.forget(lambda f: f is old)
    report.fail(Finding(kind=story.kind, subject=old.subject, text=f"{numbers} — {said}", hint=story.hint,
                        data={**old.data, **story.data, **(data or {})}))


@dataclass(frozen=True)
class Gradient:
    """One parameter's evidence: its analytic gradient, the numeric one where checked (NaN
    elsewhere), which entries passed, its values, the check's tolerances, and the values of
    the other parameters of the same check (``peers``), the analytic gradients returned for
    them (``peer_gradients``), and the array's declared ``role``: ``"input"`` for a layer's input
    (examples first, then the positions and channels the layer runs over), else None."""

    name: str
    analytic: np.ndarray
    numeric: np.ndarray
    checked: np.ndarray
    ok: np.ndarray
    values: np.ndarray | None = None
    rtol: float = 0.0
    atol: float = 0.0
    peers: Mapping[str, np.ndarray] = field(default_factory=dict)
    peer_gradients: Mapping[str, np.ndarray] = field(default_factory=dict)
    role: str | None = None

    @property
    def complete(self) -> bool:
        return bool(np.all(self.checked))

    @property
    def wrong(self) -> np.ndarray:
        return self.checked & ~self.ok

    def same(self, a, b, scale: float = 1.0) -> np.ndarray:
        """``a`` and ``b`` agree within the claim tolerance (widened ``scale`` times)."""
        return agree(a, b, claim_tolerance(self.rtol) * scale, self.atol * scale)

    def resolved(self, x) -> np.ndarray:
        """Entries of ``x`` clearly above the check's absolute tolerance."""
        return np.abs(x) > 4 * max(self.atol, 1e-300)


def _axes_text(axes) -> str:
    axes = list(axes)
    return f"axis {axes[0]}" if len(axes) == 1 else "axes " + " and ".join(map(str, axes))


# -- routing -------------------------------------------------------------------------------------
def misrouted(g: Gradient) -> Story | None:
    """Every wrong entry is one where exactly one of the two gradients is exactly 0, and where
    both are nonzero they agree, or agree up to one factor confirmed on every such entry.

    Entries with a numeric gradient of exactly 0 are entries the loss does not move with; an
    analytic gradient there reached an entry it should not. When the analytic values on those
    entries are the numeric values of the blocked ones moved elsewhere, the entries are misplaced
    (an index), not misrouted, and this says nothing.
    """
    if not g.complete:
        return None
    A, N = g.analytic.reshape(-1), g.numeric.reshape(-1)
    wrong = g.wrong.reshape(-1)
    dead, silent = N == 0, A == 0
    extra = wrong & dead & ~silent          # the gradient reaches an entry the loss ignores
    blocked = wrong & silent & ~dead        # and misses one it depends on
    both = ~dead & ~silent
    if not extra.any() or not both.any() or np.any(wrong & ~(extra | blocked | both)):
        return None
    factor = 1.0
    if np.any(wrong & both):
        c = float(A[both] @ N[both]) / float(N[both] @ N[both])
        if not (np.all(g.same(A[both], c * N[both])) and np.count_nonzero(both) >= MIN_WITNESSES
                and np.count_nonzero(g.resolved(N[both])) >= 2):
            return None
        factor = c
    if blocked.any() and blocked.sum() == extra.sum() and np.all(
            g.same(np.sort(np.abs(A[extra])), np.sort(np.abs(N[blocked])))):
        return None  # the same values, moved: an index, not a mask
    n_extra, n_blocked = int(extra.sum()), int(blocked.sum())
    where = (f"the gradient reaches {n_extra} entries the loss does not depend on (numeric exactly 0 "
             "there)")
    if n_blocked:
        where += f" and is 0 on {n_blocked} entries the loss does depend on"
    if factor != 1.0:
        where += f"; where both are nonzero it is {factor:.6g}x the numeric one"
    else:
        where += "; everywhere else it is right"
    hint = (f"d{g.name} passes gradient through a mask or a selection that picks the wrong entries: "
            "apply the forward's own mask (or the positions the forward selected, such as each "
            "window's max) to the upstream gradient in the backward, and only those.")
    if factor != 1.0:
        hint = (f"d{g.name} skips the forward's mask: multiply the upstream gradient by the very mask "
                f"the forward applied, rescaling included (the {factor:.6g}x on the kept entries).")
    return Story("routing", where, hint, {"extra": n_extra, "blocked": n_blocked, "factor": factor})


# -- moved entries -------------------------------------------------------------------------------
def moved(g: Gradient) -> Story | None:
    """Some entries get gradient the loss does not depend on (numeric exactly 0) and some the
    loss depends on get none, yet the gradient's sum over every slice along some axes is kept:
    the right contributions written at the wrong positions (an index error). At least
    :data:`MIN_WITNESSES` resolved slices must keep their sums, and the whole gradient its total."""
    if not g.complete or g.analytic.ndim == 0:
        return None
    A, N, wrong = g.analytic, g.numeric, g.wrong
    extra = wrong & (N == 0) & (A != 0) & g.resolved(A)
    blocked = wrong & (A == 0) & (N != 0) & g.resolved(N)
    if not extra.any() or not blocked.any():
        return None
    kept, moved_along, witnesses = [], [], 0
    for axis in range(A.ndim):
        if A.shape[axis] < 2:
            continue
        others = tuple(a for a in range(A.ndim) if a != axis)
        sum_a, sum_n = A.sum(axis=others), N.sum(axis=others)
        size = np.abs(N).sum(axis=others)
        same = np.abs(sum_a - sum_n) <= claim_tolerance(g.rtol) * size + g.atol * (A.size / A.shape[axis])
        if np.all(same):
            kept.append(axis)
            witnesses += int(np.count_nonzero(g.resolved(sum_n)))
        else:
            moved_along.append(axis)
    total_kept = abs(float(A.sum() - N.sum())) <= claim_tolerance(g.rtol) * float(np.abs(N).sum()) + g.atol * A.size
    if not kept or not moved_along or witnesses < MIN_WITNESSES or not total_kept:
        return None
    return Story(
        "orientation",
        f"the gradient reaches {int(extra.sum())} entries the loss does not depend on and misses "
        f"{int(blocked.sum())} it does, yet its sum over each slice along {_axes_text(kept)} is "
        f"right: the right contributions written at the wrong positions along {_axes_text(moved_along)}",
        f"d{g.name} adds each contribution at a wrong index along {_axes_text(moved_along)}: the "
        "position computed from the wrong coordinates (row and column swapped when an argmax is "
        "unravelled, a window's start, a wrong token).",
        {"how": "moved", "kept_axes": kept, "moved_axes": moved_along})


# -- one entry per row ---------------------------------------------------------------------------
def one_entry_per_row(g: Gradient) -> Story | None:
    """Along one axis, every slice has at most one wrong entry, analytic - numeric is the same
    number there in every such slice, and every other entry agrees: one term of a fixed size at
    one entry per row (a label's entry, typically) is missing or extra."""
    if not g.complete or g.analytic.ndim < 2:
        return None
    A, N, wrong = g.analytic, g.numeric, g.wrong
    for axis in range(A.ndim):
        per_slice = np.count_nonzero(wrong, axis=axis)
        if per_slice.max() != 1 or np.count_nonzero(per_slice) < MIN_WITNESSES:
            continue
        E = (A - N)[wrong]
        term = float(np.mean(E))
        if not np.all(g.same(E, np.full(E.shape, term))) or not np.all(g.resolved(E)):
            continue
        if A.shape[axis] < 3:
            continue
        rows = int(np.count_nonzero(per_slice))
        return Story(
            "label_term",
            f"only one entry per slice along axis {axis} is wrong ({rows} slices), each by the same "
            f"{term:+.6g}: a term at one entry of each row is {'extra' if term > 0 else 'missing'} "
            f"(or its sign is flipped)",
            f"A term the gradient has at exactly one entry per row, such as the label's (the -1 of "
            f"softmax's p - 1 at the label, or the label's own margin in a hinge loss's count), is "
            f"missing, counted twice or counted where it should not be in d{g.name}: that entry "
            f"is off by {term:+.6g} in every row.",
            {"axis": axis, "term": term, "rows": rows})
    return None


# -- orientation and index -----------------------------------------------------------------------
def _shifted(x: np.ndarray, shifts: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``x`` moved by ``shifts[axis]`` positions along each axis (out[i] = x[i - s]), and the mask
    of entries that received a value."""
    out = np.full(x.shape, np.nan)
    valid = np.zeros(x.shape, dtype=bool)
    dst, src = [slice(None)] * x.ndim, [slice(None)] * x.ndim
    for axis, s in shifts.items():
        n = x.shape[axis]
        dst[axis] = slice(s, n) if s > 0 else slice(0, n + s)
        src[axis] = slice(0, n - s) if s > 0 else slice(-s, n)
    out[tuple(dst)] = x[tuple(src)]
    valid[tuple(dst)] = True
    return out, valid


def _transforms(shape: tuple):
    """(description data, function of an array -> (transformed, valid mask)) for every flip along
    one or two axes, every swap of two axes of the same length (not the two of a matrix: that is
    a transpose), and every shift by 1 to :data:`MAX_SHIFT` positions along one or two axes (the
    same distance on both); simplest first."""
    ndim = len(shape)
    long_axes = [a for a in range(ndim) if shape[a] >= 2]
    for k in (1, 2):
        for axes in itertools.combinations(long_axes, k):
            yield ({"how": "flip", "axes": list(axes)},
                   lambda x, axes=axes: (np.flip(x, axes), np.ones(x.shape, dtype=bool)))
    if ndim > 2:
        for a, b in itertools.combinations(long_axes, 2):
            if shape[a] == shape[b]:
                yield ({"how": "swap", "axes": [a, b]},
                       lambda x, a=a, b=b: (np.swapaxes(x, a, b), np.ones(x.shape, dtype=bool)))
    for by in range(1, MAX_SHIFT + 1):
        shiftable = [a for a in range(ndim) if shape[a] >= by + 2]
        for k in (1, 2):
            for axes in itertools.combinations(shiftable, k):
                for signs in itertools.product((by, -by), repeat=k):
                    shifts = dict(zip(axes, signs))
                    yield ({"how": "shift", "axes": list(axes), "by": list(signs)},
                           lambda x, shifts=shifts: _shifted(x, shifts))


def transformed(g: Gradient) -> Story | None:
    """The analytic gradient equals the numeric one flipped, with two axes swapped, or shifted by
    up to :data:`MAX_SHIFT` positions along one or two axes, on every entry where the transformed
    numeric exists; the identity fails on at least :data:`MIN_WITNESSES` of those entries where
    the transformation holds, and most wrong entries are among them. A shift leaves an edge
    unexplained, most of a small array when it runs along two axes (4 of a 3x3 image's 9 entries
    remain for a shift by one along both): for a shift, the entries it covers need only be a
    quarter of the array, and the wrong ones it explains half as many as those it cannot."""
    A, N = g.analytic, np.where(g.checked, g.numeric, np.nan)
    if A.ndim == 0 or A.size < 4:
        return None
    wrong = g.wrong
    for how, transform in _transforms(A.shape):
        moved, valid = transform(N)
        valid = valid & np.isfinite(moved) & g.checked
        shift = how["how"] == "shift"
        if np.count_nonzero(valid) < max(4, valid.size // (4 if shift else 2)):
            continue
        holds = g.same(A[valid], moved[valid])
        if not np.all(holds):
            continue
        witnesses = wrong[valid] & g.resolved(moved[valid])
        inside, outside = int(np.count_nonzero(wrong & valid)), int(np.count_nonzero(wrong & ~valid))
        if np.count_nonzero(witnesses) < MIN_WITNESSES or (2 * inside if shift else inside) < outside:
            continue
        return _orientation_story(g.name, A.shape, how)
    return None


def short_loop(g: Gradient) -> Story | None:
    """For a layer's input (``role == "input"``, examples first, at least 3 axes): along one axis
    after the examples, the wrong entries fill exactly the last ``k`` positions, ``k`` at most a
    third of the axis, in every example alike, and every earlier position is right: a loop over
    that axis's windows or positions stopped short (``range(n - 1)``), so the last ones never send
    their gradient back. Every wrong entry is one the loss depends on (numeric not exactly 0: a
    mask over the last positions is routing, not this), and at least half the band's entries and
    :data:`MIN_WITNESSES` are clearly wrong."""
    if g.role != "input" or not g.complete or g.analytic.ndim < 3:
        return None
    A, N, wrong = g.analytic, g.numeric, g.wrong
    if not wrong.any() or np.any(wrong & (N == 0)):
        return None
    for axis in range(1, A.ndim):
        n = A.shape[axis]
        if n < 3:
            continue
        others = tuple(a for a in range(1, A.ndim) if a != axis)
        per_example = wrong.any(axis=others)  # (examples, n): the positions wrong in each example
        band = per_example[0]
        if not band.any() or np.any(per_example != band):
            continue
        k = n - int(np.argmax(band))
        if not np.all(band[n - k:]) or k > n // 3:
            continue
        inside = np.moveaxis(np.ones(A.shape, dtype=bool), axis, 0)
        inside[:n - k] = False
        inside = np.moveaxis(inside, 0, axis)
        clear = wrong & g.resolved(A - N)
        if np.count_nonzero(clear) < max(MIN_WITNESSES, np.count_nonzero(inside) // 2):
            continue
        last = "position" if k == 1 else f"{k} positions"
        return Story(
            "orientation",
            f"only the last {last} along axis {axis} are wrong, alike in every example, and every "
            f"earlier one is right: the gradient from the last window or step along axis {axis} "
            "is never sent back",
            f"A loop over axis {axis} in the backward that fills d{g.name} stops one short of the "
            "forward's (range(n - 1) for range(n), a last window's start left out): loop over "
            "every output position the forward computes.",
            {"how": "short_loop", "axis": axis, "positions": k})
    return None


def _orientation_story(name: str, shape: tuple, how: dict) -> Story:
    axes = _axes_text(how["axes"])
    if how["how"] == "flip":
        meaning = f"the analytic gradient is the numeric one reversed along {axes}"
        hint = (f"d{name} runs over {axes} in the opposite order from the forward pass: a kernel "
                "flipped in one pass and not in the other (flip it back over those axes), or an "
                "index counted from the wrong end.")
    elif how["how"] == "swap":
        meaning = f"the analytic gradient is the numeric one with {axes} swapped"
        hint = (f"d{name} has {axes} in the wrong order: a transpose or a reshape in the backward "
                "that swaps them, or a patch indexed [j, i] where the forward uses [i, j].")
    else:
        steps = ", ".join(f"{s:+d} along axis {a}" for a, s in zip(how["axes"], how["by"]))
        by = max(abs(s) for s in how["by"])
        positions = "one position" if by == 1 else f"{by} positions"
        meaning = (f"the analytic gradient is the numeric one shifted by {positions} ({steps}), "
                   "apart from the edge")
        if len(how["axes"]) > 1 and len(set(how["by"])) == 1:
            hint = (f"d{name} is taken {positions} off along {axes} alike: a padded gradient "
                    f"cropped from the wrong corner (crop [pad:pad + n] along each, not [:n]; "
                    f"here pad = {by}), or a window's start off by {by} on both axes.")
        else:
            hint = (f"An index in d{name} is off by {by} along {axes}: a window's start, a padding "
                    "offset (crop [pad:pad + n], not [:n]) or a time step taken "
                    f"{positions} away from the forward's.")
    return Story("orientation", meaning, hint, dict(how))


def untransposed_weight(g: Gradient) -> Story | None:
    """The analytic gradient is the numeric one passed back through a square weight ``W`` of
    the same check instead of ``W``'s transpose: ``A = N inv(W^T) W`` (examples in rows) or
    ``A = W inv(W^T) N`` (in columns). ``W`` must be invertible, well conditioned and not
    symmetric, and the relation must hold on every entry."""
    A, N = g.analytic, g.numeric
    if A.ndim != 2 or not g.complete:
        return None
    for peer, W in g.peers.items():
        W = np.asarray(W, dtype=np.float64)
        if peer == g.name or W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 2:
            continue
        if np.linalg.norm(W - W.T) <= 1e-3 * np.linalg.norm(W):
            continue
        condition = np.linalg.cond(W)
        if not np.isfinite(condition) or condition > MAX_CONDITION:
            continue
        k = W.shape[0]
        candidates = []
        if A.shape[1] == k:  # N = D W^T, so D = N inv(W^T) and D W = N inv(W^T) W
            candidates.append(("rows", N @ np.linalg.solve(W.T, W)))
        if A.shape[0] == k:  # N = W^T D, so W D = W inv(W^T) N
            candidates.append(("columns", W @ np.linalg.solve(W.T, N)))
        for layout, predicted in candidates:
            holds = g.same(A, predicted, scale=min(condition, 100.0))
            witnesses = g.wrong & g.resolved(predicted)
            if np.all(holds) and np.count_nonzero(witnesses) >= MIN_WITNESSES:
                product = (f"d_out @ {peer}.T" if layout == "rows" else f"{peer}.T @ d_out")
                return Story(
                    "orientation",
                    f"the analytic gradient is the numeric one passed back through {peer} instead of "
                    f"its transpose",
                    f"The backward multiplies by {peer} where the forward's product needs its "
                    f"transpose: d{g.name} = {product}.",
                    {"how": "untransposed", "weight": peer, "layout": layout})
    return None


# -- missing terms -------------------------------------------------------------------------------
def copied(g: Gradient) -> Story | None:
    """The analytic gradient equals the analytic gradient returned for another parameter of the
    same shape on every entry, and differs from the numeric one on at least
    :data:`MIN_WITNESSES` resolved entries: the two parameters enter the loss differently (one
    multiplies what the other does not), yet got the same gradient, so the factor that tells
    them apart is missing from this one."""
    A, N = g.analytic, g.numeric
    if not g.complete or A.size < MIN_WITNESSES or not np.any(A):
        return None
    witnesses = g.wrong & g.resolved(A - N)
    if np.count_nonzero(witnesses) < MIN_WITNESSES:
        return None
    for peer, other in g.peer_gradients.items():
        if peer == g.name or not isinstance(other, np.ndarray) or other.shape != A.shape:
            continue
        other = np.asarray(other, dtype=np.float64)
        if np.all(g.same(A, other)):
            return Story(
                "missing_term",
                f"the analytic gradient is the one returned for {peer}, entry for entry: the factor "
                f"by which {g.name} enters the loss and {peer} does not is missing from it",
                f"d{g.name} was computed as d{peer} is: multiply what is summed into d{g.name} by "
                f"the value {g.name} multiplies in the forward pass (for out = {g.name} * x_hat + "
                f"{peer}, d{g.name} = sum(dout * x_hat), d{peer} = sum(dout)).",
                {"how": "copied", "from": peer})
    return None


def missing_term(g: Gradient) -> Story | None:
    """Analytic minus numeric is, along some axis, the same at every position (a term through a
    mean or a sum over that axis), or, slice by slice along it, a multiple of the slice's centred
    values (a term through a variance over that axis), and the relation holds on every entry."""
    if not g.complete or g.analytic.ndim == 0:
        return None
    A, N = g.analytic, g.numeric
    E = A - N
    for axis in range(A.ndim):
        if A.shape[axis] < MIN_SLICE - 1:
            continue
        shared = np.mean(E, axis=axis, keepdims=True)
        if np.all(g.same(A, N + shared)) and np.count_nonzero(g.wrong) >= MIN_WITNESSES \
                and not np.all(g.same(A, np.mean(A, axis=axis, keepdims=True))):
            return Story(
                "missing_term",
                f"analytic - numeric is the same at every position along axis {axis}: a term "
                f"through a mean (or a sum) over axis {axis} is missing or extra",
                f"Every entry of d{g.name} along axis {axis} feeds a quantity computed over that "
                "axis (a mean the forward subtracts, a sum it divides by): its gradient, the same "
                f"for each position, is missing from d{g.name} (or counted twice).",
                {"how": "mean", "axis": axis})
    if g.values is None:
        return None
    V = np.asarray(g.values, dtype=np.float64).reshape(A.shape)
    for axis in range(A.ndim):
        if A.shape[axis] < MIN_SLICE:
            continue
        centred = V - V.mean(axis=axis, keepdims=True)
        # per slice, E = a + b * centred: least squares of the two coefficients
        e_mean = E.mean(axis=axis, keepdims=True)
        e_c = E - e_mean
        norms = np.sum(centred * centred, axis=axis, keepdims=True)
        if np.any(norms <= 1e-12 * max(float(np.max(norms)), 1e-300)):
            continue
        slope = np.sum(e_c * centred, axis=axis, keepdims=True) / norms
        predicted = N + e_mean + slope * centred
        resolved_slopes = np.abs(slope) * np.sqrt(norms) > 4 * max(g.atol, 1e-300)
        if np.all(g.same(A, predicted)) and np.count_nonzero(resolved_slopes) >= max(1, resolved_slopes.size // 2) \
                and np.count_nonzero(g.wrong) >= MIN_WITNESSES and not _follows_values(E, V, g):
            return Story(
                "missing_term",
                f"analytic - numeric is, in every slice along axis {axis}, a multiple of that "
                f"slice's centred values ({g.name} - its mean over axis {axis}): a term through a "
                f"variance (or standard deviation) over axis {axis} is missing",
                f"The forward divides by a standard deviation over axis {axis}, which moves with "
                f"every entry: d{g.name} is missing that term, x_hat * mean(d_x_hat * x_hat) over "
                f"axis {axis}, divided by the standard deviation.",
                {"how": "variance", "axis": axis})
    return None


def _follows_values(E: np.ndarray, V: np.ndarray, g: Gradient) -> bool:
    """The error is one multiple of the values themselves (an L2 term), not of centred slices."""
    vv = float(np.sum(V * V))
    if vv == 0.0:
        return False
    c = float(np.sum(E * V)) / vv
    return bool(np.all(g.same(g.analytic, g.numeric + c * V)))


# -- derivatives ---------------------------------------------------------------------------------
def wrong_derivative(g: Gradient) -> Story | None:
    """Where the numeric gradient is resolved, analytic / numeric is one function of each entry's
    own value (a polynomial of degree at most :data:`RATIO_DEGREE`, fitted on three times as many
    entries as it has coefficients), not a constant, and the relation holds on every entry: an
    elementwise derivative evaluated at the wrong value, or the wrong function."""
    if g.values is None or not g.complete:
        return None
    A, N = g.analytic.reshape(-1), g.numeric.reshape(-1)
    V = np.asarray(g.values, dtype=np.float64).reshape(-1)
    live = g.resolved(N)
    # the loss ignores an entry the analytic gradient reaches: routing, not a derivative
    if np.any(g.wrong.reshape(-1) & ~live):
        return None
    for degree in range(1, RATIO_DEGREE + 1):
        if np.count_nonzero(live) < 3 * (degree + 1) or np.unique(V[live]).size <= degree + 1:
            return None
        # weighted least squares of A = N * p(V): the ratio's polynomial, in numeric units
        basis = N[live, None] * np.vander(V[live], degree + 1)
        coefficients, *_ = np.linalg.lstsq(basis, A[live], rcond=None)
        ratio = np.polyval(coefficients, V)
        if not np.all(g.same(A[live], N[live] * ratio[live])):
            continue
        low, high = float(np.min(ratio[live])), float(np.max(ratio[live]))
        if np.all(g.same(ratio[live], np.full(np.count_nonzero(live), np.mean(ratio[live])))):
            return None  # a constant ratio is a scale, told elsewhere
        is_value = degree == 1 and np.allclose(coefficients, [1.0, 0.0], atol=claim_tolerance(g.rtol) * 10)
        meaning = ("analytic = numeric x the entry's own value: the derivative is the activation's "
                   "value, not its slope" if is_value else
                   f"analytic / numeric depends only on each entry's own value (from {low:.3g} to "
                   f"{high:.3g}): an elementwise derivative evaluated at the wrong value")
        hint = (f"Recompute the activation's derivative in d{g.name} where the forward evaluated it: "
                "relu' is 1 where x > 0 (not x itself), tanh' is 1 - tanh(x)^2 = 1 - out^2 (not "
                "1 - x^2), sigmoid' is out * (1 - out).")
        return Story("derivative", meaning, hint, {"degree": degree, "ratio_low": low, "ratio_high": high,
                                                   "ratio_is_value": bool(is_value)})
    return None


#: The structural tests, in the order they are asked: exact relations first.
TESTS: tuple[Callable[[Gradient], Story | None], ...] = (
    transformed, untransposed_weight, misrouted, moved, short_loop, one_entry_per_row, copied,
    missing_term, wrong_derivative,
)


def structural_story(g: Gradient) -> Story | None:
    """The first structural test that holds, or None."""
    with np.errstate(all="ignore"):
        for test in TESTS:
            story = test(g)
            if story is not None:
                return story
    return None


# -- shapes --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reshaping:
    """How a gradient of the wrong shape can still be compared with its parameter, and what the
    shape alone says.

    ``how`` is ``"crop"`` (larger by the same even amount on each side of some axes: a padded
    gradient not cropped), ``"sum"`` (one axis more: a sum over it not taken), ``"permute"``
    (the same lengths in another order, not reversed: axes put back in the wrong order) or
    ``"wrong_axis"`` (one entry per example where the parameter has one per unit: the sum ran over
    the axis that should remain; nothing to compare). ``axes`` are the analytic's axes involved;
    ``order`` the permutation (``aligned = analytic.transpose(order)``); ``pads`` the amount cropped
    from each side per axis.
    """

    how: str
    meaning: str
    hint: str
    axes: tuple = ()
    order: tuple = ()
    pads: tuple = ()

    def align(self, analytic: np.ndarray) -> np.ndarray | None:
        """The analytic gradient brought to the parameter's shape, or None when it cannot be."""
        if self.how == "crop":
            return analytic[tuple(slice(p, analytic.shape[a] - p) for a, p in enumerate(self.pads))].copy()
        if self.how == "sum":
            return analytic.sum(axis=self.axes[0])
        if self.how == "permute":
            return np.transpose(analytic, self.order).copy()
        return None

    def aligned_words(self) -> str:
        """What was done to compare the values, for the finding's text."""
        return {"crop": "cropped to its centre", "sum": f"summed over axis {self.axes[0]}",
                "permute": "with its axes put back in order"}.get(self.how, "")


def reshaping(name: str, analytic_shape: tuple, param_shape: tuple,
              batch_size: int | None = None) -> Reshaping | None:
    """What a gradient of shape ``analytic_shape`` for a parameter of ``param_shape`` says (see
    :class:`Reshaping`), or None when its shape alone says nothing decisive. The simplest
    alignment is taken: a crop only when every larger axis is larger by an even amount; a sum
    only over the one axis whose removal gives the parameter's shape; a permutation only when one
    swap of two axes (or else one permutation in all) gives it."""
    S, P = tuple(analytic_shape), tuple(param_shape)
    if len(S) == len(P) and S != P and all(s >= p for s, p in zip(S, P)) \
            and all((s - p) % 2 == 0 for s, p in zip(S, P)):
        pads = tuple((s - p) // 2 for s, p in zip(S, P))
        axes = tuple(a for a, p in enumerate(pads) if p)
        return Reshaping(
            "crop", f"d{name} has shape {S} but {name} has shape {P}: larger by "
            + ", ".join(f"{2 * pads[a]} along axis {a}" for a in axes),
            f"d{name} still carries the padding added in the forward pass: crop it away, "
            + f"d{name} = d{name}_padded[" + ", ".join(f"{p}:-{p}" if p else ":" for p in pads) + "].",
            axes=axes, pads=pads)
    if len(S) == len(P) + 1:
        extra = [a for a in range(len(S)) if S[:a] + S[a + 1:] == P]
        if len(extra) == 1 or (extra and len({S[a] for a in extra}) == 1 and extra == list(
                range(extra[0], extra[0] + len(extra)))):
            axis = extra[0]
            return Reshaping(
                "sum", f"d{name} has shape {S} but {name} has shape {P}: axis {axis} (length "
                f"{S[axis]}) is not summed over",
                f"Every position along axis {axis} adds to the same entries of {name}: sum d{name} "
                f"over axis {axis} too, so it has exactly {name}'s shape {P}.",
                axes=(axis,))
    if len(S) == len(P) and sorted(S) == sorted(P) and S != P and S != P[::-1]:
        orders = [order for order in itertools.permutations(range(len(S)))
                  if tuple(S[i] for i in order) == P]
        swaps = [o for o in orders if sum(i != a for a, i in enumerate(o)) == 2]
        chosen = swaps[0] if len(swaps) == 1 else orders[0] if len(orders) == 1 else None
        if chosen is not None:
            moved = tuple(a for a, i in enumerate(chosen) if i != a)
            return Reshaping(
                "permute", f"d{name} has shape {S} but {name} has shape {P}: the same lengths with "
                f"{_axes_text(moved)} in another order",
                f"The transpose that brings d{name} back to {name}'s layout puts its axes in the "
                f"wrong order: use the inverse of the forward's transpose (here, d.transpose{chosen} "
                "would fix the order).",
                axes=moved, order=chosen)
    if batch_size and batch_size > 1:
        s_long = [s for s in S if s != 1]
        p_long = [p for p in P if p != 1]
        if s_long == [batch_size] and len(p_long) == 1 and p_long[0] != batch_size:
            return Reshaping(
                "wrong_axis", f"d{name} has shape {S} but {name} has shape {P}: one entry per "
                f"example (the batch of {batch_size}) where {name} has one per unit "
                f"({p_long[0]}): the sum ran over the wrong axis",
                f"Check the axis and keepdims of the sum that produces d{name}: it sums over the "
                f"units and keeps the examples; sum over the examples' axis instead, keeping "
                f"{name}'s own (keepdims=True where {name} keeps a singleton axis).",
                axes=tuple(a for a, s in enumerate(S) if s == batch_size))
    return None
