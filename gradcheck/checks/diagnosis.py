"""Diagnosis: from an analytic and a numeric gradient, say what mistake produced the difference.

Pure functions on arrays. Nothing here knows parameter names' meaning: every conclusion comes
from the numbers (a common ratio, a constant value, a transposition, where the wrong entries sit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from gradcheck.checks.structure import Gradient, Reshaping, reshaping, structural_story
from gradcheck.numeric.model import CLAIM_RTOL_FLOOR, agree
from gradcheck.results.findings import Finding, format_shape
from gradcheck.wording import words


@dataclass(frozen=True)
class CodeContext:
    """What the diagnosis knows about the code under check, so a hint speaks in its terms.

    Every front end passes what it knows: the command line and the plugin from the target,
    the Python API from ``check_gradients(..., batch_size=, per_example=, reduction=, layout=)``.

    Attributes
    ----------
    batch_size : int or None
        Examples in the batch: a gradient off by exactly this factor is a missing (or extra) 1/m.
    per_example : bool
        The backward sees one example at a time (no examples axis, no 1/m of its own).
    reduction : {"mean", "sum"} or None
        How the code's loss reduces over the examples, when known.
    layout : {"rows", "columns"} or None
        Where the examples are in X, when known: hints then name that layout's formulas only.
    penalties : tuple of (parameter, kind, strength, where)
        Penalty strengths the code holds (``("W1", "l2", 5e-4, "layers[0].weight_regularizer_l2")``):
        a disagreement of exactly their gradient is named in the code's words.
    layer : dict or None
        For a function-pair layer: its ``kind`` and ``name``, and ``roles``, the role of each of
        the forward's arguments (``"checked"``, ``"integer indices"``, ``"a mask"``,
        ``"settings"``, ...), so a hint can tell an input from a weight or an index; for a layer
        object, ``roles`` alone, its input's role ``"input"``.
    """

    batch_size: int | None = None
    per_example: bool = False
    reduction: str | None = None
    layout: str | None = None
    penalties: tuple = ()
    layer: dict | None = field(default=None, compare=False, hash=False)

    def penalties_of(self, name: str) -> list[tuple[str, float, str]]:
        """(kind, strength, where) of the penalties the code holds on parameter ``name``."""
        return [(kind, strength, where) for param, kind, strength, where in self.penalties if param == name]

    def formula(self, rows: str, columns: str) -> str:
        """``rows`` or ``columns`` as the layout says; both, labelled, when it is unknown."""
        if self.layout == "rows":
            return rows
        if self.layout == "columns":
            return columns
        return f"{rows} (rows = examples); {columns} (columns = examples)"


#: No context: the hints that fit any code.
NO_CONTEXT = CodeContext()


def format_index(shape: tuple, flat_index: int) -> str:
    """``[3, 7]`` for a 2-D parameter, ``[5]`` for a vector, ``""`` for a scalar."""
    if not shape:
        return ""
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat_index, shape)) + "]"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _close(x: float, target: float, rel: float = 2e-3) -> bool:
    return abs(x - target) <= rel * max(abs(target), 1e-300)


def _entry_text(name, shape, flat_index, a, n, meaning) -> str:
    """``W1[3, 7]: analytic 0.125, numeric 0.0125, ratio 10 — <meaning>``: a finding's text,
    which :class:`~gradcheck.results.findings.Finding` ends with its kind."""
    ratio = a / n if n != 0 else float("inf") if a != 0 else 1.0
    return (f"{name}{format_index(shape, flat_index)}: analytic {_fmt(a)}, numeric {_fmt(n)}, "
            f"ratio {_fmt(ratio)} — {meaning}")


def fit_scale(A: np.ndarray, N: np.ndarray) -> tuple[float, float]:
    """Least-squares c with A ~ c N, and the relative residual |A - c N| / |A|."""
    nn = float(N @ N)
    if nn == 0.0:
        return float("nan"), float("inf")
    c = float(A @ N) / nn
    norm_a = float(np.linalg.norm(A))
    residual = float(np.linalg.norm(A - c * N)) / norm_a if norm_a > 0 else float("inf")
    return c, residual


#: A common factor this close to 1 (but not within the check's tolerance) is a small constant
#: error: two constants (epsilons, clipping bounds) that should be one.
SMALL_CONSTANT_ERROR = 0.05
#: Dropout keep probabilities (low, high): a common factor in this range, or its inverse, is what
#: a dropout backward without its 1/keep_prob rescale (or with one too many) gives.
KEEP_PROBABILITIES = (0.5, 1.0 - SMALL_CONSTANT_ERROR)


def _scale_story(c: float, context: CodeContext, rel: float = 2e-3) -> tuple[str, str]:
    """(meaning, hint) for a gradient that is c times too large (``rel``: how close is exact),
    in the terms of the code (``context``): per-example code never sees the batch, a summed loss
    has no 1/m to forget."""
    m = None if context.per_example else context.batch_size
    if m and m > 1 and _close(c, m, rel):
        hint = {
            "sum": "The loss sums over the examples, so its gradient takes no 1/m and no factor m "
                   "either: look for a multiplication by the batch size in the backward.",
            "mean": "The loss is a mean over the examples but the gradient sums over them: divide "
                    "the loss gradient by the batch size once, where dL/dZ is formed.",
        }.get(context.reduction, "Use one reduction in both: if the loss is a mean over examples, "
              "divide the summed gradient by the batch size; if it is meant to be a sum, drop the "
              "1/m from the loss.")
        return (f"gradient is {_fmt(c)}x too large, exactly the batch size {m}: a missing 1/m, the "
                "gradient sums over the examples where the loss averages", hint)
    if m and m > 1 and _close(c * m, 1.0, rel):
        hint = {
            "sum": "The loss sums over the examples (no 1/m) but its gradient divides by the batch "
                   "size: drop that division from the backward (a / len(y) in the loss gradient, "
                   "or a / m in dW), or make the loss a mean.",
            "mean": "The loss is a mean over the examples and the gradient divides by the batch "
                    "size twice (in the loss gradient and again in dW, say): keep only one 1/m.",
        }.get(context.reduction, "The gradient is divided by the batch size once more than the "
              "loss: a summed loss whose gradient averages, or a mean loss whose gradient divides "
              "by m twice (in the loss gradient and again in dW). Use the same reduction in both.")
        return (f"gradient is {m}x too small, exactly the batch size: the gradient has one 1/m "
                "more than the loss", hint)
    if _close(c, 2.0, rel):
        return (
            "gradient is 2x too large: the loss has a ½ its gradient does not",
            "A factor 2 too many: the loss holds a ½ (½·sum((p - y)²), λ/2·sum(W²)) whose "
            "gradient is (p - y) or λ·W, "
            "but the backward uses 2(p - y) or 2λ·W: take the 2 out of the backward, or the ½ "
            "out of the loss if that is the cost you mean.",
        )
    if _close(c, 0.5, rel):
        return (
            "gradient is 2x too small: the gradient fits ½ of the loss",
            "The gradient is that of a loss with a ½ (½·sum((p - y)²) gives (p - y), λ/2·sum(W²) "
            "gives λ·W), but the loss that was checked has no ½: put the ½ into the loss if that "
            "is the cost you mean, rather than doubling the gradient; otherwise the backward "
            "lost a factor 2 (the derivative of a square is 2x), or a dropout backward with keep_prob "
            "0.5 left out its 1/keep_prob.",
        )
    if abs(c - 1.0) <= SMALL_CONSTANT_ERROR:
        return (
            f"gradient is {_fmt(c)}x the loss's, {_fmt(abs(c - 1) * 100)} % off on every entry",
            "A small error that is the same on every entry is two constants that should be one: "
            "the loss and the backward clipping with different epsilons (np.clip(p, eps, 1 - eps) "
            "in one, another eps or none in the other), an eps added in a log but not in its "
            "derivative, or a smoothing constant used on one side only: use the same constant "
            "in both.",
        )
    # the factor said to the digits the check resolves (float32's numbers give 0.749999)
    keep = f"{abs(c):.{max(2, int(np.ceil(-np.log10(rel))))}g}"
    if KEEP_PROBABILITIES[0] <= abs(c) < KEEP_PROBABILITIES[1]:
        return (
            f"gradient is {_fmt(1 / c)}x too small: {_fmt(c)} times the loss's, a probability "
            "rather than a 1/m",
            f"A factor of {keep} on every entry is what a dropout backward gives that "
            "multiplies by its 0/1 mask but leaves out the 1/keep_prob rescale its forward "
            f"applies (keep_prob = {keep}): use the same scaled mask (mask / keep_prob) in the "
            "forward and the backward. Otherwise a constant weight of the loss is missing from "
            "the gradient.",
        )
    keep = f"{1 / abs(c):.{max(2, int(np.ceil(-np.log10(rel))))}g}"
    if KEEP_PROBABILITIES[0] <= 1 / abs(c) < KEEP_PROBABILITIES[1]:
        return (
            f"gradient is {_fmt(c)}x too large: 1/{_fmt(1 / c)}, one over a probability",
            f"A factor of 1/{keep} on every entry is what a dropout backward gives that "
            "divides by keep_prob when its forward did not rescale (or rescales twice): use the "
            f"same scaled mask (mask / keep_prob, keep_prob = {keep}) in the forward and "
            "the backward. Otherwise a constant weight multiplies the gradient but not the loss.",
        )
    whole = round(abs(c) if abs(c) >= 1 else 1 / abs(c))
    if abs(c) >= 1:
        meaning = f"gradient is {_fmt(c)}x too large"
    else:
        meaning = f"gradient is {_fmt(1 / c)}x too small"
    if not context.per_example and context.batch_size is None and whole >= 3 \
            and _close(abs(c) if abs(c) >= 1 else 1 / abs(c), whole, rel):
        # a whole number with no batch size given: the likeliest story is still the batch's
        more = "larger" if abs(c) >= 1 else "smaller"
        return (f"{meaning}, a whole number: a 1/m {'missing' if abs(c) >= 1 else 'too many'} if "
                f"the batch holds {whole} examples",
                f"If the batch has {whole} examples, the gradient is {whole}x {more} than the loss's "
                "because one of them sums over the examples where the other averages: use the same "
                f"reduction in both. (With {words().setting('batch_size', whole)} gradcheck names "
                "that factor for certain.)")
    return (
        meaning,
        "Every entry is off by the same factor: look for a constant multiplying the whole "
        "gradient (the learning rate, a 1/m, a loss weight) in the line that computes it.",
    )


#: Without every entry checked, this many entries exactly 0 where the loss depends on them, and
#: none written where it does not, are needed to say part of a gradient is never written.
_MIN_SAMPLED_ZEROS = 3
#: A factor the numbers alone suggest must hold on at least this many entries the numeric
#: gradient resolves; the factors the code's context names (the batch size), 2, 1/2 and -1 are
#: recognised on one.
_MIN_FACTOR_ENTRIES = 2


def _factor_holds(A, N, c: float, rtol: float, atol: float, context: CodeContext) -> bool:
    """One factor ``c`` explains every checked entry: ``A`` agrees with ``c N`` within the check's
    own tolerance on each (float32's noisy numeric values included), on enough resolved entries."""
    if not np.all(agree(A, c * N, max(rtol, CLAIM_RTOL_FLOOR), atol)):
        return False
    # an entry speaks for the factor when the factor moves it by more than twice the tolerance
    resolved = int(np.count_nonzero(np.abs(c - 1.0) * np.abs(N) > 2 * np.maximum(atol, 1e-300)))
    if resolved >= _MIN_FACTOR_ENTRIES:
        return True
    m = None if context.per_example else context.batch_size
    named = [2.0, 0.5, -1.0] + ([float(m), 1.0 / m] if m and m > 1 else [])
    return resolved >= 1 and any(_close(c, target, max(1e-3, rtol)) for target in named)


def _held_penalty_story(name, A, N, W, context: CodeContext, rtol: float, atol) -> tuple[str, str, dict] | None:
    """(meaning, hint, data) when analytic - numeric is exactly a held penalty's gradient (or
    its double, its half, its sign lost): said in the code's words, the strength and where it is.

    L2 with strength l (``l * sum(W^2)`` in the loss, ``2 l W`` in the backward): +2l W (or +l W)
    is a term the backward adds and the loss lacks; -2l W is the loss's term the backward leaves
    out; -l W a backward adding ``l W`` for a loss with ``l sum(W^2)``. L1 (``l sum|W|``,
    ``l sign(W)``): +-l sign(W) likewise, and ``l (1 - sign(W))`` a backward that lost the sign.
    A candidate is the story when taking it out of the analytic gradient makes every checked
    entry agree with the numeric one (within the check's tolerance, so float32's noise too).
    """
    if W.size < 2 or np.all(agree(A, N, rtol, atol)):
        return None
    sign = np.sign(W)
    for kind, strength, where in context.penalties_of(name):
        held = f"{where} = {strength:g}"
        if kind == "l2":
            candidates = (
                (2 * W, f"2·{strength:g}·{name}",
                 f"your backward adds 2·{strength:g}·{name} (the L2 gradient of {held}) that your "
                 "loss does not contain",
                 f"The loss that was checked has no {strength:g}·sum({name}²): no "
                 "regularization_loss() was found on the loss object or on the loss it wraps. Add "
                 "the layers' regularization loss to the loss you report (loss.regularization_loss("
                 "layer) for each layer), or pass regularization=<function returning it> to "
                 "layer_objects."),
                (W, f"{strength:g}·{name}",
                 f"your backward adds {strength:g}·{name} (from {held}) that your loss does not "
                 "contain",
                 f"The loss that was checked has no L2 term on {name}; add the layers' "
                 "regularization loss to the loss you report, or pass regularization=<function "
                 "returning it> to layer_objects."),
                (-2 * W, None, None,
                 f"Your loss contains {strength:g}·sum({name}²) ({held}) whose gradient "
                 f"2·{strength:g}·{name} your backward leaves out: add 2 * {strength:g} * {name} "
                 "to d" + name + " in the layer's backward (the book's dweights += 2 * "
                 "weight_regularizer_l2 * weights)."),
                (-W, None, None,
                 f"Your backward adds {strength:g}·{name} but the loss's {strength:g}·sum({name}²) "
                 f"({held}) has gradient 2·{strength:g}·{name}: the derivative of l·sum({name}²) "
                 "is 2·l·" + name + ", so multiply the backward's L2 term by 2 (dweights += 2 * "
                 "weight_regularizer_l2 * weights)."),
            )
        elif kind == "l1":
            candidates = (
                (sign, f"{strength:g}·sign({name})",
                 f"your backward adds {strength:g}·sign({name}) (the L1 gradient of {held}) that "
                 "your loss does not contain",
                 "Add the layers' L1 regularization loss to the loss you report, or pass "
                 "regularization=<function returning it> to layer_objects."),
                (-sign, f"-{strength:g}·sign({name})",
                 f"your loss contains {strength:g}·sum(|{name}|) ({held}) whose gradient "
                 f"{strength:g}·sign({name}) your backward leaves out",
                 f"Add {strength:g} * np.sign({name}) to d{name} in the layer's backward."),
                (1 - sign, f"{strength:g}·(1 - sign({name}))",
                 f"the L1 gradient of {held} lost its sign: your backward adds {strength:g} where "
                 f"it should add {strength:g}·sign({name})",
                 f"The derivative of l·sum(|{name}|) is l·sign({name}), -l where {name} < 0: use "
                 f"np.sign({name}) (dL1 = np.ones_like, then dL1[{name} < 0] = -1), not ones."),
            )
        else:
            continue
        for pattern, term, meaning, hint in candidates:
            if not np.all(agree(A - strength * pattern, N, rtol, atol)):
                continue
            if meaning is None:
                # the loss's term, short in the backward: said as any missing penalty gradient is,
                # the hint in the code's words
                c = -strength * float(np.max(np.abs(pattern[W != 0] / W[W != 0])))
                meaning = (f"{_fmt(c)} x {name}: a regularisation term's gradient "
                           f"({_fmt(-c)} {name}) is missing")
                term = None
            return (f"analytic - numeric = {term}: {meaning}" if term else f"analytic - numeric = {meaning}",
                    hint, {"penalty": kind, "strength": strength, "where": where, "term": term})
    return None


def _regularisation_story(name, A, N, W, fit: float = 1e-3) -> tuple[str, str, float] | None:
    """(meaning, hint, c) when analytic - numeric = c W: an L2 term missing, doubled or extra.

    ``fit``: the relative residual below which the error counts as following W.
    """
    error = A - N
    if W.size < 2 or not np.any(error) or float(W @ W) == 0.0:
        return None
    c, residual = fit_scale(error, W)
    # the error must follow W clearly better than the gradient itself (a plain scale error also
    # fits N) -- unless the gradient is W itself, the penalty alone (a data gradient that vanishes)
    _, along_gradient = fit_scale(error, N) if np.any(N) else (0.0, np.inf)
    penalty_alone = fit_scale(N, W)[1] < fit
    if not (np.isfinite(c) and residual < fit and (along_gradient > 10 * residual or penalty_alone)):
        return None
    if c < 0:
        return (f"analytic - numeric = {_fmt(c)} x {name}: a regularisation term's gradient "
                f"({_fmt(-c)} {name}) is missing",
                f"The loss's penalty on {name} has {_fmt(-c)}·{name} more gradient than d{name} "
                f"carries. If d{name} already adds a penalty term (lambda * {name}), the loss "
                f"lacks the ½ of lambda/2 * sum({name}^2): put the ½ into the loss, do not change "
                f"the gradient. If d{name} adds none, add its gradient, lambda * {name} (or "
                f"2 lambda * {name} for a loss with lambda * sum({name}^2)).", c)
    return (f"analytic - numeric = {_fmt(c)} x {name}: a term {_fmt(c)} {name} too many in the "
            "gradient",
            f"d{name} carries a penalty gradient the loss does not have, or counts it twice: the "
            f"L2 term is lambda * {name} for a loss with lambda/2 * sum({name}^2); check that the "
            "loss and the gradient add the same penalty once.", c)


def _scale_beside_penalty(A, N, W, fit: float) -> float | None:
    """c when A = c N + d W fits every entry (a gradient scaled beside a penalty term the scaling
    does not reach, e.g. a data gradient times a keep probability plus an L2 term), else None."""
    if W.size < 6 or not np.any(W) or not np.any(N):  # two unknowns need entries to spare
        return None
    basis = np.stack([N, W], axis=1)
    (c, d), *_ = np.linalg.lstsq(basis, A, rcond=None)
    norm_a = float(np.linalg.norm(A))
    residual = float(np.linalg.norm(A - basis @ np.array([c, d]))) / norm_a if norm_a > 0 else np.inf
    if not (np.isfinite(c) and residual < fit and abs(d) * float(np.linalg.norm(W)) > fit * norm_a):
        return None
    return float(c)


def _reduction_finding(name, shape, A, N, n_full, worst, a_w, n_w,
                       context: CodeContext = NO_CONTEXT, rtol: float = 0.0) -> Finding | None:
    """One value repeated where the entries should differ: summed over the wrong axes (the sum
    or mean of the correct gradients known to the check's ``rtol``, float32's too)."""
    spread_a = float(np.ptp(A)) if A.size else 0.0
    spread_n = float(np.ptp(N)) if N.size else 0.0
    scale = max(float(np.max(np.abs(N))), 1e-300)
    if A.size < 2 or spread_a > 1e-6 * max(float(np.max(np.abs(A))), 1e-300) or spread_n <= 1e-3 * scale:
        return None
    value = float(A.flat[0])
    relation = ""
    if n_full is not None and np.all(np.isfinite(n_full)):
        total, mean = float(np.sum(n_full)), float(np.mean(n_full))
        # Compare against the size of the terms: a sum of gradients can cancel to ~0.
        slack = max(1e-4, rtol) * float(np.sum(np.abs(n_full)))
        if abs(value - total) <= slack:
            relation = ", equal to the sum of the correct gradients over all entries"
        elif abs(value - mean) <= slack / n_full.size:
            relation = ", equal to the mean of the correct gradients"
    meaning = f"one value ({_fmt(value)}) repeated for every entry{relation}"
    if relation and context.per_example:
        hint = (f"d{name} for one example was reduced to a single number (np.sum(delta), say): "
                f"for one example the bias gradient is delta itself, one value per unit, with no "
                "sum at all.")
    elif relation:
        hint = (
            f"d{name} was summed over every axis (np.sum(dZ) without axis=), so all "
            f"{int(np.prod(shape))} entries got the same number; sum over the examples axis only, "
            "e.g. " + context.formula("np.sum(dZ, axis=0)", "np.sum(dZ, axis=1, keepdims=True)")
            + (" (per-example code: no sum at all)." if context.layout is None else ".")
        )
    else:
        hint = (
            f"d{name} holds one number broadcast to all {int(np.prod(shape))} entries, and it is "
            "not the sum of the correct gradients: a sum over another axis than the examples', "
            "or of another array, reduced to one value; keep one value per unit."
        )
    return Finding(
        kind="reduction",
        subject=name,
        text=_entry_text(name, shape, worst, a_w, n_w, meaning),
        hint=hint,
        data={"repeated_value": value, "equals_sum_or_mean": bool(relation),
              "every_axis": bool(relation)},
    )


def _localise(shape: tuple, wrong_flat: np.ndarray, n_checked: int) -> str:
    """Where the wrong entries sit: one entry, one row, one column, or a fraction."""
    if wrong_flat.size == 1:
        return f"a single entry{format_index(shape, int(wrong_flat[0]))} is wrong, the rest agree"
    if len(shape) == 2 and wrong_flat.size > 1:
        rows, cols = np.unravel_index(wrong_flat, shape)
        # a one-row (or one-column) parameter has nothing else to tell its wrong entries from
        if shape[0] > 1 and np.all(rows == rows[0]):
            return f"only row {int(rows[0])} is wrong ({wrong_flat.size} entries)"
        if shape[1] > 1 and np.all(cols == cols[0]):
            return f"only column {int(cols[0])} is wrong ({wrong_flat.size} entries)"
    return f"{wrong_flat.size} of {n_checked} checked entries are wrong"


def diagnose_values(
    name: str,
    analytic: np.ndarray,
    numeric: np.ndarray,
    checked: np.ndarray,
    ok: np.ndarray,
    *,
    context: CodeContext = NO_CONTEXT,
    reduced_to_scalar: bool = False,
    values: np.ndarray | None = None,
    worst: int | None = None,
    rtol: float = 0.0,
    atol: float = 0.0,
    peers: Mapping[str, np.ndarray] | None = None,
    peer_gradients: Mapping[str, np.ndarray] | None = None,
) -> Finding:
    """Explain why a parameter's gradient failed.

    Parameters
    ----------
    name : str
        Parameter name, used in the message.
    analytic, numeric : ndarray, the parameter's shape, float64
        ``numeric`` may be NaN where the entry was not checked.
    checked : bool ndarray, same shape
        Entries where a numeric value exists.
    ok : bool ndarray, same shape
        Entries that passed (or were excused as kinks).
    context : CodeContext
        What is known about the code (the batch size names a scale of exactly m as a missing
        1/m; per-example code and the loss's reduction choose the hint's words).
    reduced_to_scalar : bool
        The analytic gradient arrived as a single number and was broadcast to the shape.
    values : ndarray, optional
        The parameter's values: an error proportional to them is a missing or extra
        regularisation term.
    worst : int, optional
        Flat index of the entry the message names (the report's worst entry); default the
        failing entry with the largest difference.
    rtol, atol : float
        The check's tolerances: numeric gradients are only this precise (float32's rtol is
        2e-2), so a common factor is recognised within them, not only within 1e-3: when the
        gradient divided by the factor passes the check everywhere.
    peers : mapping str -> ndarray, optional
        The values of every parameter of the check (a square weight the backward forgot to
        transpose is one of them).
    peer_gradients : mapping str -> ndarray, optional
        The analytic gradient returned for every parameter of the check (a gradient copied from
        another parameter's is one of them).

    Returns
    -------
    Finding
        kind in nonfinite, zero, sign, scale, transpose, reduction, and the structural kinds of
        :mod:`gradcheck.checks.structure` (orientation, routing, label_term, missing_term,
        derivative), else mismatch.
    """
    shape = analytic.shape
    # a factor fits when it explains the gradient as well as the numeric values are known
    fit, rel = max(1e-3, 2 * rtol), max(2e-3, rtol)
    flat_checked = np.flatnonzero(checked)
    A = analytic.reshape(-1)[flat_checked]
    N = numeric.reshape(-1)[flat_checked]
    wrong = np.flatnonzero(checked & ~ok)
    err = np.abs(analytic - numeric).reshape(-1)
    err = np.where(np.isnan(err), np.inf, err)
    if worst is None:
        worst = int(wrong[np.argmax(err[wrong])]) if wrong.size else int(flat_checked[0])
    if not np.isfinite(analytic.reshape(-1)[worst]):
        worst = int(np.flatnonzero(~np.isfinite(analytic))[0])
    a_w, n_w = float(analytic.reshape(-1)[worst]), float(numeric.reshape(-1)[worst])

    def finding(kind, meaning, hint, **data):
        return Finding(kind=kind, subject=name, hint=hint, data=data,
                       text=_entry_text(name, shape, worst, a_w, n_w, meaning))

    if not np.all(np.isfinite(analytic)):
        count = int(np.sum(~np.isfinite(analytic)))
        return finding(
            "nonfinite", f"{count} analytic entries are NaN or inf",
            f"d{name} contains NaN/inf: look for a log(0), a division by zero or an overflowing "
            "exp in the backward pass (e.g. an unshifted softmax).",
            count=count,
        )
    n_full = numeric if np.all(checked) else None
    reduction = _reduction_finding(name, shape, A, N, n_full, worst, a_w, n_w, context, rtol)
    if reduction is not None and reduction.data["equals_sum_or_mean"]:
        # An all-zero gradient can also equal a sum that cancels (softmax outputs): only the
        # single number it arrived as tells a reduction from a gradient never filled in.
        if reduced_to_scalar or np.any(A != 0):
            return reduction
    if A.size and np.all(N == 0) and np.any(A != 0):
        if np.all(checked):
            return finding(
                "mismatch", "the loss did not change when any entry moved: these are not the "
                "arrays your loss reads",
                f"The loss never reads the {name} that was handed over: pass the live arrays your "
                f"forward pass uses (not {name}.copy(), and not arrays that a later assignment "
                "replaces), or check that the loss uses this parameter at all.",
                not_read=True,
            )
        # a sample of entries none of which moves the loss says nothing about the others
        return finding(
            "mismatch", f"the loss did not change when any of the {flat_checked.size} checked "
            f"entries moved, yet d{name} is not 0 there",
            f"Check every entry of {name} (mode='full') to tell entries that have no effect on the "
            "loss from a parameter the loss does not read at all.",
            not_read=False,
        )
    wrong_a = analytic.reshape(-1)[wrong]
    wrong_n = numeric.reshape(-1)[wrong]
    reaches_dead = np.any((N == 0) & (A != 0))  # gradient written where the loss ignores it
    if wrong.size and np.any(A != 0) and np.all(wrong_a == 0) and np.all(wrong_n != 0) \
            and not reaches_dead and (np.all(checked) or wrong.size >= _MIN_SAMPLED_ZEROS):
        return finding(
            "zero", f"{wrong.size} of {flat_checked.size} checked entries are exactly 0 where the "
            "loss does depend on them: never written",
            f"Part of d{name} is never written: a slice the backward skips, an array from "
            "np.zeros_like filled only in part, or a mask that zeroes live entries.",
            never_written=int(wrong.size),
        )
    if values is not None and context.penalties_of(name):
        held = _held_penalty_story(name, A, N, np.asarray(values, dtype=np.float64).reshape(-1)[flat_checked],
                                   context, max(rtol, 1e-4), max(atol, 1e-12))
        if held is not None:
            meaning, hint, data = held
            return finding("scale", meaning, hint, **data)
    if values is not None:
        story = _regularisation_story(name, A, N, np.asarray(values, dtype=np.float64).reshape(-1)[flat_checked],
                                      fit)
        if story is not None:
            meaning, hint, coefficient = story
            return finding("scale", meaning, hint, l2_coefficient=coefficient)
    if np.all(A == 0) and np.any(~ok.reshape(-1)[flat_checked]):
        return finding(
            "zero", "analytic gradient is all zeros but the loss does depend on it",
            f"d{name} is never filled in, or is computed from a value that is zero (a stale "
            "cache, a dead mask, or a gradient that is not accumulated).",
        )
    c, residual = fit_scale(A, N)
    if np.isfinite(c) and c != 0 and residual >= fit and rtol > 0:
        # noisy numeric values (float32): a factor whose removal makes every entry pass is one
        if np.all(agree(A / c, N, rtol, atol)):
            residual = 0.0
    if np.isfinite(c) and residual < fit and rtol > 0:
        # a noisy fit (float32) is the factor a story names when that factor explains every entry
        m = context.batch_size if context.batch_size and not context.per_example else None
        for exact in ((m, 1 / m) if m and m > 1 else ()) + (2.0, 0.5, -1.0):
            if _close(c, exact, 2 * rtol) and np.all(agree(A / exact, N, rtol, atol)):
                c = exact
                break
    if np.isfinite(c) and residual < fit and not _close(c, 1.0, max(1e-3, rtol)) \
            and _factor_holds(A, N, c, rtol, atol, context):
        if _close(c, -1.0, max(1e-3, rtol)):
            return finding(
                "sign", "gradient has the wrong sign (analytic = -numeric)",
                f"d{name} points uphill: the difference is written the wrong way round (y - p "
                "instead of p - y), or a minus sign is missing or doubled.",
                factor=c,
            )
        meaning, hint = _scale_story(c, context, rel)
        return finding("scale", meaning, hint, factor=c, batch_size=context.batch_size, close=rel)
    if values is not None:
        beside = _scale_beside_penalty(A, N, np.asarray(values, dtype=np.float64).reshape(-1)[flat_checked], fit)
        if beside is not None and not _close(beside, 1.0, max(1e-3, rtol)):
            meaning, hint = _scale_story(beside, context, rel)
            return finding("scale", f"apart from a term along {name} (a penalty's), {meaning}",
                           hint, factor=beside, batch_size=context.batch_size, close=rel)
    if (
        analytic.ndim == 2
        and shape[0] == shape[1]
        and np.all(checked)
        and np.allclose(analytic.T, numeric, rtol=1e-3, atol=1e-8 * max(np.max(np.abs(numeric)), 1))
    ):
        return finding(
            "transpose", "analytic gradient is the transpose of the numeric one",
            f"d{name} has its factors in the wrong order: "
            + context.formula("for W of shape (n_in, n_out), dW = X.T @ dZ",
                              "for W of shape (n_out, n_in), dW = dZ @ X.T") + ".",
        )
    role = ((context.layer or {}).get("roles") or {}).get(name)
    story = structural_story(Gradient(name, np.asarray(analytic, dtype=np.float64),
                                      np.asarray(numeric, dtype=np.float64), checked, ok,
                                      None if values is None else np.asarray(values, dtype=np.float64),
                                      rtol, atol, peers or {}, peer_gradients or {},
                                      role if isinstance(role, str) else None))
    if story is not None:
        return finding(story.kind, story.meaning, story.hint, **story.data)
    if reduction is not None:
        return reduction
    where = _localise(shape, wrong, flat_checked.size)
    if wrong.size and wrong.size < flat_checked.size:
        sub_c, sub_res = fit_scale(analytic.reshape(-1)[wrong], numeric.reshape(-1)[wrong])
        if np.isfinite(sub_c) and sub_res < 1e-3:
            where += f", each off by a factor {_fmt(sub_c)}"
    return finding(
        "mismatch", where, _chain_rule_hint(name, analytic.reshape(-1)[wrong], numeric.reshape(-1)[wrong],
                                            numeric.reshape(-1)[flat_checked], atol),
        wrong_entries=int(wrong.size),
    )


def _chain_rule_hint(name: str, wrong_a: np.ndarray, wrong_n: np.ndarray, numeric: np.ndarray,
                     atol: float) -> str:
    """The hint for a mismatch: the factor of the chain rule its numbers point at, when they do.

    ``wrong_a``, ``wrong_n``: analytic and numeric values of the failing entries; ``numeric``:
    every checked entry's numeric value (its scale says what counts as zero). Entries the loss
    does not move (numeric 0) that get a gradient point at a mask left out; every failing entry
    a few percent off in the same direction points at two constants that should be one.
    """
    scale = float(np.max(np.abs(numeric))) if numeric.size else 0.0
    still = np.abs(wrong_n) <= max(1e-7 * scale, atol or 0.0)
    if wrong_a.size and np.any(still & (np.abs(wrong_a) > 1e-3 * scale)):
        return (f"Some entries of d{name} are nonzero where the loss does not move at all: the "
                "backward passes gradient where the forward blocks it. In the chain rule, the "
                "activation derivative's mask is missing or is taken from another layer (ReLU's "
                "Z > 0 of this layer, a dropout mask): multiply the upstream gradient by the mask "
                "of the same layer's forward.")
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = (wrong_a - wrong_n) / wrong_n  # > 0: the analytic value is the larger
    if wrong_a.size and np.all(np.isfinite(relative)) \
            and np.all(np.abs(relative) <= SMALL_CONSTANT_ERROR) \
            and (np.all(relative > 0) or np.all(relative < 0)):
        return (f"Every wrong entry of d{name} is at most {_fmt(100 * float(np.max(np.abs(relative))))} % "
                "off, all in the same direction: two constants that should be one, such as the "
                "loss and the backward clipping with different epsilons, or an eps added in a log "
                "but not in its derivative. Use the same constant in both; the chain rule's other "
                "factors agree.")
    return (f"Recompute d{name} by hand for the entries named here; compare each factor of the "
            "chain rule (the activation derivative, the upstream gradient, the input) with the "
            "forward pass.")


def _update_keeps_shape(param_shape: tuple, grad_shape: tuple) -> bool:
    """True when ``param - lr * grad`` has the parameter's own shape."""
    try:
        return tuple(np.broadcast_shapes(tuple(param_shape), tuple(grad_shape))) == tuple(param_shape)
    except ValueError:
        return False


def _broadcast_text(param_shape: tuple, grad_shape: tuple) -> str:
    """The shape ``param - lr * grad`` takes, or why it has none."""
    try:
        return format_shape(np.broadcast_shapes(tuple(param_shape), tuple(grad_shape)))
    except ValueError:
        return "none: the subtraction raises (the shapes do not broadcast)"


@dataclass(frozen=True)
class ShapeMismatch:
    """A gradient whose shape differs from its parameter's, before its values are compared.

    ``how`` says how the values can still be compared: ``"broadcast"`` (a single number),
    ``"reshape"`` (only singleton axes differ), ``"transpose"`` (the reversed shape), a
    :class:`~gradcheck.checks.structure.Reshaping`'s ``how`` (``"crop"``, ``"sum"``, ``"permute"``;
    ``"wrong_axis"`` is not comparable) or None (not comparable). ``severity`` is "warning" when
    an update ``W - lr * dW`` still keeps the parameter's shape, else "error". :meth:`finding`
    makes the one finding, once the values are known.
    """

    name: str
    analytic_shape: tuple
    param_shape: tuple
    how: str | None
    meaning: str
    severity: str
    hint: str
    reshaping: Reshaping | None = None

    def align(self, analytic: np.ndarray, param_shape: tuple) -> np.ndarray | None:
        """The analytic gradient in the parameter's shape, or None when the values cannot be compared."""
        if self.reshaping is not None:
            return self.reshaping.align(analytic)
        aligned = {"broadcast": lambda: np.broadcast_to(analytic.reshape(()), param_shape).copy(),
                   "reshape": lambda: analytic.reshape(param_shape),
                   "transpose": lambda: analytic.T.copy()}.get(self.how)
        return None if aligned is None else aligned()

    def finding(self, values_right: bool = False) -> Finding:
        """The ``shape`` finding; ``values_right``: once aligned, the values agree."""
        aligned = {"transpose": "transposed back", "reshape": "reshaped"}.get(self.how) or (
            self.reshaping.aligned_words() if self.reshaping is not None else None)
        meaning = self.meaning + (f"; {aligned}, its values are correct" if values_right and aligned else "")
        hint = self.hint
        if self.reshaping is not None and self.reshaping.how != "wrong_axis" and not values_right:
            hint = _SHAPE_HINT.format(name=self.name)  # the alignment is a guess the values did not confirm
        return Finding(kind="shape", subject=self.name, text=f"{self.name}: {meaning}",
                       hint=hint, severity=self.severity,
                       data={"analytic_shape": list(self.analytic_shape),
                             "param_shape": list(self.param_shape),
                             "transposed": self.how == "transpose", "values_right": values_right,
                             "how": self.how})


_SHAPE_HINT = ("A gradient must have exactly its parameter's shape: check the axis and keepdims of "
               "the sum that produces d{name}, and the order of the matrix product.")


def diagnose_shape(name: str, analytic_shape: tuple, param_shape: tuple,
                   context: CodeContext = NO_CONTEXT) -> ShapeMismatch:
    """Explain a gradient whose shape differs from its parameter's (see :class:`ShapeMismatch`)."""
    batch_size = None if context.per_example else context.batch_size
    p_size = int(np.prod(param_shape)) if param_shape else 1
    a_size = int(np.prod(analytic_shape)) if analytic_shape else 1
    how = None
    severity = "error"
    if a_size == 1 and p_size > 1:
        meaning = (
            f"d{name} is a single number (shape {analytic_shape}) but {name} has shape "
            f"{param_shape}; it was reduced over every axis and will broadcast silently"
        )
        how = "broadcast"
    elif a_size == p_size and tuple(s for s in analytic_shape if s != 1) == tuple(
        s for s in param_shape if s != 1
    ):
        how = "reshape"
        if _update_keeps_shape(param_shape, analytic_shape):
            # (1, n) and (n,): `b -= lr * db` still updates b in place, entry for entry
            severity = "warning"
            meaning = (
                f"d{name} has shape {analytic_shape} but {name} has shape {param_shape}: only "
                f"singleton axes differ, and {name} - lr * d{name} keeps {name}'s shape, so an "
                "update still works"
            )
        else:
            meaning = (
                f"d{name} has shape {analytic_shape} but {name} has shape {param_shape}: only "
                f"singleton axes differ, but {name} - lr * d{name} then has shape "
                f"{_broadcast_text(param_shape, analytic_shape)}"
            )
    elif tuple(analytic_shape) == tuple(param_shape[::-1]):
        meaning = f"d{name} has the transposed shape {analytic_shape} of {name} {param_shape}"
        how = "transpose"
    elif batch_size and batch_size in analytic_shape and a_size == p_size * batch_size:
        meaning = (
            f"d{name} has shape {analytic_shape}: one gradient per example, not summed over "
            f"the batch of {batch_size}"
        )
    else:
        meaning = f"d{name} has shape {analytic_shape} but {name} has shape {param_shape}"
        story = reshaping(name, analytic_shape, param_shape, batch_size)
        if story is not None:
            return ShapeMismatch(name, tuple(analytic_shape), tuple(param_shape), story.how,
                                 story.meaning, severity, story.hint, story)
    if how == "transpose" and context.per_example:
        hint = (f"d{name} for one example is the outer product in the other order: "
                "nabla_w = delta @ activation.T, delta (n_out, 1) first and the layer's input "
                "(n_in, 1) transposed second.")
    elif how == "transpose":
        hint = (f"d{name} multiplies the right factors in the wrong order: "
                + context.formula("for W of shape (n_in, n_out), dW = X.T @ dZ",
                                  "for W of shape (n_out, n_in), dW = dZ @ X.T") + ".")
    else:
        hint = _SHAPE_HINT.format(name=name)
    return ShapeMismatch(name, tuple(analytic_shape), tuple(param_shape), how, meaning, severity, hint)


def reused_buffer_findings(returned, kept: dict[str, np.ndarray]) -> list[Finding]:
    """``mutation`` failures for gradient arrays the network overwrote after returning them.

    ``returned`` is the mapping the gradients call gave back (the user's own arrays), ``kept``
    the float64 copies taken when it returned. A returned array whose values changed while the
    loss ran again is an internal buffer the next forward reuses (zeroes in place, say): right
    when read at once, wrong for anyone who keeps, accumulates, logs or applies gradients after
    another forward (a second optimizer step, gradient accumulation). ``data["handed_out"]``
    tells these apart from a loss that moves its parameters.
    """
    findings = []
    for name, copy in kept.items():
        array = returned.get(name) if hasattr(returned, "get") else None
        if not isinstance(array, np.ndarray) or array.shape != copy.shape:
            continue
        with np.errstate(invalid="ignore"):
            same = np.array_equal(np.asarray(array, dtype=np.float64), copy, equal_nan=True)
        if not same:
            after = np.asarray(array, dtype=np.float64)
            zeroed = bool(np.any(copy) and not np.any(after))
            findings.append(Finding(
                kind="mutation", subject=name,
                text=f"{name}: the gradient array returned for {name} changed after it was "
                "returned, when the loss ran again" + (" (the next forward zeroed it in place)"
                                                       if zeroed else "")
                + " — whoever keeps, accumulates or applies it after another forward reads "
                "something else",
                hint=f"Return a fresh array (d{name}.copy()), or zero the gradient buffers at the "
                "start of backward rather than in forward; the values were checked as they were "
                "when returned.",
                data={"handed_out": True, "zeroed": zeroed},
            ))
    return findings
